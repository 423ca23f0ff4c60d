/**
 * Socket addresses in JavaScript.
 *
 * In: `{ address: '127.0.0.1', port: 9999 }` (IPv6 when `address` is an IPv6 literal, with optional
 * `flowinfo` and `scopeId`, or a zone as in `'fe80::1%eth0'`), or `{ path: '/tmp/x.sock' }` (a leading `'\0'` is
 * Linux's abstract namespace; `''` asks Linux to pick an abstract name, autobind).
 * Out: `{ family: 'IPv4' | 'IPv6', address, port }` or `{ family: 'unix', path }`, as Node's
 * `server.address()` gives them.
 */
import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import { native } from './binding';
import { invalidArgType, invalidArgValue, outOfRange, checkInt } from './errors';

/** An IPv4 or IPv6 address and port. */
export interface InetAddressInput {
  address: string;
  port: number;
  /** IPv6 only: the flow label (0..0xFFFFF). */
  flowinfo?: number;
  /** IPv6 only: the scope (interface index) of a link-local address. */
  scopeId?: number;
}
/** A Unix-domain socket path. */
export interface UnixAddressInput {
  path: string;
}
/** What `bind`, `connect` and `sendto` take. */
export type AddressInput = InetAddressInput | UnixAddressInput;

/** An address the kernel gave back. */
export type InetAddress = { family: 'IPv4' | 'IPv6'; address: string; port: number; flowinfo?: number; scopeId?: number };
export type UnixAddress = { family: 'unix'; path: string };
export type Address = InetAddress | UnixAddress;

/** The five positional arguments the addon takes for an address. @internal */
export type NativeAddressArgs = [family: number, address: string, port: number, flowinfo: number, scopeId: number];

const AF_INET = native.constants.AF_INET as number;
const AF_INET6 = native.constants.AF_INET6 as number;
const AF_UNIX = native.constants.AF_UNIX as number;
const SUN_PATH_MAX = 108; // Linux's sun_path; a filesystem path needs a NUL after it, so 107 bytes of it

/** Reads an address object once (each property read exactly once) into the addon's positional form. @internal */
export function toNativeAddress(addr: unknown, name = 'address'): NativeAddressArgs {
  if (typeof addr !== 'object' || addr === null) {
    throw invalidArgType(name, 'an object such as { address, port } or { path }', addr);
  }
  const a = addr as Record<string, unknown>;
  const path = a.path;
  if (path !== undefined) {
    if (typeof path !== 'string') throw invalidArgType(`${name}.path`, 'of type string', path);
    const abstract = path.startsWith('\0');
    if (!abstract && path.includes('\0')) throw invalidArgValue(`${name}.path`, 'must not contain NUL bytes (except a leading one, for the abstract namespace)', path);
    const bytes = Buffer.byteLength(path);
    const max = abstract ? SUN_PATH_MAX : SUN_PATH_MAX - 1;
    if (bytes > max) throw outOfRange(`${name}.path`, `at most ${max} bytes long`, `${bytes} bytes`);
    return [AF_UNIX, path, 0, 0, 0];
  }
  const host = a.address;
  if (typeof host !== 'string') throw invalidArgType(`${name}.address`, 'of type string (or give "path" for a Unix socket)', host);
  const port = checkInt(a.port, `${name}.port`, 0, 65535);
  const version = isIP(host);
  if (version === 0) {
    const err = invalidArgValue(`${name}.address`, 'must be an IPv4 or IPv6 literal here (host names are resolved by Socket methods, or by getaddrinfo)', host);
    (err as NodeJS.ErrnoException).code = 'ERR_INVALID_IP_ADDRESS';
    throw err;
  }
  if (version === 4) return [AF_INET, host, port, 0, 0];
  const flowinfo = a.flowinfo === undefined ? 0 : checkInt(a.flowinfo, `${name}.flowinfo`, 0, 0xfffff);
  const scopeId = a.scopeId === undefined ? 0 : checkInt(a.scopeId, `${name}.scopeId`, 0, 0xffffffff);
  return [AF_INET6, host, port, flowinfo, scopeId];
}

/** The family number of an address given as input (AF_INET, AF_INET6 or AF_UNIX), or 0 for a host name. */
export function familyOf(addr: AddressInput): number {
  if ('path' in addr && addr.path !== undefined) return AF_UNIX;
  const v = isIP((addr as InetAddressInput).address);
  return v === 4 ? AF_INET : v === 6 ? AF_INET6 : 0;
}
