/**
 * `--io nonblocking`: non-blocking sockets polled in a loop, the model the tutorial calls wasted work: every
 * pass asks every socket whether it has data, and most answers are "would block". To avoid burning a core,
 * a pass that found nothing sleeps 10 ms before the next, which is also the latency it adds.
 */
import { Connection } from '../connection';
import { trace } from '../log';
import type { ServerOptions } from '../protocol';
import { EventServer, openServer, type Running } from '../server';

const IDLE_SLEEP_MS = 10;

export function serve(opts: ServerOptions): Running {
  const skel: EventServer<Connection> = new EventServer(openServer(opts, 'nonblocking', { nonblocking: true }), {
    accepted: (sock, address) => skel.add(new Connection(sock, address, opts.delay)),
  });

  const pass = (): void => {
    if (!skel.running) {
      skel.close();
      return;
    }
    let progress = skel.acceptAll(); // accept() -> null: nobody waiting
    for (const c of skel.clients) {
      if (c.wantsRead && c.onReadable()) progress = true; // null from recv: nothing yet, ask again next pass
      if (c.wantsWrite && c.onWritable()) progress = true;
    }
    skel.finishDone();
    if (progress) setImmediate(pass);
    else {
      trace(null, `sleep ${IDLE_SLEEP_MS} ms  # the pass found nothing; asking again at once would burn a core`, 'setTimeout', 'pass');
      setTimeout(pass, IDLE_SLEEP_MS);
    }
  };
  setImmediate(pass);
  return skel;
}
