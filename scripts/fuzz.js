#!/usr/bin/env node
/*
 * The fuzzer: calls every export of the package (the raw calls, Socket, the selectors, watch, epoll) and the
 * native addon's functions directly, with random and adversarial arguments, from a seeded PRNG.
 *
 *   node scripts/fuzz.js --seed N --calls M [--time-limit-ms T] [--trace-from STEP]
 *
 * Every call must either work or throw a TypeError, a RangeError, an errno-coded system error, an AbortError,
 * one of the package's coded errors, or the fuzzer's own FuzzerThrow (from its throwing getters and proxies).
 * Anything else, an unhandled rejection, a crash, a hang (the watchdog thread kills the process and names the
 * step), or an fd left open at the end, is a failure: the process prints seed, step, call and arguments and
 * exits 1. `--trace-from STEP` prints every call from that step on, to reproduce one.
 *
 * Safety rules, so that the fuzzer never blocks or harms anything it does not own:
 * - every fd in the pool is non-blocking; after any call that may have changed that, all are reset;
 * - waiting calls only get a timeout of 0 or 1 ms (or an invalid one, rejected before any wait);
 * - fd arguments are pool fds, fds verified closed, numbers far beyond RLIMIT_NOFILE, or non-fds; only
 *   read-only calls (getsockname, getsockopt, poll, select...) ever see stdin/stdout/stderr; close() only gets
 *   fds the fuzzer owns outright (not those of its Socket objects or selectors);
 * - sendAll only on a fresh socketpair with small data; no SO_LINGER with a time, no O_ASYNC, no F_SETOWN to
 *   other processes; socket() only in the AF_UNIX/AF_INET/AF_INET6 families (or invalid ones), never SOCK_RAW;
 * - addresses are loopback, the fuzzer's temp dir (also the working directory), or invalid; host names given
 *   to the resolver are 'localhost', or strings it refuses before any lookup.
 *
 * The mutator: a second worker thread (started with the watchdog, unref'd, stopped at the end) that changes
 * arguments while the native code reads them. It holds a small pool of SharedArrayBuffers, plain and growable,
 * and in short bursts (up to 0.1 ms, or 0.05 to 0.2 ms after a kick, see below) between pauses of 0 to 1 ms it
 * writes into them with Atomics.store: fds and event masks below FD_SETSIZE, the fuzzer's own fds, and hostile
 * values (negative numbers, 0x7fffffff, FD_SETSIZE and its neighbours, fds far beyond RLIMIT_NOFILE, random poll
 * event masks), each hostile value mostly for an instant only, so that a check sees a good value and a second
 * read a bad one. Now and then it grows a growable buffer (up to its maximum). The calls that get this memory:
 * native select and poll (fd lists and (fd, events, revents) triples), epollWaitInto and the native registries'
 * wait (out arrays), recvInto/recvfromInto (Uint8Arrays, DataViews, length-tracking views of a growable buffer),
 * send, sendto, sendAll and setsockopt (bytes), through the package and the addon alike, and the package's
 * select and poll, as objects whose fileno()/fd/events read the shared memory anew at each call. Before such a
 * call the fuzzer kicks the mutator (naming the buffer) and spins up to 1 ms until it has started a burst, so
 * that the call runs while the memory changes (on a machine with a free core; on a busy one the kick may come
 * too late). The values are hostile to the native code only: the fuzzer never acts on what it reads back from
 * this memory, and the calls only wait on the fds in it (0 or 1 ms) or write into it. Resizable (not shared)
 * ArrayBuffers, resized by the main thread between calls, give length-tracking views and views left out of
 * bounds by a shrink (or detached by a transfer) to the same calls.
 *
 * Determinism: everything the main thread does follows the seed (callbacks and the mutator use PRNGs of their
 * own). The mutator's timing does not: what a call given shared memory sees, and so its outcome, varies from
 * run to run. Such calls are counted apart (racy= in the summary, not in ok/typeerror/...); what they leave
 * behind (how many bytes a recv into a growing view took off a socket) can still shift later outcomes a little.
 * A crash in such a call kills the process without a report: rerun with --trace-from to see the last call.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { MessageChannel, Worker } = require('node:worker_threads');

// ---- options ----------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { seed: 1, calls: 100000, timeLimitMs: 120000, traceFrom: -1, stallMs: 15000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`fuzz: ${a} needs a number`);
      return v;
    };
    if (a === '--seed') o.seed = next() >>> 0;
    else if (a === '--calls') o.calls = Math.max(0, Math.floor(next()));
    else if (a === '--time-limit-ms') o.timeLimitMs = next();
    else if (a === '--trace-from') o.traceFrom = next();
    else if (a === '--stall-ms') o.stallMs = next();
    else throw new Error(`fuzz: unknown option ${a}`);
  }
  return o;
}
const opts = parseArgs(process.argv.slice(2));

const pkgRoot = path.join(__dirname, '..');
const s = require(pkgRoot);
const native = require(path.join(pkgRoot, 'dist', 'binding')).native;
const k = s.constants;

// ---- PRNG -------------------------------------------------------------------------------------------------

function mulberry32(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(opts.seed);
const cbRnd = mulberry32(opts.seed ^ 0x9e3779b9); // for callbacks, whose timing is not deterministic
const int = (n) => Math.floor(rnd() * n);
const chance = (p) => rnd() < p;
const pick = (arr) => arr[int(arr.length)];

/** Runs fn, or gives dflt if it throws (the fuzzer's own look at hostile values). */
function safely(fn, dflt) {
  try {
    return fn();
  } catch {
    return dflt;
  }
}
const isSocket = (x) => safely(() => x instanceof s.Socket, false);
const isBytesish = (v) => safely(() => ArrayBuffer.isView(v) || v instanceof ArrayBuffer, false);

// ---- error classification ---------------------------------------------------------------------------------

/** What the fuzzer's own getters, proxies and callbacks throw: always allowed to come back out. */
class FuzzerThrow extends Error {}

const ALLOWED_CODES = new Set([
  'ERR_SELECTOR_CLOSED', 'ERR_WATCHER_STOPPED', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_IP_ADDRESS',
  'ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE', 'ABORT_ERR',
]);

const counts = { ok: 0, typeerror: 0, rangeerror: 0, errno: 0, coded: 0, abort: 0, fuzzer: 0, async: 0, skipped: 0 };
/** The outcomes of calls given memory the mutator changes: their timing is the threads', not the seed's. */
const racyCounts = { total: 0 };
const errnoCodes = new Set();

function classify(e) {
  if (e instanceof FuzzerThrow) return 'fuzzer';
  if (e === null || typeof e !== 'object') return null;
  if (e instanceof TypeError) return 'typeerror';
  if (e instanceof RangeError) return 'rangeerror';
  if (e.name === 'AbortError') return 'abort';
  if (typeof e.code === 'string' && typeof e.errno === 'number' && e.errno < 0 && Number.isInteger(e.errno)) {
    errnoCodes.add(e.code);
    return 'errno';
  }
  if (e instanceof Error && ALLOWED_CODES.has(e.code)) return 'coded';
  return null;
}

// ---- reporting --------------------------------------------------------------------------------------------

let step = -1;
let current = { name: '(setup)', args: [] };

function show(v) {
  try {
    return util.inspect(v, { depth: 2, maxArrayLength: 8, maxStringLength: 80, breakLength: Infinity, getters: false, showProxy: true });
  } catch (e) {
    return `<uninspectable: ${e && e.message}>`;
  }
}
function describeCall(c) {
  return `${c.name}(${c.args.map(show).join(', ')})`;
}
function errText(e) {
  if (e instanceof Error) return `${e.constructor.name} code=${show(e.code)} errno=${show(e.errno)}: ${e.stack}`;
  return show(e);
}

function fail(what, e, call = current, atStep = step) {
  const msg = [
    `fuzz: FAILURE (${what}) seed=${opts.seed} step=${atStep}`,
    `  call: ${describeCall(call)}`,
    `  error: ${errText(e)}`,
    `  reproduce: node scripts/fuzz.js --seed ${opts.seed} --calls ${atStep + 1} --trace-from ${Math.max(0, atStep - 5)}`,
    '',
  ].join('\n');
  fs.writeSync(2, msg);
  process.exit(1);
}

process.on('uncaughtException', (e) => fail('uncaught exception', e));
process.on('unhandledRejection', (e) => fail('unhandled rejection', e));

const perSpec = new Map(); // name -> { ok, err: { class: n } }, for FUZZ_VERBOSE
function tally(name, c) {
  let t = perSpec.get(name);
  if (t === undefined) perSpec.set(name, (t = { calls: 0 }));
  t[c] = (t[c] || 0) + 1;
}
function check(e, call = current, atStep = step) {
  const c = classify(e);
  if (c === null) fail('disallowed error', e, call, atStep);
  if (call.inCallback) callbackErrors++; // kept apart: their timing is the event loop's, not the seed's
  else if (call.racy) countRacy(c); // and so are these: their timing is the mutator's
  else counts[c]++;
  tally(call.racy ? `${call.name} [racy]` : call.name, c === 'errno' ? `errno:${e.code}` : c);
}
function countRacy(c) {
  racyCounts.total++;
  racyCounts[c] = (racyCounts[c] || 0) + 1;
}
/** A call that worked. */
function countOk(call) {
  if (call.racy) countRacy('ok');
  else counts.ok++;
  tally(call.racy ? `${call.name} [racy]` : call.name, 'ok');
}

// ---- the watchdog: a thread that kills the process if the main thread stalls (a hang in native code) --------

const progress = new Int32Array(new SharedArrayBuffer(8)); // [step, spec index]
const specNames = [];
function startWatchdog() {
  const code = `
    const { workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const { progress, names, seed, timeLimitMs, stallMs } = workerData;
    const start = Date.now();
    let last = -2, since = Date.now();
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      Atomics.wait(sleeper, 0, 0, 250);
      const s = Atomics.load(progress, 0);
      const now = Date.now();
      if (s !== last) { last = s; since = now; }
      const stalled = now - since > stallMs, late = now - start > timeLimitMs;
      if (stalled || late) {
        const name = names[Atomics.load(progress, 1)] || '?';
        fs.writeSync(2, 'fuzz: FAILURE (' + (stalled ? 'hang: no progress for ' + stallMs + ' ms' : 'time limit of ' + timeLimitMs + ' ms exceeded') +
          ') seed=' + seed + ' step=' + s + ' call=' + name + '\\n  reproduce: node scripts/fuzz.js --seed ' + seed +
          ' --calls ' + (s + 1) + ' --trace-from ' + Math.max(0, s - 5) + '\\n');
        process.kill(process.pid, 'SIGKILL');
      }
    }`;
  const w = new Worker(code, {
    eval: true,
    workerData: { progress, names: specNames, seed: opts.seed, timeLimitMs: opts.timeLimitMs, stallMs: Math.min(opts.stallMs, opts.timeLimitMs) },
  });
  return new Promise((resolve) => {
    w.once('online', () => {
      w.unref();
      resolve(w);
    });
  });
}

// ---- the mutator: a thread that changes shared arguments while the native code reads them (see the header) -

/**
 * The shared pool: [initial byteLength, maxByteLength (growable ones only)]. Generators take their offsets and
 * lengths from the initial sizes, never from byteLength now: a growable buffer only grows, so these are lower
 * bounds whatever the mutator did, and the main PRNG's choices never depend on the mutator's timing.
 */
const SHARED_SIZES = [[16], [64], [256], [4096], [65536], [0, 256], [16, 4096], [64, 65536]];
const SHARED_GROWABLE = SHARED_SIZES.flatMap(([, max], i) => (max === undefined ? [] : [i]));
const newShared = (i) => {
  const [n, max] = SHARED_SIZES[i];
  return max === undefined ? new SharedArrayBuffer(n) : new SharedArrayBuffer(n, { maxByteLength: max });
};
const sharedPool = SHARED_SIZES.map((_, i) => newShared(i));
/** Control words: kick (bumped by the main thread to ask for a burst), ack (the kick a burst answers), stop,
 * target (the pool index the next call uses), bursts and grows (counts), and hints (how many of `hints`). */
const M = { KICK: 0, ACK: 1, STOP: 2, TARGET: 3, BURSTS: 4, GROWS: 5, HINTS: 6 };
const mutCtl = new Int32Array(new SharedArrayBuffer(4 * 8));
/** The fuzzer's own fds below FD_SETSIZE (and 0, 1, 2): the "good" values the mutator writes besides random ones. */
const mutHints = new Int32Array(new SharedArrayBuffer(4 * 32));
let mutator = null;
let mutPort = null;
let kickSeq = 0;

