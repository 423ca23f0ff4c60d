/**
 * The raw calls: the BSD socket API on integer file descriptors, one system call each (sendAll excepted),
 * every call synchronous. "Would block" on a non-blocking fd is a value (`null`, or `false` for connect),
 * never an exception. EINTR: short calls are retried in native code; select and poll retry with the time
 * that is left; close is never retried.
 */
import { native } from './binding';
import type { NativeAddress } from './native';
import { toNativeAddress, type Address, type AddressInput } from './address';
import {
  asBytes, byteLengthOf, checkData, checkFd, checkInt, checkInt32, checkTimeout, errnoError, fdOfFileObj, invalidArgType, isBytes, isFdNumber,
  optInt32, outOfRange,
  type BytesLike, type Data,
} from './errors';

const k = native.constants as Readonly<Record<string, number>>;
const CLOEXEC = k.SOCK_CLOEXEC ?? 0;
const NOSIGNAL = k.MSG_NOSIGNAL ?? 0;
const MAX_SIZE = 0x7fffffff;

/** A connection accepted by {@link accept}. */
export interface Accepted {
  fd: number;
  address: Address;
}

/** What {@link recvfrom} returns. */
export interface Datagram {
  data: Buffer;
  /** The sender, or `null` when the kernel reports none (a connected TCP socket: ask {@link getpeername}). */
  address: Address | null;
}

function setCloexecIfNeeded(fd: number): number {
  // Where SOCK_CLOEXEC does not exist (macOS), set FD_CLOEXEC at once, before the fd can be inherited.
  if (!CLOEXEC) {
    try {
      native.fcntl(fd, k.F_SETFD, k.FD_CLOEXEC);
    } catch (e) {
      native.close(fd);
      throw e;
    }
  }
  return fd;
}

/**
 * Creates a socket. The fd is always close-on-exec; or `SOCK_NONBLOCK` into `type` for a non-blocking one.
 * @see socket(2)
 * @example const fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
 */
export function socket(domain: number, type: number, protocol = 0): number {
  checkInt32(domain, 'domain');
  checkInt32(type, 'type');
  checkInt32(protocol, 'protocol');
  return setCloexecIfNeeded(native.socket(domain, type | CLOEXEC, protocol));
}

/**
 * A pair of connected sockets, both close-on-exec.
 * @see socketpair(2)
 */
export function socketpair(domain: number = k.AF_UNIX, type: number = k.SOCK_STREAM, protocol = 0): [number, number] {
  checkInt32(domain, 'domain');
  checkInt32(type, 'type');
  checkInt32(protocol, 'protocol');
  const pair = native.socketpair(domain, type | CLOEXEC, protocol);
  if (!CLOEXEC) {
    try {
      setCloexecIfNeeded(pair[0]);
    } catch (e) {
      native.close(pair[1]);
      throw e;
    }
    setCloexecIfNeeded(pair[1]);
  }
  return pair;
}

/**
 * Binds a socket to an address: `{ address, port }` (IP literal) or `{ path }`.
 * @see bind(2)
 */
export function bind(fd: number, address: AddressInput): void {
  checkFd(fd);
  native.bind(fd, ...toNativeAddress(address));
}

/**
 * Connects a socket. Returns `true` once connected, `false` when a non-blocking connect is in progress (wait
 * for writability, then read `SO_ERROR`).
 * @see connect(2)
 */
export function connect(fd: number, address: AddressInput): boolean {
  checkFd(fd);
  return native.connect(fd, ...toNativeAddress(address));
}

/**
 * Marks a socket as accepting connections. The default backlog, 511, is Node's.
 * @see listen(2)
 */
export function listen(fd: number, backlog = 511): void {
  checkFd(fd);
  checkInt(backlog, 'backlog', 0, 0x7fffffff);
  native.listen(fd, backlog);
}

/**
 * Accepts a connection: `{ fd, address }`, or `null` when none is waiting on a non-blocking socket. The new fd
 * is close-on-exec (accept4); pass `SOCK_NONBLOCK` in `flags` to make it non-blocking too.
 * @see accept4(2)
 */
