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
// libuv's poll phase and calls `deliver(n)` once, right after it, with all of them (native/watcher.cc): one
// crossing into JavaScript per loop turn instead of one per ready fd. Entry i: its value (events, or a negative
// libuv error) is batchOut[i], its watcher's id batchOut[BATCH + i]. The id indexes the callbacks in the batch
// state, so that the addon reads nothing but its own handle per entry (passing each callback cost it the watcher
// object, a reference and V8's handle: three cache misses per message on a server with many connections).
// BATCH is the addon's kBatch.
const BATCH = 256;
const batchOut = new Int32Array(2 * BATCH);

/**
 * The batched watchers' callbacks by id, one table per thread: the addon keeps the first copy's (setWatchBatch),
 * and another copy of this module in the same thread uses that one (getWatchBatch), since only the first copy's
 * `deliver` is called. A started watcher's entry is its callback; a paused one's is undefined (the table then
 * holds nothing of it, and a paused watcher nobody references can be collected, as an unbatched one can; its id
 * is then never reused, an entry of the table lost). An id is free again once its watcher stopped, but not while
 * a delivery runs: an id given to a new watcher in the middle of a delivery would get the later entries of the
 * stopped watcher it had.
 */
interface BatchState {
  // Entry 2 * id: the callback (undefined: paused or free); 2 * id + 1: its `this`. Side by side: one cache line.
  readonly targets: unknown[];
  // The armed reads' slots by id (see armSlots), replaced by a longer one as the ids grow.
  arm: Int32Array;
  readonly free: number[];
  readonly freedInDelivery: number[];
  delivering: boolean;
}
let batch: BatchState | null = null;

function deliver(n: number): void {
  const st = batch!; // set before the addon could call this
  const targets = st.targets;
  let failed = false;
  let first: unknown;
  st.delivering = true;
  try {
    for (let i = 0; i < n; i++) {
      const at = 2 * batchOut[BATCH + i];
      const fn = targets[at] as BatchCallback | undefined;
      if (fn === undefined) continue; // paused or stopped since
      try {
        fn.call(targets[at + 1], batchOut[i]);
      } catch (err) {
        // The others are still told; the first error is then uncaught, as a watcher callback's would be.
        if (!failed) first = err;
        failed = true;
      }
    }
  } finally {
    st.delivering = false;
    const freed = st.freedInDelivery;
    while (freed.length > 0) st.free.push(freed.pop()!);
  }
  if (failed) throw first;
}

function batchState(): BatchState {
  if (batch !== null) return batch;
  const mine: BatchState = { targets: [], arm: new Int32Array(2 * 1024), free: [], freedInDelivery: [], delivering: false };
  try {
    native.setWatchBatch(deliver, batchOut, mine);
    native.setWatchArm(mine.arm);
    batch = mine;
  } catch (err) {
    // Another copy of this module in the same thread set it: its table, which its deliver reads.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    batch = native.getWatchBatch() as BatchState;
  }
  return batch;
}

/** A batched watcher's callback, called as `fn.call(self, value)`. */
type BatchCallback = (this: unknown, value: number) => void;

/** A new id for a batched watcher's callback and its `this` (undefined: paused). @internal */
export function batchTarget(fn: BatchCallback | undefined, self?: unknown): number {
  const st = batchState();
  const id = st.free.length > 0 ? st.free.pop()! : st.targets.length / 2;
  if (2 * id + 1 >= st.arm.length) {
    // Made and handed to the addon before the id is taken: if it throws, nothing changed.
    const arm = new Int32Array(2 * st.arm.length);
    arm.set(st.arm);
    native.setWatchArm(arm);
    st.arm = arm;
  }
  setBatchTarget(id, fn, self);
  return id;
}

/**
 * @internal The armed reads' slots of this thread's batched watchers (native/watcher.cc, ReadArmed): for the
 * watcher with id `id`, element `2 * id` is its state, `2 * id + 1` the outcome of a read. JavaScript sets
 * ARM_IDLE and ARM_ARMED; the addon, in the delivery of a readable entry whose slot is armed, reads into the
 * watcher's read target (Watcher#setReadTarget) and sets ARM_READ with the outcome (the count, -errno, or
 * ARM_WINDOW_GONE) or ARM_WOULD_BLOCK. Read it afresh each time: it is replaced as the ids grow.
 */
export function armSlots(): Int32Array {
  return batch!.arm;
}
export const ARM_IDLE = 0;
export const ARM_ARMED = 1;
export const ARM_READ = 2;
export const ARM_WOULD_BLOCK = 3;
/** An armed read's outcome when its buffer had no bytes left (detached, or resized to nothing). */
export const ARM_WINDOW_GONE = -2147483648;

