/**
 * Python's `selectors` module, in TypeScript: the registry and its rules, shared by every backend.
 *
 * Each backend keeps its registered fds where its system call wants them (native memory for select and poll,
 * the kernel for epoll) and reports ready fds as (fd, events) pairs in an Int32Array this class owns, so that a
 * steady-state `select()` is one native call and O(ready) JavaScript work, allocating nothing but its result.
 */
import { checkInt, checkTimeout, errnoError, fdOfFileObj, invalidArgType, outOfRange, selectorClosed } from '../errors';

/** Ready to read (or hung up, or in error). */
export const EVENT_READ = 1;
/** Ready to write (or hung up, or in error). */
export const EVENT_WRITE = 2;

/** What a selector watches: an fd, or an object with `fileno()` (a {@link Socket}). */
export type FileObj = number | { fileno(): number };

/** A registration: the object given, its fd, the events watched, and the caller's data. Immutable. */
export class SelectorKey<T = unknown> {
  constructor(
    readonly fileobj: FileObj,
    readonly fd: number,
    readonly events: number,
    readonly data: T,
  ) {
    Object.freeze(this);
  }
}

/** A read-only, live view of a selector's registrations by fd (Python's `get_map()`). */
export class SelectorMapping<T = unknown> implements ReadonlyMap<number, SelectorKey<T>> {
  readonly #map: Map<number, SelectorKey<T>>;
  constructor(map: Map<number, SelectorKey<T>>) {
    this.#map = map;
  }
  get size(): number {
    return this.#map.size;
  }
  get(fd: number): SelectorKey<T> | undefined {
    return this.#map.get(fd);
  }
  has(fd: number): boolean {
    return this.#map.has(fd);
  }
  keys(): MapIterator<number> {
    return this.#map.keys();
  }
  values(): MapIterator<SelectorKey<T>> {
    return this.#map.values();
  }
  entries(): MapIterator<[number, SelectorKey<T>]> {
    return this.#map.entries();
  }
  forEach(fn: (value: SelectorKey<T>, key: number, map: ReadonlyMap<number, SelectorKey<T>>) => void, thisArg?: unknown): void {
    this.#map.forEach((v, k) => fn.call(thisArg, v, k, this));
  }
  [Symbol.iterator](): MapIterator<[number, SelectorKey<T>]> {
    return this.#map.entries();
  }
}

const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

function checkEvents(events: unknown): number {
  if (typeof events !== 'number') throw invalidArgType('events', 'of type number', events);
  if (!Number.isInteger(events) || events === 0 || (events & ~(EVENT_READ | EVENT_WRITE)) !== 0) {
    throw outOfRange('events', 'a non-empty mask of EVENT_READ (1) and EVENT_WRITE (2)', events);
  }
  return events;
}

export abstract class BaseSelector<T = unknown> {
  readonly #keys = new Map<number, SelectorKey<T>>();
  // The same keys by fd, for select(): an array read is one load where Map.get hashes and probes, and the
  // kernel hands out the lowest free fd, so the array stays dense (a huge fd makes it sparse, still correct).
  readonly #byFd: Array<SelectorKey<T> | undefined> = [];
  readonly #mapping = new SelectorMapping<T>(this.#keys);
  #closed = false;
  /** Where the backend writes ready (fd, events) pairs; grown with the registry. */
  #out = new Int32Array(2 * 64);

  /** Adds fd to the backend; throws (leaving nothing behind) if the kernel refuses. */
  protected abstract backendAdd(fd: number, events: number): void;
  protected abstract backendModify(fd: number, events: number): void;
  /** Removes fd from the backend; must succeed even when the fd was closed meanwhile. */
  protected abstract backendRemove(fd: number): void;
  /** Waits; writes (fd, EVENT_READ|EVENT_WRITE) pairs into out, at most out.length / 2; returns how many. */
  protected abstract backendWait(out: Int32Array, timeoutMs: number): number;
  protected backendClose(): void {}
  /** Extra checks a backend makes on an fd before registering it (select: below FD_SETSIZE). */
  protected checkRegistrable(_fd: number): void {}

  #live(): void {
    if (this.#closed) throw selectorClosed();
  }

  /** The fd a closed Socket (fileno() -1) was registered under, found by identity. */
  readonly #registeredFd = (fileobj: object): number | undefined => {
    for (const key of this.#keys.values()) if (key.fileobj === fileobj) return key.fd;
    return undefined;
  };

