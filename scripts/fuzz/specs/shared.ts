/**
 * Calls given memory the mutator thread changes while they run (see mutator.ts): fd lists and (fd, events,
 * revents) triples from the small pool buffers, primed with good fds, with counts drawn within the list's
 * length; out arrays; bytes to send from and receive into; and, for the package's select and poll, objects
 * whose fileno()/fd/events read the shared memory anew at each call. Resizable (not shared) buffers, resized by
 * the main thread between calls, stand in now and then. A generator that hands out shared memory marks the step
 * racy: its outcome is counted apart (racy= in the summary).
 */
import type { FileLike, PollFd } from '../../../lib/index';
import type { NativeRegistry } from '../../../lib/native';
import type { Ctx } from '../context';
import { type Bytes, type Gen, retype } from '../gen';
import { SHARED_SIZES } from '../mutator-protocol';
import { k, native, s } from '../pkg';
import { OOR_BASE } from '../pool';
import type { SharedHooks } from './hooks';
import { type Spec, spec } from './types';

export function sharedSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a, v, rng, pool, marks } = c;
  const { FD, nAddr } = a;
  // The length of the list this step made, and the read count drawn for it: the counts after it stay within.
  // Both are set by every list and every read count, bad ones too: a value left from an earlier step could be a
  // racy call's (the mutator grows a length-tracking list), and make a later call's outcome the threads' timing.
  let sharedLen = 0;
  let sharedFirst = 0;
  /** A list the mutator does not change, for a bad argument: its length is the seed's. */
  const unsharedList = (): Int32Array => (rng.chance(0.5) ? v.resizableView(true) : a.int32Array());
  const sharedFdList = a.g(
    () => {
      const arr = v.primeShared(v.sharedInt32(true));
      sharedLen = arr.length; // the mutator may grow it: a racy call's count, never the PRNG's course
      return arr;
    },
    () => {
      const arr = unsharedList();
      sharedLen = arr.length;
      return arr;
    },
  );
  const sharedNRead = a.g(
    () => (sharedFirst = rng.int(sharedLen + 1)),
    () => {
      sharedFirst = 0;
      return rng.pick<unknown>([sharedLen + 1, -1, 1.5, NaN, '1']);
    },
  );
  const sharedNWrite = a.g(() => rng.int(sharedLen - sharedFirst + 1), () => rng.pick<unknown>([sharedLen + 1, -1, NaN]));
  function sharedPollEntries(): Int32Array {
    const arr = v.sharedInt32(true);
    const n = Math.min(SHARED_SIZES[marks.target][0] >> 2, 24);
    for (let j = 0; j + 2 < n; j += 3) {
      arr[j] = v.roFd();
      arr[j + 1] = rng.pick([k.POLLIN, k.POLLOUT, k.POLLIN | k.POLLOUT, 0, 0xffff]);
      arr[j + 2] = 0;
    }
    sharedLen = Math.floor(arr.length / 3);
    return arr;
  }
  const sharedPollArr = a.g(sharedPollEntries, () => {
    const arr = unsharedList();
    sharedLen = Math.floor(arr.length / 3);
    return arr;
  });
  const sharedPollCount = a.g(() => rng.int(sharedLen + 1), () => rng.pick<unknown>([sharedLen + 1, -1, 1.5, NaN]));
  const sharedOut = a.g(
    () => (rng.chance(0.85) ? v.sharedInt32() : v.resizableView(true)),
    () => rng.pick<unknown>([v.resizableView(), new SharedArrayBuffer(8), v.junk(true)]),
  );
  /** An epoll fd of the pool mostly (its wait writes into the out array). */
  const epollFd = a.g(
    () => {
      const eps = [...pool.raw].filter(([, kind]) => kind === 'epoll');
      return eps.length > 0 && rng.chance(0.8) ? rng.pick(eps)[0] : v.anyFd();
    },
    () => v.badFd(),
    { fd: 'any' },
  );

  // Objects for the package's select and poll whose fileno()/fd/events read the shared memory at each call.
  function liveSelList(): FileLike[] {
    const view = v.liveView();
    return Array.from({ length: rng.pick([1, 2, 3, 5, 8]) }, (): FileLike => {
      if (!rng.chance(0.7)) return a.fileObj();
      const i = rng.int(8);
      return { fileno: () => (i < view.length ? Atomics.load(view, i) : OOR_BASE) };
    });
  }
  function livePollList(): PollFd[] {
    const view = v.liveView();
    return Array.from({ length: rng.pick([1, 2, 4, 8]) }, (): PollFd => {
      if (!rng.chance(0.7)) return a.pollEntry();
      const i = rng.int(8);
      const at = (j: number) => (j < view.length ? Atomics.load(view, j) : -1);
      return rng.chance(0.5)
        ? {
            get fd() {
              return at(i);
            },
            get events() {
              return at(i + 1);
            },
          }
        : {
            fd: v.roFd(),
            get events() {
              return at(i);
            },
          };
    });
  }
  const liveSel = a.g(liveSelList, () => a.hostileArray(liveSelList()));
  const livePoll = a.g(livePollList, () => a.hostileArray(livePollList()));
  // Bytes: shared (racy) or resizable (deterministic), for the calls that read or write them.
  const sharedBytes = (maxLen: number): Gen<Bytes> => a.g<Bytes>(() => (rng.chance(0.8) ? v.sharedBytes(maxLen) : v.resizableView()), () => v.junk(true));
  const sharedBuffer = sharedBytes(65537);
  const sharedSmall = sharedBytes(2048);
  const sharedOpt = sharedBytes(64);
  /** The addon takes views only. */
  const nView = (g: Gen<Bytes>) => retype<ArrayBufferView>(g);
  const wait = (r: NativeRegistry, out: Int32Array, t: number) => r.wait(out, t);

  return [
    spec({ name: 'native.select [shared]', covers: 'native.select', call: native.select, kinds: [sharedFdList, sharedNRead, sharedNWrite, a.nTimeout], weight: 3 }),
    spec({ name: 'native.poll [shared]', covers: 'native.poll', call: native.poll, kinds: [sharedPollArr, sharedPollCount, a.nTimeout], weight: 2 }),
    spec({ name: 'native.epollWaitInto [shared]', covers: 'native.epollWaitInto', call: native.epollWaitInto, kinds: [epollFd, sharedOut, a.nTimeout] }),
    spec({ name: 'epollWaitInto [shared]', covers: 'epollWaitInto', call: s.epollWaitInto, kinds: [epollFd, sharedOut, a.timeout], weight: 0.5 }),
    spec({ name: 'native registry.wait [shared]', covers: ['native.PollSet', 'native.SelectSet'], call: wait, kinds: [a.nRegistry, sharedOut, a.nTimeout] }),
    spec({ name: 'select [live fileno]', covers: 'select', call: s.select, kinds: [liveSel, liveSel, liveSel, a.timeout] }),
    spec({ name: 'poll [live entries]', covers: 'poll', call: s.poll, kinds: [livePoll, a.timeout] }),
    spec({ name: 'recvInto [shared]', covers: 'recvInto', call: s.recvInto, kinds: [FD.any, sharedBuffer, a.offset, a.length, a.msgFlags] }),
    spec({ name: 'native.recvInto [shared]', covers: 'native.recvInto', call: native.recvInto, kinds: [FD.any, nView(sharedBuffer), a.nOffset, a.nLength, a.nInt32] }),
    spec({ name: 'recvfromInto [shared]', covers: 'recvfromInto', call: s.recvfromInto, kinds: [FD.any, sharedBuffer, a.offset, a.length, a.msgFlags], weight: 0.5 }),
    spec({ name: 'native.recvfromInto [shared]', covers: 'native.recvfromInto', call: native.recvfromInto, kinds: [FD.any, nView(sharedBuffer), a.nOffset, a.nLength, a.nInt32], weight: 0.5 }),
    spec({ name: 'send [shared]', covers: 'send', call: s.send, kinds: [FD.any, sharedBuffer, a.msgFlags] }),
    spec({ name: 'native.send [shared]', covers: 'native.send', call: native.send, kinds: [FD.any, nView(sharedBuffer), a.nInt32], weight: 0.5 }),
    spec({ name: 'sendto [shared]', covers: 'sendto', call: s.sendto, kinds: [FD.any, sharedBuffer, a.address, a.msgFlags], weight: 0.5 }),
    spec({ name: 'native.sendto [shared]', covers: 'native.sendto', call: native.sendto, kinds: [FD.any, nView(sharedBuffer), a.nInt32, ...nAddr], weight: 0.5 }),
    spec({
      name: 'sendAll [shared]',
      covers: 'sendAll',
      call: s.sendAll,
      kinds: [h.sinkFd, sharedSmall, a.msgFlags],
      prepare: h.sinkPrepare,
      after: h.closeSinks,
      weight: 0.5,
    }),
    spec({ name: 'setsockopt [shared]', covers: 'setsockopt', call: s.setsockopt, kinds: [FD.any, a.optLevel, a.optName, sharedOpt], prepare: (args) => h.safeSockopt(args, 1), weight: 0.5 }),
    spec({
      name: 'native.setsockopt [shared]',
      covers: 'native.setsockopt',
      call: native.setsockopt,
      kinds: [FD.any, a.optLevel, a.optName, nView(sharedOpt)],
      prepare: (args) => h.safeSockopt(args, 1),
      weight: 0.5,
    }),
  ];
}
