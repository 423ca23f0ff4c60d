/**
 * The waiting side of the async Socket methods, on the event loop. A {@link Readiness} owns the {@link Watcher}
 * of one fd, the calls waiting to read and to write, and their AbortSignals; it makes no system call on the fd
 * itself. Its user tries the call (one non-blocking attempt) and, on would-block, awaits `wait()` and tries
 * again: readiness is a hint, another waiter may have taken the bytes first.
 */
import { abortError, errnoError, outOfRange } from './errors';
import { ARM_ARMED, ARM_IDLE, ARM_READ, ARM_WOULD_BLOCK, armSlots, batchedWatcher, batchIdOf, pollError, setReadTarget, type Watcher, WATCH_READ, WATCH_WRITE } from './watch';

// What a reader's slot held when it left its queue (see Readiness#releaseReader), besides a read's outcome (a
// count, -errno, or ARM_WINDOW_GONE): no read was made for it, or the addon's read met would-block.
const NO_READ = -2147483647;
const READ_WOULD_BLOCK = -2147483646;
/** Whether what a slot held is a read's outcome (the addon made the read), which must reach its call. */
const madeRead = (held: number): boolean => held !== NO_READ && held !== READ_WOULD_BLOCK;

/**
 * A call waiting for readiness. A class, not an object literal: V8 tracks where each literal's objects are made
 * (its allocation site) and may decide, once and for good, to make all of a site's later objects in the old
 * generation when nearly all the ones it sampled survived a scavenge. A server's first waiters do (its clients
 * connect, then wait for their first message while the others connect); later ones settle within a message. At
 * 10000 connections the waiter literal's site was pretenured in most runs (`node --trace-pretenuring`: "maybe
 * tenure => tenure"), and from then on every settled waiter was old-space garbage that kept its young promise
 * and resolving functions alive through the scavenges until the next full collection: `--trace-gc-nvp` showed
 * 2.7 MB promoted per scavenge (0.07 to 0.25 MB without), and the model took 10% more CPU per message. Objects
 * made by a constructor have no allocation site.
 */
class Waiter {
  /** For the error of a close: the system call that waits. */
  declare readonly syscall: string;
  /** The queue it waits in: its Readiness's readers (true) or writers (false). */
  declare readonly read: boolean;
  declare readonly owner: Readiness;
  /**
   * The call's next attempt, made as `retry.call(self, arg)` at each readiness, inside the watcher's callback:
   * `null` means would-block (the waiter waits on), anything else settles the wait with it, a throw rejects
   * it. `null`: the wait is for readiness alone (`wait()`). A caller passes a function it made once (a
   * method), its object as `self` and the call's state as `arg`, so that a wait allocates no closure and a
   * wake-up reads none.
   */
  declare readonly retry: ((this: any, arg: any, read?: number) => unknown) | null; // eslint-disable-line @typescript-eslint/no-explicit-any
  declare readonly self: unknown;
  declare readonly arg: unknown;
  /** Set by the promise's executor (capture), right after the waiter is made. */
  declare resolve: (value: unknown) => void;
  declare reject: (err: Error) => void;
  /** The waiters of its AbortSignal, if it has one. */
  declare readonly sw: SignalWaiters | undefined;
  /** Whether its Readiness follows it for that signal (the Readiness's own signal), not `sw.waiters`. */
  declare own: boolean;
  declare settled: boolean;
  /**
   * What the addon may read into for this call at readiness, before its retry (see {@link Readiness.until}), or
   * undefined: the retry makes its own read.
   */
  declare readonly target: object | undefined;

  // Plain assignments, in one order (one hidden class), where class fields would define each field first.
  constructor(syscall: string, read: boolean, owner: Readiness, retry: Waiter['retry'], self: unknown, arg: unknown, sw: SignalWaiters | undefined, target: object | undefined) {
    this.syscall = syscall;
    this.read = read;
    this.owner = owner;
    this.retry = retry;
    this.self = self;
    this.arg = arg;
    this.resolve = unset;
    this.reject = unset;
    this.sw = sw;
    this.own = false;
    this.settled = false;
    this.target = target;
  }
}

/** What a SignalWaiters asks of a Readiness that follows its own waits on the signal. */
interface SignalOwner {
  /** Rejects its waiters of `sw`'s signal (which aborted) and lets go of the signal. */
  abortOwn(sw: SignalWaiters): void;
}

