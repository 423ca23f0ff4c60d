/**
 * io_uring through IoUring: setup and what it reports, every operation over real loopback sockets (accept,
 * recv into a buffer, multishot recv from a provided-buffer ring with ENOBUFS and recovery, send, close,
 * cancel by userData and by fd, nop, timeout), completions synchronously and on the event loop, errors made on
 * demand, buffers that change under a pending recv, closing a ring with operations in flight, close-on-exec,
 * no fd leaked, rings in several worker_threads and a worker terminated mid-wait.
 *
 * Where io_uring is missing or forbidden, every test but the support check is skipped, and why is printed.
 * No upper bound on any time is asserted.
 */
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { constants as osConstants } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { batchedWatcher } from '../lib/watch';
import { root } from './helpers/child';
import { expectCode, expectRangeError, expectSysError, expectTypeError } from './helpers/expect';
import { checkFdLeaks, fdFlags, isOpen, O_CLOEXEC, openFds } from './helpers/fds';
import { tcpListener } from './helpers/net';
import { UNDER_ASAN } from './helpers/stress';
import { closeFd, track, trackedPair, trackedTcpPair, untrack, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

const support = s.ioUringSupport();
if (!support.supported) console.log(`test/uring.test.ts: skipping the io_uring tests: ${support.code}: ${support.reason}`);
const multishotNote = 'multishot accept and recv need Linux 6.0+';
if (support.supported && !support.multishot) console.log(`test/uring.test.ts: skipping the multishot tests: ${multishotNote}`);
const ring = support.supported ? describe : describe.skip;
const errno = osConstants.errno;

const rings: s.IoUring[] = [];
function newRing(entries?: number, options?: s.IoUringOptions): s.IoUring {
  const r = new s.IoUring(entries, options);
  rings.push(r);
  return r;
}
afterEach(() => {
  for (const r of rings.splice(0)) r.close();
});

interface Cqe {
  user: number;
  res: number;
  flags: number;
  op: number;
}
function cqes(r: s.IoUring, n: number): Cqe[] {
  const out: Cqe[] = [];
  for (let i = 0; i < n; i++) {
    const c = r.completions;
    out.push({ user: c[4 * i], res: c[4 * i + 1], flags: c[4 * i + 2], op: c[4 * i + 3] });
  }
  return out;
}
/** Waits until `count` completions have come (in as many waits as it takes), each at most 10 s. */
function collect(r: s.IoUring, count: number): Cqe[] {
  const got: Cqe[] = [];
  while (got.length < count) {
    const n = r.submitAndWait(1, 10000);
    if (n === 0) throw new Error(`collect: ${got.length} of ${count} completions after 10 s`);
    got.push(...cqes(r, n));
  }
  return got;
}
function byUser(list: Cqe[], user: number): Cqe[] {
  return list.filter((c) => c.user === user);
}

describe('ioUringSupport', () => {
  it('answers without throwing, with a reason when not supported', () => {
    const a = s.ioUringSupport();
    expect(typeof a.supported).toBe('boolean');
    if (a.supported) {
      expect(a.code).toBeNull();
      expect(a.reason).toBeNull();
      expect(a.features).toBeGreaterThan(0);
    } else {
      expect(['ENOSYS', 'EPERM', 'ENOMEM']).toContain(a.code);
      expect(a.reason).toMatch(/epoll|io_uring/);
    }
    expect(s.hasIoUring).toBe(process.platform === 'linux');
    // The answer is a copy: changing it changes nothing.
    a.supported = !a.supported;
    expect(s.ioUringSupport().supported).toBe(support.supported);
  });
});

ring('IoUring setup', () => {
  it('takes the best flags this kernel has and reports them', () => {
    const r = newRing(8);
    expect(r.sqEntries).toBe(8);
    expect(r.cqEntries).toBe(32);
    expect(r.completions).toBeInstanceOf(Int32Array);
    expect(r.completions.length).toBe(4 * r.cqEntries);
    expect(r.features & s.IORING_FEAT_NODROP).toBe(s.IORING_FEAT_NODROP);
    const f = r.setupFlags;
    // Linux 6.1+ takes DEFER_TASKRUN (with SINGLE_ISSUER); else COOP_TASKRUN; else neither.
    if ((f & s.IORING_SETUP_DEFER_TASKRUN) !== 0) expect(f & s.IORING_SETUP_SINGLE_ISSUER).toBe(s.IORING_SETUP_SINGLE_ISSUER);
    if (/^(6\.([1-9]|\d\d)|[7-9]\.)/.test(require('node:os').release())) {
      expect(f & s.IORING_SETUP_DEFER_TASKRUN).toBe(s.IORING_SETUP_DEFER_TASKRUN);
    }
    expect(r.pending).toBe(0);
    expect(r.inflight).toBe(0);
  });

  it('rounds entries up to a power of 2, and takes exact flags when told', () => {
    const r = newRing(5, { setupFlags: 0 });
    expect(r.sqEntries).toBe(8);
    expect(r.setupFlags).toBe(0);
    expect(r.cqEntries).toBe(16); // the kernel's default: twice the SQ
    const c = newRing(4, { setupFlags: s.IORING_SETUP_COOP_TASKRUN });
    expect(c.setupFlags).toBe(s.IORING_SETUP_COOP_TASKRUN);
    c.nop(1);
    expect(cqes(c, c.submitAndWait(1, 5000))).toEqual([{ user: 1, res: 0, flags: 0, op: s.URING_OP_NOP }]);
  });

  it('passes the kernel\'s refusal of bad flags through as a Node-style error', () => {
    // DEFER_TASKRUN without SINGLE_ISSUER is invalid.
    expectSysError(() => new s.IoUring(4, { setupFlags: s.IORING_SETUP_DEFER_TASKRUN }), 'EINVAL', 'io_uring_setup');
  });

  it('its fd is close-on-exec; close() is idempotent, frees the fd, and later use is ERR_URING_CLOSED', () => {
    const r = new s.IoUring(4);
    expect(fdFlags(r.fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(r.closed).toBe(false);
    expect(r.close()).toBe(true);
    expect(r.closed).toBe(true);
    expect(isOpen(r.fd)).toBe(false);
    expect(r.close()).toBe(true);
    expectCode(() => r.nop(1), Error, 'ERR_URING_CLOSED');
    expectCode(() => r.submitAndWait(0, 0), Error, 'ERR_URING_CLOSED');
    expect(r.pending).toBe(0);
  });

  it('[Symbol.dispose] closes it', () => {
    let fd: number;
    {
      using r = new s.IoUring(4);
      fd = r.fd;
      expect(isOpen(fd)).toBe(true);
    }
    expect(isOpen(fd)).toBe(false);
  });

  it('checks its arguments before any system call', () => {
    expectTypeError(() => new s.IoUring('8' as unknown as number));
    expectRangeError(() => new s.IoUring(0));
    expectRangeError(() => new s.IoUring(65536));
    expectRangeError(() => new s.IoUring(1.5));
    expectTypeError(() => new s.IoUring(4, null as unknown as s.IoUringOptions));
    const r = newRing(4);
    expectRangeError(() => r.nop(-1));
    expectRangeError(() => r.nop(2 ** 31));
    expectTypeError(() => r.nop('1' as unknown as number));
    expectRangeError(() => r.accept(-1, 1));
    expectTypeError(() => r.accept(0, 1, null as unknown as s.UringAcceptOptions));
    expectTypeError(() => r.recv(0, Buffer.alloc(4), 1, 5 as unknown as s.UringRecvOptions));
    expectTypeError(() => r.recv(0, 'abc' as unknown as Buffer, 1));
    expectRangeError(() => r.recv(0, Buffer.alloc(4), 1, { offset: 5 }));
    expectRangeError(() => r.recv(0, Buffer.alloc(4), 1, { offset: 2, length: 3 }));
    expectTypeError(() => r.send(0, 5 as unknown as string, 1));
    expectRangeError(() => r.timeout(-1, 1));
    expectRangeError(() => r.submitAndWait(r.cqEntries + 1));
    expectTypeError(() => r.watch(null as unknown as s.UringCallback));
    expectTypeError(() => r.recvMultishot(0, {} as s.BufferRing, 1));
    expectRangeError(() => r.bufferRing(0, 0, 16));
    expectRangeError(() => s.completionError(0, 1));
    expect(r.pending).toBe(0); // nothing was queued by the refused calls
  });

  it('completionError makes the Node-style error of a negative res, naming the operation', () => {
    const e = s.completionError(-errno.ECONNRESET, s.URING_OP_RECV);
    expect(e.code).toBe('ECONNRESET');
    expect(e.errno).toBe(-errno.ECONNRESET);
    expect(e.syscall).toBe('recv');
    expect(e.message).toBe('recv ECONNRESET');
    expect(s.completionError(-errno.EPIPE, s.URING_OP_SEND).syscall).toBe('send');
    expect(s.completionError(-errno.ETIME, s.URING_OP_TIMEOUT).code).toBe('ETIME');
  });
});

ring('IoUring operations', () => {
  it('nop and timeout: one io_uring_enter submits a batch; a timeout ends with ETIME', () => {
    const r = newRing(8);
    r.nop(1);
    r.nop(2);
    r.timeout(20, 3);
    expect(r.pending).toBe(3);
    expect(r.submit()).toBe(3);
    expect(r.pending).toBe(0);
    const got = collect(r, 3);
    expect(byUser(got, 1)).toEqual([{ user: 1, res: 0, flags: 0, op: s.URING_OP_NOP }]);
    expect(byUser(got, 2)[0].res).toBe(0);
    expect(byUser(got, 3)[0]).toEqual({ user: 3, res: -errno.ETIME, flags: 0, op: s.URING_OP_TIMEOUT });
    expect(r.inflight).toBe(0);
  });

  it('submitAndWait(min, timeout) returns 0 when nothing completes in time; 0 ms does not wait', () => {
    const r = newRing(4);
    const [a] = trackedPair();
    r.recv(a, Buffer.alloc(8), 1);
    expect(r.submitAndWait(1, 0)).toBe(0);
    expect(r.submitAndWait(1, 30)).toBe(0); // "would block" is never a completion: the recv just waits
    expect(r.inflight).toBe(1);
  });

  it('a full submission queue is submitted to make room', () => {
    const r = newRing(2);
    for (let i = 0; i < 7; i++) r.nop(i);
    expect(collect(r, 7).map((c) => c.user).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('recv into a buffer window; send; the end of the stream is res 0', () => {
    const r = newRing(8);
    const [a, b] = trackedPair();
    const buf = Buffer.alloc(16, 0x2e);
    r.recv(a, buf, 7, { offset: 2, length: 10 });
    r.submit();
    r.send(b, 'hello', 8);
    const got = collect(r, 2);
    expect(byUser(got, 8)[0]).toEqual({ user: 8, res: 5, flags: 0, op: s.URING_OP_SEND });
    expect(byUser(got, 7)[0]).toMatchObject({ res: 5, op: s.URING_OP_RECV });
    expect(buf.toString('latin1')).toBe('..hello.........');
    s.shutdown(b, s.SHUT_WR);
    r.recv(a, buf, 9);
    expect(collect(r, 1)[0]).toMatchObject({ user: 9, res: 0 });
  });

  it('MSG_TRUNC on a datagram: the window gets what fits and nothing past it; res is the real length', () => {
    // The addon copied res bytes: past the window into the caller's buffer, and past its own 64-byte slot
    // memory (a heap over-read) for a datagram longer than that.
    const r = newRing(4);
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    const buf = Buffer.alloc(256, 0x2e);
    r.recv(a, buf, 1, { offset: 2, length: 4, flags: s.MSG_TRUNC });
    r.submit();
    s.send(b, 'abcd' + 'x'.repeat(196));
    expect(collect(r, 1)[0]).toMatchObject({ user: 1, res: 200, op: s.URING_OP_RECV });
    expect(buf.toString('latin1')).toBe('..abcd' + '.'.repeat(250));
  });

  it('MSG_TRUNC on a stream (bytes discarded, none written): the window gets zeros, never an earlier recv\'s bytes', () => {
    const r = newRing(4);
    const [c, p] = trackedTcpPair();
    const first = Buffer.alloc(32);
    r.recv(p, first, 1);
    r.submit();
    s.sendAll(c, 'alice:TOP-SECRET');
    expect(collect(r, 1)[0].res).toBe(16);
    // The next recv takes the same slot, whose memory still holds those bytes.
    const buf = Buffer.alloc(32, 0x2e);
    r.recv(p, buf, 2, { flags: s.MSG_TRUNC });
    r.submit();
    s.sendAll(c, 'y'.repeat(20));
    const [done] = collect(r, 1);
    expect(done.res).toBeGreaterThan(0); // the bytes discarded
    expect(done.res).toBeLessThanOrEqual(20);
    expect(buf.toString('latin1')).toBe('\0'.repeat(done.res) + '.'.repeat(32 - done.res));
  });

  it('send copies its bytes when queued: changing the buffer afterwards changes nothing sent', () => {
    const r = newRing(4);
    const [a, b] = trackedPair();
    const data = Buffer.from('abcd');
    r.send(b, data, 1);
    data.fill(0x7a);
    collect(r, 1);
    expect(s.recv(a, 10)!.toString()).toBe('abcd');
  });

  it('send to a closed peer completes with EPIPE (no SIGPIPE), as a Node-style error on demand', () => {
    const r = newRing(4);
    const [a, b] = trackedPair();
    closeFd(a);
    r.send(b, 'x', 1);
    const [c] = collect(r, 1);
    expect(c.res).toBe(-errno.EPIPE);
    const e = s.completionError(c.res, c.op);
    expect([e.code, e.syscall]).toEqual(['EPIPE', 'send']);
  });

  it('recv on a bad fd completes with EBADF, not a throw', () => {
    const r = newRing(4);
    const [a] = trackedPair();
    closeFd(a);
    r.recv(a, Buffer.alloc(4), 3);
    expect(collect(r, 1)[0]).toMatchObject({ user: 3, res: -errno.EBADF, op: s.URING_OP_RECV });
  });

  it('a recv into a SharedArrayBuffer, a resizable buffer that shrinks, a detached one: no harm', () => {
    const r = newRing(8);
    const [a, b] = trackedPair();
    const shared = new Uint8Array(new SharedArrayBuffer(8));
    r.recv(a, shared, 1);
    r.submit();
    s.send(b, 'sab');
    expect(collect(r, 1)[0].res).toBe(3);
    expect(Buffer.from(shared.subarray(0, 3)).toString()).toBe('sab');

    // ES2024 resizable buffers: Node 20 has them, this project's TypeScript lib (ES2022) not.
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const resizable = new Resizable(64, { maxByteLength: 64 });
    r.recv(a, new Uint8Array(resizable), 2, { offset: 32, length: 16 });
    r.submit();
    resizable.resize(8); // the window [32, 48) is gone before the bytes arrive
    s.send(b, 'gone');
    expect(collect(r, 1)[0]).toMatchObject({ user: 2, res: -errno.EFAULT });

    const detached = new ArrayBuffer(16);
    r.recv(a, detached, 3);
    r.submit();
    structuredClone(detached, { transfer: [detached] });
    expect(detached.byteLength).toBe(0);
    s.send(b, 'moved');
    expect(collect(r, 1)[0]).toMatchObject({ user: 3, res: -errno.EFAULT });
  });

  it('accept: single-shot, close-on-exec, res is the new fd', () => {
    const r = newRing(4);
    const l = tcpListener();
    track(l.fd);
    r.accept(l.fd, 5, { multishot: false });
    r.submit();
    const c = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    s.connect(c, { address: '127.0.0.1', port: l.port });
    const [cqe] = collect(r, 1);
    expect(cqe).toMatchObject({ user: 5, op: s.URING_OP_ACCEPT });
    expect(cqe.flags & s.IORING_CQE_F_MORE).toBe(0);
    const fd = track(cqe.res);
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(s.getBlocking(fd)).toBe(true);
    expect(s.getpeername(fd)).toEqual(s.getsockname(c));
    expect(r.acceptedAddress(0)).toBeNull(); // not asked for
  });

  it('accept with { address: true }: the peer address, even of a client that reset before we looked', () => {
    const r = newRing(4);
    const l = tcpListener();
    track(l.fd);
    const c = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    s.connect(c, { address: '127.0.0.1', port: l.port });
    const mine = s.getsockname(c);
    s.setsockopt(c, s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
    closeFd(c); // RST, while the connection waits in the backlog
    r.nop(6);
    r.accept(l.fd, 5, { address: true });
    const n = r.submitAndWait(2, 10000); // the accept finds its connection at once: both in this one wait
    expect(n).toBe(2);
    const got = cqes(r, n);
    const i = got.findIndex((x) => x.user === 5);
    const fd = track(got[i].res);
    expect(r.acceptedAddress(i)).toEqual(mine);
    expect(r.acceptedAddress(1 - i)).toBeNull(); // the nop
    expectSysError(() => s.getpeername(fd), 'ENOTCONN', 'getpeername');
    expectTypeError(() => r.accept(l.fd, 1, { multishot: true, address: true }), 'ERR_INVALID_ARG_VALUE');
    expectRangeError(() => r.acceptedAddress(r.cqEntries));
  });

  it.runIf(support.multishot)('accept multishot: one request, a completion per connection with F_MORE; non-blocking on request', () => {
    const r = newRing(4);
    const l = tcpListener();
    track(l.fd);
    r.accept(l.fd, 6, { nonblocking: true });
    r.submit();
    const clients = [0, 1, 2].map(() => {
      const c = track(s.socket(s.AF_INET, s.SOCK_STREAM));
      s.connect(c, { address: '127.0.0.1', port: l.port });
      return c;
    });
    const got = collect(r, 3);
    for (const c of got) {
      expect(c).toMatchObject({ user: 6, op: s.URING_OP_ACCEPT });
      expect(c.flags & s.IORING_CQE_F_MORE).toBe(s.IORING_CQE_F_MORE);
      track(c.res);
      expect(fdFlags(c.res) & O_CLOEXEC).toBe(O_CLOEXEC);
      expect(s.getBlocking(c.res)).toBe(false);
    }
    expect(clients.length).toBe(3);
    expect(r.inflight).toBe(1); // still accepting
    r.cancel(6, 7);
    const end = collect(r, 2);
    expect(byUser(end, 6)[0].res).toBe(-errno.ECANCELED);
    expect(byUser(end, 6)[0].flags & s.IORING_CQE_F_MORE).toBe(0);
    expect(byUser(end, 7)[0]).toMatchObject({ res: 0, op: s.URING_OP_CANCEL });
    expect(r.inflight).toBe(0);
  });

  it.runIf(support.multishot)('recv multishot from a provided-buffer ring: ENOBUFS when it runs out, then recovery', () => {
    const r = newRing(8);
    const [a, b] = trackedPair();
    const br = r.bufferRing(3, 2, 8);
    expect([br.group, br.count, br.size, br.memory.length]).toEqual([3, 2, 8, 16]);
    r.recvMultishot(a, br, 40);
    r.submit();
    const seen: Array<[number, string]> = [];
    for (const msg of ['one', 'two']) {
      s.send(b, msg);
      const [c] = collect(r, 1);
      expect(c).toMatchObject({ user: 40, res: msg.length, op: s.URING_OP_RECV_MULTISHOT });
      expect(c.flags & s.IORING_CQE_F_MORE).toBe(s.IORING_CQE_F_MORE);
      const bid = s.BufferRing.bufferId(c.flags);
      expect(bid).toBeGreaterThanOrEqual(0);
      seen.push([bid, Buffer.from(br.view(bid, c.res)).toString()]);
    }
    expect(seen.map((x) => x[1])).toEqual(['one', 'two']);
    expect(new Set(seen.map((x) => x[0])).size).toBe(2);
    // Both buffers are out: the next message finds none, and the multishot recv ends.
    s.send(b, 'three');
    const [none] = collect(r, 1);
    expect(none).toMatchObject({ user: 40, res: -errno.ENOBUFS });
    expect(none.flags & s.IORING_CQE_F_MORE).toBe(0);
    expect(s.completionError(none.res, none.op).code).toBe('ENOBUFS');
    // Recycle, queue it again: the waiting bytes arrive.
    for (const [bid] of seen) br.recycle(bid);
    r.recvMultishot(a, br, 41);
    const [again] = collect(r, 1);
    expect(again).toMatchObject({ user: 41, res: 5 });
    expect(Buffer.from(br.view(s.BufferRing.bufferId(again.flags), 5)).toString()).toBe('three');
    // The end of the stream ends it.
    br.recycle(s.BufferRing.bufferId(again.flags));
    s.shutdown(b, s.SHUT_WR);
    const [eof] = collect(r, 1);
    expect(eof).toMatchObject({ user: 41, res: 0 });
    expect(eof.flags & s.IORING_CQE_F_MORE).toBe(0);
    expect(r.inflight).toBe(0);
  });

  it('bufferRing checks: a power of 2, one ring per group, recycle in range', () => {
    const r = newRing(4);
    expectRangeError(() => r.bufferRing(0, 3, 16));
    const br = r.bufferRing(1, 4, 16);
    expectSysError(() => r.bufferRing(1, 4, 16), 'EEXIST', 'io_uring_register');
    expectRangeError(() => br.recycle(4));
    expectRangeError(() => br.view(0, 17));
    const other = newRing(4).bufferRing(1, 2, 8);
    expectTypeError(() => r.recvMultishot(0, other, 1)); // another ring's buffers
    // The group's buffers are shared: a MSG_TRUNC completion on a stream would count bytes never written there.
    const [a] = trackedPair();
    expectCode(() => r.recvMultishot(a, br, 1, s.MSG_TRUNC), TypeError, 'ERR_INVALID_ARG_VALUE');
    expect(r.inflight).toBe(0);
    r.close();
    expectCode(() => br.recycle(0), Error, 'ERR_URING_CLOSED');
    expect(br.view(0, 4).length).toBe(4); // its memory outlives the ring
  });

  it('cancel by userData: the operation ends with ECANCELED; nothing to cancel is ENOENT', () => {
    const r = newRing(8);
    const [a] = trackedPair();
    r.recv(a, Buffer.alloc(4), 10);
    r.submit();
    r.cancel(10, 11);
    r.cancel(999, 12);
    const got = collect(r, 3);
    expect(byUser(got, 10)[0].res).toBe(-errno.ECANCELED);
    expect(byUser(got, 11)[0].res).toBe(0);
    expect(byUser(got, 12)[0].res).toBe(-errno.ENOENT);
    expect(r.inflight).toBe(0);
  });

  it('cancel by fd: every operation on it; res is how many (0: none)', () => {
    const r = newRing(8);
    const [a, b] = trackedPair();
    r.recv(a, Buffer.alloc(4), 1);
    r.recv(a, Buffer.alloc(4), 2);
    r.recv(b, Buffer.alloc(4), 3);
    r.submit();
    r.cancelFd(a, 4);
    const got = collect(r, 3);
    expect(byUser(got, 4)[0]).toMatchObject({ res: 2, op: s.URING_OP_CANCEL });
    expect(byUser(got, 1)[0].res).toBe(-errno.ECANCELED);
    expect(byUser(got, 2)[0].res).toBe(-errno.ECANCELED);
    expect(r.inflight).toBe(1); // b's recv goes on
    r.cancelFd(a, 5);
    expect(collect(r, 1)[0]).toMatchObject({ user: 5, res: 0 }); // none left

  });

  it('close through the ring closes the fd', () => {
    const r = newRing(4);
    const [a] = trackedPair();
    untrack(a);
    r.closeFd(a, 1);
    expect(collect(r, 1)[0]).toEqual({ user: 1, res: 0, flags: 0, op: s.URING_OP_CLOSE });
    expect(isOpen(a)).toBe(false);
    r.closeFd(a, 2);
    expect(collect(r, 1)[0].res).toBe(-errno.EBADF);
  });

  it('close through the ring stops a watch() of the fd first, as close() does (libuv must not poll a closed fd)', async () => {
    const r = newRing(4);
    const [a, b] = trackedPair();
    const w = s.watch(a, s.WATCH_READ, () => {});
    untrack(a);
    r.closeFd(a, 1);
    expect(w.stopped).toBe(true);
    expect(collect(r, 1)[0].res).toBe(0);
    // The loop turns on without libuv meeting the closed fd; a new fd with the same number can be watched.
    await new Promise((res) => setImmediate(res));
    const [c] = trackedPair();
    const w2 = s.watch(c, s.WATCH_WRITE, () => {});
    await new Promise((res) => setImmediate(res));
    w2.stop();
    expect(isOpen(b)).toBe(true);
  });
});

ring('IoUring on the event loop', () => {
  it('calls back with every completion ready, once per wake-up, and submits what the callback queues', async () => {
    const r = newRing(8);
    const [a, b] = trackedPair();
    const buf = Buffer.alloc(8);
    const seen: Cqe[] = [];
    const done = new Promise<void>((resolve) => {
      r.watch(function (count) {
        expect(this).toBe(r);
        const got = cqes(r, count);
        seen.push(...got);
        for (const c of got) {
          if (c.user === 1) r.recv(a, buf, 2); // queued from the callback: submitted when it returns
          if (c.user === 2) resolve();
        }
      });
    });
    r.recv(a, buf, 1);
    r.submit();
    s.send(b, 'first');
    await new Promise((res) => setTimeout(res, 20));
    s.send(b, 'second');
    await done;
    expect(seen.map((c) => [c.user, c.res])).toEqual([[1, 5], [2, 6]]);
    expect(buf.subarray(0, 6).toString()).toBe('second');
    r.unwatch();
  });

  it('what the callback submits and completes at once (a nop) comes back in the same wake-up, before the loop turns', async () => {
    const r = newRing(8);
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      r.watch((count) => {
        for (const c of cqes(r, count)) {
          order.push(`cqe ${c.user}`);
          if (c.user < 3) {
            // Queued here, submitted when the callback returns; a nop completes in that very submit. It is
            // delivered by the same wake-up (a second round), not after a write to the eventfd and a loop turn:
            // the immediate set now runs after it.
            setImmediate(() => order.push(`immediate after ${c.user}`));
            r.nop(c.user + 1);
          } else {
            resolve();
          }
        }
      });
    });
    r.nop(1);
    r.submit();
    await done;
    await new Promise((res) => setImmediate(res));
    expect(order).toEqual(['cqe 1', 'cqe 2', 'cqe 3', 'immediate after 1', 'immediate after 2']);
    r.unwatch();
  });

  it('a callback that keeps queueing at once yields to the event loop after a few rounds', async () => {
    const r = newRing(8);
    let rounds = 0;
    let immediate = false;
    let roundsBeforeImmediate = -1;
    setImmediate(() => {
      immediate = true;
    });
    await new Promise<void>((resolve) => {
      r.watch((count) => {
        cqes(r, count);
        rounds++;
        if (immediate && roundsBeforeImmediate < 0) roundsBeforeImmediate = rounds - 1;
        if (rounds < 20) r.nop(rounds);
        else resolve();
      });
      r.nop(0);
      r.submit();
    });
    r.unwatch();
    expect(roundsBeforeImmediate).toBeGreaterThan(0);
    expect(roundsBeforeImmediate).toBeLessThanOrEqual(4); // at most four rounds per wake-up, then the loop turns
  });

  it('a completion that came before watch() is delivered; unwatch() stops; a ring closed in its callback is fine', async () => {
    const r = newRing(4);
    r.nop(1);
    r.submit();
    const first = await new Promise<number>((resolve) => r.watch((n) => resolve(cqes(r, n)[0].user)));
    expect(first).toBe(1);
    r.unwatch();
    r.unwatch(); // idempotent
    r.nop(2);
    r.submit();
    const got = await new Promise<Cqe[]>((resolve) => r.watch((n) => {
      const list = cqes(r, n);
      r.close();
      resolve(list);
    }));
    expect(got[0].user).toBe(2);
    expect(r.closed).toBe(true);
  });

  it('watch twice is EBUSY; unref lets the process go', () => {
    const r = newRing(4);
    r.watch(() => {});
    expectSysError(() => r.watch(() => {}), 'EBUSY', 'start');
    r.unref();
    r.ref();
    r.close();
  });
});

ring("closeFd of a watched fd: the watcher's owner is told once the close is queued", () => {
  // A batched watcher (the async methods' kind) is told from inside closeFd that the close stopped it; what its
  // owner does then (anything: a promise hook may run) must find the ring whole, the close queued.
  it('the owner may queue on the same ring from there: both operations complete', () => {
    const r = newRing();
    const [x, y] = trackedPair();
    let told = 0;
    batchedWatcher(x, s.WATCH_READ, (value) => {
      told++;
      expect(value).toBe(0); // stopped by the close
      r.nop(99);
    });
    r.closeFd(x, 7);
    untrack(x);
    expect(told).toBe(1);
    const got = collect(r, 2);
    expect(byUser(got, 7)).toEqual([{ user: 7, res: 0, flags: 0, op: s.URING_OP_CLOSE }]);
    expect(byUser(got, 99)).toEqual([{ user: 99, res: 0, flags: 0, op: s.URING_OP_NOP }]);
    expect(isOpen(x)).toBe(false);
    closeFd(y);
  });

  it('the owner may close the ring from there: no crash, and the ring is closed', () => {
    const r = newRing();
    const [x, y] = trackedPair();
    batchedWatcher(x, s.WATCH_READ, () => r.close());
    r.closeFd(x, 7);
    expectCode(() => r.nop(1), Error, 'ERR_URING_CLOSED');
    if (isOpen(x)) closeFd(x); // the close was queued; whether the ring's end submitted it is the ring's business
    else untrack(x);
    closeFd(y);
  });
});

ring('closing a ring with operations in flight', () => {
  it('cancels them, closes accepted fds nobody took, and leaks no fd', () => {
    const before = openFds();
    const r = new s.IoUring(8);
    const l = tcpListener();
    const [a, b] = s.socketpair();
    r.accept(l.fd, 1, { multishot: support.multishot });
    r.recv(a, Buffer.alloc(8), 2);
    r.timeout(60000, 3);
    r.submit();
    const c = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.connect(c, { address: '127.0.0.1', port: l.port });
    s.poll([], 20); // the accept may complete meanwhile: its fd is then closed with the ring
    r.nop(4); // queued, never submitted by us
    expect(r.inflight).toBe(4);
    expect(r.close()).toBe(true);
    for (const fd of [l.fd, a, b, c]) s.close(fd);
    expect(openFds()).toEqual(before);
  });

  it('an accepted connection whose completion was never drained is closed with the ring', () => {
    const before = openFds();
    const r = new s.IoUring(8, { setupFlags: s.IORING_SETUP_COOP_TASKRUN }); // completions posted without our help
    const l = tcpListener();
    r.accept(l.fd, 1, { multishot: false });
    r.submit();
    const c = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.connect(c, { address: '127.0.0.1', port: l.port });
    // The accepted fd appears in this process once the kernel completes the accept.
    const deadline = Date.now() + 10000;
    while (openFds().length < before.length + 4 && Date.now() < deadline) s.poll([], 5);
    expect(openFds().length).toBe(before.length + 4); // ring, listener, client, accepted
    expect(r.close()).toBe(true);
    s.close(l.fd);
    s.close(c);
    expect(openFds()).toEqual(before);
  });

  it('a garbage-collected ring is closed', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    let fd = -1;
    (() => {
      const r = new s.IoUring(4);
      fd = r.fd;
      r.nop(1);
    })();
    for (let i = 0; i < 10 && isOpen(fd); i++) {
      gc();
      await new Promise((res) => setImmediate(res));
    }
    expect(isOpen(fd)).toBe(false);
  });
});

ring('IoUring and memory', () => {
  // RSS after a full GC: what JavaScript garbage adds is gone. Under AddressSanitizer freed memory sits in its
  // quarantine and RSS says nothing of leaks: there only the fds and the sanitizer's own checks count.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const rssKiB = (): number => {
    gc();
    gc();
    return Math.round(process.memoryUsage().rss / 1024);
  };
  // RSS once collected garbage is freed as well: an external ArrayBuffer's memory (a buffer ring's) goes back when
  // Node runs its finalizer, on a later turn of the event loop, not within gc(). Measured right after gc(), RSS
  // still held rings already collected, by chance: -34 MiB to +44 MiB from one run of this file to the next.
  const turns = async (): Promise<void> => {
    // A watched ring's eventfd is closed by libuv's close callback, on the next loop turn.
    await new Promise((res) => setImmediate(res));
    await new Promise((res) => setImmediate(res));
  };
  const settledRssKiB = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await turns();
    }
    return Math.round(process.memoryUsage().rss / 1024);
  };
  const checkRss = UNDER_ASAN
    ? (grown: number, limit: number): void => console.log(`test/uring.test.ts: RSS not checked under ASan (+${grown} KiB, limit ${limit})`)
    : (grown: number, limit: number): void => expect(grown).toBeLessThan(limit);

  it('steady traffic allocates nothing that stays: slots and their buffers are reused', () => {
    const r = newRing(64);
    const [a, b] = trackedPair();
    const buf = Buffer.alloc(64);
    const round = (): void => {
      for (let i = 0; i < 32; i++) {
        r.send(b, 'ping', 2 * i);
        r.recv(a, buf, 2 * i + 1, { length: 4 });
      }
      let got = 0;
      while (got < 64) {
        const n = r.submitAndWait(1, 10000);
        if (n === 0) throw new Error('no completion in 10 s');
        got += n;
      }
    };
    for (let i = 0; i < 2000; i++) round(); // warm-up: the slots grow to their peak, the heaps to their size
    const before = rssKiB();
    for (let i = 0; i < 2000; i++) round(); // 128000 operations
    const grown = rssKiB() - before;
    console.log(`test/uring.test.ts: 128000 operations on one ring: RSS ${before} KiB -> +${grown} KiB`);
    checkRss(grown, 4 * 1024);
    expect(r.inflight).toBe(0);
  });

  it('rings made and closed, with operations in flight and buffer rings, leak neither fds nor memory', async () => {
    await turns();
    const fds = openFds().length;
    const cycle = (): void => {
      const r = new s.IoUring(16);
      const [a, b] = s.socketpair();
      const big = r.bufferRing(0, 64, 4096); // 256 KiB: a ring that kept it would show at once
      big.memory.fill(1, 0, 64 * 4096); // touched, so that it is resident
      r.recv(a, Buffer.alloc(16), 1);
      if (support.multishot) r.recvMultishot(b, r.bufferRing(1, 4, 64), 2);
      r.timeout(60000, 3);
      r.submit();
      r.watch(() => {});
      expect(r.close()).toBe(true);
      s.close(a);
      s.close(b);
    };
    for (let i = 0; i < 300; i++) cycle(); // warm-up: the heaps grow to their size
    const before = await settledRssKiB();
    for (let i = 0; i < 300; i++) cycle(); // 75 MiB of buffer rings made and freed
    const grown = (await settledRssKiB()) - before;
    console.log(`test/uring.test.ts: 300 rings made and closed: RSS ${before} KiB -> +${grown} KiB`);
    checkRss(grown, 16 * 1024);
    await turns();
    expect(openFds().length).toBe(fds);
  });
});

ring('IoUring in worker_threads', () => {
  const pkg = path.resolve(root);
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.terminate();
  });
  function worker(code: string): Worker {
    const w = new Worker(`const s = require(${JSON.stringify(pkg)});\nconst { parentPort } = require('node:worker_threads');\n${code}`, { eval: true });
    workers.push(w);
    return w;
  }
  const message = <T>(w: Worker): Promise<T> => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

  it('several workers each run their own ring at once, on their event loops', async () => {
    const ws = [0, 1, 2].map((i) => worker(`
      const r = new s.IoUring(8);
      const [a, b] = s.socketpair();
      const buf = Buffer.alloc(16);
      r.watch((n) => {
        const res = r.completions[1];
        r.close(); s.close(a); s.close(b);
        parentPort.postMessage(buf.subarray(0, res).toString());
      });
      r.recv(a, buf, 1);
      r.submit();
      setTimeout(() => s.send(b, 'worker ${i}'), 10);
    `));
    expect(await Promise.all(ws.map((w) => message<string>(w)))).toEqual(['worker 0', 'worker 1', 'worker 2']);
  });

  it('a worker terminated while submitAndWait waits forever exits promptly, and one watching too', async () => {
    const w = worker(`
      const r = new s.IoUring(4);
      const [a, b] = s.socketpair();
      r.recv(a, Buffer.alloc(4), 1);
      parentPort.postMessage([a, b]);
      r.submitAndWait(1); // forever
    `);
    const fds = await message<number[]>(w);
    for (const fd of fds) track(fd);
    await new Promise((res) => setTimeout(res, 100));
    expect(await w.terminate()).toBe(1);
    const w2 = worker(`
      const r = new s.IoUring(4);
      const [a, b] = s.socketpair();
      r.watch(() => {});
      r.recv(a, Buffer.alloc(4), 1);
      r.submit();
      parentPort.postMessage([a, b]);
    `);
    for (const fd of await message<number[]>(w2)) track(fd);
    expect(await w2.terminate()).toBe(1);
  });
});
