/**
 * The raw calls over stream sockets: TCP on 127.0.0.1 and ::1, Unix stream sockets on paths, abstract names and
 * socketpairs. Real sockets on loopback only.
 *
 * The test thread never blocks waiting for data that has not been sent yet: a blocking call here runs only once
 * poll() has said the fd is ready (or the data is known to be there), and every reader that must run while this
 * thread blocks in sendAll runs in a child process. No upper bound on any time is asserted.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { root, runNode, wrap, type Child } from './helpers/child';
import { thrown } from './helpers/expect';
import { checkFdLeaks, fdFlags, isOpen, O_CLOEXEC, waitFd } from './helpers/fds';
import { closedPort, families, ipv6, tcpListener, tmpSocketPath } from './helpers/net';
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

const O_NONBLOCK = s.O_NONBLOCK;
const O_APPEND = fsConstants.O_APPEND;

/** Receives exactly `n` bytes that the peer has already sent (waiting for readability before each recv). */
function recvExact(fd: number, n: number): Buffer {
  const parts: Buffer[] = [];
  let got = 0;
  while (got < n) {
    waitFd(fd, s.POLLIN);
    const b = s.recv(fd, n - got);
    if (b === null) continue; // spurious readiness
    if (b.length === 0) throw new Error(`end of stream after ${got} of ${n} bytes`);
    parts.push(b);
    got += b.length;
  }
  return Buffer.concat(parts);
}

