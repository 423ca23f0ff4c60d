/**
 * What the server models share: the listening socket, the handle the CLI stops them with, accept() and its
 * failures, and two skeletons: EventServer for the models that accept on a non-blocking listening socket when told
 * it is ready (nonblocking, select, poll, epoll, sigio), serveAccepting for those that accept with acceptAsync
 * (async, threads).
 */
import { Socket } from '../socket';
import type { Address } from '../address';
import { AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT } from '../constants';
import { setMaxListeners } from 'node:events';
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

/** What EventServer needs of a client (a readiness Connection; a completion model's own driver). */
export interface Client {
  /** True once it should be closed. */
  readonly done: boolean;
  /** Greets the client (logs it, sends Welcome). */
  start(): void;
  /** Closes its socket and logs it. */
  close(): void;
}

/** What a model does at the points EventServer leaves to it. */
export interface EventServerHooks<C extends Client> {
  /** accept() took a connection: make it a client and add() it, or refuse it (close its socket). */
  accepted(sock: Socket, address: Address): void;
  /** Out of fds: accept() is not called until resumed (stop watching the listening socket meanwhile). */
  paused?(): void;
  /** A client left, or ACCEPT_RETRY_MS passed: accept again (and watch the listening socket again). */
  resumed?(): void;
  /** A finished client is about to be closed (unregister it first). */
  leaving?(client: C): void;
  /** A finished client was closed: its fd is free. */
  left?(client: C): void;
}

/**
 * The skeleton of a model on the event loop with a non-blocking listening socket: its clients, accept() until it
 * would block, the pause when out of fds (see AcceptFailures), the removal of finished clients, and the stop
 * promise. The model supplies the loop: when to call acceptAll() and serve the clients, and, once `running` is
 * false, close().
 */
export class EventServer<C extends Client> implements Running {
  /** The clients being served, in the order they came. */
  readonly clients = new Set<C>();
  #running = true;
  #stopped: () => void = () => {};
  readonly #done = new Promise<void>((resolve) => (this.#stopped = resolve));
  readonly #failures = new AcceptFailures();
  #pause: NodeJS.Timeout | undefined; // out of fds: no accept() until this fires or a client leaves

  constructor(readonly server: Socket, private readonly hooks: EventServerHooks<C>) {}

  /** False once stop() was called: the model's loop should close() and end. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Accepts every waiting connection, handing each to `hooks.accepted`, until accept() would block or fails.
   * Out of fds, the connection stays in the backlog and the listening socket stays readable: accepting pauses
   * instead of spinning on the failure. Returns whether a connection was accepted.
   */
  acceptAll(): boolean {
    let any = false;
    while (this.#pause === undefined) {
      let accepted: [Socket, Address] | null;
      try {
        accepted = this.server.accept();
      } catch (err) {
        // Out of fds (pause), or a connection reset before we took it: log it and keep serving the others.
        if (this.#failures.failed(err)) this.#pauseAccepting();
        break;
      }
      if (accepted === null) break;
      this.#failures.succeeded();
      any = true;
      this.hooks.accepted(accepted[0], accepted[1]);
    }
    return any;
  }

  /** Serves `client` from now on, and greets it. */
  add(client: C): void {
    this.clients.add(client);
    client.start();
  }

  /** Closes a finished client (once), and accepts again if accepting was paused: an fd is free. */
  finish(client: C): void {
    if (!this.clients.delete(client)) return; // closed already
    this.hooks.leaving?.(client);
    client.close();
    this.hooks.left?.(client);
    this.#resume();
  }

  /** Closes every client that is done. */
  finishDone(): void {
    for (const client of this.clients) if (client.done) this.finish(client);
  }

  /** Tells the model to stop (`running` turns false); resolves once it has called close(). */
  stop(): Promise<void> {
    this.#running = false;
    return this.#done;
  }

  /** Closes every client and the listening socket, and resolves stop(). */
  close(): void {
    this.#running = false;
    clearTimeout(this.#pause);
    this.#pause = undefined;
    for (const client of this.clients) client.close();
    this.clients.clear();
    this.server.close();
    this.#stopped();
  }

  #pauseAccepting(): void {
    this.hooks.paused?.();
    this.#pause = setTimeout(this.#resume, ACCEPT_RETRY_MS);
  }

  readonly #resume = (): void => {
    if (this.#pause === undefined) return;
    clearTimeout(this.#pause);
    this.#pause = undefined;
    if (this.#running) this.hooks.resumed?.();
  };
}

/**
 * The skeleton of a model that accepts with acceptAsync (async, threads): hands each connection to `take`, with
 * the signal that stop() aborts, until stop(), which ends accepting, closes the listening socket and resolves once
 * `clientsGone()` has.
 */
export function serveAccepting(
  server: Socket,
  take: (sock: Socket, address: Address, signal: AbortSignal) => void,
  clientsGone: () => Promise<unknown>,
): Running {
  const abort = new AbortController();
  // Every waiting client may listen on this one signal: more than 10 is no leak, so no MaxListenersExceededWarning.
  setMaxListeners(0, abort.signal);
  const failures = new AcceptFailures();
  const accepting = (async () => {
    for (;;) {
      let accepted: [Socket, Address];
      try {
        accepted = await server.acceptAsync({ signal: abort.signal });
      } catch (err) {
        if (abort.signal.aborted || !(await failures.waitOut(err, abort.signal))) return;
        continue;
      }
      failures.succeeded();
      take(accepted[0], accepted[1], abort.signal);
    }
  })();
  return {
    async stop() {
      abort.abort();
      await accepting;
      server.close();
      await clientsGone();
    },
  };
}