export function accept(fd: number, flags = 0): Accepted | null {
  checkFd(fd);
  checkInt32(flags, 'flags');
  const r = native.accept(fd, flags | CLOEXEC);
  if (r !== null && !CLOEXEC) setCloexecIfNeeded(r.fd);
  return r as Accepted | null;
}

/**
 * Receives up to `size` bytes: a `Buffer` of what arrived (empty at end of stream), or `null` when it would block.
 * @see recv(2)
 */
export function recv(fd: number, size: number, flags = 0): Buffer | null {
  checkFd(fd);
  checkInt(size, 'size', 0, MAX_SIZE);
  return native.recv(fd, size, optInt32(flags, 'flags', 0));
}

/** Checks a receive buffer's type. @internal */
export function checkBuffer(buffer: unknown): BytesLike {
  if (!isBytes(buffer)) throw invalidArgType('buffer', 'an instance of Buffer, TypedArray, DataView or ArrayBuffer', buffer);
  return buffer;
}

/** Checks a receive window: the buffer, the offset and length in it (defaults: all of it). @internal */
export function checkWindow(buffer: unknown, offset: unknown, length: unknown): [BytesLike, number, number] {
  const b = checkBuffer(buffer);
  const total = byteLengthOf(b);
  const off = offset === undefined ? 0 : checkInt(offset, 'offset', 0, total);
  const len = length === undefined ? total - off : checkInt(length, 'length', 0, total - off);
  return [b, off, len];
}

/**
 * Receives into the caller's memory: `buffer[offset, offset + length)` (bytes, whatever the view's element type).
 * Returns the bytes received (0 at end of stream), or `null` when it would block. Allocates nothing.
 * @see recv(2)
 */
export function recvInto(fd: number, buffer: BytesLike, offset?: number, length?: number, flags = 0): number | null {
  checkFd(fd);
  if (offset === undefined && length === undefined && flags === 0) {
    // What the caller left out, the addon is not given either (it then reads the whole buffer, as it is then):
    // each argument it reads is a Node-API call, and this is the readiness servers' per-message read. Nor is the
    // buffer's length read here: a view's byteLength is a getter that TurboFan does not inline in a function
    // inlined into another (as this one is into Socket#recvInto), and its generic inline cache cost about 90
    // instructions per call (callgrind).
    return native.recvInto(fd, checkBuffer(buffer) as ArrayBufferView);
  }
  const [b, off, len] = checkWindow(buffer, offset, length);
  const f = optInt32(flags, 'flags', 0);
  return native.recvInto(fd, b as ArrayBufferView, off, len, f);
}

/**
 * Receives a datagram (or stream bytes) and the sender's address: `{ data, address }`, or `null`.
 * A datagram longer than `size` is truncated (pass `MSG_TRUNC` to learn its real length from `recvfromInto`).
 * @see recvfrom(2)
 */
export function recvfrom(fd: number, size: number, flags = 0): Datagram | null {
  checkFd(fd);
  checkInt(size, 'size', 0, MAX_SIZE);
  return native.recvfrom(fd, size, optInt32(flags, 'flags', 0)) as Datagram | null;
}

/**
 * `recvfrom` into the caller's memory: `{ bytes, address }`, or `null` when it would block.
 * @see recvfrom(2)
 */
export function recvfromInto(fd: number, buffer: BytesLike, offset?: number, length?: number, flags = 0): { bytes: number; address: Address | null } | null {
  checkFd(fd);
  const [b, off, len] = checkWindow(buffer, offset, length);
  return native.recvfromInto(fd, b as ArrayBufferView, off, len, optInt32(flags, 'flags', 0)) as { bytes: number; address: Address | null } | null;
}

/**
 * Sends bytes (a string is sent as UTF-8): the number sent, which may be less than given, or `null` when it
 * would block. `MSG_NOSIGNAL` is always added: a closed peer is an `EPIPE` error, not a signal.
 * @see send(2)
 */
