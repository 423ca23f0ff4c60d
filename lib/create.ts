/**
 * Python's convenience constructors: `createConnection` (`socket.create_connection`), `createServer`
 * (`socket.create_server`) and `hasDualstackIpv6` (`socket.has_dualstack_ipv6`). Composite: each makes
 * several system calls through `Socket`, and closes every socket it made that it does not return.
 */
import { native } from './binding';
import * as raw from './raw';
import type { AddressInput, InetAddressInput } from './address';
import { Socket } from './socket';
import { checkInt, checkInt32, invalidArgType, invalidArgValue } from './errors';
import { checkSocketTimeout } from './timeout';

const k = native.constants as Readonly<Record<string, number>>;

/** Options of {@link createConnection}. */
export interface CreateConnectionOptions {
  /**
   * The socket's timeout (see `Socket#settimeout`): milliseconds, `0` non-blocking (the connect is then only
   * started), or `null` blocking. Left out (`undefined`): {@link getdefaulttimeout}'s. Negative: `RangeError`.
   */
  timeout?: number | null;
  /** Bind to this address before connecting (`{ address, port }`, port 0 for any). */
  sourceAddress?: InetAddressInput;
}

function checkOptionsObject(options: unknown): Record<string, unknown> {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  return options as Record<string, unknown>;
}

function checkInetAddress(address: unknown, name: string): InetAddressInput {
  if (typeof address !== 'object' || address === null) throw invalidArgType(name, 'an object { address, port }', address);
  const a = address as InetAddressInput;
  if (typeof a.address !== 'string') throw invalidArgType(`${name}.address`, 'of type string', a.address);
  return a;
}

/**
 * Connects a TCP socket to `address` (`{ address, port }`, `address` a host name or an IP literal), as Python's
 * `socket.create_connection`: it tries every address getaddrinfo returns, in order (IPv4 and IPv6), each with
 * its own socket, and returns the first that connects; if none does, it throws the last attempt's error. The
 * returned Socket keeps `timeout`, which bounds each connect; an unknown host throws getaddrinfo's error
 * (`EAI_NONAME`).
 * @example
 * const sock = createConnection({ address: 'localhost', port: 9999 }, { timeout: 5000 });
 */
export function createConnection(address: InetAddressInput, options: CreateConnectionOptions = {}): Socket {
  const target = checkInetAddress(address, 'address');
  const opts = checkOptionsObject(options);
  const timeout = opts.timeout === undefined ? undefined : checkSocketTimeout(opts.timeout, 'options.timeout');
  const source = opts.sourceAddress === undefined ? undefined : checkInetAddress(opts.sourceAddress, 'options.sourceAddress');
  if (typeof target.port !== 'number' && typeof target.port !== 'string') {
    throw invalidArgType('address.port', 'of type number or string', target.port);
  }
  return connectFirst(raw.getaddrinfo(target.address, target.port, { type: k.SOCK_STREAM }), timeout, source);
}

/**
 * createConnection's loop over getaddrinfo's answers: a socket for each address in turn, the first that connects
 * returned, every other closed; the last error thrown. Apart so that the tests can give it several addresses
 * where the machine's resolver has no name with more than one. @internal
 */
export function connectFirst(found: raw.ResolvedAddress[], timeout: number | null | undefined, source: InetAddressInput | undefined): Socket {
  let last: unknown = new Error('getaddrinfo returned no address');
  for (const ai of found) {
    let sock: Socket | undefined;
    try {
      sock = new Socket(ai.family === 'IPv6' ? k.AF_INET6 : k.AF_INET, ai.type, ai.protocol);
      if (timeout !== undefined) sock.settimeout(timeout);
      if (source !== undefined) sock.bind(source);
      const { family: _family, type: _type, protocol: _protocol, ...where } = ai;
      sock.connect(where);
      return sock;
    } catch (err) {
      last = err;
      sock?.close();
    }
  }
  throw last;
}

