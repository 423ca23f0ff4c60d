/**
 * `Socket`: an object that owns one fd, with the methods of Python's `socket.socket`. Where a method takes an
 * address it also takes a host name (`{ address: 'localhost', port }`), resolved with getaddrinfo for the
 * socket's family and type. Closing twice is harmless; any other use after close is an `EBADF` error.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { native } from './binding';
import * as raw from './raw';
import * as msg from './msg';
import { type Address, type AddressInput, type InetAddressInput } from './address';
import {
  abortError, asBytes, bufferChanged, checkData, checkFd, checkInt, checkInt32, errnoError, errnoErrorFromNumber, invalidArgType,
  invalidArgValue, type BytesLike, type Data,
} from './errors';
import { WATCH_READ, WATCH_WRITE } from './watch';
import { Readiness } from './readiness';

const k = native.constants as Readonly<Record<string, number>>;
const SOCK_NONBLOCK = k.SOCK_NONBLOCK ?? 0;
const TYPE_FLAGS = SOCK_NONBLOCK | (k.SOCK_CLOEXEC ?? 0);

/** Options of the async methods. */
export interface AsyncOptions {
  /** Aborts the wait: the promise rejects with an `AbortError` (`code: 'ABORT_ERR'`, `cause: signal.reason`). */
  signal?: AbortSignal;
}

/**
 * The system calls the async methods make, each as one non-blocking attempt through {@link Socket.attempt}:
 *
 * | call | arguments after the fd | result (null/false: would block) | made by |
 * |---|---|---|---|
 * | `'setBlocking'` | `false` | `undefined` | the first async call on a blocking socket |
 * | `'accept'` | | `raw.Accepted` (the new fd non-blocking), or `null` | acceptAsync |
 * | `'connect'` | the address (a host name already resolved) | `true` once connected, `false` in progress | connectAsync |
 * | `'getsockopt'` | an `SOL_SOCKET` option: `SO_ERROR` | the number | connectAsync, once writable |
 * | `'recv'` | size | a Buffer (empty at end of stream), or `null` | recvAsync |
 * | `'recvInto'` | buffer, offset, length | the byte count, or `null` | recvIntoAsync |
 * | `'send'` | the bytes still to send (a Uint8Array) | the count sent, or `null` | sendAllAsync |
 */
export type AsyncCall = 'accept' | 'connect' | 'getsockopt' | 'recv' | 'recvInto' | 'send' | 'setBlocking';
/** The first argument of an {@link AsyncCall} after the fd. */
export type AttemptArg = number | boolean | AddressInput | BytesLike;
/** What an {@link AsyncCall} returns. */
export type AttemptResult = raw.Accepted | Buffer | number | boolean | null | undefined;

/** Rejects the calls waiting on a Socket that is closed or detached. */
const closedError = (syscall: string): Error => errnoError('EBADF', syscall);

function checkOptions(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const signal = (options as AsyncOptions).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  return signal;
}
const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

export class Socket {
  #fd: number;
  #nonblocking: boolean;
  // The last async read of this stream socket returned less than it asked for: the receive buffer is empty, so
  // the next async read waits for readiness first (as libuv does after a partial read of a stream) instead of
  // spending a recv on "would block". Not for datagram and seqpacket sockets, where every message can be short.
  #drained = false;
  readonly #stream: boolean;
  // The event-loop side (the watcher, the waiting calls), created by the first async call that has to wait.
  #readiness: Readiness | null = null;
  /** The address family: `AF_INET`, `AF_INET6` or `AF_UNIX` (or another the caller chose). */
  readonly family: number;
  /** The socket type, without the `SOCK_NONBLOCK`/`SOCK_CLOEXEC` flags (as Python reports it). */
  readonly type: number;
  readonly protocol: number;

