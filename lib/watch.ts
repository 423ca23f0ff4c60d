/**
 * The event-loop integration: `watch(fd, events, callback)` runs `callback` on the event loop whenever the fd
 * is ready, through a uv_poll_t on the calling environment's own libuv loop (so it works in worker_threads
 * too). Nothing blocks: the loop's timers, I/O and other callbacks go on while the fd waits.
 */
import { native } from './binding';
import type { NativeWatcher } from './native';
import { checkInt, errnoErrorFromNumber, fdOfFileObj, invalidArgType } from './errors';
import type { FileObj } from './selectors/base';

/** Readable (or hung up, or in error): libuv's UV_READABLE, the same bit as EVENT_READ. */
export const WATCH_READ = 1;
/** Writable: UV_WRITABLE, the same bit as EVENT_WRITE. */
export const WATCH_WRITE = 2;
/** The peer closed its end (EPOLLRDHUP): UV_DISCONNECT. */
export const WATCH_DISCONNECT = 4;
/** Urgent data (EPOLLPRI): UV_PRIORITIZED. */
export const WATCH_PRIORITIZED = 8;

const ALL = WATCH_READ | WATCH_WRITE | WATCH_DISCONNECT | WATCH_PRIORITIZED;

/** The callback of {@link watch}: an error (`err.code`, as the kernel reported it), or the ready events. */
export type WatchCallback = (this: Watcher, err: Error | null, events: number) => void;

// Batched watchers (the async Socket methods' Readiness, not watch()): the addon queues their events during
// libuv's poll phase and calls `deliver` once, right after it, with all of them (native/watcher.cc): one
// crossing into JavaScript per loop turn instead of one per ready fd. Entry i: the watcher's callback is the
// i-th argument (passing it costs the addon nothing per entry, where setting an array element did), its events
// (or a negative libuv error) are batchOut[i]. BATCH is the addon's kBatch.
const BATCH = 256;
const batchOut = new Int32Array(BATCH);
let batchSet = false;

function deliver(...fns: Array<(value: number) => void>): void {
  let failed = false;
  let first: unknown;
  for (let i = 0; i < fns.length; i++) {
    try {
      fns[i](batchOut[i]);
    } catch (err) {
      // The others are still told; the first error is then uncaught, as a watcher callback's would be.
      if (!failed) first = err;
      failed = true;
    }
  }
  if (failed) throw first;
}

