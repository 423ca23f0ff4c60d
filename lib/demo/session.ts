/**
 * One client's protocol session, apart from any socket: bytes in, answers out, by the tutorial's rules, with the
 * output the client has not taken yet. It never reads, writes or closes anything: a driver hands it what a read
 * delivered (received), and sends what it has to say (output, then sent). A readiness driver (connection.ts) calls
 * recvInto and send when told a socket is ready; a completion driver (io_uring, say) would hand it the bytes a
 * completed recv delivered, submit a send of `output`, and report the completion with sent(n).
 *
 * The rules: Welcome first; each message (what one read returns) is answered with a random integer 1..100, at
 * once or after `delay` ms (--delay); `exit` or the end of the stream ends the input, not the session: the answers
 * already due (queued, or waiting for their delay) still go out, and then the session is done. So a client that
 * half-closes after its last message gets that message's answer.
 *
 * Backpressure: while HIGH_WATER bytes or more wait for a slow reader, the session wants no input, so a client
 * that never reads cannot make the server hoard memory.
 */
import { WELCOME, answer, isExit } from './protocol';
import { log } from './log';

/** Unsent output above which a session takes no more input until the client reads. */
export const HIGH_WATER = 64 * 1024;

export class Session {
  // The output, oldest first: #head, then #rest. Answers are protocol.ts's preallocated Buffers, and the usual
  // session holds one at a time in #head: queuing and sending it touches no array (an array and its elements are
  // two more objects per message to bring into the cache, which at 1000 connections is not where they are).
  #head: Buffer | null = null;
  #rest: Buffer[] | null = null; // made when a second answer queues behind #head: most sessions never need it
  #offset = 0; // bytes of #head already sent
  #queued = 0;
  #delayed = 0; // answers waiting for --delay
  #inputDone = false; // exit or end of stream received: take no more
  #closing = false; // aborted (peer gone) or closed: nothing more to send

  /**
   * @param peer the client, as the log names it ("127.0.0.1:9999")
   * @param delay ms before each answer; a driver that waits itself (a blocking sleep) passes 0
   * @param onLater called when an answer is queued after its delay, later than the received() that caused it:
   *   the driver sends it (or asks for writability), or ends the session if that answer was its last
   */
  constructor(readonly peer: string, private readonly delay = 0, private readonly onLater?: () => void) {}

  /** Logs the client as the tutorial does and queues Welcome. */
  start(): void {
    log(`Connected with ${this.peer}`);
    this.#queue(WELCOME);
  }

  /**
   * Takes what one read delivered: `data[0, length)`, a message; `length` 0, the end of the stream. Returns
   * whether an answer is now queued (not with --delay: onLater says when), so that the driver sends it.
   */
  received(data: Uint8Array, length: number): boolean {
    if (length === 0 || isExit(data, length)) {
      this.#inputDone = true; // done once the answers due are out
      return false;
    }
    if (this.delay > 0) {
      this.#delayed++;
      setTimeout(this.#answerLate, this.delay);
      return false;
    }
    this.#queue(answer());
    return true;
  }

  // One function per session, not one per delayed message.
  readonly #answerLate = (): void => {
    this.#delayed--;
    if (this.#closing) return;
    this.#queue(answer());
    this.onLater?.();
  };

  /** What to send next: the unsent rest of the oldest output, or null when nothing waits. */
  get output(): Buffer | null {
    const head = this.#head;
    if (this.#closing || head === null) return null;
    return this.#offset === 0 ? head : head.subarray(this.#offset);
  }

  /** The driver sent the first `n` bytes of `output`. */
  sent(n: number): void {
    this.#offset += n;
    this.#queued -= n;
    if (this.#offset === this.#head!.length) {
      const rest = this.#rest;
      this.#head = rest !== null && rest.length > 0 ? rest.shift()! : null;
      this.#offset = 0;
    }
  }

  /** Whether to read: not after exit or the end of the stream, nor while too much output waits. */
  get wantsInput(): boolean {
    return !this.#closing && !this.#inputDone && this.#queued < HIGH_WATER;
  }

  /** Whether output waits to be sent. */
  get wantsOutput(): boolean {
    return !this.#closing && this.#queued > 0;
  }

  /** True once the driver should close: aborted, or the input ended and every answer due has been sent. */
  get done(): boolean {
    return this.#closing || (this.#inputDone && this.#queued === 0 && this.#delayed === 0);
  }

  /** The peer is gone (reset, say): nothing more is taken or sent, and the session is done. */
  abort(): void {
    this.#closing = true;
  }

  /** The driver has closed the connection: drops what was not sent and logs the close as the tutorial does. */
  close(): void {
    this.#closing = true;
    this.#head = null;
    this.#rest = null;
    log(`Connection from ${this.peer} closed\n`);
  }

  #queue(data: Buffer): void {
    if (this.#head === null) this.#head = data;
    else (this.#rest ??= []).push(data);
    this.#queued += data.length;
  }
}
