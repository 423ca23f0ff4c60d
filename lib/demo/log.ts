/**
 * Output of the demo: log lines as the tutorial prints them, and `--trace`, which prints each system call
 * the server makes (fd, call, result) so that a learner can see what select, poll and epoll really do.
 *
 * Lines go straight to the file descriptor with fs.writeSync: a blocking server, or a worker thread, must
 * not depend on the event loop to get its words out.
 */
import * as fs from 'node:fs';
import { threadId } from 'node:worker_threads';

export function log(line: string): void {
  fs.writeSync(1, `${line}\n`);
}

let tracing = false;
export function setTrace(on: boolean): void {
  tracing = on;
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

/** Prints one traced call: `[thread] fd 7  recv(1024) -> 5 bytes`. */
export function trace(fd: number | string, call: string, result: unknown): void {
  if (!tracing) return;
  const who = threadId === 0 ? '' : `[thread ${threadId}] `;
  fs.writeSync(2, `${who}${typeof fd === 'number' ? `fd ${fd}` : fd}  ${call} -> ${show(result)}\n`);
}