  /**
   * Creates a socket (close-on-exec, blocking unless `type` has `SOCK_NONBLOCK`), or, given `fileno`, takes
   * ownership of that fd as Python's `socket.socket(family, type, proto, fileno)` does.
   * @example const s = new Socket(AF_INET, SOCK_STREAM);
   */
  constructor(family: number = k.AF_INET, type: number = k.SOCK_STREAM, protocol = 0, fileno?: number) {
    checkInt32(family, 'family');
    checkInt32(type, 'type');
    checkInt32(protocol, 'protocol');
    this.#fd = fileno === undefined ? raw.socket(family, type, protocol) : checkFd(fileno, 'fileno');
    this.family = family;
    this.type = type & ~TYPE_FLAGS;
    this.#stream = this.type === k.SOCK_STREAM;
    this.protocol = protocol;
    this.#nonblocking = SOCK_NONBLOCK !== 0 && (type & SOCK_NONBLOCK) !== 0;
  }

  /**
   * Takes ownership of an existing socket fd, reading its family, type and protocol from the kernel
   * (`SO_DOMAIN`, `SO_TYPE`, `SO_PROTOCOL`). Not a socket: `ENOTSOCK`.
   */
  static fromFd(fd: number): Socket {
    checkFd(fd);
    const type = raw.getsockopt(fd, k.SOL_SOCKET, k.SO_TYPE);
    let family: number;
    let protocol = 0;
    if (k.SO_DOMAIN !== undefined) {
      family = raw.getsockopt(fd, k.SOL_SOCKET, k.SO_DOMAIN);
      protocol = raw.getsockopt(fd, k.SOL_SOCKET, k.SO_PROTOCOL);
    } else {
      const name = raw.getsockname(fd);
      family = name.family === 'IPv4' ? k.AF_INET : name.family === 'IPv6' ? k.AF_INET6 : k.AF_UNIX;
    }
    return new Socket(family, type, protocol, fd);
  }

  #live(syscall: string): number {
    if (this.#fd < 0) throw errnoError('EBADF', syscall);
    return this.#fd;
  }

