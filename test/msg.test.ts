/**
 * sendmsg / recvmsg / recvmsgInto, fd passing (sendFds / recvFds) and credentials, after CPython's test_socket:
 * its SCM_RIGHTS cases (one fd, several, with no data, several messages, CMSG_SPACE-sized and too small control
 * buffers: the testCmsgTrunc* family, an fd closed by the receiver), SCM_CREDENTIALS with SO_PASSCRED,
 * SO_PEERCRED, scatter/gather, UDP sendmsg with an address. Real sockets: socketpairs, Unix paths, loopback.
 *
 * A received fd is proved to be the file sent by using it: data written to the peer of the socket that was
 * passed comes out of the received fd.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { native } from '../lib/binding';
import { expectRangeError, expectSysError, expectTypeError } from './helpers/expect';
import { checkFdLeaks, fdFlags, isOpen, O_CLOEXEC, openFds, waitFd } from './helpers/fds';
import { ipv6, tmpSocketPath } from './helpers/net';
import { closeFd, track, trackedPair, trackedTcpPair, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

const INT = 4;
const readable = (fd: number) => waitFd(fd, s.POLLIN);

/** Proves that `received` is the same open file as the socket `sent`, whose peer is `peer`: bytes go through. */
function expectSameSocket(received: number, peer: number, tag: string): void {
  expect(received).toBeGreaterThanOrEqual(0);
  expect(fdFlags(received) & O_CLOEXEC, `fd ${received} close-on-exec`).toBe(O_CLOEXEC);
  expect(s.send(received, tag)).toBe(tag.length);
  readable(peer);
  expect(s.recv(peer, 100)!.toString()).toBe(tag);
}

/** n socketpairs to pass: the fd to send of each, and the peer that stays here. All tracked. */
function passable(n: number): Array<{ fd: number; peer: number }> {
  return Array.from({ length: n }, () => {
    const [fd, peer] = trackedPair();
    return { fd, peer };
  });
}

/** The fds of the SCM_RIGHTS items of received ancdata, tracked. */
function fdsOf(ancdata: s.AncData[]): number[] {
  const out: number[] = [];
  for (const a of ancdata) {
    expect(a.level).toBe(s.SOL_SOCKET);
    if (a.type !== s.SCM_RIGHTS) continue;
    expect(a.data.length % INT).toBe(0);
    for (let at = 0; at < a.data.length; at += INT) out.push(track(a.data.readInt32LE(at)));
  }
  return out;
}

describe('constants and CMSG_LEN / CMSG_SPACE', () => {
  it('has the Linux values', () => {
    expect(s.SCM_RIGHTS).toBe(1);
    expect(s.SCM_CREDENTIALS).toBe(2);
    expect(s.SO_PASSCRED).toBe(16);
    expect(s.SO_PEERCRED).toBe(17);
    expect(s.MSG_CMSG_CLOEXEC).toBe(0x40000000);
    expect([s.NI_NUMERICHOST, s.NI_NUMERICSERV, s.NI_NOFQDN, s.NI_NAMEREQD, s.NI_DGRAM]).toEqual([1, 2, 4, 8, 16]);
    expect(s.constants.SCM_RIGHTS).toBe(1);
  });

  it('CMSG_LEN and CMSG_SPACE as the C macros compute them on a 64-bit Linux', () => {
    // cmsghdr is 16 bytes; data is aligned to 8.
    expect(s.CMSG_LEN(0)).toBe(16);
    expect(s.CMSG_LEN(4)).toBe(20);
    expect(s.CMSG_SPACE(0)).toBe(16);
    expect(s.CMSG_SPACE(4)).toBe(24);
    expect(s.CMSG_SPACE(9)).toBe(32);
    for (let n = 0; n < 100; n++) {
      expect(s.CMSG_SPACE(n)).toBeGreaterThanOrEqual(s.CMSG_LEN(n));
      expect(s.CMSG_LEN(n)).toBe(16 + n);
    }
  });

  it('refuses lengths out of range', () => {
    expectRangeError(() => s.CMSG_LEN(-1));
    expectRangeError(() => s.CMSG_SPACE(1.5));
    expectRangeError(() => s.CMSG_LEN(2 ** 31));
    expectTypeError(() => s.CMSG_SPACE('4' as unknown as number));
  });
});

