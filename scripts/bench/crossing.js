#!/usr/bin/env node
// What a call from JavaScript into the addon costs around a system call, against the same system call from C:
// recv on an empty non-blocking socket (EAGAIN) and fcntl(F_GETFL), two calls that do almost nothing in the
// kernel, in tight loops; and, for scale, a native function that makes no system call at all (CMSG_LEN).
//
//   node scripts/bench/crossing.js [--calls 1000000] [--rounds 5]
//
// Each round runs the C loops (scripts/bench/crossing.c, with an idle second thread as every Node process has)
// and then the same calls through the addon; the rounds alternate so that the machine's drift falls on both.
// Prints, per call, the median over the rounds of C's ns per call, the addon's, and their difference: what a
// server built on the addon pays per system call above a C server making the same call. On a machine where a
// system call empties the caches and TLB the JavaScript and Node-API code runs in (a page-table-isolating kernel
// without PCID, a paravirtualized guest), that difference is several times the crossing's cost in a warm loop.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { compile, median } = require('./servers');

const root = path.resolve(__dirname, '..', '..');
const { native } = require(path.join(root, 'dist', 'binding.js'));
const raw = require(path.join(root, 'dist', 'raw.js'));

function parse(argv) {
  const o = { calls: 1000000, rounds: 5 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--calls') o.calls = Number(argv[++i]);
    else if (argv[i] === '--rounds') o.rounds = Number(argv[++i]);
    else {
      process.stderr.write('usage: node scripts/bench/crossing.js [--calls N] [--rounds R]\n');
      process.exit(2);
    }
  }
  if (!(Number.isInteger(o.calls) && o.calls > 0 && Number.isInteger(o.rounds) && o.rounds > 0)) {
    process.stderr.write('--calls and --rounds take positive integers\n');
    process.exit(2);
  }
  return o;
}

/** ns per call of fn(calls), the best of three loops (as crossing.c takes its own). */
function time(fn, calls) {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    fn(calls);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / calls);
  }
  return best;
}

function main() {
  const o = parse(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-crossing-'));
  const [fd, peer] = raw.socketpair();
  try {
    const bin = compile('crossing', tmp, ['-pthread']); // its idle thread (glibc before 2.34 links it apart)
    report(o, bin, fd);
  } finally {
    raw.close(fd);
    raw.close(peer);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function report(o, bin, fd) {
  raw.setBlocking(fd, false);
  const buf = Buffer.alloc(1024);
  const F_GETFL = native.constants.F_GETFL;
  // Each loop its own function, so that TurboFan compiles each call site for its one callee. recvInto is a raw
  // Node-API callback (native/common.h's RawCallback); fcntl and CMSG_LEN go through node-addon-api's wrapper,
  // which adds about 100 instructions to a call: a raw callback without a system call costs less still.
  const loops = {
    recv: (n) => {
      for (let i = 0; i < n; i++) native.recvInto(fd, buf);
    },
    fcntl: (n) => {
      for (let i = 0; i < n; i++) native.fcntl(fd, F_GETFL, 0);
    },
    none: (n) => {
      for (let i = 0; i < n; i++) native.CMSG_LEN(8);
    },
  };
  for (const f of Object.values(loops)) f(10000); // warm-up: optimized before it is timed
  const runs = { recv: [], fcntl: [], none: [] };
  for (let r = 0; r < o.rounds; r++) {
    const c = JSON.parse(execFileSync(bin, [String(o.calls)], { encoding: 'utf8' }));
    for (const call of ['recv', 'fcntl']) runs[call].push({ c: c[call], node: time(loops[call], o.calls) });
    runs.none.push({ c: 0, node: time(loops.none, o.calls) });
  }
  const med = (xs, k) => median(xs.map((x) => ({ v: x[k] })), 'v').v;
  console.log(`${o.calls} calls a loop, median of ${o.rounds} rounds (ns per call)`);
  console.log('call                           C    addon   addon - C');
  const rows = [['recv (EAGAIN)', runs.recv], ['fcntl(F_GETFL)', runs.fcntl], ['CMSG_LEN (no system call)', runs.none]];
  for (const [name, xs] of rows) {
    const diffs = xs.map((x) => ({ d: x.node - x.c }));
    const c = name.startsWith('CMSG') ? '-' : med(xs, 'c').toFixed(0);
    console.log(`${name.padEnd(26)} ${String(c).padStart(6)} ${med(xs, 'node').toFixed(0).padStart(8)} ${median(diffs, 'd').d.toFixed(0).padStart(11)}`);
  }
}

main();