export function send(fd: number, data: Data, flags = 0): number | null {
  checkFd(fd);
  checkData(data);
  const f = optInt32(flags, 'flags', 0);
  // No flags: the addon's default is MSG_NOSIGNAL alone (one argument fewer to read on every send).
  if (f === 0) return native.send(fd, data as ArrayBufferView | string);
  return native.send(fd, data as ArrayBufferView | string, f | NOSIGNAL);
}

/**
 * Sends a datagram to an address: the number of bytes sent, or `null` when it would block.
 * @see sendto(2)
 */
export function sendto(fd: number, data: Data, address: AddressInput, flags = 0): number | null {
  checkFd(fd);
  checkData(data);
  const f = optInt32(flags, 'flags', 0) | NOSIGNAL;
  return native.sendto(fd, data as ArrayBufferView | string, f, ...toNativeAddress(address));
}

const pollOne = new Int32Array(3);

/** Waits until `fd` is writable (or has an error or hang-up to report, which the next send returns). */
function waitWritable(fd: number): void {
  pollOne[0] = fd;
  pollOne[1] = k.POLLOUT;
  pollOne[2] = 0;
  native.poll(pollOne, 1, -1);
}

/**
 * Sends all of `data`, looping over partial sends. On a non-blocking fd it waits for writability with poll()
 * between sends (so it blocks this thread: use `Socket.sendAllAsync` on the event loop). On a blocking fd
 * whose `SO_SNDTIMEO` runs out, the kernel's `EAGAIN` is thrown with `err.bytesSent`, how much went before
 * (Python's `sendall` raises the same). Composite: several system calls.
 */
export function sendAll(fd: number, data: Data, flags = 0): void {
  checkFd(fd);
  checkData(data);
  const f = optInt32(flags, 'flags', 0) | NOSIGNAL;
  const bytes = asBytes(data);
  let sent = 0;
  while (sent < bytes.byteLength) {
    const n = native.send(fd, sent === 0 ? bytes : bytes.subarray(sent), f);
    if (n !== null) {
      sent += n;
    } else if (native.getBlocking(fd)) {
      // Would-block on a blocking socket: its send timeout expired. Waiting on would never end.
      throw Object.assign(errnoError('EAGAIN', 'send'), { bytesSent: sent });
    } else {
      waitWritable(fd);
    }
  }
}

/**
 * Shuts down one or both halves of a connection (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`).
 * @see shutdown(2)
 */
export function shutdown(fd: number, how: number): void {
  checkFd(fd);
  checkInt32(how, 'how');
  native.shutdown(fd, how);
}

/**
 * Closes an fd. Never retried on EINTR (the fd is gone whatever close returns).
 * @see close(2)
 */
export function close(fd: number): void {
  checkFd(fd);
  native.close(fd);
}

/**
 * Sets a socket option. A number is passed as a C `int`, a boolean as 0 or 1, bytes as they are (for
 * `SO_LINGER`, `IP_ADD_MEMBERSHIP`, `SO_BINDTODEVICE` and other structured options).
 * @see setsockopt(2)
 */
export function setsockopt(fd: number, level: number, name: number, value: number | boolean | BytesLike): void {
  checkFd(fd);
  checkInt32(level, 'level');
  checkInt32(name, 'name');
  if (typeof value === 'number') checkInt32(value, 'value');
  else if (typeof value !== 'boolean' && !isBytes(value)) throw invalidArgType('value', 'of type number or boolean, or an instance of Buffer, TypedArray, DataView or ArrayBuffer', value);
  native.setsockopt(fd, level, name, value as number | boolean | ArrayBufferView);
}

/**
 * Reads a socket option: a number (the option read as a C `int`), or, when `length` is given, a Buffer of
 * at most `length` bytes with the option's raw value.
 * @see getsockopt(2)
 */
export function getsockopt(fd: number, level: number, name: number): number;
export function getsockopt(fd: number, level: number, name: number, length: number): Buffer;
export function getsockopt(fd: number, level: number, name: number, length?: number): number | Buffer {
  checkFd(fd);
  checkInt32(level, 'level');
  checkInt32(name, 'name');
  if (length === undefined) return native.getsockopt(fd, level, name);
  checkInt(length, 'length', 0, 1 << 20);
  return native.getsockopt(fd, level, name, length);
}