function startMutator() {
  const code = `
    const { workerData, receiveMessageOnPort } = require('node:worker_threads');
    const { ctl, hints, pool, port, seed } = workerData;
    const M = ${JSON.stringify(M)};
    const mulberry32 = ${mulberry32.toString()};
    const rnd = mulberry32(seed);
    const int = (n) => Math.floor(rnd() * n);
    const FD_SETSIZE = ${k.FD_SETSIZE};
    const HOSTILE = [-1, -2, -1024, -(2 ** 31), 2 ** 31 - 1, FD_SETSIZE, FD_SETSIZE + 1, FD_SETSIZE + 63, FD_SETSIZE + 64,
      2 * FD_SETSIZE, 4096, 65535, 65536, 1 << 20, 1 << 24, 1 << 30, 0x10000, 0x7fff0000];
    const sabs = pool.slice();
    const views = sabs.map((b) => new Int32Array(b)); // length-tracking over the growable ones
    const growable = sabs.flatMap((b, i) => (b.growable ? [i] : []));
    // Good for every reader: an fd below FD_SETSIZE and an event mask below 0x10000 at once.
    function good() {
      const n = Atomics.load(ctl, M.HINTS);
      return n > 0 && rnd() < 0.6 ? Atomics.load(hints, int(n)) : int(FD_SETSIZE);
    }
    function hostile() {
      switch (int(5)) {
        case 0: case 1: return HOSTILE[int(HOSTILE.length)];
        case 2: return (rnd() * 2 ** 32) | 0;
        case 3: return FD_SETSIZE + int(4 * FD_SETSIZE); // just past the fd_set: the stack around it
        default: return int(0x10000) | (rnd() < 0.3 ? 0x10000 << int(15) : 0); // a poll event mask, or one with high bits
      }
    }
    function grow() {
      const i = growable[int(growable.length)];
      const b = sabs[i];
      // In steps of 8 bytes: the main thread makes Int32Arrays and Float64Arrays of the whole buffer.
      const room = (b.maxByteLength - b.byteLength) >> 3;
      if (room <= 0) return;
      b.grow(b.byteLength + 8 * (rnd() < 0.1 ? room : 1 + int(Math.min(room, 8))));
      Atomics.add(ctl, M.GROWS, 1);
    }
    let seen = Atomics.load(ctl, M.KICK);
    let target = -1;
    // A kick during a burst is answered at once, and the burst goes on for the new target.
    function answer() {
      const kick = Atomics.load(ctl, M.KICK);
      if (kick === seen) return false;
      seen = kick;
      target = Atomics.load(ctl, M.TARGET);
      Atomics.store(ctl, M.ACK, kick);
      Atomics.notify(ctl, M.ACK);
      return true;
    }
    function burst(ms) {
      Atomics.add(ctl, M.BURSTS, 1);
      let end = performance.now() + ms;
      for (let it = 1; ; it++) {
        if ((it & 63) === 0) {
          if (answer()) end = performance.now() + 0.05 + rnd() * 0.15;
          if (performance.now() >= end || Atomics.load(ctl, M.STOP) !== 0) break;
        }
        const v = views[target >= 0 && rnd() < 0.8 ? target : int(views.length)];
        const n = v.length;
        if (n === 0) continue;
        const i = rnd() < 0.95 ? int(Math.min(n, 64)) : int(n);
        const r = rnd();
        if (r < 0.6) {
          // bad for an instant: a check before sees a good value, a read after it a bad one
          Atomics.store(v, i, hostile());
          Atomics.store(v, i, good());
        } else if (r < 0.85) Atomics.store(v, i, good());
        else if (r < 0.998) Atomics.store(v, i, hostile()); // left bad
        else grow();
      }
      // Most arrays good again, so that the next call's checks pass and its later reads race with the changes.
      for (const v of views) {
        if (rnd() < 0.7) for (let i = 0, n = Math.min(v.length, 64); i < n; i++) Atomics.store(v, i, good());
      }
    }
    while (Atomics.load(ctl, M.STOP) === 0) {
      // A pause of 0 to 1 ms, cut short by a kick.
      Atomics.wait(ctl, M.KICK, seen, rnd() < 0.2 ? 0 : rnd());
      if (Atomics.load(ctl, M.STOP) !== 0) break;
      const kicked = answer();
      if (!kicked) target = -1;
      burst(kicked ? 0.05 + rnd() * 0.15 : rnd() * 0.1);
      // New buffers for the growable slots (the old ones stop growing at their maximum).
      for (let m; (m = receiveMessageOnPort(port)) !== undefined; ) {
        sabs[m.message.i] = m.message.sab;
        views[m.message.i] = new Int32Array(m.message.sab);
      }
    }`;
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  mutPort = port1;
  const w = new Worker(code, {
    eval: true,
    workerData: { ctl: mutCtl, hints: mutHints, pool: sharedPool, port: port2, seed: (opts.seed ^ 0x85ebca6b) >>> 0 },
    transferList: [port2],
  });
  w.on('error', (e) => fail('mutator thread error', e));
  return new Promise((resolve) => {
    w.once('online', () => {
      w.unref();
      mutator = w;
      resolve(w);
    });
  });
}
/** Asks the mutator for a burst on pool buffer `target`, and waits (1 ms at most) until it has started one. */
function kickMutator(target) {
  if (mutator === null) return;
  Atomics.store(mutCtl, M.TARGET, target);
  kickSeq = (kickSeq + 1) | 0;
  Atomics.store(mutCtl, M.KICK, kickSeq);
  Atomics.notify(mutCtl, M.KICK);
  // A spin, not Atomics.wait: a second thread wake-up would double the wait.
  const until = performance.now() + 1;
  for (let i = 1; Atomics.load(mutCtl, M.ACK) !== kickSeq; i++) if ((i & 255) === 0 && performance.now() >= until) break;
}
/** The fuzzer's fds below FD_SETSIZE, for the mutator to write as good values. */
function updateHints() {
  const fds = [0, 1, 2, ...raw.keys(), ...socketFds()].filter((fd) => fd < k.FD_SETSIZE).slice(0, mutHints.length);
  fds.forEach((fd, i) => Atomics.store(mutHints, i, fd));
  Atomics.store(mutCtl, M.HINTS, fds.length);
}
/** A fresh buffer in one growable slot (round robin): growth goes on all run long. */
let refreshAt = 0;
function refreshGrowable() {
  const i = SHARED_GROWABLE[refreshAt++ % SHARED_GROWABLE.length];
  sharedPool[i] = newShared(i);
  if (mutPort !== null) mutPort.postMessage({ i, sab: sharedPool[i] });
}
async function stopMutator() {
  if (mutator === null) return;
  const w = mutator;
  mutator = null;
  Atomics.store(mutCtl, M.STOP, 1);
  Atomics.notify(mutCtl, M.KICK);
  // It ends its loop within a burst (0.2 ms at most); terminate() is only the fallback.
  const exited = new Promise((r) => w.once('exit', r));
  const timer = setTimeout(() => w.terminate(), 2000);
  await exited;
  clearTimeout(timer);
  mutPort.close();
}

// ---- the pool of resources --------------------------------------------------------------------------------

const NB = k.SOCK_NONBLOCK;
const OOR_BASE = 2 ** 30; // far beyond RLIMIT_NOFILE: never a real fd
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-fuzz-'));
const origCwd = process.cwd();

/** fds the fuzzer owns outright: fd -> kind. Only these may be closed by a raw close. */
const raw = new Map();
/** Socket objects (each owns its fd). */
const sockets = [];
/** Selectors (the epoll ones own an epoll fd). */
const selectors = [];
/** Native registries (PollSet, SelectSet). */
const registries = [];
/** Watchers (s.Watcher and native.Watcher objects). */
const watchers = [];
/** Numbers recently closed (verified closed again when used). */
const closedRing = [];
const tcpTargets = [];
const udpTargets = [];
const unixTargets = [];
let pathCounter = 0;
let watchFires = 0;
let callbackErrors = 0;

function isOpen(fd) {
  try {
    native.fcntl(fd, k.F_GETFD);
    return true;
  } catch {
    return false;
  }
}
function nonblock(fd) {
  try {
    native.setBlocking(fd, false);
  } catch {
    /* not ours to fix: closed meanwhile */
  }
}
function own(fd, kind) {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd >= OOR_BASE) return;
  nonblock(fd);
  raw.set(fd, kind);
}
function noteClosed(fd) {
  if (typeof fd !== 'number' || fd < 0 || fd >= OOR_BASE) return;
  raw.delete(fd);
  closedRing.push(fd);
  if (closedRing.length > 64) closedRing.shift();
}
function closeRaw(fd) {
  try {
    s.close(fd);
  } catch {
    /* already closed */
  }
  noteClosed(fd);
}
function addSocket(sock) {
  if (!(sock instanceof s.Socket)) return;
  try {
    sock.setBlocking(false);
  } catch {
    /* closed, or an fd beyond the open range */
  }
  if (!sockets.includes(sock)) sockets.push(sock);
}
function liveSockets() {
  return sockets.filter((x) => !x.closed);
}
function socketFds() {
  const out = [];
  for (const x of sockets) {
    const fd = x.fileno();
    if (fd >= 0 && fd < OOR_BASE) out.push(fd);
  }
  return out;
}
function selectorFds() {
  const out = [];
  for (const x of selectors) {
    if (typeof x.fileno === 'function' && !x.closed) {
      try {
        const fd = x.fileno();
        if (fd >= 0) out.push(fd);
      } catch {
        /* a BaseSelector has none */
      }
    }
  }
  return out;
}
/** After a call that may have made an fd blocking: every fd of the pool non-blocking again. */
function resetBlocking() {
  for (const fd of raw.keys()) nonblock(fd);
  for (const x of sockets) {
    if (x.closed) continue;
    try {
      x.setBlocking(false);
    } catch {
      nonblock(x.fileno());
    }
  }
  for (const fd of selectorFds()) nonblock(fd);
}

// Creation of the core resources.
function mkPair(type) {
  const p = s.socketpair(k.AF_UNIX, type | NB);
  own(p[0], 'pair');
  own(p[1], 'pair');
  return p;
}
function mkTcpListener(v6) {
  const fd = s.socket(v6 ? k.AF_INET6 : k.AF_INET, k.SOCK_STREAM | NB);
  own(fd, 'listen');
  s.setsockopt(fd, k.SOL_SOCKET, k.SO_REUSEADDR, 1);
  s.bind(fd, { address: v6 ? '::1' : '127.0.0.1', port: 0 });
  s.listen(fd, 64);
  tcpTargets.push(s.getsockname(fd));
  if (tcpTargets.length > 16) tcpTargets.shift();
  return fd;
}
function mkTcpConn() {
  const l = mkTcpListener(chance(0.3));
  const addr = s.getsockname(l);
  const c = s.socket(addr.family === 'IPv6' ? k.AF_INET6 : k.AF_INET, k.SOCK_STREAM | NB);
  own(c, 'tcp');
  s.connect(c, addr);
  const a = s.accept(l, NB);
  if (a) own(a.fd, 'tcp');
}
function mkUdp(v6) {
  const fd = s.socket(v6 ? k.AF_INET6 : k.AF_INET, k.SOCK_DGRAM | NB);
  own(fd, 'udp');
  s.bind(fd, { address: v6 ? '::1' : '127.0.0.1', port: 0 });
  udpTargets.push(s.getsockname(fd));
  if (udpTargets.length > 16) udpTargets.shift();
}
function newPath() {
  return path.join(tmp, `p${pathCounter++}`);
}
function mkUnix(type) {
  const fd = s.socket(k.AF_UNIX, type | NB);
  own(fd, 'unix');
  const p = newPath();
  s.bind(fd, { path: p });
  if (type !== k.SOCK_DGRAM) s.listen(fd, 16);
  unixTargets.push({ path: p });
  if (unixTargets.length > 16) unixTargets.shift();
}
function mkFile() {
  own(fs.openSync(path.join(tmp, `file${pathCounter++}`), 'w+'), 'file');
}
function mkEpoll() {
  own(s.epollCreate(), 'epoll');
}
function mkSocket() {
  const r = int(4);
  if (r === 0) {
    const p = s.socketpair(k.AF_UNIX, k.SOCK_STREAM | NB);
    addSocket(new s.Socket(k.AF_UNIX, k.SOCK_STREAM, 0, p[0]));
    if (chance(0.5)) addSocket(new s.Socket(k.AF_UNIX, k.SOCK_STREAM, 0, p[1]));
    else own(p[1], 'pair');
  } else {
    const fam = pick([k.AF_INET, k.AF_INET6, k.AF_UNIX]);
    addSocket(new s.Socket(fam, pick([k.SOCK_STREAM, k.SOCK_DGRAM]) | NB));
  }
}
const SELECTOR_CLASSES = [s.SelectSelector, s.PollSelector, s.EpollSelector, s.DefaultSelector];
function mkSelector() {
  selectors.push(new (pick(SELECTOR_CLASSES))());
}

