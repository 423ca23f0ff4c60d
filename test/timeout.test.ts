/**
 * Python's socket timeouts on Socket (settimeout, gettimeout, setdefaulttimeout), after CPython's test_socket:
 * the timeout cases of NetworkConnectionNoServer, BasicTCPTest and NonBlockingTCPTests. Loopback only; the
 * connect that cannot complete goes to a loopback listener that never accepts and whose accept queue is full,
 * so the kernel drops the SYN.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { root, runNode, wrap, type Child } from './helpers/child';
import { checkFdLeaks } from './helpers/fds';
import { closedPort, tmpSocketPath } from './helpers/net';

checkFdLeaks();

const ETIMEDOUT = osConstants.errno.ETIMEDOUT;

const sockets: s.Socket[] = [];
const children: Child[] = [];
const workers: Worker[] = [];
function own<T extends s.Socket>(sock: T): T {
  sockets.push(sock);
  return sock;
}
afterEach(async () => {
  s.setdefaulttimeout(null);
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const w of workers.splice(0)) await w.terminate();
  for (const sock of sockets.splice(0)) sock.close();
});

function listener(backlog = 511): { server: s.Socket; port: number } {
  const server = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
  server.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1);
  server.bind({ address: '127.0.0.1', port: 0 });
  server.listen(backlog);
  return { server, port: (server.getsockname() as s.InetAddress).port };
}

/** A connected TCP pair over loopback, both blocking: [client, accepted]. */
function tcpPair(): [s.Socket, s.Socket] {
  const { server, port } = listener();
  const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
  client.connect({ address: '127.0.0.1', port });
  const [conn] = server.accept()!;
  own(conn);
  server.close();
  return [client, conn];
}

/** Runs `fn`, which must throw; returns the error and how long it took (ms). */
function timed(fn: () => unknown): { err: NodeJS.ErrnoException & { bytesSent?: number }; ms: number } {
  const start = performance.now();
  try {
    fn();
  } catch (err) {
    return { err: err as NodeJS.ErrnoException, ms: performance.now() - start };
  }
  throw new Error('expected the call to throw');
}

/** The error of a timed-out call: Node's shape, named after the socket call, never poll. */
function expectTimeout(err: NodeJS.ErrnoException, syscall: string, message = `${syscall} ETIMEDOUT`): void {
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('ETIMEDOUT');
  expect(err.errno).toBe(-ETIMEDOUT);
  expect(getSystemErrorName(err.errno!)).toBe('ETIMEDOUT');
  expect(err.syscall).toBe(syscall);
  expect(err.message).toBe(message);
}

/** Fills the socket's send path (and the peer's receive buffer) until a send would block. */
function fill(sock: s.Socket): number {
  const timeout = sock.gettimeout();
  sock.settimeout(0);
  const chunk = Buffer.alloc(65536, 1);
  let total = 0;
  // Until a send would block and stays so for 200 ms: loopback may still be moving bytes to the peer.
  do {
    for (let n; (n = sock.send(chunk)) !== null; ) total += n;
  } while (s.poll([{ fd: sock.fileno(), events: s.POLLOUT }], 200).length > 0);
  // POLLOUT waits for a third of the buffer free; fill what is below that too.
  for (let n; (n = sock.send(chunk.subarray(0, 64))) !== null; ) total += n;
  sock.settimeout(timeout);
  return total;
}

