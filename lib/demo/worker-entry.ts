/** One thread of `--workers N`: a model's server loop on a SO_REUSEPORT socket, until told to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import { setTrace } from './log';
import { modelInfo, type ModelName } from './models';
import type { ServerOptions } from './protocol';

const { model, opts, trace } = workerData as { model: ModelName; opts: ServerOptions; trace: boolean };
setTrace(trace);
modelInfo(model)
  .load()
  .then((m) => {
    const running = m.serve(opts, true);
    parentPort!.postMessage('listening');
    parentPort!.on('message', (msg) => {
      if (msg === 'stop') void running.stop().then(() => parentPort!.close());
    });
  })
  .catch((err: unknown) => parentPort!.postMessage(`failed: ${(err as Error).message}`));
