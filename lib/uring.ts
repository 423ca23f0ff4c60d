/**
 * io_uring(7), Linux only: the fifth I/O model, completion-based. Where a readiness API (select, poll, epoll,
 * watch) says "fd 7 is readable" and the program then calls recv, a ring is handed whole operations ("receive
 * on fd 7 into this buffer", "send these bytes") and reports each one done: "request 12: 5 bytes".
 *
 * One ring per thread, owned by the thread that made it. Operations are queued (nothing happens yet), then
 * submitted together by one `io_uring_enter`; each completes with `(userData, res, flags, op)` in
 * {@link IoUring.completions}, an `Int32Array` the ring owns and rewrites on each wait. `res` is what the system
 * call would have returned, or `-errno`: {@link completionError} makes the Node-style error of a negative `res`
 * when you want one. Completions come synchronously ({@link IoUring.submitAndWait}) or on the event loop
 * ({@link IoUring.watch}).
 *
 * Memory: the kernel never reads or writes JavaScript memory after the call that queued the operation
 * returns. `send` copies its bytes when queued; `recv` lands in the ring's memory and is copied into your
 * buffer when its completion is drained; a provided-buffer ring ({@link IoUring.bufferRing}) is memory the
 * ring allocated. So a SharedArrayBuffer, a resizable or a transferred buffer cannot corrupt anything.
 *
 * Where io_uring is missing (`ENOSYS`: an old kernel, another OS) or forbidden (`EPERM`: Docker's default
 * seccomp profile, `kernel.io_uring_disabled`), {@link ioUringSupport} says so without throwing, and `new
 * IoUring()` throws an error that says which and what to do.
 */
import { constants as osConstants, release } from 'node:os';
import * as fs from 'node:fs';
import { native } from './binding';
import type { NativeIoUring } from './native';
import type { Address } from './address';
import {
  invalidArgValue, checkData, checkFd, checkInt, checkInt32, checkTimeout, errnoErrorFromNumber, invalidArgType, isBytes, byteLengthOf,
  type BytesLike, type Data, type SystemError,
} from './errors';

const k = native.constants as Readonly<Record<string, number>>;

/** The operation of a completion (its fourth number): `accept`. */
export const URING_OP_ACCEPT = 1;
/** `recv` into a caller's buffer. */
export const URING_OP_RECV = 2;
/** Multishot `recv` from a provided-buffer ring. */
export const URING_OP_RECV_MULTISHOT = 3;
/** `send`. */
export const URING_OP_SEND = 4;
/** `close` of an fd. */
export const URING_OP_CLOSE = 5;
/** A cancellation (by userData or by fd). */
export const URING_OP_CANCEL = 6;
/** `nop`. */
export const URING_OP_NOP = 7;
/** `timeout`. */
export const URING_OP_TIMEOUT = 8;

/** The syscall an operation's error names. */
const OP_SYSCALL: Readonly<Record<number, string>> = {
  [URING_OP_ACCEPT]: 'accept', [URING_OP_RECV]: 'recv', [URING_OP_RECV_MULTISHOT]: 'recv', [URING_OP_SEND]: 'send',
  [URING_OP_CLOSE]: 'close', [URING_OP_CANCEL]: 'cancel', [URING_OP_NOP]: 'nop', [URING_OP_TIMEOUT]: 'timeout',
};

/** Completion flag: the completion names a provided buffer, `flags >>> IORING_CQE_BUFFER_SHIFT`. */
export const IORING_CQE_F_BUFFER = 1;
/** Completion flag: a multishot operation goes on (more completions will follow for it). */
export const IORING_CQE_F_MORE = 2;
/** Completion flag: the socket had more data when this recv completed. */
export const IORING_CQE_F_SOCK_NONEMPTY = 4;
/** Where the buffer id sits in a completion's flags. */
export const IORING_CQE_BUFFER_SHIFT = 16;

