/**
 * The mutator: a second worker thread (started with the watchdog, unref'd, stopped at the end) that changes
 * arguments while the native code reads them. It holds a small pool of SharedArrayBuffers, plain and growable,
 * and in short bursts (up to 0.1 ms, or 0.05 to 0.2 ms after a kick) between pauses of 0 to 1 ms it writes into
 * them with Atomics.store: fds and event masks below FD_SETSIZE, the fuzzer's own fds, and hostile values
 * (negative numbers, 0x7fffffff, FD_SETSIZE and its neighbours, fds far beyond RLIMIT_NOFILE, random poll event
 * masks), each hostile value mostly for an instant only, so that a check sees a good value and a second read a
 * bad one. Now and then it grows a growable buffer (up to its maximum).
 *
 * Before a call given this memory the main thread kicks the mutator (naming the buffer) and spins up to 1 ms
 * until it has started a burst, so that the call runs while the memory changes (on a machine with a free core;
 * on a busy one the kick may come too late). The main thread never acts on what it reads back from this memory.
 */
import * as path from 'node:path';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { GrowableSharedArrayBuffer } from './es2024';
import { CONTROL_WORDS, HINT_SLOTS, M, type MutatorData, type NewBuffer, SHARED_SIZES } from './mutator-protocol';

function newShared(i: number): SharedArrayBuffer {
  const [n, max] = SHARED_SIZES[i];
  return max === undefined ? new SharedArrayBuffer(n) : new GrowableSharedArrayBuffer(n, { maxByteLength: max });
}

/** The pool indices of the growable buffers. */
const SHARED_GROWABLE = SHARED_SIZES.flatMap(([, max], i) => (max === undefined ? [] : [i]));

export class Mutator {
  /** The shared pool (see SHARED_SIZES); a growable slot gets a fresh buffer now and then. */
  readonly pool: SharedArrayBuffer[] = SHARED_SIZES.map((_, i) => newShared(i));
  readonly #ctl = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  readonly #hints = new Int32Array(new SharedArrayBuffer(4 * HINT_SLOTS));
  #worker: Worker | null = null;
  #port: MessagePort | null = null;
  #kicks = 0;
  #refreshAt = 0;

  /**
   * @param fdSetSize FD_SETSIZE: the good fds are below it.
   * @param onError a failure of the thread (ends the run).
   */
  constructor(
    readonly fdSetSize: number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Starts the thread with its own PRNG; resolves once it has loaded its modules and runs. */
  start(seed: number): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    port1.unref();
    this.#port = port1;
    const data: MutatorData = { ctl: this.#ctl, hints: this.#hints, pool: this.pool, port: port2, seed, fdSetSize: this.fdSetSize };
    const w = new Worker(path.join(__dirname, 'mutator-worker.js'), { workerData: data, transferList: [port2] });
    w.on('error', this.onError);
    return new Promise((resolve) => {
      w.once('message', () => {
        w.unref();
        this.#worker = w;
        resolve();
      });
    });
  }

  /** Asks for a burst on pool buffer `target`, and waits (1 ms at most) until one has started. */
  kick(target: number): void {
    if (this.#worker === null) return;
    const ctl = this.#ctl;
    Atomics.store(ctl, M.TARGET, target);
    this.#kicks = (this.#kicks + 1) | 0;
    const kick = this.#kicks;
    Atomics.store(ctl, M.KICK, kick);
    Atomics.notify(ctl, M.KICK);
    // A spin, not Atomics.wait: a second thread wake-up would double the wait.
    const until = performance.now() + 1;
    for (let i = 1; Atomics.load(ctl, M.ACK) !== kick; i++) if ((i & 255) === 0 && performance.now() >= until) break;
  }

  /** The fuzzer's fds, for the mutator to write as good values (those below FD_SETSIZE, as many as fit). */
  setHints(fds: readonly number[]): void {
    const good = fds.filter((fd) => fd < this.fdSetSize).slice(0, this.#hints.length);
    good.forEach((fd, i) => Atomics.store(this.#hints, i, fd));
    Atomics.store(this.#ctl, M.HINTS, good.length);
  }

  /** A fresh buffer in one growable slot (round robin): growth goes on all run long. */
  refreshGrowable(): void {
    const i = SHARED_GROWABLE[this.#refreshAt++ % SHARED_GROWABLE.length];
    this.pool[i] = newShared(i);
    if (this.#port !== null) this.#port.postMessage({ i, sab: this.pool[i] } satisfies NewBuffer);
  }

  /** The mutator's work, for FUZZ_VERBOSE. */
  stats(): string {
    return `mutator bursts=${Atomics.load(this.#ctl, M.BURSTS)} kicks=${this.#kicks} grows=${Atomics.load(this.#ctl, M.GROWS)}`;
  }

  /** Stops the thread: it ends its loop within a burst (0.2 ms at most); terminate() is only the fallback. */
  async stop(): Promise<void> {
    const w = this.#worker;
    if (w === null) return;
    this.#worker = null;
    Atomics.store(this.#ctl, M.STOP, 1);
    Atomics.notify(this.#ctl, M.KICK);
    const exited = new Promise((r) => w.once('exit', r));
    const timer = setTimeout(() => void w.terminate(), 2000);
    await exited;
    clearTimeout(timer);
    this.#port?.close();
  }
}
