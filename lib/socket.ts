/**
 * `Socket`: an object that owns one fd, with the methods of Python's `socket.socket`. Where a method takes an
 * address it also takes a host name (`{ address: 'localhost', port }`), resolved with getaddrinfo for the
 * socket's family and type. Closing twice is harmless; any other use after close is an `EBADF` error.
 */
import { Buffer } from 'node:buffer';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { native } from './binding';
import * as raw from './raw';
import * as msg from './msg';
import { type Address, type AddressInput, type InetAddressInput } from './address';
import {
  abortError, asBytes, bufferChanged, byteLengthOf, windowChanged, checkData, checkFd, checkInt, checkInt32, errnoError, errnoErrorFromNumber, fdOfFileObj, invalidArgType,
  invalidArgValue, type BytesLike, type Data,
} from './errors';
import { ARM_WINDOW_GONE, WATCH_READ, WATCH_WRITE } from './watch';
import { Readiness } from './readiness';
import { checkSocketTimeout, deadlineAfter, getdefaulttimeout, timeoutError, waitReady } from './timeout';
import * as helpers from './helpers';

const k = native.constants as Readonly<Record<string, number>>;
const SOCK_NONBLOCK = k.SOCK_NONBLOCK ?? 0;
const TYPE_FLAGS = SOCK_NONBLOCK | (k.SOCK_CLOEXEC ?? 0);
const { POLLIN, POLLOUT } = k;
// The most one sendfile(2) moves on Linux (MAX_RW_COUNT).
const SENDFILE_CHUNK = 0x7ffff000;

