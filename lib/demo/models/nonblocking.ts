/**
 * `--io nonblocking`: non-blocking sockets polled in a loop, the model the tutorial calls wasted work: every
 * pass asks every socket whether it has data, and most answers are "would block". To avoid burning a core,
 * a pass that found nothing sleeps 10 ms before the next, which is also the latency it adds.
 */
import { Connection } from '../connection';
import { log } from '../log';
import type { ServerOptions } from '../protocol';
import { openServer, type Running } from '../server';

const IDLE_SLEEP_MS = 10;

export function serve(opts: ServerOptions): Running {
  const server = openServer(opts, 'nonblocking', { nonblocking: true });
  let clients: Connection[] = [];
  let running = true;
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
    for (;;) {
      let accepted;
      try {
        accepted = server.accept(); // null: nobody waiting
      } catch (err) {
        log(`accept failed: ${(err as Error).message}`);
        break;
      }
      if (accepted === null) break;
      accepted[0].setBlocking(false);
      clients.push(new Connection(accepted[0], accepted[1], opts.delay));
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
