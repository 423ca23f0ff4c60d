#!/usr/bin/env node
// Instructions per message: the demo server's user-space work counted by valgrind's callgrind instead of timed,
// so that two runs of one build give the same figure within 1 or 2% whatever else the machine does. The CPU
// figures of `npm run bench` (and of ab.js) move by 10 to 20% from one run to the next on a shared 2-core
// machine; a change worth 3% is invisible there and plain here. Each server runs under callgrind with its cache
// simulation (last level = this machine's per-core L2, so the misses are the ones that leave a core) while the
// C load generator drives it with lock-step clients; instrumentation is switched on for the load generator's
// measuring window only (callgrind_control), so start-up and warm-up are not counted. One exception to the
// 1 or 2%: at 10000 connections about one run in four of the epoll model counted 3300 to 3500 instructions per
// message against 2400, with V8's major garbage collector (ConcurrentMarking, Sweeper in `--keep`'s profile)
// inside the window. Run a surprising figure again.
//
//   node scripts/bench/instr.js [--conns 100] [--secs 8] [--dir CHECKOUT] [--keep DIR] SERVER...
//
// SERVER: a demo model (`--io`), `node:net` (net-server.js), `floor` (floor-server.js) or `C` (the C epoll reference). Prints, per server:
// user-space instructions per message (Ir), first-level data cache misses (D1) and last-level misses (LL) per
// message, and Ir as a multiple of C's when C is listed. Kernel work is not counted: callgrind sees user space
// only (which is where the servers differ; see the README's "What the server figures say"). Needs valgrind
// (`apt-get install valgrind`); a server runs 20 to 50 times slower under it, which lock-step clients follow.
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { compile, startServer, stopServer } = require('./servers');

function parse(argv) {
  const o = { conns: 100, secs: 8, dir: path.resolve(__dirname, '..', '..'), servers: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--conns') o.conns = Number(argv[++i]);
    else if (v === '--secs') o.secs = Number(argv[++i]);
    else if (v === '--dir') o.dir = path.resolve(argv[++i]);
    else if (v === '--keep') o.keep = path.resolve(argv[++i]);
    else o.servers.push(v);
  }
  if (o.servers.length === 0 || !(o.conns > 0) || !(o.secs >= 2)) {
    process.stderr.write('usage: node scripts/bench/instr.js [--conns N] [--secs S (>= 2)] [--dir CHECKOUT] SERVER...\n');
    process.exit(2);
  }
  return o;
}

/** The per-core cache that misses leave (L2 here), from sysfs; 1 MiB if it cannot be read. */
function lastLevelBytes() {
  try {
    const base = '/sys/devices/system/cpu/cpu0/cache';
    for (const index of fs.readdirSync(base).filter((d) => d.startsWith('index')).sort().reverse()) {
      const level = fs.readFileSync(path.join(base, index, 'level'), 'utf8').trim();
      const shared = fs.readFileSync(path.join(base, index, 'shared_cpu_list'), 'utf8').trim();
      if (level === '2' || (level !== '3' && !shared.includes(','))) {
        const size = fs.readFileSync(path.join(base, index, 'size'), 'utf8').trim();
        const m = /^(\d+)K$/.exec(size);
        if (m) return 2 ** Math.floor(Math.log2(Number(m[1]) * 1024)); // callgrind wants a power of two
      }
    }
  } catch {
    // no sysfs: the default below
  }
  return 1 << 20;
}