function replenish() {
  const makers = [
    () => mkPair(k.SOCK_STREAM), () => mkPair(k.SOCK_DGRAM), () => mkPair(k.SOCK_SEQPACKET),
    () => mkTcpListener(false), () => mkTcpListener(true), mkTcpConn, () => mkUdp(false), () => mkUdp(true),
    () => mkUnix(k.SOCK_STREAM), () => mkUnix(k.SOCK_DGRAM), mkFile, mkEpoll,
  ];
  const attempt = (fn) => {
    try {
      fn();
    } catch (e) {
      if (classify(e) === null) throw e; // IPv6 missing, say: go on with the rest
    }
  };
  let guard = 0;
  while (raw.size < 28 && guard++ < 20) attempt(pick(makers));
  while (liveSockets().length < 4 && guard++ < 30) attempt(mkSocket);
  while (selectors.filter((x) => !x.closed).length < 3 && guard++ < 40) attempt(mkSelector);
  while (registries.length < 2) registries.push(chance(0.5) ? new native.PollSet() : new native.SelectSet());
  // Caps.
  if (raw.size > 80) {
    const fds = [...raw.keys()];
    for (let i = 0; i < fds.length - 60; i++) closeRaw(fds[i]);
  }
  for (let i = sockets.length - 1; i >= 0; i--) if (sockets[i].closed) sockets.splice(i, 1);
  while (sockets.length > 24) {
    const x = sockets.shift();
    try {
      x.close();
    } catch {
      /* EBADF: its fd was beyond the open range */
    }
  }
  for (let i = selectors.length - 1; i >= 0; i--) if (selectors[i].closed) selectors.splice(i, 1);
  while (selectors.length > 8) selectors.shift().close();
  while (registries.length > 6) registries.shift();
  for (let i = watchers.length - 1; i >= 0; i--) {
    const w = watchers[i];
    if (w instanceof s.Watcher && !w.active) watchers.splice(i, 1);
  }
  while (watchers.length > 24) watchers.shift().stop();
  updateHints();
}

// ---- value generators -------------------------------------------------------------------------------------

function throwingGetters(keys) {
  const o = {};
  for (const key of keys) {
    Object.defineProperty(o, key, {
      enumerable: true,
      get() {
        throw new FuzzerThrow(`getter ${key}`);
      },
    });
  }
  return o;
}
const throwingProxy = () =>
  new Proxy({}, {
    get(_t, p) {
      throw new FuzzerThrow(`proxy get ${String(p)}`);
    },
    has() {
      throw new FuzzerThrow('proxy has');
    },
    getPrototypeOf() {
      throw new FuzzerThrow('proxy getPrototypeOf');
    },
  });
function revokedProxy() {
  const r = Proxy.revocable({}, {});
  r.revoke();
  return r.proxy;
}
const primitiveTraps = () => ({
  valueOf() {
    throw new FuzzerThrow('valueOf');
  },
  toString() {
    throw new FuzzerThrow('toString');
  },
  [Symbol.toPrimitive]() {
    throw new FuzzerThrow('toPrimitive');
  },
});

let hugeString = null;
function huge() {
  if (hugeString === null) hugeString = 'x'.repeat(1 << 20);
  return hugeString;
}

function detachedBuffer(n) {
  const ab = new ArrayBuffer(n);
  const views = [new Uint8Array(ab), new DataView(ab, Math.min(4, n)), new Float64Array(ab, 0, Math.floor(n / 8)), Buffer.from(ab, Math.min(3, n))];
  structuredClone(ab, { transfer: [ab] });
  return chance(0.2) ? ab : pick(views);
}

// Memory the mutator changes. A generator that hands out some marks the step racy (its outcome is counted apart)
// and names the buffer, for the kick before the call.
let stepRacy = false;
let stepTarget = -1;
/** A pool index, among the buffers never longer than maxLen bytes (index 0, 16 bytes, when none is). */
function sharedIndex(maxLen = Infinity) {
  const fits = SHARED_SIZES.flatMap(([n, max], i) => ((max ?? n) <= maxLen ? [i] : []));
  const i = fits.length > 0 ? pick(fits) : 0;
  stepRacy = true;
  stepTarget = i;
  return i;
}
/** An Int32Array over a pool buffer: whole (length-tracking over a growable one), from an offset, or a window. */
function sharedInt32(small = false) {
  const i = small ? sharedIndex(256) : sharedIndex();
  const sab = sharedPool[i];
  const n = SHARED_SIZES[i][0] >> 2; // elements at least there
  const off = Math.min(n, int(4));
  switch (int(5)) {
    case 0: case 1: return new Int32Array(sab);
    case 2: return new Int32Array(sab, 4 * off); // length-tracking too, over a growable one
    case 3: return new Int32Array(sab, 4 * off, int(n - off + 1));
    default: return new Int32Array(sab, 0, n);
  }
}
/** Bytes over a pool buffer: Uint8Arrays, DataViews, Buffers and wider views, whole, offset or windowed. */
function sharedBytes(maxLen) {
  const i = sharedIndex(maxLen);
  const sab = sharedPool[i];
  const n = SHARED_SIZES[i][0];
  const off = Math.min(n, int(9));
  switch (int(8)) {
    case 0: return new Uint8Array(sab); // length-tracking over a growable one
    case 1: return new DataView(sab); // likewise
    case 2: return new Uint8Array(sab, off);
    case 3: return new DataView(sab, off, int(n - off + 1));
    case 4: return Buffer.from(sab, off, int(n - off + 1));
    case 5: return new Int32Array(sab, 0, n >> 2);
    case 6: return new Float64Array(sab);
    default: return new Uint8Array(sab, off, int(n - off + 1));
  }
}
/** Good fds in the first entries of a view of the pool buffer just picked; the mutator changes them from here on. */
function primeShared(a) {
  const n = Math.min(SHARED_SIZES[stepTarget][0] >> 2, 24);
  for (let j = 0; j < n; j++) a[j] = chance(0.95) ? roFd() : pick([-1, k.FD_SETSIZE, 2 ** 31 - 1]);
  return a;
}

/**
 * Resizable (not shared) ArrayBuffers, with views made once: length-tracking ones, and fixed ones that a shrink
 * leaves out of bounds. Only the main thread resizes them, between calls, with the main PRNG: deterministic.
 * A view handed to an async call (recvIntoAsync) may be resized or detached before that call reads it.
 */
const RAB_MAX = 4096;
function newRab() {
  const rab = new ArrayBuffer(64, { maxByteLength: RAB_MAX });
  const views = [
    new Uint8Array(rab), new DataView(rab), new Int32Array(rab), Buffer.from(rab), // Buffer: a fixed window
    new Uint8Array(rab, 16, 32), new DataView(rab, 32), new DataView(rab, 8, 40), new Int32Array(rab, 8, 6),
    new Uint8Array(rab, 40), new Int32Array(rab, 48), new Float64Array(rab, 8),
  ];
  return { rab, views };
}
const rabPool = [newRab(), newRab(), newRab()];
const RAB_SIZES = [0, 3, 4, 8, 16, 24, 40, 47, 48, 56, 63, 64, 100, 1000, RAB_MAX];
function resizableView(int32Only = false) {
  const j = int(rabPool.length);
  const e = rabPool[j];
  if (chance(0.6)) e.rab.resize(pick(RAB_SIZES));
  const pool = int32Only ? e.views.filter((v) => v instanceof Int32Array) : e.views;
  let v = pick(pool);
  if (chance(0.1)) {
    // a view made at the buffer's present size, then out of bounds
    const size = e.rab.byteLength;
    e.rab.resize(RAB_MAX);
    v = int32Only ? new Int32Array(e.rab, 4 * int(8)) : new Uint8Array(e.rab, int(64), int(64));
    e.rab.resize(Math.min(size, int(32)));
  }
  if (chance(0.02)) {
    structuredClone(e.rab, { transfer: [e.rab] }); // detached, views and all
    rabPool[j] = newRab();
  }
  return v;
}

/** A byte container of some kind: Buffers, TypedArrays, DataViews, subarray views, detached, shared, resizable. */
function bytes(maxLen = 65537) {
  const n = pick([0, 1, 2, 7, 16, 100, 1024, 4096, maxLen]);
  switch (int(19)) {
    case 16: return sharedBytes(maxLen);
    case 17: return resizableView();
    case 18: return chance(0.5) ? sharedBytes(maxLen) : resizableView();
    case 0: return Buffer.alloc(n);
    case 1: return Buffer.from('abcdefghij'.repeat(Math.ceil(n / 10) + 1)).subarray(int(5), Math.max(5, n)); // a pool slice
    case 2: return new Uint8Array(n);
    case 3: return new Uint16Array(Math.ceil(n / 2));
    case 4: return new Float64Array(Math.ceil(n / 8));
    case 5: return new BigInt64Array(Math.ceil(n / 8));
    case 6: return new DataView(new ArrayBuffer(n + 8), int(8), n);
    case 7: return new Uint8ClampedArray(n);
    case 8: {
      const ab = new ArrayBuffer(n + 16);
      return new Int32Array(ab, 4 * int(4), Math.floor(n / 4));
    }
    case 9: return detachedBuffer(n);
    case 10: return new ArrayBuffer(n);
    case 11: return new Uint8Array(new SharedArrayBuffer(n + 1), 1);
    case 12: {
      const ab = new ArrayBuffer(n, { maxByteLength: n + 64 });
      const v = chance(0.5) ? new Uint8Array(ab) : new DataView(ab);
      if (chance(0.5)) ab.resize(int(n + 1));
      return v;
    }
    case 13: return Buffer.alloc(0);
    case 14: return new DataView(new ArrayBuffer(8), 8);
    default: return Buffer.allocUnsafe(n).subarray(int(n + 1));
  }
}

const BAD_NUMBERS = [NaN, Infinity, -Infinity, -1, -2, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE, -(2 ** 31) - 1, 1e21, 3.000001];
/** Values of every type, none of which is a usable fd, size or flag set. Small integers are left out (see fd safety). */
function junk(noHuge = false) {
  switch (int(30)) {
    case 0: return pick(BAD_NUMBERS);
    case 1: return undefined;
    case 2: return null;
    case 3: return chance(0.5);
    case 4: return pick(['', '1', 'a\0b', '\0', '\uD800', '127.0.0.1', 'NaN', '-0']);
    case 5: return noHuge ? 'y'.repeat(5000) : huge();
    case 6: return Symbol('fuzz');
    case 7: return pick([1n, -1n, 2n ** 64n, 0n]);
    case 8: return function fuzzFn() {};
    case 9: return class FuzzClass {};
    case 10: return {};
    case 11: return [];
    case 12: return [1, , 3]; // eslint-disable-line no-sparse-arrays
    case 13: return Object.create(null);
    case 14: return throwingProxy();
    case 15: return revokedProxy();
    case 16: return primitiveTraps();
    case 17: return new Number(3);
    case 18: return new String('x');
    case 19: return new Date(0);
    case 20: return /re/;
    case 21: return new Map([[1, 2]]);
    case 22: return Promise.resolve(1);
    case 23: return AbortSignal.abort();
    case 24: return new SharedArrayBuffer(8);
    case 25: return bytes(64);
    case 26: return throwingGetters(['length', 'fd', 'events', 'address', 'port', 'path', 'fileno', 'signal', 'byteLength']);
    case 27: return new WeakRef({});
    case 28: return { length: 3, 0: 1, 1: 2, 2: 3 };
    default: return pick([-0, 0, 1, 7, 65535, 65536]); // only where such numbers are harmless (not fd positions)
  }
}
/** junk that can stand in for an fd without ever naming an open one. */
function junkFd() {
  const v = junk(true);
  return fdSafe(v) ? v : OOR_BASE + int(1000);
}
/** Whether a value given as an fd can name nothing the fuzzer does not own. */
function fdSafe(v, mode = 'any') {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= OOR_BASE) return true; // not an fd, or never open
  if (mode === 'ro') return true;
  if (raw.has(v)) return true;
  if (mode === 'close') return !isOpen(v);
  if (socketFds().includes(v) || selectorFds().includes(v)) return true;
  return !isOpen(v);
}