/** Setup flags (io_uring_setup(2)), as {@link IoUring.setupFlags} reports them. */
export const IORING_SETUP_CQSIZE = 1 << 3;
export const IORING_SETUP_CLAMP = 1 << 4;
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;

/** Features (io_uring_params.features) the ring reports: `IORING_FEAT_EXT_ARG` is needed for timed waits. */
export const IORING_FEAT_NODROP = 1 << 1;
export const IORING_FEAT_FAST_POLL = 1 << 5;
export const IORING_FEAT_EXT_ARG = 1 << 8;

/** The largest `userData`. */
export const URING_MAX_USER_DATA = 0x7fffffff;

/** Whether this platform was built with io_uring (Linux); {@link ioUringSupport} says whether it works here. */
export const hasIoUring: boolean = native.hasIoUring;

/** What {@link ioUringSupport} answers. */
export interface IoUringSupport {
  /** Whether a ring can be made here. */
  supported: boolean;
  /** `ENOSYS`, `EPERM`, ... when not; null when supported. */
  code: string | null;
  /** Why not, and what to do; null when supported. */
  reason: string | null;
  /** The kernel's IORING_FEAT_* bits (0 when not supported). */
  features: number;
  /** Whether multishot accept and multishot recv exist (Linux 6.0+). */
  multishot: boolean;
}

function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release());
  if (m === null) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/** The multishot operations this library uses (accept 5.19, recv 6.0). */
const multishotKernel = process.platform === 'linux' && kernelAtLeast(6, 0);

function sysctlDisabled(): string | null {
  try {
    return fs.readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
  } catch {
    return null;
  }
}

/** Why io_uring_setup failed with `errno`, and what to do, in one sentence. */
function explain(errno: number): string {
  const code = errnoErrorFromNumber(errno, 'io_uring_setup').code;
  if (code === 'ENOSYS') {
    return process.platform === 'linux'
      ? `this kernel (${release()}) has no io_uring (Linux 5.1+; sockfd's uring model needs 6.0+): use epoll (--io epoll)`
      : `io_uring is Linux only (this is ${process.platform}): use poll or the event loop (--io poll, --io async)`;
  }
  if (code === 'EPERM') {
    const sysctl = sysctlDisabled();
    if (sysctl === '2') return 'io_uring is disabled by the kernel.io_uring_disabled sysctl (2): set it to 0 (sysctl -w kernel.io_uring_disabled=0), or use epoll';
    if (sysctl === '1') return 'io_uring is limited to privileged processes by the kernel.io_uring_disabled sysctl (1): set it to 0, add this user to kernel.io_uring_group, or use epoll';
    return 'io_uring is forbidden here (a seccomp filter, such as Docker\'s default profile, or a security module): run with a profile that allows io_uring_setup, io_uring_enter and io_uring_register, or use epoll';
  }
  if (code === 'ENOMEM') return 'the kernel refused the ring\'s memory (RLIMIT_MEMLOCK on kernels before 5.12?): raise ulimit -l, or use fewer entries';
  return `io_uring_setup failed (${code})`;
}

let supportCache: IoUringSupport | undefined;

/**
 * Whether io_uring works here, and why not: never throws. Made once per thread (a probe ring is set up and
 * closed); on a kernel without io_uring `code` is `ENOSYS`, where it is forbidden `EPERM`.
 * @example
 * const s = ioUringSupport();
 * if (!s.supported) console.log(`no io_uring: ${s.reason}`);
 */
export function ioUringSupport(): IoUringSupport {
  if (supportCache !== undefined) return { ...supportCache };
  let r: number;
  try {
    r = native.ioUringProbe();
  } catch {
    r = -osConstants.errno.ENOSYS;
  }
  supportCache = r >= 0
    ? { supported: true, code: null, reason: null, features: r, multishot: multishotKernel }
    : { supported: false, code: errnoErrorFromNumber(-r, 'io_uring_setup').code, reason: explain(-r), features: 0, multishot: false };
  return { ...supportCache };
}

