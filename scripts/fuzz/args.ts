/**
 * The argument generators the specs share: fds, numbers, flags, socket options, addresses, data, fd lists and
 * poll lists (with hostile arrays), callbacks, async options, resolver arguments, and the addon's own forms of
 * them. Each one is typed as the parameter it stands for; its bad values are cast there (gen, hostile).
 */
import type { AsyncOptions, BytesLike, Data, FileLike, GetAddrInfoOptions, PollFd, WatchCallback } from '../../lib/index';
import type { AddressInput } from '../../lib/address';
import type { NativeRegistry, NativeWatcher } from '../../lib/native';
import type { Ctx } from './context';
import { ResizableArrayBuffer as ResizableAB } from './es2024';
import { type Gen, gen, hostile } from './gen';
import { k, native } from './pkg';
import { DOMAINS, NB, OOR_BASE } from './pool';
import { FuzzerThrow } from './report';

export type Args = ReturnType<typeof makeArgs>;

/** The socket options the fuzzer sets and gets: [level, name]. */
const SOCKOPTS: ReadonlyArray<readonly [number, number]> = (
  [
    [k.SOL_SOCKET, k.SO_REUSEADDR], [k.SOL_SOCKET, k.SO_REUSEPORT], [k.SOL_SOCKET, k.SO_KEEPALIVE], [k.SOL_SOCKET, k.SO_BROADCAST],
    [k.SOL_SOCKET, k.SO_LINGER], [k.SOL_SOCKET, k.SO_RCVBUF], [k.SOL_SOCKET, k.SO_SNDBUF], [k.SOL_SOCKET, k.SO_RCVLOWAT],
    [k.SOL_SOCKET, k.SO_RCVTIMEO], [k.SOL_SOCKET, k.SO_SNDTIMEO], [k.SOL_SOCKET, k.SO_ERROR], [k.SOL_SOCKET, k.SO_TYPE],
    [k.SOL_SOCKET, k.SO_DOMAIN], [k.SOL_SOCKET, k.SO_PROTOCOL], [k.SOL_SOCKET, k.SO_ACCEPTCONN], [k.SOL_SOCKET, k.SO_OOBINLINE],
    [k.SOL_SOCKET, k.SO_PEERCRED], [k.SOL_SOCKET, k.SO_PASSCRED], [k.SOL_SOCKET, k.SO_BINDTODEVICE], [k.SOL_SOCKET, k.SO_PRIORITY],
    [k.IPPROTO_TCP, k.TCP_NODELAY], [k.IPPROTO_TCP, k.TCP_MAXSEG], [k.IPPROTO_TCP, k.TCP_KEEPIDLE], [k.IPPROTO_TCP, k.TCP_CORK],
    [k.IPPROTO_TCP, k.TCP_QUICKACK], [k.IPPROTO_TCP, k.TCP_USER_TIMEOUT], [k.IPPROTO_IP, k.IP_TTL], [k.IPPROTO_IP, k.IP_TOS],
    [k.IPPROTO_IP, k.IP_MULTICAST_TTL], [k.IPPROTO_IP, k.IP_MULTICAST_LOOP], [k.IPPROTO_IPV6, k.IPV6_V6ONLY],
    [k.IPPROTO_IPV6, k.IPV6_UNICAST_HOPS], [k.IPPROTO_IPV6, k.IPV6_TCLASS],
  ] as const
).filter(([a, b]) => typeof a === 'number' && typeof b === 'number'); // a name the platform lacks is undefined

const BAD_PORTS: readonly unknown[] = [-1, 65536, 1.5, NaN, Infinity, '80', undefined, null, 80n, 2 ** 53, -0.1, {}];
const BAD_HOSTS = ['', '1.2.3', '256.1.1.1', '127.0.0.1\0', 'a\0b', '::1%', 'fe80::1%nosuchif0', '::ffff:999.1.1.1', '1.2.3.4.5', '[::1]', 'localhost'];