describe('SCM_RIGHTS', () => {
  it('passes one fd (sendFds / recvFds), close-on-exec at the receiver', () => {
    const [a, b] = trackedPair();
    const [p] = passable(1);
    expect(s.sendFds(a, ['x'], [p.fd])).toBe(1);
    readable(b);
    const r = s.recvFds(b, 10, 1)!;
    expect(r.data.toString()).toBe('x');
    expect(r.flags & s.MSG_CTRUNC).toBe(0);
    expect(r.fds).toHaveLength(1);
    const [got] = r.fds.map(track);
    expect(got).not.toBe(p.fd);
    expectSameSocket(got, p.peer, 'through the passed fd');
    expect(r.address).toBeNull();
  });

  it('passes several fds in one message, received with recvmsg and a CMSG_SPACE-sized buffer', () => {
    const [a, b] = trackedPair();
    const ps = passable(3);
    const data = new Int32Array(ps.map((p) => p.fd));
    expect(s.sendmsg(a, [Buffer.from('fds')], [{ level: s.SOL_SOCKET, type: s.SCM_RIGHTS, data }])).toBe(3);
    readable(b);
    const r = s.recvmsg(b, 10, s.CMSG_SPACE(3 * INT))!;
    expect(r.data.toString()).toBe('fds');
    expect(r.flags & s.MSG_CTRUNC).toBe(0);
    expect(r.ancdata).toHaveLength(1);
    expect(r.ancdata[0].type).toBe(s.SCM_RIGHTS);
    const got = fdsOf(r.ancdata);
    expect(got).toHaveLength(3);
    got.forEach((fd, i) => expectSameSocket(fd, ps[i].peer, `fd ${i}`));
  });

  it('sendFds accepts Socket objects where fds are expected', () => {
    const [a, b] = trackedPair();
    const [x, y] = s.socketpair();
    const sock = new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, x);
    try {
      expect(s.sendFds(a, ['s'], [sock])).toBe(1);
      const r = s.recvFds(b, 1, 1)!;
      expectSameSocket(track(r.fds[0]), y, 'from a Socket');
    } finally {
      sock.close();
      s.close(y);
    }
  });

  it('passes fds with no data (a datagram socketpair: an empty datagram carries them)', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    const [p] = passable(1);
    expect(s.sendFds(a, [], [p.fd])).toBe(0);
    readable(b);
    const r = s.recvFds(b, 10, 1)!;
    expect(r.data.length).toBe(0);
    expect(r.fds).toHaveLength(1);
    expectSameSocket(track(r.fds[0]), p.peer, 'empty message');
  });

  it('passes fds in several messages, each with its own (SOCK_SEQPACKET keeps them apart)', () => {
    const [a, b] = trackedPair(s.SOCK_SEQPACKET);
    const ps = passable(3);
    ps.forEach((p, i) => expect(s.sendFds(a, [`m${i}`], [p.fd])).toBe(2));
    for (let i = 0; i < 3; i++) {
      readable(b);
      const r = s.recvFds(b, 10, 2)!;
      expect(r.data.toString()).toBe(`m${i}`);
      expect(r.fds).toHaveLength(1);
      expectSameSocket(track(r.fds[0]), ps[i].peer, `message ${i}`);
    }
  });

  it('sends no ancillary item for an empty fd list, and recvFds returns no fds', () => {
    const [a, b] = trackedPair();
    expect(s.sendFds(a, ['z'], [])).toBe(1);
    const r = s.recvmsg(b, 10, s.CMSG_SPACE(INT))!;
    expect(r).toEqual({ data: Buffer.from('z'), ancdata: [], flags: 0, address: null });
  });

  it('an fd closed by the receiver leaves the sender\'s open; one closed by the sender in flight still arrives', () => {
    const [a, b] = trackedPair();
    const [p, q] = passable(2);
    s.sendFds(a, ['1'], [p.fd]);
    const r1 = s.recvFds(b, 1, 1)!;
    s.close(r1.fds[0]); // closed by the receiver
    expect(isOpen(p.fd)).toBe(true);
    expectSameSocket(p.fd, p.peer, 'still the sender\'s');
    s.sendFds(a, ['2'], [q.fd]);
    closeFd(q.fd); // the sender lets go before the receiver has it: the message holds the file
    const r2 = s.recvFds(b, 1, 1)!;
    expectSameSocket(track(r2.fds[0]), q.peer, 'in flight');
  });

  // CPython's testCmsgTrunc*: four fds sent, a control buffer too small for them. The kernel installs the fds
  // that fit, says MSG_CTRUNC, and closes the rest: the ones returned are the caller's, none leaks.
  describe.each([
    { name: '0 (testCmsgTrunc0)', size: () => 0, fit: 0 },
    { name: '1 (testCmsgTrunc1)', size: () => 1, fit: 0 },
    { name: '2 ints (testCmsgTrunc2Int)', size: () => 2 * INT, fit: 0 },
    { name: 'CMSG_LEN(0) - 1 (testCmsgTruncLen0Minus1)', size: () => s.CMSG_LEN(0) - 1, fit: 0 },
    { name: 'CMSG_LEN(0) (testCmsgTruncLen0)', size: () => s.CMSG_LEN(0), fit: 0 },
    { name: 'CMSG_LEN(0) + 1 (testCmsgTruncLen0Plus1)', size: () => s.CMSG_LEN(0) + 1, fit: 0 },
    { name: 'CMSG_LEN(1 int) (testCmsgTruncLen1)', size: () => s.CMSG_LEN(INT), fit: 1 },
    { name: 'CMSG_LEN(2 ints) - 1 (testCmsgTruncLen2Minus1)', size: () => s.CMSG_LEN(2 * INT) - 1, fit: 1 },
    { name: 'CMSG_LEN(3 ints)', size: () => s.CMSG_LEN(3 * INT), fit: 3 },
  ])('control buffer of $name bytes', ({ size, fit }) => {
    it('returns the fds that fit, flags MSG_CTRUNC, and leaks none', () => {
      const [a, b] = trackedPair();
      const ps = passable(4);
      const before = openFds().length;
      s.sendmsg(a, ['t'], [{ level: s.SOL_SOCKET, type: s.SCM_RIGHTS, data: new Int32Array(ps.map((p) => p.fd)) }]);
      readable(b);
      const r = s.recvmsg(b, 10, size())!;
      expect(r.data.toString()).toBe('t');
      expect(r.flags & s.MSG_CTRUNC).toBe(s.MSG_CTRUNC);
      const got = fdsOf(r.ancdata);
      expect(got).toHaveLength(fit);
      got.forEach((fd, i) => expectSameSocket(fd, ps[i].peer, `fd ${i} of ${fit}`));
      expect(openFds().length).toBe(before + fit);
    });
  });

  it('recvFds with maxfds smaller than sent: the first maxfds, MSG_CTRUNC, the rest closed by the kernel', () => {
    const [a, b] = trackedPair();
    const ps = passable(3);
    const before = openFds().length;
    s.sendFds(a, ['m'], ps.map((p) => p.fd));
    const r = s.recvFds(b, 10, 2)!;
    expect(r.flags & s.MSG_CTRUNC).toBe(s.MSG_CTRUNC);
    expect(r.fds).toHaveLength(2);
    r.fds.map(track).forEach((fd, i) => expectSameSocket(fd, ps[i].peer, `fd ${i}`));
    expect(openFds().length).toBe(before + 2);
  });

  it('recvmsgInto receives fds with the data in the caller\'s buffers', () => {
    const [a, b] = trackedPair();
    const [p] = passable(1);
    s.sendFds(a, ['hello'], [p.fd]);
    const b1 = Buffer.alloc(2);
    const b2 = Buffer.alloc(10, 0xee);
    const r = s.recvmsgInto(b, [b1, b2], s.CMSG_SPACE(INT))!;
    expect(r.bytes).toBe(5);
    expect(b1.toString()).toBe('he');
    expect(b2.subarray(0, 3).toString()).toBe('llo');
    expect(b2.subarray(3)).toEqual(Buffer.alloc(7, 0xee)); // not written past what arrived
    expectSameSocket(fdsOf(r.ancdata)[0], p.peer, 'into');
  });

  it('a closed fd in SCM_RIGHTS is EBADF from sendmsg, and nothing is sent', () => {
    const [a, b] = trackedPair();
    const [x, y] = s.socketpair();
    s.close(x);
    s.close(y);
    expectSysError(() => s.sendFds(a, ['x'], [x]), 'EBADF', 'sendmsg');
    s.setBlocking(b, false);
    expect(s.recv(b, 10)).toBeNull();
  });
});

