/**
 * `--io threads`: one thread per client (the tutorial's first way). The main thread accepts on the event
 * loop; each accepted fd is handed to a new worker thread, which serves it with blocking calls, as the
 * tutorial's threaded server does. Threads are simple to write and cost memory and a scheduler slot each.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SHUT_RDWR } from '../../constants';
import { close, shutdown } from '../../raw';
import { log, isTracing, trace } from '../log';
import { peerName, type ServerOptions } from '../protocol';
import { openServer, serveAccepting, type Running } from '../server';

export function serve(opts: ServerOptions): Running {
  const clients = new Map<Worker, number>();
  return serveAccepting(openServer(opts, 'threads', { nonblocking: true }), (conn, address) => {
    conn.setBlocking(true); // the worker serves it with blocking calls
    const fd = conn.detach(); // the worker owns it now
    // A thread that cannot start, or cannot load its code (out of fds or memory: each thread has its own event
    // loop), never takes the fd: the client is refused, as the select model refuses what it cannot watch, and
    // the fd closed here.
    const refuse = (err: Error): void => {
      log(`refusing ${peerName(address)}: cannot start its thread: ${err.message}`);
      close(fd);
      trace(fd, 'close()  # its thread never took it', undefined);
    };
    let worker: Worker;
    try {
      worker = new Worker(path.join(__dirname, 'threads-worker.js'), {
        workerData: { fd, family: conn.family, address, delay: opts.delay, trace: isTracing() },
        stdout: false,
      });
    } catch (err) {
      refuse(err as Error);
      return;
    }
    const thread = worker.threadId;
    trace(fd, 'new Worker(threads-worker.js)  # a thread for this client, handed the fd', `thread ${thread}`);
    let serving = false; // the thread said it owns the fd (its messages all come before its 'exit')
    let failure: Error | undefined;
    clients.set(worker, fd);
    worker.on('message', (m) => {
      if (m === 'serving') serving = true;
    });
    worker.on('error', (err) => {
      if (serving) log(`worker failed: ${err.message}`);
      else failure = err;
    });
    worker.on('exit', () => {
      trace(null, `thread ${thread} ended  # its client is gone`, 'exit event');
      clients.delete(worker);
      if (!serving) refuse(failure ?? new Error('the thread ended before it took the connection'));
    });
  }, () => Promise.all([...clients].map(([worker, fd]) => {
    // A worker blocked in recv() wakes when its socket is shut down, sees end of stream, and exits.
    try {
      shutdown(fd, SHUT_RDWR);
      trace(fd, 'shutdown(SHUT_RDWR)  # wakes the thread blocked in recv: it sees the end of the stream', undefined);
    } catch {
      // already closed by the worker
    }
    return new Promise((resolve) => worker.once('exit', resolve));
  })));
}
