/**
 * `--io uring` (Linux 6.0+): asynchronous I/O, the tutorial's fifth model, with io_uring. The server never asks
 * whether a socket is ready: it hands the kernel whole operations and is told when each is done.
 *
 * One ring: accepts kept in flight (ACCEPTS of them, each re-queued as it completes), a multishot recv per client from a
 * provided-buffer ring (the kernel picks a 1024-byte buffer per message, the completion names it, and it is
 * recycled once the session has seen the bytes), a send per answer, and closes through the ring. Completions
 * arrive on the event loop (IoUring.watch); what the callback queues goes out in one io_uring_enter.
 *
 * Why not one multishot accept: the tutorial logs each client's address, and a multishot accept cannot report it
 * (its one address buffer is rewritten by every connection); getpeername() afterwards fails with ENOTCONN for a
 * client that has already reset, which the readiness models still log. Single-shot accepts carry their address.
 *
 * The protocol and its backpressure are the readiness models' Session (session.ts): while 64 KiB of a client's
 * answers wait, its recv is cancelled, and queued again once the client has read. Bytes that arrived in the
 * meantime are kept (their buffers held) and handed over then.
 */
import { AcceptFailures, ACCEPT_RETRY_MS, openServer, type Running } from '../server';
import { isTracing, log, traceLine } from '../log';
import { MESSAGE_SIZE, peerName, type ServerOptions } from '../protocol';
import { Session } from '../session';
import { close } from '../../raw';
import type { Address } from '../../address';
import {
  BufferRing, IoUring, IORING_CQE_F_MORE, URING_OP_ACCEPT, URING_OP_CANCEL, URING_OP_CLOSE, URING_OP_RECV_MULTISHOT,
  URING_OP_SEND, completionError,
} from '../../uring';
import { constants as osConstants } from 'node:os';

const ENTRIES = 1024; // submission slots; the ring has 4x as many completion slots
const BUFFERS = 4096; // provided buffers of MESSAGE_SIZE bytes (4 MiB): a power of 2
const GROUP = 0;
const ACCEPTS = 8; // accepts in flight at once
const E = osConstants.errno;
// Errors that end one connection, not the server.
const PEER_GONE = new Set([E.ECONNRESET, E.EPIPE, E.ETIMEDOUT, E.ENOTCONN, E.EHOSTUNREACH]);

// userData: a client's id * 4 + what the operation is. Id 0 is the listening socket.
const RECV = 0;
const SEND = 1;
const CANCEL = 2;
const CLOSE = 3;
const ACCEPT_USER = 0;

const OP_NAMES: Readonly<Record<number, string>> = {
  [URING_OP_ACCEPT]: 'accept', [URING_OP_RECV_MULTISHOT]: 'recv', [URING_OP_SEND]: 'send', [URING_OP_CLOSE]: 'close',
  [URING_OP_CANCEL]: 'cancel',
};

class Client {
  readonly session: Session;
  armed = false; // its multishot recv is live
  starved = false; // its recv ended with ENOBUFS: queued again at the end of the round
  cancelling = false; // a cancel of that recv is on its way
  sending = false;
  closing = false; // its close is queued: nothing more is queued for it
  ops = 0; // operations in flight: the id is reused only once they have all completed
  held: number[] = []; // (bid, length) pairs of bytes that came while the session wanted none

  constructor(readonly id: number, readonly fd: number, peer: string, delay: number, onLater: () => void) {
    this.session = new Session(peer, delay, delay > 0 ? onLater : undefined);
  }
}