describe('credentials', () => {
  const me = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };

  it('SO_PEERCRED of a socketpair is this process', () => {
    const [a] = trackedPair();
    expect(s.unpackCredentials(s.getsockopt(a, s.SOL_SOCKET, s.SO_PEERCRED, 12))).toEqual(me);
  });

  it('SO_PEERCRED of an accepted Unix connection is the connecting process (a child)', async () => {
    const path = tmpSocketPath('peercred');
    const l = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    s.bind(l, { path });
    s.listen(l);
    // The child connects, then waits for its stdin to close.
    const child = spawn(process.execPath, ['-e', `const c = require('net').connect(${JSON.stringify(path)}); process.stdin.on('end', () => c.destroy()); process.stdin.resume();`], { stdio: ['pipe', 'ignore', 'inherit'] });
    try {
      s.setBlocking(l, false);
      let acc: s.Accepted | null = null;
      const deadline = Date.now() + 20000;
      while (acc === null && Date.now() < deadline) {
        acc = s.accept(l);
        if (acc === null) await new Promise((r) => setTimeout(r, 10));
      }
      expect(acc).not.toBeNull();
      const fd = track(acc!.fd);
      const cred = s.unpackCredentials(s.getsockopt(fd, s.SOL_SOCKET, s.SO_PEERCRED, 12));
      expect(cred).toEqual({ pid: child.pid, uid: me.uid, gid: me.gid });
      expect(cred.pid).not.toBe(process.pid);
    } finally {
      child.stdin!.end();
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('SCM_CREDENTIALS arrives with SO_PASSCRED on: the sender\'s, given by the kernel or sent explicitly', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    s.setsockopt(b, s.SOL_SOCKET, s.SO_PASSCRED, 1);
    expect(s.getsockopt(b, s.SOL_SOCKET, s.SO_PASSCRED)).toBe(1);
    // Nothing sent: the kernel adds the sender's credentials.
    s.sendmsg(a, ['implicit']);
    let r = s.recvmsg(b, 100, s.CMSG_SPACE(12))!;
    expect(r.data.toString()).toBe('implicit');
    expect(r.flags & s.MSG_CTRUNC).toBe(0);
    expect(r.ancdata).toHaveLength(1);
    expect(r.ancdata[0]).toMatchObject({ level: s.SOL_SOCKET, type: s.SCM_CREDENTIALS });
    expect(s.unpackCredentials(r.ancdata[0].data)).toEqual(me);
    // Sent explicitly, packed.
    const packed = s.packCredentials(me);
    expect(packed.length).toBe(12);
    expect(s.sendmsg(a, ['explicit'], [{ level: s.SOL_SOCKET, type: s.SCM_CREDENTIALS, data: packed }])).toBe(8);
    r = s.recvmsg(b, 100, s.CMSG_SPACE(12))!;
    expect(r.data.toString()).toBe('explicit');
    expect(s.unpackCredentials(r.ancdata[0].data)).toEqual(me);
  });

  it('SCM_CREDENTIALS with a control buffer too small: MSG_CTRUNC and what fitted', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    s.setsockopt(b, s.SOL_SOCKET, s.SO_PASSCRED, 1);
    s.sendmsg(a, ['x']);
    const r = s.recvmsg(b, 10, s.CMSG_LEN(4))!;
    expect(r.flags & s.MSG_CTRUNC).toBe(s.MSG_CTRUNC);
    expect(r.ancdata).toHaveLength(1);
    expect(r.ancdata[0].data.length).toBe(4);
    expect(r.ancdata[0].data.readInt32LE(0)).toBe(process.pid);
  });

  it('without SO_PASSCRED no credentials arrive', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    s.sendmsg(a, ['x']);
    expect(s.recvmsg(b, 10, s.CMSG_SPACE(12))!.ancdata).toEqual([]);
  });

  it('packCredentials / unpackCredentials round-trip the whole ranges, and check their arguments', () => {
    for (const c of [{ pid: 0, uid: 0, gid: 0 }, { pid: -1, uid: 0xffffffff, gid: 0xfffffffe }, { pid: 0x7fffffff, uid: 1000, gid: 100 }]) {
      expect(s.unpackCredentials(s.packCredentials(c))).toEqual(c);
    }
    expect(s.unpackCredentials(new Uint8Array(s.packCredentials(me)).buffer)).toEqual(me);
    const sab = new Uint8Array(new SharedArrayBuffer(12));
    sab.set(s.packCredentials(me));
    expect(s.unpackCredentials(sab)).toEqual(me);
    expectTypeError(() => s.packCredentials(null as unknown as s.Credentials));
    expectTypeError(() => s.packCredentials({ pid: 1, uid: '0', gid: 0 } as unknown as s.Credentials));
    expectRangeError(() => s.packCredentials({ pid: 1, uid: -1, gid: 0 }));
    expectRangeError(() => s.packCredentials({ pid: 2 ** 31, uid: 0, gid: 0 }));
    expectTypeError(() => s.unpackCredentials('abc' as unknown as Buffer));
    expectTypeError(() => s.unpackCredentials(Buffer.alloc(11)), 'ERR_INVALID_ARG_VALUE');
    expectTypeError(() => s.unpackCredentials(Buffer.alloc(16)), 'ERR_INVALID_ARG_VALUE');
  });
});

