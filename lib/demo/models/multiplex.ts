/**
 * I/O multiplexing on one thread (the tutorial's third way), on a selector: the select, poll and epoll models
 * are this loop with their selector class. One wait reports every ready socket; the loop accepts, reads,
 * answers, and asks for writability only while a slow reader leaves output unsent.
 *
 * The loop waits at most 250 ms at a time and yields to Node's event loop between rounds (every 64 busy
 * rounds, or after an idle wait), so that Ctrl-C, timers (--delay) and worker messages are handled promptly.
 */
import { EVENT_READ, EVENT_WRITE, type BaseSelector, type EpollSelector, type PollSelector, type SelectSelector } from '../../selectors';
import type { Socket } from '../../socket';
import { Connection } from '../connection';
import { isTracing, log } from '../log';
import type { ServerOptions } from '../protocol';
import { openServer, type Running } from '../server';
import { tracedSelector } from '../trace';

type SelectorClass = typeof SelectSelector | typeof PollSelector | typeof EpollSelector;

const IDLE_WAIT_MS = 250;
const ROUNDS_PER_TURN = 64;

export function serveWithSelector(Selector: SelectorClass, model: string, opts: ServerOptions, reusePort = false): Running {
  const server = openServer(opts, model, { nonblocking: true, reusePort });
  const Sel = isTracing() ? tracedSelector(Selector) : (Selector as unknown as new () => BaseSelector<Connection | null>);
  const sel = new Sel() as BaseSelector<Connection | null>;
  sel.register(server, EVENT_READ, null); // data null: the listening socket
  const wait = opts.delay > 0 ? Math.min(IDLE_WAIT_MS, opts.delay) : IDLE_WAIT_MS;
  let running = true;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));

  // What a connection wants watched; a delayed answer (--delay) asks for writability when it is queued.
  const interest = (conn: Connection): void => {
    const events = (conn.wantsRead ? EVENT_READ : 0) | (conn.wantsWrite ? EVENT_WRITE : 0);
    if (conn.done || events === 0) return;
    if (sel.getKey(conn.sock).events !== events) sel.modify(conn.sock, events, conn);
  };

  const acceptAll = (): void => {
    for (;;) {
      let accepted: [Socket, import('../../address').Address] | null;
      try {
        accepted = server.accept();
      } catch (err) {
        // Out of fds, or a connection reset before we took it: log it and keep serving the others.
        log(`accept failed: ${(err as Error).message}`);
        return;
      }
      if (accepted === null) return;
      const [sock, address] = accepted;
      sock.setBlocking(false);
      let conn: Connection;
      try {
        conn = new Connection(sock, address, opts.delay, interest);
        sel.register(sock, EVENT_READ, conn);
      } catch (err) {
        // select() cannot hold an fd >= FD_SETSIZE: refuse that client, keep serving the others.
        log(`refusing ${(address as { address?: string }).address}:${(address as { port?: number }).port}: ${(err as Error).message}`);
        sock.close();
        continue;
      }
      if (conn.done) finish(conn);
      else interest(conn);
    }
  };

  const finish = (conn: Connection): void => {
    sel.unregister(conn.sock);
    conn.close();
  };

  const turn = (): void => {
    for (let round = 0; round < ROUNDS_PER_TURN && running; round++) {
      const ready = sel.select(wait);
      for (const [key, events] of ready) {
        const conn = key.data;
        if (conn === null) {
          acceptAll();
          continue;
        }
        if ((events & EVENT_READ) !== 0) conn.onReadable();
        if ((events & EVENT_WRITE) !== 0) conn.onWritable();
        if (conn.done) finish(conn);
        else interest(conn);
      }
      if (ready.length === 0) break; // idle: let the event loop run
    }
    if (running) setImmediate(turn);
    else {
      for (const key of [...sel.getMap().values()]) {
        if (key.data !== null) key.data.close();
      }
      sel.close();
      server.close();
      finished();
    }
  };
  setImmediate(turn);

  return {
    stop() {
      running = false;
      return done;
    },
  };
}

