/**
 * `--io sigio`: signal-driven I/O, the fourth of the tutorial's five I/O models. Each socket is put in
 * O_ASYNC mode with this process as its owner (F_SETOWN), so the kernel sends SIGIO when it becomes readable
 * or writable; the handler (run on Node's event loop) then serves every socket until it would block.
 * Signals do not queue: one SIGIO can stand for many events, so every handler run sweeps all sockets.
 */
import { F_GETFL, F_SETFL, F_SETOWN, O_ASYNC } from '../../constants';
import { fcntl } from '../../raw';
import type { Socket } from '../../socket';
import { Connection } from '../connection';
import type { ServerOptions } from '../protocol';
import { ACCEPT_RETRY_MS, AcceptFailures, openServer, type Running } from '../server';

/** fcntl(F_SETOWN, pid) and O_ASYNC: "send me SIGIO when this fd is ready". */
function signalDriven(sock: Socket): void {
  const fd = sock.fileno();
  fcntl(fd, F_SETOWN, process.pid);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
}

// Reads per client per sweep. Draining a client until it would block lets one that sends faster than it is
// answered keep the thread forever; a client left with data is served again by a sweep queued right away.
const READS_PER_SWEEP = 64;

export function serve(opts: ServerOptions): Running {
  let clients: Connection[] = [];
  let stopped = false;
  let again = false; // a sweep is queued
  const failures = new AcceptFailures();
  // Out of fds: the connection waits in the backlog, and no new SIGIO will say so; sweep again a little later.
  let retry: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    if (stopped) return;
    for (;;) {
      let accepted;
      try {
        accepted = server.accept();
      } catch (err) {
        if (failures.failed(err)) {
          retry ??= setTimeout(() => {
            retry = undefined;
            sweep();
          }, ACCEPT_RETRY_MS);
        }
        break;
      }
      if (accepted === null) break;
      failures.succeeded();
      accepted[0].setBlocking(false);
      signalDriven(accepted[0]);
      const conn = new Connection(accepted[0], accepted[1], opts.delay, sweep);
      conn.start();
      clients.push(conn);
    }
    let more = false;
    for (const c of clients) {
      // Read until it would block (the next SIGIO comes only for new data), or the client had its share.
      let reads = 0;
      while (c.onReadable()) {
        if (++reads === READS_PER_SWEEP) {
          more = true;
          break;
        }
      }
      c.onWritable();
    }
    if (clients.some((c) => c.done)) {
      clients = clients.filter((c) => {
        if (c.done) c.close();
        return !c.done;
      });
    }
    if (more && !again) {
      again = true;
      setImmediate(() => {
        again = false;
        sweep();
      });
    }
  };
  process.on('SIGIO', sweep); // before any socket can raise it: SIGIO's default action ends the process
  const server = openServer(opts, 'sigio', { nonblocking: true });
  signalDriven(server);
  sweep(); // anything that came before O_ASYNC was set
  // A signal handler does not keep Node running; the server has nothing else on the event loop.
  const keepAlive = setInterval(() => {}, 0x7fffffff);
  return {
    async stop() {
      stopped = true;
      clearInterval(keepAlive);
      clearTimeout(retry);
      process.off('SIGIO', sweep);
      for (const c of clients) c.close();
      server.close();
    },
  };
}