/** What a call refuses in the socket's present state (Python's ValueError there). */
function invalidState(syscall: string, why: string): Error {
  const err = new Error(`${syscall} ${why}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_STATE';
  return err;
}

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

// Read once: Node 20 defines the globals Buffer and AbortSignal (and others) as getters, so each use of one is a
// call, and `instanceof` of an unknown value then a generic property load: per async call, and per message.
// (Buffer comes from node:buffer; AbortSignal has no module, and a program that replaces the global later still
// passes the real class's instances.) The check is `isPrototypeOf` of AbortSignal's prototype, read here, not
// `instanceof AbortSignal`, whose load of `.prototype` is generic on every async call (TurboFan folds it only for
// a class it knows as a constant, and a module's variable is not one): the same prototype-chain walk (AbortSignal
// has no Symbol.hasInstance, and a class's prototype cannot be replaced).
const AbortSignalPrototype: object = globalThis.AbortSignal.prototype;
const isPrototypeOf = Object.prototype.isPrototypeOf;

function checkOptions(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const signal = (options as AsyncOptions).signal;
  if (signal !== undefined && !isPrototypeOf.call(AbortSignalPrototype, signal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  return signal;
}
// recvAsync's slab (see Socket#recvSlab): a read of up to SLAB_MAX_READ bytes goes into the socket's slab, of
// four times the size asked for, between SLAB_MIN and SLAB_MAX bytes; a larger read gets a Buffer of its own.
const SLAB_MIN = 1024;
const SLAB_MAX = 16384;
const SLAB_MAX_READ = SLAB_MAX / 4;

// The class of Node's Buffers (FastBuffer), which Node gives as Buffer[Symbol.species]: recvAsync's views are
// made with it directly, `new BufferView(slab, offset, length)`. Buffer.from(slab, offset, length) checks its
// argument first with a call into C++ (isAnyArrayBuffer) and a byteLength getter call: about 240 instructions
// more per message (callgrind). Taken only if it is what it should be, a class whose instances are Buffers;
// else Buffer.from.
const BufferView: new (buffer: ArrayBuffer, byteOffset: number, length: number) => Buffer = (() => {
  const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
  if (typeof species === 'function' && species.prototype === Buffer.prototype) {
    return species as new (buffer: ArrayBuffer, byteOffset: number, length: number) => Buffer;
  }
  return function viaFrom(buffer: ArrayBuffer, byteOffset: number, length: number): Buffer {
    return Buffer.from(buffer, byteOffset, length);
  } as unknown as new (buffer: ArrayBuffer, byteOffset: number, length: number) => Buffer;
})();

// What a sendAllAsync that sent everything at once returns: one promise, settled once, for every such call (a
// settled promise holds nothing of the call); a new one per message was 48 bytes more to allocate and, on a
// server with many connections, one more cache line out of the cache by the time the connection comes round.
const SENT: Promise<void> = Object.freeze(Promise.resolve());

// The states of a waiting call are made by constructors, not object literals, as Readiness's waiters are (see
// there): V8 may move all of a literal's later objects to the old generation for good if the first ones it saw
// lived long, as a server's first waits do while its clients connect.

/** recvIntoAsync's arguments while it waits. */
class RecvIntoState {
  constructor(
    readonly buffer: BytesLike,
    readonly offset: number | undefined,
    readonly length: number | undefined,
    readonly want: number,
  ) {}
}

/** sendAllAsync's progress while it waits. */
class SendState {
  constructor(
    readonly bytes: Uint8Array,
    readonly total: number,
    public sent: number,
  ) {}
}

const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

// Socket's own waitReady, which #until compares with the object's: read once (in Socket's static block), since
// `Socket.prototype` in a method is a generic load (the class is a variable of the module to TurboFan, not a
// constant) on every async wait.
let plainWaitReady: unknown;
// Socket's own attempt(), to tell a subclass that overrides it (see #until).
let plainAttempt: unknown;

export class Socket {
  #fd: number;
  // Whether the fd is O_NONBLOCK (as far as this object set it): true in timeout mode too.
  #nonblocking: boolean;
  // Python's timeout: null blocking, 0 non-blocking, else milliseconds (the fd is then O_NONBLOCK and the
  // synchronous calls wait with poll() until a deadline; see #timed).
  #timeout: number | null;
  // The last async read of this stream socket returned less than it asked for: the receive buffer is empty, so
  // the next async read waits for readiness first (as libuv does after a partial read of a stream) instead of
  // spending a recv on "would block". Not for datagram and seqpacket sockets, where every message can be short.
  #drained = false;
  readonly #stream: boolean;
  // The event-loop side (the watcher, the waiting calls), created by the first async call that has to wait.
  #readiness: Readiness | null = null;
  // recvAsync's memory: its Buffers are views of this, which holds nothing but zeros and bytes this socket
  // received (see #recvSlab). Made by the first read that returned bytes: an idle connection has none.
  // The ArrayBuffer itself, not a Buffer over it: the addon reads it, and the views are made from it, so that a
  // read touches one object (a Buffer would be a second, and the addon would read both).
  #slab: ArrayBuffer | null = null;
  #slabSize = 0; // its byteLength when made (0 once transferred away: see #recvSlab)
  #slabUsed = 0;
  /** The address family: `AF_INET`, `AF_INET6` or `AF_UNIX` (or another the caller chose). */
  readonly family: number;
  /** The socket type, without the `SOCK_NONBLOCK`/`SOCK_CLOEXEC` flags (as Python reports it). */
  readonly type: number;
  readonly protocol: number;

  /**
   * Creates a socket (close-on-exec), or, given `fileno`, takes ownership of that fd as Python's
   * `socket.socket(family, type, proto, fileno)` does. Its timeout is {@link getdefaulttimeout}'s (`null`,
   * blocking, unless changed), or 0 (non-blocking) when `type` has `SOCK_NONBLOCK`, as in Python: pass
   * `SOCK_NONBLOCK` with a `fileno` that is non-blocking.
   * @example const s = new Socket(AF_INET, SOCK_STREAM);
   */
  constructor(family: number = k.AF_INET, type: number = k.SOCK_STREAM, protocol = 0, fileno?: number) {
    checkInt32(family, 'family');
    checkInt32(type, 'type');
    checkInt32(protocol, 'protocol');
    if (fileno !== undefined) checkFd(fileno, 'fileno');
    const nonblocking = SOCK_NONBLOCK !== 0 && (type & SOCK_NONBLOCK) !== 0;
    const timeout = nonblocking ? 0 : getdefaulttimeout();
    // A default timeout needs O_NONBLOCK: given at creation where the platform can, else set after.
    const timed = timeout !== null && !nonblocking;
    const fd = fileno ?? raw.socket(family, timed ? type | SOCK_NONBLOCK : type, protocol);
    if (timed && (fileno !== undefined || SOCK_NONBLOCK === 0)) {
      try {
        raw.setBlocking(fd, false);
      } catch (e) {
        if (fileno === undefined) raw.close(fd); // ours: not leaked; a fileno stays the caller's
        throw e;
      }
    }
    this.#fd = fd;
    this.family = family;
    this.type = type & ~TYPE_FLAGS;
    this.#stream = this.type === k.SOCK_STREAM;
    this.protocol = protocol;
    this.#nonblocking = nonblocking || timed;
    this.#timeout = timeout;
  }

  /**
   * Takes ownership of an existing socket fd, reading its family, type and protocol from the kernel
   * (`SO_DOMAIN`, `SO_TYPE`, `SO_PROTOCOL`). Not a socket: `ENOTSOCK`.
   */
  static fromFd(fd: number): Socket {
    checkFd(fd);
    // A non-blocking fd is adopted in non-blocking mode (timeout 0), as its type had SOCK_NONBLOCK.
    const type = raw.getsockopt(fd, k.SOL_SOCKET, k.SO_TYPE) | (raw.getBlocking(fd) ? 0 : SOCK_NONBLOCK);
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
   * One call of a synchronous method under the socket's timeout (Python's `sock_call`): `call(fd)` is one
   * attempt of the system call, `null` when it would block. Blocking (`null`) and non-blocking (`0`) sockets
   * make the one attempt and return what it gave. With a timeout the fd is non-blocking: while the attempt would
   * block, wait with poll(2) for `events` (`POLLIN`/`POLLOUT`) until the deadline, set once for the whole call,
   * then throw `ETIMEDOUT` named after `syscall`. Every timed method goes through here (or, for `connect` and
   * `sendAll`, the same wait), so a new method gets the timeout by passing its attempt.
   */
  #timed<T>(syscall: string, events: number, call: (fd: number) => T | null): T | null {
    // (recv, recvInto and send skip this, and the closure they would pass, when #untimed(): one attempt.)
    const fd = this.#live(syscall);
    const r = call(fd);
    const timeout = this.#timeout;
    if (r !== null || timeout === null || timeout === 0) return r;
    const deadline = deadlineAfter(timeout);
    for (;;) {
      if (!waitReady(fd, events, deadline)) throw timeoutError(syscall);
      const again = call(fd);
      if (again !== null) return again;
    }
  }

  /** Whether a synchronous call is one attempt, as #timed makes it with no timeout (blocking or non-blocking). */
  #untimed(): boolean {
    return this.#timeout === null || this.#timeout === 0;
  }

  /**
   * Sets Python's timeout: `null` (or `undefined`) makes the socket blocking, `0` non-blocking (calls return
   * `null` instead of waiting), a positive number of milliseconds (fractions round up) makes each synchronous
   * call wait at most that long (with poll(2) on a non-blocking fd) and then throw `ETIMEDOUT`. Negative is a
   * `RangeError`. One `ioctl(FIONBIO)`. The async methods ignore it and set it to 0.
   * @example sock.settimeout(5000); sock.recv(1024); // throws `recv ETIMEDOUT` after 5 s of silence
   */
  settimeout(timeoutMs: number | null | undefined): void {
    const timeout = checkSocketTimeout(timeoutMs, 'timeoutMs');
    raw.setBlocking(this.#live('ioctl'), timeout === null);
    this.#nonblocking = timeout !== null;
    this.#timeout = timeout;
  }

  /** The timeout: `null` blocking, `0` non-blocking, else milliseconds. Python's `gettimeout()`. */
  gettimeout(): number | null {
    return this.#timeout;
  }

  /**
   * Accepts a connection: `[socket, address]`, or `null` when none is waiting on a non-blocking socket. The new
   * socket is close-on-exec and takes the default timeout ({@link getdefaulttimeout}: blocking unless set), as
   * in Python. With a timeout: `accept ETIMEDOUT` when none came in time.
   */
  accept(): [Socket, Address] | null {
    const r = this.#timed('accept', POLLIN, (fd) => raw.accept(fd));
    if (r === null) return null;
    // `this.constructor`: a subclass's accept gives sockets of the subclass.
    const Ctor = this.constructor as typeof Socket;
    return [new Ctor(this.family, this.type, this.protocol, r.fd), r.address];
  }

  /**
   * Connects: `true` once connected, `false` while a non-blocking connect is in progress. With a timeout: the
   * non-blocking connect, a wait for writability until the deadline, then `SO_ERROR` (`connect ECONNREFUSED
   * 127.0.0.1:9999`), or `connect ETIMEDOUT 127.0.0.1:9999` when it did not complete in time (the kernel may
   * still be trying: close the socket). @see connect(2)
   */
  connect(address: AddressInput): boolean {
    const fd = this.#live('connect');
    const target = this.#resolve(address);
    const timeout = this.#timeout;
    if (raw.connect(fd, target)) return true;
    if (timeout === null || timeout === 0) return false;
    const deadline = deadlineAfter(timeout);
    const t = target as InetAddressInput & { path?: string };
    const [where, port] = t.path !== undefined ? [t.path, undefined] : [t.address, t.port];
    if (!waitReady(fd, POLLOUT, deadline)) throw timeoutError('connect', where, port);
    const soError = raw.getsockopt(fd, k.SOL_SOCKET, k.SO_ERROR);
    if (soError !== 0) throw errnoErrorFromNumber(soError, 'connect', where, port);
    return true;
  }

  // recv, recvInto and send: the per-message calls of a readiness server. Their timed path (a closure over their
  // arguments) is a method of its own: a method that makes a closure allocates the closure's context at every
  // call, on the path that makes none too.

  /**
   * Up to `size` bytes (empty Buffer at end of stream), or `null` when it would block; with a timeout,
   * `recv ETIMEDOUT` when nothing came in time. @see recv(2)
   */
  recv(size: number, flags = 0): Buffer | null {
    if (this.#untimed()) return raw.recv(this.#live('recv'), size, flags);
    return this.#recvTimed(size, flags);
  }

  #recvTimed(size: number, flags: number): Buffer | null {
    return this.#timed('recv', POLLIN, (fd) => raw.recv(fd, size, flags));
  }

  /** Receives into `buffer[offset, offset + length)`: the byte count, or `null`. Allocates nothing. */
  recvInto(buffer: BytesLike, offset?: number, length?: number, flags = 0): number | null {
    if (this.#untimed()) return raw.recvInto(this.#live('recv'), buffer, offset, length, flags);
    return this.#recvIntoTimed(buffer, offset, length, flags);
  }

  #recvIntoTimed(buffer: BytesLike, offset: number | undefined, length: number | undefined, flags: number): number | null {
    return this.#timed('recv', POLLIN, (fd) => raw.recvInto(fd, buffer, offset, length, flags));
  }

  /** `{ data, address }`, or `null` when it would block. @see recvfrom(2) */
  recvfrom(size: number, flags = 0): raw.Datagram | null {
    return this.#timed('recvfrom', POLLIN, (fd) => raw.recvfrom(fd, size, flags));
  }

  /** Sends bytes or a UTF-8 string: the count sent, or `null` when it would block. @see send(2) */
  send(data: Data, flags = 0): number | null {
    if (this.#untimed()) return raw.send(this.#live('send'), data, flags);
    return this.#sendTimed(data, flags);
  }

  #sendTimed(data: Data, flags: number): number | null {
    return this.#timed('send', POLLOUT, (fd) => raw.send(fd, data, flags));
  }

  /**
   * Sends all of `data`, however many sends it takes. With a timeout, the timeout bounds the whole call (as
   * Python's `sendall` since 3.5): when it runs out, `send ETIMEDOUT` with `err.bytesSent`, how much went.
   * Blocking and non-blocking sockets behave as the raw {@link raw.sendAll}.
   */
  sendAll(data: Data, flags = 0): void {
    const fd = this.#live('send');
    const timeout = this.#timeout;
    if (timeout === null || timeout === 0) return raw.sendAll(fd, data, flags);
    const bytes = asBytes(checkData(data));
    checkInt32(flags, 'flags'); // here too: empty data makes no send to check it
    const total = bytes.byteLength;
    const deadline = deadlineAfter(timeout);
    let sent = 0;
    while (sent < total) {
      const n = raw.send(fd, sent === 0 ? bytes : bytes.subarray(sent), flags);
      if (n !== null) sent += n;
      else if (!waitReady(fd, POLLOUT, deadline)) throw Object.assign(timeoutError('send'), { bytesSent: sent });
    }
  }

  /** Sends a datagram to `address` (a host name is resolved). @see sendto(2) */
  sendto(data: Data, address: AddressInput, flags = 0): number | null {
    const target = this.#resolve(address);
    return this.#timed('sendto', POLLOUT, (fd) => raw.sendto(fd, data, target, flags));
  }

  /**
   * Sends the file `inFd` (an fd, or an object with `fileno()`) from `offset`, `count` bytes or to its end,
   * with `sendfile(2)` in a loop: the total sent. Python's `sock.sendfile()`, on an fd: the file's position is
   * neither used nor moved. A blocking socket waits as `sendAll` does; with a timeout, each wait for room is at
   * most the timeout (as in Python), then `sendfile ETIMEDOUT` with `err.bytesSent`. A non-blocking socket
   * (timeout 0) is refused with `ERR_INVALID_STATE`, as Python refuses it.
   * @example sock.sendfile(fs.openSync('index.html', 'r'));
   */
  sendfile(inFd: raw.FileLike, offset = 0, count?: number): number {
    const fd = this.#live('sendfile');
    const file = fdOfFileObj(inFd, 'inFd');
    checkInt(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    if (count !== undefined) checkInt(count, 'count', 0, Number.MAX_SAFE_INTEGER);
    const timeout = this.#timeout;
    if (timeout === 0) throw invalidState('sendfile', 'is not supported on a non-blocking socket (timeout 0)');
    let total = 0;
    while (count === undefined || total < count) {
      const want = Math.min(SENDFILE_CHUNK, count === undefined ? SENDFILE_CHUNK : count - total);
      const n = helpers.sendfile(fd, file, offset + total, want);
      if (n === 0) break; // end of the file
      if (n !== null) {
        total += n;
      } else if (timeout === null) {
        // Would-block on a blocking socket: its SO_SNDTIMEO ran out, as for sendAll.
        throw Object.assign(errnoError('EAGAIN', 'sendfile'), { bytesSent: total });
      } else if (!waitReady(fd, POLLOUT, deadlineAfter(timeout))) {
        throw Object.assign(timeoutError('sendfile'), { bytesSent: total });
      }
    }
    return total;
  }

  /**
   * A new Socket on a copy of the fd (close-on-exec), with this one's family, type, protocol and timeout:
   * Python's `sock.dup()`. The two share the kernel's open file, so its `O_NONBLOCK` flag too: give both the
   * same blocking mode.
   */
  dup(): Socket {
    const copy = helpers.dup(this.#live('dup'));
    const Ctor = this.constructor as typeof Socket;
    let sock: Socket;
    try {
      sock = new Ctor(this.family, this.type, this.protocol, copy);
      sock.settimeout(this.#timeout);
    } catch (e) {
      raw.close(copy);
      throw e;
    }
    return sock;
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

  /**
   * `setBlocking(false)` makes every call return `null` (or `false`) instead of waiting: `settimeout(0)`;
   * `setBlocking(true)` is `settimeout(null)`, as in Python.
   */
  setBlocking(blocking: boolean): void {
    if (typeof blocking !== 'boolean') throw invalidArgType('blocking', 'of type boolean', blocking);
    this.settimeout(blocking ? null : 0);
  }

  /**
   * Whether the socket is blocking to its user: `gettimeout() !== 0`, as Python's `getblocking()` (a socket
   * in timeout mode is blocking, though its fd is `O_NONBLOCK`; the raw `getBlocking(fd)` reads the flag).
   */
  getBlocking(): boolean {
    this.#live('fcntl');
    return this.#timeout !== 0;
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
   * resolved): the bytes sent, or `null` when it would block. Like every synchronous call, it honours the
   * socket's timeout (settimeout). @see sendmsg(2)
   */
  sendmsg(buffers: ReadonlyArray<BytesLike | string>, ancdata: readonly msg.AncDataInput[] = [], flags = 0, address?: AddressInput | null): number | null {
    this.#live('sendmsg');
    const target = address === undefined || address === null ? address : this.#resolve(address);
    return this.#timed('sendmsg', POLLOUT, (fd) => msg.sendmsg(fd, buffers, ancdata, flags, target));
  }

  /** `{ data, ancdata, flags, address }`, or `null` when it would block. @see recvmsg(2) */
  recvmsg(bufsize: number, ancbufsize = 0, flags = 0): msg.Message | null {
    return this.#timed('recvmsg', POLLIN, (fd) => msg.recvmsg(fd, bufsize, ancbufsize, flags));
  }

  /** recvmsg into the caller's buffers: `{ bytes, ancdata, flags, address }`, or `null`. @see recvmsg(2) */
  recvmsgInto(buffers: readonly BytesLike[], ancbufsize = 0, flags = 0): msg.MessageInto | null {
    return this.#timed('recvmsg', POLLIN, (fd) => msg.recvmsgInto(fd, buffers, ancbufsize, flags));
  }

  /**
   * Sends fds (numbers or Sockets) with a message, as Python's `socket.send_fds`: the bytes sent, or `null`.
   * @see unix(7) SCM_RIGHTS
   */
  sendFds(buffers: ReadonlyArray<BytesLike | string>, fds: readonly msg.FdLike[], flags = 0, address?: AddressInput | null): number | null {
    this.#live('sendmsg');
    const target = address === undefined || address === null ? address : this.#resolve(address);
    return this.#timed('sendmsg', POLLOUT, (fd) => msg.sendFds(fd, buffers, fds, flags, target));
  }

  /**
   * Receives a message and at most `maxfds` fds, as Python's `socket.recv_fds`: `{ data, fds, flags, address }`,
   * or `null`. The fds are the caller's (`Socket.fromFd(fd)` makes a Socket of one). @see unix(7) SCM_RIGHTS
   */
  recvFds(bufsize: number, maxfds: number, flags = 0): msg.FdMessage | null {
    return this.#timed('recvmsg', POLLIN, (fd) => msg.recvFds(fd, bufsize, maxfds, flags));
  }

  // ---- the event loop -------------------------------------------------------------------------------------

  /**
   * One non-blocking attempt of a system call of the async methods: every system call they make goes through
   * here, one call each (see {@link AsyncCall} for the calls, their arguments and results), so a subclass that
   * overrides it sees them all. It never waits: would-block is `null` (`false` for connect), and the async
   * method then waits for readiness on the event loop and attempts again. `fd` is live and non-blocking (but
   * for `'setBlocking'`, which makes it so). (With this method as it is, the read of a `recvIntoAsync` into a
   * whole buffer that waited is made by the addon at the readiness, not through here: see #until. A subclass
   * that overrides it gets that read here too.)
   */
  protected attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
    switch (call) {
      case 'recv':
        return this.#recvSlab(fd, arg as number);
      case 'send':
        // The addon checks the fd and the data itself (raw.send's checks again, for a caller here, would cost
        // about 100 instructions per message): the async methods pass a live fd and checked bytes, and anything
        // else still gets its ERR_INVALID_ARG_TYPE or ERR_OUT_OF_RANGE.
        return native.send(fd, arg as ArrayBufferView | string);
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
    this.#timeout = 0; // non-blocking now, whatever the timeout was
    return fd;
  }

  /**
   * Each wait of the async methods for readiness, between two attempts: resolves once the fd is ready for
   * `events` (`WATCH_READ` or `WATCH_WRITE`), on the event loop; `syscall` (`'accept'`, `'connect'`, `'recv'`,
   * `'send'`) names the call that would block, for the errors. Overridable, as {@link Socket.attempt} is, so a
   * subclass sees every wait (the demo's `--trace` prints them). The accept, recv and send methods normally
   * make their next attempt at the readiness itself (the fast path, Readiness#until), without this method; a
   * subclass that overrides it gets the plain path instead: await this method, then attempt.
   */
  protected waitReady(events: number, syscall: string, signal: AbortSignal | undefined): Promise<void> {
    return this.#readinessOf(syscall).wait(events, syscall, signal);
  }

  /**
   * Makes `retry` at each readiness for `events` until it returns non-null; resolves with that. A subclass that
   * overrides waitReady (--trace's TracedSocket) sees each wait: the plain path, a wait and then the retry.
   */
  #until<T, A>(events: number, syscall: string, signal: AbortSignal | undefined, retry: (this: Socket, arg: A, read?: number) => T | null, arg: A, target?: object): Promise<T> {
    if (this.waitReady !== plainWaitReady) return this.#waitThen(events, syscall, signal, retry, arg);
    // The addon reads for the call at readiness (Readiness#until's target) only if attempt() is this class's: a
    // subclass that overrides it sees every system call of the async methods.
    return this.#readinessOf(syscall).until(events, syscall, signal, retry, arg, this, this.attempt === plainAttempt ? target : undefined);
  }

  async #waitThen<T, A>(events: number, syscall: string, signal: AbortSignal | undefined, retry: (this: Socket, arg: A) => T | null, arg: A): Promise<T> {
    for (;;) {
      await this.waitReady(events, syscall, signal);
      const result = retry.call(this, arg);
      if (result !== null) return result;
    }
  }

  #readinessOf(syscall: string): Readiness {
    return this.#readiness ?? (this.#readiness = new Readiness(this.#live(syscall)));
  }

  // The async methods that run most (accept, recv, send) are plain functions that return a promise, not async
  // functions: one that completes at once returns a settled promise, and one that would block hands its next
  // attempt to the Readiness, which makes it at the readiness itself (see Readiness#until). Their errors,
  // argument errors included, are rejections, as an async function's would be.

  /**
   * Accepts a connection without blocking the event loop: `[socket, address]`, the new socket non-blocking.
   * The listening socket is made non-blocking.
   */
  acceptAsync(options?: AsyncOptions): Promise<[Socket, Address]> {
    try {
      const signal = checkOptions(options);
      const done = this.#acceptOnce(this.#async('accept', signal));
      if (done !== null) return Promise.resolve(done);
      return this.#acceptWait(signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #acceptWait(signal: AbortSignal | undefined): Promise<[Socket, Address]> {
    return this.#until(WATCH_READ, 'accept', signal, Socket.#acceptRetry, undefined);
  }

  static #acceptRetry(this: Socket): [Socket, Address] | null {
    return this.#acceptOnce(this.#live('accept'));
  }

  #acceptOnce(fd: number): [Socket, Address] | null {
    const r = this.attempt('accept', fd) as raw.Accepted | null;
    if (r === null) return null;
    const Ctor = this.constructor as typeof Socket;
    const sock = new Ctor(this.family, this.type | SOCK_NONBLOCK, this.protocol, r.fd);
    if (SOCK_NONBLOCK === 0) sock.setBlocking(false);
    return [sock, r.address];
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
    await this.waitReady(WATCH_WRITE, 'connect', signal);
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
  recvAsync(size: number, options?: AsyncOptions): Promise<Buffer> {
    try {
      const signal = checkOptions(options);
      checkInt(size, 'size', 0, 0x7fffffff); // here too: a drained read waits before any attempt checks it
      const fd = this.#async('recv', signal);
      if (!this.#drained) {
        const data = this.#recvOnce(fd, size);
        if (data !== null) return Promise.resolve(data);
      }
      return this.#until(WATCH_READ, 'recv', signal, Socket.#recvRetry, size);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * recvAsync's read (its `attempt('recv')`): into this socket's slab, as node:net reads into a slab and hands
   * up a view, instead of a Buffer of its own per read (a malloc and a V8 backing store each). The view covers
   * the bytes received and nothing else; the slab's other bytes are zeros or earlier bytes of this same socket,
   * never another socket's (so `buf.buffer` shows nothing the caller could not have read). A view keeps the
   * slab alive, as a pooled Buffer keeps Node's pool: copy what is kept for long (`Buffer.from(buf)`).
   */
  #recvSlab(fd: number, size: number): Buffer | null {
    // Stream sockets only: a datagram socket's slab would show one peer's datagrams to code given another's.
    if (size > SLAB_MAX_READ || size === 0 || !this.#stream) return raw.recv(fd, size);
    let slab = this.#slab;
    if (slab === null) {
      // No slab until the socket has received something: an idle connection costs no memory.
      const first = raw.recv(fd, size);
      if (first !== null && first.length > 0) this.#newSlab(size);
      return first;
    }
    if (this.#slabSize - this.#slabUsed < size) slab = this.#newSlab(size);
    let used = this.#slabUsed;
    let n: number | null;
    try {
      n = native.recvInto(fd, slab, used, size); // flags left out: 0
    } catch (err) {
      slab = this.#slabRefused(err, slab, size);
      used = 0;
      n = native.recvInto(fd, slab, used, size);
    }
    if (n === null) return null;
    if (n === 0) return Buffer.alloc(0); // end of stream: no view that would keep the slab
    this.#slabUsed = used + ((n + 7) & ~7); // the next view starts 8-aligned, as in Node's pool
    return new BufferView(slab, used, n);
  }

  // The addon refuses, before any recv, a window that the slab no longer has: the caller transferred it away (a
  // view's `buffer` is the slab). Its byteLength is read here only, not before every read: a getter call (about
  // 90 instructions per message, callgrind). A method of its own, so that the read's own code stays small
  // enough for the compiler to inline it, and the view's constructor into it. Returns a new slab.
  #slabRefused(err: unknown, slab: ArrayBuffer, size: number): ArrayBuffer {
    if (slab.byteLength === this.#slabSize) throw err;
    return this.#newSlab(size);
  }

  #newSlab(size: number): ArrayBuffer {
    const slabSize = Math.min(SLAB_MAX, Math.max(SLAB_MIN, size * 4));
    const slab = new ArrayBuffer(slabSize); // zero-filled
    this.#slab = slab;
    this.#slabSize = slabSize;
    this.#slabUsed = 0;
    return slab;
  }

  // The retries of recvAsync and sendAllAsync, called on the socket (Readiness#until's `self`): one function
  // for every socket, so that a wait allocates no closure and a wake-up reads none (a closure is a function and
  // its context, two more cache lines per message on a server with many connections).
  static #recvRetry(this: Socket, size: number): Buffer | null {
    this.#drained = false; // readiness was reported
    return this.#recvOnce(this.#live('recv'), size);
  }

  static #sendRetry(this: Socket, st: SendState): undefined | null {
    return this.#sendMore(this.#live('send'), st);
  }

  #recvOnce(fd: number, size: number): Buffer | null {
    const data = this.attempt('recv', fd, size) as Buffer | null;
    if (data !== null) this.#drained = this.#stream && data.length < size;
    return data;
  }

  /**
   * `recvInto` once bytes arrive: the count (0 at end of stream). A short read makes the next one wait first. The
   * buffer is read as it is when the bytes arrive: if by then the window is gone (the buffer was transferred,
   * detached or resized below it; with no `length`, left with nothing at `offset`), the call rejects with
   * `ERR_INVALID_STATE` and reads nothing.
   */
  recvIntoAsync(buffer: BytesLike, offset?: number, length?: number, options?: AsyncOptions): Promise<number> {
    try {
      const signal = checkOptions(options);
      // The whole buffer (the usual case): no window to keep while it waits (the buffer is the wait's state),
      // and its byte length is read again before each read, for the short-read test, not kept. Checked before
      // any wait, as recvAsync checks its size. An empty one takes the window's way: 0 read then means end of
      // stream. A window is checked by checkWindow alone (the buffer once, then offset and length).
      if (offset === undefined && length === undefined) {
        const total = byteLengthOf(raw.checkBuffer(buffer));
        if (total > 0) {
          const fd = this.#async('recv', signal);
          if (!this.#drained) {
            const n = this.#recvIntoOnce(fd, buffer, undefined, undefined, total);
            if (n !== null) return Promise.resolve(n);
          }
          return this.#until(WATCH_READ, 'recv', signal, Socket.#recvIntoWholeRetry, buffer, buffer as object);
        }
      }
      const [, , want] = raw.checkWindow(buffer, offset, length);
      const fd = this.#async('recv', signal);
      if (!this.#drained) {
        const n = this.#recvIntoOnce(fd, buffer, offset, length, want);
        if (n !== null) return Promise.resolve(n);
      }
      return this.#recvIntoWait(signal, buffer, offset, length, want);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // A window's arguments wait in an object of their own (a state, not a closure: see #recvRetry), made only when
  // the call has to wait.
  #recvIntoWait(signal: AbortSignal | undefined, buffer: BytesLike, offset: number | undefined, length: number | undefined, want: number): Promise<number> {
    const st = new RecvIntoState(buffer, offset, length, want);
    return this.#until(WATCH_READ, 'recv', signal, Socket.#recvIntoRetry, st);
  }

  static #recvIntoRetry(this: Socket, st: RecvIntoState): number | null {
    this.#drained = false; // readiness was reported
    const fd = this.#live('recv');
    const off = st.offset ?? 0;
    const total = byteLengthOf(st.buffer);
    // A window of a given length must still be there whole; "the rest from offset" (no length), as it is now,
    // must not be empty unless it was so from the start (a read of 0 bytes).
    if (st.length !== undefined ? total < off + st.length : total < off || (total === off && st.want > 0)) {
      throw windowChanged('recv', off, st.length);
    }
    return this.#recvIntoOnce(fd, st.buffer, st.offset, st.length, st.length ?? total - off);
  }

  // `read`: the outcome of the read the addon made at the readiness (see Readiness#until), if it made one.
  static #recvIntoWholeRetry(this: Socket, buffer: BytesLike, read?: number): number | null {
    this.#drained = false;
    if (read !== undefined) return this.#recvIntoRead(buffer, read);
    const fd = this.#live('recv');
    const total = byteLengthOf(buffer);
    if (total === 0) throw windowChanged('recv', 0, undefined);
    return this.#recvIntoOnce(fd, buffer, undefined, undefined, total);
  }

  /** A read the addon made into the whole buffer: its count (the next read waits first if short), or its error. */
  #recvIntoRead(buffer: BytesLike, read: number): number {
    if (read >= 0) {
      this.#drained = this.#stream && read < byteLengthOf(buffer);
      return read;
    }
    if (read === ARM_WINDOW_GONE) throw windowChanged('recv', 0, undefined);
    throw errnoErrorFromNumber(-read, 'recv');
  }

  #recvIntoOnce(fd: number, buffer: BytesLike, offset: number | undefined, length: number | undefined, want: number): number | null {
    const n = this.attempt('recvInto', fd, buffer, offset, length) as number | null;
    if (n !== null) this.#drained = this.#stream && n < want;
    return n;
  }

  /**
   * Sends all of `data`, waiting for writability between partial sends, without blocking the event loop. The
   * bytes are not copied: the caller's memory is read at each send, as `net.Socket#write` reads it. If the
   * buffer is resized smaller, transferred or detached while the call waits, the promise rejects with
   * `ERR_INVALID_STATE` and `err.bytesSent`, never resolves for bytes that were not sent.
   */
  sendAllAsync(data: Data, options?: AsyncOptions): Promise<void> {
    try {
      const signal = checkOptions(options);
      checkData(data);
      const first = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      const total = byteLengthOf(first);
      if (total === 0) return SENT;
      const fd = this.#async('send', signal);
      // The first send reads the caller's view as it is (the addon reads it once); the usual case ends here,
      // with no state and no closure. (A view of a growable SharedArrayBuffer may have grown
      // meanwhile, and sent more: all of what the call was given went.)
      const n = this.attempt('send', fd, first) as number | null;
      if (n !== null && n >= total) return SENT;
      // The rest waits: from a fixed-length view of the call's bytes, which a later shrink cannot stretch.
      let bytes = asBytes(first);
      if (bytes.byteLength > total) bytes = bytes.subarray(0, total);
      const state = new SendState(bytes, total, n ?? 0);
      if (n !== null && this.#sendMore(fd, state) !== null) return SENT;
      return this.#until(WATCH_WRITE, 'send', signal, Socket.#sendRetry, state);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends the rest of a sendAllAsync until all is sent (undefined) or the socket is full (null). */
  #sendMore(fd: number, st: SendState): undefined | null {
    while (st.sent < st.total) {
      // A fixed-length view reads 0 bytes long once its buffer shrank below it or was detached.
      if (st.bytes.byteLength !== st.total) throw bufferChanged('send', st.sent, st.total);
      const n = this.attempt('send', fd, st.sent === 0 ? st.bytes : st.bytes.subarray(st.sent)) as number | null;
      if (n === null) return null;
      st.sent += n;
    }
    return undefined;
  }

  /** Closes the socket at the end of a `using` block. */
  [disposeSymbol](): void {
    this.close();
  }

  /** Lets `select()` take the Socket itself. */
  toString(): string {
    return `<Socket fd=${this.#fd} family=${this.family} type=${this.type} protocol=${this.protocol}>`;
  }

  static {
    plainWaitReady = this.prototype.waitReady;
    plainAttempt = this.prototype.attempt;
  }
}

/** Throws the TypeError a non-Socket gets, for helpers that take one. @internal */
export function checkSocket(value: unknown, name: string): Socket {
  if (!(value instanceof Socket)) throw invalidArgType(name, 'an instance of Socket', value);
  return value;
}