/** The generators, over everything else of the context. */
export function makeArgs(c: Omit<Ctx, 'a'>) {
  const { rng, v, pool } = c;
  const int = (n: number) => rng.int(n);
  const chance = (p: number) => rng.chance(p);
  const pick = <T>(arr: readonly T[]): T => rng.pick(arr);
  const int32Bad = () => v.int32Bad();
  /** A generator whose bad values are int32Bad's unless given. */
  const g = <T>(good: () => T, bad: () => unknown = int32Bad, extra?: Parameters<typeof gen>[2]): Gen<T> => gen(good, bad, extra);
  const badFd = () => v.badFd();

  // ---- fds ----
  const FD = {
    /** For a call that changes the fd but does not close it. */
    any: g(() => v.anyFd(), badFd, { fd: 'any' }),
    /** For a read-only call. */
    ro: g(() => v.roFd(), badFd, { fd: 'ro' }),
    /** For close(): only fds the fuzzer owns outright, or closed ones. */
    close: g(() => (chance(0.85) ? v.rawFd() : v.closedFd()), badFd, { fd: 'close' }),
    /** For a watcher. */
    watch: g(() => v.anyFd(), badFd, { fd: 'any' }),
  };

  // ---- numbers and flags ----
  const FLAG_BITS = [k.MSG_PEEK, k.MSG_DONTWAIT, k.MSG_TRUNC, k.MSG_OOB, k.MSG_WAITALL, k.MSG_NOSIGNAL, k.MSG_MORE, k.MSG_ERRQUEUE, k.MSG_CTRUNC, k.MSG_EOR, k.MSG_CONFIRM, k.MSG_DONTROUTE].filter(
    (x) => typeof x === 'number',
  );
  const msgFlags = g(() => {
    if (chance(0.5)) return 0;
    let f = 0;
    for (let i = int(3); i >= 0; i--) f |= pick(FLAG_BITS);
    return chance(0.05) ? rng.int32() : f;
  });
  const domain = g(() => (chance(0.93) ? pick(DOMAINS) : pick([k.AF_UNSPEC, 9999, -1, 2 ** 31 - 1, 64, 255])));
  const sockType = g(() => {
    const base = chance(0.95) ? pick([k.SOCK_STREAM, k.SOCK_DGRAM, k.SOCK_SEQPACKET]) : pick([0, 4, 11, 15, 0x7fff0000]);
    return base | (chance(0.8) ? NB : 0) | (chance(0.3) ? k.SOCK_CLOEXEC : 0);
  });
  const protocol = g(() => (chance(0.85) ? 0 : pick([k.IPPROTO_TCP, k.IPPROTO_UDP, k.IPPROTO_ICMP, 999, -1])));
  const size = g(
    () => (chance(0.995) ? pick([0, 1, 2, 16, 100, 1024, 4096, 65536, 65537, 200000]) : 2 ** 31 - 1),
    () => pick<unknown>([-1, 2 ** 31, 2 ** 53, 1.5, NaN, Infinity, -0.5, '10', 10n, null, {}]),
  );
  /** A wait's timeout: 0 or 1 ms, or one rejected before any wait. */
  const timeout = g(
    () => pick([0, -0, 0.2, 0, 1, 0]),
    () => pick<unknown>([NaN, 2 ** 31, 2 ** 31 + 1, Infinity, '0', 0n, {}, true, [], v.primitiveTraps()]),
    { required: true },
  );
  const backlog = g(() => pick([0, 1, 16, 511, 2 ** 31 - 1]), () => pick<unknown>([-1, 2 ** 31, 1.5, NaN, '5', null]));
  const how = g(() => pick([k.SHUT_RD, k.SHUT_WR, k.SHUT_RDWR, 3, -1, 7]));
  const bool = g(() => chance(0.5), () => pick<unknown>([0, 1, 'true', null, undefined, {}, 1n]));
  const acceptFlags = g(() => pick([0, NB, k.SOCK_CLOEXEC, NB | k.SOCK_CLOEXEC, 1, -1]));

  // ---- socket options and fcntl: [level, name] generators that share one pick ----
  let lastOpt: readonly [number, number] = SOCKOPTS[0];
  const optLevel = g(() => {
    lastOpt = chance(0.9) ? pick(SOCKOPTS) : [pick([k.SOL_SOCKET, k.IPPROTO_TCP, k.IPPROTO_IP, 999]), int(80)];
    return lastOpt[0];
  });
  const optName = g(() => lastOpt[1]);
  const optValue = g<number | boolean | BytesLike>(
    () => (chance(0.6) ? pick([0, 1, -1, 4096, 65536, 2 ** 31 - 1]) : chance(0.3) ? chance(0.5) : v.bytes(64)),
    () => v.junk(true),
  );
  const optLength = g<number | undefined>(() => pick([undefined, 0, 1, 4, 8, 16, 256, 1 << 20]), () => pick<unknown>([-1, (1 << 20) + 1, 1.5, NaN, '4', null]));
  const FCNTL_CMDS = [k.F_GETFL, k.F_SETFL, k.F_GETFD, k.F_SETFD, k.F_GETOWN, k.F_SETOWN];
  const fcntlCmd = g(() => (chance(0.9) ? pick(FCNTL_CMDS) : pick([0 /* F_DUPFD */, 1030, 9999, -1])));
  const fcntlArg = g<number | undefined>(() => pick([undefined, 0, k.O_NONBLOCK, k.FD_CLOEXEC, 1, -1, 2 ** 31 - 1]));

  // ---- addresses: loopback, the temp dir, or invalid ----
  function longPath(n: number): string {
    const base = pool.tmp + '/';
    return base + 'L'.repeat(Math.max(1, n - Buffer.byteLength(base)));
  }
  function inetTarget(list: ReadonlyArray<{ family: string; address: string; port: number }>, v6: boolean): AddressInput {
    const t = list.filter((a) => (a.family === 'IPv6') === v6);
    return t.length > 0 ? { address: pick(t).address, port: pick(t).port } : { address: v6 ? '::1' : '127.0.0.1', port: 1 };
  }
  function addrValid(): AddressInput {
    switch (int(12)) {
      case 0: case 1: return inetTarget(pool.tcpTargets, chance(0.3));
      case 2: return inetTarget(pool.udpTargets, chance(0.3));
      case 3: return { address: '127.0.0.1', port: chance(0.5) ? 0 : 1024 + int(60000) };
      case 4: return { address: '::1', port: chance(0.5) ? 0 : 1024 + int(60000), flowinfo: chance(0.2) ? int(0xfffff) : undefined };
      case 5: return { address: pick(['::ffff:127.0.0.1', '127.0.0.2', '0.0.0.0', '::', 'fe80::1%lo', 'fe80::1%1']), port: int(3) === 0 ? 0 : 1024 + int(60000) };
      case 6: case 7: return pool.unixTargets.length > 0 ? { path: pick(pool.unixTargets).path } : { path: pool.newPath() };
      case 8: return { path: pool.newPath() };
      case 9: return { path: `\0sockfd-fuzz-${process.pid}-${int(20)}` };
      case 10: return { path: pick(['', `rel${int(10)}`, longPath(107), '\u00e9'.repeat(40)]) };
      default: return { address: '::1', port: 0, scopeId: pick([0, 1, 2 ** 32 - 1]) };
    }
  }
  function addrBad(): unknown {
    switch (int(16)) {
      case 0: return { address: pick(['127.0.0.1', '::1']), port: pick(BAD_PORTS) };
      case 1: return { address: pick(BAD_HOSTS), port: 80 };
      case 2: return { path: longPath(pick([108, 109, 200, 5000])) };
      case 3: return { path: pick(['a\0b', pool.tmp + '/x\0y', '\0' + 'a'.repeat(108), '\u00e9'.repeat(60)]) };
      case 4: return { path: pick<unknown>([5, null, {}, 1n, Symbol('p')]) };
      case 5: return { address: pick<unknown>([5, null, undefined, {}, 1n]), port: 80 };
      case 6: return { address: '::1', port: 1, flowinfo: pick<unknown>([-1, 0x100000, 1.5, 'x']) };
      case 7: return { address: '::1', port: 1, scopeId: pick<unknown>([-1, 2 ** 32, NaN, '1']) };
      case 8: return v.throwingGetters(pick([['path'], ['address', 'port'], ['port'], ['flowinfo']]));
      case 9: return v.throwingProxy();
      case 10: return pick<unknown>([null, undefined, '127.0.0.1:80', 80, [], () => {}]);
      case 11: return { path: pool.tmp + '/both', address: '127.0.0.1', port: 1 };
      case 12: {
        // a getter that gives a different answer each read
        let n = 0;
        return {
          get address() {
            return n++ === 0 ? '127.0.0.1' : 'not an ip';
          },
          port: 1,
        };
      }
      case 13:
        return {
          address: '127.0.0.1',
          get port(): number {
            throw new FuzzerThrow('port');
          },
        };
      case 14: return v.revokedProxy();
      default: return v.junk(true);
    }
  }
  const address = g(addrValid, addrBad);

  // ---- data ----
  const data = g<Data>(
    () => (chance(0.3) ? pick(['', 'hello', 'h\u00e9llo \u{1F600}', 'a\0b', 'x'.repeat(int(5000))]) : v.bytes(chance(0.02) ? 300000 : 65537)),
    () => v.junk(),
  );
  const smallData = g<Data>(() => (chance(0.3) ? pick(['', 'hi', '\u{1F600}'.repeat(100)]) : v.bytes(2048)), () => v.junk(true));
  const buffer = g<BytesLike>(() => v.bytes(), () => v.junk(true));
  const offset = g<number | undefined>(() => pick([undefined, 0, 1, 3, 8, 100]), () => pick<unknown>([-1, 2 ** 31, 1e9, 0.5, NaN, Infinity, '1', null, 5n]));
  const length = g<number | undefined>(() => pick([undefined, 0, 1, 4, 16, 1000]), () => pick<unknown>([-1, 2 ** 31, 1e9, 0.5, NaN, Infinity, '1', null, 5n]));

  // ---- fd lists for select and poll, with hostile arrays ----
  function fileObj(fdGen: () => number = () => v.roFd()): FileLike {
    switch (int(8)) {
      case 0: case 1: case 2: case 3: return fdGen();
      case 4: {
        const fd = fdGen();
        return { fileno: () => fd };
      }
      case 5: return pool.liveSockets().length > 0 ? pick(pool.liveSockets()) : fdGen();
      case 6: return pick<FileLike>(pool.sockets.length > 0 ? pool.sockets : [fdGen()]); // may be closed: fileno() -1
      default: return fdGen();
    }
  }
  function badFileObj(): unknown {
    switch (int(6)) {
      case 0: return { fileno: 3 };
      case 1:
        return {
          fileno() {
            throw new FuzzerThrow('fileno');
          },
        };
      case 2: return { fileno: () => pick<unknown>([-1, '3', 1.5, NaN, 2 ** 31, null, OOR_BASE]) };
      case 3: return badFd();
      case 4: return v.throwingProxy();
      default: return v.junk(true);
    }
  }
  /** An array that changes, throws or lies while it is read; or a plain one with a bad element. */
  function hostileArray<T>(items: T[]): unknown {
    switch (int(8)) {
      case 0:
        // a proxy that shrinks the array while it is read
        return new Proxy(items.slice(), {
          get(t, p, r) {
            if (p === '1') t.length = 0;
            return Reflect.get(t, p, r);
          },
        });
      case 1:
        // grows it while it is read
        return new Proxy(items.slice() as unknown[], {
          get(t, p, r) {
            if (p === '0') for (let i = 0; i < 2000; i++) t.push(OOR_BASE + i);
            return Reflect.get(t, p, r);
          },
        });
      case 2: {
        const a = items.slice();
        Object.defineProperty(a, 0, {
          get() {
            throw new FuzzerThrow('element 0');
          },
        });
        return a;
      }
      case 3: {
        const a = items.slice();
        a.length = items.length + 3; // holes
        return a;
      }
      case 4: {
        const a = items.slice();
        Object.defineProperty(a, 0, {
          get() {
            a.length = 0;
            return items[0];
          },
        });
        return a;
      }
      case 5:
        return new Proxy(items, {
          get(t, p) {
            if (p === 'length') throw new FuzzerThrow('length');
            return (t as unknown as Record<PropertyKey, unknown>)[p];
          },
        });
      case 6: return [...items, badFileObj()];
      default: return Object.assign(Object.create(Array.prototype) as object, items, { length: items.length });
    }
  }
  function fdList(): FileLike[] {
    const n = pick([0, 1, 2, 3, 5, 8]);
    const items: FileLike[] = [];
    for (let i = 0; i < n; i++) items.push(fileObj());
    return items;
  }
  const selList = g(fdList, () => (chance(0.7) ? hostileArray(fdList()) : pick<unknown>([null, {}, 5, 'abc', new Int32Array(2), v.junk(true)])));
  function pollEntry(): PollFd {
    return { fd: v.roFd(), events: pick([k.POLLIN, k.POLLOUT, k.POLLIN | k.POLLOUT, 0, k.POLLPRI | k.POLLRDHUP, 0xffff]) };
  }
  function badPollEntry(): unknown {
    switch (int(6)) {
      case 0: return { fd: badFd(), events: k.POLLIN };
      case 1: return { fd: v.roFd(), events: pick<unknown>([-1, 0x10000, 1.5, NaN, '1', null]) };
      case 2: return v.throwingGetters(pick([['fd'], ['events']]));
      case 3: return pick<unknown>([null, 5, 'x', undefined]);
      case 4: return v.throwingProxy();
      default: return { fd: v.roFd() }; // no events
    }
  }
  const pollList = g(
    () => Array.from({ length: pick([0, 1, 2, 4, 8]) }, pollEntry),
    () =>
      chance(0.6)
        ? hostileArray([...Array.from({ length: 3 }, pollEntry), badPollEntry()])
        : chance(0.5)
          ? [pollEntry(), badPollEntry()]
          : v.junk(true),
  );

  // ---- events ----
  const watchEvents = g(() => int(16), () => pick<unknown>([16, -1, 255, 1.5, NaN, '1', null, 2 ** 31]));
  const selEvents = g(() => pick([1, 2, 3]), () => pick<unknown>([0, 4, 7, -1, 1.5, NaN, '1', null, 2 ** 32 + 1]));
  const epollEvents = g(
    () => pick([k.EPOLLIN, k.EPOLLOUT, k.EPOLLIN | k.EPOLLOUT, k.EPOLLIN | k.EPOLLET, (k.EPOLLIN | k.EPOLLET) >>> 0, k.EPOLLRDHUP | k.EPOLLPRI, 0, k.EPOLLONESHOT | k.EPOLLIN, k.EPOLLEXCLUSIVE | k.EPOLLIN, 0xffffffff]),
    () => pick<unknown>([-(2 ** 31) - 1, 2 ** 32, 1.5, NaN, '1', null]),
  );
  const epollOp = g(() => pick([k.EPOLL_CTL_ADD, k.EPOLL_CTL_MOD, k.EPOLL_CTL_DEL, 0, 4]));
  const maxEvents = g(() => pick([1, 2, 16, 64, 1 << 20]), () => pick<unknown>([0, -1, (1 << 20) + 1, 1.5, NaN, '1']));
  /** An out array: plain, windowed, detached, shared (racy), resizable, shrunk... */
  function int32Array(): Int32Array {
    switch (int(9)) {
      case 7: return v.sharedInt32(); // the mutator changes it while the call writes into it
      case 8: return v.resizableView(true);
      case 0: return new Int32Array(pick([0, 1, 2, 3, 7, 64]));
      case 1: return new Int32Array(new ArrayBuffer(64), 4 * int(4), int(10));
      case 2: {
        const ab = new ArrayBuffer(32);
        const a = new Int32Array(ab);
        structuredClone(ab, { transfer: [ab] });
        return a;
      }
      case 3: return new Int32Array(new SharedArrayBuffer(64));
      case 4: return new Int32Array(64).subarray(int(64));
      case 5: {
        const ab = new ResizableAB(64, { maxByteLength: 128 });
        const a = new Int32Array(ab);
        ab.resize(int(64));
        return a;
      }
      default: return new Int32Array(2);
    }
  }
  const outArray = g(int32Array, () => pick<unknown>([new Uint32Array(4), new Float64Array(2), [0, 0], null, {}, Buffer.alloc(8), v.junk(true)]));

  // ---- callbacks (their own PRNG: the event loop's timing) ----
  const { report, cbRng } = c;
  const watchCallback: WatchCallback = function (err, events) {
    report.watchFires++;
    try {
      if (err !== null) report.check(err, { name: 'watch callback error', args: [err, events], inCallback: true });
      const r = cbRng.next();
      if (r < 0.1) this.stop();
      else if (r < 0.5) this.update(Math.floor(cbRng.next() * 16) & ~2); // drop WRITE: it would fire every turn
      else if (r < 0.52) this.update(Math.floor(cbRng.next() * 32)); // sometimes out of range
    } catch (e) {
      report.check(e, { name: 'watch callback', args: [err, events], inCallback: true });
    }
  };
  // The addon calls it with the native watcher as `this` (its declared type leaves `this` out).
  const nativeWatchCallback = function (this: NativeWatcher, err: Error | null, events: number): void {
    report.watchFires++;
    if (err !== null) report.check(err, { name: 'native watch callback error', args: [err, events], inCallback: true });
    try {
      if (cbRng.next() < 0.3) this.stop();
    } catch (e) {
      report.check(e, { name: 'native watch callback', args: [err, events], inCallback: true });
    }
  };
  const callback = g(() => watchCallback, () => pick<unknown>([null, undefined, 5, {}, 'fn', Symbol('f')]));

  // ---- async options ----
  function asyncOptions(): AsyncOptions | undefined {
    switch (int(6)) {
      case 0: case 1: return undefined;
      case 2: return {};
      case 3: return { signal: AbortSignal.abort(new FuzzerThrow('aborted')) };
      case 4: {
        const ac = new AbortController();
        pool.controllers.push(ac);
        return { signal: ac.signal };
      }
      default: return { signal: AbortSignal.timeout(1 + int(5)) };
    }
  }
  const asyncOpts = g(asyncOptions, () =>
    pick<unknown>([null, 5, 'x', { signal: {} }, { signal: 5 }, v.throwingGetters(['signal']), v.throwingProxy()]),
  );

  // ---- getaddrinfo: 'localhost' and literals, or strings refused before any lookup ----
  const host = g<string | null>(
    () => pick(['localhost', '127.0.0.1', '::1', null, '0.0.0.0', '::ffff:127.0.0.1', 'fe80::1%lo']),
    () => pick<unknown>(['', 'a\0b', 5, undefined, {}, 'x'.repeat(300) + '\0', Symbol('h')]),
  );
  const service = g<number | string | null | undefined>(
    () => pick([undefined, null, 0, 80, 65535, 'http', '80', 'ssh']),
    () => pick<unknown>([-1, 65536, 1.5, NaN, 'a\0b', {}, 5n, true]),
  );
  const gaiOptions = g<GetAddrInfoOptions | undefined>(
    () => pick([undefined, {}, { family: k.AF_INET }, { family: k.AF_INET6, type: k.SOCK_STREAM }, { type: k.SOCK_DGRAM, flags: k.AI_PASSIVE }, { flags: k.AI_CANONNAME }, { family: 12345 }, { type: 99 }, { flags: -1 }]),
    () => pick<unknown>([null, 5, 'x', { family: 1.5 }, { type: '1' }, { flags: NaN }, v.throwingGetters(['family']), v.throwingProxy()]),
  );

  // ---- the addon's own forms: positional addresses, Int32Array fd lists, plain int32s ----
  const nFamily = g(() => pick([k.AF_INET, k.AF_INET6, k.AF_UNIX]), () => pick<unknown>([k.AF_UNSPEC, 9999, -1, 1.5, '2', null]));
  const nAddrString = g(
    () => pick(['127.0.0.1', '::1', '0.0.0.0', '::ffff:127.0.0.1', 'fe80::1%lo', '', pool.newPath(), '\0abstract', pool.unixTargets.length ? pick(pool.unixTargets).path : 'x', longPath(107)]),
    () => pick<unknown>(['a\0b', '127.0.0.1\0x', longPath(108), '\0' + 'z'.repeat(108), '::1%', 'fe80::1%nosuchif0', '999.1.1.1', 5, null, {}, Symbol('a')]),
  );
  const nPort = g(() => pick([0, 1, 80, 65535, ...pool.tcpTargets.slice(-2).map((a) => a.port)]), () => pick(BAD_PORTS));
  const nFlow = g(() => pick([0, 1, 0xfffff]), () => pick<unknown>([-1, 0x100000, 1.5, NaN, '0']));
  const nScope = g(() => pick([0, 1, 2 ** 32 - 1]), () => pick<unknown>([-1, 2 ** 32, 1.5, NaN, '0']));
  /** The five positional arguments of an address. */
  const nAddr = [nFamily, nAddrString, nPort, nFlow, nScope] as const;
  // An ArrayBuffer (one case of bytes()) is no ArrayBufferView: the addon must refuse it.
  const nBytes = g(() => hostile<ArrayBufferView>(v.bytes()), () => v.junk(true));
  const nData = g(() => hostile<ArrayBufferView | string>(chance(0.3) ? pick(['', 'abc', 'a\0b']) : v.bytes()), () => v.junk());
  const nOffset = g(() => pick([0, 1, 4, 100]), () => pick<unknown>([-1, 2 ** 31, 2 ** 53, 0.5, NaN, undefined, '0']));
  const nLength = g(() => pick([0, 1, 4, 16, 1000]), () => pick<unknown>([-1, 2 ** 31, 2 ** 53, 0.5, NaN, undefined, '0']));
  const nInt32 = g(() => pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]));
  /** The addon's timeout: 0 or 1 ms, or invalid; never left out. */
  const nTimeout = g(() => pick([0, 1]), () => pick<unknown>([-2, 2 ** 31, NaN, undefined, null, '0', 0.5]), { required: true });
  function nInt32ArrayFds(): Int32Array {
    const n = int(6);
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = chance(0.9) ? v.roFd() : pick([-1, 1024, 5000, 2 ** 31 - 1]);
    return chance(0.1) ? int32Array() : a;
  }
  const nFdArray = g(nInt32ArrayFds, () => pick<unknown>([[1, 2], new Uint32Array(2), null, v.junk(true)]));
  function nPollEntries(): Int32Array {
    const n = int(5);
    const a = new Int32Array(3 * n + (chance(0.2) ? int(3) : 0));
    for (let i = 0; i < n; i++) {
      a[3 * i] = chance(0.9) ? v.roFd() : pick([-1, OOR_BASE]);
      a[3 * i + 1] = chance(0.9) ? pick([k.POLLIN, k.POLLOUT, 0, 0xffff]) : pick([-1, 0x10000, 2 ** 31 - 1]);
      a[3 * i + 2] = rng.int32();
    }
    return chance(0.1) ? int32Array() : a;
  }
  const nPollArr = g(nPollEntries, () => pick<unknown>([[0, 1, 0], new Int16Array(3), null, v.junk(true)]));
  const nCount = g(() => pick([0, 1, 2, 3, 4]), () => pick<unknown>([-1, 1e9, 1.5, NaN, '1']));
  const nHost = g<string | null>(() => pick(['localhost', '127.0.0.1', '::1', null]), () => pick<unknown>(['', 5, undefined, {}, 'a\0b', Symbol('h')]));
  const nService = g<string | null>(() => pick([null, '80', 'http', '0']), () => pick<unknown>([80, undefined, {}, 'a\0b']));
  const nRegistry = g<NativeRegistry>(
    () => (pool.registries.length ? pick(pool.registries) : new native.PollSet()),
    () => pick<unknown>([{}, null, Object.create(native.PollSet.prototype), new native.SelectSet()]),
  );
  /** Anything, for the addon's `blocking` (it must take a boolean and nothing else). */
  const nAnyValue = g(() => hostile<boolean>(v.junk(true)));

  return {
    FD, msgFlags, domain, sockType, protocol, size, timeout, backlog, how, bool, acceptFlags,
    optLevel, optName, optValue, optLength, fcntlCmd, fcntlArg, longPath, address,
    data, smallData, buffer, offset, length,
    fileObj, badFileObj, hostileArray, selList, pollEntry, pollList,
    watchEvents, selEvents, epollEvents, epollOp, maxEvents, int32Array, outArray,
    watchCallback, nativeWatchCallback, callback, asyncOpts, host, service, gaiOptions,
    nFamily, nAddrString, nPort, nFlow, nScope, nAddr, nBytes, nData, nOffset, nLength, nInt32, nTimeout,
    nFdArray, nPollArr, nCount, nHost, nService, nRegistry, nAnyValue,
    /** A generator for the specs' own kinds, bad values int32Bad's unless given. */
    g,
  };
}
