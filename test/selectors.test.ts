/**
 * The selectors layer (Python's `selectors` module in TypeScript): one contract suite run over every selector
 * class, in the spirit of CPython's Lib/test/test_selectors.py (BaseSelectorTestCase), then a table of
 * readiness scenarios run through the raw select(), poll() and epollWait as well as through every selector, so
 * that all of them give the same answers (normalised to READ/WRITE), with the closed-fd case documented per
 * backend.
 *
 * Nothing here waits on the test thread for data that is not already there; the long wait interrupted by
 * signals runs in a child process. No upper bound on any time is asserted.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { underSignals } from './helpers/child';
import { expectCode, expectSysError } from './helpers/expect';
import { checkFdLeaks, epollTargets, isOpen } from './helpers/fds';
import { tcpListener } from './helpers/net';
import { closeFd, regularFile, track, trackedPair, trackedTcpPair, untrack, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

const R = s.EVENT_READ;
const W = s.EVENT_WRITE;
const RW = R | W;

// ---------------------------------------------------------------------------------------------------------------
// Bookkeeping: every fd, Socket, selector, file and child a test opens is closed after it, exactly once (fds and
// files by ./helpers/track, after this file's own afterEach).

const sockets: s.Socket[] = [];
const selectors: s.BaseSelector<unknown>[] = [];

function socketPair(): [s.Socket, s.Socket] {
  const [a, b] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
  const pair: [s.Socket, s.Socket] = [new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a), new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, b)];
  sockets.push(...pair);
  return pair;
}
afterEach(() => {
  for (const sel of selectors.splice(0)) sel.close();
  for (const sock of sockets.splice(0)) sock.close();
});

/** A byte through `from`, so that its peer is readable (the data is there before anyone waits). */
function poke(from: number): void {
  expect(s.send(from, 'x')).toBe(1);
}

/** Result of select() as a map fd -> ready events; also checks each fd comes once, with a registered key. */
function readyMap(sel: s.BaseSelector<unknown>, timeoutMs: number | null = 0): Map<number, number> {
  const res = sel.select(timeoutMs);
  const m = new Map<number, number>();
  for (const [key, ev] of res) {
    expect(m.has(key.fd), `fd ${key.fd} reported twice`).toBe(false);
    expect(key).toBe(sel.getKey(key.fd));
    expect(ev & ~key.events).toBe(0);
    expect(ev).not.toBe(0);
    m.set(key.fd, ev);
  }
  return m;
}

