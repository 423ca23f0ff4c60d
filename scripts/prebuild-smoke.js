#!/usr/bin/env node
// A smoke test of an installed sockfd, for a binary that cannot run the test suite (a prebuild for another
// architecture, run under qemu-user by scripts/prebuild-arm64.sh: no child processes, which the emulator
// would not follow). Run it from a folder where require('sockfd') is the installed package:
//   node prebuild-smoke.js [EXPECTED_BINDING_SUBSTRING]
// Loopback only. Exits non-zero on the first failure.
'use strict';
const assert = require('node:assert/strict');
const os = require('node:os');
const path = require('node:path');

const s = require('sockfd');
const want = process.argv[2];
const checks = [];
function check(name, fn) {
  checks.push([name, fn]);
}

check('loads the expected binary', () => {
  if (want) assert.ok(s.bindingPath.includes(want), `${s.bindingPath} does not contain ${want}`);
});

check('TCP over loopback: bind, listen, connect, accept, sendAll, recv, select, poll', () => {
  const l = s.socket(s.AF_INET, s.SOCK_STREAM);
  s.setsockopt(l, s.SOL_SOCKET, s.SO_REUSEADDR, 1);
  s.bind(l, { address: '127.0.0.1', port: 0 });
  s.listen(l, 8);
  const addr = s.getsockname(l);
  const c = s.socket(s.AF_INET, s.SOCK_STREAM);
  assert.equal(s.connect(c, addr), true);
  const [readable] = s.select([l], [], [], 5000);
  assert.deepEqual(readable, [l]);
  const a = s.accept(l);
  assert.equal(a.address.address, '127.0.0.1');
  assert.equal(a.address.port, s.getsockname(c).port);
  s.sendAll(c, Buffer.alloc(100000, 7));
  let got = 0;
  while (got < 100000) {
    assert.equal(s.poll([{ fd: a.fd, events: s.POLLIN }], 5000).length, 1);
    const chunk = s.recv(a.fd, 65536);
    assert.ok(chunk.every((b) => b === 7));
    got += chunk.length;
  }
  s.shutdown(c, s.SHUT_WR);
  assert.equal(s.recv(a.fd, 16).length, 0);
  assert.equal(s.getsockopt(a.fd, s.SOL_SOCKET, s.SO_TYPE), s.SOCK_STREAM);
  for (const fd of [a.fd, c, l]) s.close(fd);
});

check('UDP over ::1 or 127.0.0.1: sendto, recvfrom', () => {
  let family = s.AF_INET6;
  let host = '::1';
  const probe = s.socket(s.AF_INET6, s.SOCK_DGRAM);
  try {
    s.bind(probe, { address: '::1', port: 0 });
  } catch {
    family = s.AF_INET;
    host = '127.0.0.1';
  }
  s.close(probe);
  const a = s.socket(family, s.SOCK_DGRAM);
  const b = s.socket(family, s.SOCK_DGRAM);
  s.bind(a, { address: host, port: 0 });
  s.sendto(b, 'datagram', s.getsockname(a));
  assert.equal(s.poll([{ fd: a, events: s.POLLIN }], 5000).length, 1);
  const d = s.recvfrom(a, 64);
  assert.equal(d.data.toString(), 'datagram');
  s.close(a);
  s.close(b);
});

check('AF_UNIX socketpair, and the errno error shape', () => {
  const [x, y] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
  s.send(x, 'pair');
  assert.equal(s.recv(y, 8).toString(), 'pair');
  s.setBlocking(y, false);
  assert.equal(s.recv(y, 8), null); // would block
  s.close(x);
  s.close(y);
  const closed = s.socket(s.AF_INET, s.SOCK_STREAM);
  s.bind(closed, { address: '127.0.0.1', port: 0 });
  const port = s.getsockname(closed).port;
  s.close(closed);
  const c = s.socket(s.AF_INET, s.SOCK_STREAM);
  assert.throws(() => s.connect(c, { address: '127.0.0.1', port }), {
    code: 'ECONNREFUSED', errno: -os.constants.errno.ECONNREFUSED, syscall: 'connect',
  });
  s.close(c);
  assert.throws(() => s.recv('7', 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
});

check('epoll (Linux) and DefaultSelector', () => {
  const [x, y] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
  if (s.hasEpoll) {
    const ep = s.epollCreate();
    s.epollCtl(ep, s.EPOLL_CTL_ADD, y, s.EPOLLIN);
    assert.deepEqual(s.epollWait(ep, 4, 0), []);
    s.send(x, '!');
    assert.deepEqual(s.epollWait(ep, 4, 5000), [{ fd: y, events: s.EPOLLIN }]);
    s.close(ep);
    s.recv(y, 1);
  }
  const sel = new s.DefaultSelector();
  sel.register(y, s.EVENT_READ, 'data');
  s.send(x, '?');
  const ready = sel.select(5000);
  assert.equal(ready.length, 1);
  assert.equal(ready[0][0].data, 'data');
  sel.close();
  s.close(x);
  s.close(y);
});

check('getaddrinfo("localhost")', () => {
  const found = s.getaddrinfo('localhost', 80, { type: s.SOCK_STREAM });
  assert.ok(found.length > 0);
  for (const a of found) assert.match(a.address, /^(127\.0\.0\.1|::1)$/);
});

async function asyncChecks() {
  // watch() (a uv_poll_t on the event loop) through Socket's async methods.
  const l = new s.Socket(s.AF_INET, s.SOCK_STREAM);
  l.bind({ address: '127.0.0.1', port: 0 });
  l.listen();
  const c = new s.Socket(s.AF_INET, s.SOCK_STREAM);
  const [[a], ,] = await Promise.all([l.acceptAsync(), c.connectAsync(l.getsockname())]);
  const reading = a.recvAsync(64);
  await c.sendAllAsync('async');
  assert.equal((await reading).toString(), 'async');
  for (const x of [a, c, l]) x.close();
  // the ES module face
  const esm = await import('sockfd');
  assert.equal(esm.socket, s.socket);
  assert.equal(esm.default, s);
}

(async () => {
  for (const [name, fn] of checks) {
    fn();
    console.log(`smoke: ok: ${name}`);
  }
  await asyncChecks();
  console.log('smoke: ok: Socket async methods (watch on the event loop), ES module import');
  console.log(`smoke: all ${checks.length + 1} checks passed on ${process.platform}-${process.arch}, Node.js ${process.version}, ${path.relative(process.cwd(), s.bindingPath)}`);
})().catch((err) => {
  console.error('smoke: FAILED:', err);
  process.exit(1);
});