  /** Turns a host name into an address of this socket's family; IP literals and Unix paths pass through. */
  #resolve(address: AddressInput): AddressInput {
    if (typeof address !== 'object' || address === null) return address; // raw reports the type error
    if ((address as { path?: unknown }).path !== undefined) return address;
    const inet = address as InetAddressInput;
    if (typeof inet.address !== 'string' || isIP(inet.address) !== 0) return address;
    if (this.family !== k.AF_INET && this.family !== k.AF_INET6) return address; // let the kernel say EAFNOSUPPORT
    const found = raw.getaddrinfo(inet.address, null, { family: this.family, type: this.type });
    return { ...inet, address: found[0].address };
  }

  /** The fd, or -1 once closed or detached. */
  fileno(): number {
    return this.#fd;
  }

  /** Whether `close()` or `detach()` has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Binds to an address. @see bind(2) */
  bind(address: AddressInput): void {
    const fd = this.#live('bind');
    raw.bind(fd, this.#resolve(address));
  }

  /** Starts accepting connections (default backlog 511). @see listen(2) */
  listen(backlog = 511): void {
    raw.listen(this.#live('listen'), backlog);
  }

  /**
   * Accepts a connection: `[socket, address]`, or `null` when none is waiting on a non-blocking socket. The new
   * socket is close-on-exec and blocking, as in Python.
   */
  accept(): [Socket, Address] | null {
    const r = raw.accept(this.#live('accept'));
    if (r === null) return null;
    // `this.constructor`: a subclass's accept gives sockets of the subclass.
    const Ctor = this.constructor as typeof Socket;
    return [new Ctor(this.family, this.type, this.protocol, r.fd), r.address];
  }

  /** Connects: `true` once connected, `false` while a non-blocking connect is in progress. @see connect(2) */
  connect(address: AddressInput): boolean {
    const fd = this.#live('connect');
    return raw.connect(fd, this.#resolve(address));
  }

  /** Up to `size` bytes (empty Buffer at end of stream), or `null` when it would block. @see recv(2) */
  recv(size: number, flags = 0): Buffer | null {
    return raw.recv(this.#live('recv'), size, flags);
  }

  /** Receives into `buffer[offset, offset + length)`: the byte count, or `null`. Allocates nothing. */
  recvInto(buffer: BytesLike, offset?: number, length?: number, flags = 0): number | null {
    return raw.recvInto(this.#live('recv'), buffer, offset, length, flags);
  }

  /** `{ data, address }`, or `null` when it would block. @see recvfrom(2) */
  recvfrom(size: number, flags = 0): raw.Datagram | null {
    return raw.recvfrom(this.#live('recvfrom'), size, flags);
  }

  /** Sends bytes or a UTF-8 string: the count sent, or `null` when it would block. @see send(2) */
  send(data: Data, flags = 0): number | null {
    return raw.send(this.#live('send'), data, flags);
  }

  /** Sends all of `data`, however many sends it takes. */
  sendAll(data: Data, flags = 0): void {
    raw.sendAll(this.#live('send'), data, flags);
  }

  /** Sends a datagram to `address` (a host name is resolved). @see sendto(2) */
  sendto(data: Data, address: AddressInput, flags = 0): number | null {
    const fd = this.#live('sendto');
    return raw.sendto(fd, data, this.#resolve(address), flags);
  }

  /** @see shutdown(2) */
  shutdown(how: number): void {
    raw.shutdown(this.#live('shutdown'), how);
  }

  /**
   * Closes the socket. A second close does nothing. Pending async calls reject with `EBADF`; the event-loop
   * watcher is stopped before the fd is closed, so the kernel never reports on a reused number.
   * @see close(2)
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#release();
    this.#fd = -1; // closed even if close(2) reports an error: the fd is released either way on Linux
    raw.close(fd);
  }

  /** Gives up ownership: returns the fd without closing it; the Socket then behaves as closed. */
  detach(): number {
    const fd = this.#fd;
    this.#release();
    this.#fd = -1;
    return fd;
  }

  /** Stops the watcher and rejects the waiting async calls with EBADF, before the fd is closed or given up. */
  #release(): void {
    const readiness = this.#readiness;
    if (readiness !== null) {
      this.#readiness = null;
      readiness.close(closedError);
    }
  }

  /** `setBlocking(false)` makes every call return `null` (or `false`) instead of waiting. */
  setBlocking(blocking: boolean): void {
    raw.setBlocking(this.#live('ioctl'), blocking);
    this.#nonblocking = !blocking;
  }

  getBlocking(): boolean {
    return raw.getBlocking(this.#live('fcntl'));
  }

  /** @see setsockopt(2) */
  setsockopt(level: number, name: number, value: number | boolean | BytesLike): void {
    raw.setsockopt(this.#live('setsockopt'), level, name, value);
  }

  /** A number, or a Buffer of at most `length` bytes when `length` is given. @see getsockopt(2) */
  getsockopt(level: number, name: number): number;
  getsockopt(level: number, name: number, length: number): Buffer;
  getsockopt(level: number, name: number, length?: number): number | Buffer {
    const fd = this.#live('getsockopt');
    return length === undefined ? raw.getsockopt(fd, level, name) : raw.getsockopt(fd, level, name, length);
  }

  /** @see getsockname(2) */
  getsockname(): Address {
    return raw.getsockname(this.#live('getsockname'));
  }

  /** @see getpeername(2) */
  getpeername(): Address {
    return raw.getpeername(this.#live('getpeername'));
  }

  // ---- messages: sendmsg, recvmsg, fd passing (the raw calls of ./msg on this socket's fd) ----------------

  /**
   * Sends one message gathered from `buffers`, with ancillary data, to `address` if given (a host name is
   * resolved): the bytes sent, or `null` when it would block. @see sendmsg(2)
   */
  sendmsg(buffers: ReadonlyArray<BytesLike | string>, ancdata: readonly msg.AncDataInput[] = [], flags = 0, address?: AddressInput | null): number | null {
    const fd = this.#live('sendmsg');
    return msg.sendmsg(fd, buffers, ancdata, flags, address === undefined || address === null ? address : this.#resolve(address));
  }

  /** `{ data, ancdata, flags, address }`, or `null` when it would block. @see recvmsg(2) */
  recvmsg(bufsize: number, ancbufsize = 0, flags = 0): msg.Message | null {
    return msg.recvmsg(this.#live('recvmsg'), bufsize, ancbufsize, flags);
  }

  /** recvmsg into the caller's buffers: `{ bytes, ancdata, flags, address }`, or `null`. @see recvmsg(2) */
  recvmsgInto(buffers: readonly BytesLike[], ancbufsize = 0, flags = 0): msg.MessageInto | null {
    return msg.recvmsgInto(this.#live('recvmsg'), buffers, ancbufsize, flags);
  }

  /**
   * Sends fds (numbers or Sockets) with a message, as Python's `socket.send_fds`: the bytes sent, or `null`.
   * @see unix(7) SCM_RIGHTS
   */
  sendFds(buffers: ReadonlyArray<BytesLike | string>, fds: readonly msg.FdLike[], flags = 0, address?: AddressInput | null): number | null {
    const fd = this.#live('sendmsg');
    return msg.sendFds(fd, buffers, fds, flags, address === undefined || address === null ? address : this.#resolve(address));
  }

  /**
   * Receives a message and at most `maxfds` fds, as Python's `socket.recv_fds`: `{ data, fds, flags, address }`,
   * or `null`. The fds are the caller's (`Socket.fromFd(fd)` makes a Socket of one). @see unix(7) SCM_RIGHTS
   */
  recvFds(bufsize: number, maxfds: number, flags = 0): msg.FdMessage | null {
    return msg.recvFds(this.#live('recvmsg'), bufsize, maxfds, flags);
  }

  // ---- the event loop -------------------------------------------------------------------------------------

  /**
   * One non-blocking attempt of a system call of the async methods: every system call they make goes through
   * here, one call each (see {@link AsyncCall} for the calls, their arguments and results), so a subclass that
   * overrides it sees them all. It never waits: would-block is `null` (`false` for connect), and the async
   * method then waits for readiness on the event loop and attempts again. `fd` is live and non-blocking (but
   * for `'setBlocking'`, which makes it so).
   */
  protected attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
    switch (call) {
      case 'recv':
        return raw.recv(fd, arg as number);
      case 'send':
        return raw.send(fd, arg as Data);
      case 'recvInto':
        return raw.recvInto(fd, arg as BytesLike, offset, length);
      case 'accept':
        return raw.accept(fd, SOCK_NONBLOCK);
      case 'connect':
        return raw.connect(fd, arg as AddressInput);
      case 'getsockopt':
        return raw.getsockopt(fd, k.SOL_SOCKET, arg as number);
      case 'setBlocking':
        raw.setBlocking(fd, arg as boolean);
        return undefined;
      default:
        call satisfies never; // a new AsyncCall without its case is a compile error
        throw invalidArgValue('call', 'is not a system call of the async methods', call);
    }
  }

  /** The fd for an attempt: checked live and not aborted, made non-blocking once (libuv's poll requires it). */
  #async(syscall: string, signal: AbortSignal | undefined): number {
    if (signal?.aborted) throw abortError(signal);
    const fd = this.#live(syscall);
    if (!this.#nonblocking) {
      this.attempt('setBlocking', fd, false);
      this.#nonblocking = true;
    }
    return fd;
  }

  /** Resolves when the fd is ready for `events` (WATCH_READ or WATCH_WRITE), on the event loop. */
  #wait(events: number, syscall: string, signal: AbortSignal | undefined): Promise<void> {
    const readiness = this.#readiness ?? (this.#readiness = new Readiness(this.#live(syscall)));
    return readiness.wait(events, syscall, signal);
  }

  /**
   * Accepts a connection without blocking the event loop: `[socket, address]`, the new socket non-blocking.
   * The listening socket is made non-blocking.
   */
  async acceptAsync(options?: AsyncOptions): Promise<[Socket, Address]> {
    const signal = checkOptions(options);
    for (;;) {
      const r = this.attempt('accept', this.#async('accept', signal)) as raw.Accepted | null;
      if (r !== null) {
        const Ctor = this.constructor as typeof Socket;
        const sock = new Ctor(this.family, this.type | SOCK_NONBLOCK, this.protocol, r.fd);
        if (SOCK_NONBLOCK === 0) sock.setBlocking(false);
        return [sock, r.address];
      }
      await this.#wait(WATCH_READ, 'accept', signal);
    }
  }

  /**
   * Connects without blocking the event loop. A host name is resolved with `dns.lookup` (Node's thread pool),
   * not the blocking getaddrinfo. Rejects with the connect error (`ECONNREFUSED`...) read from `SO_ERROR`.
   */
  async connectAsync(address: AddressInput, options?: AsyncOptions): Promise<void> {
    const signal = checkOptions(options);
    this.#async('connect', signal);
    let target = address;
    const inet = address as InetAddressInput;
    if (typeof address === 'object' && address !== null && (address as { path?: unknown }).path === undefined &&
        typeof inet.address === 'string' && isIP(inet.address) === 0 &&
        (this.family === k.AF_INET || this.family === k.AF_INET6)) {
      const found = await lookup(inet.address, { family: this.family === k.AF_INET6 ? 6 : 4 });
      target = { ...inet, address: found.address };
    }
    if (this.attempt('connect', this.#async('connect', signal), target) as boolean) return;
    await this.#wait(WATCH_WRITE, 'connect', signal);
    const soError = this.attempt('getsockopt', this.#live('connect'), k.SO_ERROR) as number;
    if (soError !== 0) {
      const t = target as InetAddressInput & { path?: string };
      throw errnoErrorFromNumber(soError, 'connect', t.path ?? t.address, t.path === undefined ? t.port : undefined);
    }
  }

  /**
   * Up to `size` bytes once some arrive (an empty Buffer at end of stream), without blocking the event loop.
   * Like libuv's reads, a read that returned less than asked for (the socket's buffer is empty now) makes the
   * next read wait for readiness before it tries: a server that answers and reads again does not pay for a
   * recv that can only say "would block".
   */
  async recvAsync(size: number, options?: AsyncOptions): Promise<Buffer> {
    const signal = checkOptions(options);
    checkInt(size, 'size', 0, 0x7fffffff); // here too: a drained read waits before any attempt checks it
    for (;;) {
      const fd = this.#async('recv', signal);
      if (!this.#drained) {
        const data = this.attempt('recv', fd, size) as Buffer | null;
        if (data !== null) {
          this.#drained = this.#stream && data.length < size;
          return data;
        }
      }
      await this.#wait(WATCH_READ, 'recv', signal);
      this.#drained = false; // readiness was reported
    }
  }

  /** `recvInto` once bytes arrive: the count (0 at end of stream). A short read makes the next one wait first. */
  async recvIntoAsync(buffer: BytesLike, offset?: number, length?: number, options?: AsyncOptions): Promise<number> {
    const signal = checkOptions(options);
    const [, , want] = raw.checkWindow(buffer, offset, length); // before any wait, as recvAsync checks its size
    for (;;) {
      const fd = this.#async('recv', signal);
      if (!this.#drained) {
        const n = this.attempt('recvInto', fd, buffer, offset, length) as number | null;
        if (n !== null) {
          this.#drained = this.#stream && n < want;
          return n;
        }
      }
      await this.#wait(WATCH_READ, 'recv', signal);
      this.#drained = false;
    }
  }

  /**
   * Sends all of `data`, waiting for writability between partial sends, without blocking the event loop. The
   * bytes are not copied: the caller's memory is read at each send, as `net.Socket#write` reads it. If the
   * buffer is resized smaller, transferred or detached while the call waits, the promise rejects with
   * `ERR_INVALID_STATE` and `err.bytesSent`, never resolves for bytes that were not sent.
   */
  async sendAllAsync(data: Data, options?: AsyncOptions): Promise<void> {
    const signal = checkOptions(options);
    const bytes = asBytes(checkData(data));
    const total = bytes.byteLength;
    let sent = 0;
    while (sent < total) {
      // A fixed-length view reads 0 bytes long once its buffer shrank below it or was detached.
      if (bytes.byteLength !== total) throw bufferChanged('send', sent, total);
      const n = this.attempt('send', this.#async('send', signal), sent === 0 ? bytes : bytes.subarray(sent)) as number | null;
      if (n === null) await this.#wait(WATCH_WRITE, 'send', signal);
      else sent += n;
    }
  }

  /** Closes the socket at the end of a `using` block. */
  [disposeSymbol](): void {
    this.close();
  }

  /** Lets `select()` take the Socket itself. */
  toString(): string {
    return `<Socket fd=${this.#fd} family=${this.family} type=${this.type} protocol=${this.protocol}>`;
  }
}

/** Throws the TypeError a non-Socket gets, for helpers that take one. @internal */
export function checkSocket(value: unknown, name: string): Socket {
  if (!(value instanceof Socket)) throw invalidArgType(name, 'an instance of Socket', value);
  return value;
}
