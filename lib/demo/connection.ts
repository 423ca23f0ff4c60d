/**
 * One client of a multiplexed server (select, poll, epoll, nonblocking, sigio): the protocol's state, the
 * output a slow reader has not taken yet, and nothing about how readiness is learned, which is each model's
 * own business. The server reads a client only while its unsent output is under HIGH_WATER, so a client that
 * never reads cannot make the server hoard memory, and never stalls the others.
 *
 * `exit` or the end of the stream ends the input, not the connection: the answers already due (queued, or
 * waiting for --delay) are still sent, as the blocking models do, and then the connection is done. A client that
 * half-closes (shuts down its writing side) after its last message gets that message's answer.
 */
import type { Socket } from '../socket';
import type { Address } from '../address';
import { MESSAGE_SIZE, WELCOME, answer, isExit, peerName } from './protocol';
import { log } from './log';

const HIGH_WATER = 64 * 1024;
// Errors that end one connection, not the server.
const PEER_GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH']);
// One read buffer for every connection of this thread: a read is handled before the next one starts.
const scratch = Buffer.allocUnsafe(MESSAGE_SIZE);

export class Connection {
  readonly peer: string;
  #out: Buffer[] = [];
  #offset = 0; // bytes of #out[0] already sent
  #queued = 0;
  #delayed = 0; // answers waiting for --delay
  #inputDone = false; // exit or end of stream read: read no more
  #closing = false; // failed (peer gone) or closed: nothing more to send

  /**
   * Takes the accepted socket; start() greets the client. Nothing is logged or sent before, so that a model can
   * still refuse the connection (select: an fd it cannot watch) without the client being welcomed first.
   * @param onOutput called when output is queued later than the read that caused it (--delay), so the
   *   model can ask for writability, or close the connection if that answer was its last
   */
  constructor(readonly sock: Socket, address: Address, private readonly delay: number, private readonly onOutput?: (c: Connection) => void) {
    this.peer = peerName(address);
  }

  /** Logs the client as the tutorial does and sends Welcome (or queues it, if the socket is full). */
  start(): void {
    log(`Connected with ${this.peer}`);
    this.#queue(WELCOME);
    this.onWritable();
  }

  /**
   * True once the model should unregister and close it: the client failed or hung up, or its input ended and
   * every answer due has been sent.
   */
  get done(): boolean {
    return this.#closing || (this.#inputDone && this.#queued === 0 && this.#delayed === 0);
  }
  /** Whether to watch for input: not after exit or the end of stream, nor while too much output waits. */
  get wantsRead(): boolean {
    return !this.#closing && !this.#inputDone && this.#queued < HIGH_WATER;
  }
  /** Whether to watch for writability: while output waits. */
  get wantsWrite(): boolean {
    return !this.#closing && this.#queued > 0;
  }

  /**
   * Reads one message (or, with `drain`, every message until the socket would block) and answers each.
   * One read per readiness report is enough for level-triggered select, poll and epoll: what is left is
   * reported again. Returns whether anything was read.
   */
  onReadable(drain = false): boolean {
    let progress = false;
    while (this.wantsRead) {
      let n: number | null;
      try {
        n = this.sock.recvInto(scratch, 0, MESSAGE_SIZE);
      } catch (err) {
        this.#fail(err);
        return true;
      }
      if (n === null) break;
      progress = true;
      if (n === 0 || isExit(scratch, n)) {
        this.#inputDone = true; // done once the answers due are out
        break;
      }
      if (this.delay > 0) {
        this.#delayed++;
        setTimeout(() => {
          this.#delayed--;
          if (this.#closing) return;
          this.#queue(answer());
          this.onWritable();
          this.onOutput?.(this);
        }, this.delay);
      } else {
        this.#queue(answer());
        this.onWritable(); // answer at once; wait for writability only if the socket is full
      }
      if (!drain) break;
    }
    return progress;
  }

  /** Sends queued output until it is all sent or the socket would block. Returns whether anything was sent. */
  onWritable(): boolean {
    let progress = false;
    while (this.#out.length > 0 && !this.#closing) {
      const head = this.#out[0];
      let n: number | null;
      try {
        n = this.sock.send(this.#offset === 0 ? head : head.subarray(this.#offset));
      } catch (err) {
        this.#fail(err);
        return true;
      }
      if (n === null) break;
      progress = true;
      this.#offset += n;
      this.#queued -= n;
      if (this.#offset === head.length) {
        this.#out.shift();
        this.#offset = 0;
      }
    }
    return progress;
  }

  /** Closes the socket and logs it as the tutorial does. */
  close(): void {
    this.#closing = true;
    this.#out = [];
    this.sock.close();
    log(`Connection from ${this.peer} closed\n`);
  }

  #queue(data: Buffer): void {
    this.#out.push(data);
    this.#queued += data.length;
  }

  #fail(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !PEER_GONE.has(code)) throw err;
    this.#closing = true;
  }
}
