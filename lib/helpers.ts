/**
 * The helpers of Python's socket module that are not socket calls: `dup`, `sendfile`, `inetPton`/`inetNtop`,
 * `getnameinfo`, `gethostname` and the interface-name calls. One system or library call each, arguments checked
 * first (TypeError/RangeError) as everywhere in the raw layer.
 */
import { native } from './binding';
import { toNativeAddress, type InetAddressInput } from './address';
import { byteLengthOf, checkFd, checkInt, checkInt32, invalidArgType, invalidArgValue, isBytes, optInt32, outOfRange, type BytesLike } from './errors';

const k = native.constants as Readonly<Record<string, number>>;

/**
 * A copy of `fd` (the lowest free number), close-on-exec, as Python's `socket.dup()` and `os.dup()` make it.
 * The two share the open file: its offset and its status flags, `O_NONBLOCK` included.
 * @see fcntl(2) F_DUPFD_CLOEXEC
 */
export function dup(fd: number): number {
  checkFd(fd);
  return native.dup(fd);
}

/**
 * Sends up to `count` bytes of the file `inFd`, from `offset`, to the socket `outFd`, in the kernel (no copy
 * through JavaScript): the number of bytes sent (0 at the end of the file), or `null` when the socket is
 * non-blocking and full. `offset` `null` reads from the file's own position and advances it; a number leaves
 * the position alone. One `sendfile(2)` (Linux; elsewhere `ENOSYS`); `Socket#sendfile` loops.
 * @see sendfile(2)
 * @example const n = sendfile(sock, fs.openSync('index.html', 'r'), 0, 65536);
 */
export function sendfile(outFd: number, inFd: number, offset: number | null, count: number): number | null {
  checkFd(outFd, 'outFd');
  checkFd(inFd, 'inFd');
  const off = offset === null ? -1 : checkInt(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  checkInt(count, 'count', 0, Number.MAX_SAFE_INTEGER);
  return native.sendfile(outFd, inFd, off, count);
}

function checkFamily(family: unknown): number {
  return checkInt32(family, 'family');
}

/**
 * An IP address in its packed form: 4 bytes for `AF_INET`, 16 for `AF_INET6`, in network order (Python's
 * `socket.inet_pton`). Text that is not an address of the family: `TypeError` `ERR_INVALID_IP_ADDRESS`; another
 * family: `EAFNOSUPPORT`.
 * @see inet_pton(3)
 * @example inetPton(AF_INET, '127.0.0.1') // <Buffer 7f 00 00 01>
 */
export function inetPton(family: number, text: string): Buffer {
  checkFamily(family);
  if (typeof text !== 'string') throw invalidArgType('text', 'of type string', text);
  if (text.includes('\0')) throw invalidArgValue('text', 'must not contain NUL bytes', text);
  return native.inetPton(family, text);
}

/**
 * The text form of a packed IP address (Python's `socket.inet_ntop`): `bytes` must be 4 bytes long for
 * `AF_INET`, 16 for `AF_INET6` (`RangeError` otherwise).
 * @see inet_ntop(3)
 * @example inetNtop(AF_INET6, Buffer.alloc(16)) // '::'
 */
export function inetNtop(family: number, bytes: BytesLike): string {
  checkFamily(family);
  if (!isBytes(bytes)) throw invalidArgType('bytes', 'an instance of Buffer, TypedArray, DataView or ArrayBuffer', bytes);
  const want = family === k.AF_INET ? 4 : family === k.AF_INET6 ? 16 : undefined;
  const have = byteLengthOf(bytes);
  if (want !== undefined && have !== want) throw outOfRange('bytes', `${want} bytes long for this family`, `${have} bytes`);
  return native.inetNtop(family, bytes as ArrayBufferView);
}

/**
 * The host and service names of an address: `[host, service]`, as Python's `socket.getnameinfo` returns its
 * tuple. `address` is `{ address, port }` with an IP literal. `flags` are the `NI_*` flags (`NI_NUMERICHOST` 1,
 * `NI_NUMERICSERV` 2, `NI_NOFQDN` 4, `NI_NAMEREQD` 8, `NI_DGRAM` 16 on Linux). May ask the resolver (files,
 * DNS) and block meanwhile, as getaddrinfo does; failures are named as libuv names them (`EAI_NONAME`).
 * @see getnameinfo(3)
 * @example getnameinfo({ address: '127.0.0.1', port: 80 }, NI_NUMERICHOST) // ['127.0.0.1', 'http']
 */
export function getnameinfo(address: InetAddressInput, flags = 0): [string, string] {
  if (typeof address === 'object' && address !== null && (address as { path?: unknown }).path !== undefined) {
    throw invalidArgType('address', 'an object { address, port } (getnameinfo takes IP addresses)', address);
  }
  const a = toNativeAddress(address);
  return native.getnameinfo(...a, optInt32(flags, 'flags', 0));
}

/** This machine's host name (Python's `socket.gethostname()`). @see gethostname(2) */
export function gethostname(): string {
  return native.gethostname();
}

function checkIfName(name: unknown): string {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (name.includes('\0')) throw invalidArgValue('name', 'must not contain NUL bytes', name);
  return name;
}

/**
 * The index of a network interface (`'lo'` is usually 1): Python's `socket.if_nametoindex`. No such interface:
 * `ENODEV`.
 * @see if_nametoindex(3)
 */
export function ifNameToIndex(name: string): number {
  return native.ifNameToIndex(checkIfName(name));
}

/** The name of the network interface with this index: Python's `socket.if_indextoname`. None: `ENXIO`. @see if_indextoname(3) */
export function ifIndexToName(index: number): string {
  checkInt(index, 'index', 0, 0xffffffff);
  return native.ifIndexToName(index);
}

/** Every network interface as `[index, name]`, as Python's `socket.if_nameindex()`. @see if_nameindex(3) */
export function ifNameIndex(): Array<[number, string]> {
  return native.ifNameIndex();
}
