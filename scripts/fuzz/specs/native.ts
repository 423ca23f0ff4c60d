/** The addon's functions and classes, called directly: no wrapper checks the arguments first. */
import type { NativeRegistry, NativeWatcher } from '../../../lib/native';
import type { Ctx } from '../context';
import { hostile, retype } from '../gen';
import { k, native, s, watchModule } from '../pkg';
import { NB } from '../pool';
import type { SharedHooks } from './hooks';
import { callAs, type Spec, spec } from './types';

const WATCHER_METHODS = ['update', 'stop', 'ref', 'unref', 'hasRef'] as const;

export function nativeSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a, v, rng, pool } = c;
  // The package's batch function (watch.ts) is set by its first batched watcher, which the first async call
  // that waits makes: one such call, here, once.
  // The batched watchers made here share one id, whose entry in the package's batch state is their callback.
  let batchReady = false;
  let batchId = -1;
  const batchedCallback = (value: number): void => {
    c.report.watchFires++;
    if (value < -4095 || value > 15) c.report.check(new Error(`batched watcher value ${value}`), { name: 'batched watch callback', args: [value], inCallback: true });
  };
  const ensurePackageBatch = (): void => {
    if (batchReady) return;
    const [x, y] = s.socketpair().map((fd) => new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, fd));
    x.recvAsync(1).catch(() => {}); // waits (nothing to read), then rejects with EBADF at the close
    x.close();
    y.close();
    batchId = watchModule.batchTarget(batchedCallback);
    batchReady = true;
  };
  const { FD, nAddr } = a;
  const registryEvents = (bad: readonly unknown[]) => a.g(() => rng.pick([1, 2, 3]), () => rng.pick(bad));
  const fdOrBad = a.g(() => v.roFd(), () => v.badFd());
  return [
    spec({ name: 'native.socket', covers: 'native.socket', call: native.socket, kinds: [a.domain, a.sockType, a.protocol], prepare: h.safeSocketArgs, created: h.ownResult('new') }),
    spec({ name: 'native.socketpair', covers: 'native.socketpair', call: native.socketpair, kinds: [a.domain, a.sockType, a.protocol], prepare: h.safeSocketArgs, created: h.ownPair }),
    spec({ name: 'native.bind', covers: 'native.bind', call: native.bind, kinds: [FD.any, ...nAddr], weight: 2 }),
    spec({ name: 'native.connect', covers: 'native.connect', call: native.connect, kinds: [FD.any, ...nAddr], weight: 2 }),
    spec({ name: 'native.listen', covers: 'native.listen', call: native.listen, kinds: [FD.any, a.nInt32] }),
    spec({
      name: 'native.accept',
      covers: 'native.accept',
      call: native.accept,
      kinds: [FD.any, a.g(() => (rng.chance(0.8) ? rng.pick([0, NB, k.SOCK_CLOEXEC, NB | k.SOCK_CLOEXEC]) : rng.pick([1, -1, 2 ** 31 - 1])))],
      created: h.ownAccepted,
    }),
    spec({ name: 'native.shutdown', covers: 'native.shutdown', call: native.shutdown, kinds: [FD.any, a.nInt32] }),
    spec({ name: 'native.close', covers: 'native.close', call: native.close, kinds: [FD.close], after: h.closes }),
    spec({ name: 'native.setsockopt', covers: 'native.setsockopt', call: native.setsockopt, kinds: [FD.any, a.optLevel, a.optName, retype<number | boolean | ArrayBufferView>(a.optValue)], prepare: (args) => h.safeSockopt(args, 1) }),
    spec({
      name: 'native.getsockopt',
      covers: 'native.getsockopt',
      call: native.getsockopt,
      kinds: [FD.ro, a.optLevel, a.optName, a.optLength],
      prepare: (args) => h.pidfdPrepare(args, 1),
      created: (r, args) => h.pidfdCreated(r, args, 1),
    }),
    spec({ name: 'native.getsockname', covers: 'native.getsockname', call: native.getsockname, kinds: [FD.ro] }),
    spec({ name: 'native.getpeername', covers: 'native.getpeername', call: native.getpeername, kinds: [FD.ro] }),
    spec({ name: 'native.setBlocking', covers: 'native.setBlocking', call: native.setBlocking, kinds: [FD.any, a.nAnyValue], after: h.resetBlocking }),
    spec({ name: 'native.getBlocking', covers: 'native.getBlocking', call: native.getBlocking, kinds: [FD.ro] }),
    spec({ name: 'native.fcntl', covers: 'native.fcntl', call: native.fcntl, kinds: [FD.any, a.fcntlCmd, a.fcntlArg], prepare: (args) => h.safeFcntl(args, 1), after: h.resetBlocking }),
    spec({ name: 'native.recv', covers: 'native.recv', call: native.recv, kinds: [FD.any, a.size, a.nInt32], weight: 2 }),
    spec({ name: 'native.recvInto', covers: 'native.recvInto', call: native.recvInto, kinds: [FD.any, a.nBytes, a.nOffset, a.nLength, a.nInt32], weight: 3 }),
    spec({ name: 'native.recvfrom', covers: 'native.recvfrom', call: native.recvfrom, kinds: [FD.any, a.size, a.nInt32] }),
    spec({ name: 'native.recvfromInto', covers: 'native.recvfromInto', call: native.recvfromInto, kinds: [FD.any, a.nBytes, a.nOffset, a.nLength, a.nInt32], weight: 3 }),
    spec({ name: 'native.send', covers: 'native.send', call: native.send, kinds: [FD.any, a.nData, a.nInt32], weight: 2 }),
    spec({ name: 'native.sendto', covers: 'native.sendto', call: native.sendto, kinds: [FD.any, a.nData, a.nInt32, ...nAddr], weight: 2 }),
    spec({ name: 'native.select', covers: 'native.select', call: native.select, kinds: [a.nFdArray, a.nCount, a.nCount, a.nTimeout], weight: 2 }),
    spec({ name: 'native.poll', covers: 'native.poll', call: native.poll, kinds: [a.nPollArr, a.nCount, a.nTimeout], weight: 2 }),
    spec({
      name: 'native.getaddrinfo',
      covers: 'native.getaddrinfo',
      call: native.getaddrinfo,
      kinds: [
        a.nHost,
        a.nService,
        a.g(() => rng.pick([k.AF_UNSPEC, k.AF_INET, k.AF_INET6, 12345])),
        a.g(() => rng.pick([0, k.SOCK_STREAM, k.SOCK_DGRAM, 99])),
        a.g(() => rng.pick([0, k.AI_PASSIVE, k.AI_CANONNAME, k.AI_NUMERICHOST, k.AI_NUMERICSERV | k.AI_ADDRCONFIG, -1])),
      ],
    }),
    spec({ name: 'native.epollCreate', covers: 'native.epollCreate', call: native.epollCreate, kinds: [a.nInt32], created: h.ownResult('new') }),
    spec({
      name: 'native.epollCtl',
      covers: 'native.epollCtl',
      call: native.epollCtl,
      kinds: [FD.any, a.epollOp, FD.ro, a.g(() => rng.pick([0, 1, 4, 0x80000001, 2 ** 32 - 1]), () => rng.pick<unknown>([-1, 2 ** 32, 1.5, NaN]))],
    }),
    spec({ name: 'native.epollWait', covers: 'native.epollWait', call: native.epollWait, kinds: [FD.any, a.maxEvents, a.nTimeout] }),
    spec({ name: 'native.epollWaitInto', covers: 'native.epollWaitInto', call: native.epollWaitInto, kinds: [FD.any, a.outArray, a.nTimeout] }),
    spec({
      name: 'new native.PollSet/SelectSet',
      covers: ['native.PollSet', 'native.SelectSet'],
      call: (i: number) => {
        const r = new [native.PollSet, native.SelectSet][i]();
        pool.registries.push(r);
        return r;
      },
      kinds: [a.g(() => rng.int(2))],
      weight: 0.2,
    }),
    spec({
      name: 'native registry.add',
      covers: ['native.PollSet', 'native.SelectSet'],
      call: (r: NativeRegistry, fd: number, ev: number) => r.add(fd, ev),
      kinds: [a.nRegistry, fdOrBad, registryEvents([0, 4, -1, 1.5, NaN, '1'])],
      weight: 2,
    }),
    spec({
      name: 'native registry.modify',
      covers: ['native.PollSet', 'native.SelectSet'],
      call: (r: NativeRegistry, fd: number, ev: number) => r.modify(fd, ev),
      kinds: [a.nRegistry, fdOrBad, registryEvents([0, 4, -1, NaN])],
    }),
    spec({ name: 'native registry.remove', covers: ['native.PollSet', 'native.SelectSet'], call: (r: NativeRegistry, fd: number) => r.remove(fd), kinds: [a.nRegistry, fdOrBad] }),
    spec({
      name: 'native registry.wait',
      covers: ['native.PollSet', 'native.SelectSet'],
      call: (r: NativeRegistry, out: Int32Array, t: number) => r.wait(out, t),
      kinds: [a.nRegistry, a.outArray, a.nTimeout],
      weight: 2,
    }),
    spec({ name: 'native registry.size', covers: ['native.PollSet', 'native.SelectSet'], call: (r: NativeRegistry) => r.size, kinds: [a.nRegistry] }),
    spec({
      name: 'new native.Watcher',
      covers: 'native.Watcher',
      call: (fd: number, ev: number, cb: ConstructorParameters<typeof native.Watcher>[2]) => new native.Watcher(fd, ev, cb),
      kinds: [FD.watch, a.g(() => rng.int(16), () => rng.pick<unknown>([16, -1, NaN, '1'])), a.g(() => a.nativeWatchCallback, () => rng.pick<unknown>([null, 5, {}]))],
      created: (w) => pool.watchers.push(w as NativeWatcher),
    }),
    spec({
      // A batched watcher: its events come through the package's batch function (watch.ts), set up here first.
      name: 'new native.Watcher (batched)',
      covers: 'native.Watcher',
      call: (fd: number, ev: number, batched: unknown, id: unknown) => {
        ensurePackageBatch();
        return new native.Watcher(fd, ev, batchedCallback, batched as boolean, (id === 'ours' ? batchId : id) as number);
      },
      kinds: [
        FD.watch,
        a.g(() => rng.int(16) & ~2, () => rng.pick<unknown>([16, -1, NaN, '1'])),
        a.g(() => true, () => rng.pick<unknown>([false, 1, 'yes', null, {}])),
        // Another valid id is nobody's (its entries are skipped); the bad ones are refused.
        a.g(() => 'ours', () => rng.pick<unknown>([-1, 1.5, NaN, '0', null, 2 ** 31, 1 << 30])),
      ],
      created: (w) => pool.watchers.push(w as NativeWatcher),
    }),
    spec({
      // The package's batch state (its table of batched watchers' callbacks): an object, never changed here.
      name: 'native.getWatchBatch',
      covers: 'native.getWatchBatch',
      call: (...args: unknown[]) => {
        ensurePackageBatch();
        const st = (native.getWatchBatch as (...a: unknown[]) => unknown)(...args);
        if (typeof st !== 'object' || st === null) c.report.check(new Error(`getWatchBatch gave ${String(st)}`), { name: 'native.getWatchBatch', args });
        return undefined;
      },
      kinds: [],
    }),
    spec({
      // Once per thread, and the package's batch is set first: every call is refused (EEXIST, a TypeError for
      // what is not a function and an Int32Array, a RangeError for an Int32Array too short), and deliveries go
      // on to the package's.
      name: 'native.setWatchBatch',
      covers: 'native.setWatchBatch',
      call: (fn: unknown, out: unknown, state: unknown) => {
        ensurePackageBatch();
        return native.setWatchBatch(fn as () => void, out as Int32Array, state as object);
      },
      kinds: [
        a.g(() => () => {}, () => rng.pick<unknown>([null, 5, {}, 'fn'])),
        a.g(() => new Int32Array(rng.pick([0, 1, 511, 512, 513])), () => rng.pick<unknown>([new Uint32Array(512), new Float64Array(2), [], null])),
        a.g(() => ({}), () => rng.pick<unknown>([null, 5, 'state', undefined])),
      ],
    }),
    spec({
      // The package's arm slots (watch.ts, armSlots), read by its deliveries: a call gives the addon the package's
      // own array again (harmless) or something that is not an Int32Array (a TypeError); an Int32Array of the
      // fuzzer's own is given and taken back at once (the package's reads would otherwise go unseen by the addon,
      // which is safe but leaves the addon's reads untried for the rest of the run).
      name: 'native.setWatchArm',
      covers: 'native.setWatchArm',
      call: (arm: unknown) => {
        ensurePackageBatch();
        try {
          return (native.setWatchArm as (a: unknown) => void)(arm === 'package' ? watchModule.armSlots() : arm);
        } finally {
          native.setWatchArm(watchModule.armSlots());
        }
      },
      kinds: [
        a.g<unknown>(() => rng.pick<unknown>(['package', new Int32Array(rng.int(5)), new Int32Array(new SharedArrayBuffer(8))]),
          () => rng.pick<unknown>([null, 5, {}, [], new Uint32Array(8), new Float64Array(2), 'arm'])),
      ],
    }),
    spec({
      // What a batched watcher's armed reads go into: any bytes (held weakly), else a TypeError; a stopped
      // watcher's is EBADF. Only the package's Readiness arms a slot, so these targets are never read into.
      name: 'native.Watcher#setReadTarget',
      covers: 'native.Watcher',
      call: (w: NativeWatcher, target: unknown) => callAs(w, w.setReadTarget, target),
      kinds: [
        a.g(() => {
          const n = pool.watchers.filter((x): x is NativeWatcher => !(x instanceof s.Watcher));
          return n.length ? rng.pick(n) : hostile<NativeWatcher>(Object.create(native.Watcher.prototype));
        }),
        a.buffer,
      ],
    }),
    spec({
      name: 'native.Watcher methods',
      covers: 'native.Watcher',
      call: (w: NativeWatcher, m: (typeof WATCHER_METHODS)[number], arg: number) => callAs(w, w[m], arg),
      kinds: [
        a.g(() => {
          const n = pool.watchers.filter((x): x is NativeWatcher => !(x instanceof s.Watcher));
          return n.length ? rng.pick(n) : hostile<NativeWatcher>(Object.create(native.Watcher.prototype));
        }),
        a.g(() => rng.pick(WATCHER_METHODS)),
        a.g(() => rng.int(16), () => rng.pick<unknown>([-1, 16, NaN, '1', undefined])),
      ],
    }),
    spec({
      name: 'native fn with wrong this / no new',
      covers: ['native.PollSet', 'native.SelectSet', 'native.Watcher'],
      call: (i: number, self: unknown) => {
        const fns = [native.PollSet, native.SelectSet, native.Watcher];
        const protos = fns.map((f) => f.prototype as object);
        if (i < 3) return callAs(undefined, fns[i]); // without new
        const p = rng.pick(protos);
        const m = rng.pick(Object.getOwnPropertyNames(p).filter((x) => x !== 'constructor'));
        const d = Object.getOwnPropertyDescriptor(p, m)!;
        return d.get ? d.get.call(self) : callAs(self, d.value, 1, 1);
      },
      kinds: [a.g(() => rng.int(6)), a.g(() => rng.pick([{}, null, 5, Object.create(native.PollSet.prototype), new native.SelectSet(), v.junk(true)]))],
    }),
  ];
}