describe('scatter / gather', () => {
  it('sendmsg gathers many buffers, zero-length ones included, into one stream write', () => {
    const [a, b] = trackedPair();
    const parts: Array<Buffer | string | Uint16Array | ArrayBuffer> = [];
    let expected = '';
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) parts.push(Buffer.alloc(0));
      const t = `<${i}>`;
      parts.push(i % 2 === 0 ? t : Buffer.from(t));
      expected += t;
    }
    parts.push(new Uint16Array([0x4241]), new ArrayBuffer(0), Uint8Array.from([0x21]).buffer);
    expected += 'AB!';
    expect(s.sendmsg(a, parts as Array<Buffer | string>)).toBe(expected.length);
    let got = '';
    while (got.length < expected.length) {
      readable(b);
      got += s.recv(b, 65536)!.toString();
    }
    expect(got).toBe(expected);
  });

  it('sendmsg of only zero-length buffers (or none) sends nothing on a stream, an empty datagram on a datagram socket', () => {
    const [a, b] = trackedPair();
    expect(s.sendmsg(a, [])).toBe(0);
    expect(s.sendmsg(a, [Buffer.alloc(0), ''])).toBe(0);
    s.setBlocking(b, false);
    expect(s.recv(b, 10)).toBeNull();
    const [c, d] = trackedPair(s.SOCK_DGRAM);
    expect(s.sendmsg(c, [Buffer.alloc(0), Buffer.alloc(0)])).toBe(0);
    readable(d);
    expect(s.recvmsg(d, 10)).toEqual({ data: Buffer.alloc(0), ancdata: [], flags: 0, address: null });
  });

  it('a datagram gathered from several buffers is one datagram; recvmsgInto scatters it over many, zero-length included', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    expect(s.sendmsg(a, ['abc', Buffer.alloc(0), 'defg', 'h'])).toBe(8);
    const bufs = [Buffer.alloc(0), Buffer.alloc(3, 0xff), Buffer.alloc(0), new Uint8Array(2).fill(0xff), Buffer.alloc(1, 0xff), Buffer.alloc(5, 0xff)];
    const r = s.recvmsgInto(b, bufs)!;
    expect(r).toEqual({ bytes: 8, ancdata: [], flags: 0, address: null });
    expect(Buffer.concat(bufs.map((x) => Buffer.from(x)))).toEqual(Buffer.concat([Buffer.from('abcdefgh'), Buffer.alloc(3, 0xff)]));
  });

  it('recvmsgInto writes into a SharedArrayBuffer-backed view and a DataView', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    s.sendmsg(a, ['shared!']);
    const shared = new Uint8Array(new SharedArrayBuffer(4));
    const dv = new DataView(new ArrayBuffer(8));
    const r = s.recvmsgInto(b, [shared, dv])!;
    expect(r.bytes).toBe(7);
    expect(Buffer.from(shared).toString()).toBe('shar');
    expect(Buffer.from(dv.buffer, 0, 3).toString()).toBe('ed!');
  });

  it('MSG_TRUNC: a datagram longer than the buffers is cut, and flags say so', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    s.sendmsg(a, ['0123456789']);
    const r = s.recvmsg(b, 4)!;
    expect(r.data.toString()).toBe('0123');
    expect(r.flags & s.MSG_TRUNC).toBe(s.MSG_TRUNC);
    s.sendmsg(a, ['0123456789']);
    const buf = Buffer.alloc(3);
    const r2 = s.recvmsgInto(b, [buf], 0, s.MSG_TRUNC)!;
    expect(r2.bytes).toBe(10); // the real length, as recvInto reports with MSG_TRUNC
    expect(r2.flags & s.MSG_TRUNC).toBe(s.MSG_TRUNC);
    expect(buf.toString()).toBe('012');
  });

  it('MSG_TRUNC on TCP discards the bytes unwritten: recvmsg returns zeros for them, never other memory', () => {
    const [c, d] = trackedTcpPair();
    s.sendAll(c, 'secret');
    readable(d);
    const r = s.recvmsg(d, 6, 0, s.MSG_TRUNC)!;
    expect(r.data).toEqual(Buffer.alloc(6)); // discarded by the kernel, not written
    s.sendAll(c, 'more');
    readable(d);
    expect(s.recvmsg(d, 10)!.data.toString()).toBe('more');
  });

  it('more buffers than IOV_MAX is the kernel\'s EMSGSIZE', () => {
    const [a] = trackedPair();
    expectSysError(() => s.sendmsg(a, Array.from({ length: 1025 }, () => Buffer.from('x'))), 'EMSGSIZE', 'sendmsg');
  });
});