/**
 * The waiters of one AbortSignal, whatever fd they wait on. The signal gets one `abort` listener while any of
 * them waits (not one per waiter): the async server's waits all share its shutdown signal, and EventTarget's
 * removeEventListener is a scan of the signal's listeners, so one listener per waiter made each settle
 * O(waiters). A Readiness whose calls all use one signal (a server's, a connection's) registers itself here once
 * and counts its own waiters, so that a wait costs no Set operation at all; a Readiness's waits on any other
 * signal are followed here one by one.
 */
class SignalWaiters {
  readonly waiters = new Set<Waiter>();
  readonly owners = new Set<SignalOwner>();
  #listening = false;
  readonly onAbort: () => void;

  constructor(readonly signal: AbortSignal) {
    this.onAbort = () => {
      // `once`: the listener is gone. Rejecting runs no code synchronously, so the sets are stable meanwhile.
      this.#listening = false;
      for (const owner of this.owners) owner.abortOwn(this);
      this.owners.clear();
      for (const w of this.waiters) if (!w.settled) w.owner.drop(w, abortError(signal));
      this.waiters.clear();
    };
  }

  #listen(): void {
    if (!this.#listening) {
      this.signal.addEventListener('abort', this.onAbort, ONCE);
      this.#listening = true;
    }
  }

  #unlistenIfIdle(): void {
    if (this.#listening && this.waiters.size === 0 && this.owners.size === 0) {
      this.signal.removeEventListener('abort', this.onAbort);
      this.#listening = false;
    }
  }

  add(w: Waiter): void {
    this.#listen();
    this.waiters.add(w);
  }

  /** Stops following a waiter that settled otherwise; the last one removes the listener. */
  delete(w: Waiter): void {
    if (this.waiters.delete(w)) this.#unlistenIfIdle();
  }

  addOwner(owner: SignalOwner): void {
    this.#listen();
    this.owners.add(owner);
  }

  deleteOwner(owner: SignalOwner): void {
    if (this.owners.delete(owner)) this.#unlistenIfIdle();
  }
}

const bySignal = new WeakMap<AbortSignal, SignalWaiters>();

// A promise's resolving functions, put into its waiter by the executor without a closure per promise: the
// waiter being made is handed over in a module variable. The waiter is new (young), so that the executor's two
// stores need no write barrier; only the store of the waiter into this variable does (callgrind: taking them
// into a long-lived object instead cost two barriers' slow paths per wait, about 45 instructions each).
let filling: Waiter | null = null;
function capture(resolve: (value: unknown) => void, reject: (err: Error) => void): void {
  const w = filling!;
  w.resolve = resolve;
  w.reject = reject;
}
// What a waiter's resolving functions are until its executor has run: a function, as they will be.
function unset(): void {}
const ONCE = { once: true } as const;

function waitersOf(signal: AbortSignal): SignalWaiters {
  let sw = bySignal.get(signal);
  if (sw === undefined) {
    sw = new SignalWaiters(signal);
    bySignal.set(signal, sw);
  }
  return sw;
}

/** The error of the calls that waited on an fd that sockfd's close(fd) closed behind the Readiness's back. */
const closedByFd = (syscall: string): Error => errnoError('EBADF', syscall);

/** Makes the error a close rejects a waiting call with, from its system call's name. */
export type CloseError = (syscall: string) => Error;

/**
 * The event-loop waiting of one fd. `until(events, syscall, signal, retry)` makes `retry` (the caller's next
 * non-blocking attempt) at each readiness for `events`, inside the watcher's callback, until it returns
 * something other than `null` (would-block), and resolves with that: as libuv reads a stream once it is told
 * it is readable, so that a wake-up costs one crossing into JavaScript and one promise, not a readiness promise
 * and then the attempt a microtask later. `wait()` resolves at readiness alone. Many calls may wait at once;
 * each readiness retries every call waiting for it, in the order they came (readiness is a hint: an earlier one
 * may take the bytes, and a retry that meets would-block again waits on). Interest is added at once and dropped
 * lazily, when the fd is ready and nobody waits for it: a server that reads, answers and reads again keeps one
 * registration instead of changing it twice per message. A watcher error (as libuv reports it) rejects every
 * waiting call with it.
 *
 * The watcher is created by the first wait. `close()` stops it and rejects the calls still waiting: call it
 * before the fd is closed, so that libuv never polls a number the kernel may already have reused.
 */