function closedFd() {
  if (closedRing.length > 0) {
    const fd = pick(closedRing);
    if (!isOpen(fd)) return fd;
  }
  return OOR_BASE + int(1 << 20);
}
function badFd() {
  switch (int(6)) {
    case 0: return closedFd();
    case 1: return pick([OOR_BASE, 2 ** 31 - 1, OOR_BASE + 12345, 2 ** 31, 2 ** 31 + 1]);
    case 2: return pick([-1, -(2 ** 31), 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0.5]);
    case 3: return pick(['3', '0', 3n, null, undefined, true, {}, [], new Number(3), primitiveTraps()]);
    default: return junkFd();
  }
}
function rawFd() {
  return raw.size > 0 ? pick([...raw.keys()]) : closedFd();
}
/** An fd for a call that changes it but does not close it. */
function anyFd() {
  const r = rnd();
  if (r < 0.65) return rawFd();
  if (r < 0.9) {
    const fds = socketFds();
    return fds.length > 0 ? pick(fds) : rawFd();
  }
  const fds = selectorFds();
  return fds.length > 0 ? pick(fds) : rawFd();
}
/** An fd for a read-only call: also stdin, stdout, stderr (and -0). */
function roFd() {
  if (chance(0.08)) return pick([0, 1, 2, -0]);
  return anyFd();
}

const FD = {
  any: { v: anyFd, b: badFd, fd: 'any' },
  ro: { v: roFd, b: badFd, fd: 'ro' },
  close: { v: () => (chance(0.85) ? rawFd() : closedFd()), b: badFd, fd: 'close' },
  watch: { v: anyFd, b: badFd, fd: 'any' },
};

const int32Bad = () => pick([...BAD_NUMBERS, '1', 1n, null, {}, true, primitiveTraps()]);
const gen = (v, b = int32Bad) => ({ v, b });
const rndInt32 = () => (rnd() * 2 ** 32) | 0;

const FLAG_BITS = [k.MSG_PEEK, k.MSG_DONTWAIT, k.MSG_TRUNC, k.MSG_OOB, k.MSG_WAITALL, k.MSG_NOSIGNAL, k.MSG_MORE, k.MSG_ERRQUEUE, k.MSG_CTRUNC, k.MSG_EOR, k.MSG_CONFIRM, k.MSG_DONTROUTE].filter((x) => typeof x === 'number');
const msgFlags = gen(() => {
  if (chance(0.5)) return 0;
  let f = 0;
  for (let i = int(3); i >= 0; i--) f |= pick(FLAG_BITS);
  return chance(0.05) ? rndInt32() : f;
});
const DOMAINS = [k.AF_INET, k.AF_INET6, k.AF_UNIX];
const domain = gen(() => (chance(0.93) ? pick(DOMAINS) : pick([k.AF_UNSPEC, 9999, -1, 2 ** 31 - 1, 64, 255])));
const sockType = gen(() => {
  const base = chance(0.95) ? pick([k.SOCK_STREAM, k.SOCK_DGRAM, k.SOCK_SEQPACKET]) : pick([0, 4, 11, 15, 0x7fff0000]);
  return base | (chance(0.8) ? NB : 0) | (chance(0.3) ? k.SOCK_CLOEXEC : 0);
});
const protocol = gen(() => (chance(0.85) ? 0 : pick([k.IPPROTO_TCP, k.IPPROTO_UDP, k.IPPROTO_ICMP, 999, -1])));
const size = gen(
  () => (chance(0.995) ? pick([0, 1, 2, 16, 100, 1024, 4096, 65536, 65537, 200000]) : 2 ** 31 - 1),
  () => pick([-1, 2 ** 31, 2 ** 53, 1.5, NaN, Infinity, -0.5, '10', 10n, null, {}]),
);
const timeout = gen(
  () => pick([0, -0, 0.2, 0, 1, 0]),
  () => pick([NaN, 2 ** 31, 2 ** 31 + 1, Infinity, '0', 0n, {}, true, [], primitiveTraps()]),
);
const backlog = gen(() => pick([0, 1, 16, 511, 2 ** 31 - 1]), () => pick([-1, 2 ** 31, 1.5, NaN, '5', null]));
const how = gen(() => pick([k.SHUT_RD, k.SHUT_WR, k.SHUT_RDWR, 3, -1, 7]));
const bool = gen(() => chance(0.5), () => pick([0, 1, 'true', null, undefined, {}, 1n]));

const SOCKOPTS = [
  [k.SOL_SOCKET, k.SO_REUSEADDR], [k.SOL_SOCKET, k.SO_REUSEPORT], [k.SOL_SOCKET, k.SO_KEEPALIVE], [k.SOL_SOCKET, k.SO_BROADCAST],
  [k.SOL_SOCKET, k.SO_LINGER], [k.SOL_SOCKET, k.SO_RCVBUF], [k.SOL_SOCKET, k.SO_SNDBUF], [k.SOL_SOCKET, k.SO_RCVLOWAT],
  [k.SOL_SOCKET, k.SO_RCVTIMEO], [k.SOL_SOCKET, k.SO_SNDTIMEO], [k.SOL_SOCKET, k.SO_ERROR], [k.SOL_SOCKET, k.SO_TYPE],
  [k.SOL_SOCKET, k.SO_DOMAIN], [k.SOL_SOCKET, k.SO_PROTOCOL], [k.SOL_SOCKET, k.SO_ACCEPTCONN], [k.SOL_SOCKET, k.SO_OOBINLINE],
  [k.SOL_SOCKET, k.SO_PEERCRED], [k.SOL_SOCKET, k.SO_PASSCRED], [k.SOL_SOCKET, k.SO_BINDTODEVICE], [k.SOL_SOCKET, k.SO_PRIORITY],
  [k.IPPROTO_TCP, k.TCP_NODELAY], [k.IPPROTO_TCP, k.TCP_MAXSEG], [k.IPPROTO_TCP, k.TCP_KEEPIDLE], [k.IPPROTO_TCP, k.TCP_CORK],
  [k.IPPROTO_TCP, k.TCP_QUICKACK], [k.IPPROTO_TCP, k.TCP_USER_TIMEOUT], [k.IPPROTO_IP, k.IP_TTL], [k.IPPROTO_IP, k.IP_TOS],
  [k.IPPROTO_IP, k.IP_MULTICAST_TTL], [k.IPPROTO_IP, k.IP_MULTICAST_LOOP], [k.IPPROTO_IPV6, k.IPV6_V6ONLY],
  [k.IPPROTO_IPV6, k.IPV6_UNICAST_HOPS], [k.IPPROTO_IPV6, k.IPV6_TCLASS],
].filter(([a, b]) => typeof a === 'number' && typeof b === 'number');
/** [level, name] generators that share one pick. */
let lastOpt = SOCKOPTS[0];
const optLevel = gen(() => {
  lastOpt = chance(0.9) ? pick(SOCKOPTS) : [pick([k.SOL_SOCKET, k.IPPROTO_TCP, k.IPPROTO_IP, 999]), int(80)];
  return lastOpt[0];
});
const optName = gen(() => lastOpt[1]);
const optValue = gen(
  () => (chance(0.6) ? pick([0, 1, -1, 4096, 65536, 2 ** 31 - 1]) : chance(0.3) ? chance(0.5) : bytes(64)),
  () => junk(true),
);
const optLength = gen(() => pick([undefined, 0, 1, 4, 8, 16, 256, 1 << 20]), () => pick([-1, (1 << 20) + 1, 1.5, NaN, '4', null]));
const FCNTL_CMDS = [k.F_GETFL, k.F_SETFL, k.F_GETFD, k.F_SETFD, k.F_GETOWN, k.F_SETOWN];
const fcntlCmd = gen(() => (chance(0.9) ? pick(FCNTL_CMDS) : pick([0 /* F_DUPFD */, 1030, 9999, -1])));
const fcntlArg = gen(() => pick([undefined, 0, k.O_NONBLOCK, k.FD_CLOEXEC, 1, -1, 2 ** 31 - 1]));

// Addresses.
const BAD_PORTS = [-1, 65536, 1.5, NaN, Infinity, '80', undefined, null, 80n, 2 ** 53, -0.1, {}];
const BAD_HOSTS = ['', '1.2.3', '256.1.1.1', '127.0.0.1\0', 'a\0b', '::1%', 'fe80::1%nosuchif0', '::ffff:999.1.1.1', '1.2.3.4.5', '[::1]', 'localhost'];
function longPath(n) {
  const base = tmp + '/';
  return base + 'L'.repeat(Math.max(1, n - Buffer.byteLength(base)));
}
function inetTarget(list, v6) {
  const c = list.filter((a) => (a.family === 'IPv6') === v6);
  return c.length > 0 ? { address: pick(c).address, port: pick(c).port } : { address: v6 ? '::1' : '127.0.0.1', port: 1 };
}
function addrValid() {
  switch (int(12)) {
    case 0: case 1: return inetTarget(tcpTargets, chance(0.3));
    case 2: return inetTarget(udpTargets, chance(0.3));
    case 3: return { address: '127.0.0.1', port: chance(0.5) ? 0 : 1024 + int(60000) };
    case 4: return { address: '::1', port: chance(0.5) ? 0 : 1024 + int(60000), flowinfo: chance(0.2) ? int(0xfffff) : undefined };
    case 5: return { address: pick(['::ffff:127.0.0.1', '127.0.0.2', '0.0.0.0', '::', 'fe80::1%lo', 'fe80::1%1']), port: int(3) === 0 ? 0 : 1024 + int(60000) };
    case 6: case 7: return unixTargets.length > 0 ? { path: pick(unixTargets).path } : { path: newPath() };
    case 8: return { path: newPath() };
    case 9: return { path: `\0sockfd-fuzz-${process.pid}-${int(20)}` };
    case 10: return { path: pick(['', `rel${int(10)}`, longPath(107), '\u00e9'.repeat(40)]) };
    default: return { address: '::1', port: 0, scopeId: pick([0, 1, 2 ** 32 - 1]) };
  }
}
function addrBad() {
  switch (int(16)) {
    case 0: return { address: pick(['127.0.0.1', '::1']), port: pick(BAD_PORTS) };
    case 1: return { address: pick(BAD_HOSTS), port: 80 };
    case 2: return { path: longPath(pick([108, 109, 200, 5000])) };
    case 3: return { path: pick(['a\0b', tmp + '/x\0y', '\0' + 'a'.repeat(108), '\u00e9'.repeat(60)]) };
    case 4: return { path: pick([5, null, {}, 1n, Symbol('p')]) };
    case 5: return { address: pick([5, null, undefined, {}, 1n]), port: 80 };
    case 6: return { address: '::1', port: 1, flowinfo: pick([-1, 0x100000, 1.5, 'x']) };
    case 7: return { address: '::1', port: 1, scopeId: pick([-1, 2 ** 32, NaN, '1']) };
    case 8: return throwingGetters(pick([['path'], ['address', 'port'], ['port'], ['flowinfo']]));
    case 9: return throwingProxy();
    case 10: return pick([null, undefined, '127.0.0.1:80', 80, [], () => {}]);
    case 11: return { path: tmp + '/both', address: '127.0.0.1', port: 1 };
    case 12: {
      // a getter that gives a different answer each read
      let n = 0;
      return { get address() { return n++ === 0 ? '127.0.0.1' : 'not an ip'; }, port: 1 }; // eslint-disable-line
    }
    case 13: return { address: '127.0.0.1', get port() { throw new FuzzerThrow('port'); } }; // eslint-disable-line
    case 14: return revokedProxy();
    default: return junk(true);
  }
}
const address = gen(addrValid, addrBad);

// Data for send.
const data = gen(
  () => (chance(0.3) ? pick(['', 'hello', 'h\u00e9llo \u{1F600}', 'a\0b', 'x'.repeat(int(5000))]) : bytes(chance(0.02) ? 300000 : 65537)),
  () => junk(),
);
const smallData = gen(() => (chance(0.3) ? pick(['', 'hi', '\u{1F600}'.repeat(100)]) : bytes(2048)), () => junk(true));
const buffer = gen(() => bytes(), () => junk(true));
const offset = gen(() => pick([undefined, 0, 1, 3, 8, 100]), () => pick([-1, 2 ** 31, 1e9, 0.5, NaN, Infinity, '1', null, 5n]));
const length = gen(() => pick([undefined, 0, 1, 4, 16, 1000]), () => pick([-1, 2 ** 31, 1e9, 0.5, NaN, Infinity, '1', null, 5n]));

