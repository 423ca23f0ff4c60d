/**
 * The mutator thread (see mutator.ts): in short bursts it rewrites the shared pool with Atomics.store, good values
 * and hostile ones (mostly for an instant only), and now and then grows a growable buffer.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { asGrowable } from './es2024';
import { M, type MutatorData, type NewBuffer } from './mutator-protocol';
import { mulberry32 } from './prng';

const { ctl, hints, pool, port, seed, fdSetSize: FD_SETSIZE } = workerData as MutatorData;
const rnd = mulberry32(seed);
const int = (n: number): number => Math.floor(rnd() * n);
const HOSTILE = [
  -1, -2, -1024, -(2 ** 31), 2 ** 31 - 1, FD_SETSIZE, FD_SETSIZE + 1, FD_SETSIZE + 63, FD_SETSIZE + 64,
  2 * FD_SETSIZE, 4096, 65535, 65536, 1 << 20, 1 << 24, 1 << 30, 0x10000, 0x7fff0000,
];
const sabs = pool.map(asGrowable);
const views: Int32Array[] = sabs.map((b) => new Int32Array(b)); // length-tracking over the growable ones
const growable = sabs.flatMap((b, i) => (b.growable ? [i] : []));

/** Good for every reader: an fd below FD_SETSIZE and an event mask below 0x10000 at once. */
function good(): number {
  const n = Atomics.load(ctl, M.HINTS);
  return n > 0 && rnd() < 0.6 ? Atomics.load(hints, int(n)) : int(FD_SETSIZE);
}

function hostile(): number {
  switch (int(5)) {
    case 0:
    case 1:
      return HOSTILE[int(HOSTILE.length)];
    case 2:
      return (rnd() * 2 ** 32) | 0;
    case 3:
      return FD_SETSIZE + int(4 * FD_SETSIZE); // just past the fd_set: the stack around it
    default:
      return int(0x10000) | (rnd() < 0.3 ? 0x10000 << int(15) : 0); // a poll event mask, or one with high bits
  }
}

function grow(): void {
  const i = growable[int(growable.length)];
  const b = sabs[i];
  // In steps of 8 bytes: the main thread makes Int32Arrays and Float64Arrays of the whole buffer.
  const room = (b.maxByteLength - b.byteLength) >> 3;
  if (room <= 0) return;
  b.grow(b.byteLength + 8 * (rnd() < 0.1 ? room : 1 + int(Math.min(room, 8))));
  Atomics.add(ctl, M.GROWS, 1);
}

let seen = Atomics.load(ctl, M.KICK);
let target = -1;

/** A kick during a burst is answered at once, and the burst goes on for the new target. */
function answer(): boolean {
  const kick = Atomics.load(ctl, M.KICK);
  if (kick === seen) return false;
  seen = kick;
  target = Atomics.load(ctl, M.TARGET);
  Atomics.store(ctl, M.ACK, kick);
  Atomics.notify(ctl, M.ACK);
  return true;
}

function burst(ms: number): void {
  Atomics.add(ctl, M.BURSTS, 1);
  let end = performance.now() + ms;
  for (let it = 1; ; it++) {
    if ((it & 63) === 0) {
      if (answer()) end = performance.now() + 0.05 + rnd() * 0.15;
      if (performance.now() >= end || Atomics.load(ctl, M.STOP) !== 0) break;
    }
    const v = views[target >= 0 && rnd() < 0.8 ? target : int(views.length)];
    const n = v.length;
    if (n === 0) continue;
    const i = rnd() < 0.95 ? int(Math.min(n, 64)) : int(n);
    const r = rnd();
    if (r < 0.6) {
      // bad for an instant: a check before sees a good value, a read after it a bad one
      Atomics.store(v, i, hostile());
      Atomics.store(v, i, good());
    } else if (r < 0.85) Atomics.store(v, i, good());
    else if (r < 0.998) Atomics.store(v, i, hostile()); // left bad
    else grow();
  }
  // Most arrays good again, so that the next call's checks pass and its later reads race with the changes.
  for (const v of views) {
    if (rnd() < 0.7) for (let i = 0, n = Math.min(v.length, 64); i < n; i++) Atomics.store(v, i, good());
  }
}

// Loaded (no file of this thread is open any more): the main thread may take its baseline of open fds.
parentPort?.postMessage('ready');
while (Atomics.load(ctl, M.STOP) === 0) {
  // A pause of 0 to 1 ms, cut short by a kick.
  Atomics.wait(ctl, M.KICK, seen, rnd() < 0.2 ? 0 : rnd());
  if (Atomics.load(ctl, M.STOP) !== 0) break;
  const kicked = answer();
  if (!kicked) target = -1;
  burst(kicked ? 0.05 + rnd() * 0.15 : rnd() * 0.1);
  // New buffers for the growable slots (the old ones stop growing at their maximum).
  for (let m; (m = receiveMessageOnPort(port)) !== undefined; ) {
    const { i, sab } = m.message as NewBuffer;
    sabs[i] = asGrowable(sab);
    views[i] = new Int32Array(sab);
  }
}
