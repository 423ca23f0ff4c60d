/** Socket: every method (the async ones too), the constructor, fromFd, and methods called on other objects. */
import type { Socket } from '../../../lib/index';
import type { Ctx } from '../context';
import { type Gen, type Kinds, later } from '../gen';
import { k, s } from '../pkg';
import { NB, OOR_BASE } from '../pool';
import type { SharedHooks } from './hooks';
import { callAs, type Hooks, type Spec, spec } from './types';

/** The methods of Socket (by name: not the Symbol.dispose one). */
type Method = { [M in keyof Socket]: M extends string ? (Socket[M] extends (...a: never[]) => unknown ? M : never) : never }[keyof Socket];
/** A method's parameters; getsockopt by its implementation's signature (its overloads hide the optional length). */
type Params<M extends Method> = M extends 'getsockopt' ? [level: number, name: number, length?: number] : Parameters<Socket[M]>;

export function socketSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a, v, rng, pool } = c;
  const { FD } = a;
  /** A live Socket mostly; a closed one; an impostor. */
  const socketArg = a.g(
    (): Socket => {
      const live = pool.liveSockets();
      if (live.length > 0 && rng.chance(0.93)) return rng.pick(live);
      if (pool.sockets.length > 0) return rng.pick(pool.sockets);
      const sock = new s.Socket(k.AF_UNIX, k.SOCK_STREAM | NB);
      pool.addSocket(sock);
      return sock;
    },
    () => rng.pick([null, {}, Object.create(s.Socket.prototype), v.junk(true)]),
  );

  const names: Method[] = [];
  /** A spec calling socket.m(...args): the Socket's fd leaves the pool's view if the call closed it. */
  function method<M extends Method>(m: M, kinds: Kinds<Params<M>>, hooks: Hooks & { weight?: number } = {}): Spec {
    names.push(m);
    return spec({
      name: `Socket#${m}`,
      covers: 'Socket',
      call: (sock: Socket, ...args: Params<M>) => callAs(sock, sock[m], ...args),
      // The same tuple, [socket, ...kinds]: TypeScript cannot map a variadic tuple of a generic M.
      kinds: [socketArg, ...(kinds as ReadonlyArray<Gen<unknown>>)] as unknown as Kinds<[Socket, ...Params<M>]>,
      weight: m === 'close' || m === 'detach' ? 0.3 : 1,
      before: h.socketFd(m === 'detach'),
      ...hooks,
    });
  }
  /** An address argument at args[i] that names no host for the resolver. */
  const noDns = (i: number) => (args: unknown[]) => {
    if (args.length > i) args[i] = h.safeHostAddr(args[i]);
  };
  const takeAccepted = (r: unknown) => {
    if (Array.isArray(r)) pool.addSocket(r[0]);
  };

  const specs = [
    method('bind', [a.address], { prepare: noDns(1) }),
    method('listen', [a.backlog]),
    method('accept', [], { created: takeAccepted }),
    method('connect', [a.address], { prepare: noDns(1) }),
    method('recv', [a.size, a.msgFlags]),
    method('recvInto', [a.buffer, a.offset, a.length, a.msgFlags]),
    method('recvfrom', [a.size, a.msgFlags]),
    method('send', [a.data, a.msgFlags]),
    method('sendto', [a.data, a.address, a.msgFlags], { prepare: noDns(2) }),
    method('shutdown', [a.how]),
    method('close', []),
    method('detach', []),
    method('setBlocking', [a.bool], { after: h.resetBlocking }),
    method('getBlocking', []),
    method('setsockopt', [a.optLevel, a.optName, a.optValue], { prepare: (args) => h.safeSockopt(args, 1) }),
    method('getsockopt', [a.optLevel, a.optName, a.optLength], {
      prepare: (args) => h.pidfdPrepare(args, 1),
      created: (r, args) => h.pidfdCreated(r, args, 1),
    }),
    method('getsockname', []),
    method('getpeername', []),
    method('fileno', []),
    method('toString', []),
    method('acceptAsync', [a.asyncOpts], { created: takeAccepted }),
    method('connectAsync', [a.address, a.asyncOpts], {
      prepare: (args) => {
        if (args.length > 1) args[1] = h.safeAsyncAddr(args[1]);
      },
    }),
    method('recvAsync', [a.size, a.asyncOpts]),
    method('recvIntoAsync', [a.buffer, a.offset, a.length, a.asyncOpts]),
    method('sendAllAsync', [a.data, a.asyncOpts]),
    // Timeouts of 1-2 ms at most: a timed call waits that long. null (blocking) is undone after the call.
    method('settimeout', [a.g<number | null | undefined>(() => rng.pick([null, undefined, 0, 0.5, 1, 2]), () => rng.pick<unknown>([-1, NaN, Infinity, 2 ** 31, '1', {}, 1n]))], {
      after: (args) => {
        if (args[1] === null || args[1] === undefined) h.resetBlocking();
      },
    }),
    method('gettimeout', []),
    method('dup', [], { created: (r) => pool.adoptSocket(r), after: h.resetBlocking }),
    method('sendfile', [
      a.g(() => (rng.chance(0.7) ? v.anyFd() : { fileno: () => v.anyFd() }), () => v.badFd()),
      a.g<number | undefined>(() => rng.pick([undefined, 0, 1, 1000]), () => rng.pick<unknown>([-1, 1.5, NaN, '0'])),
      a.g<number | undefined>(() => rng.pick([undefined, 0, 1, 4096, 65536]), () => rng.pick<unknown>([-1, 1.5, NaN, '1', 2 ** 53])),
    ]),
  ];
  const syncNames = names.filter((m) => !m.endsWith('Async'));

  return [
    ...specs,
    spec({
      name: 'Socket#closed/dispose',
      covers: 'Socket',
      call: (sock: Socket, n: number) => (n === 0 ? sock.closed : sock[Symbol.dispose]()),
      kinds: [socketArg, a.g(() => (rng.chance(0.9) ? 0 : 1))],
      before: h.socketFd(false),
    }),
    spec({
      name: 'Socket#sendAll',
      covers: 'Socket',
      call: (sock: Socket, d: Parameters<Socket['sendAll']>[0], f?: number) => sock.sendAll(d, f),
      // A fresh socketpair's Socket (prepare), closed after the call; or a closed one.
      kinds: [later<Socket>(() => rng.pick<unknown>([...pool.sockets.filter((x) => x.closed), null])), a.smallData, a.msgFlags],
      prepare: h.sinkSocketPrepare,
      after: h.closeSinks,
    }),
    spec({
      name: 'new Socket',
      covers: 'Socket',
      call: (f: number, t: number, p: number, fileno?: number) => new s.Socket(f, t, p, fileno),
      kinds: [
        a.domain,
        a.sockType,
        a.protocol,
        a.g(
          () => (rng.chance(0.8) ? undefined : rng.chance(0.7) ? v.rawFd() : OOR_BASE + rng.int(100)),
          () => rng.pick<unknown>([-1, 1.5, NaN, '3', null, 2 ** 31, OOR_BASE]),
        ),
      ],
      prepare: (args) => {
        h.safeSocketArgs(args);
        h.ownedFileno(args, 3); // the Socket takes its fileno over
      },
      created: (r) => pool.adoptSocket(r),
      weight: 2,
    }),
    spec({ name: 'Socket.fromFd', covers: 'Socket', call: (fd: number) => s.Socket.fromFd(fd), kinds: [FD.close], created: (r) => pool.adoptSocket(r) }),
    spec({
      name: 'Socket.prototype.*.call(junk)',
      covers: 'Socket',
      call: (m: Method, self: unknown, arg: unknown) => callAs(self, s.Socket.prototype[m], arg),
      kinds: [a.g(() => rng.pick(syncNames)), a.g(() => rng.pick([{}, null, 5, Object.create(s.Socket.prototype), v.junk(true)])), a.g(() => v.junk(true))],
    }),
  ];
}