// Lists for select and poll, with hostile arrays.
function fileObj(fdGen = roFd) {
  switch (int(8)) {
    case 0: case 1: case 2: case 3: return fdGen();
    case 4: {
      const fd = fdGen();
      return { fileno: () => fd };
    }
    case 5: return liveSockets().length > 0 ? pick(liveSockets()) : fdGen();
    case 6: return pick(sockets.length > 0 ? sockets : [fdGen()]); // may be closed: fileno() -1
    default: return fdGen();
  }
}
function badFileObj() {
  switch (int(6)) {
    case 0: return { fileno: 3 };
    case 1: return { fileno() { throw new FuzzerThrow('fileno'); } }; // eslint-disable-line
    case 2: return { fileno: () => pick([-1, '3', 1.5, NaN, 2 ** 31, null, OOR_BASE]) };
    case 3: return badFd();
    case 4: return throwingProxy();
    default: return junk(true);
  }
}
function hostileArray(items) {
  switch (int(8)) {
    case 0: {
      // a proxy that shrinks the array while it is read
      return new Proxy(items.slice(), {
        get(t, p, r) {
          if (p === '1') t.length = 0;
          return Reflect.get(t, p, r);
        },
      });
    }
    case 1: {
      // grows it while it is read
      return new Proxy(items.slice(), {
        get(t, p, r) {
          if (p === '0') for (let i = 0; i < 2000; i++) t.push(OOR_BASE + i);
          return Reflect.get(t, p, r);
        },
      });
    }
    case 2: {
      const a = items.slice();
      Object.defineProperty(a, 0, { get() { throw new FuzzerThrow('element 0'); } }); // eslint-disable-line
      return a;
    }
    case 3: {
      const a = items.slice();
      a.length = items.length + 3; // holes
      return a;
    }
    case 4: {
      const a = items.slice();
      Object.defineProperty(a, 0, { get() { a.length = 0; return items[0]; } }); // eslint-disable-line
      return a;
    }
    case 5: return new Proxy(items, { get(t, p) { if (p === 'length') throw new FuzzerThrow('length'); return t[p]; } }); // eslint-disable-line
    case 6: return [...items, badFileObj()];
    default: return Object.assign(Object.create(Array.prototype), items, { length: items.length });
  }
}
function fdList() {
  const n = pick([0, 1, 2, 3, 5, 8]);
  const items = [];
  for (let i = 0; i < n; i++) items.push(fileObj());
  return items;
}
const selList = gen(fdList, () => (chance(0.7) ? hostileArray(fdList()) : pick([null, {}, 5, 'abc', new Int32Array(2), junk(true)])));
function pollEntry() {
  return { fd: roFd(), events: pick([k.POLLIN, k.POLLOUT, k.POLLIN | k.POLLOUT, 0, k.POLLPRI | k.POLLRDHUP, 0xffff]) };
}
function badPollEntry() {
  switch (int(6)) {
    case 0: return { fd: badFd(), events: k.POLLIN };
    case 1: return { fd: roFd(), events: pick([-1, 0x10000, 1.5, NaN, '1', null]) };
    case 2: return throwingGetters(pick([['fd'], ['events']]));
    case 3: return pick([null, 5, 'x', undefined]);
    case 4: return throwingProxy();
    default: return { fd: roFd() }; // no events
  }
}
const pollList = gen(
  () => Array.from({ length: pick([0, 1, 2, 4, 8]) }, pollEntry),
  () => (chance(0.6) ? hostileArray([...Array.from({ length: 3 }, pollEntry), badPollEntry()]) : chance(0.5) ? [pollEntry(), badPollEntry()] : junk(true)),
);

const watchEvents = gen(() => int(16), () => pick([16, -1, 255, 1.5, NaN, '1', null, 2 ** 31]));
const selEvents = gen(() => pick([1, 2, 3]), () => pick([0, 4, 7, -1, 1.5, NaN, '1', null, 2 ** 32 + 1]));
const epollEvents = gen(
  () => pick([k.EPOLLIN, k.EPOLLOUT, k.EPOLLIN | k.EPOLLOUT, k.EPOLLIN | k.EPOLLET, (k.EPOLLIN | k.EPOLLET) >>> 0, k.EPOLLRDHUP | k.EPOLLPRI, 0, k.EPOLLONESHOT | k.EPOLLIN, k.EPOLLEXCLUSIVE | k.EPOLLIN, 0xffffffff]),
  () => pick([-(2 ** 31) - 1, 2 ** 32, 1.5, NaN, '1', null]),
);
const epollOp = gen(() => pick([k.EPOLL_CTL_ADD, k.EPOLL_CTL_MOD, k.EPOLL_CTL_DEL, 0, 4]));
const maxEvents = gen(() => pick([1, 2, 16, 64, 1 << 20]), () => pick([0, -1, (1 << 20) + 1, 1.5, NaN, '1']));
function int32Array() {
  switch (int(9)) {
    case 7: return sharedInt32(); // the mutator changes it while the call writes into it
    case 8: return resizableView(true);
    case 0: return new Int32Array(pick([0, 1, 2, 3, 7, 64]));
    case 1: return new Int32Array(new ArrayBuffer(64), 4 * int(4), int(10));
    case 2: {
      const ab = new ArrayBuffer(32);
      const a = new Int32Array(ab);
      structuredClone(ab, { transfer: [ab] });
      return a;
    }
    case 3: return new Int32Array(new SharedArrayBuffer(64));
    case 4: return new Int32Array(64).subarray(int(64));
    case 5: {
      const ab = new ArrayBuffer(64, { maxByteLength: 128 });
      const a = new Int32Array(ab);
      ab.resize(int(64));
      return a;
    }
    default: return new Int32Array(2);
  }
}
const outArray = gen(int32Array, () => pick([new Uint32Array(4), new Float64Array(2), [0, 0], null, {}, Buffer.alloc(8), junk(true)]));

// Callbacks.
function watchCallback(err, events) {
  watchFires++;
  try {
    if (err !== null) check(err, { name: 'watch callback error', args: [err, events], inCallback: true });
    const r = cbRnd();
    if (r < 0.1) this.stop();
    else if (r < 0.5) this.update(Math.floor(cbRnd() * 16) & ~2); // drop WRITE: it would fire every turn
    else if (r < 0.52) this.update(Math.floor(cbRnd() * 32)); // sometimes out of range
  } catch (e) {
    check(e, { name: 'watch callback', args: [err, events], inCallback: true });
  }
}
function nativeWatchCallback(err, events) {
  watchFires++;
  if (err !== null) check(err, { name: 'native watch callback error', args: [err, events], inCallback: true });
  try {
    if (cbRnd() < 0.3) this.stop();
  } catch (e) {
    check(e, { name: 'native watch callback', args: [err, events], inCallback: true });
  }
}
const callback = gen(() => watchCallback, () => pick([null, undefined, 5, {}, 'fn', Symbol('f')]));

// Async options.
const controllers = [];
function asyncOptions() {
  switch (int(6)) {
    case 0: case 1: return undefined;
    case 2: return {};
    case 3: return { signal: AbortSignal.abort(new FuzzerThrow('aborted')) };
    case 4: {
      const c = new AbortController();
      controllers.push(c);
      return { signal: c.signal };
    }
    default: return { signal: AbortSignal.timeout(1 + int(5)) };
  }
}
const asyncOpts = gen(asyncOptions, () => pick([null, 5, 'x', { signal: {} }, { signal: 5 }, throwingGetters(['signal']), throwingProxy()]));

// getaddrinfo.
const host = gen(
  () => pick(['localhost', '127.0.0.1', '::1', null, '0.0.0.0', '::ffff:127.0.0.1', 'fe80::1%lo']),
  () => pick(['', 'a\0b', 5, undefined, {}, 'x'.repeat(300) + '\0', Symbol('h')]),
);
const service = gen(
  () => pick([undefined, null, 0, 80, 65535, 'http', '80', 'ssh']),
  () => pick([-1, 65536, 1.5, NaN, 'a\0b', {}, 5n, true]),
);
const gaiOptions = gen(
  () => pick([undefined, {}, { family: k.AF_INET }, { family: k.AF_INET6, type: k.SOCK_STREAM }, { type: k.SOCK_DGRAM, flags: k.AI_PASSIVE }, { flags: k.AI_CANONNAME }, { family: 12345 }, { type: 99 }, { flags: -1 }]),
  () => pick([null, 5, 'x', { family: 1.5 }, { type: '1' }, { flags: NaN }, throwingGetters(['family']), throwingProxy()]),
);

// ---- the calls --------------------------------------------------------------------------------------------

const specs = [];
/**
 * name; fn(...args); kinds: a generator per argument; extra: flags.
 *   noTrunc: never drop trailing arguments (a dropped timeout would wait forever);
 *   post(result, args): track what the call created; reset: may have made an fd blocking;
 *   pre(args): make a dangerous combination safe (returns the args to use).
 */
function spec(name, fn, kinds, extra = {}) {
  specs.push({ name, fn, kinds, weight: 1, ...extra });
}
const ownResultFd = (r) => own(r, 'new');
const ownPair = (r) => {
  if (Array.isArray(r)) {
    own(r[0], 'new');
    own(r[1], 'new');
  }
};
const ownAccepted = (r) => {
  if (r && typeof r === 'object' && typeof r.fd === 'number') own(r.fd, 'accepted');
};

/** socket()/socketpair() arguments that never make a raw or packet socket or one in a family we do not want. */
function safeSocketArgs(args) {
  const d = args[0];
  const t = args[1];
  if (typeof d === 'number' && Number.isInteger(d) && d >= 0 && d < 64 && !DOMAINS.includes(d) && d !== k.AF_UNSPEC) args[0] = 9999;
  if (typeof t === 'number' && Number.isInteger(t) && ((t & 0xf) === k.SOCK_RAW || (t & 0xf) === 10)) args[1] = k.SOCK_STREAM | NB;
  return args;
}
function safeSockopt(args, i) {
  // args[i..i+2] = level, name, value
  const level = args[i];
  const name = args[i + 1];
  const value = args[i + 2];
  const isBuf = isBytesish(value);
  if (level === k.SOL_SOCKET && name === k.SO_LINGER && isBuf) args[i + 2] = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]); // linger 0 s: never blocks close
  if (typeof name !== 'number') return args;
  if ((level === k.IPPROTO_IP && name >= 32 && name <= 48) || (level === k.IPPROTO_IPV6 && (name === 20 || name === 21 || (name >= 42 && name <= 48)))) {
    if (isBuf) args[i + 2] = Buffer.alloc(0); // no multicast joins (packets would leave the machine)
  }
  return args;
}
function safeFcntl(args, i) {
  const cmd = args[i];
  const arg = args[i + 1];
  if (cmd === k.F_SETOWN) args[i + 1] = typeof arg === 'number' ? 0 : arg;
  if (cmd === k.F_SETFL && typeof arg === 'number' && Number.isInteger(arg)) args[i + 1] = arg & ~k.O_ASYNC;
  return args;
}
/** Host names that getaddrinfo could send to DNS: replaced by ones refused before any lookup. */
function safeHostAddr(a) {
  if (a === null || typeof a !== 'object' || util.types.isProxy(a)) return a;
  const d = Object.getOwnPropertyDescriptor(a, 'address');
  if (d && 'value' in d && typeof d.value === 'string' && require('node:net').isIP(d.value) === 0 && d.value !== 'localhost' && !d.value.includes('\0')) {
    return safely(() => ({ ...a, address: 'no\0dns' }), { address: 'no\0dns', port: 1 });
  }
  if (d && d.get) return { path: undefined, address: 'no\0dns', port: 1 }; // a changing getter could name a host
  return a;
}

/** connectAsync resolves a non-IP string with dns.lookup on the thread pool: give it no such string at all. */
function safeAsyncAddr(a) {
  if (a === null || typeof a !== 'object' || util.types.isProxy(a)) return a;
  const d = Object.getOwnPropertyDescriptor(a, 'address');
  if (d && (d.get || (typeof d.value === 'string' && require('node:net').isIP(d.value) === 0))) return safely(() => ({ ...a, address: 5 }), { address: 5, port: 1 });
  return a;
}

/** getsockopt(SOL_SOCKET, SO_PEERPIDFD) (Linux 6.5+) returns a new fd, a pidfd of the peer: the caller owns it. */
const SO_PEERPIDFD = 77;
function pidfdPre(args, i) {
  const len = args[i + 2];
  if (args[i] === k.SOL_SOCKET && args[i + 1] === SO_PEERPIDFD && typeof len === 'number' && len >= 0 && len < 4) args[i + 2] = 4; // the whole fd number
  return args;
}
function pidfdPost(r, args, i) {
  if (args[i] !== k.SOL_SOCKET || args[i + 1] !== SO_PEERPIDFD) return;
  const fd = typeof r === 'number' ? r : Buffer.isBuffer(r) && r.length >= 4 ? r.readInt32LE(0) : -1;
  if (fd > 2 && isOpen(fd) && !raw.has(fd)) own(fd, 'pidfd');
}

