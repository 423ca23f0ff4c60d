/**
 * select() and poll() over real sockets on loopback (127.0.0.1, ::1) and Unix paths. One set of scenarios runs
 * through both calls: two small adapters map "watch these fds for read/write" onto select() and onto poll(), and
 * normalise the answer, so both must give the same answers. What only one of them does (Socket objects, fd
 * limits, EBADF against POLLNVAL, duplicate poll entries) follows in its own blocks.
 *
 * No upper bound on any time is asserted; waits for an event loop over spurious wake-ups until a deadline.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getSystemErrorName } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { underSignals, wrap, type Child } from './helpers/child';
import { checkFdLeaks } from './helpers/fds';
import { closedPort, ipv6, tcpListener, tmpSocketPath } from './helpers/net';
import { closeFd, track, trackedPair, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

// ---------------------------------------------------------------------------------------------------------------
// Bookkeeping: every fd a test opens is tracked and closed after it, exactly once (by ./helpers/track, after
// this file's own afterEach).

const children: Child[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------------------------
// The two adapters.

interface Ready {
  readable: Set<number>;
  writable: Set<number>;
  exceptional: Set<number>;
  /** The readable / writable fds in the order the call reported them. */
  read: number[];
  write: number[];
  /** poll only: the revents of each fd. */
  revents?: Map<number, number>;
}
interface WaitOptions {
  except?: number[];
  /** poll only: more events to ask for on the read fds (POLLRDHUP). */
  extraEvents?: number;
}
interface Adapter {
  name: 'select' | 'poll';
  wait(read: number[], write: number[], timeoutMs?: number | null, opts?: WaitOptions): Ready;
}

const selectAdapter: Adapter = {
  name: 'select',
  wait(read, write, timeoutMs, opts = {}) {
    const [r, w, x] = s.select(read, write, opts.except ?? [], timeoutMs);
    return { readable: new Set(r), writable: new Set(w), exceptional: new Set(x), read: r, write: w };
  },
};

// What Linux's select() counts as readable, writable and exceptional, in poll() terms (fs/select.c POLLIN_SET,
// POLLOUT_SET, POLLEX_SET): with these the two calls must agree.
const READ_SET = s.POLLIN | s.POLLHUP | s.POLLERR;
const WRITE_SET = s.POLLOUT | s.POLLERR;
const EXCEPT_SET = s.POLLPRI;

const pollAdapter: Adapter = {
  name: 'poll',
  wait(read, write, timeoutMs, opts = {}) {
    // One entry per fd, as a registry keyed by fd would make it (Python's select.poll()).
    const events = new Map<number, number>();
    const add = (fd: number, e: number) => events.set(fd, (events.get(fd) ?? 0) | e);
    for (const fd of read) add(fd, s.POLLIN | (opts.extraEvents ?? 0));
    for (const fd of write) add(fd, s.POLLOUT);
    for (const fd of opts.except ?? []) add(fd, s.POLLPRI);
    const entries = [...events].map(([fd, ev]) => ({ fd, events: ev }));
    const res = s.poll(entries, timeoutMs);
    for (const r of res) {
      expect(r.revents & s.POLLNVAL, `POLLNVAL for fd ${r.fd}`).toBe(0);
      expect(r.events).toBe(events.get(r.fd));
    }
    const readSet = new Set(read);
    const writeSet = new Set(write);
    const exceptSet = new Set(opts.except ?? []);
    const r = res.filter((e) => readSet.has(e.fd) && e.revents & READ_SET).map((e) => e.fd);
    const w = res.filter((e) => writeSet.has(e.fd) && e.revents & WRITE_SET).map((e) => e.fd);
    const x = res.filter((e) => exceptSet.has(e.fd) && e.revents & EXCEPT_SET).map((e) => e.fd);
    return {
      readable: new Set(r), writable: new Set(w), exceptional: new Set(x), read: r, write: w,
      revents: new Map(res.map((e) => [e.fd, e.revents])),
    };
  },
};