function setBatchTarget(id: number, fn: BatchCallback | undefined, self: unknown): void {
  const targets = batch!.targets;
  targets[2 * id] = fn;
  targets[2 * id + 1] = fn === undefined ? undefined : self;
}

function freeBatchTarget(id: number): void {
  const st = batch!;
  setBatchTarget(id, undefined, undefined);
  st.arm[2 * id] = ARM_IDLE; // the next watcher with this id starts disarmed
  (st.delivering ? st.freedInDelivery : st.free).push(id);
}

// The constructor's mode for batchedWatcher: the callback goes to the addon as it is.
const RAW = Symbol('raw');

/** The error of a batched watcher's negative value (a libuv error: -errno). @internal */
export function pollError(value: number): Error {
  return errnoErrorFromNumber(-value, 'poll');
}

// The package's own access to a batched watcher (not members of the exported class):
/** @internal A batched watcher's id (its arm slot: see armSlots), -1 if not batched or stopped. */
export let batchIdOf: (w: Watcher) => number;
/**
 * @internal Gives the addon what its armed reads of a batched watcher read into (see armSlots), held weakly
 * there: arm the slot only while something holds the buffer. Throws if the watcher is stopped.
 */
export let setReadTarget: (w: Watcher, buffer: object) => void;

/** A running {@link watch}. */
export class Watcher {
  readonly fd: number;
  #events: number;
  #native: NativeWatcher | null;
  // A batched watcher's callback, its `this`, and its id in the batch state (-1: not batched, or stopped).
  #onValue: BatchCallback | null = null;
  #self: unknown = undefined;
  #id = -1;

  /** @internal Use {@link watch} (`raw`: {@link batchedWatcher}'s, with the callback's `self`). */
  constructor(fd: number, events: number, callback: WatchCallback, raw?: typeof RAW, self?: unknown) {
    // The addon only sees the wrapper below: a non-function callback would be an uncaught TypeError on the loop.
    if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    this.fd = fd;
    this.#events = events;
    if (raw === RAW) {
      const onValue = callback as unknown as BatchCallback;
      // The addon calls its own copy of the callback only from inside close(fd) (with 0): bound, since it
      // passes no `this`. Made first: nothing to undo if it throws.
      const told = self === undefined ? onValue : onValue.bind(self);
      const id = batchTarget(events === 0 ? undefined : onValue, self);
      try {
        this.#native = new native.Watcher(fd, events, told as (value: number) => void, true, id);
      } catch (err) {
        freeBatchTarget(id);
        throw err;
      }
      this.#onValue = onValue;
      this.#self = self;
      this.#id = id;
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
      this.#releaseId();
    }
    return this.#native;
  }

  /** A batched watcher's id goes back to the batch state once the watcher is stopped. */
  #releaseId(): void {
    if (this.#id < 0) return;
    freeBatchTarget(this.#id);
    this.#id = -1;
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
      if (this.#id >= 0) setBatchTarget(this.#id, undefined, undefined);
      throw e;
    }
    this.#events = events;
    // A paused batched watcher leaves the batch state (which would otherwise keep it alive); a started one is there.
    if (this.#id >= 0) setBatchTarget(this.#id, events === 0 ? undefined : this.#onValue!, this.#self);
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
    this.#releaseId();
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

  static {
    batchIdOf = (w) => w.#id;
    setReadTarget = (w, buffer) => {
      const live = w.#live();
      if (live === null) throw Object.assign(new Error('The watcher is stopped (by stop(), or by close() of its fd)'), { code: 'ERR_WATCHER_STOPPED' });
      live.setReadTarget(buffer);
    };
  }
}

/**
 * @internal A batched watcher, whose callback is called with no wrapper, as `onValue.call(self, value)`:
 * `value` is the events, or `-errno` (see {@link pollError}) when polling failed, after which the watcher is
 * paused until its owner calls update(), or 0, at once from inside sockfd's close(fd) of the watched fd, which
 * stopped the watcher for good. Its events reach JavaScript with the other ready watchers of the same loop turn, in
 * one call (native/watcher.cc), in that call's async context rather than one of its own. For the async
 * methods' Readiness: a ready fd costs one function call between the addon and the Readiness, and `self` lets
 * that function be one for all (a method) rather than a closure or bound function per watcher, one object
 * fewer to read at each event. Not exported by the package.
 */
export function batchedWatcher<S = undefined>(fd: number, events: number, onValue: (this: S, value: number) => void, self?: S): Watcher {
  return new Watcher(fd, events, onValue as unknown as WatchCallback, RAW, self);
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