// Raw calls.
spec('socket', s.socket, [domain, sockType, protocol], { pre: safeSocketArgs, post: ownResultFd });
spec('socketpair', s.socketpair, [domain, sockType, protocol], { pre: safeSocketArgs, post: ownPair });
spec('bind', s.bind, [FD.any, address], { weight: 2 });
spec('connect', s.connect, [FD.any, address], { weight: 3 });
spec('listen', s.listen, [FD.any, backlog]);
spec('accept', s.accept, [FD.any, gen(() => pick([0, NB, k.SOCK_CLOEXEC, NB | k.SOCK_CLOEXEC, 1, -1]))], { post: ownAccepted, weight: 2 });
spec('recv', s.recv, [FD.any, size, msgFlags], { weight: 3 });
spec('recvInto', s.recvInto, [FD.any, buffer, offset, length, msgFlags], { weight: 3 });
spec('recvfrom', s.recvfrom, [FD.any, size, msgFlags], { weight: 2 });
spec('recvfromInto', s.recvfromInto, [FD.any, buffer, offset, length, msgFlags], { weight: 2 });
spec('send', s.send, [FD.any, data, msgFlags], { weight: 3 });
spec('sendto', s.sendto, [FD.any, data, address, msgFlags], { weight: 3 });
spec('sendAll', s.sendAll, [{ v: () => 'SINK', b: badFd }, smallData, msgFlags], { sink: true });
spec('shutdown', s.shutdown, [FD.any, how]);
spec('close', s.close, [FD.close], { closes: true });
spec('setsockopt', s.setsockopt, [FD.any, optLevel, optName, optValue], { pre: (a) => safeSockopt(a, 1), weight: 2 });
spec('getsockopt', s.getsockopt, [FD.ro, optLevel, optName, optLength], { weight: 2, pre: (a) => pidfdPre(a, 1), post: (r, a) => pidfdPost(r, a, 1) });
spec('getsockname', s.getsockname, [FD.ro]);
spec('getpeername', s.getpeername, [FD.ro]);
spec('setBlocking', s.setBlocking, [FD.any, bool], { reset: true });
spec('getBlocking', s.getBlocking, [FD.ro]);
spec('fcntl', s.fcntl, [FD.any, fcntlCmd, fcntlArg], { pre: (a) => safeFcntl(a, 1), reset: true });
spec('select', s.select, [selList, selList, selList, timeout], { noTrunc: true, weight: 2 });
spec('poll', s.poll, [pollList, timeout], { noTrunc: true, weight: 2 });
spec('getaddrinfo', s.getaddrinfo, [host, service, gaiOptions]);
spec('epollCreate', s.epollCreate, [gen(() => pick([0, k.EPOLL_CLOEXEC, undefined, 1, -1]))], { post: ownResultFd });
spec('epollCtl', s.epollCtl, [FD.any, epollOp, FD.ro, epollEvents], { weight: 2 });
spec('epollWait', s.epollWait, [FD.any, maxEvents, timeout], { noTrunc: true });
spec('epollWaitInto', s.epollWaitInto, [FD.any, outArray, timeout], { noTrunc: true });
spec('watch', s.watch, [{ v: () => fileObj(anyFd), b: badFileObj, fd: 'any' }, watchEvents, callback], { watcher: true, weight: 2 });
spec('new Watcher', (fd, ev, cb) => new s.Watcher(fd, ev, cb), [FD.watch, watchEvents, callback], { watcher: true });

// Watchers.
function aWatcher() {
  return watchers.length > 0 && chance(0.9) ? pick(watchers) : pick([null, {}, Object.create(s.Watcher.prototype)]);
}
spec('Watcher#update', (w, ev) => w.update(ev), [gen(aWatcher), watchEvents], { weight: 2 });
spec('Watcher#stop', (w) => w.stop(), [gen(aWatcher)]);
spec('Watcher#ref/unref/hasRef', (w, n) => [w.ref(), w.unref(), w.hasRef(), w.events, w.active][n], [gen(aWatcher), gen(() => int(5))]);
spec('Watcher.prototype.*.call(junk)', (m, self, a) => s.Watcher.prototype[m].call(self, a), [gen(() => pick(['update', 'stop', 'ref', 'unref', 'hasRef'])), gen(() => junk(true)), watchEvents]);

// Socket.
const SOCKET_METHODS = {
  bind: [address], listen: [backlog], accept: [], connect: [address], recv: [size, msgFlags], recvInto: [buffer, offset, length, msgFlags],
  recvfrom: [size, msgFlags], send: [data, msgFlags], sendto: [data, address, msgFlags], shutdown: [how], close: [], detach: [],
  setBlocking: [bool], getBlocking: [], setsockopt: [optLevel, optName, optValue], getsockopt: [optLevel, optName, optLength],
  getsockname: [], getpeername: [], fileno: [], toString: [], acceptAsync: [asyncOpts], connectAsync: [address, asyncOpts],
  recvAsync: [size, asyncOpts], recvIntoAsync: [buffer, offset, length, asyncOpts], sendAllAsync: [data, asyncOpts],
};
function aSocket() {
  const live = liveSockets();
  if (live.length > 0 && chance(0.93)) return pick(live);
  if (sockets.length > 0) return pick(sockets);
  const sock = new s.Socket(k.AF_UNIX, k.SOCK_STREAM | NB);
  addSocket(sock);
  return sock;
}
const socketArg = gen(aSocket, () => pick([null, {}, Object.create(s.Socket.prototype), junk(true)]));
for (const [m, kinds] of Object.entries(SOCKET_METHODS)) {
  const extra = { weight: m === 'close' || m === 'detach' ? 0.3 : 1, socketMethod: m };
  if (m === 'setBlocking') extra.reset = true;
  if (m === 'setsockopt') extra.pre = (a) => safeSockopt(a, 1);
  if (m === 'getsockopt') {
    extra.pre = (a) => pidfdPre(a, 1);
    extra.post = (r, a) => pidfdPost(r, a, 1);
  }
  if (['bind', 'connect', 'sendto', 'connectAsync'].includes(m)) {
    const i = m === 'sendto' ? 2 : 1;
    extra.pre = (a) => {
      a[i] = m === 'connectAsync' ? safeAsyncAddr(a[i]) : safeHostAddr(a[i]);
      return a;
    };
  }
  if (m === 'accept') extra.post = (r) => Array.isArray(r) && addSocket(r[0]);
  if (m === 'acceptAsync') extra.post = (r) => Array.isArray(r) && addSocket(r[0]);
  spec(`Socket#${m}`, (sock, ...a) => sock[m](...a), [socketArg, ...kinds], extra);
}
spec('Socket#closed/dispose', (sock, n) => (n === 0 ? sock.closed : sock[Symbol.dispose]()), [socketArg, gen(() => (chance(0.9) ? 0 : 1))], { socketMethod: 'dispose' });
spec('Socket#sendAll', (sock, d, f) => sock.sendAll(d, f), [{ v: () => 'SINKSOCK', b: () => pick(sockets.filter((x) => x.closed).concat([null])) }, smallData, msgFlags], { sink: true });
spec('new Socket', (f, t, p, fileno) => new s.Socket(f, t, p, fileno), [
  domain, sockType, protocol,
  { v: () => (chance(0.8) ? undefined : chance(0.7) ? rawFd() : OOR_BASE + int(100)), b: () => pick([-1, 1.5, NaN, '3', null, 2 ** 31, OOR_BASE]) },
], { pre: safeSocketArgs, newSocket: true, weight: 2 });
spec('Socket.fromFd', (fd) => s.Socket.fromFd(fd), [FD.close], { newSocket: true });
spec('Socket.prototype.*.call(junk)', (m, self, a) => s.Socket.prototype[m].call(self, a), [gen(() => pick(Object.keys(SOCKET_METHODS).filter((m) => !m.endsWith('Async')))), gen(() => pick([{}, null, 5, Object.create(s.Socket.prototype), junk(true)])), gen(() => junk(true))]);

// Selectors.
function aSelector() {
  const live = selectors.filter((x) => !x.closed);
  if (live.length > 0 && chance(0.95)) return pick(live);
  return selectors.length > 0 ? pick(selectors) : new s.PollSelector();
}
const selectorArg = gen(aSelector, () => pick([null, {}, Object.create(s.BaseSelector.prototype), junk(true)]));
function registeredFileObj(sel) {
  try {
    const keys = [...sel.getMap().values()];
    if (keys.length > 0 && chance(0.7)) return pick(keys).fileobj;
  } catch {
    /* closed, or not a selector */
  }
  return fileObj();
}
// fileobj generators need the selector: filled in by pre().
const SEL_FILEOBJ = { v: () => 'REGISTERED', b: badFileObj };
spec('selector.register', (sel, f, ev, d) => sel.register(f, ev, d), [selectorArg, { v: () => fileObj(), b: badFileObj }, selEvents, gen(() => pick([undefined, 1, { x: 1 }, null]))], { weight: 4 });
spec('selector.unregister', (sel, f) => sel.unregister(f), [selectorArg, SEL_FILEOBJ], { weight: 2 });
spec('selector.modify', (sel, f, ev, d) => sel.modify(f, ev, d), [selectorArg, SEL_FILEOBJ, selEvents, gen(() => pick([undefined, 2]))], { weight: 2 });
spec('selector.getKey', (sel, f) => sel.getKey(f), [selectorArg, SEL_FILEOBJ]);
spec('selector.select', (sel, t) => sel.select(t), [selectorArg, timeout], { noTrunc: true, weight: 4 });
spec('selector.getMap', (sel, n, a) => {
  const m = sel.getMap();
  switch (n) {
    case 0: return m.size;
    case 1: return m.get(a);
    case 2: return m.has(a);
    case 3: return [...m.keys(), ...m.values(), ...m.entries(), ...m];
    default: return m.forEach(a);
  }
}, [selectorArg, gen(() => int(5)), gen(() => pick([roFd(), () => {}, () => { throw new FuzzerThrow('forEach'); }, junk(true)]))]); // eslint-disable-line
spec('selector.close', (sel, n) => (n === 0 ? sel.close() : sel[Symbol.dispose]()), [selectorArg, gen(() => int(2))], { weight: 0.2 });
spec('selector.fileno/closed', (sel) => [typeof sel.fileno === 'function' ? sel.fileno() : -1, sel.closed], [selectorArg]);
spec('new *Selector', (i) => {
  const sel = new (SELECTOR_CLASSES[i])();
  selectors.push(sel);
  return sel;
}, [gen(() => int(SELECTOR_CLASSES.length))], { weight: 0.3 });
spec('new BaseSelector + method', (m, a) => {
  const sel = new s.BaseSelector();
  return sel[m](a, 1);
}, [gen(() => pick(['register', 'unregister', 'modify', 'select', 'getKey', 'getMap', 'close'])), gen(() => pick([0, roFd(), junk(true)]))]);
spec('BaseSelector.prototype.*.call(junk)', (m, self, a) => s.BaseSelector.prototype[m].call(self, a, 1), [gen(() => pick(['register', 'unregister', 'modify', 'select', 'getKey', 'getMap', 'close'])), gen(() => pick([{}, null, Object.create(s.PollSelector.prototype), junk(true)])), gen(() => pick([0, roFd(), junk(true)]))]);
spec('new SelectorKey', (...a) => new s.SelectorKey(...a), [gen(() => junk(true)), gen(() => junk(true)), gen(() => junk(true)), gen(() => junk(true))]);
spec('new SelectorMapping + method', (map, n, a) => {
  const m = new s.SelectorMapping(map);
  return [() => m.size, () => m.get(a), () => m.has(a), () => [...m.keys()], () => [...m], () => m.forEach(() => {})][n]();
}, [gen(() => (chance(0.5) ? new Map([[1, 2]]) : junk(true))), gen(() => int(6)), gen(() => junk(true))]);

