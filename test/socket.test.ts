/**
 * The Socket class over real sockets: TCP on 127.0.0.1 and ::1, UDP, Unix stream and datagram sockets on paths.
 * Blocking servers run in child processes; the tutorial's server and client (test/fixtures) talk to each other.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { runNode, wrap, type Child } from './helpers/child';
import { checkFdLeaks, fdFlags, isOpen, O_CLOEXEC } from './helpers/fds';
import { families, ipv6, tmpSocketPath } from './helpers/net';

checkFdLeaks();

const EBADF = osConstants.errno.EBADF;

// Every Socket a test makes is closed after it (closing twice is harmless, so tests may close their own too).
const sockets: s.Socket[] = [];
function own<T extends s.Socket>(sock: T): T {
  sockets.push(sock);
  return sock;
}
const children: Child[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const sock of sockets.splice(0)) sock.close();
});

function listener(family: number = s.AF_INET, host = '127.0.0.1'): { server: s.Socket; port: number } {
  const server = own(new s.Socket(family, s.SOCK_STREAM));
  server.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1);
  server.bind({ address: host, port: 0 });
  server.listen();
  return { server, port: (server.getsockname() as s.InetAddress).port };
}

/** A connected TCP pair of Sockets: [client, accepted]. */
function tcpSockets(family: number = s.AF_INET, host = '127.0.0.1'): [s.Socket, s.Socket] {
  const { server, port } = listener(family, host);
  const client = own(new s.Socket(family, s.SOCK_STREAM));
  client.connect({ address: host, port });
  const [conn] = server.accept()!;
  own(conn);
  server.close();
  return [client, conn];
}

function resolves(host: string, family: number): boolean {
  try {
    return s.getaddrinfo(host, null, { family }).length > 0;
  } catch {
    return false;
  }
}

function python3(): string | null {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return 'python3';
  } catch {
    return null;
  }
}

describe('construction', () => {
  it('defaults to AF_INET, SOCK_STREAM, protocol 0; blocking and close-on-exec', () => {
    const sock = own(new s.Socket());
    expect(sock.family).toBe(s.AF_INET);
    expect(sock.type).toBe(s.SOCK_STREAM);
    expect(sock.protocol).toBe(0);
    expect(sock.closed).toBe(false);
    const fd = sock.fileno();
    expect(Number.isInteger(fd) && fd >= 0).toBe(true);
    expect(sock.getsockopt(s.SOL_SOCKET, s.SO_DOMAIN)).toBe(s.AF_INET);
    expect(sock.getsockopt(s.SOL_SOCKET, s.SO_TYPE)).toBe(s.SOCK_STREAM);
    expect(sock.getBlocking()).toBe(true);
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(String(sock)).toBe(`<Socket fd=${fd} family=${s.AF_INET} type=${s.SOCK_STREAM} protocol=0>`);
  });

  it('reports its type without SOCK_NONBLOCK / SOCK_CLOEXEC, and is non-blocking when asked', () => {
    const sock = own(new s.Socket(s.AF_INET, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    expect(sock.type).toBe(s.SOCK_STREAM);
    expect(sock.getBlocking()).toBe(false);
    const dgram = own(new s.Socket(s.AF_UNIX, s.SOCK_DGRAM | s.SOCK_NONBLOCK | s.SOCK_CLOEXEC));
    expect(dgram.type).toBe(s.SOCK_DGRAM);
  });

  it('an unsupported family is the kernel error, thrown by the constructor', () => {
    let err: s.SystemError | undefined;
    try {
      own(new s.Socket(12345, s.SOCK_STREAM));
    } catch (e) {
      err = e as s.SystemError;
    }
    expect(err).toMatchObject({ code: 'EAFNOSUPPORT', syscall: 'socket' });
    expect(getSystemErrorName(err!.errno)).toBe('EAFNOSUPPORT');
  });

  it.each([
    ['TCP', s.AF_INET, s.SOCK_STREAM, s.IPPROTO_TCP],
    ['UDP', s.AF_INET, s.SOCK_DGRAM, s.IPPROTO_UDP],
    ['Unix datagram', s.AF_UNIX, s.SOCK_DGRAM, 0],
    ['Unix stream', s.AF_UNIX, s.SOCK_STREAM, 0],
  ])('fromFd reads family, type and protocol of a %s socket', (_name, family, type, protocol) => {
    const fd = s.socket(family, type | s.SOCK_NONBLOCK);
    const sock = own(s.Socket.fromFd(fd));
    expect(sock.fileno()).toBe(fd);
    expect(sock.family).toBe(family);
    expect(sock.type).toBe(type);
    expect(sock.protocol).toBe(protocol);
    expect(sock.getBlocking()).toBe(false);
    sock.close();
    expect(isOpen(fd)).toBe(false);
  });

  it('fromFd of something that is not a socket is ENOTSOCK, and leaves the fd open', () => {
    const fd = fs.openSync('/dev/null', 'r');
    let err: s.SystemError | undefined;
    try {
      own(s.Socket.fromFd(fd));
    } catch (e) {
      err = e as s.SystemError;
    }
    expect(err).toMatchObject({ code: 'ENOTSOCK', syscall: 'getsockopt' });
    expect(isOpen(fd)).toBe(true);
    fs.closeSync(fd);
  });

  it('the fileno argument takes ownership of an fd', () => {
    const [a, b] = s.socketpair();
    const x = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a));
    const y = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, b));
    expect(x.fileno()).toBe(a);
    x.sendAll('via fileno');
    expect(y.recv(100)!.toString()).toBe('via fileno');
    x.close();
    y.close();
    expect(isOpen(a) || isOpen(b)).toBe(false);
  });
});

