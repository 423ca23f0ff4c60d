/**
 * I/O multiplexing on one thread (the tutorial's third way), on a selector: the select, poll and epoll models
 * are this loop with their selector class. One wait reports every ready socket; the loop accepts, reads the
 * ready clients and then answers them (64 at a time), and asks for writability only while a slow reader leaves
 * output unsent.
 *
 * The loop waits at most 250 ms at a time and yields to Node's event loop between rounds (every 64 busy
 * rounds, or after an idle wait), so that Ctrl-C, timers (--delay) and worker messages are handled promptly.
 */
// From the defining modules, not the selectors' index: tsc makes each of the index's names a getter, and this
// loop reads EVENT_READ and EVENT_WRITE several times per message (see lib/selectors/index.ts).
import { EVENT_READ, EVENT_WRITE, type BaseSelector } from '../../selectors/base';
import type { SelectorInfo } from '../../selectors/kinds';
import { Connection } from '../connection';
import { isTracing, log } from '../log';
import { peerName, type ServerOptions } from '../protocol';
import { EventServer, openServer, type Running } from '../server';
import { tracedSelector } from '../trace';
import type { Socket } from '../../socket';

/** A class of the selector registry (lib/selectors/kinds.ts). */
type SelectorClass = SelectorInfo['cls'];

const IDLE_WAIT_MS = 250;
const ROUNDS_PER_TURN = 64;
// Ready clients read, then answered, per slice of a round (see turn).
const SLICE = 64;

/**
 * `source`: where connections come from instead of a listening socket of its own: a non-blocking Socket whose
 * accept() returns `[socket, address]` or null (a prefork child's channel to its parent).
 */
/**
 * A source of connections that stands in for a listening socket (prefork's channel from the parent); told when a
 * client's fd was closed, since what it holds in reserve may need that fd.
 */
export interface ConnectionSource extends Socket {
  fdFreed?(): void;
}

export function serveWithSelector(Selector: SelectorClass, model: string, opts: ServerOptions, reusePort = false, source?: ConnectionSource): Running {
  const server = source ?? openServer(opts, model, { nonblocking: true, reusePort });
  const Sel = isTracing() ? tracedSelector(Selector) : (Selector as unknown as new () => BaseSelector<Connection | null>);
  const sel = new Sel() as BaseSelector<Connection | null>;
  sel.register(server, EVENT_READ, null); // data null: the listening socket
  const wait = opts.delay > 0 ? Math.min(IDLE_WAIT_MS, opts.delay) : IDLE_WAIT_MS;

  // Watches what a connection wants (a delayed answer, --delay, asks for writability when it is queued), and
  // closes it once done. A connection that waits for nothing but a delayed answer is not watched meanwhile: its
  // socket may be readable for ever (the end of stream), which would make every wait return at once.
  const update = (conn: Connection): void => {
    if (conn.done) {
      skel.finish(conn);
      return;
    }
    const events = (conn.wantsRead ? EVENT_READ : 0) | (conn.wantsWrite ? EVENT_WRITE : 0);
    if (events === conn.watched) return; // the usual case after a message: nothing to tell the selector
    if (events === 0) {
      sel.unregister(conn.sock);
    } else if (conn.watched === 0) {
      sel.register(conn.sock, events, conn);
    } else {
      sel.modify(conn.sock, events, conn);
    }
    conn.watched = events;
  };

  const skel: EventServer<Connection> = new EventServer(server, {
    accepted(sock, address) {
      const conn = new Connection(sock, address, opts.delay, update);
      try {
        sel.register(sock, EVENT_READ, conn);
        conn.watched = EVENT_READ;
      } catch (err) {
        // select() cannot hold an fd >= FD_SETSIZE: refuse that client (closed before a word is sent to it, so
        // it sees the end of the stream at once), keep serving the others.
        log(`refusing ${peerName(address)}: ${(err as Error).message}`);
        sock.close();
        return;
      }
      skel.add(conn);
      update(conn);
    },
    // Out of fds, the listening socket stays readable with the connection it cannot take: stop watching it.
    paused: () => sel.unregister(server),
    resumed: () => sel.register(server, EVENT_READ, null),
    leaving(conn) {
      if (conn.watched !== 0) sel.unregister(conn.sock);
      conn.watched = 0;
    },
    left: () => source?.fdFreed?.(),
  });

  const turn = (): void => {
    for (let round = 0; round < ROUNDS_PER_TURN && skel.running; round++) {
      const ready = sel.select(wait);
      // Every ready client (of a slice: below) is read first, and answered after: the answers leave in a burst,
      // so that a client process that sleeps until its next answer is woken once for the burst, not once per
      // answer. The kernel charges a wake-up (on another CPU: an interrupt to that CPU) to the send(2) that causes
      // it. With each answer sent right after its read, the reads and JavaScript between two answers gave the load
      // generator of the benchmark time to fall asleep again: at 1000 connections that cost this server 4 to 20%
      // more CPU per message, most in send(2) (scripts/bench/ab.js, old loop against this one). The C reference
      // server has the same loop (it gains less from it: its answers follow each other faster).
      // A round is taken in slices of SLICE clients, read and then answered: one select() reports every ready
      // client (Python's EpollSelector asks epoll_wait for as many as are registered), thousands at 10000
      // connections, and the objects of thousands of clients read first are out of the cache again by the time
      // the same clients are answered. Sliced, the second pass finds them in the cache: at 10000 connections,
      // 11 misses of the last-level cache per message against 17, and 14 of the first level against 20
      // (scripts/bench/instr.js); 5 to 7% less CPU per message (scripts/bench/ab.js, the whole round against
      // slices of 64). The C reference server takes 1024 at a time, its epoll_wait's limit.
      for (let start = 0; start < ready.length; start += SLICE) {
        const end = Math.min(start + SLICE, ready.length);
        for (let i = start; i < end; i++) {
          const [key, events] = ready[i];
          const conn = key.data;
          if (conn === null) skel.acceptAll();
          else if ((events & EVENT_READ) !== 0) conn.receive();
        }
        // Then each one's output, if it has any: the answers just queued, and what waited for writability (a
        // client with nothing queued makes no call). update() is called in this loop only: TurboFan inlines the
        // loops' callees into this function within a budget, and a version that called update() in both loops
        // (a list of the clients to answer) left recvInto's and send's JavaScript out of line: 2624 instructions
        // per message at 100 connections against this loop's 2505 (callgrind, scripts/bench/instr.js).
        for (let i = start; i < end; i++) {
          const conn = ready[i][0].data;
          if (conn === null) continue;
          conn.onWritable();
          update(conn);
        }
      }
      if (ready.length === 0) break; // idle: let the event loop run
    }
    if (skel.running) setImmediate(turn);
    else {
      sel.close();
      skel.close();
    }
  };
  setImmediate(turn);
  return skel;
}