// The native addon, called directly.
const nFamily = gen(() => pick([k.AF_INET, k.AF_INET6, k.AF_UNIX]), () => pick([k.AF_UNSPEC, 9999, -1, 1.5, '2', null]));
const nAddrString = gen(
  () => pick(['127.0.0.1', '::1', '0.0.0.0', '::ffff:127.0.0.1', 'fe80::1%lo', '', newPath(), '\0abstract', unixTargets.length ? pick(unixTargets).path : 'x', longPath(107)]),
  () => pick(['a\0b', '127.0.0.1\0x', longPath(108), '\0' + 'z'.repeat(108), '::1%', 'fe80::1%nosuchif0', '999.1.1.1', 5, null, {}, Symbol('a')]),
);
const nPort = gen(() => pick([0, 1, 80, 65535, ...tcpTargets.slice(-2).map((a) => a.port)]), () => pick(BAD_PORTS));
const nFlow = gen(() => pick([0, 1, 0xfffff]), () => pick([-1, 0x100000, 1.5, NaN, '0']));
const nScope = gen(() => pick([0, 1, 2 ** 32 - 1]), () => pick([-1, 2 ** 32, 1.5, NaN, '0']));
const nBytes = gen(() => bytes(), () => junk(true));
const nData = gen(() => (chance(0.3) ? pick(['', 'abc', 'a\0b']) : bytes()), () => junk());
const nOffset = gen(() => pick([0, 1, 4, 100]), () => pick([-1, 2 ** 31, 2 ** 53, 0.5, NaN, undefined, '0']));
const nLength = gen(() => pick([0, 1, 4, 16, 1000]), () => pick([-1, 2 ** 31, 2 ** 53, 0.5, NaN, undefined, '0']));
const nInt32 = gen(() => pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]));
const nTimeout = gen(() => pick([0, 1]), () => pick([-2, 2 ** 31, NaN, undefined, null, '0', 0.5]));
function nInt32ArrayFds() {
  const n = int(6);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = chance(0.9) ? roFd() : pick([-1, 1024, 5000, 2 ** 31 - 1]);
  return chance(0.1) ? int32Array() : a;
}
const nFdArray = gen(nInt32ArrayFds, () => pick([[1, 2], new Uint32Array(2), null, junk(true)]));
function nPollEntries() {
  const n = int(5);
  const a = new Int32Array(3 * n + (chance(0.2) ? int(3) : 0));
  for (let i = 0; i < n; i++) {
    a[3 * i] = chance(0.9) ? roFd() : pick([-1, OOR_BASE]);
    a[3 * i + 1] = chance(0.9) ? pick([k.POLLIN, k.POLLOUT, 0, 0xffff]) : pick([-1, 0x10000, 2 ** 31 - 1]);
    a[3 * i + 2] = rndInt32();
  }
  return chance(0.1) ? int32Array() : a;
}
const nPollArr = gen(nPollEntries, () => pick([[0, 1, 0], new Int16Array(3), null, junk(true)]));
const nCount = gen(() => pick([0, 1, 2, 3, 4]), () => pick([-1, 1e9, 1.5, NaN, '1']));
const nHost = gen(() => pick(['localhost', '127.0.0.1', '::1', null]), () => pick(['', 5, undefined, {}, 'a\0b', Symbol('h')]));
const nService = gen(() => pick([null, '80', 'http', '0']), () => pick([80, undefined, {}, 'a\0b']));
const nRegistry = gen(() => (registries.length ? pick(registries) : new native.PollSet()), () => pick([{}, null, Object.create(native.PollSet.prototype), new native.SelectSet()]));
const nAnyValue = gen(() => junk(true));

const nAddr = [nFamily, nAddrString, nPort, nFlow, nScope];
spec('native.socket', native.socket, [domain, sockType, protocol], { pre: safeSocketArgs, post: ownResultFd });
spec('native.socketpair', native.socketpair, [domain, sockType, protocol], { pre: safeSocketArgs, post: ownPair });
spec('native.bind', native.bind, [FD.any, ...nAddr], { weight: 2 });
spec('native.connect', native.connect, [FD.any, ...nAddr], { weight: 2 });
spec('native.listen', native.listen, [FD.any, nInt32]);
spec('native.accept', native.accept, [FD.any, gen(() => (chance(0.8) ? pick([0, NB, k.SOCK_CLOEXEC, NB | k.SOCK_CLOEXEC]) : pick([1, -1, 2 ** 31 - 1])))], { post: ownAccepted });
spec('native.shutdown', native.shutdown, [FD.any, nInt32]);
spec('native.close', native.close, [FD.close], { closes: true });
spec('native.setsockopt', native.setsockopt, [FD.any, optLevel, optName, optValue], { pre: (a) => safeSockopt(a, 1) });
spec('native.getsockopt', native.getsockopt, [FD.ro, optLevel, optName, optLength], { pre: (a) => pidfdPre(a, 1), post: (r, a) => pidfdPost(r, a, 1) });
spec('native.getsockname', native.getsockname, [FD.ro]);
spec('native.getpeername', native.getpeername, [FD.ro]);
spec('native.setBlocking', native.setBlocking, [FD.any, nAnyValue], { reset: true });
spec('native.getBlocking', native.getBlocking, [FD.ro]);
spec('native.fcntl', native.fcntl, [FD.any, fcntlCmd, fcntlArg], { pre: (a) => safeFcntl(a, 1), reset: true });
spec('native.recv', native.recv, [FD.any, size, nInt32], { weight: 2 });
spec('native.recvInto', native.recvInto, [FD.any, nBytes, nOffset, nLength, nInt32], { weight: 3 });
spec('native.recvfrom', native.recvfrom, [FD.any, size, nInt32]);
spec('native.recvfromInto', native.recvfromInto, [FD.any, nBytes, nOffset, nLength, nInt32], { weight: 3 });
spec('native.send', native.send, [FD.any, nData, nInt32], { weight: 2 });
spec('native.sendto', native.sendto, [FD.any, nData, nInt32, ...nAddr], { weight: 2 });
spec('native.select', native.select, [nFdArray, nCount, nCount, nTimeout], { noTrunc: true, weight: 2 });
spec('native.poll', native.poll, [nPollArr, nCount, nTimeout], { noTrunc: true, weight: 2 });
spec('native.getaddrinfo', native.getaddrinfo, [
  nHost, nService,
  gen(() => pick([k.AF_UNSPEC, k.AF_INET, k.AF_INET6, 12345])),
  gen(() => pick([0, k.SOCK_STREAM, k.SOCK_DGRAM, 99])),
  gen(() => pick([0, k.AI_PASSIVE, k.AI_CANONNAME, k.AI_NUMERICHOST, k.AI_NUMERICSERV | k.AI_ADDRCONFIG, -1])),
]);
spec('native.epollCreate', native.epollCreate, [nInt32], { post: ownResultFd });
spec('native.epollCtl', native.epollCtl, [FD.any, epollOp, FD.ro, gen(() => pick([0, 1, 4, 0x80000001, 2 ** 32 - 1]), () => pick([-1, 2 ** 32, 1.5, NaN]))]);
spec('native.epollWait', native.epollWait, [FD.any, maxEvents, nTimeout], { noTrunc: true });
spec('native.epollWaitInto', native.epollWaitInto, [FD.any, outArray, nTimeout], { noTrunc: true });
spec('new native.PollSet/SelectSet', (i) => {
  const r = new ([native.PollSet, native.SelectSet][i])();
  registries.push(r);
  return r;
}, [gen(() => int(2))], { weight: 0.2 });
spec('native registry.add', (r, fd, ev) => r.add(fd, ev), [nRegistry, { v: roFd, b: badFd }, gen(() => pick([1, 2, 3]), () => pick([0, 4, -1, 1.5, NaN, '1']))], { weight: 2 });
spec('native registry.modify', (r, fd, ev) => r.modify(fd, ev), [nRegistry, { v: roFd, b: badFd }, gen(() => pick([1, 2, 3]), () => pick([0, 4, -1, NaN]))]);
spec('native registry.remove', (r, fd) => r.remove(fd), [nRegistry, { v: roFd, b: badFd }]);
spec('native registry.wait', (r, out, t) => r.wait(out, t), [nRegistry, outArray, nTimeout], { noTrunc: true, weight: 2 });
spec('native registry.size', (r) => r.size, [nRegistry]);
spec('new native.Watcher', (fd, ev, cb) => new native.Watcher(fd, ev, cb), [FD.watch, gen(() => int(16), () => pick([16, -1, NaN, '1'])), gen(() => nativeWatchCallback, () => pick([null, 5, {}]))], { watcher: true });
spec('native.Watcher methods', (w, m, a) => w[m](a), [gen(() => { const n = watchers.filter((x) => !(x instanceof s.Watcher)); return n.length ? pick(n) : Object.create(native.Watcher.prototype); }), gen(() => pick(['update', 'stop', 'ref', 'unref', 'hasRef'])), gen(() => int(16), () => pick([-1, 16, NaN, '1', undefined]))]); // eslint-disable-line
spec('native fn with wrong this / no new', (i, self) => {
  const fns = [native.PollSet, native.SelectSet, native.Watcher];
  const protos = fns.map((f) => f.prototype);
  if (i < 3) return fns[i](); // without new
  const p = pick(protos);
  const m = pick(Object.getOwnPropertyNames(p).filter((x) => x !== 'constructor'));
  const d = Object.getOwnPropertyDescriptor(p, m);
  return d.get ? d.get.call(self) : d.value.call(self, 1, 1);
}, [gen(() => int(6)), gen(() => pick([{}, null, 5, Object.create(native.PollSet.prototype), new native.SelectSet(), junk(true)]))]);

// Memory that the mutator changes during the call (see the header). Fd lists and (fd, events, revents) triples
// come from the small pool buffers, primed with good fds; the counts are drawn within the list's length.
let sharedLen = 0;
let sharedFirst = 0;
const sharedFdList = gen(
  () => {
    const a = primeShared(sharedInt32(true));
    sharedLen = a.length; // the mutator may grow it: a racy call's count, never the PRNG's course
    return a;
  },
  () => (chance(0.5) ? resizableView(true) : int32Array()),
);
const sharedNRead = gen(() => (sharedFirst = int(sharedLen + 1)), () => pick([sharedLen + 1, -1, 1.5, NaN, '1']));
const sharedNWrite = gen(() => int(sharedLen - sharedFirst + 1), () => pick([sharedLen + 1, -1, NaN]));
function sharedPollEntries() {
  const a = sharedInt32(true);
  const n = Math.min(SHARED_SIZES[stepTarget][0] >> 2, 24);
  for (let j = 0; j + 2 < n; j += 3) {
    a[j] = roFd();
    a[j + 1] = pick([k.POLLIN, k.POLLOUT, k.POLLIN | k.POLLOUT, 0, 0xffff]);
    a[j + 2] = 0;
  }
  sharedLen = Math.floor(a.length / 3);
  return a;
}
const sharedPollArr = gen(sharedPollEntries, () => (chance(0.5) ? resizableView(true) : int32Array()));
const sharedPollCount = gen(() => int(sharedLen + 1), () => pick([sharedLen + 1, -1, 1.5, NaN]));
const sharedOut = gen(() => (chance(0.85) ? sharedInt32() : resizableView(true)), () => pick([resizableView(), new SharedArrayBuffer(8), junk(true)]));
const epollFd = {
  v: () => {
    const eps = [...raw].filter(([, kind]) => kind === 'epoll');
    return eps.length > 0 && chance(0.8) ? pick(eps)[0] : anyFd();
  },
  b: badFd,
  fd: 'any',
};
// Objects for the package's select and poll whose fileno()/fd/events read the shared memory at each call.
function liveView() {
  return primeShared(new Int32Array(sharedPool[sharedIndex(256)]));
}
function liveSelList() {
  const v = liveView();
  return Array.from({ length: pick([1, 2, 3, 5, 8]) }, () => {
    if (!chance(0.7)) return fileObj();
    const i = int(8);
    return { fileno: () => (i < v.length ? Atomics.load(v, i) : OOR_BASE) };
  });
}
function livePollList() {
  const v = liveView();
  return Array.from({ length: pick([1, 2, 4, 8]) }, () => {
    if (!chance(0.7)) return pollEntry();
    const i = int(8);
    const at = (j) => (j < v.length ? Atomics.load(v, j) : -1);
    return chance(0.5) ? { get fd() { return at(i); }, get events() { return at(i + 1); } } : { fd: roFd(), get events() { return at(i); } }; // eslint-disable-line
  });
}
const liveSel = gen(liveSelList, () => hostileArray(liveSelList()));
const livePoll = gen(livePollList, () => hostileArray(livePollList()));
// Bytes: shared (racy) or resizable (deterministic), for the calls that read or write them.
const sharedBuffer = gen(() => (chance(0.8) ? sharedBytes(65537) : resizableView()), () => junk(true));
const sharedSmall = gen(() => (chance(0.8) ? sharedBytes(2048) : resizableView()), () => junk(true));
const sharedOpt = gen(() => (chance(0.8) ? sharedBytes(64) : resizableView()), () => junk(true));

