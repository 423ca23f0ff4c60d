/**
 * The waiting side of the async Socket methods, on the event loop. A {@link Readiness} owns the {@link Watcher}
 * of one fd, the calls waiting to read and to write, and their AbortSignals; it makes no system call on the fd
 * itself. Its user tries the call (one non-blocking attempt) and, on would-block, awaits `wait()` and tries
 * again: readiness is a hint, another waiter may have taken the bytes first.
 */
import { abortError, errnoError, outOfRange } from './errors';
import { Watcher, WATCH_READ, WATCH_WRITE } from './watch';

/** A call waiting for readiness. */
interface Waiter {
  /** For the error of a close: the system call that waits. */
  readonly syscall: string;
  /** The queue it waits in (a Readiness's readers or writers). */
  readonly list: Waiter[];
  readonly signal: AbortSignal | undefined;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * The waiters of one AbortSignal, whatever fd they wait on. The signal gets one `abort` listener while any of
 * them waits (not one per waiter): the async server's waits all share its shutdown signal, and
 * EventTarget's removeEventListener is a scan of the signal's listeners, so one listener per waiter made each
 * settle O(waiters). Here a settle is a Set delete.
 */
class SignalWaiters {
  readonly waiters = new Set<Waiter>();
  readonly onAbort: () => void;

  constructor(signal: AbortSignal) {
    this.onAbort = () => {
      // `once`: the listener is gone; rejecting runs no code synchronously, so the set is stable meanwhile.
      for (const w of this.waiters) {
        const i = w.list.indexOf(w);
        if (i >= 0) w.list.splice(i, 1); // interest is dropped lazily, by the next readiness nobody waits for
        w.reject(abortError(signal));
      }
      this.waiters.clear();
    };
  }
}

const bySignal = new WeakMap<AbortSignal, SignalWaiters>();
const ONCE = { once: true } as const;

function follow(signal: AbortSignal, w: Waiter): void {
  let sw = bySignal.get(signal);
  if (sw === undefined) {
    sw = new SignalWaiters(signal);
    bySignal.set(signal, sw);
  }
  if (sw.waiters.size === 0) signal.addEventListener('abort', sw.onAbort, ONCE);
  sw.waiters.add(w);
}

/** Stops following the signal of a waiter that settled otherwise; the last one removes the listener. */
function unfollow(w: Waiter): void {
  const signal = w.signal;
  if (signal === undefined) return;
  const sw = bySignal.get(signal)!;
  if (sw.waiters.delete(w) && sw.waiters.size === 0) signal.removeEventListener('abort', sw.onAbort);
}

/** Makes the error a close rejects a waiting call with, from its system call's name. */
export type CloseError = (syscall: string) => Error;

/**
 * The event-loop waiting of one fd: `wait(WATCH_READ | WATCH_WRITE, syscall, signal)` resolves once the fd is
 * ready for it. Many calls may wait at once; each readiness wakes every call waiting for it (each then retries,
 * and one that meets would-block again waits again). Interest is added at once and dropped lazily, when the fd
 * is ready and nobody waits for it: a server that reads, answers and reads again keeps one registration instead
 * of changing it twice per message. A watcher error (as libuv reports it) rejects every waiting call with it.
 *
 * The watcher is created by the first wait. `close()` stops it and rejects the calls still waiting: call it
 * before the fd is closed, so that libuv never polls a number the kernel may already have reused.
 */
export class Readiness {
  readonly fd: number;
  #watcher: Watcher | null = null;
  // The events the watcher watches, as this class last set them: read on every wait and every readiness, where
  // the Watcher's own getter would ask the addon whether close(fd) stopped it (then update() throws).
  #events = 0;
  readonly #readers: Waiter[] = [];
  readonly #writers: Waiter[] = [];
  #closed: CloseError | null = null;

  constructor(fd: number) {
    this.fd = fd;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed !== null;
  }