describe.each(families)('TCP over $name', ({ domain, host, name }) => {
  const skip = name === 'IPv6' && !ipv6.ok;

  it.skipIf(skip)('bind / listen / accept returns [Socket, address]; getsockname and getpeername agree', () => {
    const { server, port } = listener(domain, host);
    expect(server.getsockname()).toEqual({ family: name, address: host, port });
    const client = own(new s.Socket(domain, s.SOCK_STREAM));
    expect(client.connect({ address: host, port })).toBe(true);
    const got = server.accept();
    expect(got).not.toBeNull();
    const [conn, address] = got!;
    own(conn);
    expect(conn).toBeInstanceOf(s.Socket);
    expect(conn.family).toBe(domain);
    expect(conn.type).toBe(s.SOCK_STREAM);
    expect(address).toEqual(client.getsockname());
    expect(address).toMatchObject({ family: name, address: host });
    expect(conn.getpeername()).toEqual(address);
    expect(client.getpeername()).toEqual({ family: name, address: host, port });
    expect(conn.getsockname()).toEqual({ family: name, address: host, port });
    expect(conn.getBlocking()).toBe(true);
    expect(fdFlags(conn.fileno()) & O_CLOEXEC).toBe(O_CLOEXEC);
  });

  it.skipIf(skip)('send / recv / recvInto / sendAll / shutdown', () => {
    const [client, conn] = tcpSockets(domain, host);
    expect(client.send('hello')).toBe(5);
    expect(conn.recv(1024)!.toString()).toBe('hello');
    expect(conn.send(new Uint8Array([1, 2, 3]))).toBe(3);
    const buf = Buffer.alloc(10, 0xff);
    expect(client.recvInto(buf, 2, 5)).toBe(3);
    expect([...buf]).toEqual([0xff, 0xff, 1, 2, 3, 0xff, 0xff, 0xff, 0xff, 0xff]);
    client.sendAll('all of it');
    expect(conn.recv(9, s.MSG_WAITALL)!.toString()).toBe('all of it'); // MSG_WAITALL: all 9 bytes, or EOF
    client.shutdown(s.SHUT_WR);
    expect(conn.recv(100)!.length).toBe(0);
    // The other half still works after SHUT_WR.
    conn.sendAll('still here');
    conn.shutdown(s.SHUT_RDWR);
    expect(client.recv(100)!.toString()).toBe('still here');
    expect(client.recv(100)!.length).toBe(0);
  });

  it.skipIf(skip)('setBlocking(false): recv returns null, accept returns null, connect returns false', () => {
    const [client, conn] = tcpSockets(domain, host);
    conn.setBlocking(false);
    expect(conn.getBlocking()).toBe(false);
    expect(conn.recv(10)).toBeNull();
    expect(conn.recvInto(Buffer.alloc(4))).toBeNull();
    client.send('x');
    // Loopback delivers at once, but allow for the time it takes.
    let got: Buffer | null = null;
    for (let i = 0; i < 1000 && got === null; i++) {
      s.select([conn], [], [], 10);
      got = conn.recv(10);
    }
    expect(got!.toString()).toBe('x');
    conn.setBlocking(true);
    expect(conn.getBlocking()).toBe(true);

    const { server, port } = listener(domain, host);
    server.setBlocking(false);
    expect(server.accept()).toBeNull();
    const nb = own(new s.Socket(domain, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    expect(nb.connect({ address: host, port })).toBe(false);
  });

  it.skipIf(skip)('setsockopt / getsockopt, as numbers, booleans and bytes', () => {
    const sock = own(new s.Socket(domain, s.SOCK_STREAM));
    sock.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, true);
    expect(sock.getsockopt(s.SOL_SOCKET, s.SO_REUSEADDR)).toBe(1);
    sock.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 0);
    expect(sock.getsockopt(s.SOL_SOCKET, s.SO_REUSEADDR)).toBe(0);
    sock.setsockopt(s.IPPROTO_TCP, s.TCP_NODELAY, 1);
    expect(sock.getsockopt(s.IPPROTO_TCP, s.TCP_NODELAY)).not.toBe(0);
    sock.setsockopt(s.SOL_SOCKET, s.SO_RCVBUF, 8192);
    const n = sock.getsockopt(s.SOL_SOCKET, s.SO_RCVBUF);
    expect(n).toBeGreaterThanOrEqual(8192); // Linux doubles it
    const raw = sock.getsockopt(s.SOL_SOCKET, s.SO_RCVBUF, 4);
    expect(raw).toBeInstanceOf(Buffer);
    expect(raw.length).toBe(4);
    expect(raw.readInt32LE(0)).toBe(n);
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    linger.writeInt32LE(5, 4);
    sock.setsockopt(s.SOL_SOCKET, s.SO_LINGER, linger);
    expect(sock.getsockopt(s.SOL_SOCKET, s.SO_LINGER, 8)).toEqual(linger);
    let err: s.SystemError | undefined;
    try {
      sock.getsockopt(s.SOL_SOCKET, 0x7ff0);
    } catch (e) {
      err = e as s.SystemError;
    }
    expect(err).toMatchObject({ code: 'ENOPROTOOPT', syscall: 'getsockopt' });
  });

  it.skipIf(skip || !resolves('localhost', domain))('connect takes a host name, resolved with getaddrinfo for the family', () => {
    const { server, port } = listener(domain, host);
    const client = own(new s.Socket(domain, s.SOCK_STREAM));
    expect(client.connect({ address: 'localhost', port })).toBe(true);
    const [conn, address] = server.accept()!;
    own(conn);
    expect(address).toEqual(client.getsockname());
    expect(client.getpeername()).toEqual({ family: name, address: host, port });
  });
});

