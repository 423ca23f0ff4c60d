/**
 * Value generators: hostile values of every type, byte containers (plain, detached, shared, resizable), and fds.
 * All choices come from the main PRNG, in a fixed order: a seed names the same values on every run.
 *
 * Hostile values are given where the declared types (lib/native.ts, lib/index.ts) want something else. They are
 * cast in one place, `hostile()` (and `retype()`, for a whole generator), called only by generators: here, in
 * args.ts, and the few that specs/ define for their own arguments.
 */
import type { BytesLike } from '../../lib/errors';
import { asGrowable, ResizableArrayBuffer } from './es2024';
import type { Mutator } from './mutator';
import { SHARED_SIZES } from './mutator-protocol';
import { k } from './pkg';
import { type FdMode, OOR_BASE, type Pool } from './pool';
import type { Rng } from './prng';
import { FuzzerThrow } from './report';

/**
 * A value of the wrong type on purpose, given where a T is declared: the fuzzer's one cast. The callee must
 * reject it (TypeError, RangeError...) or cope.
 */
export function hostile<T>(value: unknown): T {
  return value as T;
}

/** The generator of one argument: a good value (v), a bad one (b). */
export interface Gen<T> {
  /** A value the call should accept (it may still fail in the kernel). */
  v(): T;
  /** A value it should refuse. */
  b(): T;
  /** For fd arguments: which fds it may name; the runner replaces any other (see Pool.fdSafe). */
  readonly fd?: FdMode;
  /** Never left out when the runner drops trailing arguments: a wait without its timeout would wait forever. */
  readonly required?: boolean;
}

/**
 * The generators of a call's arguments, position by position; an optional parameter's may also give undefined
 * (as the caller who leaves it out does).
 */
export type Kinds<A extends readonly unknown[]> = { readonly [K in keyof A]: Gen<{} extends Pick<A, K> ? A[K] | undefined : A[K]> };

/** A generator: good values from v, bad ones (of any type: cast here) from b. */
export function gen<T>(v: () => T, b: () => unknown, extra: { fd?: FdMode; required?: boolean } = {}): Gen<T> {
  return { v, b: () => hostile<T>(b()), ...extra };
}

/**
 * The same generator, given where another type is declared: the addon's parameters are narrower than the
 * package's (no ArrayBuffer where a view is wanted, say), and what the package accepts may be hostile to it.
 */
export function retype<T>(g: Gen<unknown>): Gen<T> {
  return g as Gen<T>;
}

/** The placeholder of an argument the spec's prepare hook fills in (it needs the other arguments, or a resource made for that call alone). */
export const LATER: unique symbol = Symbol('filled in by prepare');

/** A generator whose good value is filled in by the spec's prepare hook (see LATER); bad values from b. */
export function later<T>(b: () => unknown): Gen<T> {
  return gen(() => hostile<T>(LATER), b);
}

/** The marks a generator leaves on the step: it handed out memory the mutator changes (pool buffer `target`). */
export interface Marks {
  racy: boolean;
  target: number;
}

/** A byte container: what the package's BytesLike is, at run time (a view or an ArrayBuffer). */
export type Bytes = BytesLike;

interface RabEntry {
  rab: ResizableArrayBuffer;
  views: ArrayBufferView[];
}

const BAD_NUMBERS = [NaN, Infinity, -Infinity, -1, -2, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE, -(2 ** 31) - 1, 1e21, 3.000001];
const RAB_MAX = 4096;
const RAB_SIZES = [0, 3, 4, 8, 16, 24, 40, 47, 48, 56, 63, 64, 100, 1000, RAB_MAX];

export class Values {
  #hugeString: string | null = null;
  /**
   * Resizable (not shared) ArrayBuffers, with views made once: length-tracking ones, and fixed ones that a shrink
   * leaves out of bounds. Only the main thread resizes them, between calls, with the main PRNG: deterministic.
   * A view handed to an async call (recvIntoAsync) may be resized or detached before that call reads it.
   */
  readonly #rabPool: RabEntry[] = [Values.newRab(), Values.newRab(), Values.newRab()];

  constructor(
    private readonly rng: Rng,
    private readonly pool: Pool,
    private readonly mutator: Mutator,
    /** Set by the shared-memory generators, cleared by the runner before each step. */
    readonly marks: Marks,
  ) {}

