/** One thread of `--workers N`: a poll or epoll server loop on a SO_REUSEPORT socket, until told to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import { setTrace } from './log';
import type { ServerOptions } from './protocol';
import * as epoll from './models/epoll';
import * as poll from './models/poll';

const { model, opts, trace } = workerData as { model: 'poll' | 'epoll'; opts: ServerOptions; trace: boolean };
setTrace(trace);
try {
  const running = (model === 'epoll' ? epoll : poll).serve(opts, true);
  parentPort!.postMessage('listening');
  parentPort!.on('message', (m) => {
    if (m === 'stop') void running.stop().then(() => parentPort!.close());
  });
} catch (err) {
  parentPort!.postMessage(`failed: ${(err as Error).message}`);
}
