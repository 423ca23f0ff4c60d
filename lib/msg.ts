/**
 * The raw message calls: sendmsg, recvmsg and recvmsgInto with ancillary data, fd passing (sendFds / recvFds,
 * Python's send_fds / recv_fds) and credentials (SCM_CREDENTIALS, SO_PEERCRED). One system call each; "would
 * block" is `null`. Every fd received is close-on-exec (`MSG_CMSG_CLOEXEC` is always added) and belongs to the
 * caller, also when the control data was truncated (`MSG_CTRUNC`): close it, or pass it on.
 */
import { Buffer } from 'node:buffer';
import { endianness } from 'node:os';
import { native } from './binding';
import { toNativeAddress, type Address, type AddressInput } from './address';
import {
  byteLengthOf, checkFd, checkInt, checkInt32, fdOfFileObj, invalidArgType, invalidArgValue, isBytes, optInt32,
  type BytesLike,
} from './errors';

const k = native.constants as Readonly<Record<string, number>>;
const NOSIGNAL = k.MSG_NOSIGNAL ?? 0;
const CMSG_CLOEXEC = k.MSG_CMSG_CLOEXEC ?? 0;
const MAX_SIZE = 0x7fffffff;
/** The largest control buffer recvmsg takes and the most ancillary data sendmsg sends (the addon's bound). */
const MAX_ANCBUFSIZE = 1 << 20;
const LE = endianness() === 'LE';

/** One ancillary data item given to {@link sendmsg}: a `cmsghdr`'s level and type, and its bytes. */
export interface AncDataInput {
  level: number;
  type: number;
  data: BytesLike;
}
/** One ancillary data item received: the raw bytes, as Python gives them. */
export interface AncData {
  level: number;
  type: number;
  data: Buffer;
}
/** What {@link recvmsg} returns. */
export interface Message {
  data: Buffer;
  ancdata: AncData[];
  /** The `msg_flags` the kernel set: `MSG_TRUNC`, `MSG_CTRUNC`, `MSG_EOR`... */
  flags: number;
  /** The sender, or `null` when the kernel reports none (a connected stream socket). */
  address: Address | null;
}
/** What {@link recvmsgInto} returns. */
export interface MessageInto {
  /** The bytes received (with `MSG_TRUNC` on a datagram socket, the datagram's real length). */
  bytes: number;
  ancdata: AncData[];
  flags: number;
  address: Address | null;
}
/** What {@link recvFds} returns. */
export interface FdMessage {
  data: Buffer;
  /** The fds received, in order: the caller's to close. */
  fds: number[];
  flags: number;
  address: Address | null;
}
/** A process's credentials: Linux's `struct ucred`. */
export interface Credentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Something that stands for an fd: a number, or an object with a `fileno()` method (a Socket). */
export type FdLike = number | { fileno(): number };

/** A fresh array of the byte arrays in `buffers` (a string is its UTF-8 bytes), each element read once. */
function checkBuffers(buffers: unknown, name: string, strings: boolean): BytesLike[] {
  if (!Array.isArray(buffers)) throw invalidArgType(name, 'an array of Buffer, TypedArray, DataView or ArrayBuffer', buffers);
  const n = buffers.length;
  const out: BytesLike[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const b: unknown = buffers[i];
    if (isBytes(b)) out[i] = b;
    else if (strings && typeof b === 'string') out[i] = Buffer.from(b, 'utf8');
    else throw invalidArgType(`${name}[${i}]`, `${strings ? 'of type string or ' : ''}an instance of Buffer, TypedArray, DataView or ArrayBuffer`, b);
  }
  return out;
}

/** The addon's form of an ancdata list: [level, type] pairs and the data views, each property read once. */
function checkAncdata(ancdata: unknown): [Int32Array, BytesLike[]] {
  if (!Array.isArray(ancdata)) throw invalidArgType('ancdata', 'an array of { level, type, data }', ancdata);
  const n = ancdata.length;
  const levelsTypes = new Int32Array(2 * n);
  const data: BytesLike[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const item: unknown = ancdata[i];
    if (typeof item !== 'object' || item === null) throw invalidArgType(`ancdata[${i}]`, 'an object { level, type, data }', item);
    const { level, type, data: bytes } = item as Record<string, unknown>;
    levelsTypes[2 * i] = checkInt32(level, `ancdata[${i}].level`);
    levelsTypes[2 * i + 1] = checkInt32(type, `ancdata[${i}].type`);
    if (!isBytes(bytes)) throw invalidArgType(`ancdata[${i}].data`, 'an instance of Buffer, TypedArray, DataView or ArrayBuffer', bytes);
    data[i] = bytes;
  }
  return [levelsTypes, data];
}

function sendmsgChecked(fd: number, buffers: BytesLike[], levelsTypes: Int32Array, data: BytesLike[], flags: unknown, address: unknown): number | null {
  const f = optInt32(flags, 'flags', 0) | NOSIGNAL;
  if (address === undefined || address === null) return native.sendmsg(fd, buffers, levelsTypes, data, f);
  return native.sendmsg(fd, buffers, levelsTypes, data, f, ...toNativeAddress(address));
}