describe('addresses', () => {
  const cases = [
    { name: 'IPv4', domain: s.AF_INET, host: '127.0.0.1', ok: true },
    { name: 'IPv6', domain: s.AF_INET6, host: '::1', ok: ipv6.ok },
  ];
  it.each(cases)('UDP sendmsg with an address over $name; recvmsg reports the sender', ({ domain, host, ok }) => {
    if (!ok) {
      console.warn(`skipped: ${ipv6.reason}`);
      return;
    }
    const a = track(s.socket(domain, s.SOCK_DGRAM));
    const b = track(s.socket(domain, s.SOCK_DGRAM));
    s.bind(a, { address: host, port: 0 });
    s.bind(b, { address: host, port: 0 });
    const to = { address: host, port: (s.getsockname(b) as s.InetAddress).port };
    expect(s.sendmsg(a, ['hello', ' ', 'world'], [], 0, to)).toBe(11);
    readable(b);
    const r = s.recvmsg(b, 100)!;
    expect(r.data.toString()).toBe('hello world');
    expect(r.address).toEqual(s.getsockname(a));
  });

  it('an unconnected UDP sendmsg with no address is EDESTADDRREQ; a bad address is refused before the call', () => {
    const a = track(s.socket(s.AF_INET, s.SOCK_DGRAM));
    expectSysError(() => s.sendmsg(a, ['x']), 'EDESTADDRREQ', 'sendmsg');
    expectTypeError(() => s.sendmsg(a, ['x'], [], 0, { address: 'not-an-ip', port: 1 }), 'ERR_INVALID_IP_ADDRESS');
  });

  it('a failed sendmsg to an address names it in the error', () => {
    const a = track(s.socket(s.AF_UNIX, s.SOCK_DGRAM));
    const path = tmpSocketPath('nobody');
    const e = expectSysError(() => s.sendmsg(a, ['x'], [], 0, { path }), 'ENOENT', 'sendmsg');
    expect(e.address).toBe(path);
  });

  it('Unix datagram sendmsg to a path; recvmsg reports the bound sender, TCP recvmsg reports none', () => {
    const pa = tmpSocketPath('a');
    const pb = tmpSocketPath('b');
    const a = track(s.socket(s.AF_UNIX, s.SOCK_DGRAM));
    const b = track(s.socket(s.AF_UNIX, s.SOCK_DGRAM));
    s.bind(a, { path: pa });
    s.bind(b, { path: pb });
    s.sendmsg(a, ['to b'], [], 0, { path: pb });
    expect(s.recvmsg(b, 10)).toEqual({ data: Buffer.from('to b'), ancdata: [], flags: 0, address: { family: 'unix', path: pa } });
    const [c, d] = trackedTcpPair();
    s.sendmsg(c, ['tcp']);
    readable(d);
    expect(s.recvmsg(d, 10)!.address).toBeNull();
  });
});

