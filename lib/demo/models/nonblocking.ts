/**
 * `--io nonblocking`: non-blocking sockets polled in a loop, the model the tutorial calls wasted work: every
 * pass asks every socket whether it has data, and most answers are "would block". To avoid burning a core,
 * a pass that found nothing sleeps 10 ms before the next, which is also the latency it adds.
 */
import { Connection } from '../connection';
import type { ServerOptions } from '../protocol';
import { ACCEPT_RETRY_MS, AcceptFailures, openServer, type Running } from '../server';

const IDLE_SLEEP_MS = 10;

export function serve(opts: ServerOptions): Running {
  const server = openServer(opts, 'nonblocking', { nonblocking: true });
  let clients: Connection[] = [];
  let running = true;
  const failures = new AcceptFailures();
  let acceptAfter = 0; // out of fds: no accept() before this time, unless a client leaves
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));

  const pass = (): void => {
    if (!running) {
      for (const c of clients) c.close();
      server.close();
      finished();
      return;
    }
    let progress = false;
    while (Date.now() >= acceptAfter) {
      let accepted;
      try {
        accepted = server.accept(); // null: nobody waiting
      } catch (err) {
        if (failures.failed(err)) acceptAfter = Date.now() + ACCEPT_RETRY_MS;
        break;
      }
      if (accepted === null) break;
      failures.succeeded();
      accepted[0].setBlocking(false);
      const conn = new Connection(accepted[0], accepted[1], opts.delay);
      conn.start();
      clients.push(conn);
      progress = true;
    }
    for (const c of clients) {
      if (c.wantsRead && c.onReadable()) progress = true; // null from recv: nothing yet, ask again next pass
      if (c.wantsWrite && c.onWritable()) progress = true;
    }
    if (clients.some((c) => c.done)) {
      clients = clients.filter((c) => {
        if (c.done) c.close();
        return !c.done;
      });
      acceptAfter = 0; // fds are free again
    }
    if (progress) setImmediate(pass);
    else setTimeout(pass, IDLE_SLEEP_MS);
  };
  setImmediate(pass);

  return {
    stop() {
      running = false;
      return done;
    },
  };
}