/**
 * Sends one message from several buffers (scatter/gather: one `sendmsg(2)` for all of them), with ancillary
 * data (`{ level, type, data }` items, `cmsghdr`s) and, on an unconnected datagram socket, a destination.
 * Returns the bytes sent (on a stream socket possibly fewer than given), or `null` when it would block.
 * `MSG_NOSIGNAL` is always added. A string in `buffers` is sent as UTF-8.
 * @see sendmsg(2), cmsg(3)
 * @example sendmsg(fd, [header, body], [{ level: SOL_SOCKET, type: SCM_RIGHTS, data: new Int32Array([fileFd]) }]);
 */
export function sendmsg(fd: number, buffers: ReadonlyArray<BytesLike | string>, ancdata: readonly AncDataInput[] = [], flags = 0, address?: AddressInput | null): number | null {
  checkFd(fd);
  const b = checkBuffers(buffers, 'buffers', true);
  const [levelsTypes, data] = checkAncdata(ancdata);
  return sendmsgChecked(fd, b, levelsTypes, data, flags, address);
}

function checkAncbufsize(ancbufsize: unknown): number {
  return ancbufsize === undefined ? 0 : checkInt(ancbufsize, 'ancbufsize', 0, MAX_ANCBUFSIZE);
}

/**
 * Where MSG_CMSG_CLOEXEC does not exist, sets FD_CLOEXEC on the received fds at once; if that fails, closes them
 * all before the error leaves (the caller never sees them).
 */
function cloexecReceived(fds: readonly number[]): void {
  if (CMSG_CLOEXEC !== 0) return;
  try {
    for (const fd of fds) native.fcntl(fd, k.F_SETFD, k.FD_CLOEXEC);
  } catch (e) {
    for (const fd of fds) native.close(fd);
    throw e;
  }
}

/**
 * Receives one message of at most `bufsize` bytes and at most `ancbufsize` bytes of ancillary data (size it
 * with {@link CMSG_SPACE}): `{ data, ancdata, flags, address }`, or `null` when it would block. `flags` says
 * `MSG_TRUNC` when the datagram was longer than `bufsize`, `MSG_CTRUNC` when the ancillary data did not fit.
 * The fds of `SCM_RIGHTS` items are close-on-exec and the caller's, also when truncated.
 * @see recvmsg(2), cmsg(3)
 */
export function recvmsg(fd: number, bufsize: number, ancbufsize = 0, flags = 0): Message | null {
  checkFd(fd);
  checkInt(bufsize, 'bufsize', 0, MAX_SIZE);
  const anc = checkAncbufsize(ancbufsize);
  const r = native.recvmsg(fd, bufsize, anc, optInt32(flags, 'flags', 0)) as Message | null;
  if (r !== null) cloexecReceived(fdsOf(r.ancdata));
  return r;
}

/**
 * {@link recvmsg} into the caller's buffers, filled in order (scatter): `{ bytes, ancdata, flags, address }`,
 * or `null` when it would block. Allocates nothing for the data.
 * @see recvmsg(2)
 */
export function recvmsgInto(fd: number, buffers: readonly BytesLike[], ancbufsize = 0, flags = 0): MessageInto | null {
  checkFd(fd);
  const b = checkBuffers(buffers, 'buffers', false);
  const anc = checkAncbufsize(ancbufsize);
  const r = native.recvmsgInto(fd, b, anc, optInt32(flags, 'flags', 0)) as MessageInto | null;
  if (r !== null) cloexecReceived(fdsOf(r.ancdata));
  return r;
}

/** The fds in the `SCM_RIGHTS` items of received ancillary data, in order (whole C ints only). */
function fdsOf(ancdata: readonly AncData[]): number[] {
  const fds: number[] = [];
  for (const item of ancdata) {
    if (item.level !== k.SOL_SOCKET || item.type !== k.SCM_RIGHTS) continue;
    const d = item.data;
    for (let at = 0; at + 4 <= d.length; at += 4) fds.push(LE ? d.readInt32LE(at) : d.readInt32BE(at));
  }
  return fds;
}

/**
 * Sends `fds` (numbers, or Sockets) with one message (Python's `socket.send_fds`): one `sendmsg(2)` with an
 * `SCM_RIGHTS` item. The receiver gets new fds for the same open files; the sender's stay open. Returns the
 * bytes sent, or `null` when it would block. Send at least one byte of data on a stream socket, so that the
 * receiver's recv has something to return with the fds.
 * @see unix(7) SCM_RIGHTS
 * @example sendFds(channel, [Buffer.from('x')], [listener]);
 */
