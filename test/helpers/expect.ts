/** Assertions on what a call throws: system errors (Node's shape), and TypeError / RangeError with their codes. */
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { expect } from 'vitest';

/** What the raw calls throw: an Error, with the system-error fields where it is one. */
export type Thrown = Error & NodeJS.ErrnoException & { address?: string; port?: number };

/** An errno name Node knows ('EBADF', 'ECONNREFUSED', ...). */
export type ErrnoName = keyof typeof osConstants.errno;

/** What `fn` throws; fails if it returns. Checks the value is an Error with a string message. */
export function thrown(fn: () => unknown): Thrown {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect(typeof (e as Error).message).toBe('string');
    return e as Thrown;
  }
  throw new Error('expected an exception, got a return');
}

/**
 * `fn` throws a Node-style system error: `code`, a negative `errno` that names the same code
 * (`getSystemErrorName(errno) === code`), `syscall`, and a message that starts with "<syscall> <code>".
 */
export function expectSysError(fn: () => unknown, code: ErrnoName, syscall: string): Thrown {
  const e = thrown(fn);
  expect(e.code, e.message).toBe(code);
  expect(e.errno).toBe(-osConstants.errno[code]);
  expect(getSystemErrorName(e.errno!)).toBe(code);
  expect(e.syscall).toBe(syscall);
  expect(e.message.startsWith(`${syscall} ${code}`), `message: ${e.message}`).toBe(true);
  return e;
}

/** `fn` throws an instance of `type` with this `code` ('ERR_INVALID_ARG_TYPE', 'ERR_SELECTOR_CLOSED', ...). */
export function expectCode(fn: () => unknown, type: typeof TypeError | typeof RangeError | typeof Error, code: string): Thrown {
  const e = thrown(fn);
  expect(e, e.message).toBeInstanceOf(type);
  expect(e.code, e.message).toBe(code);
  return e;
}

/** `fn` throws a TypeError with `code` (ERR_INVALID_ARG_TYPE unless told). */
export function expectTypeError(fn: () => unknown, code = 'ERR_INVALID_ARG_TYPE'): Thrown {
  return expectCode(fn, TypeError, code);
}

/** `fn` throws a RangeError with code ERR_OUT_OF_RANGE. */
export function expectRangeError(fn: () => unknown): Thrown {
  return expectCode(fn, RangeError, 'ERR_OUT_OF_RANGE');
}