function control(pid, ...args) {
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(kind, o, bins, tmp, ll) {
  const out = path.join(tmp, `callgrind.${kind.replace(/\W+/g, '_')}.%p`);
  const wrap = ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--cache-sim=yes', `--LL=${ll},16,64`,
    '--smc-check=all-non-file', `--callgrind-out-file=${out}`];
  const { proc, port } = await startServer(kind, bins, o.dir, { wrap, timeoutMs: 120000 });
  try {
    // Warm up for `secs` (the JIT settles), then count `secs`: the load generator says how many answers it had
    // right after instrumentation goes on and right after it goes off (SIGUSR1), so the messages are those of
    // the counted window (the delay of each switch falls on both ends alike).
    const ms = o.secs * 1000;
    const gen = spawn(bins.loadgen, ['127.0.0.1', String(port), String(o.conns), String(ms), String(3 * ms + 10000), String(proc.pid)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    gen.stdout.resume();
    const answers = [];
    let waiting = null;
    let text = '';
    gen.stderr.setEncoding('utf8');
    gen.stderr.on('data', (d) => {
      text += d;
      for (let m; (m = /answers (\d+)\n/.exec(text)) !== null; text = text.slice(m.index + m[0].length)) {
        answers.push(Number(m[1]));
        waiting?.();
      }
    });
    const count = () => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('loadgen: no answer count')), 10000);
      const before = answers.length;
      waiting = () => {
        if (answers.length > before) {
          clearTimeout(timer);
          resolve(answers[answers.length - 1]);
        }
      };
      gen.kill('SIGUSR1');
    });
    let messages = 0;
    try {
      await sleep(2 * ms); // connecting (slow under valgrind) and warming up
      control(proc.pid, '--zero');
      control(proc.pid, '--instr=on');
      const first = await count();
      await sleep(ms);
      control(proc.pid, '--instr=off');
      const last = await count();
      control(proc.pid, '--dump');
      messages = last - first;
    } finally {
      gen.kill('SIGTERM');
    }
    const dump = path.join(tmp, `${path.basename(out).replace('%p', String(proc.pid))}.1`);
    if (o.keep) {
      fs.mkdirSync(o.keep, { recursive: true });
      fs.copyFileSync(dump, path.join(o.keep, `callgrind.${kind.replace(/\W+/g, '_')}`));
    }
    if (!(messages > 0)) throw new Error(`${kind}: no messages counted (is the server answering under valgrind?)`);
    let totals = null;
    let events = null;
    for (const line of fs.readFileSync(dump, 'utf8').split('\n')) {
      if (line.startsWith('events:')) events = line.split(/\s+/).slice(1);
      if (line.startsWith('totals:') || line.startsWith('summary:')) totals = line.split(/\s+/).slice(1).map(Number);
    }
    if (totals === null || events === null) throw new Error(`${kind}: no callgrind totals in ${dump}`);
    const e = Object.fromEntries(events.map((name, i) => [name, totals[i] ?? 0]));
    const n = messages;
    return { messages: n, ir: e.Ir / n, d1: (e.D1mr + e.D1mw) / n, ll: (e.DLmr + e.DLmw) / n };
  } finally {
    await stopServer(proc);
  }
}

async function main() {
  const o = parse(process.argv.slice(2));
  if (spawnSync('valgrind', ['--version']).status !== 0 || spawnSync('callgrind_control', ['-h']).error) {
    process.stderr.write('instr: needs valgrind and callgrind_control (apt-get install valgrind)\n');
    process.exit(2);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-instr-'));
  const bins = { loadgen: compile('loadgen', tmp), ref: compile('ref-server', tmp) };
  const ll = lastLevelBytes();
  const rows = [];
  try {
    for (const kind of o.servers) rows.push([kind, await measure(kind, o, bins, tmp, ll)]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const c = rows.find(([k]) => k === 'C')?.[1];
  console.log(`${o.conns} connections, ${o.secs} s counted per server; user space only; LL = ${ll >> 10} KiB (this machine's per-core cache)`);
  console.log('server            messages   Ir/msg   D1 miss/msg   LL miss/msg' + (c ? '   Ir vs C' : ''));
  for (const [kind, r] of rows) {
    console.log(`${kind.padEnd(16)} ${String(r.messages).padStart(9)} ${r.ir.toFixed(0).padStart(8)} ${r.d1.toFixed(1).padStart(13)} ${r.ll.toFixed(2).padStart(13)}` +
      (c ? `${(r.ir / c.ir).toFixed(1).padStart(10)}x` : ''));
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