spec('native.select [shared]', native.select, [sharedFdList, sharedNRead, sharedNWrite, nTimeout], { noTrunc: true, weight: 3 });
spec('native.poll [shared]', native.poll, [sharedPollArr, sharedPollCount, nTimeout], { noTrunc: true, weight: 2 });
spec('native.epollWaitInto [shared]', native.epollWaitInto, [epollFd, sharedOut, nTimeout], { noTrunc: true });
spec('epollWaitInto [shared]', s.epollWaitInto, [epollFd, sharedOut, timeout], { noTrunc: true, weight: 0.5 });
spec('native registry.wait [shared]', (r, out, t) => r.wait(out, t), [nRegistry, sharedOut, nTimeout], { noTrunc: true });
spec('select [live fileno]', s.select, [liveSel, liveSel, liveSel, timeout], { noTrunc: true });
spec('poll [live entries]', s.poll, [livePoll, timeout], { noTrunc: true });
spec('recvInto [shared]', s.recvInto, [FD.any, sharedBuffer, offset, length, msgFlags]);
spec('native.recvInto [shared]', native.recvInto, [FD.any, sharedBuffer, nOffset, nLength, nInt32]);
spec('recvfromInto [shared]', s.recvfromInto, [FD.any, sharedBuffer, offset, length, msgFlags], { weight: 0.5 });
spec('native.recvfromInto [shared]', native.recvfromInto, [FD.any, sharedBuffer, nOffset, nLength, nInt32], { weight: 0.5 });
spec('send [shared]', s.send, [FD.any, sharedBuffer, msgFlags]);
spec('native.send [shared]', native.send, [FD.any, sharedBuffer, nInt32], { weight: 0.5 });
spec('sendto [shared]', s.sendto, [FD.any, sharedBuffer, address, msgFlags], { weight: 0.5 });
spec('native.sendto [shared]', native.sendto, [FD.any, sharedBuffer, nInt32, ...nAddr], { weight: 0.5 });
spec('sendAll [shared]', s.sendAll, [{ v: () => 'SINK', b: badFd }, sharedSmall, msgFlags], { sink: true, weight: 0.5 });
spec('setsockopt [shared]', s.setsockopt, [FD.any, optLevel, optName, sharedOpt], { pre: (a) => safeSockopt(a, 1), weight: 0.5 });
spec('native.setsockopt [shared]', native.setsockopt, [FD.any, optLevel, optName, sharedOpt], { pre: (a) => safeSockopt(a, 1), weight: 0.5 });

// Every export must be reached: check that each function or class of the package has at least one spec.
const covered = new Set(['constants', 'bindingPath', 'hasEpoll']);
for (const sp of specs) {
  const base = sp.name.replace(/^new /, '').replace(/[#. ].*$/, '');
  covered.add(base);
}
covered.add('DefaultSelector').add('SelectSelector').add('PollSelector').add('EpollSelector');
for (const key of Object.keys(s)) {
  if (typeof s[key] === 'function' && !covered.has(key)) throw new Error(`fuzz: no spec calls the export ${key}`);
}

// Weighted choice.
const cumulative = [];
let totalWeight = 0;
for (const sp of specs) {
  totalWeight += sp.weight;
  cumulative.push(totalWeight);
  specNames.push(sp.name);
}
function chooseSpec() {
  const r = rnd() * totalWeight;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---- one step ---------------------------------------------------------------------------------------------

function buildArgs(sp) {
  const kinds = sp.kinds;
  const r = rnd();
  let args;
  if (r < 0.55 || kinds.length === 0) args = kinds.map((g) => g.v());
  else if (r < 0.9) {
    const bad = int(kinds.length);
    args = kinds.map((g, i) => (i === bad ? g.b() : g.v()));
  } else args = kinds.map((g) => (chance(0.5) ? g.b() : g.v()));
  if (!sp.noTrunc && chance(0.04)) args.length = int(args.length + 1);
  else if (chance(0.02)) args.push(junk(true));
  return args;
}

/** The last line of defence: fd arguments that could name something the fuzzer does not own are replaced. */
function enforceFdSafety(sp, args) {
  sp.kinds.forEach((g, i) => {
    // Positions that are not fds take numbers that are not fds (fileobjs are made safe by their generators).
    if (i >= args.length || g.fd === undefined) return;
    if (!fdSafe(args[i], g.fd)) args[i] = OOR_BASE + int(1000);
  });
  if (sp.name === 'new Socket' && args.length > 3) {
    const f = args[3];
    if (typeof f === 'number' && Number.isInteger(f) && f >= 0 && f < OOR_BASE && !raw.has(f)) args[3] = OOR_BASE + 1;
  }
}

/** The most bytes a view can come to: a view of a growable SharedArrayBuffer grows while the mutator runs. */
function maxByteLengthOf(d) {
  if (ArrayBuffer.isView(d) && d.buffer instanceof SharedArrayBuffer && d.buffer.growable) return d.buffer.maxByteLength;
  return d.byteLength;
}

const sinks = [];
function makeSink(forSocket) {
  const p = s.socketpair(k.AF_UNIX, (chance(0.5) ? k.SOCK_STREAM : k.SOCK_SEQPACKET) | NB);
  sinks.push(...p);
  if (!forSocket) return p[0];
  const sock = new s.Socket(k.AF_UNIX, k.SOCK_STREAM | NB, 0, p[0]);
  sinks.splice(sinks.indexOf(p[0]), 1);
  sinks.push(sock);
  return sock;
}
function closeSinks() {
  for (const x of sinks.splice(0)) {
    try {
      if (typeof x === 'number') s.close(x);
      else x.close();
    } catch {
      /* closed by the call */
    }
  }
}

function trace(line) {
  fs.writeSync(2, `[${step}] ${line}\n`);
}

function settle(sp, call, atStep, p) {
  counts.async++;
  p.then(
    (r) => {
      countOk(call);
      if (sp.post) sp.post(r, call.args);
    },
    (e) => check(e, call, atStep),
  );
}

function runStep() {
  const idx = chooseSpec();
  const sp = specs[idx];
  Atomics.store(progress, 1, idx);
  stepRacy = false;
  stepTarget = -1;
  let args = buildArgs(sp);
  if (sp.pre) args = sp.pre(args);
  enforceFdSafety(sp, args);
  if (sp.sink) {
    if (args[0] === 'SINK') args[0] = makeSink(false);
    else if (args[0] === 'SINKSOCK') args[0] = makeSink(true);
    // small data only: a fresh socketpair takes it all without a reader
    const d = args[1];
    if (typeof d === 'string' && Buffer.byteLength(d) > 4096) args[1] = 'small';
    else if (isBytesish(d) && safely(() => maxByteLengthOf(d) > 4096, false)) args[1] = Buffer.alloc(16);
  }
  if (sp.kinds.includes(SEL_FILEOBJ)) {
    for (let i = 0; i < args.length; i++) if (args[i] === 'REGISTERED') args[i] = registeredFileObj(args[0]);
  }
  current = { name: sp.name, args, racy: stepRacy };
  if (step >= opts.traceFrom && opts.traceFrom >= 0) trace(`${describeCall(current)}${stepRacy ? ` [racy: pool ${stepTarget}]` : ''}`);
  // What a Socket method or constructor may take over or give back.
  const sockBefore = sp.socketMethod && isSocket(args[0]) ? safely(() => args[0].fileno(), -1) : -1;
  let result;
  let threw = false;
  if (stepRacy) kickMutator(stepTarget); // the call runs during a burst on its memory
  try {
    result = sp.fn(...args);
  } catch (e) {
    threw = true;
    check(e);
  }
  if (!threw) {
    if (result instanceof Promise) settle(sp, current, step, result);
    else {
      countOk(current);
      if (sp.post) sp.post(result, args);
      if (sp.watcher) watchers.push(result);
      if (sp.newSocket && result instanceof s.Socket) {
        const fd = result.fileno();
        if (raw.has(fd)) raw.delete(fd); // ownership moved to the Socket
        addSocket(result);
      }
    }
  }
  // Bookkeeping after the call, whatever it returned.
  if (sp.closes && typeof args[0] === 'number' && raw.has(args[0]) && !isOpen(args[0])) noteClosed(args[0]);
  if (sockBefore >= 0 && safely(() => args[0].closed, false)) {
    if (sp.socketMethod === 'detach' && result === sockBefore) own(sockBefore, 'detached');
    else noteClosed(sockBefore);
  }
  if (sp.reset) resetBlocking();
  if (sp.sink) closeSinks();
}

// ---- the run ----------------------------------------------------------------------------------------------

function openFds() {
  const out = new Map();
  for (const n of fs.readdirSync('/proc/self/fd')) {
    let target = '?';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${n}`);
    } catch {
      /* the directory's own fd, gone already */
    }
    out.set(Number(n), target);
  }
  return out;
}

const turn = () => new Promise((r) => setImmediate(r));

async function cleanup() {
  for (const c of controllers.splice(0)) c.abort(new FuzzerThrow('cleanup'));
  for (const w of watchers.splice(0)) {
    try {
      w.stop();
    } catch (e) {
      check(e, { name: 'cleanup: watcher.stop', args: [] });
    }
  }
  for (const x of sockets.splice(0)) {
    try {
      x.close();
    } catch (e) {
      check(e, { name: 'cleanup: socket.close', args: [x] });
    }
  }
  for (const sel of selectors.splice(0)) sel.close();
  for (const fd of [...raw.keys()]) closeRaw(fd);
  registries.length = 0;
  for (let i = 0; i < 5; i++) await turn();
  await new Promise((r) => setTimeout(r, 20));
}

async function main() {
  const watchdog = await startWatchdog();
  await startMutator();
  process.chdir(tmp); // relative Unix socket paths land in the temp dir
  // Warm up what Node opens lazily, then take the baseline of open fds.
  s.getaddrinfo('localhost');
  await turn();
  const baseline = openFds();
  const started = process.hrtime.bigint();
  replenish();
  for (step = 0; step < opts.calls; step++) {
    Atomics.store(progress, 0, step);
    if (step % 64 === 0) replenish();
    if (step % 1024 === 1023) refreshGrowable();
    runStep();
    if (step % 200 === 199) {
      await turn();
      // Abort some pending async waits now and then.
      if (controllers.length > 0 && chance(0.5)) controllers.splice(0, int(controllers.length) + 1).forEach((c) => c.abort());
    }
  }
  step = opts.calls;
  current = { name: '(cleanup)', args: [] };
  await cleanup();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.chdir(origCwd);
  const after = openFds();
  const leaked = [...after].filter(([fd, target]) => !baseline.has(fd) || baseline.get(fd) !== target);
  if (leaked.length > 0) {
    fail('fd leak', new Error(`fds open at the end that were not at the start: ${leaked.map(([fd, t]) => `${fd} -> ${t}`).join(', ')}`));
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  // After the leak check: the threads' own fds (their event loops') are in the baseline.
  await stopMutator();
  await watchdog.terminate();
  const rate = Math.round(opts.calls / (ms / 1000));
  process.stdout.write(
    `fuzz: seed=${opts.seed} calls=${opts.calls} ok=${counts.ok} typeerror=${counts.typeerror} rangeerror=${counts.rangeerror} ` +
      `errno=${counts.errno} (${errnoCodes.size} distinct codes) coded=${counts.coded} abort=${counts.abort} fuzzer=${counts.fuzzer} ` +
      `async=${counts.async} watch-callbacks=${watchFires} (${callbackErrors} errors) racy=${racyCounts.total} ` +
      `time=${Math.round(ms)}ms rate=${rate}/s\n`,
  );
  if (process.env.FUZZ_VERBOSE) {
    process.stdout.write(`fuzz: errno codes: ${[...errnoCodes].sort().join(' ')}\n`);
    const { total, ...racy } = racyCounts;
    process.stdout.write(
      `fuzz: racy calls (memory the mutator changed): ${total}: ${Object.entries(racy).map(([c, n]) => `${c}=${n}`).join(' ')}; ` +
        `mutator bursts=${Atomics.load(mutCtl, M.BURSTS)} kicks=${kickSeq} grows=${Atomics.load(mutCtl, M.GROWS)}\n`,
    );
    for (const [name, t] of [...perSpec].sort()) {
      delete t.calls;
      process.stdout.write(`  ${name}: ${Object.entries(t).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}=${n}`).join(' ')}\n`);
    }
  }
  finished = true;
  process.exit(0);
}

let finished = false;
process.on('exit', (code) => {
  if (!finished && code === 0) {
    fs.writeSync(2, `fuzz: FAILURE (the event loop emptied before the run finished) seed=${opts.seed} step=${step}\n`);
    process.exitCode = 1;
  }
});
main().catch((e) => fail('fuzzer internal error', e));
