/**
 * Output of the demo: log lines as the tutorial prints them, and `--trace`, which prints each system call
 * the server makes (fd, call, result) so that a learner can see what select, poll and epoll really do.
 *
 * Lines go straight to the file descriptor with fs.writeSync: a blocking server, or a worker thread, must
 * not depend on the event loop to get its words out.
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import { threadId } from 'node:worker_threads';
import { POLLOUT } from '../constants';
import { poll } from '../raw';

/**
 * Writes all of `text` to `fd`, as a blocking write would. The fd may be non-blocking: once a worker thread
 * starts (the threads model), Node pipes its output through the main thread's process.stdout and stderr, and
 * that makes fds 1 and 2 non-blocking when they are pipes. A pipe nobody reads for a while (a busy terminal
 * pager, a loaded parent process) then fills, and the write fails with EAGAIN: wait until it takes more.
 */
function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text);
  let done = 0;
  while (done < data.length) {
    try {
      done += fs.writeSync(fd, data, done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      poll([{ fd, events: POLLOUT }], -1);
    }
  }
}

export function log(line: string): void {
  writeAll(1, `${line}\n`);
}

let tracing = false;
export function setTrace(on: boolean): void {
  tracing = on;
}
/** What the trace lines of this process start with: `[pid N] ` in a child process of `--io prefork`. */
let processTag = '';
export function setTraceTag(tag: string): void {
  processTag = tag;
}
export function isTracing(): boolean {
  return tracing;
}

function show(value: unknown): string {
  if (value === null) return 'null (would block)';
  if (value === undefined) return 'ok';
  if (Buffer.isBuffer(value)) return value.length === 0 ? "b'' (end of stream)" : `${value.length} bytes`;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (typeof value === 'object') {
    const fileno = (value as { fileno?: () => number }).fileno;
    if (typeof fileno === 'function') return `fd ${fileno.call(value)}`;
    const v = value as { address?: string; port?: number; path?: string };
    if (v.port !== undefined || v.path !== undefined) return v.path ?? `${v.address}:${v.port}`;
  }
  return String(value);
}

/** Prints one trace line as it is (`sqe recv fd 7 user 12`), with the thread prefix of a worker. */
export function traceLine(text: string): void {
  if (!tracing) return;
  flushIdle();
  writeAll(2, `${who()}${text}\n`);
}

/**
 * What makes a traced line idle: a call that found nothing to do. `true` for a would-block result; a noun for the
 * line that ends one round of a model's idle loop (`'wait'`: a selector's wait that timed out; `'pass'`: a
 * nonblocking pass that found nothing), which the folded summary counts.
 */
export type Idle = boolean | 'wait' | 'pass';

// Consecutive idle lines fold: each distinct one is printed the first time in a run of idle lines, the repeats are
// counted, and the next line that is not idle is preceded by `... 12 idle waits, 3.0 s`. Per thread (each worker
// thread has its own copy of this module), as the lines are.
let run: { seen: Set<string>; start: number; last: number; units: number; noun: string; folded: number } | null = null;

function who(): string {
  return threadId === 0 ? processTag : `${processTag}[thread ${threadId}] `;
}

/** Prints the summary of the idle lines folded since the last printed one, if any, and ends the run. */
export function flushIdle(): void {
  const r = run;
  run = null;
  if (r === null || r.folded === 0) return;
  const what = r.units > 0
    ? `${r.units} idle ${r.units === 1 ? r.noun : r.noun === 'pass' ? 'passes' : `${r.noun}s`}, ${((r.last - r.start) / 1000).toFixed(1)} s`
    : `${r.folded} more would-block call${r.folded === 1 ? '' : 's'}`;
  writeAll(2, `${who()}... ${what}\n`);
}

/**
 * Prints one traced call: `[thread N] fd 7  recv(1024) -> 5 bytes` (`[pid N] ` first in a prefork child). `fd` labels the line: an fd, a word (the
 * selector's kernel call), or null for none. An `idle` line (see {@link Idle}) is folded when it repeats.
 */
export function trace(fd: number | string | null, call: string, result: unknown, idle: Idle = false): void {
  if (!tracing) return;
  const line = `${fd === null ? '' : typeof fd === 'number' ? `fd ${fd}  ` : `${fd}  `}${call} -> ${show(result)}`;
  if (idle === false) {
    flushIdle();
  } else {
    const now = Date.now();
    if (run === null) run = { seen: new Set(), start: now, last: now, units: 0, noun: 'wait', folded: 0 };
    if (run.seen.has(line)) {
      run.folded++;
      run.last = now;
      if (idle !== true) {
        run.units++;
        run.noun = idle;
      }
      return;
    }
    run.seen.add(line);
  }
  writeAll(2, `${who()}${line}\n`);
}
