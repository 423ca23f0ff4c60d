/**
 * The raw calls over datagram and seqpacket sockets: UDP on 127.0.0.1 and ::1, Unix datagram sockets on paths,
 * abstract names and socketpairs, Unix seqpacket. Real sockets on loopback only.
 *
 * A recv in this thread runs only once poll() has said the fd is readable (the datagram has been sent already);
 * no upper bound on any time is asserted.
 */
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as s from '../lib';
import { thrown } from './helpers/expect';
import { checkFdLeaks, fdFlags, O_CLOEXEC, waitFd } from './helpers/fds';
import { families, ipv6, tmpSocketPath } from './helpers/net';
import { closeFd, track, trackedPair, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

const readable = (fd: number) => waitFd(fd, s.POLLIN);

// ---------------------------------------------------------------------------------------------------------------

describe.each(families)('UDP over $name', (f) => {
  const it6 = it.skipIf(f.domain === s.AF_INET6 && !ipv6.ok);

  /** A UDP socket bound to an ephemeral loopback port: fd, port and the address objects. */
  function udp(type = s.SOCK_DGRAM): { fd: number; port: number; to: s.InetAddressInput; out: s.InetAddress } {
    const fd = track(s.socket(f.domain, type));
    s.bind(fd, { address: f.host, port: 0 });
    const out = s.getsockname(fd) as s.InetAddress;
    return { fd, port: out.port, to: { address: f.host, port: out.port }, out };
  }

  it6('sendto / recvfrom: data and the sender in the documented shape', () => {
    const a = udp();
    const b = udp();
    expect(a.out).toEqual({ family: f.name, address: f.host, port: a.port });
    expect(a.port).toBeGreaterThan(0);
    expect(fdFlags(a.fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(s.sendto(a.fd, 'ping', b.to)).toBe(4);
    readable(b.fd);
    const d = s.recvfrom(b.fd, 100)!;
    expect(d).toEqual({ data: Buffer.from('ping'), address: { family: f.name, address: f.host, port: a.port } });
    expect(Buffer.isBuffer(d.data)).toBe(true);
    // And back, with bytes of another kind.
    expect(s.sendto(b.fd, new Uint16Array([0x4241, 0x4443]), d.address as s.InetAddressInput)).toBe(4);
    readable(a.fd);
    expect(s.recvfrom(a.fd, 100)).toEqual({ data: Buffer.from('ABCD'), address: b.out });
  });

  it6('datagram boundaries are kept', () => {
    const a = udp();
    const b = udp();
    for (const m of ['one', 'two two', 'three three three']) s.sendto(a.fd, m, b.to);
    for (const m of ['one', 'two two', 'three three three']) {
      readable(b.fd);
      expect(s.recv(b.fd, 1000)!.toString()).toBe(m);
    }
  });

  it6('recvfromInto: bytes into the window, the sender\'s address', () => {
    const a = udp();
    const b = udp();
    s.sendto(a.fd, 'window', b.to);
    readable(b.fd);
    const buf = Buffer.alloc(20, 0x11);
    const r = s.recvfromInto(b.fd, buf, 4, 10)!;
    expect(r).toEqual({ bytes: 6, address: a.out });
    const want = Buffer.alloc(20, 0x11);
    want.write('window', 4);
    expect(buf).toEqual(want);
  });

  it6('truncation: a datagram larger than size is cut to size and the rest discarded', () => {
    const a = udp();
    const b = track(s.socket(f.domain, s.SOCK_DGRAM | s.SOCK_NONBLOCK));
    s.bind(b, { address: f.host, port: 0 });
    const to = { address: f.host, port: (s.getsockname(b) as s.InetAddress).port };
    const data = randomBytes(100);

    s.sendto(a.fd, data, to);
    readable(b);
    expect(s.recvfrom(b, 10)).toEqual({ data: data.subarray(0, 10), address: a.out });
    expect(s.recvfrom(b, 100)).toBeNull(); // the other 90 bytes are gone

    s.sendto(a.fd, data, to);
    readable(b);
    expect(s.recv(b, 30)).toEqual(data.subarray(0, 30));
    expect(s.recv(b, 100)).toBeNull();

    // MSG_TRUNC: the count is the datagram's real length; only the window is written.
    s.sendto(a.fd, data, to);
    readable(b);
    const buf = Buffer.alloc(64, 0xee);
    const r = s.recvfromInto(b, buf, 8, 16, s.MSG_TRUNC)!;
    expect(r).toEqual({ bytes: 100, address: a.out });
    const want = Buffer.alloc(64, 0xee);
    data.copy(want, 8, 0, 16);
    expect(buf).toEqual(want);
    expect(s.recv(b, 100)).toBeNull();

    s.sendto(a.fd, data, to);
    readable(b);
    const buf2 = new Uint8Array(32).fill(0x77);
    expect(s.recvInto(b, buf2, 30, 2, s.MSG_TRUNC)).toBe(100);
    const want2 = new Uint8Array(32).fill(0x77);
    want2.set(data.subarray(0, 2), 30);
    expect(buf2).toEqual(want2);

    // recv with MSG_TRUNC still returns a Buffer of at most size bytes.
    s.sendto(a.fd, data, to);
    readable(b);
    expect(s.recv(b, 10, s.MSG_TRUNC)).toEqual(data.subarray(0, 10));
    // MSG_TRUNC|MSG_PEEK learns the length and leaves the datagram.
    s.sendto(a.fd, data.subarray(0, 77), to);
    readable(b);
    expect(s.recvInto(b, Buffer.alloc(1), 0, 1, s.MSG_TRUNC | s.MSG_PEEK)).toBe(77);
    expect(s.recv(b, 1000)).toEqual(data.subarray(0, 77));
  });

  it6('zero-length datagrams are sent and received as empty data', () => {
    const a = udp();
    const b = udp();
    expect(s.sendto(a.fd, '', b.to)).toBe(0);
    expect(s.sendto(a.fd, new Uint8Array(0), b.to)).toBe(0);
    readable(b.fd);
    expect(s.recvfrom(b.fd, 100)).toEqual({ data: Buffer.alloc(0), address: a.out });
    readable(b.fd);
    expect(s.recvfromInto(b.fd, Buffer.alloc(4))).toEqual({ bytes: 0, address: a.out });
    s.setBlocking(b.fd, false);
    expect(s.recvfrom(b.fd, 100)).toBeNull();
  });

  it6('would block: recvfrom, recvfromInto, recv and recvInto give null on a non-blocking socket', () => {
    const b = udp(s.SOCK_DGRAM | s.SOCK_NONBLOCK);
    expect(s.getBlocking(b.fd)).toBe(false);
    expect(s.recvfrom(b.fd, 100)).toBeNull();
    expect(s.recvfromInto(b.fd, Buffer.alloc(10))).toBeNull();
    expect(s.recv(b.fd, 100)).toBeNull();
    expect(s.recvInto(b.fd, Buffer.alloc(10))).toBeNull();
    expect(s.recv(b.fd, 100, s.MSG_DONTWAIT)).toBeNull();
    // MSG_DONTWAIT on a blocking socket too.
    const c = udp();
    expect(s.recvfrom(c.fd, 100, s.MSG_DONTWAIT)).toBeNull();
  });

  it6('connect() on UDP, then send / recv and getpeername', () => {
    const a = udp();
    const b = udp();
    expect(s.connect(a.fd, b.to)).toBe(true);
    expect(s.getpeername(a.fd)).toEqual(b.out);
    expect(s.send(a.fd, 'connected')).toBe(9);
    readable(b.fd);
    expect(s.recvfrom(b.fd, 100)).toEqual({ data: Buffer.from('connected'), address: a.out });
    expect(s.connect(b.fd, a.to)).toBe(true);
    expect(s.send(b.fd, Buffer.from('back'))).toBe(4);
    readable(a.fd);
    expect(s.recv(a.fd, 100)!.toString()).toBe('back');
    // A connected UDP socket takes datagrams from its peer only.
    const c = udp();
    s.sendto(c.fd, 'stranger', a.to);
    s.send(b.fd, 'friend');
    readable(a.fd);
    expect(s.recv(a.fd, 100)!.toString()).toBe('friend');
    s.setBlocking(a.fd, false);
    expect(s.recv(a.fd, 100)).toBeNull();
  });

  it6('a connected UDP socket reports ECONNREFUSED on the next recv after sending to a closed port', () => {
    const gone = udp();
    const port = gone.port;
    closeFd(gone.fd);
    const a = udp(s.SOCK_DGRAM | s.SOCK_NONBLOCK);
    s.connect(a.fd, { address: f.host, port });
    expect(s.send(a.fd, 'hello?')).toBe(6);
    // The ICMP port-unreachable comes back as a pending socket error: poll says POLLERR.
    let err: NodeJS.ErrnoException | undefined;
    for (let i = 0; i < 100 && !err; i++) {
      waitFd(a.fd, s.POLLIN | s.POLLERR);
      try {
        expect(s.recv(a.fd, 100)).toBeNull(); // spurious wake-up
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.code).toBe('ECONNREFUSED');
    expect(err!.errno).toBe(-osConstants.errno.ECONNREFUSED);
    expect(getSystemErrorName(err!.errno!)).toBe('ECONNREFUSED');
    expect(err!.syscall).toBe('recv');
    expect(err!.message).toBe('recv ECONNREFUSED');
    // The error is reported once; the socket is usable after it.
    expect(s.getsockopt(a.fd, s.SOL_SOCKET, s.SO_ERROR)).toBe(0);
    expect(s.recv(a.fd, 100)).toBeNull();
  });

  it6('SO_REUSEPORT: two UDP sockets on one port', () => {
    const x = track(s.socket(f.domain, s.SOCK_DGRAM));
    const y = track(s.socket(f.domain, s.SOCK_DGRAM));
    s.setsockopt(x, s.SOL_SOCKET, s.SO_REUSEPORT, 1);
    s.setsockopt(y, s.SOL_SOCKET, s.SO_REUSEPORT, 1);
    s.bind(x, { address: f.host, port: 0 });
    const port = (s.getsockname(x) as s.InetAddress).port;
    s.bind(y, { address: f.host, port });
    expect(s.getsockname(y)).toEqual({ family: f.name, address: f.host, port });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('Unix datagram sockets', () => {
  function bound(path = tmpSocketPath('dg'), type = s.SOCK_DGRAM): { fd: number; path: string } {
    const fd = track(s.socket(s.AF_UNIX, type));
    s.bind(fd, { path });
    return { fd, path };
  }

  it('bound to paths: sendto / recvfrom with { family: "unix", path } addresses', () => {
    const a = bound();
    const b = bound();
    expect(s.getsockname(b.fd)).toEqual({ family: 'unix', path: b.path });
    expect(s.sendto(a.fd, 'to b', { path: b.path })).toBe(4);
    readable(b.fd);
    const d = s.recvfrom(b.fd, 100)!;
    expect(d).toEqual({ data: Buffer.from('to b'), address: { family: 'unix', path: a.path } });
    // Reply to the address recvfrom gave.
    s.sendto(b.fd, 'to a', d.address as s.UnixAddressInput);
    readable(a.fd);
    const buf = Buffer.alloc(10, 0);
    expect(s.recvfromInto(a.fd, buf, 2, 6)).toEqual({ bytes: 4, address: { family: 'unix', path: b.path } });
    expect(buf).toEqual(Buffer.from([0, 0, 116, 111, 32, 97, 0, 0, 0, 0]));
  });

  it('an unbound sender has no address: recvfrom gives address null (CPython: None)', () => {
    const b = bound();
    const a = track(s.socket(s.AF_UNIX, s.SOCK_DGRAM));
    s.sendto(a, 'anon', { path: b.path });
    readable(b.fd);
    expect(s.recvfrom(b.fd, 100)).toEqual({ data: Buffer.from('anon'), address: null });
  });

  it('abstract and autobound names', () => {
    const name = `\0sockfd-dgram-${process.pid}-${randomBytes(6).toString('hex')}`;
    const b = bound(name);
    expect(s.getsockname(b.fd)).toEqual({ family: 'unix', path: name });
    const a = track(s.socket(s.AF_UNIX, s.SOCK_DGRAM));
    s.bind(a, { path: '' });
    const auto = s.getsockname(a) as s.UnixAddress;
    expect(auto.family).toBe('unix');
    expect(auto.path).toMatch(/^\0./);
    s.sendto(a, 'abs', { path: name });
    readable(b.fd);
    expect(s.recvfrom(b.fd, 100)).toEqual({ data: Buffer.from('abs'), address: auto });
  });

  it('truncation, MSG_TRUNC, zero-length datagrams and would-block on a Unix datagram socket', () => {
    const a = bound();
    const b = bound(tmpSocketPath('dg'), s.SOCK_DGRAM | s.SOCK_NONBLOCK);
    expect(s.recvfrom(b.fd, 10)).toBeNull();
    const data = randomBytes(50);
    s.sendto(a.fd, data, { path: b.path });
    readable(b.fd);
    expect(s.recvfrom(b.fd, 20)).toEqual({ data: data.subarray(0, 20), address: { family: 'unix', path: a.path } });
    expect(s.recvfrom(b.fd, 100)).toBeNull();

    s.sendto(a.fd, data, { path: b.path });
    readable(b.fd);
    const buf = Buffer.alloc(16, 0xcc);
    expect(s.recvfromInto(b.fd, buf, 4, 8, s.MSG_TRUNC)).toEqual({ bytes: 50, address: { family: 'unix', path: a.path } });
    const want = Buffer.alloc(16, 0xcc);
    data.copy(want, 4, 0, 8);
    expect(buf).toEqual(want);

    expect(s.sendto(a.fd, '', { path: b.path })).toBe(0);
    readable(b.fd);
    expect(s.recvfrom(b.fd, 100)).toEqual({ data: Buffer.alloc(0), address: { family: 'unix', path: a.path } });
    expect(s.recvfrom(b.fd, 100)).toBeNull();
  });

  it('sendto a path nobody is bound to: ENOENT with the path as address', () => {
    const a = track(s.socket(s.AF_UNIX, s.SOCK_DGRAM));
    const path = tmpSocketPath('nobody');
    const e = thrown(() => s.sendto(a, 'x', { path }));
    expect(e.code).toBe('ENOENT');
    expect(e.syscall).toBe('sendto');
    expect(e.message).toBe(`sendto ENOENT ${path}`);
    expect((e as { address?: string }).address).toBe(path);
  });

  it('socketpair(AF_UNIX, SOCK_DGRAM): boundaries, empty datagrams, unbound addresses, would-block', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    expect(s.send(a, 'first')).toBe(5);
    expect(s.send(a, '')).toBe(0);
    expect(s.send(a, new DataView(new ArrayBuffer(3)))).toBe(3);
    readable(b);
    expect(s.recvfrom(b, 100)).toEqual({ data: Buffer.from('first'), address: null });
    readable(b);
    expect(s.recv(b, 100)).toEqual(Buffer.alloc(0));
    readable(b);
    expect(s.recvInto(b, Buffer.alloc(10))).toBe(3);
    s.setBlocking(b, false);
    expect(s.recv(b, 100)).toBeNull();
    expect(s.recvfrom(b, 100)).toBeNull();
    expect(s.recvfromInto(b, Buffer.alloc(1))).toBeNull();
    // Both ways.
    s.send(b, 'reply');
    readable(a);
    expect(s.recv(a, 2)!.toString()).toBe('re'); // truncated
    s.setBlocking(a, false);
    expect(s.recv(a, 100)).toBeNull(); // the rest discarded
  });

  it('send on a datagram socketpair whose peer closed: ECONNREFUSED', () => {
    const [a, b] = trackedPair(s.SOCK_DGRAM);
    closeFd(b);
    const e = thrown(() => s.send(a, 'x'));
    expect(['ECONNREFUSED', 'EPIPE', 'ENOTCONN']).toContain(e.code);
    expect(e.syscall).toBe('send');
    expect(getSystemErrorName(e.errno!)).toBe(e.code);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('Unix seqpacket sockets', () => {
  it('socketpair: message boundaries, truncation, end of stream', () => {
    const [a, b] = trackedPair(s.SOCK_SEQPACKET);
    expect(s.getsockopt(a, s.SOL_SOCKET, s.SO_TYPE)).toBe(s.SOCK_SEQPACKET);
    s.send(a, 'alpha');
    s.send(a, 'beta');
    s.send(a, 'a longer record');
    readable(b);
    expect(s.recv(b, 100)!.toString()).toBe('alpha');
    readable(b);
    expect(s.recvfrom(b, 100)).toEqual({ data: Buffer.from('beta'), address: null });
    readable(b);
    const buf = Buffer.alloc(12, 1);
    expect(s.recvInto(b, buf, 2, 3, s.MSG_TRUNC)).toBe(15);
    expect(buf).toEqual(Buffer.from([1, 1, 0x61, 0x20, 0x6c, 1, 1, 1, 1, 1, 1, 1]));
    s.setBlocking(b, false);
    expect(s.recv(b, 100)).toBeNull(); // the rest of the record was discarded
    closeFd(a);
    readable(b);
    expect(s.recv(b, 100)).toEqual(Buffer.alloc(0));
    expect(s.recvInto(b, buf)).toBe(0);
  });

  it('bind, listen, connect, accept on a path; recvfrom gives the peer\'s path', () => {
    const path = tmpSocketPath('seq');
    const l = track(s.socket(s.AF_UNIX, s.SOCK_SEQPACKET));
    s.bind(l, { path });
    s.listen(l);
    const cpath = tmpSocketPath('seqc');
    const c = track(s.socket(s.AF_UNIX, s.SOCK_SEQPACKET));
    s.bind(c, { path: cpath });
    expect(s.connect(c, { path })).toBe(true);
    const acc = s.accept(l)!;
    track(acc.fd);
    expect(acc.address).toEqual({ family: 'unix', path: cpath });
    expect(fdFlags(acc.fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    s.send(c, 'rec1');
    s.send(c, 'rec2!');
    readable(acc.fd);
    expect(s.recvfrom(acc.fd, 100)).toEqual({ data: Buffer.from('rec1'), address: { family: 'unix', path: cpath } });
    readable(acc.fd);
    const buf = Buffer.alloc(8);
    expect(s.recvfromInto(acc.fd, buf)).toEqual({ bytes: 5, address: { family: 'unix', path: cpath } });
    expect(buf.subarray(0, 5).toString()).toBe('rec2!');
    s.send(acc.fd, '');
    readable(c);
    // A zero-length record on seqpacket reads as 0 bytes, like end of stream: only the peer's close is the end.
    expect(s.recv(c, 10)).toEqual(Buffer.alloc(0));
    s.shutdown(c, s.SHUT_WR);
    readable(acc.fd);
    expect(s.recv(acc.fd, 10)).toEqual(Buffer.alloc(0));
  });
});
