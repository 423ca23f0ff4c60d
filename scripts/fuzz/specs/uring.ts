/**
 * io_uring: IoUring, BufferRing, ioUringSupport, completionError, and the addon's IoUring called directly. Rings
 * live in the pool (a few at a time, closed at cleanup). Waits never block (timeout 0 or 1 ms). Connections that
 * accepts complete are taken into the pool when their completions are drained (by a wait or the watch callback);
 * the ones never drained are closed by the ring's close(). Every queued operation is submitted at once: the kernel
 * looks its fd up at submission, and an fd number the pool closes meanwhile can be reused (a dup of stdout, say)
 * before a later submit() would send to it.
 */
import type { BufferRing, IoUring } from '../../../lib/index';
import type { Ctx } from '../context';
import { hostile } from '../gen';
import { k, native, s } from '../pkg';
import type { SharedHooks } from './hooks';
import { type Spec, spec } from './types';

export function uringSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a, v, rng, pool } = c;
  const { FD, g } = a;
  if (!s.ioUringSupport().supported) {
    // Nothing to drive: the support check and the errors are still called, and the constructor's refusal.
    return [
      spec({ name: 'ioUringSupport', covers: ['ioUringSupport', 'hasIoUring', 'native.hasIoUring', 'native.ioUringProbe'], call: () => [s.ioUringSupport(), native.ioUringProbe()], kinds: [] }),
      spec({ name: 'new IoUring (unsupported)', covers: ['IoUring', 'native.IoUring', 'BufferRing'], call: (n: number) => new s.IoUring(n), kinds: [g(() => 4)] }),
      spec({ name: 'completionError', covers: 'completionError', call: s.completionError, kinds: [g(() => -rng.int(200) - 1), g(() => rng.int(10))] }),
    ];
  }
  /** Takes the fds of the accept completions just drained into the pool. */
  const takeAccepted = (r: IoUring, n: unknown): void => {
    if (typeof n !== 'number') return;
    const cq = r.completions;
    for (let i = 0; i < n && 4 * i + 3 < cq.length; i++) {
      if (cq[4 * i + 3] === s.URING_OP_ACCEPT && cq[4 * i + 1] >= 0) pool.own(cq[4 * i + 1], 'accepted');
    }
  };
  const live = (): IoUring[] => pool.rings.filter((r) => !r.closed);
  const ring = g(() => hostile<IoUring>(live().length > 0 && rng.chance(0.95) ? rng.pick(live()) : rng.pick(pool.rings.length > 0 ? pool.rings : [null as unknown as IoUring])), () => rng.pick<unknown>([null, {}, 5, Object.create(s.IoUring.prototype)]));
  const user = g(() => rng.pick([0, 1, 7, 2 ** 31 - 1]), () => rng.pick<unknown>([-1, 2 ** 31, 1.5, NaN, '1', null, 1n]));
  const entries = g<number | undefined>(() => rng.pick([undefined, 1, 2, 8, 64]), () => rng.pick<unknown>([0, -1, 32769, 1.5, NaN, '8', null]));
  const options = g<object | undefined>(
    () => rng.pick([undefined, {}, { setupFlags: 0 }, { setupFlags: s.IORING_SETUP_COOP_TASKRUN }]),
    () => rng.pick<unknown>([null, 5, { setupFlags: -1 }, { setupFlags: s.IORING_SETUP_DEFER_TASKRUN }, { setupFlags: 2 ** 32 }, { setupFlags: '0' }]),
  );
  const ms = g(() => rng.pick([0, 1, 5]), () => rng.pick<unknown>([-1, 2 ** 31, 1.5, NaN, '1', null]));
  // Never negative, null or undefined (those wait forever), and never left out.
  const wait = g(() => rng.pick([0, 1]), () => rng.pick<unknown>([2 ** 31, NaN, '0', {}]), { required: true });
  const acceptOpts = g<object | undefined>(
    () => rng.pick([undefined, {}, { multishot: false }, { multishot: true }, { nonblocking: true }, { address: true }, { multishot: false, address: true }]),
    () => rng.pick<unknown>([null, 5, { multishot: true, address: true }]),
  );
  const recvOpts = g<object | undefined>(
    () => rng.pick([undefined, {}, { offset: 1 }, { length: 4 }, { offset: 2, length: 2 }, { flags: k.MSG_PEEK }]),
    () => rng.pick<unknown>([null, { offset: -1 }, { length: 2 ** 31 }, { offset: 1.5 }, { flags: '0' }]),
  );
  const group = g(() => rng.int(4), () => rng.pick<unknown>([-1, 65536, 1.5, NaN, '1']));
  const count = g(() => rng.pick([1, 2, 8, 64]), () => rng.pick<unknown>([0, 3, 32769, -1, 1.5, '2']));
  const bsize = g(() => rng.pick([1, 16, 1024]), () => rng.pick<unknown>([0, -1, (1 << 20) + 1, 1.5, '16']));
  const bufRing = g(() => hostile<BufferRing>(pool.bufferRings.length > 0 ? rng.pick(pool.bufferRings) : ({} as BufferRing)), () => rng.pick<unknown>([null, {}, 5]));
  const bid = g(() => rng.int(8), () => rng.pick<unknown>([-1, 65536, 1.5, NaN, '1']));
  const index = g(() => rng.int(8), () => rng.pick<unknown>([-1, 2 ** 31, 1.5, NaN, '1']));
  const onCompletions = function (this: IoUring, n: number): void {
    takeAccepted(this, n);
  };
  const keepRing = (r: unknown): void => {
    if (r !== null && typeof r === 'object' && r instanceof s.IoUring) pool.rings.push(r);
  };
  return [
    spec({ name: 'ioUringSupport', covers: ['ioUringSupport', 'hasIoUring', 'native.hasIoUring'], call: () => [s.ioUringSupport(), s.hasIoUring], kinds: [] }),
    spec({ name: 'native.ioUringProbe', covers: 'native.ioUringProbe', call: () => native.ioUringProbe(), kinds: [] }),
    spec({ name: 'new IoUring', covers: 'IoUring', call: (n: number | undefined, o: object | undefined) => new s.IoUring(n, o as never), kinds: [entries, options], created: keepRing }),
    spec({
      name: 'new native.IoUring',
      covers: 'native.IoUring',
      call: (n: unknown, f: unknown) => {
        const r = new native.IoUring(n as number, f as number);
        r.close();
        return r;
      },
      kinds: [g(() => rng.pick([1, 4]), () => v.junk(true)), g(() => rng.pick([-1, 0]), () => v.junk(true))],
    }),
    spec({ name: 'IoUring#nop', covers: 'IoUring', call: (r: IoUring, u: number) => { r.nop(u); return r.submit(); }, kinds: [ring, user], weight: 2 }),
    spec({ name: 'IoUring#timeout', covers: 'IoUring', call: (r: IoUring, t: number, u: number) => { r.timeout(t, u); return r.submit(); }, kinds: [ring, ms, user] }),
    spec({ name: 'IoUring#accept', covers: 'IoUring', call: (r: IoUring, fd: number, u: number, o: object | undefined) => { r.accept(fd, u, o as never); return r.submit(); }, kinds: [ring, FD.ro, user, acceptOpts] }),
    spec({ name: 'IoUring#recv', covers: 'IoUring', call: (r: IoUring, fd: number, b: ArrayBufferView, u: number, o: object | undefined) => { r.recv(fd, b, u, o as never); return r.submit(); }, kinds: [ring, FD.any, a.nBytes, user, recvOpts], weight: 2 }),
    spec({ name: 'IoUring#send', covers: 'IoUring', call: (r: IoUring, fd: number, d: string | ArrayBufferView, u: number) => { r.send(fd, d, u); return r.submit(); }, kinds: [ring, FD.any, a.nData, user], weight: 2 }),
    spec({
      name: 'IoUring#closeFd+submit',
      covers: 'IoUring',
      call: (r: IoUring, fd: number, u: number) => {
        r.closeFd(fd, u);
        return r.submit();
      },
      kinds: [ring, FD.close, user],
      after: (args) => h.closes(args.slice(1)),
    }),
    spec({ name: 'IoUring#cancel', covers: 'IoUring', call: (r: IoUring, t: number, u: number) => { r.cancel(t, u); return r.submit(); }, kinds: [ring, user, user] }),
    spec({ name: 'IoUring#cancelFd', covers: 'IoUring', call: (r: IoUring, fd: number, u: number) => { r.cancelFd(fd, u); return r.submit(); }, kinds: [ring, FD.any, user] }),
    spec({ name: 'IoUring#submit', covers: 'IoUring', call: (r: IoUring) => r.submit(), kinds: [ring], weight: 2 }),
    spec({
      name: 'IoUring#submitAndWait',
      covers: 'IoUring',
      call: (r: IoUring, min: number, t: number) => {
        const n = r.submitAndWait(min, t);
        takeAccepted(r, n);
        return n;
      },
      kinds: [ring, g(() => rng.pick([0, 1, 2]), () => rng.pick<unknown>([-1, 1e9, 1.5, '1'])), wait],
      weight: 3,
    }),
    spec({ name: 'IoUring#acceptedAddress', covers: 'IoUring', call: (r: IoUring, i: number) => r.acceptedAddress(i), kinds: [ring, index] }),
    spec({
      name: 'IoUring#bufferRing',
      covers: ['IoUring', 'BufferRing'],
      call: (r: IoUring, gr: number, n: number, sz: number) => r.bufferRing(gr, n, sz),
      kinds: [ring, group, count, bsize],
      created: (br) => {
        if (br instanceof s.BufferRing) pool.bufferRings.push(br);
      },
    }),
    spec({ name: 'IoUring#recvMultishot', covers: 'IoUring', call: (r: IoUring, fd: number, br: BufferRing, u: number, f: number) => { r.recvMultishot(fd, br, u, f); return r.submit(); }, kinds: [ring, FD.any, bufRing, user, g(() => rng.pick([0, k.MSG_PEEK]))] }),
    spec({ name: 'BufferRing#view/recycle', covers: 'BufferRing', call: (br: BufferRing, b: number, n: number) => (n === 0 ? br.view(b) : n === 1 ? br.recycle(b) : s.BufferRing.bufferId(b)), kinds: [bufRing, bid, g(() => rng.int(3))] }),
    spec({ name: 'IoUring#watch', covers: 'IoUring', call: (r: IoUring, cb: unknown) => r.watch(cb as never), kinds: [ring, g(() => onCompletions, () => rng.pick<unknown>([null, 5, {}]))] }),
    spec({ name: 'IoUring#unwatch/ref/unref', covers: 'IoUring', call: (r: IoUring, n: number) => [r.unwatch(), r.ref(), r.unref(), r.pending, r.inflight][n], kinds: [ring, g(() => rng.int(5))] }),
    spec({ name: 'IoUring#close', covers: 'IoUring', call: (r: IoUring) => r.close(), kinds: [ring] }),
    spec({ name: 'completionError', covers: 'completionError', call: s.completionError, kinds: [g(() => -rng.int(200) - 1, () => rng.pick<unknown>([0, 1, 1.5, NaN, '1'])), g(() => rng.int(10), () => rng.pick<unknown>([-1, 256, '1']))] }),
  ];
}