describe('host names', () => {
  it('an unknown host name is the resolver error, thrown by connect', () => {
    const sock = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    let err: s.SystemError | undefined;
    try {
      sock.connect({ address: 'nonexistent.invalid', port: 80 });
    } catch (e) {
      err = e as s.SystemError;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.syscall).toBe('getaddrinfo');
    expect(getSystemErrorName(err!.errno)).toBe(err!.code);
    expect(sock.closed).toBe(false);
  });

  it('sendto takes a host name too', () => {
    const rx = own(new s.Socket(s.AF_INET, s.SOCK_DGRAM));
    rx.bind({ address: '127.0.0.1', port: 0 });
    const port = (rx.getsockname() as s.InetAddress).port;
    const tx = own(new s.Socket(s.AF_INET, s.SOCK_DGRAM));
    expect(tx.sendto('by name', { address: 'localhost', port })).toBe(7);
    const got = rx.recvfrom(100)!;
    expect(got.data.toString()).toBe('by name');
    // tx was bound implicitly, to 0.0.0.0 and a free port; the packet came from loopback.
    expect(got.address).toEqual({ family: 'IPv4', address: '127.0.0.1', port: (tx.getsockname() as s.InetAddress).port });
  });
});

describe('datagrams', () => {
  it.each(families)('UDP over $name: sendto / recvfrom, with the sender address', ({ domain, host, name }) => {
    if (name === 'IPv6' && !ipv6.ok) return;
    const rx = own(new s.Socket(domain, s.SOCK_DGRAM));
    rx.bind({ address: host, port: 0 });
    const rxAddr = rx.getsockname() as s.InetAddress;
    expect(rxAddr).toMatchObject({ family: name, address: host });
    const tx = own(new s.Socket(domain, s.SOCK_DGRAM));
    tx.bind({ address: host, port: 0 });
    expect(tx.sendto(Buffer.from('one'), { address: host, port: rxAddr.port })).toBe(3);
    expect(tx.sendto('two', { address: host, port: rxAddr.port })).toBe(3);
    const first = rx.recvfrom(100)!;
    expect(first.data.toString()).toBe('one');
    expect(first.address).toEqual(tx.getsockname());
    // A datagram longer than the size asked for is truncated.
    const second = rx.recvfrom(2)!;
    expect(second.data.toString()).toBe('tw');
    // A connected datagram socket: send / recv.
    tx.connect({ address: host, port: rxAddr.port });
    expect(tx.send('three')).toBe(5);
    expect(rx.recv(100)!.toString()).toBe('three');
    rx.setBlocking(false);
    expect(rx.recvfrom(100)).toBeNull();
  });

  it('Unix datagram sockets on paths: sendto / recvfrom, with the sender path', () => {
    const rxPath = tmpSocketPath('dgram-rx');
    const txPath = tmpSocketPath('dgram-tx');
    const rx = own(new s.Socket(s.AF_UNIX, s.SOCK_DGRAM));
    rx.bind({ path: rxPath });
    const tx = own(new s.Socket(s.AF_UNIX, s.SOCK_DGRAM));
    tx.bind({ path: txPath });
    expect(rx.getsockname()).toEqual({ family: 'unix', path: rxPath });
    expect(tx.sendto('over a path', { path: rxPath })).toBe(11);
    const got = rx.recvfrom(100)!;
    expect(got.data.toString()).toBe('over a path');
    expect(got.address).toEqual({ family: 'unix', path: txPath });
  });
});

