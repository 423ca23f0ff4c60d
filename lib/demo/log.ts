/**
 * Output of the demo: log lines as the tutorial prints them, and `--trace`, which prints each system call
 * the server makes (fd, call, result) so that a learner can see what select, poll and epoll really do.
 *
 * Lines go straight to the file descriptor with fs.writeSync: a blocking server, or a worker thread, must
 * not depend on the event loop to get its words out.
 */
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

/** Prints one traced call: `[thread N] fd 7  recv(1024) -> 5 bytes` (`[pid N] ` first in a prefork child). */
export function trace(fd: number | string, call: string, result: unknown): void {
  if (!tracing) return;
  const who = threadId === 0 ? processTag : `${processTag}[thread ${threadId}] `;
  writeAll(2, `${who}${typeof fd === 'number' ? `fd ${fd}` : fd}  ${call} -> ${show(result)}\n`);
}
