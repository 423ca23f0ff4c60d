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
import { trace } from '../log';
import type { ServerOptions } from '../protocol';
import { EventServer, openServer, type Running } from '../server';

/** fcntl(F_SETOWN, pid) and O_ASYNC: "send me SIGIO when this fd is ready". */
function signalDriven(sock: Socket): void {
  const fd = sock.fileno();
  fcntl(fd, F_SETOWN, process.pid);
  trace(fd, `fcntl(F_SETOWN, ${process.pid})  # SIGIO for this fd goes to this process`, undefined);
  const flags = fcntl(fd, F_GETFL);
  trace(fd, 'fcntl(F_GETFL)', `0x${flags.toString(16)}`);
  fcntl(fd, F_SETFL, flags | O_ASYNC);
  trace(fd, `fcntl(F_SETFL, 0x${(flags | O_ASYNC).toString(16)})  # + O_ASYNC: the kernel raises SIGIO when it is ready`, undefined);
}

// Reads per client per sweep. Draining a client until it would block lets one that sends faster than it is
// answered keep the thread forever; a client left with data is served again by a sweep queued right away.
const READS_PER_SWEEP = 64;

export function serve(opts: ServerOptions): Running {
  let again = false; // a sweep is queued
  const sweepSoon = (): void => {
    if (again) return;
    again = true;
    setImmediate(() => {
      again = false;
      sweep();
    });
  };
  const sweep = (): void => {
    if (!skel.running) return;
    skel.acceptAll();
    let more = false;
    for (const c of skel.clients) {
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
    skel.finishDone();
    if (more) sweepSoon();
  };
  const onSignal = (): void => {
    trace(null, 'signal SIGIO  # which fd? the signal does not say: sweep them all', 'handler runs');
    sweep();
  };
  process.on('SIGIO', onSignal); // before any socket can raise it: SIGIO's default action ends the process
  const skel: EventServer<Connection> = new EventServer(openServer(opts, 'sigio', { nonblocking: true }), {
    accepted(sock, address) {
      const conn = new Connection(sock, address, opts.delay, sweep);
      signalDriven(sock);
      skel.add(conn);
    },
    // Out of fds, the connection waits in the backlog, and no new SIGIO will say so: sweep again when accepting
    // may go on.
    resumed: sweepSoon,
  });
  signalDriven(skel.server);
  sweep(); // anything that came before O_ASYNC was set
  // A signal handler does not keep Node running; the server has nothing else on the event loop.
  const keepAlive = setInterval(() => {}, 0x7fffffff);
  return {
    stop() {
      clearInterval(keepAlive);
      process.off('SIGIO', onSignal);
      const stopped = skel.stop();
      skel.close();
      return stopped;
    },
  };
}