function setBatch(): void {
  if (batchSet) return;
  try {
    native.setWatchBatch(deliver, batchOut);
  } catch (err) {
    // Another copy of this module in the same thread set it (its deliver calls any watcher's callback alike).
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  batchSet = true;
}

// The constructor's mode for batchedWatcher: the callback goes to the addon as it is.
const RAW = Symbol('raw');

/** The error of a batched watcher's negative value (a libuv error: -errno). @internal */
export function pollError(value: number): Error {
  return errnoErrorFromNumber(-value, 'poll');
}

/** A running {@link watch}. */
export class Watcher {
  readonly fd: number;
  #events: number;
  #native: NativeWatcher | null;

  /** @internal Use {@link watch} (`raw`: {@link batchedWatcher}'s). */
  constructor(fd: number, events: number, callback: WatchCallback, raw?: typeof RAW) {
    // The addon only sees the wrapper below: a non-function callback would be an uncaught TypeError on the loop.
    if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    this.fd = fd;
    this.#events = events;
    if (raw === RAW) {
      setBatch();
      this.#native = new native.Watcher(fd, events, callback as unknown as (value: number) => void, true);
    } else {
      this.#native = new native.Watcher(fd, events, (err: Error | null, ready: number) => {
        if (err !== null) this.#events = 0; // libuv stopped polling: paused until the next update()
        callback.call(this, err, ready);
      });
    }
  }

  /**
   * The native watcher while it runs, else null. `close(fd)` stops the watcher of that fd natively (libuv must
   * never poll a closed number) without running JavaScript; this is where the object learns of it.
   */
  #live(): NativeWatcher | null {
    if (this.#native !== null && !this.#native.isActive()) {
      this.#native = null;
      this.#events = 0;
    }
    return this.#native;
  }

  /** The events watched now (0 while paused, and once stopped). */
  get events(): number {
    return this.#live() === null ? 0 : this.#events;
  }

  /**
   * Whether the watcher is polling now: false while paused (`update(0)`) and once stopped, as libuv's
   * `uv_is_active` says of the handle. A paused watcher can be resumed; a stopped one cannot (see `stopped`).
   */
  get active(): boolean {
    return this.#live() !== null && this.#events !== 0;
  }

  /** Whether the watcher is stopped for good: by `stop()`, or by sockfd's `close()` of its fd. */
  get stopped(): boolean {
    return this.#live() === null;
  }

  /**
   * Changes the events watched; 0 pauses the watcher (it then keeps nothing alive, and if dropped it is
   * garbage-collected and releases its fd) until the next update. If the kernel refuses, the watcher is left
   * paused and the error thrown.
   */
  update(events: number): this {
    checkInt(events, 'events', 0, ALL);
    const live = this.#live();
    if (live === null) throw Object.assign(new Error('The watcher is stopped (by stop(), or by close() of its fd)'), { code: 'ERR_WATCHER_STOPPED' });
    try {
      live.update(events);
    } catch (e) {
      this.#events = 0; // a refused start leaves the watcher paused
      throw e;
    }
    this.#events = events;
    return this;
  }

  /**
   * Stops for good and releases the libuv handle; idempotent. Stop a watcher before closing its fd: the kernel
   * would otherwise keep reporting on a number that may already belong to another file.
   */
  stop(): void {
    if (this.#native === null) return;
    this.#native.stop();
    this.#native = null;
    this.#events = 0;
  }

  /** Keeps the process alive while the watcher waits (the default), like a server's handle. */
  ref(): this {
    this.#native?.ref();
    return this;
  }

  /** Lets the process exit even though the watcher waits. */
  unref(): this {
    this.#native?.unref();
    return this;
  }

  /** Whether the watcher keeps the process alive. */
  hasRef(): boolean {
    return this.#native?.hasRef() ?? false;
  }
}

/**
 * @internal A batched watcher whose callback the addon calls itself, with no wrapper: `onValue(events)`, or
 * `onValue(-errno)` (see {@link pollError}) when polling failed, after which the watcher is paused until its
 * owner calls update(), or `onValue(0)`, at once from inside sockfd's close(fd) of the watched fd, which
 * stopped the watcher for good. Its events reach JavaScript with the other ready watchers of the same loop turn, in
 * one call (native/watcher.cc), in that call's async context rather than one of its own. For the async
 * methods' Readiness: a ready fd costs one function call between the addon and the Readiness. Not exported
 * by the package.
 */
export function batchedWatcher(fd: number, events: number, onValue: (value: number) => void): Watcher {
  return new Watcher(fd, events, onValue as unknown as WatchCallback, RAW);
}

/**
 * Calls `callback(null, readyEvents)` on the event loop each time `fd` is ready for `events` (a mask of
 * `WATCH_READ`, `WATCH_WRITE`, `WATCH_DISCONNECT`, `WATCH_PRIORITIZED`), or `callback(err, 0)` when polling
 * fails. Level-triggered: it fires again on the next loop turn while the fd stays ready, so read until
 * would-block or pause with `update(0)`.
 *
 * libuv makes the fd non-blocking. One watcher per fd and thread: a second is an `EEXIST` error (so is an fd
 * Node itself is already polling); a regular file is `EPERM`. A watcher is stopped and released when its
 * worker or the process exits.
 *
 * @example
 * const w = watch(fd, WATCH_READ, (err, events) => {
 *   if (err) throw err;
 *   const data = recv(fd, 4096);
 *   if (data?.length === 0) { w.stop(); close(fd); }
 * });
 */
export function watch(fd: FileObj, events: number, callback: WatchCallback): Watcher {
  const n = fdOfFileObj(fd, 'fd');
  checkInt(events, 'events', 0, ALL);
  return new Watcher(n, events, callback); // which checks the callback
}
