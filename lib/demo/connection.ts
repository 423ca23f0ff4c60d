/**
 * One client of a multiplexed server (select, poll, epoll, nonblocking, sigio): the protocol's state, the
 * output a slow reader has not taken yet, and nothing about how readiness is learned, which is each model's
 * own business. The server reads a client only while its unsent output is under HIGH_WATER, so a client that
 * never reads cannot make the server hoard memory, and never stalls the others.
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
  #closing = false;

  /**
   * @param onOutput called when output is queued later than the read that caused it (--delay), so the
   *   model can ask for writability
   */
  constructor(readonly sock: Socket, address: Address, private readonly delay: number, private readonly onOutput?: (c: Connection) => void) {
    this.peer = peerName(address);
    log(`Connected with ${this.peer}`);
    this.#queue(WELCOME);
    this.onWritable();
  }

  /** True once the client said exit, hung up, or failed: the model unregisters and closes it. */
  get done(): boolean {
    return this.#closing;
  }
  /** Whether to watch for input: not while too much output waits. */
  get wantsRead(): boolean {
    return !this.#closing && this.#queued < HIGH_WATER;
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
        this.#closing = true;
        break;
      }
      if (this.delay > 0) {
        setTimeout(() => {
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
