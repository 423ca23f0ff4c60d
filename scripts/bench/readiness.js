#!/usr/bin/env node
// The readiness benchmark: time per call of select, poll and epoll_wait with N watched fds (one ready,
// timeout 0), through sockfd (the raw calls and the selectors) and through the same system calls in C
// (readiness.c, compiled here with the machine's cc), in the same run, interleaved, so the ratios are fair
// on a noisy machine. Usage: node scripts/bench/readiness.js [--quick] [--json out.json]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const s = require('../..');
const { compile } = require('./servers');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
let SIZES;
let REPEATS;
let BUDGET_NS; // per repeat
function configure(q) {
  SIZES = q ? [1, 100, 1000] : [1, 10, 100, 1000, 10000];
  REPEATS = q ? 3 : 7;
  BUDGET_NS = q ? 3e7 : 1.5e8;
}
configure(quick);

function itersFor(n) {
  // Rough per-call cost (select/poll scale with n), so each repeat takes about BUDGET_NS.
  const guess = 300 + 40 * n;
  return Math.max(50, Math.min(2e6, Math.round(BUDGET_NS / guess)));
}

function runC(bin, call, n, threaded) {
  const argv = [call, String(n), String(itersFor(n)), String(REPEATS)];
  if (threaded) argv.push('threaded');
  return JSON.parse(execFileSync(bin, argv, { encoding: 'utf8' }).trim());
}

/** Times fn() over iters calls, REPEATS times: best and median ns per call. */
function time(fn, iters) {
  const results = [];
  for (let i = 0; i < Math.min(iters, 1000); i++) fn(); // warm up the JIT
  for (let r = 0; r < REPEATS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    results.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  results.sort((a, b) => a - b);
  return { best: results[0], median: results[Math.floor(REPEATS / 2)] };
}

function setup(n) {
  const [a, b] = s.socketpair();
  s.send(b, 'x');
  const idle = [];
  for (let i = 0; i < n - 1; i++) idle.push(s.socket(s.AF_INET, s.SOCK_DGRAM));
  const fds = [...idle, a];
  return { fds, close: () => { for (const fd of [...idle, a, b]) s.close(fd); } };
}

function measure(call, n) {
  const { fds, close } = setup(n);
  const iters = itersFor(n);
  const result = {};
  try {
    const maxfd = Math.max(...fds);
    if (call === 'select') {
      if (maxfd >= s.FD_SETSIZE) return { refused: true };
      result.raw = time(() => s.select(fds, [], [], 0), iters);
      const sel = new s.SelectSelector();
      for (const fd of fds) sel.register(fd, s.EVENT_READ);
      result.selector = time(() => sel.select(0), iters);
      sel.close();
    } else if (call === 'poll') {
      const entries = fds.map((fd) => ({ fd, events: s.POLLIN }));
      result.raw = time(() => s.poll(entries, 0), iters);
      const sel = new s.PollSelector();
      for (const fd of fds) sel.register(fd, s.EVENT_READ);
      result.selector = time(() => sel.select(0), iters);
      sel.close();
    } else {
      const epfd = s.epollCreate();
      for (const fd of fds) s.epollCtl(epfd, s.EPOLL_CTL_ADD, fd, s.EPOLLIN);
      const out = new Int32Array(2 * n);
      result.raw = time(() => s.epollWaitInto(epfd, out, 0), iters);
      s.close(epfd);
      const sel = new s.EpollSelector();
      for (const fd of fds) sel.register(fd, s.EVENT_READ);
      result.selector = time(() => sel.select(0), iters);
      sel.close();
    }
  } finally {
    close();
  }
  return result;
}

function fmt(ns) {
  return ns >= 1e4 ? `${(ns / 1e3).toFixed(1)} us` : `${ns.toFixed(0)} ns`;
}

/** Measures every call at every N; returns the rows. */
function run({ quick: q = quick, progress = (m) => process.stderr.write(`\r${m}        `) } = {}) {
  configure(q);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-readiness-'));
  try {
    return measureAll(compile('readiness', tmp, ['-pthread']), progress); // its idle thread (clock.h)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function measureAll(bin, progress) {
  const rows = [];
  const calls = ['select', 'poll', 'epoll'];
  const total = SIZES.length * calls.length;
  let done = 0;
  for (const n of SIZES) {
    for (const call of calls) {
      progress(`readiness: ${call} N=${n} (${++done}/${total})`);
      const c1 = runC(bin, call, n, false);
      const c = runC(bin, call, n, true);
      const js = measure(call, n);
      if (c.refused || js.refused) {
        rows.push({ call, n, refused: true });
        continue;
      }
      // The reference is C with a second (idle) thread, as every Node process has: see readiness.c.
      rows.push({
        call, n, c: c.best, cSingleThread: c1.best, raw: js.raw.best, selector: js.selector.best,
        ratioRaw: js.raw.best / c.best, ratioSelector: js.selector.best / c.best,
        ratioSelectorSingleThread: js.selector.best / c1.best,
      });
    }
  }
  return rows;
}

/** Prints the table of run()'s rows. */
function print(rows) {
  console.log(`Readiness calls, N watched fds, one ready, timeout 0 (best of ${REPEATS} runs); raw = the plain call, selector = the selectors' select()`);
  console.log('C = the same calls from C with an idle second thread (as in any Node process); C1 = single-threaded C');
  console.log('call    N      C1         C          raw          raw/C   selector     sel/C   sel-C    sel/C1');
  for (const r of rows) {
    if (r.refused) {
      console.log(`${r.call.padEnd(7)} ${String(r.n).padEnd(6)} refused (fd >= FD_SETSIZE)`);
      continue;
    }
    console.log(`${r.call.padEnd(7)} ${String(r.n).padEnd(6)} ${fmt(r.cSingleThread).padEnd(10)} ${fmt(r.c).padEnd(10)} ${fmt(r.raw).padEnd(12)} ${r.ratioRaw.toFixed(2).padEnd(7)} ${fmt(r.selector).padEnd(12)} ${r.ratioSelector.toFixed(2).padEnd(7)} ${fmt(r.selector - r.c).padEnd(8)} ${r.ratioSelectorSingleThread.toFixed(2)}`);
  }
}

function main() {
  const rows = run();
  process.stderr.write('\n');
  print(rows);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ machine: machine(), rows }, null, 2));
}

function machine() {
  return { cpus: os.cpus().length, model: os.cpus()[0].model, kernel: os.release(), node: process.version, date: new Date().toISOString() };
}

module.exports = { run, print, machine };
if (require.main === module) main();