/** Waits (looping over spurious wake-ups) until `ok` holds or `ms` have passed; returns the last answer. */
function waitUntil(A: Adapter, read: number[], write: number[], ok: (r: Ready) => boolean, opts?: WaitOptions, ms = 5000): Ready {
  const end = performance.now() + ms;
  for (;;) {
    const left = Math.max(0, Math.ceil(end - performance.now()));
    const r = A.wait(read, write, left, opts);
    if (ok(r) || left === 0) return r;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Stream transports: TCP over 127.0.0.1 and ::1, and Unix-domain stream sockets on a path.

interface Transport {
  name: string;
  skip: boolean;
  domain: number;
  listen(): { fd: number; addr: s.AddressInput };
}
const transports: Transport[] = [
  {
    name: 'TCP 127.0.0.1',
    skip: false,
    domain: s.AF_INET,
    listen() {
      const l = tcpListener(s.AF_INET, '127.0.0.1');
      return { fd: track(l.fd), addr: { address: '127.0.0.1', port: l.port } };
    },
  },
  {
    name: 'TCP ::1',
    skip: !ipv6.ok,
    domain: s.AF_INET6,
    listen() {
      const l = tcpListener(s.AF_INET6, '::1');
      return { fd: track(l.fd), addr: { address: '::1', port: l.port } };
    },
  },
  {
    name: 'Unix stream',
    skip: false,
    domain: s.AF_UNIX,
    listen() {
      const path = tmpSocketPath('listen');
      const fd = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
      s.bind(fd, { path });
      s.listen(fd);
      return { fd, addr: { path } };
    },
  },
];

/** A connected pair over `t`: [client, accepted], both blocking. */
function connected(t: Transport): [number, number] {
  const l = t.listen();
  const c = track(s.socket(t.domain, s.SOCK_STREAM));
  expect(s.connect(c, l.addr)).toBe(true);
  const a = track(s.accept(l.fd)!.fd);
  closeFd(l.fd);
  return [c, a];
}

/** Receives everything available on a non-blocking fd; the byte count. */
function drain(fd: number): number {
  let n = 0;
  for (;;) {
    const b = s.recv(fd, 1 << 16);
    if (b === null || b.length === 0) return n;
    n += b.length;
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe.each([selectAdapter, pollAdapter])('$name', (A) => {
  describe.each(transports)('over $name', (t) => {
    it.skipIf(t.skip)('an idle connected socket is writable and not readable', () => {
      const [c, a] = connected(t);
      const r = waitUntil(A, [c, a], [c, a], (x) => x.writable.size === 2);
      expect(r.readable).toEqual(new Set());
      expect(r.writable).toEqual(new Set([c, a]));
    });

    it.skipIf(t.skip)('a socket becomes readable when its peer sends, and not after the data is read', () => {
      const [c, a] = connected(t);
      expect(A.wait([a], [], 0).readable.size).toBe(0);
      expect(s.send(c, 'ping')).toBe(4);
      const r = waitUntil(A, [c, a], [], (x) => x.readable.has(a));
      expect(r.readable).toEqual(new Set([a]));
      expect(s.recv(a, 100)!.toString()).toBe('ping');
      expect(A.wait([c, a], [], 0).readable.size).toBe(0);
    });

    it.skipIf(t.skip)('a socket is readable (end of stream) when its peer closes', () => {
      const [c, a] = connected(t);
      closeFd(c);
      const extraEvents = s.POLLRDHUP ?? 0;
      const r = waitUntil(A, [a], [], (x) => x.readable.has(a), { extraEvents });
      expect(r.readable).toEqual(new Set([a]));
      if (r.revents) {
        // poll says why: the peer hung up (POLLRDHUP on Linux, when asked; POLLHUP once both halves are down).
        expect(r.revents.get(a)! & s.POLLIN).toBe(s.POLLIN);
        expect(r.revents.get(a)! & (s.POLLHUP | extraEvents)).not.toBe(0);
        if (process.platform === 'linux') expect(r.revents.get(a)! & s.POLLRDHUP).toBe(s.POLLRDHUP);
      }
      expect(s.recv(a, 100)!.length).toBe(0);
      // End of stream stays readable.
      expect(A.wait([a], [], 0, { extraEvents }).readable).toEqual(new Set([a]));
    });

    it.skipIf(t.skip)('a listening socket is readable while a connection is pending', () => {
      const l = t.listen();
      expect(A.wait([l.fd], [], 0).readable.size).toBe(0);
      const c = track(s.socket(t.domain, s.SOCK_STREAM));
      s.connect(c, l.addr);
      const r = waitUntil(A, [l.fd], [], (x) => x.readable.has(l.fd));
      expect(r.read).toEqual([l.fd]);
      const got = s.accept(l.fd);
      expect(got).not.toBeNull();
      track(got!.fd);
      expect(A.wait([l.fd], [], 0).readable.size).toBe(0);
    });

    it.skipIf(t.skip)('a non-blocking connect becomes writable, with SO_ERROR 0', () => {
      const l = t.listen();
      const c = track(s.socket(t.domain, s.SOCK_STREAM | s.SOCK_NONBLOCK));
      const done = s.connect(c, l.addr);
      expect(typeof done).toBe('boolean');
      const r = waitUntil(A, [], [c], (x) => x.writable.has(c));
      expect(r.writable).toEqual(new Set([c]));
      expect(s.getsockopt(c, s.SOL_SOCKET, s.SO_ERROR)).toBe(0);
      expect(s.getpeername(c)).toMatchObject('path' in l.addr ? { family: 'unix' } : { port: l.addr.port });
    });

    it.skipIf(t.skip || t.domain === s.AF_UNIX)('a non-blocking connect to a refused port becomes writable (error), SO_ERROR = ECONNREFUSED', () => {
      const host = t.domain === s.AF_INET6 ? '::1' : '127.0.0.1';
      const port = closedPort(t.domain, host);
      const c = track(s.socket(t.domain, s.SOCK_STREAM | s.SOCK_NONBLOCK));
      let inProgress: boolean;
      try {
        inProgress = !s.connect(c, { address: host, port });
      } catch (e) {
        // Some kernels refuse at once; then there is nothing to wait for.
        expect((e as s.SystemError).code).toBe('ECONNREFUSED');
        return;
      }
      expect(inProgress).toBe(true);
      const r = waitUntil(A, [], [c], (x) => x.writable.has(c));
      expect(r.writable).toEqual(new Set([c]));
      if (r.revents) expect(r.revents.get(c)! & s.POLLERR).toBe(s.POLLERR);
      expect(s.getsockopt(c, s.SOL_SOCKET, s.SO_ERROR)).toBe(osConstants.errno.ECONNREFUSED);
      // SO_ERROR reads and clears.
      expect(s.getsockopt(c, s.SOL_SOCKET, s.SO_ERROR)).toBe(0);
    });

    it.skipIf(t.skip)('a socket with a full send buffer is not writable, and is again once the peer reads', () => {
      const [c, a] = connected(t);
      s.setsockopt(c, s.SOL_SOCKET, s.SO_SNDBUF, 4096);
      s.setsockopt(a, s.SOL_SOCKET, s.SO_RCVBUF, 4096);
      s.setBlocking(c, false);
      s.setBlocking(a, false);
      const chunk = Buffer.alloc(65536, 0x61);
      let sent = 0;
      // Fill until the kernel says it would block, then make sure it still does (TCP may move a little more
      // from the send buffer into the peer's window after the first refusal).
      for (let rounds = 0; rounds < 3; rounds++) {
        for (;;) {
          const n = s.send(c, chunk);
          if (n === null) break;
          sent += n;
        }
        if (A.wait([], [c], 0).writable.size === 0) break;
      }
      expect(sent).toBeGreaterThan(0);
      expect(A.wait([], [c], 0).writable.has(c)).toBe(false);
      expect(A.wait([a], [], 0).readable.has(a)).toBe(true);
      // Drain the peer until the sender has room again.
      let received = 0;
      const r = waitUntil(A, [a], [c], (x) => {
        received += drain(a);
        return x.writable.has(c);
      });
      expect(r.writable.has(c)).toBe(true);
      expect(received).toBeGreaterThan(0);
    });

    it.skipIf(t.skip || t.domain === s.AF_UNIX)('urgent (out-of-band) data is exceptional (select exceptFds, poll POLLPRI)', () => {
      const [c, a] = connected(t);
      expect(A.wait([], [], 0, { except: [a] }).exceptional.size).toBe(0);
      expect(s.send(c, '!', s.MSG_OOB)).toBe(1);
      const r = waitUntil(A, [], [], (x) => x.exceptional.has(a), { except: [a] });
      expect(r.exceptional).toEqual(new Set([a]));
      expect(s.recv(a, 1, s.MSG_OOB)!.toString()).toBe('!');
    });
  });

  it('timeout 0 with nothing ready returns at once with nothing', () => {
    const [a, b] = trackedPair();
    const r = A.wait([a, b], [], 0);
    expect(r.read).toEqual([]);
    expect(r.write).toEqual([]);
  });

  it('a positive timeout with nothing ready returns nothing after at least that long', () => {
    const [a, b] = trackedPair();
    for (const timeout of [30, 75]) {
      const t0 = performance.now();
      const r = A.wait([a, b], [], timeout);
      const elapsed = performance.now() - t0;
      expect(r.read).toEqual([]);
      expect(elapsed).toBeGreaterThanOrEqual(timeout - 1);
    }
  });

  it('a fractional timeout rounds up, not down to a poll', () => {
    const [a] = trackedPair();
    const t0 = performance.now();
    expect(A.wait([a], [], 0.5).read).toEqual([]);
    // 0.5 ms rounds up to 1 ms: the kernel sleeps at least that; rounded down it would return at once.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(0.95);
  });

  it('a timeout above 2^31-1 ms is a RangeError; 2^31-1 itself is allowed', () => {
    const [a, b] = trackedPair();
    for (const bad of [2 ** 31, 2 ** 32, Infinity, NaN]) {
      expect(() => A.wait([a], [], bad)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    s.send(b, 'x');
    // Something is ready, so the longest timeout returns at once.
    expect(A.wait([a], [], 2 ** 31 - 1).read).toEqual([a]);
  });

  it('an fd in both the read and the write list is reported in both', () => {
    const [a, b] = trackedPair();
    s.send(b, 'x');
    const r = A.wait([a], [a], 0);
    expect(r.read).toEqual([a]);
    expect(r.write).toEqual([a]);
  });

  it('a duplicate fd in a list is reported once', () => {
    const [a, b] = trackedPair();
    const [c] = trackedPair();
    s.send(b, 'x');
    const r = A.wait([a, c, a, a], [b, b], 0);
    expect(r.read).toEqual([a]);
    expect(r.write).toEqual([b]);
  });

  it('results come in input order', () => {
    const pairs = Array.from({ length: 6 }, () => trackedPair());
    for (const [, peer] of pairs) s.send(peer, 'x');
    const ends = pairs.map(([end]) => end);
    const order = [ends[3], ends[0], ends[5], ends[1], ends[4], ends[2]];
    expect(A.wait(order, [], 0).read).toEqual(order);
    const reversed = [...order].reverse();
    expect(A.wait(reversed, [], 0).read).toEqual(reversed);
    expect(A.wait([], order, 0).write).toEqual(order);
  });

  it('empty lists with timeout 0 return empty lists', () => {
    const r = A.wait([], [], 0, { except: [] });
    expect(r.read).toEqual([]);
    expect(r.write).toEqual([]);
    expect([...r.exceptional]).toEqual([]);
  });

  it('many fds (200 socketpairs) with a few ready', () => {
    const pairs = Array.from({ length: 200 }, () => trackedPair());
    const all = pairs.flat();
    expect(Math.max(...all)).toBeLessThan(1024);
    const ready = [3, 77, 150, 199];
    for (const i of ready) s.send(pairs[i][1], 'x');
    const r = A.wait(all, all, 0);
    expect(r.read).toEqual(ready.map((i) => pairs[i][0]));
    expect(r.write).toEqual(all);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['-1', -1],
    ['-0.5', -0.5],
  ])('timeout %s waits until something is ready', async (_name, timeout) => {
    // The other end goes to a child that writes after ~100 ms. The test thread blocks meanwhile; our copy of the
    // child's end is closed, so if the child died without writing the wait would still end (EOF), not hang.
    const [mine, theirs] = trackedPair();
    const child = wrap(spawn(process.execPath, ['-e', "setTimeout(() => require('fs').writeSync(3, 'late'), 100)"], {
      stdio: ['ignore', 'pipe', 'pipe', theirs],
    }));
    children.push(child);
    closeFd(theirs);
    const r = A.wait([mine], [], timeout as number | null | undefined);
    expect(r.read).toEqual([mine]);
    expect(s.recv(mine, 100)!.toString()).toBe('late');
    expect(await child.exited()).toBe(0);
  });

  it('EINTR: signals every 50 ms do not end a 1500 ms wait early, and do not throw', async () => {
    // Linux delivers a process-directed signal to the main thread first when it does not block it (kernel
    // complete_signal), so the child's blocked select/poll is interrupted each time. If the wait restarted with
    // the whole timeout it would never end while the signals go on (and this test would time out); if it
    // gave up it would return early or throw.
    const run = await underSignals<{ elapsed: number; result: unknown; error?: unknown; signals: number }>(`
      const s = require('sockfd');
      const { performance } = require('node:perf_hooks');
      const [a, b] = s.socketpair();
      console.log('ready');
      const t0 = performance.now();
      let result, error;
      try {
        result = process.argv[1] === 'select' ? s.select([a], [], [], 1500) : s.poll([{ fd: a, events: s.POLLIN }], 1500);
      } catch (e) {
        error = { code: e.code, message: e.message };
      }
      const elapsed = performance.now() - t0;
      s.close(a);
      s.close(b);
      // The handler runs on the event loop, after the wait: on a loaded machine (the ASan build in CI) that can
      // take longer than a tick, so the result waits for the handler's count (at most 5 s; the parent goes on
      // signalling until it sees the result).
      const t1 = Date.now();
      const report = () => {
        if (signals < 5 && Date.now() - t1 < 5000) return setTimeout(report, 20);
        console.log('result ' + JSON.stringify({ elapsed, result, error, signals }));
      };
      setTimeout(report, 20);
    `, [A.name]);
    const out = run.result;
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual(A.name === 'select' ? [[], [], []] : []);
    expect(out.elapsed).toBeGreaterThanOrEqual(1499);
    expect(run.sent).toBeGreaterThanOrEqual(10);
    expect(out.signals).toBeGreaterThanOrEqual(5);
    expect(run.code).toBe(0);
  }, 20000);
});

describe('select only', () => {
  it('given Socket objects, returns the same objects', () => {
    const [x, y] = s.socketpair();
    const a = s.Socket.fromFd(x);
    const b = s.Socket.fromFd(y);
    try {
      b.send('x');
      const [r, w, e] = s.select([a, b], [b], [a], 0);
      expect(r).toHaveLength(1);
      expect(r[0]).toBe(a);
      expect(w).toHaveLength(1);
      expect(w[0]).toBe(b);
      expect(e).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('a closed Socket (fileno() -1) is a RangeError naming the list entry', () => {
    const sock = new s.Socket(s.AF_UNIX, s.SOCK_STREAM);
    sock.close();
    expect(() => s.select([sock], [], [], 0)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => s.select([sock], [], [], 0)).toThrow(/readFds\[0\]\.fileno\(\)/);
  });

  it('mixes fds and objects with fileno()', () => {
    const [a, b] = trackedPair();
    const wrapped = { fileno: () => a };
    s.send(b, 'x');
    const [r, w] = s.select([wrapped, b], [wrapped, b], [], 0);
    expect(r).toEqual([wrapped]);
    expect(r[0]).toBe(wrapped);
    expect(w).toEqual([wrapped, b]);
  });

  it('a closed fd is an EBADF error', () => {
    const [a, b] = trackedPair();
    closeFd(b);
    let err: s.SystemError | undefined;
    try {
      s.select([a, b], [], [], 0);
    } catch (e) {
      err = e as s.SystemError;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'EBADF', errno: -osConstants.errno.EBADF, syscall: 'select' });
    expect(getSystemErrorName(err!.errno)).toBe('EBADF');
  });

  it('an fd >= FD_SETSIZE is a RangeError before any system call', () => {
    expect(s.FD_SETSIZE).toBe(1024);
    const [a, b] = trackedPair();
    closeFd(b); // a closed fd first in the list: had select(2) run, the error would be EBADF
    const rangeError = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(() => s.select([b, 1024], [], [], 0)).toThrow(rangeError);
    expect(() => s.select([b], [s.FD_SETSIZE + 5], [], 0)).toThrow(rangeError);
    expect(() => s.select<s.FileLike>([b], [], [{ fileno: () => 4096 }], 0)).toThrow(rangeError);
    expect(() => s.select([b, 1024], [], [], 0)).toThrow(/FD_SETSIZE/);
    // Nothing was consumed or changed: `a` still works.
    expect(s.select([a], [a], [], 0)[1]).toEqual([a]);
  });

  it('a timeout of undefined is taken as "forever", not as 0 (nothing is dropped)', () => {
    const [a, b] = trackedPair();
    s.send(b, 'x');
    expect(s.select([a], [], [])[0]).toEqual([a]);
  });
});

describe('poll only', () => {
  it('a closed fd reports POLLNVAL, the others still report', () => {
    const [a, b] = trackedPair();
    const [c, d] = trackedPair();
    closeFd(b);
    s.send(d, 'x');
    const r = s.poll([{ fd: a, events: s.POLLIN }, { fd: b, events: s.POLLIN }, { fd: c, events: s.POLLIN }], 0);
    expect(r).toEqual([
      // a: its peer b is closed, so end of stream
      { fd: a, events: s.POLLIN, revents: expect.any(Number) },
      { fd: b, events: s.POLLIN, revents: s.POLLNVAL },
      { fd: c, events: s.POLLIN, revents: s.POLLIN },
    ]);
    expect(r[0].revents & s.POLLIN).toBe(s.POLLIN);
  });

  it('each entry is answered, even two for the same fd', () => {
    const [a, b] = trackedPair();
    s.send(b, 'x');
    const r = s.poll([{ fd: a, events: s.POLLIN }, { fd: a, events: s.POLLOUT }, { fd: a, events: s.POLLIN | s.POLLOUT }], 0);
    expect(r).toEqual([
      { fd: a, events: s.POLLIN, revents: s.POLLIN },
      { fd: a, events: s.POLLOUT, revents: s.POLLOUT },
      { fd: a, events: s.POLLIN | s.POLLOUT, revents: s.POLLIN | s.POLLOUT },
    ]);
  });

  it('takes fds above FD_SETSIZE (which select refuses)', (ctx) => {
    // Fill the low fd numbers with /dev/null so that the next sockets get numbers above 1024. Node raises the
    // soft RLIMIT_NOFILE to the hard limit at start-up; if that is too low here, there is nothing to test.
    const fillers: number[] = [];
    let hi: [number, number] | undefined;
    try {
      try {
        for (;;) {
          const f = fs.openSync('/dev/null', 'r');
          fillers.push(f);
          if (f >= 1100) break;
        }
        hi = trackedPair();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EMFILE') throw e;
        console.warn(`sockfd tests: skipping poll above FD_SETSIZE: the fd limit here is too low (${(e as Error).message})`);
      }
    } finally {
      for (const f of fillers) fs.closeSync(f);
    }
    if (!hi) {
      ctx.skip();
      return;
    }
    const [a, b] = hi;
    expect(a).toBeGreaterThan(1024);
    expect(b).toBeGreaterThan(1024);
    expect(s.poll([{ fd: a, events: s.POLLIN }], 0)).toEqual([]);
    s.send(b, 'high');
    expect(s.poll([{ fd: a, events: s.POLLIN }, { fd: b, events: s.POLLOUT }], 1000)).toEqual([
      { fd: a, events: s.POLLIN, revents: s.POLLIN },
      { fd: b, events: s.POLLOUT, revents: s.POLLOUT },
    ]);
    expect(s.recv(a, 10)!.toString()).toBe('high');
    expect(() => s.select([a], [], [], 0)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
  });

  it('events outside 0..0xFFFF are a RangeError', () => {
    const [a] = trackedPair();
    expect(() => s.poll([{ fd: a, events: 0x10000 }], 0)).toThrow(RangeError);
    expect(() => s.poll([{ fd: a, events: -1 }], 0)).toThrow(RangeError);
  });

  it('an entry with events 0 still reports hang-up', () => {
    const [a, b] = trackedPair();
    closeFd(b);
    const r = s.poll([{ fd: a, events: 0 }], 0);
    expect(r).toHaveLength(1);
    expect(r[0].revents & s.POLLHUP).toBe(s.POLLHUP);
  });
});