  #key(fileobj: FileObj, syscall: string): SelectorKey<T> {
    const key = this.#keys.get(fdOfFileObj(fileobj, 'fileobj', this.#registeredFd));
    if (key === undefined) throw errnoError('ENOENT', syscall);
    return key;
  }

  /**
   * Watches `fileobj` for `events` (`EVENT_READ`, `EVENT_WRITE` or both) with optional `data`; returns the key.
   * Registering an fd twice is an `EEXIST` error.
   */
  register(fileobj: FileObj, events: number, data?: T): SelectorKey<T> {
    this.#live();
    const fd = fdOfFileObj(fileobj, 'fileobj');
    checkEvents(events);
    if (this.#keys.has(fd)) throw errnoError('EEXIST', 'register');
    this.checkRegistrable(fd);
    this.backendAdd(fd, events);
    const key = new SelectorKey<T>(fileobj, fd, events, data as T);
    this.#keys.set(fd, key);
    this.#byFd[fd] = key;
    if (this.#out.length < 2 * this.#keys.size) this.#out = new Int32Array(4 * this.#keys.size);
    return key;
  }

  /**
   * Stops watching; returns the key. Works after the fd was closed (even if its number was reused). An unknown
   * fd is an `ENOENT` error.
   */
  unregister(fileobj: FileObj): SelectorKey<T> {
    this.#live();
    const key = this.#key(fileobj, 'unregister');
    this.#keys.delete(key.fd);
    this.#byFd[key.fd] = undefined;
    this.backendRemove(key.fd);
    return key;
  }

  /**
   * Changes the events or data of a registration; returns the new key. If the backend refuses the change (epoll:
   * the fd was closed), the registration is dropped and the error thrown, as in Python.
   */
  modify(fileobj: FileObj, events: number, data?: T): SelectorKey<T> {
    this.#live();
    const key = this.#key(fileobj, 'modify');
    checkEvents(events);
    if (events !== key.events) {
      try {
        this.backendModify(key.fd, events);
      } catch (e) {
        // As Python's selectors (bpo-30014): a registration the backend refused to change is dropped, so that
        // the registry never keeps a key the kernel no longer has (epoll after the fd was closed, say).
        this.#keys.delete(key.fd);
        this.#byFd[key.fd] = undefined;
        this.backendRemove(key.fd);
        throw e;
      }
    }
    const next = new SelectorKey<T>(key.fileobj, key.fd, events, data as T);
    this.#keys.set(key.fd, next);
    this.#byFd[key.fd] = next;
    return next;
  }

  /**
   * Waits until some registered fd is ready, or `timeoutMs` passes (undefined, null or negative: forever;
   * 0: poll). Returns `[key, readyEvents]` pairs, one per ready fd. Hang-up and error count as both READ and
   * WRITE, masked by what the key watches. In a worker that is being terminated (or a process exiting while
   * the worker waits) the wait ends within 50 ms with nothing ready (README: Worker threads).
   */
  select(timeoutMs?: number | null): Array<[SelectorKey<T>, number]> {
    this.#live();
    const timeout = timeoutMs === 0 ? 0 : checkTimeout(timeoutMs); // 0, the busy servers' case, needs no check
    const out = this.#out;
    const n = this.backendWait(out, timeout);
    const ready: Array<[SelectorKey<T>, number]> = [];
    for (let i = 0; i < n; i++) {
      const fd = out[2 * i];
      const key = this.#byFd[fd];
      // An fd the kernel reports after its unregistration has no key (epoll: an fd closed before unregister(),
      // its file kept open by a dup, which EPOLL_CTL_DEL could no longer name); the fd test also refuses what a
      // hole of the array would find on a polluted Array.prototype.
      if (key === undefined || key.fd !== fd) continue;
      const events = out[2 * i + 1] & key.events;
      if (events !== 0) ready.push([key, events]);
    }
    return ready;
  }

  /** The key of a registered file object; an unknown one is an `ENOENT` error. */
  getKey(fileobj: FileObj): SelectorKey<T> {
    this.#live();
    return this.#key(fileobj, 'getKey');
  }

  /** A read-only live view of the registrations, by fd. */
  getMap(): SelectorMapping<T> {
    this.#live();
    return this.#mapping;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Forgets every registration and frees the backend (the registered fds stay open). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keys.clear();
    this.#byFd.length = 0;
    this.backendClose();
  }

  [disposeSymbol](): void {
    this.close();
  }
}
