#!/usr/bin/env node
// The floor of the async model's design, for the benchmark (`ab.js --a C --b . floor async`): what one `async`
// function per client costs on sockfd's event-loop path with nothing else. The demo protocol, each client
// awaiting one promise per message, made with its resolving function only; its socket's batched watcher (the
// one the async Socket methods use) reads in the readiness callback (recvInto straight into the addon) and
// settles the promise with the count; the answer is sent without an await. No AbortSignal, no argument checks,
// no `attempt()` hook, no second waiter, no `exit` test. Not a server to use: errors end the client (an end of
// stream as a reset), and a send the socket cannot take whole is cut short. It exists to say how much of the
// async model's cost above C's is the design's (a promise and an await per message, two calls into the addon,
// the batched delivery) and how much is the library's and the model's own. Since the addon makes the async
// model's reads at readiness itself (native/watcher.cc, ReadArmed), the model crosses into the addon from
// JavaScript once per message, where this floor crosses twice: the two now cost about the same (README, "The
// read at readiness is the addon's").
'use strict';
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..');
const S = require(path.join(root, 'dist', 'main.js'));
const { batchedWatcher } = require(path.join(root, 'dist', 'watch.js'));
const { native } = require(path.join(root, 'dist', 'binding.js'));

const k = S.constants;
const WELCOME = Buffer.from('Welcome');
const ANSWERS = Array.from({ length: 100 }, (_, i) => Buffer.from(String(i + 1)));

let filling = null;
function capture(resolve) {
  filling.resolve = resolve;
}

// The readiness callback, called on the client's state: the read, and the promise settled with its count.
function onValue(value) {
  if (this.resolve === null) return; // no wait now (the welcome's turn)
  let n;
  try {
    n = value > 0 ? native.recvInto(this.fd, this.buf) : 0;
  } catch {
    n = 0;
  }
  if (n === null) return;
  const resolve = this.resolve;
  this.resolve = null;
  resolve(n);
}

async function client(fd) {
  const st = { fd, buf: Buffer.alloc(1024), resolve: null };
  const watcher = batchedWatcher(fd, S.WATCH_READ, onValue, st);
  try {
    native.send(fd, WELCOME);
    for (;;) {
      filling = st;
      const n = await new Promise(capture);
      if (n === 0) break;
      native.send(fd, ANSWERS[Math.floor(Math.random() * 100)]);
    }
  } catch {
    // a reset: the client ends
  } finally {
    watcher.stop();
    S.close(fd);
  }
}

const lfd = S.socket(k.AF_INET, k.SOCK_STREAM | k.SOCK_NONBLOCK);
S.setsockopt(lfd, k.SOL_SOCKET, k.SO_REUSEADDR, 1);
S.bind(lfd, { address: '127.0.0.1', port: Number(process.argv[2] || 0) });
S.listen(lfd, 4096);
S.watch(lfd, S.WATCH_READ, () => {
  for (let a; (a = S.accept(lfd, k.SOCK_NONBLOCK)) !== null; ) void client(a.fd);
});
process.stdout.write(`listening ${S.getsockname(lfd).port}\n`);
process.on('SIGTERM', () => process.exit(0));