/**
 * The Node-style error of a completion whose `res` is negative: `code`, `errno` (= `res`), and `syscall` naming
 * the operation (`op`, the completion's fourth number). Made only when asked for, so a steady state of
 * completions allocates nothing.
 * @example
 * if (res < 0) throw completionError(res, op);
 */
export function completionError(res: number, op: number): SystemError {
  checkInt(res, 'res', -0x7fffffff, -1);
  checkInt(op, 'op', 0, 255);
  return errnoErrorFromNumber(-res, OP_SYSCALL[op] ?? 'io_uring');
}

/** Options of `new IoUring()`. */
export interface IoUringOptions {
  /**
   * Exactly these IORING_SETUP_* flags instead of the best the kernel takes (`SINGLE_ISSUER | DEFER_TASKRUN`,
   * else `COOP_TASKRUN`, else none; always with `CQSIZE | CLAMP | SUBMIT_ALL` where taken).
   */
  setupFlags?: number;
}

/** Options of {@link IoUring.accept}. */
export interface UringAcceptOptions {
  /** One request, many connections (a completion each, with IORING_CQE_F_MORE): default where the kernel has it. */
  multishot?: boolean;
  /** Make the accepted sockets non-blocking (SOCK_NONBLOCK). They are always close-on-exec. */
  nonblocking?: boolean;
  /**
   * Have the kernel write the peer's address, for {@link IoUring.acceptedAddress} (single-shot only: a multishot
   * accept has one address buffer for all its connections). getpeername() after the fact fails with ENOTCONN
   * once the peer has reset the connection; this does not.
   */
  address?: boolean;
}

/** Options of {@link IoUring.recv}. */
export interface UringRecvOptions {
  offset?: number;
  length?: number;
  flags?: number;
}

/** The event-loop callback of {@link IoUring.watch}: `count` completions wait in `ring.completions`. */
export type UringCallback = (this: IoUring, count: number) => void;

/**
 * A provided-buffer ring: `count` buffers of `size` bytes that the kernel picks from for multishot receives.
 * A completion names its buffer (`bid`); read it with {@link BufferRing.view} and give it back with
 * {@link BufferRing.recycle}, or the kernel runs out (`ENOBUFS`, which also ends the multishot receive).
 */
export class BufferRing {
  /** All the buffers: buffer `bid` is bytes `[bid * size, (bid + 1) * size)`. Memory of the ring. */
  readonly memory: Uint8Array;

  readonly #recycle: (bid: number) => void;

  /** @internal Use {@link IoUring.bufferRing}. */
  constructor(recycle: (bid: number) => void, readonly group: number, readonly count: number, readonly size: number,
    memory: ArrayBuffer) {
    if (typeof recycle !== 'function') throw invalidArgType('recycle', 'of type function', recycle);
    this.#recycle = recycle;
    this.memory = new Uint8Array(memory);
  }

  /** The buffer id a completion names (its flags), or -1 when it names none. */
  static bufferId(flags: number): number {
    return (flags & IORING_CQE_F_BUFFER) !== 0 ? flags >>> IORING_CQE_BUFFER_SHIFT : -1;
  }

  /** The first `length` bytes of buffer `bid` (a view: valid until the buffer is recycled). */
  view(bid: number, length: number = this.size): Uint8Array {
    checkInt(bid, 'bid', 0, this.count - 1);
    checkInt(length, 'length', 0, this.size);
    return this.memory.subarray(bid * this.size, bid * this.size + length);
  }

  /** Gives buffer `bid` back to the kernel. */
  recycle(bid: number): void {
    checkInt(bid, 'bid', 0, this.count - 1);
    this.#recycle(bid);
  }
}

function uringClosed(): Error {
  const err = new Error('The ring is closed');
  (err as NodeJS.ErrnoException).code = 'ERR_URING_CLOSED';
  Error.captureStackTrace(err, uringClosed);
  return err;
}

function checkOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
}

const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

