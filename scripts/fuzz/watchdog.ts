/**
 * The watchdog: a thread that kills the process if the main thread stalls (a hang in native code) or the run
 * exceeds its time limit, naming the step and the call. The main thread reports progress in shared memory.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** What the watchdog thread gets. */
export interface WatchdogData {
  /** [step, spec index], written by the main thread. */
  progress: Int32Array;
  /** The spec names, by index. */
  names: string[];
  seed: number;
  timeLimitMs: number;
  stallMs: number;
  /** How to run the fuzzer again, for the reproduce line. */
  command: string;
  /** The run's temp dir, removed before the kill. */
  tmp: string;
}

export class Watchdog {
  /** [step, spec index]. */
  readonly progress = new Int32Array(new SharedArrayBuffer(8));
  #worker: Worker | null = null;

  /** Starts the thread (unref'd: it never keeps the process alive); resolves once it has loaded and runs. */
  start(data: Omit<WatchdogData, 'progress'>): Promise<void> {
    const w = new Worker(path.join(__dirname, 'watchdog-worker.js'), {
      workerData: { ...data, progress: this.progress, stallMs: Math.min(data.stallMs, data.timeLimitMs) } satisfies WatchdogData,
    });
    this.#worker = w;
    return new Promise((resolve) => {
      w.once('message', () => {
        w.unref();
        resolve();
      });
    });
  }

  /** Marks progress: this step began. */
  step(step: number): void {
    Atomics.store(this.progress, 0, step);
  }

  /** Marks the spec of the current step. */
  spec(index: number): void {
    Atomics.store(this.progress, 1, index);
  }

  async stop(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    if (w !== null) await w.terminate();
  }
}