  /**
   * Resolves when the fd is ready for `events` (`WATCH_READ` or `WATCH_WRITE`), on the event loop. Rejects with
   * an `AbortError` (`code: 'ABORT_ERR'`, `cause: signal.reason`) if `signal` aborts first (at once if it has),
   * with the close error if `close()` comes first, with the watcher's error if polling fails.
   */
  wait(events: number, syscall: string, signal?: AbortSignal): Promise<void> {
    if (events !== WATCH_READ && events !== WATCH_WRITE) throw outOfRange('events', 'WATCH_READ (1) or WATCH_WRITE (2)', events);
    // sockfd's close(fd) stops the watcher of that fd natively, without JavaScript: if the fd was closed behind
    // this object's back, nothing will ever wake a waiter (and the number may be another file's by now).
    if (this.#watcher !== null && this.#watcher.stopped) this.close((sc) => errnoError('EBADF', sc));
    if (this.#closed !== null) return Promise.reject(this.#closed(syscall));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const list = events === WATCH_READ ? this.#readers : this.#writers;
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve, reject) => {
      waiter = { syscall, list, signal, resolve, reject };
    });
    list.push(waiter);
    try {
      this.#interest();
    } catch (err) {
      const i = list.indexOf(waiter);
      if (i >= 0) list.splice(i, 1);
      waiter.reject(err as Error);
      return promise;
    }
    if (signal !== undefined) follow(signal, waiter);
    return promise;
  }

  /**
   * Stops the watcher (for good) and rejects every waiting call with `error(syscall)`, readers first. Later
   * waits reject the same way. Idempotent.
   */
  close(error: CloseError): void {
    if (this.#closed !== null) return;
    this.#closed = error;
    if (this.#watcher !== null) {
      this.#watcher.stop();
      this.#watcher = null;
      this.#events = 0;
    }
    this.#fail(null);
  }

  /** Makes the watcher cover what the waiters need: adds interest at once, never drops it (#onReady does). */
  #interest(): void {
    const needed = (this.#readers.length > 0 ? WATCH_READ : 0) | (this.#writers.length > 0 ? WATCH_WRITE : 0);
    if (this.#watcher === null) {
      if (needed === 0) return;
      this.#watcher = new Watcher(this.fd, needed, (err, ready) => this.#onReady(err, ready));
      this.#events = needed;
    } else if ((this.#events & needed) !== needed) {
      this.#update(this.#events | needed);
    }
  }

  /** Changes the watched events; a refused change leaves the watcher paused (as Watcher#update does). */
  #update(events: number): void {
    try {
      this.#watcher!.update(events);
    } catch (err) {
      this.#events = 0;
      throw err;
    }
    this.#events = events;
  }

  #onReady(err: Error | null, ready: number): void {
    if (err !== null) {
      this.#fail(err);
      this.#update(0);
      return;
    }
    const readers = this.#readers;
    const writers = this.#writers;
    let events = this.#events;
    const wakeReaders = (ready & WATCH_READ) !== 0 && readers.length > 0;
    const wakeWriters = (ready & WATCH_WRITE) !== 0 && writers.length > 0;
    if ((ready & WATCH_READ) !== 0 && !wakeReaders) events &= ~WATCH_READ; // ready, and nobody waits to read: stop asking
    if ((ready & WATCH_WRITE) !== 0 && !wakeWriters) events &= ~WATCH_WRITE;
    if (events !== this.#events) this.#update(events);
    // Each woken call retries its system call; one that meets would-block again waits again. Resolving runs no
    // code synchronously, so the queues are emptied in place.
    if (wakeReaders) wake(readers);
    if (wakeWriters) wake(writers);
  }

  /** Rejects every waiter, readers first: with `err`, or (null) with the close error. */
  #fail(err: Error | null): void {
    for (const list of [this.#readers, this.#writers]) {
      for (let i = 0; i < list.length; i++) {
        const w = list[i];
        unfollow(w);
        w.reject(err ?? this.#closed!(w.syscall));
      }
      list.length = 0;
    }
  }
}

function wake(list: Waiter[]): void {
  for (let i = 0; i < list.length; i++) {
    const w = list[i];
    unfollow(w);
    w.resolve();
  }
  list.length = 0;
}