export function serve(opts: ServerOptions, reusePort = false): Running {
  const server = openServer(opts, 'uring', { nonblocking: true, reusePort });
  const lfd = server.fileno();
  let ring: IoUring;
  let bufs: BufferRing;
  try {
    ring = new IoUring(ENTRIES);
    bufs = ring.bufferRing(GROUP, BUFFERS, MESSAGE_SIZE);
  } catch (err) {
    server.close();
    throw err;
  }
  const tracing = isTracing();
  const clients: Array<Client | undefined> = [undefined]; // by id; 0 is the listener
  const freeIds: number[] = [];
  const failures = new AcceptFailures();
  let accepting = 0; // accepts in flight
  let paused: NodeJS.Timeout | undefined; // out of fds: accept again when this fires or a client leaves
  let running = true;
  const starved: Client[] = []; // recv ended with ENOBUFS: queued again after this round's buffers are back

  const sqe = (what: string, fd: number, user: number, extra = ''): void => {
    if (tracing) traceLine(`sqe ${what} fd ${fd} user ${user}${extra}`);
  };

  const armAccept = (): void => {
    if (!running || paused !== undefined) return;
    for (; accepting < ACCEPTS; accepting++) {
      sqe('accept', lfd, ACCEPT_USER);
      ring.accept(lfd, ACCEPT_USER, { multishot: false, address: true });
    }
  };

  const resume = (): void => {
    if (paused === undefined) return;
    clearTimeout(paused);
    paused = undefined;
    armAccept();
    ring.submit();
  };

  // What a client needs next, queued: its answers, its recv (or the cancel of it), or its close.
  const update = (c: Client): void => {
    if (c.closing) return;
    const s = c.session;
    while (c.held.length > 0 && s.wantsInput) {
      const bid = c.held.shift()!;
      const n = c.held.shift()!;
      s.received(bufs.view(bid, n), n);
      bufs.recycle(bid);
    }
    if (s.done) {
      finish(c);
      return;
    }
    const out = s.output;
    if (!c.sending && out !== null) {
      const user = c.id * 4 + SEND;
      sqe('send', c.fd, user, ` (${out.length} bytes)`);
      ring.send(c.fd, out, user);
      c.sending = true;
      c.ops++;
    }
    if (s.wantsInput && !c.armed && !c.starved && c.held.length === 0) {
      const user = c.id * 4 + RECV;
      sqe('recv', c.fd, user, ' (multishot)');
      ring.recvMultishot(c.fd, bufs, user);
      c.armed = true;
      c.ops++;
    } else if (!s.wantsInput && c.armed && !c.cancelling) {
      // Backpressure (or the input ended): stop reading it.
      const user = c.id * 4 + CANCEL;
      sqe('cancel', c.fd, user, ` (of user ${c.id * 4 + RECV})`);
      ring.cancel(c.id * 4 + RECV, user);
      c.cancelling = true;
      c.ops++;
    }
  };

  // The session is done: cancel what is in flight on the fd and close it, through the ring.
  const finish = (c: Client): void => {
    if (c.closing) return;
    c.closing = true;
    for (let i = 0; i < c.held.length; i += 2) bufs.recycle(c.held[i]);
    c.held.length = 0;
    if (c.armed || c.sending) {
      sqe('cancel', c.fd, c.id * 4 + CANCEL, ' (all on the fd)');
      ring.cancelFd(c.fd, c.id * 4 + CANCEL);
      c.ops++;
    }
    sqe('close', c.fd, c.id * 4 + CLOSE);
    ring.closeFd(c.fd, c.id * 4 + CLOSE);
    c.ops++;
    c.session.close();
    resume(); // an fd is about to be free
  };

  const release = (c: Client): void => {
    if (c.closing && c.ops === 0 && clients[c.id] === c) {
      clients[c.id] = undefined;
      freeIds.push(c.id);
    }
  };

  const accepted = (fd: number, address: Address): void => {
    const id = freeIds.pop() ?? clients.length;
    const c: Client = new Client(id, fd, peerName(address), opts.delay, () => {
      update(c);
      ring.submit();
    });
    clients[id] = c;
    c.session.start();
    update(c);
  };

  const onAccept = (res: number, index: number): void => {
    accepting--;
    if (res >= 0) {
      failures.succeeded();
      const address = ring.acceptedAddress(index);
      if (running && address !== null) accepted(res, address);
      else ring.closeFd(res, CLOSE); // id 0's close: nothing to account
    } else if (res !== -E.ECANCELED && failures.failed(completionError(res, URING_OP_ACCEPT))) {
      // Out of fds: the connection stays in the backlog. Accept again once a client leaves or some time passed
      // (the other accepts in flight fail the same way, unlogged, and are not queued again meanwhile).
      paused ??= setTimeout(resume, ACCEPT_RETRY_MS);
    }
    armAccept();
  };

  const onRecv = (c: Client, res: number, flags: number): void => {
    const bid = BufferRing.bufferId(flags);
    if ((flags & IORING_CQE_F_MORE) === 0) {
      c.armed = false;
      c.cancelling = false;
      c.ops--;
    }
    if (res > 0 && bid >= 0) {
      if (c.closing) {
        bufs.recycle(bid);
      } else if (c.session.wantsInput && c.held.length === 0) {
        c.session.received(bufs.view(bid, res), res);
        bufs.recycle(bid);
      } else {
        c.held.push(bid, res); // read, but the session wants no input now: handed over when it does
      }
    } else if (bid >= 0) {
      bufs.recycle(bid);
    }
    if (c.closing) return;
    if (res === 0) {
      c.session.received(bufs.memory, 0); // the end of the stream
    } else if (res === -E.ENOBUFS) {
      c.starved = true;
      starved.push(c); // queued again once this round's buffers are back
    } else if (res < 0 && res !== -E.ECANCELED) {
      if (!PEER_GONE.has(-res)) log(`Connection from ${c.session.peer}: ${completionError(res, URING_OP_RECV_MULTISHOT).message}`);
      c.session.abort();
    }
  };

  const onSend = (c: Client, res: number): void => {
    c.sending = false;
    c.ops--;
    if (c.closing) return;
    if (res >= 0) {
      c.session.sent(res);
    } else if (res !== -E.ECANCELED) {
      if (!PEER_GONE.has(-res)) log(`Connection from ${c.session.peer}: ${completionError(res, URING_OP_SEND).message}`);
      c.session.abort();
    }
  };

  const completions = ring.completions;
  const onCompletions = (count: number): void => {
    if (tracing) traceLine(`io_uring_enter(GETEVENTS) -> ${count} completions`);
    for (let i = 0; i < count; i++) {
      const user = completions[4 * i];
      const res = completions[4 * i + 1];
      const flags = completions[4 * i + 2];
      const op = completions[4 * i + 3];
      const id = user >>> 2;
      if (tracing) traceCqe(user, res, flags, op, id, i);
      if (id === 0) {
        if (op === URING_OP_ACCEPT) onAccept(res, i);
        continue; // the cancel of the accept, the close of a connection reset before it was taken
      }
      const c = clients[id];
      if (c === undefined) continue;
      switch (user & 3) {
        case RECV:
          onRecv(c, res, flags);
          break;
        case SEND:
          onSend(c, res);
          break;
        default: // CANCEL, CLOSE
          c.ops--;
      }
      update(c);
      release(c);
    }
    for (const c of starved.splice(0)) {
      c.starved = false;
      update(c);
    }
  };

  const traceCqe = (user: number, res: number, flags: number, op: number, id: number, index: number): void => {
    const more = (flags & IORING_CQE_F_MORE) !== 0 ? ' more' : '';
    let what: string;
    if (res < 0) {
      what = `${OP_NAMES[op] ?? 'op'}() -> ${completionError(res, op).code}`;
    } else if (op === URING_OP_ACCEPT) {
      const a = ring.acceptedAddress(index);
      what = `accept() -> fd ${res} from ${a === null ? '?' : peerName(a)}`;
    } else if (op === URING_OP_RECV_MULTISHOT) {
      what = res === 0 ? "recv(1024) -> b'' (end of stream)" : `recv(${MESSAGE_SIZE}) -> ${res} bytes in buffer ${BufferRing.bufferId(flags)}`;
    } else if (op === URING_OP_SEND) {
      what = `send() -> ${res} sent`;
    } else {
      what = `${OP_NAMES[op] ?? 'op'}() -> ${res}`;
    }
    traceLine(`cqe user ${user} res ${res}${more}  # fd ${id === 0 ? lfd : clients[id]?.fd ?? '?'} ${what}`);
  };

  ring.watch(onCompletions);
  armAccept();
  ring.submit();

  return {
    async stop() {
      if (!running) return;
      running = false;
      clearTimeout(paused);
      paused = undefined;
      ring.unwatch();
      ring.close(); // cancels and waits for everything in flight; closes connections accepted but not taken
      for (const c of clients) {
        if (c === undefined) continue;
        if (!c.closing) {
          c.session.close();
          close(c.fd); // not closing yet: the ring never closed it

        }
      }
      clients.length = 1;
      server.close();
    },
  };
}