/**
 * An io_uring instance owned by the calling thread.
 * @example
 * using ring = new IoUring();
 * ring.recv(fd, buf, 1);
 * const n = ring.submitAndWait(1, 1000);
 * for (let i = 0; i < n; i++) {
 *   const [user, res, flags, op] = ring.completions.subarray(4 * i, 4 * i + 4);
 *   if (res < 0) throw completionError(res, op);
 * }
 * @see io_uring_setup(2), io_uring_enter(2), io_uring_register(2)
 */
export class IoUring {
  /** The ring's fd (close-on-exec). The ring owns it: close the ring, never the fd. */
  readonly fd: number;
  /** IORING_FEAT_* bits the kernel reports. */
  readonly features: number;
  /** The IORING_SETUP_* flags in use. */
  readonly setupFlags: number;
  readonly sqEntries: number;
  readonly cqEntries: number;
  /**
   * Where completions land: `(userData, res, flags, op)` at `[4i, 4i + 4)` for the `i`-th of the count the last
   * wait (or callback) reported; rewritten by the next.
   */
  readonly completions: Int32Array;
  /** Whether multishot accept and recv are available (Linux 6.0+). */
  readonly multishot: boolean;
  #native: NativeIoUring | null;
  readonly #groups = new Map<number, BufferRing>();

  /**
   * Sets up a ring of `entries` submission slots (rounded up to a power of 2, at most 32768) and 4x as many
   * completion slots.
   */
  constructor(entries = 256, options: IoUringOptions = {}) {
    checkInt(entries, 'entries', 1, 32768);
    checkOptions(options);
    const flags = options.setupFlags === undefined ? -1 : checkInt(options.setupFlags, 'options.setupFlags', 0, 0xffffffff);
    let n: NativeIoUring;
    try {
      n = new native.IoUring(entries, flags);
    } catch (err) {
      const e = err as SystemError;
      if (e.syscall === 'io_uring_setup' && typeof e.errno === 'number' && (e.code === 'ENOSYS' || e.code === 'EPERM' || e.code === 'ENOMEM')) {
        e.message = `io_uring_setup ${e.code}: ${explain(-e.errno)}`;
      }
      throw e;
    }
    const info = n.info();
    this.#native = n;
    this.fd = info.fd;
    this.features = info.features;
    this.setupFlags = info.flags;
    this.sqEntries = info.sqEntries;
    this.cqEntries = info.cqEntries;
    this.completions = new Int32Array(info.completions);
    this.multishot = multishotKernel;
  }

  #n(): NativeIoUring {
    if (this.#native === null) throw uringClosed();
    return this.#native;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#native === null;
  }

  /** Operations queued and not yet submitted. */
  get pending(): number {
    return this.#native?.pending() ?? 0;
  }

  /** Operations queued or submitted that have not completed for good (a live multishot counts once). */
  get inflight(): number {
    return this.#native?.inflight() ?? 0;
  }