export class Readiness implements SignalOwner {
  readonly fd: number;
  #watcher: Watcher | null = null;
  // The events the watcher watches, as this class last set them: read on every wait and every readiness, where
  // the Watcher's own getter would ask the addon whether close(fd) stopped it (then update() throws).
  #events = 0;
  // The calls waiting to read and to write. The first of each queue has a field of its own, so that the usual
  // single waiter costs no array to read and write at each wait and wake-up (this object is read anyway, the
  // arrays were two more cache lines per message); the others wait in #more, in the order they came, readers
  // and writers together. Invariant: a queue whose first field is null has none in #more.
  #reader: Waiter | null = null;
  #writer: Waiter | null = null;
  #more: Waiter[] | null = null;
  #closed: CloseError | null = null;
  // The signal this object follows its own waiters of (see SignalWaiters), and how many of them wait now. Kept
  // while none waits, so that a connection's read-answer-read costs no registration; given up for another
  // signal only then, and at close() or the signal's abort.
  #sw: SignalWaiters | null = null;
  #swCount = 0;
  // The read target last given to the watcher (Watcher#setReadTarget), so that a wait with the same buffer as the
  // last one (a connection's loop) arms its slot without a call into the addon. Kept until another takes its
  // place or close(): one buffer per fd.
  #target: object | undefined = undefined;

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
    return this.#enqueue(events, syscall, signal, null, undefined) as Promise<void>;
  }

  /**
   * Calls `retry` (as `retry.call(self, arg)`) at each readiness for `events` until it returns non-null, and
   * resolves with that value; a throw from `retry` rejects with it. Otherwise as {@link wait}. The caller makes
   * its first attempt itself: `retry` runs only after a readiness.
   *
   * With a `target` (a read's whole buffer, for `events` WATCH_READ), the addon may make the read itself at the
   * readiness, `recv(fd, target, its length, 0)`, while this call is the first reader (native/watcher.cc,
   * ReadArmed), and `retry` is then called as `retry.call(self, arg, outcome)` to settle with it: the count, 0 at
   * end of stream, -errno for a failed recv, or ARM_WINDOW_GONE when the buffer had no bytes left; it must make
   * no read of its own then, and return non-null or throw. A read made is never lost: if the call is aborted or
   * closed before the outcome reaches it (JavaScript that a promise hook runs in the same delivery), it settles
   * with the outcome all the same, as a read that completed first.
   */
  until<T, A = undefined, S = undefined>(events: number, syscall: string, signal: AbortSignal | undefined, retry: (this: S, arg: A, read?: number) => T | null, arg?: A, self?: S, target?: object): Promise<T> {
    return this.#enqueue(events, syscall, signal, retry, arg, self, target) as Promise<T>;
  }

  #enqueue(events: number, syscall: string, signal: AbortSignal | undefined, retry: ((this: any, arg: any) => unknown) | null, arg?: unknown, self?: unknown, target?: object): Promise<unknown> { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (events !== WATCH_READ && events !== WATCH_WRITE) throw outOfRange('events', 'WATCH_READ (1) or WATCH_WRITE (2)', events);
    if (this.#closed !== null) return Promise.reject(this.#closed(syscall));
    // A signal that has aborted already is seen below, once: after the promise and the watcher are made, which
    // may run JavaScript that aborts it (promise hooks, async_hooks), so a check before them would not do alone.
    // This object's own signal's waiters without a WeakMap lookup: a connection's waits all use one signal.
    const own = this.#sw;
    const sw = signal === undefined ? undefined : own !== null && own.signal === signal ? own : waitersOf(signal);
    const waiter = new Waiter(syscall, events === WATCH_READ, this, retry, self, arg, sw, events === WATCH_READ ? target : undefined);
    filling = waiter;
    const promise = new Promise<unknown>(capture);
    filling = null;
    this.#queue(waiter);
    try {
      this.#interest();
    } catch (err) {
      this.drop(waiter, err as Error);
      return promise;
    }
    // Making the promise runs promise hooks and creating the watcher async_hooks' init callbacks, any JavaScript:
    // it may have closed this object (which rejected the waiter) or aborted the signal (before anything followed
    // it), or waited here itself.
    if (waiter.settled) return promise;
    if (sw !== undefined) {
      if (sw.signal.aborted) {
        this.drop(waiter, abortError(sw.signal));
        return promise;
      }
      if (sw === this.#sw || this.#swCount === 0) {
        waiter.own = true;
        this.#follow(sw);
      } else {
        sw.add(waiter);
      }
    }
    this.#arm();
    return promise;
  }

  /**
   * Arms the watcher's slot for the first reader if it has a read target (see armSlots in watch.ts), giving the
   * addon the target first if it is not the last one given. Nothing if the slot is armed already, or holds a
   * read for that reader not yet delivered, or there is no such reader or no watcher.
   */
  #arm(): void {
    const w = this.#reader;
    const watcher = this.#watcher;
    if (w === null || w.target === undefined || watcher === null) return; // (closed: no watcher)
    const id = batchIdOf(watcher);
    if (id < 0) return;
    const arm = armSlots();
    if (arm[2 * id] !== ARM_IDLE) return;
    if (this.#target !== w.target) {
      try {
        setReadTarget(watcher, w.target);
      } catch {
        return; // stopped behind this object's back: the retry reads, and meets the close
      }
      this.#target = w.target;
    }
    arm[2 * id] = ARM_ARMED;
  }

  /**
   * Disarms the slot as the first reader leaves its queue (the slot is only ever armed for it), and returns what
   * it holds for that reader: a read's outcome, READ_WOULD_BLOCK, or NO_READ.
   */
  #releaseReader(): number {
    const id = this.#watcher === null ? -1 : batchIdOf(this.#watcher);
    if (id < 0) return NO_READ;
    const arm = armSlots();
    const state = arm[2 * id];
    if (state === ARM_IDLE) return NO_READ;
    arm[2 * id] = ARM_IDLE;
    if (state === ARM_READ) return arm[2 * id + 1];
    return state === ARM_WOULD_BLOCK ? READ_WOULD_BLOCK : NO_READ;
  }

  /** Settles a waiter (marked settled already) with the outcome of the read the addon made for it. */
  #settleWithRead(w: Waiter, read: number): void {
    let result: unknown;
    try {
      result = w.retry!.call(w.self, w.arg, read);
    } catch (err) {
      w.reject(err as Error);
      return;
    }
    w.resolve(result);
  }

  /** Puts a waiter at the end of its queue. */
  #queue(w: Waiter): void {
    if (w.read ? this.#reader === null : this.#writer === null) {
      if (w.read) this.#reader = w;
      else this.#writer = w;
    } else {
      (this.#more ??= []).push(w);
    }
  }

  /**
   * Takes a waiter out of its queue, if it is there; the next of its queue, if any, becomes the first. Returns
   * what the slot held for it (see #releaseReader) if it was the first reader, else NO_READ.
   */
  #unqueue(w: Waiter): number {
    if (w === this.#reader) {
      const read = this.#releaseReader();
      this.#reader = this.#takeNext(true);
      return read;
    }
    if (w === this.#writer) this.#writer = this.#takeNext(false);
    else if (this.#more !== null) {
      const i = this.#more.indexOf(w);
      if (i >= 0) this.#more.splice(i, 1);
      if (this.#more.length === 0) this.#more = null;
    }
    return NO_READ;
  }

  /** Takes the earliest waiter of one queue out of #more; null if it has none there. */
  #takeNext(read: boolean): Waiter | null {
    const more = this.#more;
    if (more === null) return null;
    for (let i = 0; i < more.length; i++) {
      if (more[i].read === read) {
        const w = more[i];
        more.splice(i, 1);
        if (more.length === 0) this.#more = null;
        return w;
      }
    }
    return null;
  }

  /** Takes every waiter of one queue, in the order they came; the queue is then empty. */
  #takeAll(read: boolean): Waiter[] {
    const first = read ? this.#reader : this.#writer;
    if (first === null) return []; // and none in #more
    if (read) this.#reader = null;
    else this.#writer = null;
    const out = [first];
    const more = this.#more;
    if (more !== null) {
      const rest: Waiter[] = [];
      for (const w of more) (w.read === read ? out : rest).push(w);
      this.#more = rest.length > 0 ? rest : null;
    }
    return out;
  }

  /**
   * @internal Settles a waiter that no Readiness or signal counts (or whose count its caller resets) with `err`,
   * taking it out of its queue. Its interest is dropped lazily, by the next readiness nobody waits for.
   */
  drop(w: Waiter, err: Error): void {
    w.settled = true;
    const read = this.#unqueue(w);
    if (madeRead(read)) this.#settleWithRead(w, read); // the read was made before this: it stands
    else w.reject(err);
    this.#arm(); // for the next reader, if it is now the first
  }

  /** Counts one more own waiter of `sw`, taking it as this object's signal first if it is not. */
  #follow(sw: SignalWaiters): void {
    if (this.#sw !== sw) {
      this.#sw?.deleteOwner(this); // none of its waiters waits (#enqueue checked)
      this.#sw = sw;
      sw.addOwner(this);
    }
    this.#swCount++;
  }

  /** Marks a waiter settled and stops following its signal; the caller then resolves or rejects it. */
  #settle(w: Waiter): void {
    w.settled = true;
    if (w.own) {
      if (w.sw === this.#sw) this.#swCount--;
    } else {
      w.sw?.delete(w);
    }
  }

  /**
   * Rejects a waiter being retried whose signal, this object's own, has aborted: abortOwn could not see it, out
   * of the queue meanwhile. Returns whether it did.
   */
  #abortedOwn(w: Waiter): boolean {
    if (!w.own || !w.sw!.signal.aborted) return false;
    this.#settle(w);
    w.reject(abortError(w.sw!.signal));
    return true;
  }

  /** @internal The signal this object follows aborted: rejects its waiters of it (SignalWaiters calls this). */
  abortOwn(sw: SignalWaiters): void {
    if (this.#sw !== sw) return;
    this.#sw = null;
    this.#swCount = 0;
    // The first reader's slot is left as it is if that reader stays (it is queued first again), else released.
    const first = this.#reader;
    const read = first !== null && first.own && first.sw === sw && !first.settled ? this.#releaseReader() : NO_READ;
    // Readers first (each queue in order), then writers; the others are queued again, in their order. Interest
    // is dropped lazily, by the next readiness nobody waits for.
    const all = [...this.#takeAll(true), ...this.#takeAll(false)];
    const aborted: Waiter[] = [];
    for (const w of all) {
      if (w.own && w.sw === sw && !w.settled) {
        w.settled = true;
        aborted.push(w);
      } else {
        this.#queue(w);
      }
    }
    for (const w of aborted) {
      if (w === first && madeRead(read)) this.#settleWithRead(w, read);
      else w.reject(abortError(sw.signal));
    }
    this.#arm();
  }

  /**
   * Stops the watcher (for good) and rejects every waiting call with `error(syscall)`, readers first. Later
   * waits reject the same way. Idempotent.
   */
  close(error: CloseError): void {
    if (this.#closed !== null) return;
    this.#closed = error;
    // The first reader's slot before the watcher stops (its id, and the slot, are then another's to take).
    const first = this.#reader;
    const read = this.#releaseReader();
    if (this.#watcher !== null) {
      this.#watcher.stop();
      this.#watcher = null;
      this.#events = 0;
    }
    this.#target = undefined;
    this.#fail(null, first, read);
    if (this.#sw !== null) {
      this.#sw.deleteOwner(this);
      this.#sw = null;
      this.#swCount = 0;
    }
  }

  /** Makes the watcher cover what the waiters need: adds interest at once, never drops it (#onReady does). */
  #interest(): void {
    const needed = (this.#reader !== null ? WATCH_READ : 0) | (this.#writer !== null ? WATCH_WRITE : 0);
    if (this.#watcher === null) {
      if (needed === 0) return;
      // Batched, called by the addon with no wrapper between (see watch.ts): the ready events, -errno, or 0 when
      // sockfd's close(fd) of this fd stopped the watcher behind this object's back: nothing would ever wake a
      // waiter again (and the number may be another file's by now), so every waiting call rejects with EBADF.
      const watcher = batchedWatcher(this.fd, needed, Readiness.#onValue, this);
      // Making it ran async_hooks' init callbacks, any JavaScript: one may have closed this object, which then
      // had no watcher to stop (and rejected the waiters).
      if (this.#closed !== null) {
        watcher.stop();
        return;
      }
      this.#watcher = watcher;
      this.#events = needed;
    } else if ((this.#events & needed) !== needed) {
      this.#update(this.#events | needed);
    }
  }

  // The watcher's callback, one function for every Readiness, called on this object (batchedWatcher's `self`):
  // a closure would be two more objects to read at each readiness (the function and its context), a bound
  // function one.
  static #onValue(this: Readiness, value: number): void {
    // A chunk's entries are taken before any of them runs: an earlier one may have closed this object.
    if (this.#closed !== null) return;
    if (value > 0) this.#onReady(null, value);
    else if (value < 0) this.#onReady(pollError(value), 0);
    else this.close(closedByFd);
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
      // Paused first, then the waiters told: a rejection runs promise hooks (any JavaScript), which may wait
      // here again (their interest must not be paused after them) or close this object (no watcher left).
      const first = this.#reader;
      const read = this.#releaseReader();
      try {
        this.#update(0);
      } finally {
        this.#fail(err, first, read);
      }
      return;
    }
    let events = this.#events;
    const wakeReaders = (ready & WATCH_READ) !== 0 && this.#reader !== null;
    const wakeWriters = (ready & WATCH_WRITE) !== 0 && this.#writer !== null;
    if ((ready & WATCH_READ) !== 0 && !wakeReaders) events &= ~WATCH_READ; // ready, and nobody waits to read: stop asking
    if ((ready & WATCH_WRITE) !== 0 && !wakeWriters) events &= ~WATCH_WRITE;
    if (events !== this.#events) this.#update(events);
    if (wakeReaders) this.#wake(true);
    if (wakeWriters) this.#wake(false);
    this.#arm(); // for a reader that meets would-block and waits on, or came meanwhile
  }

  /**
   * Retries (or, for `wait()`, resolves) every call of a queue, in order. The queue is emptied first: a retry
   * may run a subclass's code (Socket#attempt), which may wait, abort or close; whoever settles a waiter marks
   * it, so each settles once, and a call that meets would-block goes back to the queue.
   */
  #wake(read: boolean): void {
    if (this.#more === null) {
      // The usual case: one waiter (or none: the readers' retries may have settled the writers meanwhile).
      const w = read ? this.#reader : this.#writer;
      if (w === null) return;
      if (read) {
        const got = this.#releaseReader();
        if (got === READ_WOULD_BLOCK) return; // the addon's read met would-block: the reader waits on (#onReady arms it again)
        this.#reader = null;
        this.#retry(w, got);
      } else {
        this.#writer = null;
        this.#retry(w, NO_READ);
      }
      return;
    }
    const got = read ? this.#releaseReader() : NO_READ;
    const batch = this.#takeAll(read);
    let i = 0;
    if (got === READ_WOULD_BLOCK) {
      // The first reader's read met would-block: it waits on, first; the others are woken (a wait() resolves).
      this.#queue(batch[0]);
      i = 1;
    }
    for (; i < batch.length; i++) this.#retry(batch[i], i === 0 ? got : NO_READ);
  }

  /** Retries a waiter taken out of its queue; `got`: the outcome of the read the addon made for it, or NO_READ. */
  #retry(w: Waiter, got: number): void {
    if (w.settled) return;
    if (madeRead(got)) {
      // Made, so it stands, whatever happened since (an abort or close from an earlier entry's promise hook).
      this.#settle(w);
      this.#settleWithRead(w, got);
      return;
    }
    if (this.#abortedOwn(w)) return; // from within an earlier retry of this batch
    if (this.#closed !== null) {
      this.#settle(w);
      w.reject(this.#closed(w.syscall));
      return;
    }
    if (w.retry === null) {
      this.#settle(w);
      w.resolve(undefined);
      return;
    }
    let result: unknown;
    try {
      result = w.retry.call(w.self, w.arg);
    } catch (err) {
      if (!w.settled) {
        this.#settle(w);
        w.reject(err as Error);
      }
      return;
    }
    if (w.settled) return; // aborted or closed from within its own retry
    if (this.#abortedOwn(w)) return; // its own signal, from within its retry
    if (result !== null) {
      this.#settle(w);
      w.resolve(result);
    } else if (this.closed) { // the retry closed it (the compiler narrowed #closed above)
      this.#settle(w);
      w.reject(this.#closed!(w.syscall));
    } else {
      this.#queue(w); // would block after all: wait on (the interest is still there: #onReady kept it)
    }
  }

  /**
   * Rejects every waiter, readers first: with `err`, or (null) with the close error; but `first`, the reader
   * whose slot held `got`, settles with its read if the addon made one (see #releaseReader).
   */
  #fail(err: Error | null, first: Waiter | null, got: number): void {
    for (const read of [true, false]) {
      for (const w of this.#takeAll(read)) {
        if (w.settled) continue;
        this.#settle(w);
        if (w === first && madeRead(got)) this.#settleWithRead(w, got);
        else w.reject(err ?? this.#closed!(w.syscall));
      }
    }
  }
}