describe('Unix stream sockets on paths', () => {
  it('bind / listen / accept / connect, and the addresses', () => {
    const p = tmpSocketPath('stream');
    const server = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    server.bind({ path: p });
    server.listen(5);
    const client = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    expect(client.connect({ path: p })).toBe(true);
    const [conn, address] = server.accept()!;
    own(conn);
    expect(address).toEqual({ family: 'unix', path: '' }); // an unbound client has no name
    expect(conn.family).toBe(s.AF_UNIX);
    expect(client.getpeername()).toEqual({ family: 'unix', path: p });
    expect(conn.getsockname()).toEqual({ family: 'unix', path: p });
    client.sendAll('unix');
    expect(conn.recv(10)!.toString()).toBe('unix');
  });
});

describe('sendAll', () => {
  it('sends a payload far larger than the socket buffers, to a reader in a child process', async () => {
    const [mine, theirs] = s.socketpair();
    const sender = own(s.Socket.fromFd(mine));
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
    const expected = createHash('sha256').update(payload).digest('hex');
    const reader = wrap(spawn(process.execPath, ['-e', `
      const s = require('sockfd');
      const h = require('node:crypto').createHash('sha256');
      let n = 0;
      for (;;) {
        const b = s.recv(3, 65536);
        if (b.length === 0) break;
        n += b.length;
        h.update(b);
      }
      console.log('got ' + n + ' ' + h.digest('hex'));
    `], { cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe', theirs] }));
    children.push(reader);
    s.close(theirs); // the child has its own copy; if it dies, sendAll fails with EPIPE instead of waiting
    sender.setBlocking(false); // sendAll waits for room with poll() between partial sends
    sender.sendAll(payload);
    sender.shutdown(s.SHUT_WR);
    const [, n, hash] = await reader.waitFor(/got (\d+) ([0-9a-f]+)/);
    expect(Number(n)).toBe(payload.length);
    expect(hash).toBe(expected);
    expect(await reader.exited()).toBe(0);
  });

  it('to a closed peer is EPIPE (never SIGPIPE)', () => {
    const [a, b] = s.socketpair();
    const x = own(s.Socket.fromFd(a));
    s.close(b);
    expect(() => x.sendAll(Buffer.alloc(1000))).toThrow(expect.objectContaining({ code: 'EPIPE', syscall: 'send' }));
  });
});

describe('life cycle', () => {
  it('close: fileno() is -1 after, closing twice is harmless, the fd is gone', () => {
    const sock = new s.Socket();
    const fd = sock.fileno();
    sock.close();
    expect(sock.fileno()).toBe(-1);
    expect(sock.closed).toBe(true);
    expect(isOpen(fd)).toBe(false);
    expect(() => sock.close()).not.toThrow();
    expect(sock.fileno()).toBe(-1);
  });

  it('detach returns the fd without closing it', () => {
    const sock = new s.Socket(s.AF_INET, s.SOCK_DGRAM);
    const fd = sock.fileno();
    expect(sock.detach()).toBe(fd);
    expect(sock.fileno()).toBe(-1);
    expect(sock.closed).toBe(true);
    expect(isOpen(fd)).toBe(true);
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_TYPE)).toBe(s.SOCK_DGRAM);
    sock.close(); // does nothing now
    expect(isOpen(fd)).toBe(true);
    s.close(fd);
    expect(isOpen(fd)).toBe(false);
    expect(sock.detach()).toBe(-1);
  });

  const calls: Array<[string, string, (x: s.Socket) => unknown]> = [
    ['bind', 'bind', (x) => x.bind({ address: '127.0.0.1', port: 0 })],
    ['listen', 'listen', (x) => x.listen()],
    ['accept', 'accept', (x) => x.accept()],
    ['connect', 'connect', (x) => x.connect({ address: '127.0.0.1', port: 9 })],
    ['recv', 'recv', (x) => x.recv(10)],
    ['recvInto', 'recv', (x) => x.recvInto(Buffer.alloc(4))],
    ['recvfrom', 'recvfrom', (x) => x.recvfrom(10)],
    ['send', 'send', (x) => x.send('x')],
    ['sendAll', 'send', (x) => x.sendAll('x')],
    ['sendto', 'sendto', (x) => x.sendto('x', { address: '127.0.0.1', port: 9 })],
    ['shutdown', 'shutdown', (x) => x.shutdown(s.SHUT_RDWR)],
    ['setBlocking', 'ioctl', (x) => x.setBlocking(false)],
    ['getBlocking', 'fcntl', (x) => x.getBlocking()],
    ['setsockopt', 'setsockopt', (x) => x.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1)],
    ['getsockopt', 'getsockopt', (x) => x.getsockopt(s.SOL_SOCKET, s.SO_TYPE)],
    ['getsockname', 'getsockname', (x) => x.getsockname()],
    ['getpeername', 'getpeername', (x) => x.getpeername()],
  ];
  it.each(calls)('%s after close throws EBADF (syscall %s)', (_name, syscall, call) => {
    for (const end of ['close', 'detach'] as const) {
      const sock = new s.Socket();
      let fd = -1;
      if (end === 'close') sock.close();
      else fd = sock.detach();
      let err: s.SystemError | undefined;
      try {
        call(sock);
      } catch (e) {
        err = e as s.SystemError;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ code: 'EBADF', errno: -EBADF, syscall });
      expect(err!.errno).toBe(-9);
      expect(getSystemErrorName(err!.errno)).toBe('EBADF');
      expect(err!.message).toContain('EBADF');
      if (fd >= 0) {
        // A detached fd is left alone by the failed call.
        expect(isOpen(fd)).toBe(true);
        s.close(fd);
      }
    }
  });

  it('a `using` block closes the socket at its end', () => {
    let fd: number;
    let kept: s.Socket;
    {
      using sock = new s.Socket();
      fd = sock.fileno();
      kept = sock;
      expect(isOpen(fd)).toBe(true);
    }
    expect(kept.closed).toBe(true);
    expect(isOpen(fd)).toBe(false);
  });

  it('[Symbol.dispose]() closes, and is harmless twice', () => {
    const sock = new s.Socket();
    const fd = sock.fileno();
    sock[Symbol.dispose]();
    expect(sock.fileno()).toBe(-1);
    expect(isOpen(fd)).toBe(false);
    expect(() => sock[Symbol.dispose]()).not.toThrow();
  });
});

