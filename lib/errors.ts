/**
 * Errors shaped as Node's own, and the argument checks every export makes before any system call.
 *
 * - A failed system call: an `Error` with `code` ('ECONNREFUSED'), `errno` (negative, so that
 *   `util.getSystemErrorName(err.errno) === err.code`), `syscall`, and `address`/`port` where one is involved.
 *   The addon throws these itself; {@link errnoError} makes the same shape on the TypeScript side.
 * - A value of the wrong type: `TypeError` with `code: 'ERR_INVALID_ARG_TYPE'`.
 * - A value out of range: `RangeError` with `code: 'ERR_OUT_OF_RANGE'`.
 */
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { getSystemErrorName, inspect } from 'node:util';

/** The error a failed system call throws (Node's `ErrnoException`). */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/** An error shaped like the ones the addon throws, for failures detected in TypeScript (a closed Socket). */
export function errnoError(code: keyof typeof osConstants.errno, syscall: string): SystemError {
  const err = new Error(`${syscall} ${code}`) as SystemError;
  err.errno = -osConstants.errno[code];
  err.code = code;
  err.syscall = syscall;
  Error.captureStackTrace(err, errnoError);
  return err;
}

// Names for the errnos libuv has none for (EINPROGRESS, ENETRESET...): getSystemErrorName says "Unknown system
// error -115" there; os.constants.errno knows the C name. The addon does the same.
const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** `EAGAIN` for 11: libuv's name (Node's), else the C name. */
export function errnoName(errno: number): string {
  const code = getSystemErrorName(-errno);
  return code.startsWith('Unknown') ? (errnoNames.get(errno) ?? code) : code;
}

/** The same shape from a positive errno number (from `SO_ERROR`, say). */
export function errnoErrorFromNumber(errno: number, syscall: string, address?: string, port?: number): SystemError {
  const code = errnoName(errno);
  let message = `${syscall} ${code}`;
  if (address !== undefined) message += port !== undefined ? ` ${address}:${port}` : ` ${address}`;
  const err = new Error(message) as SystemError;
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  Error.captureStackTrace(err, errnoErrorFromNumber);
  return err;
}

/** What a closed selector throws on any use but `close()`. */
export function selectorClosed(): Error {
  const err = new Error('The selector is closed');
  (err as NodeJS.ErrnoException).code = 'ERR_SELECTOR_CLOSED';
  Error.captureStackTrace(err, selectorClosed);
  return err;
}

/** The error an `AbortSignal` ends an operation with, as Node's own APIs make it. */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  (err as NodeJS.ErrnoException).code = 'ABORT_ERR';
  return err;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${(value as { name?: string }).name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor;
    return ctor && typeof ctor.name === 'string' && ctor.name ? `an instance of ${ctor.name}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

/** `TypeError` with Node's `ERR_INVALID_ARG_TYPE` code and message. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_ARG_TYPE';
  Error.captureStackTrace(err, invalidArgType);
  return err;
}

/** `TypeError` with Node's `ERR_INVALID_ARG_VALUE` code, for a value of the right type that cannot be used. */
export function invalidArgValue(name: string, reason: string, actual: unknown): TypeError {
  const err = new TypeError(`The argument '${name}' ${reason}. Received ${inspect(actual, { depth: 0 })}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_ARG_VALUE';
  Error.captureStackTrace(err, invalidArgValue);
  return err;
}

