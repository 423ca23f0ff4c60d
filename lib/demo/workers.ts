/**
 * `--workers N` (the models whose registry entry takes workers: poll and epoll): N threads, each with its own listening socket on the same port
 * (SO_REUSEPORT: the kernel spreads new connections over them) and its own selector loop, to use more than
 * one core. The main thread only starts them and stops them.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SOL_SOCKET, SO_REUSEPORT, AF_INET, AF_INET6, SOCK_STREAM } from '../constants';
import { isIP } from 'node:net';
import { log, isTracing, trace } from './log';
import { socketClass } from './server';
import type { ModelName } from './models';
import type { ServerOptions } from './protocol';
import type { Running } from './server';

export async function serveOnWorkers(model: ModelName, opts: ServerOptions): Promise<Running> {
  // Hold the port (chosen by the kernel when --port 0) until every worker has bound it too.
  const holder = new (socketClass())(isIP(opts.host) === 6 ? AF_INET6 : AF_INET, SOCK_STREAM);
  holder.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  holder.bind({ address: opts.host, port: opts.port });
  const port = (holder.getsockname() as { port: number }).port;
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < opts.workers; i++) {
      const worker = new Worker(path.join(__dirname, 'worker-entry.js'), {
        workerData: { model, opts: { ...opts, port }, trace: isTracing() },
      });
      workers.push(worker);
      trace(null, 'new Worker(worker-entry.js)  # --workers: a thread with its own listening socket and loop', `thread ${worker.threadId}`);
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (m) => (m === 'listening' ? resolve() : reject(new Error(String(m)))));
        worker.once('error', reject);
      });
    }
  } finally {
    holder.close();
  }
  log(`Waiting for connection on ${opts.host}:${port} (${model}, ${opts.workers} workers)...`);
  return {
    async stop() {
      await Promise.all(workers.map((w) => {
        const exited = new Promise((resolve) => w.once('exit', resolve));
        w.postMessage('stop');
        return exited;
      }));
    },
  };
}
