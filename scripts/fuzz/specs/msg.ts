/**
 * The message calls: sendmsg, recvmsg, recvmsgInto, sendFds, recvFds, CMSG_LEN / CMSG_SPACE, packCredentials /
 * unpackCredentials, and the addon's sendmsg / recvmsg / recvmsgInto called directly.
 *
 * fd safety: an SCM_RIGHTS item names fds by the bytes of its data, which no fd check of the runner sees. So the
 * fuzzer only ever sends SCM_RIGHTS data it made for the purpose (fds it owns outright, closed or out-of-range
 * numbers), never bytes of shared or random memory: a received dup of stdin or of the runner's own channel,
 * taken into the pool, would be made non-blocking or closed. Every fd received is the fuzzer's (created hooks).
 */
import * as util from 'node:util';
import type { AncDataInput, BytesLike, Credentials, FdLike, Socket } from '../../../lib/index';
import type { Ctx } from '../context';
import { hostile, retype } from '../gen';
import { k, native, s } from '../pkg';
import { OOR_BASE, safely } from '../pool';
import type { SharedHooks } from './hooks';
import { callAs, type Spec, spec } from './types';

export function msgSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a, v, rng, pool } = c;
  const { FD, nAddr } = a;
  const pick = <T>(arr: readonly T[]): T => rng.pick(arr);
  const me: Credentials = { pid: process.pid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

  /** SCM_RIGHTS data the fuzzer may send: fds it owns outright, closed ones, out-of-range numbers. */
  function safeFdData(): Int32Array {
    const n = pick([0, 1, 1, 2, 3, 5]);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = rng.chance(0.8) ? v.rawFd() : rng.chance(0.5) ? v.closedFd() : pick([-1, OOR_BASE + 7, 2 ** 31 - 1]);
    return out;
  }
  const rights = (): AncDataInput => ({ level: k.SOL_SOCKET, type: k.SCM_RIGHTS, data: safeFdData() });
  /** An item that is not SCM_RIGHTS: credentials (good or forged), or bytes under a level no protocol has. */
  function otherItem(): AncDataInput {
    switch (rng.int(4)) {
      case 0: return { level: k.SOL_SOCKET, type: k.SCM_CREDENTIALS, data: s.packCredentials(me) };
      case 1: return { level: k.SOL_SOCKET, type: k.SCM_CREDENTIALS, data: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) };
      case 2: return { level: k.SOL_SOCKET, type: pick([0, 3, 99, -1]), data: v.bytes(64) };
      default: return { level: pick([9999, -1, 2 ** 31 - 1]), type: pick([0, 1, 2, 99]), data: v.bytes(64) };
    }
  }
  const ancItems = (): AncDataInput[] => Array.from({ length: pick([0, 0, 1, 1, 2, 3]) }, () => (rng.chance(0.5) ? rights() : otherItem()));
  function badAncdata(): unknown {
    switch (rng.int(5)) {
      case 0: return a.hostileArray(ancItems());
      case 1: return [{ level: k.SOL_SOCKET, type: k.SCM_RIGHTS, data: pick<unknown>([[1, 2], 'abc', null, 5]) }];
      case 2: return [{ level: v.int32Bad(), type: 1, data: Buffer.alloc(4) }];
      case 3: return [v.throwingGetters(['level', 'type', 'data'])];
      default: return v.junk(true);
    }
  }
  const ancdata = a.g<AncDataInput[]>(ancItems, badAncdata);

  /** Bytes to send: strings and every kind of byte container (shared ones too). */
  const sendList = a.g<Array<BytesLike | string>>(
    () => Array.from({ length: pick([0, 1, 2, 3, 8, 40]) }, () => (rng.chance(0.2) ? pick(['', 'hi', 'h\u00e9']) : v.bytes(rng.chance(0.9) ? 1024 : 65537))),
    () => (rng.chance(0.5) ? a.hostileArray([Buffer.from('x'), Buffer.from('y')]) : rng.chance(0.5) ? [Buffer.alloc(1), v.junk(true)] : v.junk(true)),
  );
  /** Buffers to receive into. */
  const recvList = a.g<BytesLike[]>(
    () => Array.from({ length: pick([0, 1, 2, 3, 8]) }, () => v.bytes()),
    () => (rng.chance(0.5) ? a.hostileArray([Buffer.alloc(4), Buffer.alloc(4)]) : rng.chance(0.5) ? [Buffer.alloc(1), 'str'] : v.junk(true)),
  );
  const ancbufsize = a.g<number | undefined>(
    () => pick([undefined, 0, 1, 15, 16, 20, 24, 40, 64, s.CMSG_SPACE(12) + s.CMSG_SPACE(20), 4096, 1 << 20]),
    () => pick<unknown>([-1, (1 << 20) + 1, 1.5, NaN, '8', null, 8n]),
  );
  const maxfds = a.g(() => pick([0, 1, 2, 5, 253]), () => pick<unknown>([-1, 1 << 20, 1.5, NaN, '1', null]));
  function fdLike(): FdLike {
    switch (rng.int(5)) {
      case 0: {
        const fd = v.rawFd();
        return { fileno: () => fd };
      }
      case 1: return pool.liveSockets().length > 0 ? pick(pool.liveSockets()) : v.rawFd();
      case 2: return v.closedFd();
      default: return v.rawFd();
    }
  }
  const fdList = a.g<FdLike[]>(
    () => Array.from({ length: pick([0, 1, 1, 2, 4]) }, fdLike),
    () => (rng.chance(0.4) ? a.hostileArray([fdLike(), fdLike()]) : rng.chance(0.5) ? [a.badFileObj()] : v.junk(true)),
  );
  const address = a.g(() => (rng.chance(0.7) ? undefined : a.address.v()), () => a.address.b());
  const cmsgLength = a.g(() => pick([0, 1, 4, 12, 100, native.maxCmsgLength]), () => pick<unknown>([-1, native.maxCmsgLength + 1, 1.5, NaN, '4', null]));
  const credentials = a.g<Credentials>(
    () => pick([me, { pid: 0, uid: 0, gid: 0 }, { pid: -1, uid: 2 ** 32 - 1, gid: 1 }]),
    () => pick<unknown>([null, {}, { pid: 1.5, uid: 0, gid: 0 }, { pid: 1, uid: -1, gid: 0 }, v.throwingGetters(['pid', 'uid', 'gid']), v.junk(true)]),
  );
  const credBytes = a.g<BytesLike>(() => (rng.chance(0.7) ? s.packCredentials(me) : v.bytes(16)), () => v.junk(true));

  /** Takes over the fds of the SCM_RIGHTS items of a result's ancdata (recvmsg, recvmsgInto, native ones). */
  function ownReceived(r: unknown): void {
    const items = safely(() => (r as { ancdata?: unknown }).ancdata, undefined);
    if (!Array.isArray(items)) return;
    for (const it of items as Array<{ level: number; type: number; data: Buffer }>) {
      if (it.level !== k.SOL_SOCKET || it.type !== k.SCM_RIGHTS) continue;
      for (let at = 0; at + 4 <= it.data.length; at += 4) pool.own(it.data.readInt32LE(at), 'received');
    }
  }
  const ownFds = (r: unknown): void => {
    const fds = safely(() => (r as { fds?: unknown }).fds, undefined);
    if (Array.isArray(fds)) for (const fd of fds) pool.own(fd, 'received');
  };

  // The addon's form: buffers, [level, type] pairs, data. The pairs never say SCM_RIGHTS over data the fuzzer did
  // not make for it (see prepareNativeSend).
  const nPairs = a.g(
    () => {
      const n = pick([0, 1, 2]);
      const out = new Int32Array(2 * n);
      for (let i = 0; i < n; i++) {
        out[2 * i] = pick([k.SOL_SOCKET, 9999, -1]);
        out[2 * i + 1] = pick([k.SCM_RIGHTS, k.SCM_CREDENTIALS, 99]);
      }
      return out;
    },
    () => pick<unknown>([[1, 1], new Uint32Array(2), null, new Int32Array(3), v.junk(true)]),
  );
  const nAncData = a.g(
    () => Array.from({ length: pick([0, 1, 2]) }, () => hostile<ArrayBufferView>(rng.chance(0.5) ? safeFdData() : v.bytes(64))),
    () => (rng.chance(0.5) ? a.hostileArray([Buffer.alloc(4)]) : v.junk(true)),
  );
  const nSendList = retype<ArrayBufferView[]>(a.g(() => Array.from({ length: pick([0, 1, 2, 5]) }, () => v.bytes(4096)), () => v.junk(true)));
  const nRecvList = retype<ArrayBufferView[]>(recvList);
  const nAncbufsize = a.g(() => pick([0, 16, 24, 64, 1 << 20]), () => pick<unknown>([-1, (1 << 20) + 1, 1.5, NaN, undefined, '8']));

  /**
   * native.sendmsg: the pairs are snapshot into a fresh Int32Array the mutator cannot change, and the data of an
   * SCM_RIGHTS pair is the fuzzer's own fd list; where that cannot be arranged (no plain array of data), the
   * pair's type is changed.
   */
  function prepareNativeSend(args: unknown[]): void {
    const pairs = args[2];
    if (!safely(() => pairs instanceof Int32Array, false)) return;
    const copy = safely(() => Int32Array.from(pairs as Int32Array), new Int32Array(0));
    args[2] = copy;
    const data = args[3];
    const plain = safely(() => !util.types.isProxy(data) && Array.isArray(data), false);
    const put = (j: number, value: unknown): boolean =>
      safely(() => {
        Object.defineProperty(data, j, { value, writable: true, enumerable: true, configurable: true });
        return true;
      }, false);
    for (let i = 0; i + 1 < copy.length; i += 2) {
      if (copy[i] !== k.SOL_SOCKET || copy[i + 1] !== k.SCM_RIGHTS) continue;
      if (!plain || i / 2 >= (data as unknown[]).length || !put(i / 2, safeFdData())) copy[i + 1] = 99;
    }
    if (!plain) return;
    // No getter may stand where the addon reads an element either: it could hand over other bytes.
    const arr = data as unknown[];
    for (let j = 0; j < arr.length; j++) {
      const d = Object.getOwnPropertyDescriptor(arr, j);
      if (d && d.get && !put(j, Buffer.alloc(4))) {
        args[3] = [];
        return;
      }
    }
  }

  /** A live Socket of the pool mostly, a closed one, or an impostor. */
  const socketArg = a.g<Socket>(
    () => {
      const live = pool.liveSockets();
      if (live.length > 0 && rng.chance(0.93)) return pick(live);
      return pool.sockets.length > 0 ? pick(pool.sockets) : hostile<Socket>(Object.create(s.Socket.prototype));
    },
    () => pick([null, {}, Object.create(s.Socket.prototype), v.junk(true)]),
  );
  /** Socket#sendmsg / #sendFds resolve a host name: give them none (args[i] is the address). */
  const noDns = (i: number) => (args: unknown[]) => {
    if (args.length > i) args[i] = h.safeHostAddr(args[i]);
  };

  return [
    spec({
      name: 'Socket#sendmsg',
      covers: 'Socket',
      call: (sock: Socket, b: Array<BytesLike | string>, anc?: AncDataInput[], f?: number, addr?: Parameters<Socket['sendmsg']>[3]) => callAs(sock, sock.sendmsg, b, anc, f, addr),
      kinds: [socketArg, sendList, ancdata, a.msgFlags, address],
      prepare: noDns(4),
      before: h.socketFd(false),
    }),
    spec({
      name: 'Socket#recvmsg',
      covers: 'Socket',
      call: (sock: Socket, n: number, anc?: number, f?: number) => callAs(sock, sock.recvmsg, n, anc, f),
      kinds: [socketArg, a.size, ancbufsize, a.msgFlags],
      created: ownReceived,
      before: h.socketFd(false),
    }),
    spec({
      name: 'Socket#recvmsgInto',
      covers: 'Socket',
      call: (sock: Socket, b: BytesLike[], anc?: number, f?: number) => callAs(sock, sock.recvmsgInto, b, anc, f),
      kinds: [socketArg, recvList, ancbufsize, a.msgFlags],
      created: ownReceived,
      before: h.socketFd(false),
    }),
    spec({
      name: 'Socket#sendFds',
      covers: 'Socket',
      call: (sock: Socket, b: Array<BytesLike | string>, fds: FdLike[], f?: number, addr?: Parameters<Socket['sendFds']>[3]) => callAs(sock, sock.sendFds, b, fds, f, addr),
      kinds: [socketArg, sendList, fdList, a.msgFlags, address],
      prepare: noDns(4),
      before: h.socketFd(false),
    }),
    spec({
      name: 'Socket#recvFds',
      covers: 'Socket',
      call: (sock: Socket, n: number, m: number, f?: number) => callAs(sock, sock.recvFds, n, m, f),
      kinds: [socketArg, a.size, maxfds, a.msgFlags],
      created: ownFds,
      before: h.socketFd(false),
    }),
    spec({ name: 'sendmsg', covers: 'sendmsg', call: s.sendmsg, kinds: [FD.any, sendList, ancdata, a.msgFlags, address], weight: 2 }),
    spec({ name: 'recvmsg', covers: 'recvmsg', call: s.recvmsg, kinds: [FD.any, a.size, ancbufsize, a.msgFlags], created: ownReceived, weight: 2 }),
    spec({ name: 'recvmsgInto', covers: 'recvmsgInto', call: s.recvmsgInto, kinds: [FD.any, recvList, ancbufsize, a.msgFlags], created: ownReceived, weight: 2 }),
    spec({ name: 'sendFds', covers: 'sendFds', call: s.sendFds, kinds: [FD.any, sendList, fdList, a.msgFlags, address], weight: 2 }),
    spec({ name: 'recvFds', covers: 'recvFds', call: s.recvFds, kinds: [FD.any, a.size, maxfds, a.msgFlags], created: ownFds, weight: 2 }),
    spec({ name: 'CMSG_LEN', covers: 'CMSG_LEN', call: s.CMSG_LEN, kinds: [cmsgLength], weight: 0.3 }),
    spec({ name: 'CMSG_SPACE', covers: 'CMSG_SPACE', call: s.CMSG_SPACE, kinds: [cmsgLength], weight: 0.3 }),
    spec({ name: 'packCredentials', covers: 'packCredentials', call: s.packCredentials, kinds: [credentials], weight: 0.3 }),
    spec({ name: 'unpackCredentials', covers: 'unpackCredentials', call: s.unpackCredentials, kinds: [credBytes], weight: 0.3 }),
    spec({
      name: 'native.sendmsg',
      covers: 'native.sendmsg',
      call: native.sendmsg,
      kinds: [FD.any, nSendList, nPairs, nAncData, a.nInt32, ...nAddr],
      prepare: prepareNativeSend,
      weight: 2,
    }),
    spec({ name: 'native.recvmsg', covers: 'native.recvmsg', call: native.recvmsg, kinds: [FD.any, a.size, nAncbufsize, a.nInt32], created: ownReceived, weight: 2 }),
    spec({ name: 'native.recvmsgInto', covers: 'native.recvmsgInto', call: native.recvmsgInto, kinds: [FD.any, nRecvList, nAncbufsize, a.nInt32], created: ownReceived, weight: 2 }),
    spec({ name: 'native.CMSG_LEN/SPACE', covers: ['native.CMSG_LEN', 'native.CMSG_SPACE', 'native.maxCmsgLength'], call: (i: number, n: number) => (i === 0 ? native.CMSG_LEN(n) : native.CMSG_SPACE(n)), kinds: [a.g(() => rng.int(2)), cmsgLength], weight: 0.3 }),
  ];
}
