/**
 * createConnection, createServer and hasDualstackIpv6, after CPython's test_socket (NetworkConnectionNoServer,
 * NetworkConnectionAttributesTest, CreateServerTest, CreateServerFunctionalTest). Loopback only: 127.0.0.1, ::1,
 * the v4-mapped ::ffff:127.0.0.1, and Unix paths.
 */
import { constants as osConstants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { connectFirst } from '../lib/create';
import { checkFdLeaks, openFds } from './helpers/fds';
import { closedPort, ipv6, tmpSocketPath } from './helpers/net';

checkFdLeaks();

const sockets: s.Socket[] = [];
function own<T extends s.Socket>(sock: T): T {
  sockets.push(sock);
  return sock;
}
afterEach(() => {
  s.setdefaulttimeout(null);
  for (const sock of sockets.splice(0)) sock.close();
});

const portOf = (sock: s.Socket): number => (sock.getsockname() as s.InetAddress).port;

// createConnection's loop over several addresses needs a name with several: localhost, where it has ::1 too.
const localhost = s.getaddrinfo('localhost', null, { type: s.SOCK_STREAM });
const severalLocal = localhost.length >= 2;
if (!severalLocal) console.warn(`skipping the localhost case: localhost resolves to ${localhost.length} address here, it needs two (the address-list case covers the loop)`);

describe('createConnection', () => {
  it('connects to a loopback server; the socket is blocking (the default timeout) and close-on-exec', () => {
    const server = own(s.createServer({ address: '127.0.0.1', port: 0 }));
    const port = portOf(server);
    const c = own(s.createConnection({ address: '127.0.0.1', port }));
    expect(c.family).toBe(s.AF_INET);
    expect(c.type).toBe(s.SOCK_STREAM);
    expect(c.gettimeout()).toBeNull();
    expect(c.getpeername()).toEqual({ family: 'IPv4', address: '127.0.0.1', port });
    const [conn] = server.accept()!;
    own(conn);
    c.sendAll('hi');
    expect(conn.recv(10)!.toString()).toBe('hi');
  });

  it('keeps the timeout it is given, or the default timeout when none is given', () => {
    const server = own(s.createServer({ address: '127.0.0.1', port: 0 }));
    const port = portOf(server);
    expect(own(s.createConnection({ address: '127.0.0.1', port }, { timeout: 3000.5 })).gettimeout()).toBe(3001);
    s.setdefaulttimeout(42);
    expect(own(s.createConnection({ address: '127.0.0.1', port })).gettimeout()).toBe(42);
    expect(own(s.createConnection({ address: '127.0.0.1', port }, { timeout: null })).gettimeout()).toBeNull();
    expect(own(s.createConnection({ address: '127.0.0.1', port }, { timeout: undefined })).gettimeout()).toBe(42);
  });

  it('binds to sourceAddress first', () => {
    const server = own(s.createServer({ address: '127.0.0.1', port: 0 }));
    const from = closedPort();
    const c = own(s.createConnection({ address: '127.0.0.1', port: portOf(server) }, { sourceAddress: { address: '127.0.0.1', port: from } }));
    expect(c.getsockname()).toEqual({ family: 'IPv4', address: '127.0.0.1', port: from });
    const [conn, addr] = server.accept()!;
    own(conn);
    expect(addr).toEqual({ family: 'IPv4', address: '127.0.0.1', port: from });
  });

  it('nothing listening: the refusal (NetworkConnectionNoServer), and no socket left open', () => {
    const before = openFds().length;
    const port = closedPort();
    let err: NodeJS.ErrnoException & { address?: string; port?: number } | undefined;
    try {
      s.createConnection({ address: '127.0.0.1', port }, { timeout: 5000 });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('ECONNREFUSED');
    expect(err?.syscall).toBe('connect');
    expect(err?.address).toBe('127.0.0.1');
    expect(err?.port).toBe(port);
    expect(openFds().length).toBe(before);
  });

  it.skipIf(!severalLocal)('tries every address getaddrinfo gives for localhost, in order, and throws the last error', () => {
    const found = localhost;
    // A port free on every address localhost has, with nothing listening: each attempt is refused.
    const port = closedPort();
    let err: NodeJS.ErrnoException & { address?: string } | undefined;
    try {
      s.createConnection({ address: 'localhost', port });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('ECONNREFUSED');
    expect(err?.address).toBe(found[found.length - 1].address); // the last attempt's error
    // Listening on the last address only: the earlier ones are refused, the last connects.
    const last = found[found.length - 1];
    const server = own(new s.Socket(last.family === 'IPv6' ? s.AF_INET6 : s.AF_INET));
    server.bind({ address: last.address, port: 0 });
    server.listen();
    const c = own(s.createConnection({ address: 'localhost', port: portOf(server) }));
    expect((c.getpeername() as s.InetAddress).address).toBe(last.address);
  });

  it('the loop over the addresses: each tried in order on its own socket, the first that connects returned, the last error thrown', () => {
    // Where the resolver has no name with several addresses (the test above then skips), the same loop is given
    // the list itself: real connects to loopback ports, one refused, one listening.
    const server = own(s.createServer({ address: '127.0.0.1', port: 0 }));
    const open = portOf(server);
    const [closed1, closed2] = [closedPort(), closedPort()];
    const ai = (port: number): s.ResolvedAddress => ({ family: 'IPv4', address: '127.0.0.1', port, type: s.SOCK_STREAM, protocol: s.IPPROTO_TCP });
    const before = openFds().length;
    const c = own(connectFirst([ai(closed1), ai(open), ai(closed2)], 2000, undefined));
    expect((c.getpeername() as s.InetAddress).port).toBe(open);
    expect(c.gettimeout()).toBe(2000);
    expect(openFds().length).toBe(before + 1); // the refused attempt's socket was closed
    let err: NodeJS.ErrnoException & { port?: number } | undefined;
    try {
      connectFirst([ai(closed1), ai(closed2)], undefined, undefined);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('ECONNREFUSED');
    expect(err?.port).toBe(closed2);
    expect(openFds().length).toBe(before + 1);
  });

  it.skipIf(!ipv6.ok)('an IPv6 literal makes an AF_INET6 socket', () => {
    const server = own(s.createServer({ address: '::1', port: 0 }, { family: s.AF_INET6 }));
    const c = own(s.createConnection({ address: '::1', port: portOf(server) }));
    expect(c.family).toBe(s.AF_INET6);
  });

  it('a connect that cannot complete times out: connect ETIMEDOUT with the address', () => {
    const server = own(s.createServer({ address: '127.0.0.1', port: 0 }, { backlog: 0 }));
    const port = portOf(server);
    let err: NodeJS.ErrnoException & { address?: string; port?: number } | undefined;
    for (let i = 0; i < 16 && err === undefined; i++) {
      try {
        own(s.createConnection({ address: '127.0.0.1', port }, { timeout: 250 }));
      } catch (e) {
        err = e as typeof err;
      }
    }
    expect(err?.code).toBe('ETIMEDOUT');
    expect(err?.errno).toBe(-osConstants.errno.ETIMEDOUT);
    expect(err?.message).toBe(`connect ETIMEDOUT 127.0.0.1:${port}`);
    expect(err?.port).toBe(port);
  });

  it('bad arguments: TypeError / RangeError before anything is created', () => {
    const before = openFds().length;
    for (const bad of [null, 'localhost:80', 80, { port: 80 }]) {
      expect(() => s.createConnection(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }
    expect(() => s.createConnection({ address: '127.0.0.1' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => s.createConnection({ address: '127.0.0.1', port: 1 }, { timeout: -1 })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => s.createConnection({ address: '127.0.0.1', port: 1 }, { sourceAddress: '127.0.0.1' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => s.createConnection({ address: '127.0.0.1', port: 1 }, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => s.createConnection({ address: '127.0.0.1', port: 70000 })).toThrow(RangeError);
    expect(openFds().length).toBe(before);
  });
});

describe('createServer', () => {
  it('listens with SO_REUSEADDR set, close-on-exec, blocking (the default timeout)', () => {
    const server = own(s.createServer({ address: '127.0.0.1', port: 0 }));
    expect(server.family).toBe(s.AF_INET);
    expect(server.type).toBe(s.SOCK_STREAM);
    expect(server.getsockopt(s.SOL_SOCKET, s.SO_REUSEADDR)).toBe(1);
    expect(server.getsockopt(s.SOL_SOCKET, s.SO_ACCEPTCONN)).toBe(1);
    expect(server.gettimeout()).toBeNull();
    s.setdefaulttimeout(100);
    const timed = own(s.createServer({ address: '127.0.0.1', port: 0 }));
    expect(timed.gettimeout()).toBe(100);
    expect(() => timed.accept()).toThrow(expect.objectContaining({ code: 'ETIMEDOUT', syscall: 'accept' }));
  });

  it('reusePort: two servers share a port', () => {
    const a = own(s.createServer({ address: '127.0.0.1', port: 0 }, { reusePort: true }));
    expect(a.getsockopt(s.SOL_SOCKET, s.SO_REUSEPORT)).toBe(1);
    const b = own(s.createServer({ address: '127.0.0.1', port: portOf(a) }, { reusePort: true }));
    expect(portOf(b)).toBe(portOf(a));
  });

  it('a port in use: bind EADDRINUSE with the address, and the socket is closed', () => {
    const a = own(s.createServer({ address: '127.0.0.1', port: 0 }));
    const before = openFds().length;
    expect(() => s.createServer({ address: '127.0.0.1', port: portOf(a) })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1', port: portOf(a) }),
    );
    expect(openFds().length).toBe(before);
  });

  it('backlog is passed to listen', () => {
    const server = own(s.createServer({ address: '127.0.0.1', port: 0 }, { backlog: 0 }));
    // backlog 0: the accept queue holds one connection; a second cannot complete.
    const port = portOf(server);
    own(s.createConnection({ address: '127.0.0.1', port }, { timeout: 2000 }));
    const extra: s.Socket[] = [];
    let timedOut = false;
    for (let i = 0; i < 16 && !timedOut; i++) {
      try {
        extra.push(own(s.createConnection({ address: '127.0.0.1', port }, { timeout: 200 })));
      } catch (e) {
        timedOut = (e as NodeJS.ErrnoException).code === 'ETIMEDOUT';
      }
    }
    expect(timedOut).toBe(true);
  });

  it.skipIf(!ipv6.ok)('AF_INET6: IPV6_V6ONLY set by default (a v4-mapped address cannot be bound); dualstackIpv6 clears it and takes IPv4 clients', () => {
    const v6 = own(s.createServer({ address: '::1', port: 0 }, { family: s.AF_INET6 }));
    expect(v6.getsockopt(s.IPPROTO_IPV6, s.IPV6_V6ONLY)).toBe(1);
    expect(() => s.createServer({ address: '::ffff:127.0.0.1', port: 0 }, { family: s.AF_INET6 })).toThrow(
      expect.objectContaining({ syscall: 'bind' }),
    );
    if (!s.hasDualstackIpv6()) {
      console.warn('skipped the dual-stack half: hasDualstackIpv6() is false here');
      return;
    }
    const dual = own(s.createServer({ address: '::ffff:127.0.0.1', port: 0 }, { family: s.AF_INET6, dualstackIpv6: true }));
    expect(dual.getsockopt(s.IPPROTO_IPV6, s.IPV6_V6ONLY)).toBe(0);
    const c = own(s.createConnection({ address: '127.0.0.1', port: portOf(dual) }));
    expect(c.family).toBe(s.AF_INET);
    const [conn, addr] = dual.accept()!;
    own(conn);
    expect(addr).toMatchObject({ family: 'IPv6', address: '::ffff:127.0.0.1' });
  });

  it('AF_UNIX with a path', () => {
    const p = tmpSocketPath();
    const server = own(s.createServer({ path: p }, { family: s.AF_UNIX }));
    const c = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    expect(c.connect({ path: p })).toBe(true);
    own(server.accept()![0]);
  });

  it('bad options: dualstackIpv6 without AF_INET6 is ERR_INVALID_ARG_VALUE; wrong types TypeError; nothing left open', () => {
    const before = openFds().length;
    expect(() => s.createServer({ address: '127.0.0.1', port: 0 }, { dualstackIpv6: true })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => s.createServer({ address: '127.0.0.1', port: 0 }, { reusePort: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => s.createServer({ address: '127.0.0.1', port: 0 }, { backlog: -1 })).toThrow(RangeError);
    expect(() => s.createServer({ address: '127.0.0.1', port: 0 }, { family: 'inet' as never })).toThrow(TypeError);
    expect(() => s.createServer(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(openFds().length).toBe(before);
  });
});

describe('hasDualstackIpv6', () => {
  it('says whether IPV6_V6ONLY can be cleared on an AF_INET6 socket, and leaves no fd open', () => {
    const before = openFds().length;
    let expected = false;
    try {
      const fd = s.socket(s.AF_INET6, s.SOCK_STREAM);
      try {
        s.setsockopt(fd, s.IPPROTO_IPV6, s.IPV6_V6ONLY, 0);
        expected = true;
      } finally {
        s.close(fd);
      }
    } catch {
      expected = false;
    }
    expect(s.hasDualstackIpv6()).toBe(expected);
    expect(openFds().length).toBe(before);
  });
});