/** The bytes of a view, as a Buffer sharing its memory. */
function bytesOf(v: ArrayBufferView | ArrayBuffer): Buffer {
  return v instanceof ArrayBuffer ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A reader child: reads fd 3 (inherited) or a TCP connection to end of stream, prints the count and sha256. */
const READER = `
const s = require('sockfd');
const crypto = require('node:crypto');
let fd = 3;
const [host, port] = process.argv.slice(1);
if (port) {
  fd = s.socket(host.includes(':') ? s.AF_INET6 : s.AF_INET, s.SOCK_STREAM);
  s.connect(fd, { address: host, port: Number(port) });
  console.log('connected');
}
const h = crypto.createHash('sha256');
const buf = Buffer.alloc(1 << 16);
let total = 0;
for (;;) {
  const n = s.recvInto(fd, buf, 0, 1 + (total % 50000)); // odd sizes: many partial reads
  if (n === 0) break;
  h.update(buf.subarray(0, n));
  total += n;
}
s.close(fd);
console.log('done ' + total + ' ' + h.digest('hex'));
`;

/** A reader child that inherits `fd` as its fd 3. The caller closes its own copy after this returns. */
function readerOnFd(fd: number): Child {
  const proc = spawn(process.execPath, ['-e', READER], { cwd: root, stdio: ['pipe', 'pipe', 'pipe', fd] });
  const c = wrap(proc);
  children.push(c);
  return c;
}

// ---------------------------------------------------------------------------------------------------------------

describe.each(families)('TCP over $name', (f) => {
  const it6 = it.skipIf(f.domain === s.AF_INET6 && !ipv6.ok);
  const here = { family: f.name, address: f.host };

  function listener(): { fd: number; port: number } {
    const l = tcpListener(f.domain, f.host);
    track(l.fd);
    return l;
  }
  function connected(): [number, number] {
    const l = listener();
    const c = track(s.socket(f.domain, s.SOCK_STREAM));
    expect(s.connect(c, { address: f.host, port: l.port })).toBe(true);
    waitFd(l.fd, s.POLLIN);
    const a = track(s.accept(l.fd)!.fd);
    closeFd(l.fd);
    return [c, a];
  }

  it6('socket, bind, listen, connect, accept, getsockname, getpeername, send, recv, close', () => {
    const l = track(s.socket(f.domain, s.SOCK_STREAM));
    s.setsockopt(l, s.SOL_SOCKET, s.SO_REUSEADDR, 1);
    expect(s.bind(l, { address: f.host, port: 0 })).toBeUndefined();
    const name = s.getsockname(l);
    expect(name).toEqual({ ...here, port: expect.any(Number) });
    const port = (name as s.InetAddress).port;
    expect(port).toBeGreaterThan(0);
    expect(s.listen(l)).toBeUndefined();
    expect(s.getsockopt(l, s.SOL_SOCKET, s.SO_ACCEPTCONN)).toBe(1);

    const c = track(s.socket(f.domain, s.SOCK_STREAM));
    expect(s.connect(c, { address: f.host, port })).toBe(true);
    const cname = s.getsockname(c) as s.InetAddress;
    expect(cname).toEqual({ ...here, port: expect.any(Number) });
    expect(s.getpeername(c)).toEqual({ ...here, port });

    waitFd(l, s.POLLIN);
    const acc = s.accept(l)!;
    track(acc.fd);
    expect(acc).toEqual({ fd: expect.any(Number), address: cname });
    expect(s.getpeername(acc.fd)).toEqual(cname);
    expect(s.getsockname(acc.fd)).toEqual({ ...here, port });

    expect(s.send(c, 'hello')).toBe(5);
    expect(recvExact(acc.fd, 5).toString()).toBe('hello');
    expect(s.send(acc.fd, Buffer.from('world!'))).toBe(6);
    expect(recvExact(c, 6).toString()).toBe('world!');

    closeFd(c);
    expect(isOpen(c)).toBe(false);
    waitFd(acc.fd, s.POLLIN);
    expect(s.recv(acc.fd, 10)).toEqual(Buffer.alloc(0));
  });

  it6('end of stream after shutdown(SHUT_WR): recv gives an empty Buffer, recvInto 0; the other half still works', () => {
    const [c, a] = connected();
    s.send(c, 'last words');
    expect(s.shutdown(c, s.SHUT_WR)).toBeUndefined();
    expect(recvExact(a, 10).toString()).toBe('last words');
    waitFd(a, s.POLLIN);
    const eof = s.recv(a, 100);
    expect(Buffer.isBuffer(eof)).toBe(true);
    expect(eof!.length).toBe(0);
    expect(s.recvInto(a, Buffer.alloc(8))).toBe(0);
    expect(s.recv(a, 100)!.length).toBe(0); // and stays at end of stream
    // The half-closed client still receives.
    expect(s.send(a, 'reply')).toBe(5);
    expect(recvExact(c, 5).toString()).toBe('reply');
    // Sending on the shut half is EPIPE.
    const e = thrown(() => s.send(c, 'x'));
    expect(e.code).toBe('EPIPE');
    expect(e.syscall).toBe('send');
  });

  it6('end of stream after the peer closes', () => {
    const [c, a] = connected();
    s.send(a, 'bye');
    closeFd(a);
    expect(recvExact(c, 3).toString()).toBe('bye');
    waitFd(c, s.POLLIN);
    expect(s.recvInto(c, new Uint8Array(4))).toBe(0);
    expect(s.recv(c, 4)).toEqual(Buffer.alloc(0));
  });

  it6('non-blocking: accept null, connect false then writable with SO_ERROR 0, recv/recvInto null', () => {
    const l = track(s.socket(f.domain, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    expect(s.getBlocking(l)).toBe(false);
    expect(fdFlags(l) & O_NONBLOCK).toBe(O_NONBLOCK);
    s.bind(l, { address: f.host, port: 0 });
    s.listen(l, 8);
    const port = (s.getsockname(l) as s.InetAddress).port;
    expect(s.accept(l)).toBeNull();

    const c = track(s.socket(f.domain, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    expect(s.connect(c, { address: f.host, port })).toBe(false);
    expect(waitFd(c, s.POLLOUT) & s.POLLOUT).toBe(s.POLLOUT);
    expect(s.getsockopt(c, s.SOL_SOCKET, s.SO_ERROR)).toBe(0);
    expect(s.getpeername(c)).toEqual({ ...here, port });

    waitFd(l, s.POLLIN);
    const acc = s.accept(l, s.SOCK_NONBLOCK)!;
    expect(acc).not.toBeNull();
    const a = track(acc.fd);
    expect(s.getBlocking(a)).toBe(false);
    expect(s.accept(l)).toBeNull(); // nothing else waiting

    expect(s.recv(a, 100)).toBeNull();
    expect(s.recvInto(a, Buffer.alloc(10))).toBeNull();
    expect(s.recv(c, 100)).toBeNull();
    expect(s.send(c, 'abc')).toBe(3);
    waitFd(a, s.POLLIN);
    expect(s.recv(a, 100)!.toString()).toBe('abc');
    expect(s.recv(a, 100)).toBeNull();
  });

  it6('send returns null once the send and receive buffers are full, and works again after the reader drains', () => {
    const [c, a] = connected();
    s.setBlocking(c, false);
    s.setBlocking(a, false);
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    let n: number | null;
    while ((n = s.send(c, chunk)) !== null) sent += n;
    expect(sent).toBeGreaterThan(0);
    expect(s.send(c, chunk)).toBeNull();
    expect(s.send(c, 'x')).toBeNull();
    // Drain everything that was sent (interleaved: wait, read what is there).
    const buf = Buffer.alloc(1 << 16);
    let got = 0;
    while (got < sent) {
      const r = s.recvInto(a, buf);
      if (r === null) {
        waitFd(a, s.POLLIN);
        continue;
      }
      expect(r).toBeGreaterThan(0);
      expect(buf.subarray(0, r).every((x) => x === 7)).toBe(true);
      got += r;
    }
    expect(got).toBe(sent);
    waitFd(c, s.POLLOUT);
    expect(s.send(c, 'more')).toBe(4);
    waitFd(a, s.POLLIN);
    expect(s.recv(a, 10)!.toString()).toBe('more');
  });

  it6('partial reads: recv smaller than what is there, then the rest', () => {
    const [c, a] = connected();
    s.send(c, '0123456789');
    const first = recvExact(a, 4);
    expect(first.toString()).toBe('0123');
    expect(recvExact(a, 6).toString()).toBe('456789');
  });

  it6('recvfrom and recvfromInto on a TCP socket give address null: TCP reports no sender (as CPython gives None)', () => {
    const [c, a] = connected();
    s.send(c, 'from');
    waitFd(a, s.POLLIN);
    expect(s.recvfrom(a, 2)).toEqual({ data: Buffer.from('fr'), address: null });
    const buf = Buffer.alloc(4);
    expect(s.recvfromInto(a, buf, 1)).toEqual({ bytes: 2, address: null });
    expect(buf.subarray(1, 3).toString()).toBe('om');
    expect(s.getpeername(a)).toEqual(s.getsockname(c));
  });

  it6('MSG_PEEK leaves the data in place', () => {
    const [c, a] = connected();
    s.send(c, 'peekaboo');
    waitFd(a, s.POLLIN);
    // Loopback delivers the segment whole; wait until all 8 bytes are visible to peek.
    let peeked = s.recv(a, 100, s.MSG_PEEK)!;
    while (peeked.length < 8) {
      waitFd(a, s.POLLIN);
      peeked = s.recv(a, 100, s.MSG_PEEK)!;
    }
    expect(peeked.toString()).toBe('peekaboo');
    expect(s.recv(a, 4, s.MSG_PEEK)!.toString()).toBe('peek');
    const into = Buffer.alloc(8);
    expect(s.recvInto(a, into, 0, 8, s.MSG_PEEK)).toBe(8);
    expect(into.toString()).toBe('peekaboo');
    expect(s.recv(a, 100)!.toString()).toBe('peekaboo');
    s.setBlocking(a, false);
    expect(s.recv(a, 100)).toBeNull();
  });

  it6('connect to a closed port: ECONNREFUSED shaped as Node\'s error', () => {
    const port = closedPort(f.domain, f.host);
    const c = track(s.socket(f.domain, s.SOCK_STREAM));
    const e = thrown(() => s.connect(c, { address: f.host, port }));
    expect(e.message).toBe(`connect ECONNREFUSED ${f.host}:${port}`);
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.errno).toBe(-osConstants.errno.ECONNREFUSED);
    expect(e.errno).toBeLessThan(0);
    expect(getSystemErrorName(e.errno!)).toBe(e.code);
    expect(e.syscall).toBe('connect');
    expect(e.address).toBe(f.host);
    expect(e.port).toBe(port);
    expect(e.stack).toContain('raw-stream.test.ts');
  });

  it6('non-blocking connect to a closed port: false, then SO_ERROR is ECONNREFUSED', () => {
    const port = closedPort(f.domain, f.host);
    const c = track(s.socket(f.domain, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    let r: boolean;
    try {
      r = s.connect(c, { address: f.host, port });
    } catch (e) {
      // Loopback may refuse at once.
      expect((e as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      return;
    }
    expect(r).toBe(false);
    waitFd(c, s.POLLOUT);
    expect(s.getsockopt(c, s.SOL_SOCKET, s.SO_ERROR)).toBe(osConstants.errno.ECONNREFUSED);
  });

  it6('send to a closed peer: EPIPE or ECONNRESET, thrown as an error (no signal)', () => {
    const [c, a] = connected();
    closeFd(a);
    let err: NodeJS.ErrnoException | undefined;
    for (let i = 0; i < 1000 && !err; i++) {
      try {
        s.send(c, 'are you there?');
        waitFd(c, s.POLLERR | s.POLLHUP, 200 + i);
      } catch (e) {
        if (/none of events/.test((e as Error).message)) continue;
        err = e as NodeJS.ErrnoException;
      }
    }
    expect(err).toBeInstanceOf(Error);
    expect(['EPIPE', 'ECONNRESET']).toContain(err!.code);
    expect(err!.syscall).toBe('send');
    expect(getSystemErrorName(err!.errno!)).toBe(err!.code);
  });

  it6('SO_REUSEPORT lets two sockets bind one port; without it the second bind is EADDRINUSE', () => {
    const a = track(s.socket(f.domain, s.SOCK_STREAM));
    const b = track(s.socket(f.domain, s.SOCK_STREAM));
    s.setsockopt(a, s.SOL_SOCKET, s.SO_REUSEPORT, 1);
    s.setsockopt(b, s.SOL_SOCKET, s.SO_REUSEPORT, true);
    expect(s.getsockopt(b, s.SOL_SOCKET, s.SO_REUSEPORT)).not.toBe(0);
    s.bind(a, { address: f.host, port: 0 });
    const port = (s.getsockname(a) as s.InetAddress).port;
    s.listen(a);
    s.bind(b, { address: f.host, port });
    s.listen(b);
    expect(s.getsockname(b)).toEqual({ ...here, port });
    const x = track(s.socket(f.domain, s.SOCK_STREAM));
    const e = thrown(() => s.bind(x, { address: f.host, port }));
    expect(e.code).toBe('EADDRINUSE');
    expect(e.syscall).toBe('bind');
    expect(e.message).toBe(`bind EADDRINUSE ${f.host}:${port}`);
    expect(e.address).toBe(f.host);
    expect(e.port).toBe(port);
  });

  it6('sendAll of several MiB to a reader in a child process', async () => {
    const l = listener();
    const child = runNode(READER, [f.host, String(l.port)]);
    children.push(child);
    await child.waitFor(/connected/);
    waitFd(l.fd, s.POLLIN);
    const a = track(s.accept(l.fd)!.fd);
    const data = randomBytes(6 * 1024 * 1024 + 123);
    expect(s.sendAll(a, data)).toBeUndefined();
    closeFd(a);
    const m = await child.waitFor(/done (\d+) ([0-9a-f]+)/, 60000);
    expect(Number(m[1])).toBe(data.length);
    expect(m[2]).toBe(sha256(data));
    expect(await child.exited()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('Unix stream sockets', () => {
  function unixListener(path = tmpSocketPath('l')): number {
    const l = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    s.bind(l, { path });
    s.listen(l);
    return l;
  }

  it('bind to a path, listen, connect, accept; addresses as { family: "unix", path }', () => {
    const path = tmpSocketPath('srv');
    const l = unixListener(path);
    expect(s.getsockname(l)).toEqual({ family: 'unix', path });
    const c = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    expect(s.getsockname(c)).toEqual({ family: 'unix', path: '' }); // unbound
    expect(s.connect(c, { path })).toBe(true);
    expect(s.getpeername(c)).toEqual({ family: 'unix', path });
    const acc = s.accept(l)!;
    track(acc.fd);
    expect(acc.address).toEqual({ family: 'unix', path: '' }); // the client is unbound
    expect(s.getsockname(acc.fd)).toEqual({ family: 'unix', path });
    expect(s.send(c, 'over unix')).toBe(9);
    expect(recvExact(acc.fd, 9).toString()).toBe('over unix');
    s.shutdown(acc.fd, s.SHUT_WR);
    waitFd(c, s.POLLIN);
    expect(s.recv(c, 5)).toEqual(Buffer.alloc(0));
    expect(s.recvInto(c, Buffer.alloc(5), 1, 2)).toBe(0);
  });

  it('a client bound to its own path is seen by accept and getpeername', () => {
    const path = tmpSocketPath('srv');
    const l = unixListener(path);
    const cpath = tmpSocketPath('cli');
    const c = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    s.bind(c, { path: cpath });
    s.connect(c, { path });
    const acc = s.accept(l)!;
    track(acc.fd);
    expect(acc.address).toEqual({ family: 'unix', path: cpath });
    expect(s.getpeername(acc.fd)).toEqual({ family: 'unix', path: cpath });
  });

  it('abstract names (a leading NUL) bind, connect and come back from getsockname', () => {
    const name = `\0sockfd-test-${process.pid}-${randomBytes(6).toString('hex')}`;
    const l = unixListener(name);
    expect(s.getsockname(l)).toEqual({ family: 'unix', path: name });
    const c = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    expect(s.connect(c, { path: name })).toBe(true);
    expect(s.getpeername(c)).toEqual({ family: 'unix', path: name });
    const a = track(s.accept(l)!.fd);
    s.send(a, 'abstract');
    expect(recvExact(c, 8).toString()).toBe('abstract');
    // A second bind to the same abstract name is EADDRINUSE, labelled as `ss` shows it.
    const x = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    const e = thrown(() => s.bind(x, { path: name }));
    expect(e.code).toBe('EADDRINUSE');
    expect(e.address).toBe(`@${name.slice(1)}`);
  });

  it('autobind: bind to "" picks an abstract name, which the peer sees', () => {
    const l = unixListener();
    const c = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    s.bind(c, { path: '' });
    const name = s.getsockname(c) as s.UnixAddress;
    expect(name.family).toBe('unix');
    expect(name.path.startsWith('\0')).toBe(true);
    expect(name.path.length).toBeGreaterThan(1);
    s.connect(c, { path: (s.getsockname(l) as s.UnixAddress).path });
    const acc = s.accept(l)!;
    track(acc.fd);
    expect(acc.address).toEqual(name);
  });

  it('connect to a missing path: ENOENT with the path as address (and no port)', () => {
    const path = tmpSocketPath('missing');
    const c = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    const e = thrown(() => s.connect(c, { path }));
    expect(e.message).toBe(`connect ENOENT ${path}`);
    expect(e.code).toBe('ENOENT');
    expect(e.errno).toBe(-osConstants.errno.ENOENT);
    expect(getSystemErrorName(e.errno!)).toBe('ENOENT');
    expect(e.syscall).toBe('connect');
    expect(e.address).toBe(path);
    expect('port' in e).toBe(false);
  });

  it('non-blocking accept returns null, then the connection', () => {
    const path = tmpSocketPath('nb');
    const l = track(s.socket(s.AF_UNIX, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    s.bind(l, { path });
    s.listen(l);
    expect(s.accept(l)).toBeNull();
    const c = track(s.socket(s.AF_UNIX, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    expect(s.connect(c, { path })).toBe(true);
    const acc = s.accept(l);
    expect(acc).not.toBeNull();
    track(acc!.fd);
    expect(s.getBlocking(acc!.fd)).toBe(true); // no SOCK_NONBLOCK asked for
    expect(s.accept(l)).toBeNull();
  });

  it('send to a closed peer is an EPIPE error, not a signal, and the process goes on', () => {
    const [a, b] = trackedPair();
    closeFd(b);
    const e = thrown(() => s.send(a, 'anyone?'));
    expect(e.code).toBe('EPIPE');
    expect(e.errno).toBe(-osConstants.errno.EPIPE);
    expect(e.syscall).toBe('send');
    expect(e.message).toBe('send EPIPE');
    const e2 = thrown(() => s.sendAll(a, Buffer.alloc(100)));
    expect(e2.code).toBe('EPIPE');
    // Still alive, and the fd still usable for other calls.
    expect(s.getsockopt(a, s.SOL_SOCKET, s.SO_TYPE)).toBe(s.SOCK_STREAM);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('data and buffers', () => {
  it('send takes a UTF-8 string, Buffer, Uint8Array, Uint16Array, DataView and ArrayBuffer (only the view\'s bytes)', () => {
    const [a, b] = trackedPair();
    const backing = new ArrayBuffer(16);
    new Uint8Array(backing).forEach((_, i, arr) => (arr[i] = i + 1));
    const cases: Array<[string, s.Data, Buffer]> = [
      ['string', 'héllo wörld € 𝄞', Buffer.from('héllo wörld € 𝄞', 'utf8')],
      ['Buffer', Buffer.from([9, 8, 7]), Buffer.from([9, 8, 7])],
      ['Uint8Array', new Uint8Array(backing, 3, 5), Buffer.from([4, 5, 6, 7, 8])],
      ['Uint16Array', new Uint16Array(backing, 4, 3), bytesOf(new Uint16Array(backing, 4, 3))],
      ['DataView', new DataView(backing, 10, 4), Buffer.from([11, 12, 13, 14])],
      ['ArrayBuffer', backing.slice(0, 6), Buffer.from([1, 2, 3, 4, 5, 6])],
      ['empty string', '', Buffer.alloc(0)],
    ];
    expect(cases[3][2]).toHaveLength(6);
    for (const [what, data, bytes] of cases) {
      expect(s.send(a, data), what).toBe(bytes.length);
      if (bytes.length > 0) expect(recvExact(b, bytes.length), what).toEqual(bytes);
    }
    // Nothing extra arrived.
    s.setBlocking(b, false);
    expect(s.recv(b, 100)).toBeNull();
    // sendAll takes the same types.
    s.sendAll(a, new Uint16Array(backing, 2, 2));
    expect(recvExact(b, 4)).toEqual(Buffer.from([3, 4, 5, 6]));
    s.sendAll(a, 'ü');
    expect(recvExact(b, 2)).toEqual(Buffer.from('ü'));
  });

  it('recvInto writes exactly into [offset, offset + length) and nothing outside it', () => {
    const [a, b] = trackedPair();
    s.send(a, 'ABCDEFGHIJ');
    const buf = Buffer.alloc(32, 0xaa);
    waitFd(b, s.POLLIN);
    expect(s.recvInto(b, buf, 5, 4)).toBe(4);
    const want = Buffer.alloc(32, 0xaa);
    want.write('ABCD', 5);
    expect(buf).toEqual(want);
    // Offset only: the window runs to the end of the buffer; only the bytes that arrived change.
    expect(s.recvInto(b, buf, 20)).toBe(6);
    want.write('EFGHIJ', 20);
    expect(buf).toEqual(want);
    // A length-0 window reads nothing (and is not end of stream).
    s.send(a, 'xyz');
    waitFd(b, s.POLLIN);
    expect(s.recvInto(b, buf, 3, 0)).toBe(0);
    expect(buf).toEqual(want);
    expect(s.recv(b, 10)!.toString()).toBe('xyz');
  });

  it('recvInto counts offset and length in bytes on any view, relative to the view', () => {
    const [a, b] = trackedPair();
    const backing = new ArrayBuffer(24);
    new Uint8Array(backing).fill(0x55);
    const u16 = new Uint16Array(backing, 4, 8); // bytes 4..20 of the backing store
    s.send(a, Buffer.from([1, 2, 3]));
    waitFd(b, s.POLLIN);
    expect(s.recvInto(b, u16, 3, 3)).toBe(3); // bytes 7..10 of the backing store
    const want = Buffer.alloc(24, 0x55);
    want.set([1, 2, 3], 7);
    expect(Buffer.from(backing)).toEqual(want);

    const dv = new DataView(backing, 16, 8);
    s.send(a, Buffer.from([9, 9, 9, 9, 9, 9, 9, 9, 9, 9]));
    waitFd(b, s.POLLIN);
    expect(s.recvInto(b, dv, 6)).toBe(2); // bytes 22, 23: the end of the view
    want.set([9, 9], 22);
    expect(Buffer.from(backing)).toEqual(want);

    expect(s.recvInto(b, backing, 0, 1)).toBe(1); // a plain ArrayBuffer
    want[0] = 9;
    expect(Buffer.from(backing)).toEqual(want);
    expect(recvExact(b, 7)).toEqual(Buffer.alloc(7, 9));
  });

  it('recv of a large size returns only what arrived, in a Buffer of that length', () => {
    const [a, b] = trackedPair();
    s.send(a, 'short');
    waitFd(b, s.POLLIN);
    const got = s.recv(b, 1 << 20)!;
    expect(got.toString()).toBe('short');
    expect(got.length).toBe(5);
    const big = randomBytes(100_000);
    s.setBlocking(a, false);
    let sent = 0;
    while (sent < big.length) {
      const n = s.send(a, big.subarray(sent));
      if (n === null) break;
      sent += n;
    }
    const back = recvExact(b, sent);
    expect(back).toEqual(big.subarray(0, sent));
  });

  it('several MiB through non-blocking send and recvInto, interleaved in this thread', () => {
    const [a, b] = trackedPair();
    s.setBlocking(a, false);
    s.setBlocking(b, false);
    const data = randomBytes(5 * 1024 * 1024);
    const out = Buffer.alloc(data.length);
    let sent = 0;
    let got = 0;
    let fullTimes = 0;
    while (got < data.length) {
      while (sent < data.length) {
        const n = s.send(a, data.subarray(sent, Math.min(data.length, sent + 300_000)));
        if (n === null) {
          fullTimes++;
          break;
        }
        sent += n;
      }
      for (;;) {
        const n = s.recvInto(b, out, got, Math.min(out.length - got, 70_001));
        if (n === null) break;
        expect(n).toBeGreaterThan(0);
        got += n;
        if (got === data.length) break;
      }
    }
    expect(fullTimes).toBeGreaterThan(0); // the buffer did fill: the would-block path was taken
    expect(sha256(out)).toBe(sha256(data));
  });

  it('sendAll of several MiB over a socketpair to a child reader (blocking fd)', async () => {
    const [a, b] = trackedPair();
    const child = readerOnFd(b);
    closeFd(b);
    const data = randomBytes(4 * 1024 * 1024 + 7);
    s.sendAll(a, data);
    closeFd(a);
    const m = await child.waitFor(/done (\d+) ([0-9a-f]+)/, 60000);
    expect(Number(m[1])).toBe(data.length);
    expect(m[2]).toBe(sha256(data));
    expect(await child.exited()).toBe(0);
  });

  it('sendAll of several MiB on a non-blocking fd waits for writability between partial sends', async () => {
    const [a, b] = trackedPair();
    const child = readerOnFd(b);
    closeFd(b);
    s.setBlocking(a, false);
    const text = 'sockfd ✓ '.repeat(400_000); // a string: sent as UTF-8
    const bytes = Buffer.from(text, 'utf8');
    s.sendAll(a, text);
    expect(s.getBlocking(a)).toBe(false); // left as it was
    closeFd(a);
    const m = await child.waitFor(/done (\d+) ([0-9a-f]+)/, 60000);
    expect(Number(m[1])).toBe(bytes.length);
    expect(m[2]).toBe(sha256(bytes));
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('descriptor flags and socket options', () => {
  it('socket(), socketpair() and accept() fds are close-on-exec; fcntl(F_GETFD) says FD_CLOEXEC', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(s.fcntl(fd, s.F_GETFD)).toBe(s.FD_CLOEXEC);
    const [a, b] = trackedPair();
    for (const x of [a, b]) {
      expect(fdFlags(x) & O_CLOEXEC).toBe(O_CLOEXEC);
      expect(s.fcntl(x, s.F_GETFD) & s.FD_CLOEXEC).toBe(s.FD_CLOEXEC);
    }
    const [d1, d2] = trackedPair(s.SOCK_DGRAM);
    expect(fdFlags(d1) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(fdFlags(d2) & O_CLOEXEC).toBe(O_CLOEXEC);
    const l = tcpListener();
    track(l.fd);
    expect(fdFlags(l.fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    const c = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    s.connect(c, { address: '127.0.0.1', port: l.port });
    waitFd(l.fd, s.POLLIN);
    const acc = s.accept(l.fd)!;
    track(acc.fd);
    expect(fdFlags(acc.fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(s.fcntl(acc.fd, s.F_GETFD)).toBe(s.FD_CLOEXEC);
    expect(fdFlags(acc.fd) & O_NONBLOCK).toBe(0);
  });

  it('close-on-exec: a child process does not inherit the sockets', async () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    const [a] = trackedPair();
    const child = runNode(`
      const fs = require('node:fs');
      const out = [];
      for (const fd of process.argv.slice(1).map(Number)) {
        let t = 'closed';
        try { t = fs.readlinkSync('/proc/self/fd/' + fd); } catch {}
        out.push(fd + '=' + (t.startsWith('socket:') ? 'socket' : 'other'));
      }
      console.log('fds ' + out.join(','));
    `, [String(fd), String(a)]);
    children.push(child);
    expect(await child.exited()).toBe(0);
    const m = /^fds (\S+)$/m.exec(child.output());
    expect(m).not.toBeNull();
    const seen = m![1].split(',');
    expect(seen).toHaveLength(2);
    for (const x of seen) expect(x).not.toMatch(/=socket$/);
  });

  it('SOCK_NONBLOCK in socket() and socketpair() types; accept(fd, SOCK_NONBLOCK)', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM | s.SOCK_NONBLOCK));
    expect(fdFlags(fd) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(s.getBlocking(fd)).toBe(false);
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_TYPE)).toBe(s.SOCK_DGRAM); // the flag is not part of the type
    const [a, b] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM | s.SOCK_NONBLOCK);
    track(a);
    track(b);
    expect(s.getBlocking(a)).toBe(false);
    expect(s.getBlocking(b)).toBe(false);
    expect(s.recv(a, 1)).toBeNull();
  });

  it('setBlocking / getBlocking round trip toggles O_NONBLOCK alone and keeps the other flags', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expect(s.getBlocking(fd)).toBe(true);
    // Add another file status flag, to see that it survives.
    s.fcntl(fd, s.F_SETFL, s.fcntl(fd, s.F_GETFL) | O_APPEND);
    const base = fdFlags(fd);
    expect(base & O_APPEND).toBe(O_APPEND);
    expect(base & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(base & O_NONBLOCK).toBe(0);

    expect(s.setBlocking(fd, false)).toBeUndefined();
    expect(s.getBlocking(fd)).toBe(false);
    expect(fdFlags(fd)).toBe(base | O_NONBLOCK);
    expect(s.fcntl(fd, s.F_GETFL) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(s.fcntl(fd, s.F_GETFD)).toBe(s.FD_CLOEXEC);

    s.setBlocking(fd, false); // idempotent
    expect(fdFlags(fd)).toBe(base | O_NONBLOCK);

    s.setBlocking(fd, true);
    expect(s.getBlocking(fd)).toBe(true);
    expect(fdFlags(fd)).toBe(base);
    s.setBlocking(fd, true);
    expect(fdFlags(fd)).toBe(base);
  });

  it('SO_REUSEADDR: set with a number or a boolean, read back as a number', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR)).toBe(0);
    s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, 1);
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR)).not.toBe(0);
    s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, false);
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR)).toBe(0);
    s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, true);
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR)).not.toBe(0);
    s.setsockopt(fd, s.IPPROTO_TCP, s.TCP_NODELAY, true);
    expect(s.getsockopt(fd, s.IPPROTO_TCP, s.TCP_NODELAY)).not.toBe(0);
    s.setsockopt(fd, s.SOL_SOCKET, s.SO_RCVBUF, 65536);
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_RCVBUF)).toBeGreaterThanOrEqual(65536);
  });

  it('SO_LINGER as raw bytes: setsockopt with a Buffer, getsockopt with a length gives a Buffer', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    const off = s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, 8);
    expect(Buffer.isBuffer(off)).toBe(true);
    expect(off).toEqual(Buffer.alloc(8));
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0); // l_onoff (little-endian: x86-64 and arm64 Linux)
    linger.writeInt32LE(7, 4); // l_linger
    s.setsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, linger);
    const got = s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, 8);
    expect(got).toEqual(linger);
    // A longer length gives back only what the kernel wrote.
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, 64)).toEqual(linger);
    // A shorter one: the kernel truncates.
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, 4)).toEqual(linger.subarray(0, 4));
    // The same struct from a typed array.
    s.setsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, new Int32Array([1, 3]));
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, 8).readInt32LE(4)).toBe(3);
    // Too short a struct is the kernel's EINVAL.
    const e = thrown(() => s.setsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, Buffer.alloc(2)));
    expect(e.code).toBe('EINVAL');
    expect(e.syscall).toBe('setsockopt');
  });

  it('SO_TYPE, SO_DOMAIN and SO_ERROR read as numbers', () => {
    const [a] = trackedPair(s.SOCK_SEQPACKET);
    expect(s.getsockopt(a, s.SOL_SOCKET, s.SO_TYPE)).toBe(s.SOCK_SEQPACKET);
    expect(s.getsockopt(a, s.SOL_SOCKET, s.SO_DOMAIN)).toBe(s.AF_UNIX);
    expect(s.getsockopt(a, s.SOL_SOCKET, s.SO_ERROR)).toBe(0);
  });
});
