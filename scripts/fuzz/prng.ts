/**
 * The fuzzer's PRNG: mulberry32, small and fast. The main thread's one follows the seed, and so does every choice
 * it makes; callbacks and the mutator thread have their own (their timing is not the seed's).
 */

/** A mulberry32 generator: numbers in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed;
  return function next(): number {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded stream of choices. */
export class Rng {
  /** A number in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element (undefined, whatever T says, from an empty array: callers check, or want exactly that). */
  pick<T>(arr: readonly T[]): T {
    return arr[this.int(arr.length)];
  }

  /** Any 32-bit integer. */
  int32(): number {
    return (this.next() * 2 ** 32) | 0;
  }
}