describe('a blocking server in a child process', () => {
  it('accept blocks in the child until the test connects; data goes both ways', async () => {
    const server = runNode(`
      const s = require('sockfd');
      const srv = new s.Socket(s.AF_INET, s.SOCK_STREAM);
      srv.bind({ address: '127.0.0.1', port: 0 });
      srv.listen(1);
      console.log('port ' + srv.getsockname().port);
      const [conn, addr] = srv.accept();
      console.log('peer ' + addr.port);
      const data = conn.recv(100);
      conn.sendAll(Buffer.concat([Buffer.from('echo: '), data]));
      conn.close();
      srv.close();
    `);
    children.push(server);
    const [, port] = await server.waitFor(/port (\d+)/);
    const client = own(new s.Socket());
    client.connect({ address: '127.0.0.1', port: Number(port) });
    const [, peer] = await server.waitFor(/peer (\d+)/);
    expect(Number(peer)).toBe((client.getsockname() as s.InetAddress).port);
    client.sendAll('marco');
    expect(client.recv(100)!.toString()).toBe('echo: marco');
    expect(client.recv(100)!.length).toBe(0);
    expect(await server.exited()).toBe(0);
  });
});

describe("the tutorial's server and client, rewritten with Socket", () => {
  const fixtures = path.join(__dirname, 'fixtures');

  async function startServer(): Promise<{ server: Child; port: number }> {
    const server = wrap(spawn(process.execPath, [path.join(fixtures, 'tutorial-server.js'), '0'], {
      cwd: path.resolve(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    children.push(server);
    const [, port] = await server.waitFor(/Waiting for connection on port (\d+)\.\.\./);
    return { server, port: Number(port) };
  }

  function expectConversation(out: string): void {
    const lines = out.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('Welcome');
    expect(lines[1]).toBe('>>> hello');
    expect(lines[3]).toBe('>>> what is the number?');
    expect(lines[5]).toBe('>>> exit');
    for (const n of [lines[2], lines[4]]) {
      expect(n).toMatch(/^\d+$/);
      expect(Number(n)).toBeGreaterThanOrEqual(1);
      expect(Number(n)).toBeLessThanOrEqual(100);
    }
  }

  it('run against each other in child processes, twice on one server', async () => {
    const { server, port } = await startServer();
    for (let round = 1; round <= 2; round++) {
      const client = wrap(spawn(process.execPath, [path.join(fixtures, 'tutorial-client.js'), String(port)], {
        cwd: path.resolve(__dirname, '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      }));
      children.push(client);
      expect(await client.exited()).toBe(0);
      expectConversation(client.output());
      // The server logs the end of each conversation, then waits for the next one.
      await server.waitFor(round === 1 ? /closed\n/ : /closed\n[^]*closed\n/);
    }
    const connected = [...server.output().matchAll(/Connected with 127\.0\.0\.1:(\d+)/g)].map((m) => m[1]);
    const closed = [...server.output().matchAll(/Connection from 127\.0\.0\.1:(\d+) closed/g)].map((m) => m[1]);
    expect(connected).toHaveLength(2);
    expect(closed).toEqual(connected);
    server.kill();
    await server.exited();
  });

  it.skipIf(!python3())("the tutorial's Python client talks to the sockfd server", async () => {
    const { server, port } = await startServer();
    const client = wrap(spawn(python3()!, ['-u', path.join(fixtures, 'tutorial_client.py'), String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    children.push(client);
    expect(await client.exited()).toBe(0);
    expectConversation(client.output());
    await server.waitFor(/Connection from 127\.0\.0\.1:\d+ closed/);
    server.kill();
    await server.exited();
  });
});
