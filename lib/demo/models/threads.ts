/**
 * `--io threads`: one thread per client (the tutorial's first way). The main thread accepts on the event
 * loop; each accepted fd is handed to a new worker thread, which serves it with blocking calls, as the
 * tutorial's threaded server does. Threads are simple to write and cost memory and a scheduler slot each.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SHUT_RDWR } from '../../constants';
import { shutdown } from '../../raw';
import { log, isTracing } from '../log';
import type { ServerOptions } from '../protocol';
import { openServer, type Running } from '../server';

export function serve(opts: ServerOptions): Running {
  const server = openServer(opts, 'threads', { nonblocking: true });
  const abort = new AbortController();
  const clients = new Map<Worker, number>();

  const accepting = (async () => {
    for (;;) {
      let accepted;
      try {
        accepted = await server.acceptAsync({ signal: abort.signal });
      } catch (err) {
        if (abort.signal.aborted) return;
        log(`accept failed: ${(err as Error).message}`);
        continue;
      }
      const [conn, address] = accepted;
      conn.setBlocking(true); // the worker serves it with blocking calls
      const fd = conn.detach(); // the worker owns it now
      const worker = new Worker(path.join(__dirname, 'threads-worker.js'), {
        workerData: { fd, family: conn.family, address, delay: opts.delay, trace: isTracing() },
        stdout: false,
      });
      clients.set(worker, fd);
      worker.on('exit', () => clients.delete(worker));
      worker.on('error', (err) => log(`worker failed: ${err.message}`));
    }
  })();

  return {
    async stop() {
      abort.abort();
      await accepting;
      server.close();
      // A worker blocked in recv() wakes when its socket is shut down, sees end of stream, and exits.
      const exits = [...clients].map(([worker, fd]) => {
        try {
          shutdown(fd, SHUT_RDWR);
        } catch {
          // already closed by the worker
        }
        return new Promise((resolve) => worker.once('exit', resolve));
      });
      await Promise.all(exits);
    },
  };
}