describe('settimeout / gettimeout: the three modes', () => {
  it('a new socket is blocking (null); 0 is non-blocking; a positive timeout keeps the socket blocking to its user on an O_NONBLOCK fd', () => {
    const sock = own(new s.Socket());
    expect(sock.gettimeout()).toBeNull();
    expect(sock.getBlocking()).toBe(true);
    expect(s.getBlocking(sock.fileno())).toBe(true);

    sock.settimeout(0);
    expect(sock.gettimeout()).toBe(0);
    expect(sock.getBlocking()).toBe(false);
    expect(s.getBlocking(sock.fileno())).toBe(false);

    sock.settimeout(2500);
    expect(sock.gettimeout()).toBe(2500);
    expect(sock.getBlocking()).toBe(true); // Python's getblocking(): timeout mode is blocking
    expect(s.getBlocking(sock.fileno())).toBe(false); // the fd itself is O_NONBLOCK

    sock.settimeout(null);
    expect(sock.gettimeout()).toBeNull();
    expect(s.getBlocking(sock.fileno())).toBe(true);

    sock.settimeout(10);
    sock.settimeout(undefined);
    expect(sock.gettimeout()).toBeNull();
    expect(s.getBlocking(sock.fileno())).toBe(true);
  });

  it('fractions round up: 0.1 ms is 1 ms, never 0 (which would mean non-blocking)', () => {
    const sock = own(new s.Socket());
    sock.settimeout(0.1);
    expect(sock.gettimeout()).toBe(1);
    sock.settimeout(1500.2);
    expect(sock.gettimeout()).toBe(1501);
  });

  it('setBlocking(true) is settimeout(null), setBlocking(false) is settimeout(0)', () => {
    const sock = own(new s.Socket());
    sock.settimeout(300);
    sock.setBlocking(false);
    expect(sock.gettimeout()).toBe(0);
    expect(sock.getBlocking()).toBe(false);
    sock.settimeout(300);
    sock.setBlocking(true);
    expect(sock.gettimeout()).toBeNull();
    expect(s.getBlocking(sock.fileno())).toBe(true);
  });

  it('bad values: negative, NaN, too large are RangeError; other types TypeError; all before any system call', () => {
    const sock = own(new s.Socket());
    sock.settimeout(700);
    for (const bad of [-1, -0.5, -Infinity, NaN, Infinity, 2 ** 31]) {
      expect(() => sock.settimeout(bad)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    for (const bad of ['1', true, {}, 1n]) {
      expect(() => sock.settimeout(bad as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
    expect(sock.gettimeout()).toBe(700); // unchanged
    for (const bad of [undefined, 0, 'true']) {
      expect(() => sock.setBlocking(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }
    sock.close();
    expect(() => sock.settimeout(5)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => sock.settimeout(-5)).toThrow(RangeError); // the argument is checked first
  });

  it('the async methods leave the socket non-blocking: gettimeout() reads 0 afterwards', async () => {
    const [a, b] = tcpPair();
    a.settimeout(5000);
    b.sendAll('x');
    expect((await a.recvAsync(10)).toString()).toBe('x');
    expect(a.gettimeout()).toBe(0);
    expect(a.recv(10)).toBeNull(); // non-blocking now
  });
});

describe('settimeout(0): would-block is a value (NonBlockingTCPTests)', () => {
  it('accept, recv, recvInto, recvfrom and send return null; connect returns a boolean', () => {
    const { server, port } = listener();
    server.settimeout(0);
    expect(server.accept()).toBeNull();
    const client = own(new s.Socket());
    client.settimeout(0);
    expect(typeof client.connect({ address: '127.0.0.1', port })).toBe('boolean');
    let accepted: [s.Socket, s.Address] | null = null;
    const deadline = Date.now() + 10000;
    while (accepted === null && Date.now() < deadline) {
      s.poll([{ fd: server.fileno(), events: s.POLLIN }], 100);
      accepted = server.accept();
    }
    expect(accepted).not.toBeNull();
    const conn = own(accepted![0]);
    expect(conn.gettimeout()).toBeNull(); // an accepted socket takes the default timeout, not the listener's
    conn.settimeout(0);
    expect(conn.recv(10)).toBeNull();
    expect(conn.recvInto(Buffer.alloc(10))).toBeNull();
    expect(conn.recvfrom(10)).toBeNull();
    expect(fill(conn)).toBeGreaterThan(0);
    // Full: a send says null (the peer's window may still open a little as loopback settles: send until it does).
    let r: number | null = 0;
    for (let i = 0; i < 100000 && r !== null; i++) r = conn.send('more');
    expect(r).toBeNull();
  });
});

describe('timeouts run out with ETIMEDOUT (BasicTCPTest, NonBlockingTCPTests)', () => {
  it('accept: no connection within the timeout', () => {
    const { server } = listener();
    server.settimeout(150);
    const { err, ms } = timed(() => server.accept());
    expectTimeout(err, 'accept');
    expect(ms).toBeGreaterThanOrEqual(149);
    expect(ms).toBeLessThan(10000);
  });

  it('recv, recvInto and recvfrom: nothing arrives within the timeout', () => {
    const [a] = tcpPair();
    a.settimeout(100);
    const r = timed(() => a.recv(10));
    expectTimeout(r.err, 'recv');
    expect(r.ms).toBeGreaterThanOrEqual(99);
    expectTimeout(timed(() => a.recvInto(Buffer.alloc(8))).err, 'recv');
    expectTimeout(timed(() => a.recvfrom(8)).err, 'recvfrom');
    expect(a.gettimeout()).toBe(100); // still in timeout mode
  });

  it('recvfrom on a UDP socket with nothing queued', () => {
    const u = own(new s.Socket(s.AF_INET, s.SOCK_DGRAM));
    u.bind({ address: '127.0.0.1', port: 0 });
    u.settimeout(50);
    expectTimeout(timed(() => u.recvfrom(100)).err, 'recvfrom');
  });

  it('send of a full buffer: send ETIMEDOUT', () => {
    const [a] = tcpPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    fill(a);
    a.settimeout(100);
    // Sends until one finds no room at all for 100 ms (a little may still open as loopback settles).
    let err: NodeJS.ErrnoException | undefined;
    for (let i = 0; i < 1000 && err === undefined; i++) {
      try {
        a.send(Buffer.alloc(65536));
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
    }
    expectTimeout(err!, 'send');
  });

  it('sendAll that cannot finish: send ETIMEDOUT with err.bytesSent, exactly what the peer then reads', () => {
    const [a, b] = tcpPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 16384);
    b.setsockopt(s.SOL_SOCKET, s.SO_RCVBUF, 16384);
    const total = 16 * 1024 * 1024;
    a.settimeout(200);
    const { err, ms } = timed(() => a.sendAll(Buffer.alloc(total, 7)));
    expectTimeout(err, 'send');
    expect(ms).toBeGreaterThanOrEqual(199);
    expect(err.bytesSent).toBeGreaterThan(0);
    expect(err.bytesSent).toBeLessThan(total);
    // The peer reads exactly the bytes sendAll says went, no more: drained until nothing comes for 500 ms.
    a.shutdown(s.SHUT_WR);
    b.settimeout(500);
    let got = 0;
    for (;;) {
      const d = b.recv(1 << 20)!;
      if (d.length === 0) break;
      got += d.length;
    }
    expect(got).toBe(err.bytesSent);
  });

  it('sendAll to a slow reader: the timeout bounds the whole call, not each send (as Python 3.5+)', async () => {
    // A worker thread reads 1 KiB every 10 ms: sends keep making progress, yet the call must end at its deadline.
    const [a, b] = tcpPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    b.setsockopt(s.SOL_SOCKET, s.SO_RCVBUF, 4096);
    const w = new Worker(`
      const s = require(${JSON.stringify(path.resolve(root))});
      const { parentPort, workerData } = require('node:worker_threads');
      let got = 0;
      const iv = setInterval(() => {
        const d = s.recv(workerData, 1024, s.MSG_DONTWAIT);
        if (d !== null) got += d.length;
        if (d !== null && d.length === 0) { clearInterval(iv); parentPort.postMessage(got); }
      }, 10);
    `, { eval: true, workerData: b.fileno() });
    workers.push(w);
    const got = new Promise<number>((resolve) => w.once('message', resolve));
    await new Promise((r) => setTimeout(r, 100));
    a.settimeout(400);
    const { err, ms } = timed(() => a.sendAll(Buffer.alloc(64 * 1024 * 1024)));
    expectTimeout(err, 'send');
    expect(ms).toBeGreaterThanOrEqual(399);
    expect(ms).toBeLessThan(5000);
    a.shutdown(s.SHUT_WR);
    expect(await got).toBe(err.bytesSent);
  });

  it('connect that cannot complete (accept queue full, SYN dropped): connect ETIMEDOUT 127.0.0.1:port with address and port', () => {
    const { server, port } = listener(0);
    server.settimeout(0);
    // Connect until one cannot complete: the first ones fill the accept queue (backlog 0: one on Linux).
    let err: NodeJS.ErrnoException | undefined;
    let ms = 0;
    for (let i = 0; i < 16 && err === undefined; i++) {
      const c = own(new s.Socket());
      c.settimeout(300);
      try {
        const start = performance.now();
        try {
          expect(c.connect({ address: '127.0.0.1', port })).toBe(true);
        } finally {
          ms = performance.now() - start;
        }
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
    }
    expect(err).toBeDefined();
    expectTimeout(err!, 'connect', `connect ETIMEDOUT 127.0.0.1:${port}`);
    expect((err as NodeJS.ErrnoException & { address: string; port: number }).address).toBe('127.0.0.1');
    expect((err as NodeJS.ErrnoException & { port: number }).port).toBe(port);
    expect(ms).toBeGreaterThanOrEqual(299);
    expect(ms).toBeLessThan(10000);
  });

  it('connect with a timeout to a closed port: the refusal, read from SO_ERROR, with address and port (NetworkConnectionNoServer)', () => {
    const port = closedPort();
    const c = own(new s.Socket());
    c.settimeout(5000);
    const { err } = timed(() => c.connect({ address: '127.0.0.1', port }));
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.syscall).toBe('connect');
    expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect((err as { address?: string }).address).toBe('127.0.0.1');
    expect((err as { port?: number }).port).toBe(port);
  });

  it('connect with a timeout that succeeds returns true, and the socket keeps its timeout; a host name is resolved', () => {
    const { server, port } = listener();
    const c = own(new s.Socket());
    c.settimeout(5000);
    expect(c.connect({ address: 'localhost', port })).toBe(true);
    expect(c.gettimeout()).toBe(5000);
    const [conn] = server.accept()!;
    own(conn);
    c.sendAll('ping');
    expect(conn.recv(10)!.toString()).toBe('ping');
  });

  it('a Unix socket with a timeout: recv ETIMEDOUT, then data that comes in time', () => {
    const p = tmpSocketPath();
    const srv = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    srv.bind({ path: p });
    srv.listen();
    const c = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    c.settimeout(1000);
    expect(c.connect({ path: p })).toBe(true);
    const [conn] = srv.accept()!;
    own(conn);
    c.settimeout(50);
    expectTimeout(timed(() => c.recv(4)).err, 'recv');
    conn.sendAll('late');
    expect(c.recv(4)!.toString()).toBe('late');
  });

  it('the message calls too: recvmsg, recvmsgInto and recvFds time out as recvmsg, sendmsg and sendFds of a full buffer as sendmsg', () => {
    const [a, b] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM).map((fd) => own(s.Socket.fromFd(fd)));
    b.settimeout(50);
    expectTimeout(timed(() => b.recvmsg(16, s.CMSG_SPACE(4))).err, 'recvmsg');
    expectTimeout(timed(() => b.recvmsgInto([Buffer.alloc(16)])).err, 'recvmsg');
    expectTimeout(timed(() => b.recvFds(16, 1)).err, 'recvmsg');
    // Data that comes in time is received, with the fd it carries.
    a.sendFds([Buffer.from('fd')], [a]);
    const got = b.recvFds(16, 1)!;
    expect(got.data.toString()).toBe('fd');
    expect(got.fds).toHaveLength(1);
    s.close(got.fds[0]);
    a.settimeout(50);
    fill(a);
    expectTimeout(timed(() => a.sendmsg([Buffer.alloc(65536)])).err, 'sendmsg');
    expectTimeout(timed(() => a.sendFds([Buffer.alloc(65536)], [b])).err, 'sendmsg');
  });
});

describe('a timeout lets the call wait for what comes in time', () => {
  it('accept and recv wait for a client in another process, then return', async () => {
    const { server, port } = listener();
    const child = runNode(`
      const s = require('.');
      setTimeout(() => {
        const c = new s.Socket();
        c.connect({ address: '127.0.0.1', port: ${port} });
        setTimeout(() => { c.sendAll('hello'); console.log('sent'); setTimeout(() => c.close(), 2000); }, 200);
      }, 200);
    `);
    children.push(child);
    server.settimeout(20000);
    const [conn] = server.accept()!;
    own(conn);
    expect(conn.gettimeout()).toBeNull();
    conn.settimeout(20000);
    expect(conn.recv(10)!.toString()).toBe('hello');
  });
});

describe('setdefaulttimeout / getdefaulttimeout', () => {
  it('initially null; applies to sockets created afterwards, accepted ones included', () => {
    expect(s.getdefaulttimeout()).toBeNull();
    const before = own(new s.Socket());
    s.setdefaulttimeout(250.5);
    expect(s.getdefaulttimeout()).toBe(251);
    expect(before.gettimeout()).toBeNull();
    const { server, port } = listener();
    expect(server.gettimeout()).toBe(251);
    expect(s.getBlocking(server.fileno())).toBe(false);
    const c = own(new s.Socket());
    expect(c.connect({ address: '127.0.0.1', port })).toBe(true);
    const [conn] = server.accept()!;
    own(conn);
    expect(conn.gettimeout()).toBe(251);
    expect(s.getBlocking(conn.fileno())).toBe(false);
    expectTimeout(timed(() => conn.recv(1)).err, 'recv');
    // SOCK_NONBLOCK in the type means non-blocking (0), whatever the default.
    const nb = own(new s.Socket(s.AF_INET, s.SOCK_STREAM | s.SOCK_NONBLOCK));
    expect(nb.gettimeout()).toBe(0);
    s.setdefaulttimeout(0);
    const zero = own(new s.Socket());
    expect(zero.gettimeout()).toBe(0);
    expect(zero.getBlocking()).toBe(false);
    s.setdefaulttimeout(null);
    expect(own(new s.Socket()).gettimeout()).toBeNull();
  });

  it('a default timeout given to an adopted fd (fileno) sets O_NONBLOCK on it; fromFd adopts a non-blocking fd as timeout 0', () => {
    const [x, y] = s.socketpair();
    s.setdefaulttimeout(40);
    const a = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, x));
    expect(a.gettimeout()).toBe(40);
    expect(s.getBlocking(x)).toBe(false);
    s.setdefaulttimeout(null);
    s.setBlocking(y, false);
    const b = own(s.Socket.fromFd(y));
    expect(b.gettimeout()).toBe(0);
  });

  it('negative is a RangeError, another type a TypeError; the default is unchanged', () => {
    s.setdefaulttimeout(30);
    expect(() => s.setdefaulttimeout(-1)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => s.setdefaulttimeout('5' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(s.getdefaulttimeout()).toBe(30);
  });
});

describe('timed waits and worker termination', () => {
  it('a worker blocked in a timed recv (60 s) is terminated at once: the wait is sliced', async () => {
    const pkg = path.resolve(root);
    const w = new Worker(`
      const s = require(${JSON.stringify(pkg)});
      const { parentPort } = require('node:worker_threads');
      const [a, b] = s.socketpair();
      const sock = new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a);
      sock.settimeout(60000);
      parentPort.postMessage({ fds: [a, b] });
      sock.recv(10);
    `, { eval: true });
    workers.push(w);
    const { fds } = await new Promise<{ fds: number[] }>((resolve) => w.once('message', resolve));
    await new Promise((r) => setTimeout(r, 100)); // let it enter the wait
    const start = performance.now();
    expect(await w.terminate()).toBe(1);
    expect(performance.now() - start).toBeLessThan(5000);
    for (const fd of fds) s.close(fd);
  });
});

describe("the tutorial's client with createConnection and settimeout (test/fixtures), in JavaScript and in Python", () => {
  const fixtures = path.join(__dirname, 'fixtures');
  const python = ((): string | null => {
    try {
      execFileSync('python3', ['--version'], { stdio: 'ignore' });
      return 'python3';
    } catch {
      return null;
    }
  })();
  if (python === null) console.warn('skipping the Python twin: no python3 here');
  const clients = [
    { name: 'JavaScript', cmd: process.execPath, file: 'tutorial-client-timeout.js' },
    ...(python === null ? [] : [{ name: 'Python', cmd: python, file: 'tutorial_client_timeout.py' }]),
  ];
  function run(c: (typeof clients)[number], args: string[]): Child {
    const child = wrap(spawn(c.cmd, [...(c.cmd === process.execPath ? [] : ['-u']), path.join(fixtures, c.file), ...args], {
      cwd: path.resolve(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    children.push(child);
    return child;
  }

  it.each(clients)('$name: talks to the tutorial server', async (c) => {
    const server = wrap(spawn(process.execPath, [path.join(fixtures, 'tutorial-server.js'), '0'], { cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] }));
    children.push(server);
    const [, port] = await server.waitFor(/Waiting for connection on port (\d+)\.\.\./);
    const client = run(c, [port]);
    expect(await client.exited()).toBe(0);
    const lines = client.output().split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(6);
    expect([lines[0], lines[1], lines[3], lines[5]]).toEqual(['Welcome', '>>> hello', '>>> what is the number?', '>>> exit']);
    for (const n of [lines[2], lines[4]]) expect(Number(n)).toBeGreaterThanOrEqual(1);
    await server.waitFor(/Connection from 127\.0\.0\.1:\d+ closed/);
  });

  it.each(clients)('$name: gives up on a server that never answers, with the same words', async (c) => {
    // A listener that never accepts: the kernel completes the handshake, and nothing is ever sent.
    const { port } = listener();
    const client = run(c, [String(port), '0.3']);
    expect(await client.exited()).toBe(0);
    expect(client.output()).toBe('no answer within 0.3 s\n');
  });
});