/** `RangeError` with Node's `ERR_OUT_OF_RANGE` code and message. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${inspect(actual)}`);
  (err as NodeJS.ErrnoException).code = 'ERR_OUT_OF_RANGE';
  Error.captureStackTrace(err, outOfRange);
  return err;
}

/** An integer in [min, max]: `TypeError` if not a number, `RangeError` if not an integer in range. */
export function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} and <= ${max}`, value);
  return value === 0 ? 0 : value; // -0 is 0
}

/** A C `int` (flags, levels, option names). */
export function checkInt32(value: unknown, name: string): number {
  return checkInt(value, name, -0x80000000, 0x7fffffff);
}

/** A file descriptor: an integer >= 0 (and < 2^31). */
export function checkFd(value: unknown, name = 'fd'): number {
  return checkInt(value, name, 0, 0x7fffffff);
}

/**
 * The fd of a file object: an fd, or an object with a `fileno()` method (a Socket). The one routine every layer
 * that takes file objects uses (select(), the selectors, watch()): `name` names the argument in the errors, and
 * the fileno() result is checked as `${name}.fileno()`. `closed`, when given, is asked for the fd of an object
 * whose `fileno()` says -1 (a closed Socket: a selector finds the fd it was registered under); if it answers
 * `undefined`, the -1 is refused as any other bad fd is.
 */
export function fdOfFileObj(value: unknown, name: string, closed?: (fileobj: object) => number | undefined): number {
  if (typeof value === 'number') return checkFd(value, name);
  if (typeof value === 'object' && value !== null && typeof (value as { fileno?: unknown }).fileno === 'function') {
    const fd = (value as { fileno(): unknown }).fileno();
    if (fd === -1 && closed !== undefined) {
      const registered = closed(value);
      if (registered !== undefined) return registered;
    }
    return checkFd(fd, `${name}.fileno()`);
  }
  throw invalidArgType(name, 'of type number or an object with a fileno() method', value);
}

/**
 * Whether checkFd would take `value` as it is: the fast path of the list checks (select, poll), which build an
 * element's argument name ("fds[7].fd") only for the error of one that is not.
 */
export function isFdNumber(value: unknown): value is number {
  return typeof value === 'number' && (value | 0) === value && value >= 0;
}

/** An optional C `int` with a default. */
export function optInt32(value: unknown, name: string, dflt: number): number {
  return value === undefined ? dflt : checkInt32(value, name);
}

/** The longest wait a timeout may ask for: 2^31-1 ms, about 24.8 days (the C `int` poll and epoll take). */
export const MAX_TIMEOUT_MS = 0x7fffffff;

/**
 * A timeout in milliseconds, as the addon takes it: -1 waits forever (for `undefined`, `null` or any negative
 * number), 0 returns at once, fractions round up, values above 2^31-1 are a `RangeError`.
 */
export function checkTimeout(value: unknown, name = 'timeoutMs'): number {
  if (value === undefined || value === null) return -1;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number, null or undefined', value);
  if (Number.isNaN(value)) throw outOfRange(name, 'a number of milliseconds (not NaN)', value);
  if (value < 0) return -1;
  if (value > MAX_TIMEOUT_MS) throw outOfRange(name, `<= ${MAX_TIMEOUT_MS} ms (or negative, null or undefined to wait forever)`, value);
  return Math.ceil(value) || 0;
}

/** Bytes the addon can read from or write into. */
export type BytesLike = ArrayBufferView | ArrayBuffer;

export function isBytes(value: unknown): value is BytesLike {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** What `send` and friends take: bytes, or a string sent as UTF-8. */
export type Data = ArrayBufferView | ArrayBuffer | string;

export function checkData(value: unknown, name = 'data'): Data {
  if (typeof value === 'string' || isBytes(value)) return value;
  throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, DataView or ArrayBuffer', value);
}

/** The byte length of a view or buffer, 0 when detached. */
export function byteLengthOf(value: BytesLike): number {
  try {
    // A Uint8Array's (a Buffer's) byte length is its length, which TurboFan reads inline wherever this function
    // is inlined. A view's byteLength getter it leaves to the generic inline cache in a function inlined into
    // another: about 90 instructions more per sendAllAsync and recvInto (callgrind).
    return value instanceof Uint8Array ? value.length : value.byteLength;
  } catch {
    return 0; // a DataView over a detached buffer throws where a TypedArray says 0
  }
}

/**
 * The bytes of `data` as one fixed-length Uint8Array (a string as UTF-8). A view of a detached buffer has no
 * bytes, as everywhere in Node (a DataView over one would throw V8's own TypeError where a TypedArray says 0).
 * @internal
 */
export function asBytes(data: Data): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return new Uint8Array(data, 0, data.byteLength);
  if (data instanceof Uint8Array) {
    // A Buffer (the common case) over memory that can neither shrink nor grow is fixed-length already: no view
    // to make per send. (A resizable or growable buffer's view may track its length: it gets its own view.)
    const memory = data.buffer as { resizable?: boolean; growable?: boolean };
    if (memory.resizable !== true && memory.growable !== true) return data;
  }
  if (byteLengthOf(data) === 0) return new Uint8Array(0); // empty, or a view of a detached buffer
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The error of a recvIntoAsync whose window is no longer in its buffer when it resumes after a wait (the buffer
 * was resized smaller, transferred or detached): no read is made, where a read into nothing would say "end of
 * stream". @internal
 */
export function windowChanged(syscall: string, offset: number, length: number | undefined): Error {
  const what = length === undefined ? `it has no bytes left to receive into at offset ${offset}` : `its window of ${length} bytes at offset ${offset} is gone`;
  const err = new Error(`${syscall}: the buffer was resized or detached while the call waited; ${what}`) as Error & { code: string };
  err.code = 'ERR_INVALID_STATE';
  Error.captureStackTrace(err, windowChanged);
  return err;
}

/**
 * The error of a send-all whose bytes changed under it: the buffer was resized smaller, transferred or detached
 * while the call waited, so the rest of what it was asked to send no longer exists. `bytesSent` says how much went.
 */
export function bufferChanged(syscall: string, bytesSent: number, total: number): Error {
  const err = new Error(
    `${syscall}: the buffer was resized or detached while the call waited; ${bytesSent} of ${total} bytes were sent`,
  ) as Error & { code: string; bytesSent: number };
  err.code = 'ERR_INVALID_STATE';
  err.bytesSent = bytesSent;
  Error.captureStackTrace(err, bufferChanged);
  return err;
}
