/**
 * The watchdog thread (see watchdog.ts): kills the process, naming the step, when the main thread makes no
 * progress for stallMs (a hang in native code) or the run exceeds timeLimitMs.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { WatchdogData } from './watchdog';

const { progress, names, seed, timeLimitMs, stallMs, command, tmp } = workerData as WatchdogData;
const start = Date.now();
let last = -2;
let since = Date.now();
const sleeper = new Int32Array(new SharedArrayBuffer(4));
// Loaded (no file of this thread is open any more): the main thread may take its baseline of open fds.
parentPort?.postMessage('ready');
for (;;) {
  Atomics.wait(sleeper, 0, 0, 250);
  const step = Atomics.load(progress, 0);
  const now = Date.now();
  if (step !== last) {
    last = step;
    since = now;
  }
  const stalled = now - since > stallMs;
  const late = now - start > timeLimitMs;
  if (stalled || late) {
    const name = names[Atomics.load(progress, 1)] ?? '?';
    const why = stalled ? `hang: no progress for ${stallMs} ms` : `time limit of ${timeLimitMs} ms exceeded`;
    fs.writeSync(
      2,
      `fuzz: FAILURE (${why}) seed=${seed} step=${step} call=${name}\n` +
        `  reproduce: ${command} --seed ${seed} --calls ${step + 1} --trace-from ${Math.max(0, step - 5)}\n`,
    );
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
    } catch {
      /* the kill matters more */
    }
    process.kill(process.pid, 'SIGKILL');
  }
}