  // ---- objects that throw --------------------------------------------------------------------------------

  throwingGetters(keys: readonly string[]): object {
    const o = {};
    for (const key of keys) {
      Object.defineProperty(o, key, {
        enumerable: true,
        get() {
          throw new FuzzerThrow(`getter ${key}`);
        },
      });
    }
    return o;
  }

  throwingProxy(): object {
    return new Proxy(
      {},
      {
        get(_t, p) {
          throw new FuzzerThrow(`proxy get ${String(p)}`);
        },
        has() {
          throw new FuzzerThrow('proxy has');
        },
        getPrototypeOf() {
          throw new FuzzerThrow('proxy getPrototypeOf');
        },
      },
    );
  }

  revokedProxy(): object {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  }

  primitiveTraps(): object {
    return {
      valueOf() {
        throw new FuzzerThrow('valueOf');
      },
      toString() {
        throw new FuzzerThrow('toString');
      },
      [Symbol.toPrimitive]() {
        throw new FuzzerThrow('toPrimitive');
      },
    };
  }

  huge(): string {
    if (this.#hugeString === null) this.#hugeString = 'x'.repeat(1 << 20);
    return this.#hugeString;
  }

  // ---- bytes ---------------------------------------------------------------------------------------------

  detachedBuffer(n: number): Bytes {
    const ab = new ArrayBuffer(n);
    const views = [new Uint8Array(ab), new DataView(ab, Math.min(4, n)), new Float64Array(ab, 0, Math.floor(n / 8)), Buffer.from(ab, Math.min(3, n))];
    structuredClone(ab, { transfer: [ab] });
    return this.rng.chance(0.2) ? ab : this.rng.pick(views);
  }

  /** A pool index, among the buffers never longer than maxLen bytes (index 0, 16 bytes, when none is). */
  sharedIndex(maxLen = Infinity): number {
    const fits = SHARED_SIZES.flatMap(([n, max], i) => ((max ?? n) <= maxLen ? [i] : []));
    const i = fits.length > 0 ? this.rng.pick(fits) : 0;
    this.marks.racy = true;
    this.marks.target = i;
    return i;
  }

  /** An Int32Array over a pool buffer: whole (length-tracking over a growable one), from an offset, or a window. */
  sharedInt32(small = false): Int32Array {
    const { rng } = this;
    const i = small ? this.sharedIndex(256) : this.sharedIndex();
    const sab = this.mutator.pool[i];
    const n = SHARED_SIZES[i][0] >> 2; // elements at least there
    const off = Math.min(n, rng.int(4));
    switch (rng.int(5)) {
      case 0:
      case 1:
        return new Int32Array(sab);
      case 2:
        return new Int32Array(sab, 4 * off); // length-tracking too, over a growable one
      case 3:
        return new Int32Array(sab, 4 * off, rng.int(n - off + 1));
      default:
        return new Int32Array(sab, 0, n);
    }
  }

  /** Bytes over a pool buffer: Uint8Arrays, DataViews, Buffers and wider views, whole, offset or windowed. */
  sharedBytes(maxLen: number): ArrayBufferView {
    const { rng } = this;
    const i = this.sharedIndex(maxLen);
    const sab = this.mutator.pool[i];
    const n = SHARED_SIZES[i][0];
    const off = Math.min(n, rng.int(9));
    switch (rng.int(8)) {
      case 0:
        return new Uint8Array(sab); // length-tracking over a growable one
      case 1:
        return new DataView(sab); // likewise
      case 2:
        return new Uint8Array(sab, off);
      case 3:
        return new DataView(sab, off, rng.int(n - off + 1));
      case 4:
        return Buffer.from(sab, off, rng.int(n - off + 1));
      case 5:
        return new Int32Array(sab, 0, n >> 2);
      case 6:
        return new Float64Array(sab);
      default:
        return new Uint8Array(sab, off, rng.int(n - off + 1));
    }
  }

  /** Good fds in the first entries of a view of the pool buffer just picked; the mutator changes them from here on. */
  primeShared(a: Int32Array): Int32Array {
    const n = Math.min(SHARED_SIZES[this.marks.target][0] >> 2, 24);
    for (let j = 0; j < n; j++) a[j] = this.rng.chance(0.95) ? this.roFd() : this.rng.pick([-1, k.FD_SETSIZE, 2 ** 31 - 1]);
    return a;
  }

  /** A pool buffer's Int32Array, whole, primed with good fds (for objects that read it at each call). */
  liveView(): Int32Array {
    return this.primeShared(new Int32Array(this.mutator.pool[this.sharedIndex(256)]));
  }

  /** The most bytes a view can come to: a view of a growable SharedArrayBuffer grows while the mutator runs. */
  static maxByteLengthOf(d: ArrayBufferView | ArrayBuffer): number {
    if (ArrayBuffer.isView(d) && d.buffer instanceof SharedArrayBuffer && asGrowable(d.buffer).growable) return asGrowable(d.buffer).maxByteLength;
    return d.byteLength;
  }

  private static newRab(): RabEntry {
    const rab = new ResizableArrayBuffer(64, { maxByteLength: RAB_MAX });
    const views = [
      new Uint8Array(rab), new DataView(rab), new Int32Array(rab), Buffer.from(rab), // Buffer: a fixed window
      new Uint8Array(rab, 16, 32), new DataView(rab, 32), new DataView(rab, 8, 40), new Int32Array(rab, 8, 6),
      new Uint8Array(rab, 40), new Int32Array(rab, 48), new Float64Array(rab, 8),
    ];
    return { rab, views };
  }

  /** A view of a resizable buffer, maybe resized now, out of bounds, or detached. */
  resizableView(int32Only: true): Int32Array;
  resizableView(int32Only?: boolean): ArrayBufferView;
  resizableView(int32Only = false): ArrayBufferView {
    const { rng } = this;
    const j = rng.int(this.#rabPool.length);
    const e = this.#rabPool[j];
    if (rng.chance(0.6)) e.rab.resize(rng.pick(RAB_SIZES));
    const pool = int32Only ? e.views.filter((v) => v instanceof Int32Array) : e.views;
    let v = rng.pick(pool);
    if (rng.chance(0.1)) {
      // a view made at the buffer's present size, then out of bounds
      const size = e.rab.byteLength;
      e.rab.resize(RAB_MAX);
      v = int32Only ? new Int32Array(e.rab, 4 * rng.int(8)) : new Uint8Array(e.rab, rng.int(64), rng.int(64));
      e.rab.resize(Math.min(size, rng.int(32)));
    }
    if (rng.chance(0.02)) {
      structuredClone(e.rab, { transfer: [e.rab] }); // detached, views and all
      this.#rabPool[j] = Values.newRab();
    }
    return v;
  }

  /** A byte container of some kind: Buffers, TypedArrays, DataViews, subarray views, detached, shared, resizable. */
  bytes(maxLen = 65537): Bytes {
    const { rng } = this;
    const n = rng.pick([0, 1, 2, 7, 16, 100, 1024, 4096, maxLen]);
    switch (rng.int(19)) {
      case 16:
        return this.sharedBytes(maxLen);
      case 17:
        return this.resizableView();
      case 18:
        return rng.chance(0.5) ? this.sharedBytes(maxLen) : this.resizableView();
      case 0:
        return Buffer.alloc(n);
      case 1:
        return Buffer.from('abcdefghij'.repeat(Math.ceil(n / 10) + 1)).subarray(rng.int(5), Math.max(5, n)); // a pool slice
      case 2:
        return new Uint8Array(n);
      case 3:
        return new Uint16Array(Math.ceil(n / 2));
      case 4:
        return new Float64Array(Math.ceil(n / 8));
      case 5:
        return new BigInt64Array(Math.ceil(n / 8));
      case 6:
        return new DataView(new ArrayBuffer(n + 8), rng.int(8), n);
      case 7:
        return new Uint8ClampedArray(n);
      case 8: {
        const ab = new ArrayBuffer(n + 16);
        return new Int32Array(ab, 4 * rng.int(4), Math.floor(n / 4));
      }
      case 9:
        return this.detachedBuffer(n);
      case 10:
        return new ArrayBuffer(n);
      case 11:
        return new Uint8Array(new SharedArrayBuffer(n + 1), 1);
      case 12: {
        const ab = new ResizableArrayBuffer(n, { maxByteLength: n + 64 });
        const v = rng.chance(0.5) ? new Uint8Array(ab) : new DataView(ab);
        if (rng.chance(0.5)) ab.resize(rng.int(n + 1));
        return v;
      }
      case 13:
        return Buffer.alloc(0);
      case 14:
        return new DataView(new ArrayBuffer(8), 8);
      default:
        return Buffer.allocUnsafe(n).subarray(rng.int(n + 1));
    }
  }

  // ---- anything ------------------------------------------------------------------------------------------

  /** Values of every type, none of which is a usable fd, size or flag set. Small integers are left out (see fd safety). */
  junk(noHuge = false): unknown {
    const { rng } = this;
    switch (rng.int(30)) {
      case 0: return rng.pick(BAD_NUMBERS);
      case 1: return undefined;
      case 2: return null;
      case 3: return rng.chance(0.5);
      case 4: return rng.pick(['', '1', 'a\0b', '\0', '\uD800', '127.0.0.1', 'NaN', '-0']);
      case 5: return noHuge ? 'y'.repeat(5000) : this.huge();
      case 6: return Symbol('fuzz');
      case 7: return rng.pick([1n, -1n, 2n ** 64n, 0n]);
      case 8: return function fuzzFn() {};
      case 9: return class FuzzClass {};
      case 10: return {};
      case 11: return [];
      case 12: return [1, , 3]; // eslint-disable-line no-sparse-arrays
      case 13: return Object.create(null);
      case 14: return this.throwingProxy();
      case 15: return this.revokedProxy();
      case 16: return this.primitiveTraps();
      case 17: return new Number(3);
      case 18: return new String('x');
      case 19: return new Date(0);
      case 20: return /re/;
      case 21: return new Map([[1, 2]]);
      case 22: return Promise.resolve(1);
      case 23: return AbortSignal.abort();
      case 24: return new SharedArrayBuffer(8);
      case 25: return this.bytes(64);
      case 26: return this.throwingGetters(['length', 'fd', 'events', 'address', 'port', 'path', 'fileno', 'signal', 'byteLength']);
      case 27: return new WeakRef({});
      case 28: return { length: 3, 0: 1, 1: 2, 2: 3 };
      default: return rng.pick([-0, 0, 1, 7, 65535, 65536]); // only where such numbers are harmless (not fd positions)
    }
  }

  /** A bad number, or a value of another type: for int32 positions. */
  int32Bad(): unknown {
    return this.rng.pick<unknown>([...BAD_NUMBERS, '1', 1n, null, {}, true, this.primitiveTraps()]);
  }

  // ---- fds -----------------------------------------------------------------------------------------------

  /** junk that can stand in for an fd without ever naming an open one. */
  junkFd(): unknown {
    const v = this.junk(true);
    return this.pool.fdSafe(v, 'any') ? v : OOR_BASE + this.rng.int(1000);
  }

  closedFd(): number {
    const { pool, rng } = this;
    if (pool.closedRing.length > 0) {
      const fd = rng.pick(pool.closedRing);
      if (!pool.isOpen(fd)) return fd;
    }
    return OOR_BASE + rng.int(1 << 20);
  }

  badFd(): unknown {
    const { rng } = this;
    switch (rng.int(6)) {
      case 0: return this.closedFd();
      case 1: return rng.pick([OOR_BASE, 2 ** 31 - 1, OOR_BASE + 12345, 2 ** 31, 2 ** 31 + 1]);
      case 2: return rng.pick([-1, -(2 ** 31), 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0.5]);
      case 3: return rng.pick<unknown>(['3', '0', 3n, null, undefined, true, {}, [], new Number(3), this.primitiveTraps()]);
      default: return this.junkFd();
    }
  }

  /** An fd the fuzzer owns outright (or a closed one, when it owns none). */
  rawFd(): number {
    return this.pool.raw.size > 0 ? this.rng.pick([...this.pool.raw.keys()]) : this.closedFd();
  }

  /** An fd for a call that changes it but does not close it. */
  anyFd(): number {
    const r = this.rng.next();
    if (r < 0.65) return this.rawFd();
    if (r < 0.9) {
      const fds = this.pool.socketFds();
      return fds.length > 0 ? this.rng.pick(fds) : this.rawFd();
    }
    const fds = this.pool.selectorFds();
    return fds.length > 0 ? this.rng.pick(fds) : this.rawFd();
  }

  /** An fd for a read-only call: also stdin, stdout, stderr (and -0). */
  roFd(): number {
    if (this.rng.chance(0.08)) return this.rng.pick([0, 1, 2, -0]);
    return this.anyFd();
  }
}