/** The address a socket is bound to. @see getsockname(2) */
export function getsockname(fd: number): Address {
  checkFd(fd);
  return native.getsockname(fd) as Address;
}

/** The address of a socket's peer. @see getpeername(2) */
export function getpeername(fd: number): Address {
  checkFd(fd);
  return native.getpeername(fd) as Address;
}

/**
 * Sets or clears `O_NONBLOCK`, keeping every other flag (one `ioctl(FIONBIO)`).
 * @see ioctl(2) FIONBIO
 */
export function setBlocking(fd: number, blocking: boolean): void {
  checkFd(fd);
  if (typeof blocking !== 'boolean') throw invalidArgType('blocking', 'of type boolean', blocking);
  native.setBlocking(fd, blocking);
}

/** Whether an fd is in blocking mode (`O_NONBLOCK` clear). @see fcntl(2) F_GETFL */
export function getBlocking(fd: number): boolean {
  checkFd(fd);
  return native.getBlocking(fd);
}

/**
 * fcntl(2) for the integer commands: `F_GETFL`, `F_SETFL`, `F_GETFD`, `F_SETFD`, `F_GETOWN`, `F_SETOWN`.
 * Others are a RangeError. Returns what fcntl returns.
 */
export function fcntl(fd: number, cmd: number, arg?: number): number {
  checkFd(fd);
  checkInt32(cmd, 'cmd');
  if (arg !== undefined) checkInt32(arg, 'arg');
  return native.fcntl(fd, cmd, arg);
}

/** Something select() can watch: an fd, or an object with a `fileno()` method (a {@link Socket}). */
export type FileLike = number | { fileno(): number };

const FD_SETSIZE = k.FD_SETSIZE;

function checkSelectList(list: unknown, name: string): void {
  if (!Array.isArray(list)) throw invalidArgType(name, 'an array of fds', list);
}

function fillSelectList(list: FileLike[], name: string, fds: Int32Array, at: number): void {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    const fd = isFdNumber(item) ? item : fdOfFileObj(item, `${name}[${i}]`);
    if (fd >= FD_SETSIZE) throw outOfRange(`${name}[${i}]`, `< FD_SETSIZE (${FD_SETSIZE}) for select(); use poll() or epoll for higher fds`, fd);
    fds[at + i] = fd;
  }
}

/** The items of `list` whose flag (from `at` in `flags`) the addon set. */
function readyItems<T>(list: T[], flags: Int32Array, at: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) if (flags[at + i] !== 0) out.push(list[i]);
  return out;
}

/**
 * Waits until some of the fds are ready: `[readable, writable, exceptional]`, each an array of the items
 * given (fds or objects with `fileno()`), in input order, each once. Fds must be below `FD_SETSIZE` (1024).
 * `timeoutMs`: `undefined`, `null` or negative waits forever, 0 polls.
 * @see select(2)
 */
export function select<T extends FileLike>(readFds: T[], writeFds: T[], exceptFds: T[], timeoutMs?: number | null): [T[], T[], T[]] {
  checkSelectList(readFds, 'readFds');
  checkSelectList(writeFds, 'writeFds');
  checkSelectList(exceptFds, 'exceptFds');
  // One Int32Array for the three lists; the items are read once, so a getter or a proxy cannot make the fds
  // checked differ from the fds used, and the lists' lengths are fixed here.
  const nr = readFds.length;
  const nw = writeFds.length;
  const nx = exceptFds.length;
  const read = nr === 0 ? readFds : readFds.slice(0, nr);
  const write = nw === 0 ? writeFds : writeFds.slice(0, nw);
  const except = nx === 0 ? exceptFds : exceptFds.slice(0, nx);
  const fds = new Int32Array(nr + nw + nx);
  fillSelectList(read, 'readFds', fds, 0);
  fillSelectList(write, 'writeFds', fds, nr);
  fillSelectList(except, 'exceptFds', fds, nr + nw);
  const timeout = checkTimeout(timeoutMs);
  if (native.select(fds, nr, nw, timeout) === 0) return [[], [], []];
  return [readyItems(read, fds, 0), readyItems(write, fds, nr), readyItems(except, fds, nr + nw)];
}