/** The soft RLIMIT_NOFILE of this process (Infinity when unlimited). */
function nofileLimit(): number {
  const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m === null || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

type Ctor = new () => s.BaseSelector<unknown>;
// What a selector class is, concretely enough to subclass it (the runtime class is the one under test).
type Concrete = typeof s.PollSelector;

// Every class of the selector registry, and DefaultSelector (which is one of them): a new selector class is
// tested by every table-driven case here with no edit to this file.
const CLASSES: Array<{ name: string; Cls: Ctor }> = [
  ...s.SELECTORS.map((info) => ({ name: info.name, Cls: info.cls as unknown as Ctor })),
  { name: 'DefaultSelector', Cls: s.DefaultSelector },
];

/** Which backend a class really is (DefaultSelector is one of the others), as the registry says. */
function backendOf(Cls: Ctor): s.SelectorKernel {
  const info = s.SELECTORS.find((i) => Cls === (i.cls as unknown) || (Cls.prototype as object) instanceof i.cls);
  if (info === undefined) throw new Error(`${Cls.name} is not in the selector registry`);
  return info.kernel;
}

describe('module surface', () => {
  it('exports the constants and classes', () => {
    expect(s.EVENT_READ).toBe(1);
    expect(s.EVENT_WRITE).toBe(2);
    for (const { Cls } of CLASSES) {
      const sel = new Cls();
      selectors.push(sel);
      expect(sel).toBeInstanceOf(s.BaseSelector);
    }
  });

  it('DefaultSelector is EpollSelector on Linux (probed)', () => {
    expect(s.hasEpoll).toBe(true);
    expect(s.DefaultSelector).toBe(s.EpollSelector);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The contract suite.

describe.each(CLASSES)('$name', ({ name, Cls }) => {
  const backend = backendOf(Cls);
  function make(): s.BaseSelector<unknown> {
    const sel = new Cls();
    selectors.push(sel);
    return sel;
  }

  it('register: returns an immutable key with fileobj, fd, events and data', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const key = sel.register(rd, R, 'data');
    expect(key).toBeInstanceOf(s.SelectorKey);
    expect(key.fileobj).toBe(rd);
    expect(key.fd).toBe(rd);
    expect(key.events).toBe(R);
    expect(key.data).toBe('data');
    expect(Object.isFrozen(key)).toBe(true);
    expect(() => {
      (key as { events: number }).events = 3;
    }).toThrow(TypeError);
    // data is optional
    const k2 = sel.register(wr, RW);
    expect(k2.data).toBeUndefined();
    expect(k2.events).toBe(RW);
    expect(sel.getMap().size).toBe(2);
  });

  it('register: events must be a non-empty subset of READ|WRITE', () => {
    const sel = make();
    const [rd] = trackedPair();
    for (const bad of [0, 4, 8, -1, 1.5, RW | 4, NaN, Infinity]) {
      expectCode(() => sel.register(rd, bad), RangeError, 'ERR_OUT_OF_RANGE');
    }
    for (const bad of ['1', null, undefined, {}, 1n]) {
      expectCode(() => sel.register(rd, bad as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
    }
    expect(sel.getMap().size).toBe(0);
    // nothing was left behind in the backend either: a valid registration still works
    expect(sel.register(rd, R).events).toBe(R);
  });

  it('register: the file object must be an fd or have fileno()', () => {
    const sel = make();
    expectCode(() => sel.register(-1, R), RangeError, 'ERR_OUT_OF_RANGE');
    expectCode(() => sel.register(1.5, R), RangeError, 'ERR_OUT_OF_RANGE');
    expectCode(() => sel.register('3' as unknown as number, R), TypeError, 'ERR_INVALID_ARG_TYPE');
    expectCode(() => sel.register({} as unknown as number, R), TypeError, 'ERR_INVALID_ARG_TYPE');
    expectCode(() => sel.register(null as unknown as number, R), TypeError, 'ERR_INVALID_ARG_TYPE');
    expectCode(() => sel.register({ fileno: () => -1 }, R), RangeError, 'ERR_OUT_OF_RANGE');
    expect(sel.getMap().size).toBe(0);
  });

  it('register: a registered fd again is EEXIST, whatever object names it', () => {
    const sel = make();
    const [a] = socketPair();
    const key = sel.register(a, R, 1);
    expectSysError(() => sel.register(a, W), 'EEXIST', 'register');
    expectSysError(() => sel.register(a.fileno(), W), 'EEXIST', 'register');
    expect(sel.getMap().size).toBe(1);
    expect(sel.getKey(a)).toBe(key);
    expect(sel.getKey(a).events).toBe(R);
  });

  it('register: Socket objects are registered with fileobj the Socket', () => {
    const sel = make();
    const [a, b] = socketPair();
    const key = sel.register(a, R, 'sock');
    expect(key.fileobj).toBe(a);
    expect(key.fd).toBe(a.fileno());
    expect(sel.getKey(a)).toBe(key);
    expect(sel.getKey(a.fileno())).toBe(key);
    b.send('hi');
    const res = sel.select(0);
    expect(res).toHaveLength(1);
    expect(res[0][0]).toBe(key);
    expect(res[0][0].fileobj).toBe(a);
    expect(res[0][1]).toBe(R);
  });

  it('register: a failed kernel registration leaves no key behind', () => {
    const sel = make();
    const file = regularFile();
    if (backend === 'epoll') {
      // epoll refuses regular files (they are always ready)
      expectSysError(() => sel.register(file, R), 'EPERM', 'epoll_ctl');
      expect(sel.getMap().size).toBe(0);
      expectSysError(() => sel.getKey(file), 'ENOENT', 'getKey');
      // a closed fd: EBADF
      const [a] = trackedPair();
      closeFd(a);
      expectSysError(() => sel.register(a, R), 'EBADF', 'epoll_ctl');
      expect(sel.getMap().size).toBe(0);
    } else {
      // select(2) and poll(2) take a regular file and report it always ready
      const key = sel.register(file, RW);
      expect(readyMap(sel).get(file)).toBe(RW);
      expect(sel.unregister(file)).toBe(key);
    }
    // the selector still works after the refusal
    const [x, y] = trackedPair();
    sel.register(x, R);
    poke(y);
    expect(readyMap(sel)).toEqual(new Map([[x, R]]));
  });

  it('unregister: returns the key; unknown fds are ENOENT', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const key = sel.register(rd, R, 'x');
    sel.register(wr, W);
    expect(sel.unregister(rd)).toBe(key);
    expect(sel.getMap().size).toBe(1);
    expect(sel.getMap().has(rd)).toBe(false);
    expectSysError(() => sel.unregister(rd), 'ENOENT', 'unregister');
    expectSysError(() => sel.unregister(12345), 'ENOENT', 'unregister');
    expectSysError(() => sel.getKey(rd), 'ENOENT', 'getKey');
    // unregistered means unwatched: data waiting on rd is not reported
    poke(wr);
    expect(readyMap(sel)).toEqual(new Map([[wr, W]]));
    // and it can be registered again
    const again = sel.register(rd, R);
    expect(again).not.toBe(key);
    expect(readyMap(sel)).toEqual(new Map([[rd, R], [wr, W]]));
  });

  it('unregister after the fd was closed (test_unregister_after_fd_close)', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const k1 = sel.register(rd, R);
    const k2 = sel.register(wr, W);
    closeFd(rd);
    closeFd(wr);
    expect(sel.unregister(rd)).toBe(k1);
    expect(sel.unregister(wr)).toBe(k2);
    expect(sel.getMap().size).toBe(0);
    expect(sel.select(0)).toEqual([]);
  });

  it('unregister after the fd was closed and its number reused (test_unregister_after_fd_close_and_reuse)', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    sel.register(rd, R);
    sel.register(wr, W);
    closeFd(rd);
    closeFd(wr);
    const [rd2, wr2] = trackedPair();
    // the kernel hands out the lowest free numbers: the same two
    expect(new Set([rd2, wr2])).toEqual(new Set([rd, wr]));
    sel.unregister(rd);
    sel.unregister(wr);
    expect(sel.getMap().size).toBe(0);
    // nothing stale is left in the backend: the new sockets register under the same numbers and work
    sel.register(rd2, R, 'new');
    sel.register(wr2, R, 'new');
    expect(sel.select(0)).toEqual([]);
    poke(wr2);
    const res = sel.select(0);
    expect(res).toHaveLength(1);
    expect(res[0][0].fd).toBe(rd2);
    expect(res[0][0].data).toBe('new');
    expect(res[0][1]).toBe(R);
  });

  it('unregister after the Socket was closed (test_unregister_after_socket_close)', () => {
    const sel = make();
    const [rd, wr] = socketPair();
    const k1 = sel.register(rd, R);
    const k2 = sel.register(wr, W);
    rd.close();
    wr.close();
    expect(rd.fileno()).toBe(-1);
    // a closed Socket is still found by identity
    expect(sel.getKey(rd)).toBe(k1);
    expect(sel.unregister(rd)).toBe(k1);
    expect(sel.unregister(wr)).toBe(k2);
    expect(sel.getMap().size).toBe(0);
    // no longer registered, a closed Socket names no fd at all: an invalid fd (Python: ValueError), not ENOENT
    expectCode(() => sel.unregister(rd), RangeError, 'ERR_OUT_OF_RANGE');
  });

  it('unregister after the Socket was closed and its number reused by a new socket', () => {
    const sel = make();
    const [rd, wr] = socketPair();
    const fd = rd.fileno();
    const k1 = sel.register(rd, R);
    sel.register(wr, W);
    rd.close();
    const [n1, n2] = trackedPair(); // one of them reuses fd
    expect([n1, n2]).toContain(fd);
    // a live socket with the number is not the registered object; the closed Socket still names its key
    expect(sel.unregister(rd)).toBe(k1);
    // by number, after close and reuse
    const wrFd = wr.fileno();
    wr.close();
    const [m1, m2] = trackedPair();
    expect([m1, m2]).toContain(wrFd);
    expect(sel.unregister(wrFd).fileobj).toBe(wr);
    expect(sel.getMap().size).toBe(0);
    // the reused numbers are free to register
    for (const x of [n1, n2, m1, m2]) sel.register(x, W);
    expect(readyMap(sel)).toEqual(new Map([n1, n2, m1, m2].map((x) => [x, W])));
  });

  it('modify: changes events and data, returns the new key; the backend follows', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const k0 = sel.register(rd, R, 'a');
    // rd is writable but not readable
    expect(sel.select(0)).toEqual([]);
    const k1 = sel.modify(rd, W, 'b');
    expect(k1).toBeInstanceOf(s.SelectorKey);
    expect(k1).not.toBe(k0);
    expect(k1.fileobj).toBe(rd);
    expect(k1.fd).toBe(rd);
    expect(k1.events).toBe(W);
    expect(k1.data).toBe('b');
    expect(sel.getKey(rd)).toBe(k1);
    expect(k0.events).toBe(R); // the old key is not changed
    expect(readyMap(sel)).toEqual(new Map([[rd, W]]));
    // back to READ: nothing again, until data arrives
    sel.modify(rd, R);
    expect(sel.getKey(rd).data).toBeUndefined();
    expect(sel.select(0)).toEqual([]);
    poke(wr);
    expect(readyMap(sel)).toEqual(new Map([[rd, R]]));
    sel.modify(rd, RW);
    expect(readyMap(sel)).toEqual(new Map([[rd, RW]]));
    // unknown fds and bad events
    expectSysError(() => sel.modify(wr, R), 'ENOENT', 'modify');
    expectCode(() => sel.modify(rd, 0), RangeError, 'ERR_OUT_OF_RANGE');
    expectCode(() => sel.modify(rd, 4), RangeError, 'ERR_OUT_OF_RANGE');
    expectCode(() => sel.modify(rd, '1' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
    expect(sel.getKey(rd).events).toBe(RW);
    expect(sel.getMap().size).toBe(1);
  });

  it('modify: a Socket keeps its fileobj; a closed Socket is found by identity', () => {
    const sel = make();
    const [a] = socketPair();
    sel.register(a, R);
    const k = sel.modify(a, W, 42);
    expect(k.fileobj).toBe(a);
    expect(k.data).toBe(42);
    a.close();
    // only data: no kernel call, so it works even on the closed fd
    expect(sel.modify(a, W, 43).fileobj).toBe(a);
    sel.unregister(a);
  });

  it('modify changing only data keeps the kernel registration', () => {
    const Base = Cls as unknown as Concrete;
    class Spy extends Base<unknown> {
      calls = 0;
      protected override backendModify(fd: number, events: number): void {
        this.calls++;
        super.backendModify(fd, events);
      }
    }
    const sel = new Spy();
    selectors.push(sel);
    const [rd, wr] = trackedPair();
    const k0 = sel.register(rd, R, 'a');
    const before = sel instanceof s.EpollSelector ? epollTargets(sel.fileno()) : undefined;
    const k1 = sel.modify(rd, R, 'b');
    expect(sel.calls).toBe(0);
    expect(k1).not.toBe(k0);
    expect(k1.data).toBe('b');
    expect(k1.events).toBe(R);
    if (sel instanceof s.EpollSelector) expect(epollTargets(sel.fileno())).toEqual(before);
    poke(wr);
    const res = sel.select(0);
    expect(res).toEqual([[k1, R]]);
    sel.modify(rd, RW, 'c');
    expect(sel.calls).toBe(1);
  });

  it('modify: a failed backend modify unregisters the key (test_modify_unregister)', () => {
    // As CPython's test does with a mock: the backend's modify fails; the key must not stay behind.
    const Base = Cls as unknown as Concrete;
    class Failing extends Base<unknown> {
      protected override backendModify(): void {
        throw new Error('boom');
      }
    }
    const sel = new Failing();
    selectors.push(sel);
    const [rd, wr] = trackedPair();
    sel.register(rd, R);
    expect(sel.getMap().size).toBe(1);
    expect(() => sel.modify(rd, W)).toThrow('boom');
    expect(sel.getMap().size).toBe(0);
    expectSysError(() => sel.getKey(rd), 'ENOENT', 'getKey');
    // and the backend forgot it too: it registers again and works
    sel.register(rd, R, 'again');
    poke(wr);
    expect(readyMap(sel)).toEqual(new Map([[rd, R]]));
  });

  it('modify of a closed fd: as the backend allows', () => {
    const sel = make();
    const [rd] = trackedPair();
    sel.register(rd, R);
    closeFd(rd);
    if (backend === 'epoll') {
      // the kernel dropped the fd when it was closed; the failure unregisters it here too
      expectSysError(() => sel.modify(rd, W), 'EBADF', 'epoll_ctl');
      expect(sel.getMap().size).toBe(0);
    } else {
      // select and poll keep their registry in user memory: modify succeeds, unregister later
      expect(sel.modify(rd, W).events).toBe(W);
      sel.unregister(rd);
    }
  });

  it('close: refuses use afterwards (ERR_SELECTOR_CLOSED); idempotent; leaves the fds open', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    sel.register(rd, R);
    sel.register(wr, W);
    const map = sel.getMap();
    expect(sel.closed).toBe(false);
    sel.close();
    expect(sel.closed).toBe(true);
    expect(map.size).toBe(0); // the live view sees the registry emptied
    const uses: Array<() => unknown> = [
      () => sel.register(rd, R),
      () => sel.unregister(rd),
      () => sel.modify(rd, W),
      () => sel.select(0),
      () => sel.getKey(rd),
      () => sel.getMap(),
    ];
    for (const use of uses) expectCode(use, Error, 'ERR_SELECTOR_CLOSED');
    expect(() => sel.close()).not.toThrow();
    expect(sel.closed).toBe(true);
    expect(isOpen(rd)).toBe(true);
    expect(isOpen(wr)).toBe(true);
  });

  it('Symbol.dispose closes (test_context_manager)', () => {
    const [rd] = trackedPair();
    let inner: s.BaseSelector<unknown> | undefined;
    {
      using sel = make();
      inner = sel;
      sel.register(rd, R);
      expect(sel.closed).toBe(false);
    }
    expect(inner.closed).toBe(true);
    expectCode(() => inner!.getKey(rd), Error, 'ERR_SELECTOR_CLOSED');
    const sel2 = make();
    sel2[Symbol.dispose]();
    expect(sel2.closed).toBe(true);
    expect(isOpen(rd)).toBe(true);
  });

  it('fileno (test_fileno)', () => {
    const sel = make();
    if (backend === 'epoll') {
      const ep = sel as s.EpollSelector<unknown>;
      const fd = ep.fileno();
      expect(Number.isInteger(fd) && fd >= 0).toBe(true);
      expect(fs.readlinkSync(`/proc/self/fd/${fd}`)).toBe('anon_inode:[eventpoll]');
      ep.close();
      expect(ep.fileno()).toBe(-1);
      expect(isOpen(fd)).toBe(false);
    } else {
      // select and poll selectors have no fd of their own
      expect('fileno' in sel).toBe(false);
    }
  });

  it('getKey (test_get_key)', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const key = sel.register(rd, R, 'data');
    expect(sel.getKey(rd)).toBe(key);
    expectSysError(() => sel.getKey(wr), 'ENOENT', 'getKey');
    expectSysError(() => sel.getKey(99999), 'ENOENT', 'getKey');
    expectCode(() => sel.getKey(-1), RangeError, 'ERR_OUT_OF_RANGE');
  });

  it('getMap: a read-only live view (test_get_map)', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const map = sel.getMap();
    expect(map).toBeInstanceOf(s.SelectorMapping);
    expect(map.size).toBe(0);
    expect([...map]).toEqual([]);
    const key = sel.register(rd, R, 'data');
    // live: the same view sees the registration
    expect(map.size).toBe(1);
    expect(map.has(rd)).toBe(true);
    expect(map.get(rd)).toBe(key);
    expect(map.get(wr)).toBeUndefined();
    expect(map.has(wr)).toBe(false);
    expect([...map.keys()]).toEqual([rd]);
    expect([...map.values()]).toEqual([key]);
    expect([...map.entries()]).toEqual([[rd, key]]);
    expect([...map]).toEqual([[rd, key]]);
    const seen: Array<[number, s.SelectorKey<unknown>]> = [];
    map.forEach(function (this: unknown, v, k, m) {
      expect(m).toBe(map);
      expect(this).toBe('ctx');
      seen.push([k, v]);
    }, 'ctx');
    expect(seen).toEqual([[rd, key]]);
    // read-only: no mutators
    for (const name of ['set', 'delete', 'clear']) expect((map as unknown as Record<string, unknown>)[name]).toBeUndefined();
    // modify and unregister show through
    const k2 = sel.modify(rd, RW, 'x');
    expect(map.get(rd)).toBe(k2);
    sel.unregister(rd);
    expect(map.size).toBe(0);
  });

  it('select: [key, events] per ready fd, masked by the key (test_select)', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const kr = sel.register(rd, R);
    const kw = sel.register(wr, W);
    let res = sel.select(0);
    expect(res).toEqual([[kw, W]]);
    expect(res[0][0]).toBe(kw);
    poke(wr);
    res = sel.select(0);
    expect(res).toHaveLength(2);
    expect(new Map(res.map(([k, ev]) => [k, ev]))).toEqual(new Map([[kr, R], [kw, W]]));
    // read it all: rd not ready anymore
    expect(s.recv(rd, 10)!.toString()).toBe('x');
    expect(sel.select(0)).toEqual([[kw, W]]);
  });

  it('select: a key watching READ|WRITE that is both readable and writable comes once, with 3', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    const key = sel.register(rd, RW);
    expect(sel.select(0)).toEqual([[key, W]]);
    poke(wr);
    const res = sel.select(0);
    expect(res).toHaveLength(1);
    expect(res[0][0]).toBe(key);
    expect(res[0][1]).toBe(3);
  });

  it('select: many socketpairs, writes and reads them all (test_selector)', () => {
    const sel = make();
    const N = 32;
    const MSG = Buffer.from(' This is a test.');
    const wr2rd = new Map<number, number>();
    const rd2wr = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const [rd, wr] = trackedPair();
      sel.register(rd, R);
      sel.register(wr, W);
      wr2rd.set(wr, rd);
      rd2wr.set(rd, wr);
    }
    const writers = new Set(wr2rd.keys());
    const bufs: Buffer[] = [];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    while (writers.size > 0) {
      let ready = sel.select(0);
      const readyWriters = ready.filter(([, ev]) => ev & W).map(([k]) => k.fd);
      expect(readyWriters.length, 'no sockets ready for writing').toBeGreaterThan(0);
      expect(ready.filter(([, ev]) => ev & R)).toEqual([]);
      const wr = readyWriters[rand(readyWriters.length)];
      s.sendAll(wr, MSG);
      ready = sel.select(0);
      const readyReaders = ready.filter(([, ev]) => ev & R).map(([k]) => k.fd);
      expect(readyReaders).toEqual([wr2rd.get(wr)]);
      const rd = readyReaders[0];
      const buf = s.recv(rd, MSG.length)!;
      expect(buf.length).toBe(MSG.length);
      bufs.push(buf);
      sel.unregister(rd2wr.get(rd)!);
      sel.unregister(rd);
      writers.delete(wr);
    }
    expect(bufs).toEqual(Array.from({ length: N }, () => MSG));
    expect(sel.getMap().size).toBe(0);
  });

  it('select(0) on an empty selector returns [] at once; a short timeout waits it out (test_empty_select)', () => {
    const sel = make();
    expect(sel.select(0)).toEqual([]);
    const t0 = performance.now();
    expect(sel.select(20)).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20 - 1);
  });

  it('timeouts (test_timeout)', () => {
    const sel = make();
    const [rd, wr] = trackedPair();
    sel.register(wr, W);
    // ready: every timeout returns it, forever ones too
    for (const t of [0, -1, null, undefined, 5, 0.5, 2 ** 31 - 1]) expect(sel.select(t)).toHaveLength(1);
    sel.unregister(wr);
    sel.register(rd, R);
    const t0 = performance.now();
    expect(sel.select(30)).toEqual([]);
    expect(sel.select(0)).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30 - 1);
    // fractions round up: ten waits of 0.001 ms take at least ten 1 ms waits
    const t1 = performance.now();
    for (let i = 0; i < 10; i++) expect(sel.select(0.001)).toEqual([]);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(10 - 2);
    // bad timeouts
    expectCode(() => sel.select(2 ** 31), RangeError, 'ERR_OUT_OF_RANGE');
    expectCode(() => sel.select(Infinity), RangeError, 'ERR_OUT_OF_RANGE');
    expectCode(() => sel.select(NaN), RangeError, 'ERR_OUT_OF_RANGE');
    expectCode(() => sel.select('5' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
  });

  it('select is retried on EINTR with the remaining time (test_select_interrupt)', async () => {
    const run = await underSignals<{ n: number; ms: number; got: number }>(`
      const s = require('sockfd');
      const sel = new s.${name}();
      const [a, b] = s.socketpair();
      sel.register(a, s.EVENT_READ);
      console.log('ready');
      const t0 = process.hrtime.bigint();
      const res = sel.select(1500);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      sel.close(); s.close(a); s.close(b);
      // The handler runs on the event loop after the wait; on a loaded machine that can take a while (at most 5 s).
      const t1 = Date.now();
      const report = () => {
        if (signals === 0 && Date.now() - t1 < 5000) return setTimeout(report, 20);
        console.log('result ' + JSON.stringify({ n: res.length, ms, got: signals }));
      };
      setTimeout(report, 100);
    `);
    const r = run.result;
    expect(r.n).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1500 - 1);
    expect(r.got).toBeGreaterThan(0);
    expect(run.code).toBe(0);
  });

  it('fds above FD_SETSIZE (test_above_fd_setsize)', (ctx) => {
    const sel = make();
    if (backend === 'select') {
      // need one fd >= 1024 only
      let high = -1;
      const fillers: number[] = [];
      while (high < s.FD_SETSIZE) {
        const [a, b] = trackedPair();
        fillers.push(a, b);
        high = b;
      }
      for (const fd of fillers) if (fd !== high) closeFd(fd);
      untrack(high);
      const sock = new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, high);
      sockets.push(sock);
      expectCode(() => sel.register(high, R), RangeError, 'ERR_OUT_OF_RANGE');
      expectCode(() => sel.register(sock, R), RangeError, 'ERR_OUT_OF_RANGE');
      expect(sel.getMap().size).toBe(0);
      // low fds still work
      const [a, b] = trackedPair();
      sel.register(a, R);
      poke(b);
      expect(readyMap(sel)).toEqual(new Map([[a, R]]));
      return;
    }
    const NUM_PAIRS = 700;
    const limit = nofileLimit();
    const need = 2 * NUM_PAIRS + 200;
    if (!(limit >= need)) {
      console.warn(`skipping test_above_fd_setsize for ${name}: RLIMIT_NOFILE ${limit} < ${need}`);
      ctx.skip();
      return;
    }
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < NUM_PAIRS; i++) {
      const p = trackedPair();
      pairs.push(p);
      sel.register(p[0], R);
      sel.register(p[1], R);
    }
    const all = pairs.flat();
    expect(Math.max(...all)).toBeGreaterThan(s.FD_SETSIZE + 100);
    expect(sel.getMap().size).toBe(2 * NUM_PAIRS);
    expect(sel.select(0)).toEqual([]);
    // make a few ready, the highest among them: exactly those are reported
    const chosen = [0, 1, 350, 511, 512, 698, 699].map((i) => pairs[i]);
    for (const [, b] of chosen) poke(b);
    const expected = new Map(chosen.map(([a]) => [a, R]));
    expect(readyMap(sel)).toEqual(expected);
    // and the other way round through modify: the highest fd watched for WRITE
    const top = pairs[NUM_PAIRS - 1][1];
    sel.modify(top, RW);
    expected.set(top, W);
    expect(readyMap(sel)).toEqual(expected);
    // everything ready: all of them reported in one call
    for (const [a] of pairs) sel.modify(a, W);
    const res = readyMap(sel);
    expect(res.size).toBe(NUM_PAIRS + 1);
  });

  it('select finds each key by its fd however far apart the registered fds are', (ctx) => {
    // The selectors look keys up by fd in an array (base.ts): a gap of thousands of numbers makes that array
    // sparse, which must change nothing. select() cannot hold an fd >= FD_SETSIZE, so its gap stays below it.
    const top = backend === 'select' ? s.FD_SETSIZE - 1 : 3000;
    if (!(nofileLimit() > top + 100)) {
      console.warn(`skipping the sparse-fd test for ${name}: RLIMIT_NOFILE ${nofileLimit()} <= ${top + 100}`);
      ctx.skip();
      return;
    }
    const sel = make();
    const [lowRd, lowWr] = trackedPair();
    const fillers: number[] = [];
    let high: [number, number] | null = null;
    while (high === null) {
      const p = trackedPair();
      if (p[1] >= top) high = p;
      else fillers.push(...p);
    }
    for (const fd of fillers) closeFd(fd); // only the lowest and the highest numbers stay open
    expect(high[0] - lowRd).toBeGreaterThan(top / 2);
    sel.register(lowRd, R, 'low');
    const kHigh = sel.register(high[0], R, 'high');
    poke(lowWr);
    poke(high[1]);
    const got = new Map(sel.select(0).map(([key, ev]) => [key.data, [key.fd, ev]]));
    expect(got).toEqual(new Map([['low', [lowRd, R]], ['high', [high[0], R]]]));
    // changed, dropped and registered again under new data: select follows each step
    sel.modify(high[0], RW, 'high2');
    expect(sel.select(0).map(([key, ev]) => [key.data, ev]).sort()).toEqual([['high2', RW], ['low', R]]);
    expect(sel.unregister(high[0]).data).toBe('high2');
    expect(kHigh.data).toBe('high'); // keys are immutable
    expect(sel.select(0).map(([key]) => key.data)).toEqual(['low']);
    sel.register(high[0], W, 'again');
    expect(sel.select(0).map(([key, ev]) => [key.data, ev]).sort()).toEqual([['again', W], ['low', R]]);
  });

  it('hang-up and error wake both readers and writers, masked by the key', () => {
    // hang-up: the peer of a Unix stream socket closed
    const [a, b] = trackedPair();
    closeFd(b);
    // error: a TCP connection reset (SO_LINGER {1, 0}, then close)
    const [c, d] = trackedTcpPair();
    s.setsockopt(d, s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
    closeFd(d);
    expect(s.poll([{ fd: c, events: 0 }], 5000)[0].revents & s.POLLERR).toBe(s.POLLERR);
    for (const fd of [a, c]) {
      for (const events of [R, W, RW]) {
        const sel = make();
        const key = sel.register(fd, events);
        expect(sel.select(0), `fd ${fd} events ${events}`).toEqual([[key, events]]);
        sel.close();
      }
    }
  });

  it('Socket objects round-trip through select', () => {
    const sel = make();
    const [a, b] = socketPair();
    const ka = sel.register(a, R, 'a');
    const kb = sel.register(b, RW, 'b');
    a.send('ping');
    const res = sel.select(0);
    const byObj = new Map(res.map(([k, ev]) => [k.fileobj, [k, ev] as const]));
    expect(byObj.get(b)).toEqual([kb, RW]);
    expect(byObj.has(a)).toBe(false);
    expect(sel.unregister(a)).toBe(ka);
    expect(sel.unregister(b)).toBe(kb);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The same scenarios through every waiting call: raw select(), poll(), epollWait and the four selectors.

interface Scenario {
  name: string;
  /** Opens what the scenario needs; returns the fd to watch, the events to watch, and what to do once watched. */
  make(): { fd: number; watch: number; then?: () => void };
  /** READ/WRITE set every backend reports. */
  expected: number;
}

const scenarios: Scenario[] = [
  {
    name: 'nothing ready (readable watched on an idle socket)',
    make: () => ({ fd: trackedPair()[0], watch: R }),
    expected: 0,
  },
  {
    name: 'readable',
    make: () => {
      const [a, b] = trackedPair();
      poke(b);
      return { fd: a, watch: R };
    },
    expected: R,
  },
  {
    name: 'writable',
    make: () => ({ fd: trackedPair()[0], watch: RW }),
    expected: W,
  },
  {
    name: 'readable and writable',
    make: () => {
      const [a, b] = trackedPair();
      poke(b);
      return { fd: a, watch: RW };
    },
    expected: RW,
  },
  {
    name: 'hang-up after the peer closed',
    make: () => {
      const [a, b] = trackedPair();
      closeFd(b);
      return { fd: a, watch: RW };
    },
    expected: RW,
  },
  {
    name: 'error after a reset (RST)',
    make: () => {
      const [c, d] = trackedTcpPair();
      s.setsockopt(d, s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
      closeFd(d);
      // the RST is already sent; let loopback deliver it
      s.poll([{ fd: c, events: 0 }], 5000);
      return { fd: c, watch: RW };
    },
    expected: RW,
  },
  {
    name: 'listening socket with a pending connection',
    make: () => {
      const l = tcpListener();
      track(l.fd);
      const c = track(s.socket(s.AF_INET, s.SOCK_STREAM));
      s.connect(c, { address: '127.0.0.1', port: l.port });
      // the handshake's last ACK is already on its way over loopback; let it land in the accept queue
      s.poll([{ fd: l.fd, events: s.POLLIN }], 5000);
      return { fd: l.fd, watch: RW };
    },
    expected: R,
  },
  {
    name: 'idle listening socket',
    make: () => ({ fd: track(tcpListener().fd), watch: RW }),
    expected: 0,
  },
];

type Outcome = number | string;

interface Probe {
  name: string;
  /** What the backend reports for `fd` watched for `watch` (after `then`): a READ/WRITE set, or an error code. */
  run(fd: number, watch: number, then: () => void): Outcome;
}

function fromPoll(revents: number, watch: number, IN: number, OUT: number, BOTH: number): number {
  let ev = 0;
  if (revents & (IN | BOTH)) ev |= R;
  if (revents & (OUT | BOTH)) ev |= W;
  return ev & watch;
}

const probes: Probe[] = [
  {
    name: 'raw select()',
    run(fd, watch, then) {
      then();
      try {
        const [r, w] = s.select(watch & R ? [fd] : [], watch & W ? [fd] : [], [], 0);
        return (r.includes(fd) ? R : 0) | (w.includes(fd) ? W : 0);
      } catch (e) {
        expect((e as NodeJS.ErrnoException).syscall).toBe('select');
        return (e as NodeJS.ErrnoException).code!;
      }
    },
  },
  {
    name: 'raw poll()',
    run(fd, watch, then) {
      then();
      const res = s.poll([{ fd, events: (watch & R ? s.POLLIN : 0) | (watch & W ? s.POLLOUT : 0) }], 0);
      const revents = res.length ? res[0].revents : 0;
      if (revents & s.POLLNVAL) return 'POLLNVAL';
      return fromPoll(revents, watch, s.POLLIN, s.POLLOUT, s.POLLHUP | s.POLLERR);
    },
  },
  {
    name: 'raw epollWait',
    run(fd, watch, then) {
      const ep = s.epollCreate();
      try {
        s.epollCtl(ep, s.EPOLL_CTL_ADD, fd, (watch & R ? s.EPOLLIN : 0) | (watch & W ? s.EPOLLOUT : 0));
        then();
        const res = s.epollWait(ep, 8, 0);
        if (res.length === 0) return 0;
        expect(res).toHaveLength(1);
        expect(res[0].fd).toBe(fd);
        return fromPoll(res[0].events, watch, s.EPOLLIN, s.EPOLLOUT, s.EPOLLHUP | s.EPOLLERR);
      } finally {
        s.close(ep);
      }
    },
  },
  ...CLASSES.map(({ name, Cls }): Probe => ({
    name,
    run(fd, watch, then) {
      const sel = new Cls();
      try {
        const key = sel.register(fd, watch);
        then();
        const res = sel.select(0);
        expect(res.length).toBeLessThanOrEqual(1);
        if (res.length === 0) return 0;
        expect(res[0][0]).toBe(key);
        return res[0][1];
      } finally {
        sel.unregister(fd);
        sel.close();
      }
    },
  })),
];

describe('the same answers from raw select(), poll(), epollWait and every selector', () => {
  describe.each(scenarios)('$name', (sc) => {
    it.each(probes)('$name', (probe) => {
      const { fd, watch, then } = sc.make();
      expect(probe.run(fd, watch, then ?? (() => {}))).toBe(sc.expected);
    });
  });

  // A registered fd closed before the wait. Each backend does what its system call does:
  // - raw select(): EBADF;
  // - raw poll(): POLLNVAL on the entry;
  // - raw epoll: nothing (closing an fd removes it from every epoll set);
  // - SelectSelector and PollSelector report it ready for the events it watches (so that the caller's next
  //   read or write meets the EBADF);
  // - EpollSelector (and so DefaultSelector here) drops it silently, as the kernel does.
  const closedExpected: Record<string, Outcome> = {
    'raw select()': 'EBADF',
    'raw poll()': 'POLLNVAL',
    'raw epollWait': 0,
    SelectSelector: RW,
    PollSelector: RW,
    EpollSelector: 0,
    DefaultSelector: 0,
  };
  describe('closed fd', () => {
    it.each(probes)('$name', (probe) => {
      const [a] = trackedPair();
      expect(probe.run(a, RW, () => closeFd(a))).toBe(closedExpected[probe.name]);
    });
    it.each(CLASSES)('$name: only the watched events of a closed fd', ({ Cls }) => {
      const [a] = trackedPair();
      const sel = new Cls();
      selectors.push(sel);
      const key = sel.register(a, R);
      closeFd(a);
      const res = sel.select(0);
      if (backendOf(Cls) === 'epoll') expect(res).toEqual([]);
      else expect(res).toEqual([[key, R]]);
      sel.unregister(a);
    });
  });

  it('poll and epoll report the raw bits behind hang-up and reset', () => {
    const [a, b] = trackedPair();
    closeFd(b);
    expect(s.poll([{ fd: a, events: s.POLLIN }], 0)[0].revents & s.POLLHUP).toBe(s.POLLHUP);
    const [c, d] = trackedTcpPair();
    s.setsockopt(d, s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
    closeFd(d);
    const rev = s.poll([{ fd: c, events: s.POLLIN }], 5000)[0].revents;
    expect(rev & (s.POLLERR | s.POLLHUP)).toBe(s.POLLERR | s.POLLHUP);
    const ep = s.epollCreate();
    try {
      s.epollCtl(ep, s.EPOLL_CTL_ADD, c, s.EPOLLIN);
      s.epollCtl(ep, s.EPOLL_CTL_ADD, a, s.EPOLLIN);
      const got = new Map(s.epollWait(ep, 8, 0).map((e) => [e.fd, e.events]));
      expect(got.get(c)! & (s.EPOLLERR | s.EPOLLHUP)).toBe(s.EPOLLERR | s.EPOLLHUP);
      expect(got.get(a)! & s.EPOLLHUP).toBe(s.EPOLLHUP);
    } finally {
      s.close(ep);
    }
  });
});