export function sendFds(fd: number, buffers: ReadonlyArray<BytesLike | string>, fds: readonly FdLike[], flags = 0, address?: AddressInput | null): number | null {
  checkFd(fd);
  const b = checkBuffers(buffers, 'buffers', true);
  if (!Array.isArray(fds)) throw invalidArgType('fds', 'an array of fds (numbers or objects with a fileno() method)', fds);
  const n = fds.length;
  const list = new Int32Array(n);
  for (let i = 0; i < n; i++) list[i] = fdOfFileObj(fds[i], `fds[${i}]`);
  if (n === 0) return sendmsgChecked(fd, b, new Int32Array(0), [], flags, address);
  return sendmsgChecked(fd, b, new Int32Array([k.SOL_SOCKET, k.SCM_RIGHTS]), [list], flags, address);
}

/**
 * Receives a message of at most `bufsize` bytes and at most `maxfds` fds (Python's `socket.recv_fds`):
 * `{ data, fds, flags, address }`, or `null` when it would block. The fds are close-on-exec and the caller's;
 * `flags & MSG_CTRUNC` says more were sent than `maxfds` (the kernel closed the rest).
 * @see unix(7) SCM_RIGHTS
 * @example const { data, fds: [listener] } = recvFds(channel, 1, 1)!;
 */
export function recvFds(fd: number, bufsize: number, maxfds: number, flags = 0): FdMessage | null {
  checkFd(fd);
  checkInt(bufsize, 'bufsize', 0, MAX_SIZE);
  checkInt(maxfds, 'maxfds', 0, Math.floor((MAX_ANCBUFSIZE - native.CMSG_LEN(0)) / 4));
  const r = native.recvmsg(fd, bufsize, native.CMSG_LEN(maxfds * 4), optInt32(flags, 'flags', 0)) as Message | null;
  if (r === null) return null;
  const fds = fdsOf(r.ancdata);
  cloexecReceived(fds);
  return { data: r.data, fds, flags: r.flags, address: r.address };
}

/**
 * The `cmsg_len` of an ancillary item with `length` bytes of data (`CMSG_LEN(3)`).
 * @see cmsg(3)
 */
export function CMSG_LEN(length: number): number {
  checkInt(length, 'length', 0, native.maxCmsgLength);
  return native.CMSG_LEN(length);
}

/**
 * The room an ancillary item with `length` bytes of data takes in a control buffer, padding included
 * (`CMSG_SPACE(3)`): add these up for {@link recvmsg}'s `ancbufsize`.
 * @see cmsg(3)
 */
export function CMSG_SPACE(length: number): number {
  checkInt(length, 'length', 0, native.maxCmsgLength);
  return native.CMSG_SPACE(length);
}

/**
 * Linux's `struct ucred` as bytes, for an `SCM_CREDENTIALS` item to {@link sendmsg}: `pid` and `uid`/`gid` in
 * the machine's byte order (12 bytes). The kernel checks them: a process may send its own ids (root, any).
 */
export function packCredentials(credentials: Credentials): Buffer {
  if (typeof credentials !== 'object' || credentials === null) throw invalidArgType('credentials', 'an object { pid, uid, gid }', credentials);
  const { pid, uid, gid } = credentials as unknown as Record<string, unknown>;
  const p = checkInt(pid, 'credentials.pid', -0x80000000, 0x7fffffff);
  const u = checkInt(uid, 'credentials.uid', 0, 0xffffffff);
  const g = checkInt(gid, 'credentials.gid', 0, 0xffffffff);
  const out = Buffer.alloc(12);
  if (LE) {
    out.writeInt32LE(p, 0);
    out.writeUInt32LE(u, 4);
    out.writeUInt32LE(g, 8);
  } else {
    out.writeInt32BE(p, 0);
    out.writeUInt32BE(u, 4);
    out.writeUInt32BE(g, 8);
  }
  return out;
}

/**
 * `{ pid, uid, gid }` from Linux's `struct ucred` (12 bytes): the data of a received `SCM_CREDENTIALS` item, or
 * `getsockopt(fd, SOL_SOCKET, SO_PEERCRED, 12)`, the peer's credentials of a connected Unix socket.
 * @example const { pid, uid } = unpackCredentials(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, 12));
 */
export function unpackCredentials(bytes: BytesLike): Credentials {
  if (!isBytes(bytes)) throw invalidArgType('bytes', 'an instance of Buffer, TypedArray, DataView or ArrayBuffer', bytes);
  // One copy, then read the copy: the bytes of a SharedArrayBuffer may change while they are read.
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : byteLengthOf(bytes) === 0 ? new Uint8Array(0) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b = Buffer.from(view);
  if (b.length !== 12) throw invalidArgValue('bytes', 'must be 12 bytes long (a struct ucred)', `${b.length} bytes`);
  return LE
    ? { pid: b.readInt32LE(0), uid: b.readUInt32LE(4), gid: b.readUInt32LE(8) }
    : { pid: b.readInt32BE(0), uid: b.readUInt32BE(4), gid: b.readUInt32BE(8) };
}
