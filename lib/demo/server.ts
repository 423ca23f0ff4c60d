/** What the server models share: the listening socket, and the handle the CLI stops them with. */
import { Socket } from '../socket';
import { AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT } from '../constants';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { log, isTracing } from './log';
import { TracedSocket } from './trace';
import type { ServerOptions } from './protocol';

/** A running server: stop() closes its sockets and resolves when it has. */
export interface Running {
  stop(): Promise<void>;
}

/** The Socket class to use: one that prints its system calls under --trace. */
export function socketClass(): typeof Socket {
  return isTracing() ? TracedSocket : Socket;
}

/**
 * socket(), bind(), listen(), as the tutorial's server does. SO_REUSEADDR (which the tutorial lacks) lets the
 * server restart at once on a port whose old connections are still in TIME_WAIT; SO_REUSEPORT lets several
 * threads each listen on the same port (--workers).
 */
export function openServer(opts: ServerOptions, model: string, { nonblocking = false, reusePort = false } = {}): Socket {
  const S = socketClass();
  const s = new S(isIP(opts.host) === 6 ? AF_INET6 : AF_INET, SOCK_STREAM);
  try {
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (reusePort) s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    s.bind({ address: opts.host, port: opts.port });
    s.listen(opts.backlog);
    if (nonblocking) s.setBlocking(false);
  } catch (err) {
    s.close();
    throw err;
  }
  const { port } = s.getsockname() as { port: number };
  if (!reusePort || opts.port === 0) log(`Waiting for connection on ${opts.host}:${port} (${model})...`);
  return s;
}

/** accept() errors that mean "no fd (or memory) for this connection now": it stays in the backlog. */
const OUT_OF_FDS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);
/** How long a model stops accepting after running out of fds, before it tries again (or until a client leaves). */
export const ACCEPT_RETRY_MS = 100;

/**
 * Logs the failures of accept() without flooding the log. Out of fds, the connection stays in the backlog and
 * the listening socket stays readable: a model that tried again at once would spin on the failure (and, on the
 * event loop, starve everything else). So the first failure of a run is logged, and the model pauses accepting
 * for ACCEPT_RETRY_MS (less if one of its clients leaves first); the next success ends the run.
 */
export class AcceptFailures {
  #outOfFds = false;

  /** Logs a failed accept(); returns whether the model should pause accepting (out of fds). */
  failed(err: unknown): boolean {
    const e = err as NodeJS.ErrnoException;
    if (e.code === undefined || !OUT_OF_FDS.has(e.code)) {
      log(`accept failed: ${e.message}`); // a connection reset in the backlog, say: the next one may do
      return false;
    }
    if (!this.#outOfFds) log(`accept failed: ${e.message}: accepting again once a file descriptor is free`);
    this.#outOfFds = true;
    return true;
  }

  /**
   * For the models that accept with acceptAsync, which fails again at once while out of fds, without waiting:
   * retrying at once would run their accept loop on settled promises alone, and the event loop (the clients
   * that could free an fd) would never run. Logs the failure, waits ACCEPT_RETRY_MS if out of fds, and resolves
   * false if `signal` stopped the model meanwhile.
   */
  async waitOut(err: unknown, signal: AbortSignal): Promise<boolean> {
    if (!this.failed(err)) return true;
    try {
      await sleep(ACCEPT_RETRY_MS, undefined, { signal });
      return true;
    } catch {
      return false; // stopped
    }
  }

  /** accept() took a connection: a run of failures, if any, is over. */
  succeeded(): void {
    if (!this.#outOfFds) return;
    this.#outOfFds = false;
    log('accepting again');
  }
}