/** An entry given to {@link poll}. */
export interface PollFd {
  fd: number;
  events: number;
}
/** An entry {@link poll} returns. */
export interface PollResult {
  fd: number;
  events: number;
  revents: number;
}

/**
 * Waits until some of the fds are ready. Returns the entries with non-zero `revents`, as
 * `{ fd, events, revents }`, in input order. A closed fd reports `POLLNVAL`, as the kernel does.
 * @see poll(2)
 * @example poll([{ fd, events: POLLIN }], 1000)
 */
export function poll(fds: PollFd[], timeoutMs?: number | null): PollResult[] {
  if (!Array.isArray(fds)) throw invalidArgType('fds', 'an array of { fd, events }', fds);
  const n = fds.length;
  const entries = new Int32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const e = fds[i] as unknown;
    if (typeof e !== 'object' || e === null) throw invalidArgType(`fds[${i}]`, 'an object { fd, events }', e);
    // Plain values in range are checked inline: the argument's name is built only for an error.
    const fd = (e as PollFd).fd;
    const events = (e as PollFd).events;
    entries[3 * i] = isFdNumber(fd) ? fd : checkFd(fd, `fds[${i}].fd`);
    entries[3 * i + 1] = typeof events === 'number' && (events & 0xffff) === events ? events : checkInt(events, `fds[${i}].events`, 0, 0xffff);
  }
  const timeout = checkTimeout(timeoutMs);
  const ready = native.poll(entries, n, timeout);
  const out: PollResult[] = [];
  for (let i = 0; i < n && out.length < ready; i++) {
    const revents = entries[3 * i + 2];
    if (revents !== 0) out.push({ fd: entries[3 * i], events: entries[3 * i + 1], revents });
  }
  return out;
}

/** Options of {@link getaddrinfo}. */
export interface GetAddrInfoOptions {
  /** `AF_INET`, `AF_INET6` or `AF_UNSPEC` (the default). */
  family?: number;
  /** `SOCK_STREAM`, `SOCK_DGRAM`, or 0 for any (the default). */
  type?: number;
  /** `AI_*` flags. */
  flags?: number;
}
/** An address from {@link getaddrinfo}, with the socket type and protocol it goes with. */
export type ResolvedAddress = { family: 'IPv4' | 'IPv6'; address: string; port: number; flowinfo?: number; scopeId?: number; type: number; protocol: number };

/**
 * Resolves a host name (and port or service name) to addresses, in the resolver's order. Blocks while the
 * resolver works, as Python's does. Failures are Node-style errors named as libuv names them, so that
 * `util.getSystemErrorName(err.errno) === err.code`: `EAI_NONAME` for an unknown name (which Node's dns module
 * renames `ENOTFOUND`), `EAI_AGAIN` when no name server answers.
 * @see getaddrinfo(3)
 */
export function getaddrinfo(host: string | null, port?: number | string | null, options: GetAddrInfoOptions = {}): ResolvedAddress[] {
  if (host !== null && typeof host !== 'string') throw invalidArgType('host', 'of type string or null', host);
  if (host !== null && host.includes('\0')) throw invalidArgType('host', 'a string without NUL bytes', host);
  let service: string | null = null;
  if (typeof port === 'number') service = String(checkInt(port, 'port', 0, 65535));
  else if (typeof port === 'string') {
    if (port.includes('\0')) throw invalidArgType('port', 'a string without NUL bytes', port);
    service = port;
  } else if (port !== undefined && port !== null) throw invalidArgType('port', 'of type number, string, null or undefined', port);
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const family = optInt32(options.family, 'options.family', k.AF_UNSPEC);
  const type = optInt32(options.type, 'options.type', 0);
  const flags = optInt32(options.flags, 'options.flags', 0);
  return native.getaddrinfo(host, service, family, type, flags) as ResolvedAddress[];
}

export type { NativeAddress };
