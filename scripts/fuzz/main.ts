#!/usr/bin/env node
/*
 * The fuzzer: calls every export of the package (the raw calls, Socket, the selectors, watch, epoll) and the
 * native addon's functions directly, with random and adversarial arguments, from a seeded PRNG.
 *
 *   npm run build:fuzz
 *   node dist-fuzz/scripts/fuzz/main.js --seed N --calls M [--time-limit-ms T] [--trace-from STEP] [--stall-ms S]
 *                                       [--no-mutator]
 *
 * Every call must either work or throw a TypeError, a RangeError, an errno-coded system error, an AbortError,
 * one of the package's coded errors, or the fuzzer's own FuzzerThrow (from its throwing getters and proxies).
 * Anything else, an unhandled rejection, a crash, a hang (the watchdog thread kills the process and names the
 * step), or an fd left open at the end, is a failure: the process prints seed, step, call and arguments and
 * exits 1. `--trace-from STEP` prints every call from that step on, to reproduce one. FUZZ_VERBOSE=1 adds the
 * outcomes per call.
 *
 * The modules: prng (the seeded PRNG), pkg (the package under test, compiled dist/, typed by lib/), report (the
 * classification of errors, the counts, the failure report), watchdog and mutator (the two threads), pool (the
 * fds, Sockets, selectors and watchers the fuzzer owns, and the safety rules), gen and args (the generators),
 * specs/ (one spec per call, with its hooks), coverage (every export has a spec), runner (one step), and this
 * file (the options and the run).
 *
 * Safety rules, so that the fuzzer never blocks or harms anything it does not own (pool.ts, specs/hooks.ts):
 * - every fd in the pool is non-blocking; after any call that may have changed that, all are reset;
 * - waiting calls only get a timeout of 0 or 1 ms (or an invalid one, rejected before any wait), and never lose
 *   it when the runner drops trailing arguments;
 * - fd arguments are pool fds, fds verified closed, numbers far beyond RLIMIT_NOFILE, or non-fds; only
 *   read-only calls (getsockname, getsockopt, poll, select...) ever see stdin/stdout/stderr; close() only gets
 *   fds the fuzzer owns outright (not those of its Socket objects or selectors);
 * - sendAll only on a fresh socketpair with small data; no SO_LINGER with a time, no O_ASYNC, no F_SETOWN to
 *   other processes; socket() only in the AF_UNIX/AF_INET/AF_INET6 families (or invalid ones), never SOCK_RAW;
 * - addresses are loopback, the fuzzer's temp dir (also the working directory), or invalid; host names given
 *   to the resolver are 'localhost', or strings it refuses before any lookup.
 *
 * The mutator (mutator.ts) is a second thread that rewrites SharedArrayBuffer arguments while the native code
 * reads them; resizable (not shared) ArrayBuffers, resized by the main thread between calls, give views that are
 * length-tracking, out of bounds or detached to the same calls.
 *
 * Determinism: everything the main thread does follows the seed (callbacks and the mutator use PRNGs of their
 * own). The mutator's timing does not: what a call given shared memory sees, and so its outcome, varies from
 * run to run. Such calls are counted apart (racy= in the summary, not in ok/typeerror/...); what they leave
 * behind (how many bytes a recv into a growing view took off a socket) can still shift later outcomes a little.
 * `--no-mutator` leaves the shared memory still: then a seed gives the same counts run after run (test/fuzz.test.ts
 * checks that).
 * A crash in such a call kills the process without a report: rerun with --trace-from to see the last call.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeArgs } from './args';
import type { Ctx } from './context';
import { uncovered } from './coverage';
import { type Marks, Values } from './gen';
import { Mutator } from './mutator';
import { CONSTANT_NAMES, k, native, pkgRoot, s } from './pkg';
import { Pool } from './pool';
import { Rng } from './prng';
import { Report } from './report';
import { Runner } from './runner';
import { allSpecs } from './specs';
import { Watchdog } from './watchdog';

interface Options {
  seed: number;
  calls: number;
  timeLimitMs: number;
  traceFrom: number;
  stallMs: number;
  /** Start the mutator thread (the default); `--no-mutator` leaves shared memory still, for a reproducible run. */
  mutator: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { seed: 1, calls: 100000, timeLimitMs: 120000, traceFrom: -1, stallMs: 15000, mutator: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`fuzz: ${a} needs a number`);
      return v;
    };
    if (a === '--seed') o.seed = next() >>> 0;
    else if (a === '--calls') o.calls = Math.max(0, Math.floor(next()));
    else if (a === '--time-limit-ms') o.timeLimitMs = next();
    else if (a === '--trace-from') o.traceFrom = next();
    else if (a === '--stall-ms') o.stallMs = next();
    else if (a === '--no-mutator') o.mutator = false;
    else throw new Error(`fuzz: unknown option ${a}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
/** How the reports say to run the fuzzer again: this file, from the package root. */
const command = `node ${path.relative(pkgRoot, path.join(__dirname, 'main.js'))}`;
const report = new Report(opts.seed, command);
process.on('uncaughtException', (e) => report.fail('uncaught exception', e));
process.on('unhandledRejection', (e) => report.fail('unhandled rejection', e));

const rng = new Rng(opts.seed);
const cbRng = new Rng(opts.seed ^ 0x9e3779b9); // for callbacks, whose timing is not deterministic
const mutator = new Mutator(k.FD_SETSIZE, (e) => report.fail('mutator thread error', e));
const pool = new Pool(rng, report, mutator);
report.tmpDir = pool.tmp;
const marks: Marks = { racy: false, target: -1 };
const v = new Values(rng, pool, mutator, marks);
const base = { rng, cbRng, report, mutator, pool, v, marks };
const ctx: Ctx = { ...base, a: makeArgs(base) };
const specs = allSpecs(ctx);

// Every export must be reached: each function or class of the package, each function of the addon.
const missing = uncovered(specs, s, native, CONSTANT_NAMES);
if (missing.length > 0) {
  fs.rmSync(pool.tmp, { recursive: true, force: true });
  fs.writeSync(2, `fuzz: FAILURE (coverage): no spec calls ${missing.join(', ')}: add a spec, or list it in scripts/fuzz/coverage.ts with the reason\n`);
  process.exit(1);
}

const watchdog = new Watchdog();
const runner = new Runner(ctx, specs, watchdog, opts.traceFrom);
const origCwd = process.cwd();
let finished = false;

function openFds(): Map<number, string> {
  const out = new Map<number, string>();
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

const turn = () => new Promise<void>((r) => setImmediate(r));

async function main(): Promise<void> {
  await watchdog.start({ names: specs.map((sp) => sp.name), seed: opts.seed, timeLimitMs: opts.timeLimitMs, stallMs: opts.stallMs, command, tmp: pool.tmp });
  if (opts.mutator) await mutator.start((opts.seed ^ 0x85ebca6b) >>> 0);
  process.chdir(pool.tmp); // relative Unix socket paths land in the temp dir
  // Warm up what Node opens lazily, then take the baseline of open fds.
  s.getaddrinfo('localhost');
  await turn();
  const baseline = openFds();
  const started = process.hrtime.bigint();
  pool.replenish();
  for (let step = 0; step < opts.calls; step++) {
    report.step = step;
    watchdog.step(step);
    if (step % 64 === 0) pool.replenish();
    if (step % 1024 === 1023) mutator.refreshGrowable();
    runner.runStep(step);
    if (step % 200 === 199) {
      await turn();
      // Abort some pending async waits now and then.
      if (pool.controllers.length > 0 && rng.chance(0.5)) pool.controllers.splice(0, rng.int(pool.controllers.length) + 1).forEach((ac) => ac.abort());
    }
  }
  report.step = opts.calls;
  report.current = { name: '(cleanup)', args: [] };
  pool.cleanup();
  for (let i = 0; i < 5; i++) await turn();
  await new Promise((r) => setTimeout(r, 20));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.chdir(origCwd);
  const after = openFds();
  // '?': gone before its readlink (the directory's own fd, whose number shifts if a lower one was freed).
  const leaked = [...after].filter(([fd, target]) => target !== '?' && (!baseline.has(fd) || baseline.get(fd) !== target));
  if (leaked.length > 0) {
    report.fail('fd leak', new Error(`fds open at the end that were not at the start: ${leaked.map(([fd, t]) => `${fd} -> ${t}`).join(', ')}`));
  }
  fs.rmSync(pool.tmp, { recursive: true, force: true });
  // After the leak check: the threads' own fds (their event loops') are in the baseline.
  await mutator.stop();
  await watchdog.stop();
  process.stdout.write(report.summary(opts.calls, ms));
  if (process.env.FUZZ_VERBOSE) process.stdout.write(report.details(mutator.stats()));
  finished = true;
  process.exit(0);
}

process.on('exit', (code) => {
  if (!finished && code === 0) {
    fs.writeSync(2, `fuzz: FAILURE (the event loop emptied before the run finished) seed=${opts.seed} step=${report.step}\n`);
    process.exitCode = 1;
  }
});
main().catch((e: unknown) => report.fail('fuzzer internal error', e));
