/** What the main thread and the mutator thread (mutator.ts, mutator-worker.ts) share. */

/**
 * Control words (an Int32Array): KICK (bumped by the main thread to ask for a burst), ACK (the kick a burst
 * answers), STOP, TARGET (the pool index the next call uses), BURSTS and GROWS (counts), HINTS (how many of the
 * hints are set).
 */
export const M = { KICK: 0, ACK: 1, STOP: 2, TARGET: 3, BURSTS: 4, GROWS: 5, HINTS: 6 } as const;
export const CONTROL_WORDS = 8;
/** How many fds the hints hold. */
export const HINT_SLOTS = 32;

/**
 * The shared pool: [initial byteLength, maxByteLength (growable ones only)]. Generators take their offsets and
 * lengths from the initial sizes, never from byteLength now: a growable buffer only grows, so these are lower
 * bounds whatever the mutator did, and the main PRNG's choices never depend on the mutator's timing.
 */
export const SHARED_SIZES: ReadonlyArray<readonly [initial: number, max?: number]> = [
  [16], [64], [256], [4096], [65536], [0, 256], [16, 4096], [64, 65536],
];

/** What the mutator thread gets. */
export interface MutatorData {
  ctl: Int32Array;
  /** The fuzzer's own fds below FD_SETSIZE (and 0, 1, 2): the good values it writes besides random ones. */
  hints: Int32Array;
  pool: SharedArrayBuffer[];
  /** Where new buffers for the growable slots arrive. */
  port: import('node:worker_threads').MessagePort;
  seed: number;
  fdSetSize: number;
}

/** A fresh buffer for pool slot i. */
export interface NewBuffer {
  i: number;
  sab: SharedArrayBuffer;
}