/** Options of {@link createServer}. */
export interface CreateServerOptions {
  /** `AF_INET` (the default), `AF_INET6`, or `AF_UNIX` with a `{ path }` address. */
  family?: number;
  /** The listen backlog; left out: `listen()`'s default (511). */
  backlog?: number;
  /** Sets `SO_REUSEPORT` (several sockets may then listen on the port; the kernel spreads the connections). */
  reusePort?: boolean;
  /** With `family: AF_INET6`: accept IPv4 connections too (`IPV6_V6ONLY` cleared). See {@link hasDualstackIpv6}. */
  dualstackIpv6?: boolean;
}

/**
 * A listening TCP socket bound to `address` (`{ address, port }`, or `{ path }` with `family: AF_UNIX`), as
 * Python's `socket.create_server`: `SO_REUSEADDR` is set (so a restarted server can bind at once, as on every
 * POSIX system), `SO_REUSEPORT` if asked, and for `AF_INET6` `IPV6_V6ONLY` is set, or cleared with
 * `dualstackIpv6`. A failure closes the socket and throws the failed call's error (`bind EADDRINUSE ...`).
 * @example
 * const server = createServer({ address: '127.0.0.1', port: 9999 });
 * const [conn, addr] = server.accept();
 */
export function createServer(address: AddressInput, options: CreateServerOptions = {}): Socket {
  if (typeof address !== 'object' || address === null) throw invalidArgType('address', 'an object { address, port } or { path }', address);
  const opts = checkOptionsObject(options);
  const family = opts.family === undefined ? k.AF_INET : checkInt32(opts.family, 'options.family');
  const backlog = opts.backlog === undefined ? undefined : checkInt(opts.backlog, 'options.backlog', 0, 0x7fffffff);
  const reusePort = checkBoolean(opts.reusePort, 'options.reusePort');
  const dualstack = checkBoolean(opts.dualstackIpv6, 'options.dualstackIpv6');
  if (reusePort && k.SO_REUSEPORT === undefined) {
    throw invalidArgValue('options.reusePort', 'is not supported on this platform (no SO_REUSEPORT)', true);
  }
  if (dualstack) {
    if (family !== k.AF_INET6) throw invalidArgValue('options.dualstackIpv6', 'requires options.family AF_INET6', true);
    if (!hasDualstackIpv6()) throw invalidArgValue('options.dualstackIpv6', 'is not supported on this platform', true);
  }
  const sock = new Socket(family, k.SOCK_STREAM);
  try {
    if (family !== k.AF_UNIX) sock.setsockopt(k.SOL_SOCKET, k.SO_REUSEADDR, 1);
    if (reusePort) sock.setsockopt(k.SOL_SOCKET, k.SO_REUSEPORT, 1);
    if (family === k.AF_INET6) sock.setsockopt(k.IPPROTO_IPV6, k.IPV6_V6ONLY, dualstack ? 0 : 1);
    sock.bind(address);
    if (backlog === undefined) sock.listen();
    else sock.listen(backlog);
    return sock;
  } catch (err) {
    sock.close();
    throw err;
  }
}

function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

/**
 * Whether an `AF_INET6` TCP socket here can also take IPv4 connections (`IPV6_V6ONLY` can be cleared), as
 * Python's `socket.has_dualstack_ipv6()`: it tries, on a socket it closes at once.
 */
export function hasDualstackIpv6(): boolean {
  if (k.AF_INET6 === undefined || k.IPV6_V6ONLY === undefined) return false;
  let fd: number;
  try {
    fd = raw.socket(k.AF_INET6, k.SOCK_STREAM);
  } catch {
    return false;
  }
  try {
    raw.setsockopt(fd, k.IPPROTO_IPV6, k.IPV6_V6ONLY, 0);
    return true;
  } catch {
    return false;
  } finally {
    raw.close(fd);
  }
}