  /**
   * Queues an accept on the listening socket `fd`: each completion's `res` is a new connection's fd
   * (close-on-exec), or `-errno`. Multishot (the default where the kernel has it) keeps accepting until it
   * fails or is cancelled; a completion without IORING_CQE_F_MORE is its last.
   * @see accept4(2)
   */
  accept(fd: number, userData: number, options: UringAcceptOptions = {}): void {
    checkFd(fd);
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    checkOptions(options);
    const multishot = options.multishot ?? (this.multishot && options.address !== true);
    if (multishot && options.address === true) {
      throw invalidArgValue('options', 'cannot ask for the address of a multishot accept', options);
    }
    this.#n().accept(fd, userData, multishot, options.nonblocking === true ? (k.SOCK_NONBLOCK ?? 0) : 0,
      options.address === true);
  }

  /**
   * The peer address of completion `index` (of the last wait or callback) when it is an accept queued with
   * `{ address: true }`; null otherwise.
   */
  acceptedAddress(index: number): Address | null {
    checkInt(index, 'index', 0, this.cqEntries - 1);
    const a = this.#n().acceptedAddress(index);
    return a as Address | null;
  }

  /**
   * Queues a recv into `buffer[offset, offset + length)`: the completion's `res` is the bytes received (0: end of
   * stream), copied into the buffer when the completion is drained. The ring holds the buffer until then. If
   * the window no longer exists then (the buffer shrank or was detached), nothing is copied and `res` is
   * `-EFAULT`. "Would block" never shows: the kernel waits for the data. With `MSG_TRUNC` in `flags`, a datagram
   * fills at most the window and `res` is its real length (which may exceed the window), and on a stream socket,
   * where the kernel discards bytes and writes none, `res` counts them and the window gets that many zeros.
   * @see recv(2)
   */
  recv(fd: number, buffer: BytesLike, userData: number, options: UringRecvOptions = {}): void {
    checkFd(fd);
    if (!isBytes(buffer)) throw invalidArgType('buffer', 'an instance of Buffer, TypedArray, DataView or ArrayBuffer', buffer);
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    checkOptions(options);
    const size = byteLengthOf(buffer);
    const offset = options.offset === undefined ? 0 : checkInt(options.offset, 'options.offset', 0, size);
    const length = options.length === undefined ? size - offset : checkInt(options.length, 'options.length', 0, size - offset);
    const flags = options.flags === undefined ? 0 : checkInt32(options.flags, 'options.flags');
    this.#n().recv(fd, buffer, offset, length, flags, userData);
  }

  /**
   * Queues a multishot recv: the kernel picks a buffer of `ring` for each message; each completion names it
   * (`BufferRing.bufferId(flags)`) and says how many bytes it holds. It goes on while completions carry
   * IORING_CQE_F_MORE; it ends at the end of the stream (`res` 0), on an error, or when the buffers run out
   * (`-ENOBUFS`): recycle buffers and queue it again. `MSG_TRUNC` is refused (`ERR_INVALID_ARG_VALUE`): the
   * buffers are shared by the ring's recvs, and on a stream socket the kernel would count bytes it never wrote.
   */
  recvMultishot(fd: number, ring: BufferRing, userData: number, flags = 0): void {
    checkFd(fd);
    if (!(ring instanceof BufferRing) || this.#groups.get(ring.group) !== ring) {
      throw invalidArgType('ring', 'a BufferRing of this IoUring', ring);
    }
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    checkInt32(flags, 'flags');
    // The buffers are the ring's, shared by the group's recvs: with MSG_TRUNC on a stream the kernel writes
    // nothing and still counts the bytes, so a completion would name an earlier message's bytes as its own.
    if ((flags & (k.MSG_TRUNC ?? 0)) !== 0) throw invalidArgValue('flags', 'must not include MSG_TRUNC for a multishot recv (use recv)', flags);
    this.#n().recvMultishot(fd, ring.group, flags, userData);
  }

  /**
   * Queues a send of `data` (copied now: the buffer is yours again when this returns). `res` is the bytes sent,
   * which on a stream socket can be fewer than asked. MSG_NOSIGNAL is added unless `flags` is given.
   * @see send(2)
   */
  send(fd: number, data: Data, userData: number, flags: number = k.MSG_NOSIGNAL ?? 0): void {
    checkFd(fd);
    checkData(data);
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    checkInt32(flags, 'flags');
    this.#n().send(fd, data, flags, userData);
  }

  /**
   * Queues a close of `fd` (not of the ring: that is {@link close}). A {@link watch}er of the fd is stopped now, as
   * `close()` does. Operations in flight on it go on (cancel them first with {@link cancelFd}).
   */
  closeFd(fd: number, userData: number): void {
    checkFd(fd);
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    this.#n().closeFd(fd, userData);
  }

  /**
   * Queues a cancellation of the operation in flight queued with `target` as its userData: the cancelled
   * operation completes with `-ECANCELED`, this one with 0, or `-ENOENT` when nothing matched (`-EALREADY`
   * when it was already running).
   */
  cancel(target: number, userData: number): void {
    checkInt(target, 'target', 0, URING_MAX_USER_DATA);
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    this.#n().cancel(target, userData);
  }

  /** Queues a cancellation of every operation in flight on `fd`: `res` is how many (0 when none). */
  cancelFd(fd: number, userData: number): void {
    checkFd(fd);
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    this.#n().cancelFd(fd, userData);
  }

  /** Queues a no-op: completes with 0. */
  nop(userData: number): void {
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    this.#n().nop(userData);
  }

  /** Queues a timer: completes with `-ETIME` after `ms` milliseconds (`-ECANCELED` if cancelled first). */
  timeout(ms: number, userData: number): void {
    checkInt(ms, 'ms', 0, 0x7fffffff);
    checkInt(userData, 'userData', 0, URING_MAX_USER_DATA);
    this.#n().timeout(ms, userData);
  }

  /**
   * Submits everything queued with one io_uring_enter; returns how many the kernel took. The kernel looks each
   * operation's fd up now, not when it was queued: an fd closed (and its number reused) in between is the new
   * file's.
   */
  submit(): number {
    return this.#n().submit();
  }

  /**
   * Submits what is queued and waits until at least `min` completions are ready or `timeoutMs` passed
   * (undefined, null or negative: no limit; 0: no wait), then moves every ready completion (at most
   * `cqEntries`) into {@link completions} and returns how many. The wait is sliced (50 ms) so that
   * terminating the worker is never held up.
   */
  submitAndWait(min = 1, timeoutMs?: number | null): number {
    checkInt(min, 'min', 0, this.cqEntries);
    return this.#n().wait(min, checkTimeout(timeoutMs));
  }

  /**
   * Sets up a provided-buffer ring for multishot receives: `count` buffers (a power of 2, at most 32768) of
   * `size` bytes, under the buffer group `group` (one ring per group).
   * @see io_uring_register(2) IORING_REGISTER_PBUF_RING (Linux 5.19+)
   */
  bufferRing(group: number, count: number, size: number): BufferRing {
    checkInt(group, 'group', 0, 0xffff);
    checkInt(count, 'count', 1, 32768);
    checkInt(size, 'size', 1, 1 << 20);
    const n = this.#n();
    const memory = n.addBufferRing(group, count, size);
    const ring = new BufferRing((bid) => {
      if (this.#native === null) throw uringClosed();
      n.recycle(group, bid);
    }, group, count, size, memory);
    this.#groups.set(group, ring);
    return ring;
  }

  /**
   * Delivers completions on the event loop: `callback(count)` with `count` completions in {@link completions},
   * all that were ready, in one call; what the callback queues is submitted when it returns. An eventfd
   * registered with the ring wakes the loop (with DEFER_TASKRUN the ring runs its deferred work first). While
   * watching, the ring keeps the process alive (see {@link unref}).
   */
  watch(callback: UringCallback): this {
    if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    this.#n().start((count: number) => callback.call(this, count));
    return this;
  }

  /** Stops delivering completions on the event loop. */
  unwatch(): this {
    this.#native?.stop();
    return this;
  }

  /** Lets the process exit while the ring is watched. */
  unref(): this {
    this.#native?.unref();
    return this;
  }

  /** Keeps the process alive while the ring is watched (the default). */
  ref(): this {
    this.#native?.ref();
    return this;
  }

  /**
   * Closes the ring: cancels what is in flight and waits (up to 1 s) for it, closes the fds of connections
   * accepted but not taken, and frees the ring. Idempotent. Returns false if some operation did not finish in
   * time (its memory is then left to the kernel, not freed).
   */
  close(): boolean {
    const n = this.#native;
    if (n === null) return true;
    this.#native = null;
    this.#groups.clear();
    return n.close();
  }

  [disposeSymbol](): void {
    this.close();
  }
}
