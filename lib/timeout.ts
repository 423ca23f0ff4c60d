/**
 * Python's socket timeouts (`settimeout`), the part that is not the Socket itself: the timeout value and its
 * checks, the process-wide default (`setdefaulttimeout`), the deadline clock, the one wait every timed call
 * makes (a `poll(2)` on the one fd, in the addon's 50 ms slices, so a terminated worker is never held up), and
 * the `ETIMEDOUT` error it ends with. `Socket` composes these; a timed method is "try the non-blocking call;
 * while it would block, wait for readiness until the deadline; then `ETIMEDOUT`".
 * @internal
 */
import { constants as osConstants } from 'node:os';
import { native } from './binding';
import { errnoErrorFromNumber, invalidArgType, MAX_TIMEOUT_MS, outOfRange, type SystemError } from './errors';

const ETIMEDOUT = osConstants.errno.ETIMEDOUT;

/**
 * A socket timeout as `settimeout`, `setdefaulttimeout` and `createConnection` take it: `null` (or `undefined`)
 * for blocking, else milliseconds >= 0, fractions rounded up (so 0.5 is 1 ms, never 0, which would mean
 * non-blocking). Negative is a `RangeError` (Python's `ValueError`), unlike the waits, where it means forever.
 */
export function checkSocketTimeout(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number, null or undefined', value);
  if (Number.isNaN(value) || value < 0 || value > MAX_TIMEOUT_MS) {
    throw outOfRange(name, `>= 0 and <= ${MAX_TIMEOUT_MS} ms (or null for blocking)`, value);
  }
  return Math.ceil(value) || 0;
}

// Per thread, as each worker_thread loads its own copy of the module.
let defaultTimeout: number | null = null;

/**
 * Sets the timeout that sockets created afterwards start with (accepted ones included): `null` (the initial
 * value) for blocking, `0` for non-blocking, or milliseconds. Python's `socket.setdefaulttimeout`. It applies to
 * the calling thread's sockets (each worker thread has its own default).
 * @example setdefaulttimeout(5000); // every new Socket gives up a call after 5 s with ETIMEDOUT
 */
export function setdefaulttimeout(timeoutMs: number | null | undefined): void {
  defaultTimeout = checkSocketTimeout(timeoutMs, 'timeoutMs');
}

/** The timeout new sockets start with (see {@link setdefaulttimeout}); initially `null`. */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

/** When a wait of `timeoutMs` starting now ends, on the monotonic clock. */
export function deadlineAfter(timeoutMs: number): number {
  return performance.now() + timeoutMs;
}

const pollOne = new Int32Array(3);

/**
 * The wait of every timed call: one `poll(2)` on `fd` for `events` (`POLLIN`, `POLLOUT`) until `deadline`.
 * True when the fd is ready, or has an error or hang-up to report (which the next call returns); false when
 * the deadline passed first. The addon's poll waits in 50 ms slices and retries EINTR with the time left.
 */
export function waitReady(fd: number, events: number, deadline: number): boolean {
  const left = Math.ceil(deadline - performance.now());
  if (left <= 0) return false;
  pollOne[0] = fd;
  pollOne[1] = events;
  pollOne[2] = 0;
  return native.poll(pollOne, 1, left) > 0;
}

/**
 * The error of a call whose timeout ran out, shaped as Node's: `recv ETIMEDOUT`, or with the address where
 * one is involved (`connect ETIMEDOUT 127.0.0.1:9999`); `code: 'ETIMEDOUT'`, `errno: -ETIMEDOUT`, `syscall`
 * the socket call's own name (never `poll`).
 */
export function timeoutError(syscall: string, address?: string, port?: number): SystemError {
  const err = errnoErrorFromNumber(ETIMEDOUT, syscall, address, port);
  Error.captureStackTrace(err, timeoutError);
  return err;
}
