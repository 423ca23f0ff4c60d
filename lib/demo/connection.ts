/**
 * The readiness driver of one client (nonblocking, select, poll, epoll, sigio): told that its socket is readable
 * or writable, it calls recvInto or send on it, hands what it read to the client's Session (session.ts, the
 * protocol and its backpressure limits) and sends what the session has to say. How readiness is learned is each
 * model's own business; wantsRead and wantsWrite say what to watch for.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from '../socket';
import type { Address } from '../address';
import { MESSAGE_SIZE, peerName } from './protocol';
import { Session } from './session';

// Errors that end one connection, not the server.
const PEER_GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH']);
// One read buffer for every connection of this thread: a read is handled before the next one starts.
const scratch = Buffer.allocUnsafe(MESSAGE_SIZE);

// What a read did: nothing (would block, or no input wanted), read (a message, the end of the stream, or an error
// that ended the session), or read a message whose answer is now queued.
const NOTHING = 0;
const READ = 1;
const ANSWERED = 2;
type Read = typeof NOTHING | typeof READ | typeof ANSWERED;

export class Connection {
  readonly session: Session;
  /** The events its model's selector watches for it now (0: not registered): kept by the model. */
  watched = 0;

  /**
   * Takes the accepted socket and makes it non-blocking; start() greets the client. Nothing is logged or sent
   * before, so that a model can still refuse the connection (select: an fd it cannot watch) without the client
   * being welcomed first.
   * @param onOutput called when output is queued later than the read that caused it (--delay), so the
   *   model can ask for writability, or close the connection if that answer was its last
   */
  constructor(readonly sock: Socket, address: Address, delay: number, onOutput?: (c: Connection) => void) {
    sock.setBlocking(false);
    this.session = new Session(peerName(address), delay, delay > 0 ? () => {
      this.onWritable();
      onOutput?.(this);
    } : undefined);
  }

  /** Logs the client and sends Welcome (or queues it, if the socket is full). */
  start(): void {
    this.session.start();
    this.onWritable();
  }

  /** True once the model should unregister and close it (see Session.done). */
  get done(): boolean {
    return this.session.done;
  }
  /** Whether to watch for input. */
  get wantsRead(): boolean {
    return this.session.wantsInput;
  }
  /** Whether to watch for writability: while output waits. */
  get wantsWrite(): boolean {
    return this.session.wantsOutput;
  }

  /**
   * Reads one message, if the session wants one, and sends its answer. One read per readiness report is enough
   * for level-triggered select, poll and epoll: what is left is reported again. Returns whether anything was read.
   */
  onReadable(): boolean {
    const got = this.#read();
    if (got === ANSWERED) this.onWritable(); // answer at once; wait for writability only if the socket is full
    return got !== NOTHING;
  }

  /**
   * Reads one message, as onReadable, and queues its answer without sending it: for a driver that reads every
   * ready client first and answers them after with onWritable (multiplex.ts).
   */
  receive(): void {
    this.#read();
  }

  #read(): Read {
    if (!this.session.wantsInput) return NOTHING;
    let n: number | null;
    try {
      n = this.sock.recvInto(scratch); // all of it: MESSAGE_SIZE bytes
    } catch (err) {
      this.#fail(err);
      return READ;
    }
    if (n === null) return NOTHING;
    return this.session.received(scratch, n) ? ANSWERED : READ;
  }

  /** Sends queued output until it is all sent or the socket would block. Returns whether anything was sent. */
  onWritable(): boolean {
    let progress = false;
    for (let out = this.session.output; out !== null; out = this.session.output) {
      let n: number | null;
      try {
        n = this.sock.send(out);
      } catch (err) {
        this.#fail(err);
        return true;
      }
      if (n === null) break;
      progress = true;
      this.session.sent(n);
    }
    return progress;
  }

  /** Closes the socket; the session logs it. */
  close(): void {
    this.sock.close();
    this.session.close();
  }

  #fail(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !PEER_GONE.has(code)) throw err;
    this.session.abort();
  }
}