describe('would block, errors and argument checks', () => {
  it('null where it would block: non-blocking fd, MSG_DONTWAIT, a full send buffer', () => {
    const [a, b] = trackedPair();
    expect(s.recvmsg(b, 10, 0, s.MSG_DONTWAIT)).toBeNull();
    expect(s.recvmsgInto(b, [Buffer.alloc(4)], 64, s.MSG_DONTWAIT)).toBeNull();
    expect(s.recvFds(b, 10, 4, s.MSG_DONTWAIT)).toBeNull();
    s.setBlocking(a, false);
    s.setsockopt(a, s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    const chunk = Buffer.alloc(65536);
    let n: number | null;
    let rounds = 0;
    while ((n = s.sendmsg(a, [chunk])) !== null) {
      expect(n).toBeGreaterThan(0);
      if (++rounds > 10000) throw new Error('the send buffer never filled');
    }
    expect(s.sendFds(a, [chunk], [a])).toBeNull();
  });

  it('end of stream: an empty message and no flags', () => {
    const [a, b] = trackedPair();
    s.shutdown(a, s.SHUT_WR);
    expect(s.recvmsg(b, 10, 64)).toEqual({ data: Buffer.alloc(0), ancdata: [], flags: 0, address: null });
    expect(s.recvFds(b, 10, 1)).toEqual({ data: Buffer.alloc(0), fds: [], flags: 0, address: null });
  });

  it('system errors in Node\'s shape', () => {
    const [x, y] = s.socketpair();
    s.close(x);
    s.close(y);
    expectSysError(() => s.sendmsg(x, ['x']), 'EBADF', 'sendmsg');
    expectSysError(() => s.recvmsg(x, 1), 'EBADF', 'recvmsg');
    expectSysError(() => s.recvmsgInto(x, [Buffer.alloc(1)]), 'EBADF', 'recvmsg');
    expectSysError(() => s.recvFds(x, 1, 1), 'EBADF', 'recvmsg');
    const [a] = trackedPair();
    s.setsockopt(a, s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    expectSysError(() => s.sendmsg(a, ['x'], [{ level: s.SOL_SOCKET, type: 9999, data: Buffer.alloc(4) }]), 'EINVAL', 'sendmsg');
  });

  it('programmer errors before any system call', () => {
    const [a, b] = trackedPair();
    expectRangeError(() => s.sendmsg(-1, []));
    expectTypeError(() => s.sendmsg('3' as unknown as number, []));
    expectTypeError(() => s.sendmsg(a, 'abc' as unknown as string[]));
    expectTypeError(() => s.sendmsg(a, ['a', 5] as unknown as string[]));
    expectTypeError(() => s.sendmsg(a, [], {} as unknown as s.AncDataInput[]));
    expectTypeError(() => s.sendmsg(a, [], [null as unknown as s.AncDataInput]));
    expectTypeError(() => s.sendmsg(a, [], [{ level: s.SOL_SOCKET, type: s.SCM_RIGHTS, data: [1] as unknown as Buffer }]));
    expectTypeError(() => s.sendmsg(a, [], [{ level: 'x', type: 1, data: Buffer.alloc(0) } as unknown as s.AncDataInput]));
    expectRangeError(() => s.sendmsg(a, [], [{ level: 1.5, type: 1, data: Buffer.alloc(0) }]));
    expectRangeError(() => s.sendmsg(a, [], [], 2 ** 32));
    expectTypeError(() => s.sendmsg(a, [], [], 0, 'somewhere' as unknown as s.AddressInput));
    expectRangeError(() => s.recvmsg(a, -1));
    expectRangeError(() => s.recvmsg(a, 10, -1));
    expectRangeError(() => s.recvmsg(a, 10, (1 << 20) + 1));
    expectTypeError(() => s.recvmsg(a, 10, '8' as unknown as number));
    expectTypeError(() => s.recvmsgInto(a, [Buffer.alloc(1), 'str'] as unknown as Buffer[]));
    expectTypeError(() => s.recvmsgInto(a, Buffer.alloc(1) as unknown as Buffer[]));
    expectTypeError(() => s.sendFds(a, [], 3 as unknown as number[]));
    expectRangeError(() => s.sendFds(a, [], [-1]));
    expectTypeError(() => s.sendFds(a, [], [{}] as unknown as number[]));
    expectRangeError(() => s.recvFds(a, 1, -1));
    expectRangeError(() => s.recvFds(a, 1, 1 << 20));
    // Nothing was sent by any of the above.
    expect(s.recv(b, 10, s.MSG_DONTWAIT)).toBeNull();
  });

  it('too much ancillary data is a RangeError, checked before the call', () => {
    const [a] = trackedPair();
    expectRangeError(() => s.sendmsg(a, [], [{ level: s.SOL_SOCKET, type: s.SCM_RIGHTS, data: Buffer.alloc(1 << 20) }]));
  });

  it('an fd passed with its number in the buffers of a Proxy array is read once', () => {
    const [a, b] = trackedPair();
    let reads = 0;
    const list = new Proxy(['once'], {
      get(t, key, r) {
        if (key === '0') reads++;
        return Reflect.get(t, key, r) as unknown;
      },
    });
    expect(s.sendmsg(a, list)).toBe(4);
    expect(reads).toBe(1);
    expect(s.recv(b, 10)!.toString()).toBe('once');
  });

  it('leaves no fd behind when received fds are closed (a count over many passes)', () => {
    const [a, b] = trackedPair();
    const [p] = passable(1);
    const before = openFds().length;
    for (let i = 0; i < 200; i++) {
      s.sendFds(a, ['.'], [p.fd, p.fd, p.fd]);
      const r = s.recvFds(b, 1, i % 4)!;
      for (const fd of r.fds) s.close(fd);
    }
    expect(openFds().length).toBe(before);
  });
});

describe('Socket methods', () => {
  /** A connected pair of Unix stream Sockets, closed after the test. */
  function socketPair(type: number = s.SOCK_STREAM): [s.Socket, s.Socket] {
    const [x, y] = s.socketpair(s.AF_UNIX, type);
    return [new s.Socket(s.AF_UNIX, type, 0, x), new s.Socket(s.AF_UNIX, type, 0, y)];
  }
  const open: s.Socket[] = [];
  const pair = (type?: number) => {
    const p = socketPair(type);
    open.push(...p);
    return p;
  };
  afterEach(() => {
    for (const sock of open.splice(0)) sock.close();
  });

  it('sendFds / recvFds hand a listening Socket over; the receiver accepts on it', () => {
    const [a, b] = pair();
    const listener = new s.Socket(s.AF_INET, s.SOCK_STREAM);
    open.push(listener);
    listener.bind({ address: '127.0.0.1', port: 0 });
    listener.listen();
    const { port } = listener.getsockname() as s.InetAddress;
    expect(a.sendFds([Buffer.from('L')], [listener])).toBe(1);
    listener.close(); // the sender's copy is gone; the one in flight keeps the listening socket alive
    const r = b.recvFds(16, 1)!;
    expect(r.data.toString()).toBe('L');
    const received = s.Socket.fromFd(r.fds[0]);
    open.push(received);
    expect(received.getsockname()).toEqual({ family: 'IPv4', address: '127.0.0.1', port });
    const client = new s.Socket(s.AF_INET, s.SOCK_STREAM);
    open.push(client);
    client.connect({ address: '127.0.0.1', port });
    const [conn] = received.accept()!;
    open.push(conn);
    client.sendAll('via the passed listener');
    expect(conn.recv(100)!.toString()).toBe('via the passed listener');
  });

  it('sendmsg / recvmsg / recvmsgInto on a Socket, with ancillary data', () => {
    const [a, b] = pair(s.SOCK_DGRAM);
    b.setsockopt(s.SOL_SOCKET, s.SO_PASSCRED, 1);
    expect(a.sendmsg(['one', 'two'])).toBe(6);
    const r = b.recvmsg(10, s.CMSG_SPACE(12))!;
    expect(r.data.toString()).toBe('onetwo');
    expect(s.unpackCredentials(r.ancdata[0].data).pid).toBe(process.pid);
    a.sendmsg([Buffer.from('xyz')]);
    const buf = Buffer.alloc(8);
    // No room for the credentials SO_PASSCRED adds: MSG_CTRUNC says so.
    expect(b.recvmsgInto([buf])).toEqual({ bytes: 3, ancdata: [], flags: s.MSG_CTRUNC, address: null });
    expect(buf.subarray(0, 3).toString()).toBe('xyz');
  });

  it('Socket#sendmsg resolves a host name for the address, as sendto does', () => {
    const a = new s.Socket(s.AF_INET, s.SOCK_DGRAM);
    const b = new s.Socket(s.AF_INET, s.SOCK_DGRAM);
    open.push(a, b);
    b.bind({ address: '127.0.0.1', port: 0 });
    const { port } = b.getsockname() as s.InetAddress;
    expect(a.sendmsg(['by name'], [], 0, { address: 'localhost', port })).toBe(7);
    // localhost may resolve to ::1 first on some machines: this socket is AF_INET, so it is 127.0.0.1 here.
    expect(b.recvmsg(20)!.data.toString()).toBe('by name');
    expect(a.sendFds(['fd'], [], 0, { address: 'localhost', port })).toBe(2);
    expect(b.recvFds(20, 0)!.data.toString()).toBe('fd');
  });

  it('a closed Socket is EBADF, named after the call', () => {
    const [a] = pair();
    a.close();
    expectSysError(() => a.sendmsg(['x']), 'EBADF', 'sendmsg');
    expectSysError(() => a.sendFds(['x'], []), 'EBADF', 'sendmsg');
    expectSysError(() => a.recvmsg(1), 'EBADF', 'recvmsg');
    expectSysError(() => a.recvmsgInto([Buffer.alloc(1)]), 'EBADF', 'recvmsg');
    expectSysError(() => a.recvFds(1, 1), 'EBADF', 'recvmsg');
  });

  it('a closed Socket among the fds to send is a RangeError (its fileno() is -1), before any call', () => {
    const [a, b] = pair();
    const [c] = pair();
    c.close();
    expectRangeError(() => a.sendFds(['x'], [c]));
    b.setBlocking(false);
    expect(b.recv(1)).toBeNull();
  });
});

describe('the addon, called directly with hostile arrays', () => {

  it('recvmsgInto: a getter that detaches an earlier buffer runs before any buffer is looked at; the kernel writes only into what is left', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    s.sendmsg(a, ['abcdef']);
    const first = new Uint8Array(new ArrayBuffer(8));
    const second = new Uint8Array(4);
    const list: unknown[] = [first];
    Object.defineProperty(list, 1, {
      enumerable: true,
      get() {
        structuredClone(first.buffer, { transfer: [first.buffer] }); // detaches `first`
        return second;
      },
    });
    const r = native.recvmsgInto(b, list, 0, 0)!;
    expect(first.byteLength).toBe(0);
    expect(r.bytes).toBe(4);
    expect(r.flags & s.MSG_TRUNC).toBe(s.MSG_TRUNC);
    expect(Buffer.from(second).toString()).toBe('abcd');
  });

  it('sendmsg: a getter that detaches the control data before it is read sends no stale bytes', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    const [p] = passable(1);
    const fds = new Int32Array([p.fd]);
    const anc: unknown[] = [];
    Object.defineProperty(anc, 0, {
      enumerable: true,
      get() {
        return fds;
      },
    });
    const buffers: unknown[] = [];
    Object.defineProperty(buffers, 0, {
      enumerable: true,
      get() {
        structuredClone(fds.buffer, { transfer: [fds.buffer] }); // the fd list is gone before it is read
        return Buffer.from('x');
      },
    });
    // An SCM_RIGHTS item with no data: the kernel takes it as no fds.
    expect(native.sendmsg(a, buffers, new Int32Array([s.SOL_SOCKET, s.SCM_RIGHTS]), anc, 0)).toBe(1);
    const r = s.recvmsg(b, 10, s.CMSG_SPACE(4))!;
    expect(r.data.toString()).toBe('x');
    expect(fdsOf(r.ancdata)).toEqual([]);
  });

  it('refuses what is not an array of bytes, and a malformed ancdata, before any call', () => {
    const [a] = trackedPair();
    expectTypeError(() => native.sendmsg(a, 'x' as unknown as unknown[], new Int32Array(0), [], 0));
    expectTypeError(() => native.sendmsg(a, [1], new Int32Array(0), [], 0));
    expectTypeError(() => native.sendmsg(a, [], new Int32Array(2), [], 0)); // a pair with no data
    expectTypeError(() => native.sendmsg(a, [], [1, 1] as unknown as Int32Array, [Buffer.alloc(4)], 0));
    expectTypeError(() => native.recvmsgInto(a, [{}], 0, 0));
    expectRangeError(() => native.recvmsg(a, 1, (1 << 20) + 1, 0));
    expectRangeError(() => native.CMSG_LEN(native.maxCmsgLength + 1));
  });
});
