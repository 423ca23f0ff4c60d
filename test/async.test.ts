/**
 * The async Socket methods (acceptAsync, connectAsync, recvAsync, recvIntoAsync, sendAllAsync) over TCP and Unix
 * stream sockets, with AbortSignals, many clients at once, and in worker_threads.
 */
import { createHook } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as s from '../lib';
import { native } from '../lib/binding';
import { Readiness } from '../lib/readiness';
import { batchIdOf, batchedWatcher } from '../lib/watch';
import type { AsyncCall, AttemptArg, AttemptResult } from '../lib/socket';
import { root, runNode } from './helpers/child';
import { checkFdLeaks, isOpen } from './helpers/fds';
import { closedPort, tmpSocketPath } from './helpers/net';
import { track, trackedPair, untrack, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

// Workers and Socket objects are closed after each test by this file's afterEach, then the raw fds a test
// tracks by ./helpers/track.
const sockets: s.Socket[] = [];
const workers: Worker[] = [];
function own<T extends s.Socket>(sock: T): T {
  sockets.push(sock);
  return sock;
}
afterEach(async () => {
  for (const w of workers.splice(0)) await w.terminate();
  for (const sock of sockets.splice(0)) sock.close();
});

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Whether a promise has settled, checked after the microtasks queued so far have run. */
function tracker<T>(p: Promise<T>): { settled: () => boolean; p: Promise<T> } {
  let done = false;
  const q = p.then(
    (v) => {
      done = true;
      return v;
    },
    (e) => {
      done = true;
      throw e;
    },
  );
  return { settled: () => done, p: q };
}

function tcpServer(host = '127.0.0.1', family: number = s.AF_INET): { server: s.Socket; port: number } {
  const server = own(new s.Socket(family, s.SOCK_STREAM));
  server.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1);
  server.bind({ address: host, port: 0 });
  server.listen();
  return { server, port: (server.getsockname() as s.InetAddress).port };
}

/** A connected TCP pair made with the async calls: [client, accepted]. */
async function tcpPair(): Promise<[s.Socket, s.Socket]> {
  const { server, port } = tcpServer();
  const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
  const [[conn], ok] = await Promise.all([server.acceptAsync(), client.connectAsync({ address: '127.0.0.1', port })]);
  own(conn);
  expect(ok).toBeUndefined();
  server.close();
  return [client, conn];
}

/** A Unix stream socketpair as two Socket objects. */
function unixPair(): [s.Socket, s.Socket] {
  const [a, b] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
  return [own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a)), own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, b))];
}

/**
 * recvIntoAsync into a whole buffer that is transferred away (detached) while the call waits, `b` then sending:
 * the call rejects with ERR_INVALID_STATE (a read into nothing would say "end of stream") and reads nothing,
 * the bytes still there for the next read. Through attempt() (a subclass that overrides it) or the addon.
 */
async function detachedWhileWaiting(a: s.Socket, b: s.Socket): Promise<void> {
  const ab = new ArrayBuffer(8);
  const p = a.recvIntoAsync(new Uint8Array(ab));
  await tick(10);
  structuredClone(ab, { transfer: [ab] });
  b.send('hello');
  await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', message: expect.stringMatching(/no bytes left/) });
  expect((await a.recvAsync(16)).toString()).toBe('hello');
}

/** Reads until end of stream (or `total` bytes). */
async function readAll(sock: s.Socket, total = Infinity, chunk = 65536): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < total) {
    const d = await sock.recvAsync(Math.min(chunk, total - n));
    if (d.length === 0) break;
    parts.push(d);
    n += d.length;
  }
  return Buffer.concat(parts);
}

/** Echoes everything until end of stream, then closes its end. */
async function echo(sock: s.Socket): Promise<number> {
  let n = 0;
  for (;;) {
    const d = await sock.recvAsync(65536);
    if (d.length === 0) break;
    n += d.length;
    await sock.sendAllAsync(d);
  }
  sock.close();
  return n;
}

describe('echo', () => {
  it('over TCP, connecting to an IP literal', async () => {
    const { server, port } = tcpServer();
    const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    const acceptP = server.acceptAsync();
    await client.connectAsync({ address: '127.0.0.1', port });
    const [conn, addr] = await acceptP;
    own(conn);
    expect(conn).toBeInstanceOf(s.Socket);
    expect(conn.getBlocking()).toBe(false);
    expect(server.getBlocking()).toBe(false);
    expect(client.getBlocking()).toBe(false);
    expect(addr).toMatchObject({ family: 'IPv4', address: '127.0.0.1', port: (client.getsockname() as s.InetAddress).port });
    expect(client.getpeername()).toMatchObject({ address: '127.0.0.1', port });

    const served = echo(conn);
    await client.sendAllAsync('hello, ');
    await client.sendAllAsync(Buffer.from('world'));
    const got = await readAll(client, 12);
    expect(got.toString()).toBe('hello, world');
    client.shutdown(s.SHUT_WR);
    expect(await served).toBe(12);
    expect(await client.recvAsync(10)).toEqual(Buffer.alloc(0));
  });

  it("over TCP, connecting to 'localhost' (resolved without blocking)", async () => {
    const { server, port } = tcpServer();
    const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    const [[conn]] = await Promise.all([server.acceptAsync(), client.connectAsync({ address: 'localhost', port })]);
    own(conn);
    expect(client.getpeername()).toMatchObject({ address: '127.0.0.1', port });
    await conn.sendAllAsync('from the server');
    expect((await client.recvAsync(100)).toString()).toBe('from the server');
  });

  it('over Unix stream sockets', async () => {
    const file = tmpSocketPath('echo');
    const server = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    server.bind({ path: file });
    server.listen();
    const client = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    const [[conn], ok] = await Promise.all([server.acceptAsync(), client.connectAsync({ path: file })]);
    own(conn);
    expect(ok).toBeUndefined();
    expect(conn.family).toBe(s.AF_UNIX);
    const served = echo(conn);
    const payload = randomBytes(300_000);
    const [, got] = await Promise.all([client.sendAllAsync(payload), readAll(client, payload.length)]);
    expect(got.equals(payload)).toBe(true);
    client.close();
    expect(await served).toBe(payload.length);
  });

  it('recvIntoAsync fills a window of a buffer', async () => {
    const [a, b] = unixPair();
    const buf = Buffer.alloc(10, '.');
    const p = a.recvIntoAsync(buf, 2, 5);
    await tick(10);
    await b.sendAllAsync('abcdefgh');
    expect(await p).toBe(5);
    expect(buf.toString()).toBe('..abcde...');
    expect(await a.recvIntoAsync(new Uint8Array(10))).toBe(3);
    b.close();
    expect(await a.recvIntoAsync(buf)).toBe(0);
  });

  it('sendAllAsync takes strings, Buffers, typed arrays, DataViews and ArrayBuffers', async () => {
    const [a, b] = unixPair();
    const ab = new Uint8Array([0x41, 0x42, 0x43, 0x44]).buffer;
    await a.sendAllAsync('é');
    await a.sendAllAsync(Buffer.from('-'));
    await a.sendAllAsync(new Uint8Array(ab, 1, 2));
    await a.sendAllAsync(new DataView(ab, 3, 1));
    await a.sendAllAsync(ab);
    await a.sendAllAsync('');
    a.close();
    expect((await readAll(b)).toString()).toBe('é-BCDABCD');
    await expect(b.sendAllAsync(42 as unknown as string)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('one crossing per loop turn: the ready sockets of a turn are delivered together', () => {
  it('more sockets ready in one turn than one batch holds (300 > 256): every call gets its own bytes', async () => {
    const pairs = Array.from({ length: 300 }, () => unixPair());
    const calls = pairs.map(([a]) => a.recvAsync(64));
    await tick(5); // every call waits
    for (let i = 0; i < pairs.length; i++) pairs[i][1].send(`msg ${i}`); // all ready before the loop polls again
    expect((await Promise.all(calls)).map(String)).toEqual(pairs.map((_, i) => `msg ${i}`));
  });

  it("a retry that closes another socket of the same turn: that socket's call rejects with EBADF, or got its bytes first", async () => {
    class Closer extends s.Socket {
      victim: s.Socket | null = null;
      protected override attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
        const r = super.attempt(call, fd, arg, offset, length);
        if (call === 'recv' && r !== null && this.victim !== null) {
          this.victim.close();
          this.victim = null;
        }
        return r;
      }
    }
    for (let round = 0; round < 20; round++) {
      const [fa, fb] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
      const a = own(new Closer(s.AF_UNIX, s.SOCK_STREAM, 0, fa));
      const b = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, fb));
      const [c, d] = unixPair();
      a.victim = c;
      const pa = a.recvAsync(10);
      const pc = c.recvAsync(10).then(String, (e: Error) => e);
      await tick(2);
      b.send('a');
      d.send('c'); // both ready in the same turn, in the kernel's order
      expect((await pa).toString()).toBe('a');
      const got = await pc;
      if (typeof got === 'string') expect(got).toBe('c');
      else expect(got).toMatchObject({ code: 'EBADF', syscall: 'recv' });
      expect(c.closed).toBe(true);
    }
  });

  it('a batched callback that throws: the others of its turn still run, and the error is uncaught', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', `
        const s = require(${JSON.stringify(root)});
        const { batchedWatcher } = require(${JSON.stringify(path.join(root, 'dist', 'watch.js'))});
        const [a, b] = s.socketpair();
        const [c, d] = s.socketpair();
        const ran = [];
        process.on('uncaughtException', (err) => {
          // In the same turn: the other watcher ran although this one threw.
          console.log(JSON.stringify({ err: err.message, ran: ran.sort() }));
          process.exit(0);
        });
        const w1 = batchedWatcher(a, s.WATCH_READ, () => { ran.push('a'); w1.stop(); throw new Error('boom'); });
        const w2 = batchedWatcher(c, s.WATCH_READ, () => { ran.push('c'); w2.stop(); });
        s.send(b, 'x');
        s.send(d, 'y');
      `], { timeout: 10000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(JSON.parse(out.trim())).toEqual({ err: 'boom', ran: ['a', 'c'] });
  });
  it("the addon's setWatchBatch: once per thread (the package's), its arguments checked first", () => {
    const [a] = unixPair();
    batchedWatcher(a.fileno(), s.WATCH_READ, () => {}).stop(); // the package has set its batch by now
    const refused = (f: () => void): unknown => {
      try {
        f();
      } catch (err) {
        return (err as NodeJS.ErrnoException).code;
      }
      return 'accepted';
    };
    expect(refused(() => native.setWatchBatch(5 as never, new Int32Array(512), {}))).toBe('ERR_INVALID_ARG_TYPE');
    expect(refused(() => native.setWatchBatch(() => {}, new Uint32Array(512) as never, {}))).toBe('ERR_INVALID_ARG_TYPE');
    expect(refused(() => native.setWatchBatch(() => {}, new Int32Array(511), {}))).toBe('ERR_OUT_OF_RANGE');
    expect(refused(() => native.setWatchBatch(() => {}, new Int32Array(512), 5 as never))).toBe('ERR_INVALID_ARG_TYPE');
    expect(refused(() => native.setWatchBatch(() => {}, new Int32Array(512), {}))).toBe('EEXIST');
    // The package's batch state, for its other copies in this thread.
    expect(native.getWatchBatch()).toMatchObject({ targets: expect.any(Array), free: expect.any(Array) });
  });

  it("one batched watcher per id: an id is also an arm slot, whose read must be that watcher's", () => {
    const [a, b] = unixPair();
    const w = batchedWatcher(a.fileno(), s.WATCH_READ, () => {});
    const id = batchIdOf(w);
    expect(id).toBeGreaterThanOrEqual(0);
    const second = (): unknown => new native.Watcher(b.fileno(), s.WATCH_READ, () => {}, true, id);
    expect(second).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'watch' }));
    w.stop(); // its handle is closing: the id is free again at once
    const nw = second() as { stop(): void; isActive(): boolean };
    expect(nw.isActive()).toBe(true);
    nw.stop();
  });

  it('another copy of the package in the same thread uses the first copy\'s batch: its watchers fire', async () => {
    // Under vitest this file runs lib/ (which has set the batch by now) and the package's dist/ is a second copy.
    const [a, b] = unixPair();
    batchedWatcher(a.fileno(), s.WATCH_READ, () => {}).stop();
    const dist = require(path.join(root, 'dist', 'watch.js')) as typeof import('../lib/watch');
    expect(dist.batchedWatcher).not.toBe(batchedWatcher);
    // Called on its `self`: at each event, and (with 0) from inside close(fd) of the watched fd.
    const self = { calls: [] as Array<[unknown, number]> };
    function onValue(this: typeof self, value: number): void {
      self.calls.push([this, value]);
    }
    const w = dist.batchedWatcher(a.fileno(), s.WATCH_READ, onValue, self);
    b.send('x');
    while (self.calls.length === 0) await tick(5);
    expect(self.calls[0]).toEqual([self, s.WATCH_READ]);
    a.recv(10);
    self.calls.length = 0;
    const [c] = unixPair();
    const fd = c.fileno();
    const w2 = dist.batchedWatcher(fd, s.WATCH_READ, onValue, self);
    c.close(); // stops w2 from inside the close
    expect(self.calls).toEqual([[self, 0]]);
    expect(w2.stopped).toBe(true);
    w.stop();
    // And the id of a watcher that native.Watcher is given: a batched one without a valid id is refused.
    expect(() => new native.Watcher(a.fileno(), s.WATCH_READ, () => {}, true)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new native.Watcher(a.fileno(), s.WATCH_READ, () => {}, true, -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe("recvAsync's memory", () => {
  it("hands out views of the socket's own slab: each holds its bytes for good, the slab shows no other socket's", async () => {
    const [a, b] = unixPair();
    const [c, d] = unixPair();
    const got: Buffer[] = [];
    for (let i = 0; i < 300; i++) { // several slabs' worth (4 KiB each for 64-byte reads, 8-aligned views)
      const p = a.recvAsync(64);
      const q = c.recvAsync(64);
      await b.sendAllAsync(`a${i}`);
      await d.sendAllAsync(`SECRET-${i}`);
      got.push(await p);
      expect((await q).toString()).toBe(`SECRET-${i}`);
    }
    // Later reads never wrote over an earlier view.
    expect(got.map(String)).toEqual(Array.from({ length: 300 }, (_, i) => `a${i}`));
    const slabs = new Set(got.map((g) => g.buffer));
    expect(slabs.size).toBeGreaterThan(1);
    for (const slab of slabs) {
      const all = Buffer.from(slab);
      expect(all.includes('SECRET')).toBe(false); // the other socket's bytes are in the other socket's slab
      // Outside the views: zeros only.
      const inViews = new Uint8Array(all.length);
      for (const g of got) if (g.buffer === slab) inViews.fill(1, g.byteOffset, g.byteOffset + g.length);
      expect(all.every((byte, i) => inViews[i] === 1 || byte === 0)).toBe(true);
    }
  });

  it("its views are Buffers, made as Node makes them, whatever Buffer[Symbol.species] says when sockfd loads", async () => {
    // The views are made with Buffer[Symbol.species] (Node's own class of Buffers) when it is that class, else
    // with Buffer.from: here a program replaced it before loading sockfd.
    const check = `
      const { Socket, AF_UNIX, SOCK_STREAM, socketpair } = require('sockfd');
      (async () => {
        const [x, y] = socketpair(AF_UNIX, SOCK_STREAM).map((fd) => new Socket(AF_UNIX, SOCK_STREAM, 0, fd));
        const out = [];
        for (const word of ['one', 'two', 'three']) { // the first read has no slab yet; the others are views of it
          const p = x.recvAsync(64);
          await y.sendAllAsync(word);
          const v = await p;
          out.push([v.toString(), Buffer.isBuffer(v), Object.getPrototypeOf(v) === Buffer.prototype, v.buffer.byteLength > v.length]);
        }
        x.close();
        y.close();
        console.log(JSON.stringify(out));
      })();
    `;
    const replaced = `class Other extends Uint8Array {}
      Object.defineProperty(Buffer, Symbol.species, { get() { return Other; }, configurable: true });`;
    const expected = [['one', true, true, false], ['two', true, true, true], ['three', true, true, true]];
    for (const code of [check, replaced + check]) {
      const child = runNode(code);
      expect(await child.exited()).toBe(0);
      expect(JSON.parse(child.output())).toEqual(expected);
    }
    // And in this process.
    const [a, b] = unixPair();
    for (const word of ['one', 'two']) {
      const p = a.recvAsync(64);
      await b.sendAllAsync(word);
      const v = await p;
      expect([v.toString(), Buffer.isBuffer(v), Object.getPrototypeOf(v) === Buffer.prototype]).toEqual([word, true, true]);
    }
  });

  it('a read larger than the slab gets a Buffer of its own, as does the end of stream', async () => {
    const [a, b] = unixPair();
    const p = a.recvAsync(65536);
    await b.sendAllAsync('large');
    const big = await p;
    expect(big.toString()).toBe('large');
    expect([big.byteOffset, big.buffer.byteLength]).toEqual([0, 5]);
    const q = a.recvAsync(10);
    b.close();
    const end = await q;
    expect(end.length).toBe(0);
    expect(end.buffer.byteLength).toBe(0);
  });

  it('a socket has no slab until it has received; a slab transferred away by the caller is replaced', async () => {
    const [a, b] = unixPair();
    const zero = a.recvAsync(32);
    await b.sendAllAsync('zero');
    const v0 = await zero;
    expect([v0.toString(), v0.buffer.byteLength]).toEqual(['zero', 4]); // the first read: a Buffer of its own
    const first = a.recvAsync(32);
    await b.sendAllAsync('one');
    const v1 = await first;
    const second = a.recvAsync(32);
    await b.sendAllAsync('two');
    const v2 = await second;
    expect(v2.buffer).toBe(v1.buffer); // the same slab
    const moved = structuredClone(v2.buffer, { transfer: [v2.buffer as ArrayBuffer] });
    expect(v1.length).toBe(0); // detached with it
    const third = a.recvAsync(32);
    await b.sendAllAsync('three');
    const v3 = await third;
    expect(v3.toString()).toBe('three');
    expect(v3.buffer).not.toBe(moved);
    expect(Buffer.from(moved, 0, 3).toString()).toBe('one'); // the slab's first view
    expect(v0.toString()).toBe('zero');
  });
});

describe('large transfers and partial sends', () => {
  it('16 MiB with sendAllAsync while the other side reads with recvAsync', async () => {
    const [client, conn] = await tcpPair();
    const data = randomBytes(16 * 1024 * 1024);
    const [, got] = await Promise.all([
      client.sendAllAsync(data).then(() => client.shutdown(s.SHUT_WR)),
      readAll(conn),
    ]);
    expect(got.length).toBe(data.length);
    expect(sha(got)).toBe(sha(data));
  });

  it('partial sends: with a small SO_SNDBUF sendAllAsync waits for writability between sends', async () => {
    const [a, b] = unixPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    b.setsockopt(s.SOL_SOCKET, s.SO_RCVBUF, 4096);
    const data = randomBytes(2 * 1024 * 1024);
    let ticks = 0;
    const iv = setInterval(() => ticks++, 1);
    try {
      const sending = tracker(a.sendAllAsync(data));
      // Nobody reads yet: the first send took what fitted, and the rest waits.
      await tick(50);
      expect(sending.settled()).toBe(false);
      expect(ticks).toBeGreaterThan(0);
      // Bytes of the partial sends are there to read while the call still waits.
      const first = await b.recvAsync(65536);
      expect(first.length).toBeGreaterThan(0);
      expect(first.length).toBeLessThan(data.length);
      expect(sending.settled()).toBe(false);
      const rest = await readAll(b, data.length - first.length);
      await sending.p;
      expect(Buffer.concat([first, rest]).equals(data)).toBe(true);
    } finally {
      clearInterval(iv);
    }
  });

  it('a single non-blocking send of the same data is partial (what sendAllAsync has to handle)', async () => {
    const [a, b] = unixPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    a.setBlocking(false);
    const data = randomBytes(1024 * 1024);
    const n = a.send(data);
    expect(n).not.toBeNull();
    expect(n!).toBeLessThan(data.length);
    const rest = data.subarray(n!);
    const [, got] = await Promise.all([a.sendAllAsync(rest), readAll(b, data.length)]);
    expect(got.equals(data)).toBe(true);
  });

  it('concurrent recvAsync and sendAllAsync on the same socket (full duplex through an echo)', async () => {
    const [client, conn] = await tcpPair();
    client.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 8192);
    const served = echo(conn);
    const data = randomBytes(4 * 1024 * 1024);
    // The client both waits to write and waits to read on one watcher (read and write interest at once).
    const [, got] = await Promise.all([client.sendAllAsync(data), readAll(client, data.length)]);
    expect(sha(got)).toBe(sha(data));
    client.shutdown(s.SHUT_WR);
    expect(await served).toBe(data.length);
  });

  it('two recvAsync waiting on one socket are served in the order they were called', async () => {
    const [a, b] = unixPair();
    const p1 = tracker(a.recvAsync(3));
    const p2 = tracker(a.recvAsync(3));
    await tick(10);
    b.send('abc');
    expect((await p1.p).toString()).toBe('abc');
    await tick(10);
    expect(p2.settled()).toBe(false);
    b.send('def');
    expect((await p2.p).toString()).toBe('def');
  });

  it('two recvAsync waiting on one socket: each chunk goes to one of them, nothing is lost', async () => {
    const [a, b] = unixPair();
    const p1 = a.recvAsync(3);
    const p2 = a.recvAsync(3);
    await tick(10);
    await b.sendAllAsync('abcdef');
    const got = [(await p1).toString(), (await p2).toString()];
    expect(got.join('')).toBe('abcdef');
  });
});

describe('end of stream and errors', () => {
  it('recvAsync returns an empty Buffer at end of stream (waiting and already there)', async () => {
    const [a, b] = unixPair();
    const p = a.recvAsync(100);
    await tick(10);
    b.shutdown(s.SHUT_WR);
    const eof = await p;
    expect(Buffer.isBuffer(eof)).toBe(true);
    expect(eof.length).toBe(0);
    expect((await a.recvAsync(100)).length).toBe(0);
    b.close();
    expect((await a.recvAsync(100)).length).toBe(0);
  });

  it('recvAsync returns data sent before the close, then end of stream', async () => {
    const [client, conn] = await tcpPair();
    await client.sendAllAsync('last words');
    client.close();
    expect((await readAll(conn)).toString()).toBe('last words');
  });

  it('connectAsync to a closed port rejects with ECONNREFUSED', async () => {
    const port = closedPort();
    const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    const err = await client.connectAsync({ address: '127.0.0.1', port }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      code: 'ECONNREFUSED',
      errno: -osConstants.errno.ECONNREFUSED,
      syscall: 'connect',
      address: '127.0.0.1',
      port,
    });
  });

  it("connectAsync to 'localhost' on a closed port reports the resolved address", async () => {
    const port = closedPort();
    const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    await expect(client.connectAsync({ address: 'localhost', port })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: '127.0.0.1',
      port,
    });
  });

  it('connectAsync to a Unix path nobody listens on rejects (ENOENT)', async () => {
    const client = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM));
    await expect(client.connectAsync({ path: tmpSocketPath('nobody') })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });

  it('connectAsync to an unknown host name rejects with the lookup error', async () => {
    const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    await expect(client.connectAsync({ address: 'no-such-host.invalid', port: 80 })).rejects.toMatchObject({
      code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL)$/),
    });
  });

  it('close() while recvAsync waits rejects it with EBADF', async () => {
    const [a] = unixPair();
    const p = a.recvAsync(10);
    await tick(10);
    a.close();
    await expect(p).rejects.toMatchObject({ code: 'EBADF', syscall: 'recv', errno: -osConstants.errno.EBADF });
    await expect(a.recvAsync(10)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('close() rejects every waiting call: accept, recv and send', async () => {
    const { server } = tcpServer();
    const pa = server.acceptAsync();
    const [a] = unixPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    const pr = a.recvAsync(10);
    const ps = a.sendAllAsync(Buffer.alloc(4 * 1024 * 1024));
    await tick(10);
    server.close();
    a.close();
    await expect(pa).rejects.toMatchObject({ code: 'EBADF', syscall: 'accept' });
    await expect(pr).rejects.toMatchObject({ code: 'EBADF', syscall: 'recv' });
    await expect(ps).rejects.toMatchObject({ code: 'EBADF', syscall: 'send' });
  });

  it('a peer reset while recvAsync waits rejects it with ECONNRESET', async () => {
    const [client, conn] = await tcpPair();
    const p = conn.recvAsync(10);
    await tick(10);
    client.setsockopt(s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
    client.close();
    await expect(p).rejects.toMatchObject({ code: 'ECONNRESET', syscall: 'recv' });
  });

  it('a peer that goes away while sendAllAsync waits rejects it (EPIPE or ECONNRESET)', async () => {
    const [client, conn] = await tcpPair();
    client.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    const p = client.sendAllAsync(Buffer.alloc(16 * 1024 * 1024));
    await tick(20);
    conn.setsockopt(s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
    conn.close();
    await expect(p).rejects.toMatchObject({ code: expect.stringMatching(/^(EPIPE|ECONNRESET)$/), syscall: 'send' });
  });

  it('an fd already watched with watch() makes the async call reject with EEXIST, not crash', async () => {
    const [a, b] = unixPair();
    const w = s.watch(a, s.WATCH_WRITE, () => {});
    try {
      await expect(a.recvAsync(10)).rejects.toMatchObject({ code: 'EEXIST' });
    } finally {
      w.stop();
    }
    // Once the other watcher has stopped, the socket's own works.
    const p = a.recvAsync(10);
    await b.sendAllAsync('ok');
    expect((await p).toString()).toBe('ok');
  });

  it('detach() stops the socket watcher: the fd can then be watched directly', async () => {
    const [a, b] = unixPair();
    const p = a.recvAsync(10);
    await tick(5);
    await b.sendAllAsync('1');
    await p;
    const fd = a.detach();
    track(fd);
    const fired = new Promise<number>((resolve) => {
      s.watch(fd, s.WATCH_READ, function (_e, ev) {
        this.stop();
        resolve(ev);
      });
    });
    await b.sendAllAsync('2');
    expect((await fired) & s.WATCH_READ).toBeTruthy();
  });

  it('bad options are a TypeError rejection', async () => {
    const [a] = unixPair();
    await expect(a.recvAsync(10, 'x' as unknown as s.AsyncOptions)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(a.recvAsync(10, { signal: {} as AbortSignal })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(a.recvAsync(-1)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('AbortSignal', () => {
  const abortShape = { name: 'AbortError', code: 'ABORT_ERR' };

  it('an aborted signal rejects every method at once', async () => {
    const reason = new Error('no thanks');
    const signal = AbortSignal.abort(reason);
    const { server, port } = tcpServer();
    const [a] = unixPair();
    const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    for (const p of [
      server.acceptAsync({ signal }),
      client.connectAsync({ address: '127.0.0.1', port }, { signal }),
      client.connectAsync({ address: 'localhost', port }, { signal }),
      a.recvAsync(10, { signal }),
      a.recvIntoAsync(Buffer.alloc(4), undefined, undefined, { signal }),
      a.sendAllAsync('x', { signal }),
    ]) {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject(abortShape);
      expect((err as Error).cause).toBe(reason);
    }
    // Nothing happened: no connection was made, the listener has nothing to accept.
    server.setBlocking(false);
    expect(server.accept()).toBeNull();
    expect(() => client.getpeername()).toThrow(expect.objectContaining({ code: 'ENOTCONN' }));
  });

  it('abort during a wait rejects, and the socket stays usable', async () => {
    const [a, b] = unixPair();
    const ac = new AbortController();
    const p = a.recvAsync(10, { signal: ac.signal });
    await tick(20);
    ac.abort();
    await expect(p).rejects.toMatchObject(abortShape);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const again = a.recvAsync(10);
    await tick(5);
    await b.sendAllAsync('still here');
    expect((await again).toString()).toBe('still here');
  });

  it('abort of one of two waiting calls leaves the other waiting', async () => {
    const [a, b] = unixPair();
    const ac = new AbortController();
    const p1 = a.recvAsync(10, { signal: ac.signal });
    const p2 = a.recvAsync(10);
    await tick(10);
    ac.abort();
    await expect(p1).rejects.toMatchObject(abortShape);
    await b.sendAllAsync('for p2');
    expect((await p2).toString()).toBe('for p2');
  });

  it('abort during acceptAsync, then a later acceptAsync gets the connection', async () => {
    const { server, port } = tcpServer();
    const ac = new AbortController();
    const p = server.acceptAsync({ signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject(abortShape);
    const client = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
    const [[conn]] = await Promise.all([server.acceptAsync(), client.connectAsync({ address: '127.0.0.1', port })]);
    own(conn);
    expect(conn.getpeername()).toEqual(client.getsockname());
  });

  it('abort during sendAllAsync rejects it', async () => {
    const [a] = unixPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    const ac = new AbortController();
    const p = a.sendAllAsync(Buffer.alloc(4 * 1024 * 1024), { signal: ac.signal });
    await tick(20);
    ac.abort();
    await expect(p).rejects.toMatchObject(abortShape);
  });

  it('AbortSignal.timeout(50) ends a wait that nothing answers', async () => {
    const [a, b] = unixPair();
    const err = await a.recvAsync(10, { signal: AbortSignal.timeout(50) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject(abortShape);
    expect((err as Error).cause).toMatchObject({ name: 'TimeoutError' });
    // usable afterwards
    await b.sendAllAsync('after timeout');
    expect((await a.recvAsync(100)).toString()).toBe('after timeout');
  });

  it('a signal that aborts after the call resolved does nothing; the socket keeps one listener on it until it closes', async () => {
    const [a, b] = unixPair();
    const ac = new AbortController();
    const p = a.recvAsync(10, { signal: ac.signal });
    await tick(10);
    await b.sendAllAsync('in time');
    expect((await p).toString()).toBe('in time');
    // The socket still follows the signal (its next call will likely use it again: no registration per call).
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort();
    await tick(10);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const after = a.recvAsync(10); // the socket is unharmed
    await b.sendAllAsync('after');
    expect((await after).toString()).toBe('after');
    // The same (unaborted) signal over many waits does not pile up listeners, nor does a signal per call.
    const ac2 = new AbortController();
    for (let i = 0; i < 20; i++) {
      const q = a.recvAsync(10, { signal: ac2.signal });
      await tick(1);
      await b.sendAllAsync('x');
      await q;
    }
    expect(getEventListeners(ac2.signal, 'abort')).toHaveLength(1);
    const perCall = Array.from({ length: 20 }, () => new AbortController());
    for (const c of perCall) {
      const q = a.recvAsync(10, { signal: c.signal });
      await tick(1);
      await b.sendAllAsync('x');
      await q;
    }
    // Each call's signal was let go by the next call: only the last one is still followed.
    expect(getEventListeners(ac2.signal, 'abort')).toHaveLength(0);
    expect(perCall.map((c) => getEventListeners(c.signal, 'abort').length)).toEqual([...Array(19).fill(0), 1]);
    a.close();
    expect(getEventListeners(perCall[19].signal, 'abort')).toHaveLength(0);
  });

  it('two signals waiting on one socket at once: each aborts its own call only', async () => {
    const [a, b] = unixPair();
    const first = new AbortController();
    const second = new AbortController();
    const p1 = a.recvAsync(10, { signal: first.signal }).then((d) => d.toString(), (e: Error) => e);
    const p2 = a.recvAsync(10, { signal: second.signal }).then((d) => d.toString(), (e: Error) => e);
    await tick(5);
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(1);
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(1);
    second.abort();
    expect(await p2).toMatchObject(abortShape);
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(0);
    await b.sendAllAsync('one');
    expect(await p1).toBe('one');
    first.abort(); // after the fact: nothing
    await tick(5);
    const p3 = a.recvAsync(10, { signal: second.signal }); // aborted already: at once
    await expect(p3).rejects.toMatchObject(abortShape);
    a.close();
  });
});

describe('attempt(): every system call of the async methods, one non-blocking attempt each', () => {
  type Call = { call: AsyncCall; fd: number; arg: unknown; result?: AttemptResult; error?: string };
  /** A Socket that records each attempt (what --trace's TracedSocket prints). */
  class Recording extends s.Socket {
    calls: Call[] = [];
    protected override attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
      try {
        const result = super.attempt(call, fd, arg, offset, length);
        this.calls.push({ call, fd, arg, result });
        return result;
      } catch (err) {
        this.calls.push({ call, fd, arg, error: (err as NodeJS.ErrnoException).code });
        throw err;
      }
    }
    names(): string[] {
      return this.calls.map((c) => `${c.call}${c.error ? `!${c.error}` : c.result === null ? ':null' : ''}`);
    }
  }
  function recordingPair(): [Recording, Recording] {
    const [a, b] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
    return [own(new Recording(s.AF_UNIX, s.SOCK_STREAM, 0, a)), own(new Recording(s.AF_UNIX, s.SOCK_STREAM, 0, b))];
  }

  it('acceptAsync and connectAsync: setBlocking, accept, connect and the SO_ERROR read, each through attempt()', async () => {
    const server = own(new Recording(s.AF_INET, s.SOCK_STREAM));
    server.bind({ address: '127.0.0.1', port: 0 });
    server.listen();
    const port = (server.getsockname() as s.InetAddress).port;
    const client = own(new Recording(s.AF_INET, s.SOCK_STREAM));
    const accepting = server.acceptAsync();
    await tick(5);
    const connecting = client.connectAsync({ address: '127.0.0.1', port });
    const [[conn, addr]] = await Promise.all([accepting, connecting]);
    own(conn);
    expect(conn).toBeInstanceOf(Recording); // a subclass's acceptAsync gives sockets of the subclass
    expect(conn.getBlocking()).toBe(false);
    // The listener: made non-blocking once, then accept would block until the client came.
    expect(server.names()).toEqual(['setBlocking', 'accept:null', 'accept']);
    expect(server.calls[0]).toMatchObject({ fd: server.fileno(), arg: false });
    expect(server.calls[2].result).toEqual({ fd: conn.fileno(), address: addr });
    // The client: connect either completes at once, or is in progress and SO_ERROR says how it ended.
    const names = client.names();
    expect(names.slice(0, 2)).toEqual(['setBlocking', 'connect']);
    expect(client.calls[1]).toMatchObject({ fd: client.fileno(), arg: { address: '127.0.0.1', port } });
    if (client.calls[1].result === false) {
      expect(names).toEqual(['setBlocking', 'connect', 'getsockopt']);
      expect(client.calls[2]).toMatchObject({ arg: s.SO_ERROR, result: 0 });
    } else {
      expect(names).toEqual(['setBlocking', 'connect']);
    }
  });

  it('connectAsync to a closed port: the refusal is seen by attempt() (from connect or from SO_ERROR)', async () => {
    const client = own(new Recording(s.AF_INET, s.SOCK_STREAM));
    const port = closedPort();
    await expect(client.connectAsync({ address: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const last = client.calls.at(-1)!;
    if (last.call === 'connect') expect(last.error).toBe('ECONNREFUSED');
    else expect(last).toMatchObject({ call: 'getsockopt', result: osConstants.errno.ECONNREFUSED });
  });

  it('recvAsync and recvIntoAsync: the would-block attempt, then the one after readiness; after a short read, readiness first', async () => {
    const [a, b] = recordingPair();
    const p = a.recvAsync(100);
    await tick(10);
    b.send('hello');
    expect((await p).toString()).toBe('hello');
    expect(a.names()).toEqual(['setBlocking', 'recv:null', 'recv']);
    expect(a.calls[1]).toMatchObject({ fd: a.fileno(), arg: 100 });

    a.calls = [];
    const buf = Buffer.alloc(8, '.');
    const q = a.recvIntoAsync(buf, 1, 4);
    await tick(10);
    b.send('abcdef');
    expect(await q).toBe(4);
    expect(buf.toString()).toBe('.abcd...');
    // Non-blocking already: no second setBlocking. The last read was short ('hello' of 100: the receive buffer
    // is empty), so this one waited for readiness without spending a recv on "would block", as libuv does.
    expect(a.names()).toEqual(['recvInto']);
    expect(a.calls[0]).toMatchObject({ arg: buf, result: 4 });
    // A full read (4 of 4) lets the next one try at once: 'ef' is there.
    expect(await a.recvIntoAsync(new Uint8Array(10))).toBe(2);
    expect(a.names()).toEqual(['recvInto', 'recvInto']);
    // Short again (2 of 10): the end of stream is read after readiness, with no would-block attempt first.
    b.close();
    expect(await a.recvAsync(10)).toEqual(Buffer.alloc(0));
    expect(a.names()).toEqual(['recvInto', 'recvInto', 'recv']);
    // And a read with nothing before it, on a socket whose last read was full, tries first.
    const [c, d] = recordingPair();
    d.send('0123456789');
    expect((await c.recvAsync(5)).toString()).toBe('01234');
    expect((await c.recvAsync(5)).toString()).toBe('56789');
    const r = c.recvAsync(5);
    await tick(10);
    d.send('x');
    expect((await r).toString()).toBe('x');
    expect(c.names()).toEqual(['setBlocking', 'recv', 'recv', 'recv:null', 'recv']);
  });

  it('recvIntoAsync into a whole buffer: the would-block attempt, the read at readiness, and the short-read rule', async () => {
    const [a, b] = recordingPair();
    const buf = Buffer.alloc(8, '.');
    const p = a.recvIntoAsync(buf);
    await tick(10);
    b.send('abc');
    expect(await p).toBe(3);
    expect(buf.toString()).toBe('abc.....');
    expect(a.names()).toEqual(['setBlocking', 'recvInto:null', 'recvInto']);
    // Short (3 of 8): the next read waits for readiness first, and fills the whole buffer as it is then.
    a.calls = [];
    const q = a.recvIntoAsync(buf);
    await tick(10);
    b.send('0123456789');
    expect(await q).toBe(8);
    expect(buf.toString()).toBe('01234567');
    expect(a.names()).toEqual(['recvInto']);
    // Full (8 of 8): the next one tries at once, and '89' is there.
    expect(await a.recvIntoAsync(buf)).toBe(2);
    expect(a.names()).toEqual(['recvInto', 'recvInto']);
    // An empty buffer takes the window's way (a Unix stream socket says would-block to a read of 0 bytes until
    // some are there): it resolves 0, and takes none of the bytes.
    const [c, d] = recordingPair();
    const empty = c.recvIntoAsync(Buffer.alloc(0));
    await tick(10);
    d.send('x');
    expect(await empty).toBe(0);
    expect((await c.recvAsync(4)).toString()).toBe('x');
  });

  it('recvIntoAsync rejects with ERR_INVALID_STATE, and reads nothing, if its buffer loses the window while it waits', async () => {
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const [a, b] = recordingPair();
    await detachedWhileWaiting(a, b);
    // A window of a resizable buffer that shrinks below it.
    const rab = new Resizable(16, { maxByteLength: 16 });
    const q = a.recvIntoAsync(new Uint8Array(rab), 8, 4);
    await tick(10);
    rab.resize(10);
    b.send('xyz');
    await expect(q).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', message: expect.stringMatching(/window of 4 bytes at offset 8/) });
    expect((await a.recvAsync(16)).toString()).toBe('xyz');
    expect(a.names().filter((n) => n.startsWith('recvInto'))).toEqual(['recvInto:null']); // the whole buffer's first try
  });

  it('recvIntoAsync with an offset and no length reads the rest of the buffer as it is when the bytes arrive', async () => {
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const [a, b] = recordingPair();
    b.send('x');
    expect((await a.recvAsync(16)).toString()).toBe('x'); // short: the reads below wait before they try
    // Shrunk from 16 to 12 while it waits: the rest from offset 8 is 4 bytes now, and they are read.
    const rab = new Resizable(16, { maxByteLength: 32 });
    const view = new Uint8Array(rab); // tracks the buffer's length
    const p = a.recvIntoAsync(view, 8);
    await tick(10);
    rab.resize(12);
    b.send('abcdef');
    expect(await p).toBe(4);
    expect(Buffer.from(rab).subarray(8).toString()).toBe('abcd');
    // Full (4 of the 4 there were): the next read tries at once.
    expect(await a.recvIntoAsync(view, 8)).toBe(2);
    // Short against the buffer as it was at the read: grown to 32 while it waited, 12 of 24 is short, and the
    // next read waits first (no would-block attempt).
    a.calls = [];
    const q = a.recvIntoAsync(view, 8);
    await tick(10);
    rab.resize(32);
    b.send('0123456789ab');
    expect(await q).toBe(12);
    const r = a.recvIntoAsync(view, 8);
    await tick(10);
    b.send('z');
    expect(await r).toBe(1);
    expect(a.names()).toEqual(['recvInto', 'recvInto']);
    // Nothing left at the offset (resized to it): rejects, and reads nothing.
    const t = a.recvIntoAsync(view, 8);
    await tick(10);
    rab.resize(8);
    b.send('end');
    await expect(t).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', message: expect.stringMatching(/no bytes left to receive into at offset 8/) });
    expect((await a.recvAsync(16)).toString()).toBe('end');
  });

  it('sendAllAsync that sends everything at once returns one shared, settled promise', async () => {
    const [a, b] = recordingPair();
    const p1 = a.sendAllAsync('ab');
    const p2 = a.sendAllAsync(Buffer.from('cd'));
    expect(p1).toBe(p2);
    await p1;
    expect((await b.recvAsync(8)).toString()).toBe('abcd');
    expect(a.sendAllAsync('')).toBe(p1);
  });

  it('the short-read rule: streams only, arguments checked before any wait, and a fd closed behind its back is EBADF', async () => {
    const [a, b] = recordingPair();
    const first = a.recvAsync(100); // waits: the Socket's watcher exists from here on
    await tick(5);
    b.send('hi');
    expect((await first).toString()).toBe('hi'); // short: drained
    // A bad argument rejects at once, not after the peer next sends something.
    await expect(a.recvAsync(-1)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(a.recvIntoAsync(Buffer.alloc(4), 9)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    // The fd closed with sockfd's close() behind the Socket's back (which stops its watcher natively): the next
    // drained read, which would wait without trying, rejects with EBADF instead of waiting for ever.
    const fd = a.fileno();
    s.close(fd);
    await expect(a.recvAsync(100)).rejects.toMatchObject({ code: 'EBADF' });
    a.detach(); // the fd is gone already
    // Datagram sockets: every datagram may be short, so each read tries first.
    const [fa, fb] = s.socketpair(s.AF_UNIX, s.SOCK_DGRAM);
    const da = own(new Recording(s.AF_UNIX, s.SOCK_DGRAM, 0, fa));
    const db = own(new Recording(s.AF_UNIX, s.SOCK_DGRAM, 0, fb));
    db.send('one');
    db.send('two');
    expect((await da.recvAsync(100)).toString()).toBe('one');
    expect((await da.recvAsync(100)).toString()).toBe('two');
    expect(da.names()).toEqual(['setBlocking', 'recv', 'recv']);
  });

  it("calls waiting on a fd that sockfd's close(fd) closes behind the Socket's back reject with EBADF at once", async () => {
    const [a, b] = unixPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    const reading = a.recvAsync(10).then(() => 'resolved', (e: Error) => e);
    const sending = a.sendAllAsync(Buffer.alloc(1 << 20)).then(() => 'resolved', (e: Error) => e); // fills, then waits
    const { server } = tcpServer();
    const accepting = server.acceptAsync().then(() => 'resolved', (e: Error) => e);
    await tick(10);
    s.close(a.fileno()); // not a.close(): the Socket does not know
    s.close(server.fileno());
    expect(await reading).toMatchObject({ code: 'EBADF', syscall: 'recv' });
    expect(await sending).toMatchObject({ code: 'EBADF', syscall: 'send' });
    expect(await accepting).toMatchObject({ code: 'EBADF', syscall: 'accept' });
    // And later calls too, without a system call on the number (another file's by now, perhaps).
    await expect(a.recvAsync(10)).rejects.toMatchObject({ code: 'EBADF' });
    a.detach();
    server.detach();
    b.close();
  });

  it("a batched watcher's owner, told from inside close(fd), finds the fd closed already", () => {
    const [x, y] = trackedPair();
    let seen: unknown = null;
    batchedWatcher(x, s.WATCH_READ, () => {
      // The number is closed by now: watching it again is EBADF, not a poll of a dead number later.
      seen = (() => {
        try {
          s.watch(x, s.WATCH_READ, () => {}).stop();
          return 'watched';
        } catch (err) {
          return (err as NodeJS.ErrnoException).code;
        }
      })();
    });
    s.close(x);
    untrack(x);
    expect(seen).toBe('EBADF');
    s.close(y);
    untrack(y);
  });

  it('its own signal aborted from inside its retry, which then would block: the call rejects at once', async () => {
    class AbortInRetry extends s.Socket {
      ac: AbortController | null = null;
      calls = 0;
      protected override attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
        if (call === 'recv' && this.ac !== null && ++this.calls === 2) {
          this.ac.abort();
          return null; // as if the bytes were gone
        }
        return super.attempt(call, fd, arg, offset, length);
      }
    }
    const [fa, fb] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
    const a = own(new AbortInRetry(s.AF_UNIX, s.SOCK_STREAM, 0, fa));
    const b = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, fb));
    a.ac = new AbortController();
    const p = a.recvAsync(10, { signal: a.ac.signal }); // first attempt: would block, waits
    await tick(5);
    b.send('x'); // the retry aborts and says would-block
    await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(getEventListeners(a.ac.signal, 'abort')).toHaveLength(0);
  });

  it('a signal aborted by an async_hooks init callback while the watcher is made: the call rejects, no listener left', async () => {
    const [a, b] = unixPair();
    const ac = new AbortController();
    const hook = createHook({
      init(_id, type) {
        if (type === 'sockfd.watch') ac.abort();
      },
    }).enable();
    try {
      await expect(a.recvAsync(10, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    } finally {
      hook.disable();
    }
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const q = a.recvAsync(10); // the socket is unharmed
    b.send('ok');
    expect((await q).toString()).toBe('ok');
  });

  it('sendAllAsync: each partial send and each would-block is one attempt, and the counts add up', async () => {
    const [a, b] = recordingPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    const data = randomBytes(1024 * 1024);
    const [, got] = await Promise.all([a.sendAllAsync(data).then(() => a.shutdown(s.SHUT_WR)), readAll(b)]);
    expect(got.equals(data)).toBe(true);
    const sends = a.calls.filter((c) => c.call === 'send');
    expect(a.calls[0].call).toBe('setBlocking');
    expect(sends.length).toBe(a.calls.length - 1);
    expect(sends.some((c) => c.result === null)).toBe(true); // it had to wait
    expect(sends.reduce((n, c) => n + ((c.result as number | null) ?? 0), 0)).toBe(data.length);
    // Each attempt is handed the bytes not sent yet.
    let sent = 0;
    for (const c of sends) {
      expect((c.arg as Uint8Array).byteLength).toBe(data.length - sent);
      sent += (c.result as number | null) ?? 0;
    }
  });

  it('an override decides: a would-block it reports makes the call wait for readiness, on the event loop', async () => {
    class Shy extends s.Socket {
      refusals = 1;
      protected override attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
        if (call === 'recv' && this.refusals > 0) {
          this.refusals--;
          return null;
        }
        return super.attempt(call, fd, arg, offset, length);
      }
    }
    const [fa, fb] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
    const a = own(new Shy(s.AF_UNIX, s.SOCK_STREAM, 0, fa));
    const b = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, fb));
    b.send('ready already');
    // The data is there, but the override said would-block: the call waits for readiness (level-triggered:
    // it fires at once) and attempts again.
    expect((await a.recvAsync(100)).toString()).toBe('ready already');
    expect(a.refusals).toBe(0);
  });

  it("TracedSocket (--trace) prints every system call of the async methods, in the trace's format", async () => {
    const code = `
      const { TracedSocket } = require('./dist/demo/trace');
      const { setTrace } = require('./dist/demo/log');
      const s = require('./dist');
      setTrace(true);
      (async () => {
        const server = new TracedSocket(s.AF_INET, s.SOCK_STREAM);
        server.bind({ address: '127.0.0.1', port: 0 });
        server.listen(5);
        const port = server.getsockname().port;
        const client = new TracedSocket(s.AF_INET, s.SOCK_STREAM);
        const accepting = server.acceptAsync();
        await new Promise((r) => setTimeout(r, 5));
        const [[conn]] = await Promise.all([accepting, client.connectAsync({ address: '127.0.0.1', port })]);
        const reading = conn.recvAsync(1024);
        await new Promise((r) => setTimeout(r, 5));
        await client.sendAllAsync('hello');
        await reading;
        await client.sendAllAsync('abc');
        await conn.recvIntoAsync(Buffer.alloc(8));
        for (const x of [conn, client, server]) x.close();
      })().catch((e) => { console.error('FAILED', e); process.exitCode = 1; });
    `;
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', code], { cwd: root, timeout: 15000 }, (err, _out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(errOut)));
    });
    const expected = [
      /^fd \d+ {2}ioctl\(FIONBIO, 1\) {2}# setblocking\(False\) for the async calls -> ok$/m,
      /^fd \d+ {2}accept\(\) {2}# acceptAsync -> null \(would block\)$/m,
      /^fd \d+ {2}accept\(\) {2}# acceptAsync -> fd \d+ from 127\.0\.0\.1:\d+$/m,
      /^fd \d+ {2}connect\(\('127\.0\.0\.1', \d+\)\) {2}# connectAsync -> (connected|EINPROGRESS \(in progress\))$/m,
      /^fd \d+ {2}recv\(1024\) {2}# recvAsync -> null \(would block\)$/m,
      /^fd \d+ {2}recv\(1024\) {2}# recvAsync -> 5 bytes$/m,
      /^fd \d+ {2}send\(5 bytes\) {2}# sendAllAsync -> 5 sent$/m,
      /^fd \d+ {2}send\(3 bytes\) {2}# sendAllAsync -> 3 sent$/m,
      /^fd \d+ {2}recv\(8\) {2}# recvIntoAsync -> 3 bytes$/m,
      // After recvAsync's short read, recvIntoAsync waits before any attempt: the wait still names it.
      /^fd \d+ {2}wait readable \(uv_poll\) {2}# recvIntoAsync returns a pending promise; the event loop runs -> pending$/m,
    ];
    for (const re of expected) expect(stderr).toMatch(re);
    if (/connectAsync -> EINPROGRESS/.test(stderr)) expect(stderr).toMatch(/^fd \d+ {2}getsockopt\(SOL_SOCKET, SO_ERROR\) {2}# connectAsync -> 0$/m);
    expect(stderr).not.toMatch(/FAILED/);
  });
});

/** The close error the Readiness tests give close(): EBADF, naming the call. */
const ebadf = (syscall: string): Error => Object.assign(new Error(`${syscall} closed`), { code: 'EBADF', syscall });

/**
 * Runs `body` with a fresh lib/readiness whose batched watchers are recorded, each with a `cb` that calls its
 * callback as the addon would (`value`: events, or a negative libuv error): a real poll error is rare, so the
 * tests give the callback one.
 */
async function withSpiedWatchers(
  body: (SpiedReadiness: typeof Readiness, made: Array<{ w: s.Watcher; cb: (value: number) => void }>) => Promise<void>,
): Promise<void> {
  const made: Array<{ w: s.Watcher; cb: (value: number) => void }> = [];
  vi.resetModules();
  vi.doMock('../lib/watch', async (importOriginal) => {
    const orig = await importOriginal<typeof import('../lib/watch')>();
    const batchedWatcher = <S>(fd: number, events: number, onValue: (this: S, value: number) => void, self?: S): s.Watcher => {
      const w = orig.batchedWatcher(fd, events, onValue, self);
      made.push({ w, cb: (value) => onValue.call(self as S, value) });
      return w;
    };
    return { ...orig, batchedWatcher };
  });
  try {
    const { Readiness: SpiedReadiness } = await import('../lib/readiness');
    await body(SpiedReadiness, made);
  } finally {
    vi.doUnmock('../lib/watch');
    vi.resetModules();
  }
}

/**
 * For a describe block: a maker of Readiness objects, each on a fresh socketpair end `a` (closed by the fd
 * tracking after the test) with `b` to write to it; every one made is closed after each test of the block.
 */
function readinessMaker(): () => { r: Readiness; a: number; b: number } {
  const readinesses: Readiness[] = [];
  afterEach(() => {
    for (const r of readinesses.splice(0)) r.close(ebadf);
  });
  return () => {
    const [a, b] = trackedPair();
    s.setBlocking(a, false);
    const r = new Readiness(a);
    readinesses.push(r);
    return { r, a, b };
  };
}

describe('Readiness: the waiting of the async methods, on the event loop', () => {
  const abortShape = { name: 'AbortError', code: 'ABORT_ERR' };
  const readiness = readinessMaker();

  it('wait() resolves once the fd is ready; every waiter of that readiness wakes, the others wait on', async () => {
    const { r, b } = readiness();
    const r1 = tracker(r.wait(s.WATCH_READ, 'recv'));
    const r2 = tracker(r.wait(s.WATCH_READ, 'recv'));
    const w1 = tracker(r.wait(s.WATCH_WRITE, 'send')); // writable at once
    await w1.p;
    await tick(10);
    expect(r1.settled() || r2.settled()).toBe(false);
    s.send(b, 'x');
    await Promise.all([r1.p, r2.p]);
  });

  it('a signal aborts its waits with AbortError (cause: the reason), the others wait on', async () => {
    const { r, b } = readiness();
    const ac = new AbortController();
    const reason = new Error('enough');
    const aborted = r.wait(s.WATCH_READ, 'recv', ac.signal);
    const other = tracker(r.wait(s.WATCH_READ, 'recv'));
    await tick(5);
    ac.abort(reason);
    await expect(aborted).rejects.toMatchObject({ ...abortShape, cause: reason });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(other.settled()).toBe(false);
    s.send(b, 'x');
    await other.p;
    // Already aborted: rejects at once, and adds no listener.
    await expect(r.wait(s.WATCH_READ, 'recv', ac.signal)).rejects.toMatchObject({ ...abortShape, cause: reason });
  });

  it('many waits on one signal, over many fds, share one abort listener; it goes at the abort or the last close', async () => {
    const ac = new AbortController();
    const rs = Array.from({ length: 20 }, () => readiness());
    const waits = rs.map(({ r }) => r.wait(s.WATCH_READ, 'recv', ac.signal));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    for (const { b } of rs) s.send(b, 'x');
    await Promise.all(waits);
    // Kept while the fds are open (a connection's next wait registers nothing); closing them all removes it.
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    const kept = new AbortController();
    const more = rs.map(({ r }) => r.wait(s.WATCH_WRITE, 'send', kept.signal));
    await Promise.all(more);
    expect(getEventListeners(kept.signal, 'abort')).toHaveLength(1);
    // And once more, this time aborted: every one rejects.
    const again = rs.map(({ r }) => r.wait(s.WATCH_WRITE, 'send', ac.signal).then(() => 'resolved', (e: Error) => e));
    const pending = rs.map(({ r }) => r.wait(s.WATCH_READ, 'recv', ac.signal).then(() => 'resolved', (e: Error) => e));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort();
    // The writes may have been woken before the abort (the fds are writable); the reads cannot have been.
    for (const e of await Promise.all(pending)) expect(e).toMatchObject(abortShape);
    await Promise.all(again);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    for (const { r } of rs) r.close(ebadf);
    expect(getEventListeners(kept.signal, 'abort')).toHaveLength(0);
  });

  it('close(error) rejects every waiting call with error(syscall), readers first, and stops the watcher', async () => {
    const { r, a } = readiness();
    const ac = new AbortController();
    const order: string[] = [];
    const rd = r.wait(s.WATCH_READ, 'recv', ac.signal).catch((e: Error) => (order.push('recv'), e));
    await tick(5);
    const fill = Buffer.alloc(1 << 20);
    while (s.send(a, fill) !== null); // fill the send buffer: a write wait has to wait
    const wr = r.wait(s.WATCH_WRITE, 'send').catch((e: Error) => (order.push('send'), e));
    await tick(5);
    r.close(ebadf);
    expect(r.closed).toBe(true);
    expect(await rd).toMatchObject({ code: 'EBADF', syscall: 'recv' });
    expect(await wr).toMatchObject({ code: 'EBADF', syscall: 'send' });
    expect(order).toEqual(['recv', 'send']);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await expect(r.wait(s.WATCH_READ, 'accept')).rejects.toMatchObject({ code: 'EBADF', syscall: 'accept' });
    r.close(ebadf); // idempotent
    // The watcher is stopped: the fd can be watched directly (a second watcher would be EEXIST).
    const w = s.watch(a, s.WATCH_READ, () => {});
    w.stop();
  });

  it('until() makes the retry at each readiness, in the order the calls came, until it gives a value', async () => {
    const { r, a, b } = readiness();
    const got: string[] = [];
    const retries: string[] = [];
    const reader = (name: string) => (): string | null => {
      retries.push(name);
      const data = s.recv(a, 1);
      if (data !== null) got.push(`${name}:${data.toString()}`);
      return data === null ? null : data.toString();
    };
    const r1 = tracker(r.until(s.WATCH_READ, 'recv', undefined, reader('r1')));
    const r2 = tracker(r.until(s.WATCH_READ, 'recv', undefined, reader('r2')));
    await tick(10);
    expect(retries).toEqual([]); // no readiness yet: no retry (the caller made its first attempt itself)
    s.send(b, 'x');
    expect(await r1.p).toBe('x');
    await tick(10);
    // r2 was retried in the same wake-up, met would-block, and waits on.
    expect(retries).toEqual(['r1', 'r2']);
    expect(r2.settled()).toBe(false);
    s.send(b, 'y');
    expect(await r2.p).toBe('y');
    expect(got).toEqual(['r1:x', 'r2:y']);
    // A throw from the retry rejects that call alone.
    const boom = new Error('boom');
    const failing = r.until(s.WATCH_READ, 'recv', undefined, () => {
      throw boom;
    });
    const after = tracker(r.until(s.WATCH_READ, 'recv', undefined, reader('r3')));
    s.send(b, 'z');
    await expect(failing).rejects.toBe(boom);
    expect(await after.p).toBe('z');
  });

  it('aborts anywhere in the queues keep the order of the calls left, readers and writers apart', async () => {
    // The first waiter of each queue has a field of its own, the later ones share an array: aborting the first
    // (by its signal, or by the Readiness's own signal) must hand its place to the next of the same queue.
    const { r, a, b } = readiness();
    const fill = Buffer.alloc(1 << 20);
    while (s.send(a, fill) !== null); // a writer has to wait
    const own = new AbortController(); // the first signal this Readiness meets: its own
    const other = new AbortController();
    const retries: string[] = [];
    const reader = (name: string) => (): string | null => {
      retries.push(name);
      const data = s.recv(a, 1);
      return data === null ? null : `${name}:${data.toString()}`;
    };
    const settled = (p: Promise<unknown>) => p.then((v) => v, (e: Error) => e.name);
    const w1 = settled(r.until(s.WATCH_WRITE, 'send', own.signal, () => 'w1'));
    const r1 = settled(r.until(s.WATCH_READ, 'recv', other.signal, reader('r1')));
    const r2 = settled(r.until(s.WATCH_READ, 'recv', own.signal, reader('r2')));
    const w2 = settled(r.until(s.WATCH_WRITE, 'send', other.signal, () => 'w2'));
    const r3 = settled(r.until(s.WATCH_READ, 'recv', other.signal, reader('r3')));
    const r4 = settled(r.until(s.WATCH_READ, 'recv', undefined, reader('r4')));
    const w3 = settled(r.until(s.WATCH_WRITE, 'send', undefined, () => 'w3'));
    other.abort(); // r1 (the readers' first: r2 takes its place), w2 and r3 (behind)
    expect(await Promise.all([r1, w2, r3])).toEqual(['AbortError', 'AbortError', 'AbortError']);
    own.abort(); // w1 (the writers' first) and r2: r4 and w3 are left, each the first of its queue
    expect(await Promise.all([w1, r2])).toEqual(['AbortError', 'AbortError']);
    const r5 = settled(r.until(s.WATCH_READ, 'recv', undefined, reader('r5'))); // behind r4
    s.send(b, 'x');
    expect(await r4).toBe('r4:x');
    await tick(10);
    expect(retries).toEqual(['r4', 'r5']); // r5 met would-block and waits on, the only one left
    s.send(b, 'y');
    expect(await r5).toBe('r5:y');
    s.setBlocking(b, false);
    while (s.recv(b, 1 << 20) !== null); // room to write again
    expect(await w3).toBe('w3');
    expect(getEventListeners(own.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
  });

  it('a retry that closes the Readiness or aborts another call: each call settles once, later retries never run', async () => {
    const { r, b } = readiness();
    const ac = new AbortController();
    const ran: string[] = [];
    const first = r.until(s.WATCH_READ, 'recv', undefined, () => {
      ran.push('first');
      ac.abort(); // the second waiter's signal, from inside the first's retry
      return 'one';
    });
    const second = r.until(s.WATCH_READ, 'recv', ac.signal, () => (ran.push('second'), 'two'));
    const third = r.until(s.WATCH_READ, 'accept', undefined, () => {
      ran.push('third');
      r.close(ebadf);
      return null; // would block, but closed meanwhile: the close error, not a wait for ever
    });
    const fourth = r.until(s.WATCH_READ, 'recv', undefined, () => (ran.push('fourth'), 'four'));
    s.send(b, 'x');
    expect(await first).toBe('one');
    await expect(second).rejects.toMatchObject(abortShape);
    await expect(third).rejects.toMatchObject({ code: 'EBADF', syscall: 'accept' });
    await expect(fourth).rejects.toMatchObject({ code: 'EBADF', syscall: 'recv' });
    expect(ran).toEqual(['first', 'third']);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a watcher that cannot start rejects the wait with its error, and leaves no waiter behind', async () => {
    const { r, a, b } = readiness();
    const w = s.watch(a, s.WATCH_WRITE, () => {});
    const ac = new AbortController();
    await expect(r.wait(s.WATCH_READ, 'recv', ac.signal)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    w.stop();
    const p = r.wait(s.WATCH_READ, 'recv');
    s.send(b, 'x');
    await p;
  });

  it('a watcher error rejects every waiting call, readers and writers, with it; later waits watch again', async () => {
    // A real poll error is rare (sockfd reports socket errors as readiness): give the callback one, as the
    // addon would (a negative libuv error).
    await withSpiedWatchers(async (SpiedReadiness, made) => {
      const [a, b] = trackedPair();
      s.setBlocking(a, false);
      const fill = Buffer.alloc(1 << 20);
      while (s.send(a, fill) !== null);
      const r = new SpiedReadiness(a);
      const ac = new AbortController();
      const rd = r.wait(s.WATCH_READ, 'recv', ac.signal);
      const wr = r.wait(s.WATCH_WRITE, 'send');
      expect(made).toHaveLength(1);
      made[0].cb(-osConstants.errno.EIO);
      const err = await rd.then(() => null, (e: Error) => e);
      expect(err).toMatchObject({ code: 'EIO', syscall: 'poll', errno: -osConstants.errno.EIO, message: 'poll EIO' });
      await expect(wr).rejects.toBe(err);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1); // followed until r closes
      expect(made[0].w.events).toBe(0); // paused
      const again = r.wait(s.WATCH_READ, 'recv');
      expect(made[0].w.events).toBe(s.WATCH_READ);
      s.send(b, 'x');
      await again;
      r.close(ebadf);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    });
  });
});

describe('Readiness: JavaScript that hooks run in the middle of it', () => {

  it('an async_hooks init callback that closes the Readiness while its watcher is made: no watcher is left', async () => {
    const [a, b] = trackedPair();
    s.setBlocking(a, false);
    const r = new Readiness(a);
    const hook = createHook({
      init(_id, type) {
        if (type === 'sockfd.watch') r.close(ebadf);
      },
    }).enable();
    let wait: Promise<void>;
    try {
      wait = r.wait(s.WATCH_READ, 'recv');
    } finally {
      hook.disable();
    }
    await expect(wait).rejects.toMatchObject({ code: 'EBADF', syscall: 'recv' });
    // Nothing watches the fd (a second watcher would be EEXIST), and nothing polls it for the closed Readiness.
    const w = s.watch(a, s.WATCH_READ, () => {});
    w.stop();
    s.send(b, 'x');
    await tick(10);
  });

  it('a promise hook that aborts the signal while the wait makes its promise: the wait rejects at once', async () => {
    const [a] = trackedPair();
    s.setBlocking(a, false);
    const r = new Readiness(a);
    // A first wait makes the watcher, so that the second makes its promise and nothing else (no async_hooks init).
    const first = r.wait(s.WATCH_READ, 'recv');
    const ac = new AbortController();
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE' && !ac.signal.aborted) ac.abort(new Error('from the hook'));
      },
    }).enable();
    let wait: Promise<void>;
    try {
      wait = r.wait(s.WATCH_READ, 'recv', ac.signal);
    } finally {
      hook.disable();
    }
    // Nothing is ever ready to read: only the abort can settle it.
    await expect(wait).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: { message: 'from the hook' } });
    r.close(ebadf);
    await expect(first).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('an already aborted signal rejects the wait, which then holds no place in the queue', async () => {
    const [a, b] = trackedPair();
    s.setBlocking(a, false);
    const r = new Readiness(a);
    const reason = new Error('before');
    await expect(r.wait(s.WATCH_READ, 'recv', AbortSignal.abort(reason))).rejects.toMatchObject({ code: 'ABORT_ERR', cause: reason });
    // The next waiter is the first of its queue: the readiness wakes it.
    const next = r.wait(s.WATCH_READ, 'recv');
    s.send(b, 'x');
    await next;
    r.close(ebadf);
  });

  it("a poll error's rejections run promise hooks that wait again or close: the wait is woken, nothing throws", async () => {
    await withSpiedWatchers(async (SpiedReadiness, made) => {
      // A hook that waits again from inside the rejection: its wait must stay watched, and be woken.
      const [a, b] = trackedPair();
      s.setBlocking(a, false);
      const r = new SpiedReadiness(a);
      const first = r.wait(s.WATCH_READ, 'recv').then(() => 'resolved', (e: Error) => e.message);
      let again: Promise<void> | undefined;
      const hook = createHook({
        promiseResolve() {
          again ??= r.wait(s.WATCH_READ, 'recv');
        },
      });
      hook.enable();
      try {
        made[0].cb(-osConstants.errno.EIO);
      } finally {
        hook.disable();
      }
      expect(await first).toBe('poll EIO');
      expect(again).toBeDefined();
      expect(made[0].w.events).toBe(s.WATCH_READ);
      s.send(b, 'x');
      await again;
      r.close(ebadf);
      // A hook that closes the Readiness from inside the rejection: the error path must not touch the watcher.
      const [c] = trackedPair();
      s.setBlocking(c, false);
      const r2 = new SpiedReadiness(c);
      const rd = r2.wait(s.WATCH_READ, 'recv').then(() => 'resolved', (e: Error) => e.message);
      const wr = r2.wait(s.WATCH_WRITE, 'send').then(() => 'resolved', (e: Error) => e.message);
      const closer = createHook({
        promiseResolve() {
          r2.close(ebadf);
        },
      });
      closer.enable();
      try {
        expect(() => made[1].cb(-osConstants.errno.EIO)).not.toThrow();
      } finally {
        closer.disable();
      }
      expect(await rd).toBe('poll EIO');
      expect(['poll EIO', 'send closed']).toContain(await wr);
      expect(r2.closed).toBe(true);
    });
  });
});

describe("the addon's read at readiness: recvIntoAsync into a whole buffer", () => {
  // While such a call waits (and attempt() is Socket's own), the addon makes its recv at the readiness, in the
  // delivery, before it calls into JavaScript (native/watcher.cc, ReadArmed), as libuv reads a stream once it is
  // readable; the call settles with that read's outcome.
  const readiness = readinessMaker();
  it('is made by the addon, not by a call into it from JavaScript: the bytes land in the buffer, the short-read rule holds', async () => {
    const [a, b] = unixPair();
    const reads = vi.spyOn(native, 'recvInto');
    try {
      const buf = Buffer.alloc(4);
      const p = a.recvIntoAsync(buf); // tries once (would block), then waits
      await tick(5);
      expect(reads).toHaveBeenCalledTimes(1);
      b.send('abcdefghij');
      expect(await p).toBe(4);
      expect(buf.toString()).toBe('abcd');
      expect(reads).toHaveBeenCalledTimes(1); // the read at readiness was the addon's own
      // A full read: the next call tries at once (JavaScript's read), as does the one after it, which is short.
      expect(await a.recvIntoAsync(buf)).toBe(4);
      expect(buf.toString()).toBe('efgh');
      expect(await a.recvIntoAsync(buf)).toBe(2);
      expect(buf.subarray(0, 2).toString()).toBe('ij');
      expect(reads).toHaveBeenCalledTimes(3);
      // After the short read, the next call waits for readiness first, and the addon reads.
      const q = a.recvIntoAsync(buf);
      await tick(5);
      b.send('k');
      expect(await q).toBe(1);
      expect(buf.subarray(0, 1).toString()).toBe('k');
      expect(reads).toHaveBeenCalledTimes(3);
      // End of stream, read by the addon too: 0.
      const r = a.recvIntoAsync(buf);
      await tick(5);
      b.close();
      expect(await r).toBe(0);
      expect(reads).toHaveBeenCalledTimes(3);
    } finally {
      reads.mockRestore();
    }
  });

  it('each call reads into its own buffer, whatever the buffers before it were', async () => {
    const [a, b] = unixPair();
    const bufs = [new Uint8Array(8), Buffer.alloc(8), new Uint8Array(8), new DataView(new ArrayBuffer(8)), new ArrayBuffer(8)];
    for (let i = 0; i < bufs.length; i++) {
      const p = a.recvIntoAsync(bufs[i]);
      await tick(2);
      b.send(`m${i}`);
      expect(await p).toBe(2);
    }
    const text = (x: ArrayBufferView | ArrayBuffer): string =>
      Buffer.from(x instanceof ArrayBuffer ? x : x.buffer, x instanceof ArrayBuffer ? 0 : x.byteOffset, 2).toString();
    expect(bufs.map(text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('a buffer detached while the call waits: ERR_INVALID_STATE, and nothing read', async () => {
    const [a, b] = unixPair();
    await detachedWhileWaiting(a, b);
  });

  it('a view of a growable SharedArrayBuffer grown while the call waits: read at its length then', async () => {
    const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer & { grow(n: number): void };
    const [a, b] = unixPair();
    const sab = new Growable(2, { maxByteLength: 16 });
    const view = new Uint8Array(sab); // length-tracking
    const p = a.recvIntoAsync(view);
    await tick(5);
    sab.grow(8);
    b.send('12345678');
    expect(await p).toBe(8);
    expect(Buffer.from(view).toString()).toBe('12345678');
  });

  it('a read made is never lost: an earlier entry of the same delivery that aborts the call or closes its socket', async () => {
    // Readiness A's retry runs first or second in the delivery that also brings B's readiness (the kernel's order),
    // and aborts B's signal (B's own, or another) or closes B. If B's entry comes later, the addon has read for it
    // already, before any JavaScript of the delivery ran: B settles with that read, as a read that completed first.
    for (let round = 0; round < 18; round++) {
      const A = readiness();
      const B = readiness();
      const own = new AbortController();
      const other = new AbortController();
      if (round % 3 === 1) {
        // B's first wait follows `own` (the Readiness's signal); aborted, the read waits on with `other`.
        const first = B.r.wait(s.WATCH_READ, 'recv', own.signal);
        void first.catch(() => {});
      }
      const signal = round % 3 === 1 ? other.signal : own.signal;
      const buf = new Uint8Array(8);
      let got: number | undefined | 'never' = 'never';
      const pb = B.r.until(s.WATCH_READ, 'recv', signal, (arg: Uint8Array, read?: number) => {
        got = read;
        return read ?? s.recvInto(B.a, arg);
      }, buf, undefined, buf);
      if (round % 3 === 1) {
        own.abort();
        await tick(0);
      }
      const pa = A.r.until(s.WATCH_READ, 'recv', undefined, () => {
        if (round % 3 === 2) B.r.close(ebadf);
        else (round % 3 === 1 ? other : own).abort();
        return s.recvInto(A.a, new Uint8Array(8));
      });
      await tick(2);
      s.send(A.b, 'a');
      s.send(B.b, 'bb'); // both ready before the loop polls again: one delivery
      expect(await pa).toBe(1);
      expect(await pb).toBe(2);
      expect(got).toBe(2); // the addon's read
      expect(Buffer.from(buf.subarray(0, 2)).toString()).toBe('bb');
    }
  });

  it('a subclass that overrides attempt() makes every read itself', async () => {
    class Counting extends s.Socket {
      reads = 0;
      protected override attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
        if (call === 'recvInto') this.reads++;
        return super.attempt(call, fd, arg, offset, length);
      }
    }
    const [fa, fb] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM);
    const a = own(new Counting(s.AF_UNIX, s.SOCK_STREAM, 0, fa));
    const b = own(new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, fb));
    const buf = Buffer.alloc(8);
    const p = a.recvIntoAsync(buf);
    await tick(5);
    b.send('xy');
    expect(await p).toBe(2);
    expect(a.reads).toBe(2); // would-block, then the read at readiness
  });

  it('the buffer is not kept once the socket is closed', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const [a, b] = unixPair();
    let collected = false;
    const registry = new FinalizationRegistry(() => {
      collected = true;
    });
    await (async () => {
      const buf = new Uint8Array(16);
      registry.register(buf, 0);
      const p = a.recvIntoAsync(buf);
      await tick(5);
      b.send('x');
      expect(await p).toBe(1);
    })();
    a.close();
    for (let i = 0; i < 20 && !collected; i++) {
      gc();
      await tick(5);
    }
    expect(collected).toBe(true);
  });
});

describe('the event loop goes on', () => {
  it('timers keep firing while async calls wait', async () => {
    const [a, b] = unixPair();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    try {
      setTimeout(() => b.send('late'), 100);
      expect((await a.recvAsync(10)).toString()).toBe('late');
      expect(ticks).toBeGreaterThanOrEqual(3);

      const { server, port } = tcpServer();
      const before = ticks;
      const c = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
      let connecting: Promise<void> | undefined;
      setTimeout(() => (connecting = c.connectAsync({ address: '127.0.0.1', port })), 100);
      const [conn] = await server.acceptAsync();
      own(conn);
      await connecting;
      expect(ticks - before).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(iv);
    }
  });

  it('50 concurrent clients against an acceptAsync loop in the same process', async () => {
    const { server, port } = tcpServer();
    const N = 50;
    const handled: Promise<number>[] = [];
    const serving = (async () => {
      for (let i = 0; i < N; i++) {
        const [conn] = await server.acceptAsync();
        own(conn);
        handled.push(echo(conn));
      }
    })();
    const clients = Array.from({ length: N }, async (_, i) => {
      const c = own(new s.Socket(s.AF_INET, s.SOCK_STREAM));
      await c.connectAsync({ address: '127.0.0.1', port });
      const msg = Buffer.from(`client ${i} `.repeat(1000 + i));
      const [, got] = await Promise.all([c.sendAllAsync(msg).then(() => c.shutdown(s.SHUT_WR)), readAll(c)]);
      c.close();
      return got.equals(msg);
    });
    expect(await Promise.all(clients)).toEqual(Array(N).fill(true));
    await serving;
    const counts = await Promise.all(handled);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(
      Array.from({ length: N }, (_, i) => `client ${i} `.length * (1000 + i)).reduce((x, y) => x + y, 0),
    );
  });
});

describe('worker_threads', () => {
  const pkg = path.resolve(root);

  const exits = new WeakMap<Worker, Promise<number>>();
  function worker(code: string): Worker {
    const w = new Worker(`const s = require(${JSON.stringify(pkg)});\n${code}`, { eval: true });
    workers.push(w);
    // Listened for at once: a worker may exit before the test gets to wait for it.
    exits.set(w, new Promise((resolve) => w.once('exit', resolve)));
    return w;
  }
  function message<T>(w: Worker, pred: (m: T) => boolean = () => true): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: T): void => {
        if (pred(m)) {
          w.off('message', onMsg);
          w.off('error', reject);
          resolve(m);
        }
      };
      w.on('message', onMsg);
      w.once('error', reject);
    });
  }
  const exited = (w: Worker): Promise<number> => exits.get(w)!;

  const echoWorker = `
    const { parentPort, workerData } = require('node:worker_threads');
    const crypto = require('node:crypto');
    (async () => {
      const server = new s.Socket(s.AF_INET, s.SOCK_STREAM);
      server.bind({ address: '127.0.0.1', port: 0 });
      server.listen();
      const port = server.getsockname().port;
      const client = new s.Socket(s.AF_INET, s.SOCK_STREAM);
      const [[conn]] = await Promise.all([server.acceptAsync(), client.connectAsync({ address: '127.0.0.1', port })]);
      server.close();
      const serve = (async () => {
        for (;;) {
          const d = await conn.recvAsync(65536);
          if (d.length === 0) break;
          await conn.sendAllAsync(d);
        }
        conn.close();
      })();
      const data = crypto.randomBytes(2 * 1024 * 1024);
      const parts = [];
      let n = 0;
      await Promise.all([
        client.sendAllAsync(data).then(() => client.shutdown(s.SHUT_WR)),
        (async () => {
          for (;;) {
            const d = await client.recvAsync(65536);
            if (d.length === 0) break;
            parts.push(d);
            n += d.length;
          }
        })(),
      ]);
      await serve;
      client.close();
      parentPort.postMessage({ ok: Buffer.concat(parts).equals(data), bytes: n });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
  `;

  it('4 workers at once each run an async echo server and client; main thread timers fire meanwhile', async () => {
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    try {
      const ws = Array.from({ length: 4 }, () => worker(echoWorker));
      const results = await Promise.all(ws.map((w) => Promise.all([message<{ ok?: boolean; bytes?: number; error?: string }>(w), exited(w)])));
      for (const [msg, code] of results) {
        expect(msg.error).toBeUndefined();
        expect(msg).toEqual({ ok: true, bytes: 2 * 1024 * 1024 });
        expect(code).toBe(0);
      }
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(iv);
    }
  });

  it('a worker terminated while its recvAsync waits exits cleanly (exit code 1), and the process goes on', async () => {
    const w = worker(`
      const { parentPort } = require('node:worker_threads');
      const [a, b] = s.socketpair();
      const sock = new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a);
      parentPort.postMessage({ fds: [a, b] });
      sock.recvAsync(10).then((d) => parentPort.postMessage({ got: String(d) }));
      setImmediate(() => parentPort.postMessage({ waiting: true }));
    `);
    const fdsMsg = message<{ fds?: number[] }>(w, (m) => m.fds !== undefined);
    const { fds } = await fdsMsg;
    for (const fd of fds!) track(fd);
    await message<{ waiting?: boolean }>(w, (m) => m.waiting === true);
    const exit = exited(w);
    expect(await w.terminate()).toBe(1);
    expect(await exit).toBe(1);
    // The fds are the process's, still open; the worker's watcher is gone, so this thread can watch them.
    expect(isOpen(fds![0])).toBe(true);
    const [a, b] = fds!;
    const fired = new Promise<number>((resolve) => {
      s.watch(a, s.WATCH_READ, function (_e, ev) {
        this.stop();
        resolve(ev);
      });
    });
    s.send(b, 'main');
    expect((await fired) & s.WATCH_READ).toBeTruthy();
    expect(s.recv(a, 10)!.toString()).toBe('main');
  });

  it('workers terminated while they serve traffic (the batched path busy every turn): no crash, no fd left', async () => {
    for (let round = 0; round < 6; round++) {
      // 300 pairs: a turn can have more ready sockets than a chunk (256), delivered from the poll phase then.
      const w = worker(`
        const { parentPort } = require('node:worker_threads');
        const pairs = Array.from({ length: 300 }, () => s.socketpair().map((fd) => new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, fd)));
        parentPort.postMessage({ fds: pairs.flat().map((x) => x.fileno()) });
        let turns = 0;
        for (const [a, b] of pairs) {
          (async () => {
            await b.sendAllAsync('ping');
            for (;;) {
              const got = await a.recvAsync(16);
              await a.sendAllAsync(got);
              await b.recvAsync(16);
              await b.sendAllAsync('ping');
              if (++turns === 2000) parentPort.postMessage({ busy: true });
            }
          })();
        }
      `);
      const { fds } = await message<{ fds?: number[] }>(w, (m) => m.fds !== undefined);
      for (const fd of fds!) track(fd);
      await message<{ busy?: boolean }>(w, (m) => m.busy === true);
      await tick(round * 3); // a different instant each round
      expect(await w.terminate()).toBe(1);
    }
  });

  it('a worker terminated while many calls wait (accept, connect, recv, send) exits cleanly', async () => {
    const w = worker(`
      const { parentPort } = require('node:worker_threads');
      const server = new s.Socket(s.AF_INET, s.SOCK_STREAM);
      server.bind({ address: '127.0.0.1', port: 0 });
      server.listen();
      const [a, b] = s.socketpair();
      const sa = new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a);
      sa.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
      const c = new s.Socket(s.AF_UNIX, s.SOCK_STREAM);
      parentPort.postMessage({ fds: [server.fileno(), a, b, c.fileno()] });
      server.acceptAsync();
      sa.recvAsync(10);
      sa.sendAllAsync(Buffer.alloc(8 * 1024 * 1024));
      const w2 = s.watch(b, s.WATCH_READ, () => {});
      setTimeout(() => parentPort.postMessage({ waiting: true }), 20);
    `);
    const { fds } = await message<{ fds?: number[] }>(w, (m) => m.fds !== undefined);
    for (const fd of fds!) track(fd);
    await message<{ waiting?: boolean }>(w, (m) => m.waiting === true);
    expect(await w.terminate()).toBe(1);
    for (const fd of fds!) expect(isOpen(fd)).toBe(true);
  });

  it('a worker that exits (process.exit) while watchers are active exits cleanly', async () => {
    const w = worker(`
      const { parentPort } = require('node:worker_threads');
      const [a, b] = s.socketpair();
      const [c, d] = s.socketpair();
      parentPort.postMessage({ fds: [a, b, c, d] });
      const sock = new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a);
      sock.recvAsync(10);
      s.watch(c, s.WATCH_READ, () => {});
      s.send(b, 'x'); // a level-triggered watcher that keeps firing
      s.watch(b, s.WATCH_READ | s.WATCH_WRITE, () => {});
      setTimeout(() => process.exit(0), 30);
    `);
    const { fds } = await message<{ fds?: number[] }>(w, (m) => m.fds !== undefined);
    for (const fd of fds!) track(fd);
    expect(await exited(w)).toBe(0);
  });

  it("a worker whose only watcher is unref'd ends by itself", async () => {
    const w = worker(`
      const { parentPort } = require('node:worker_threads');
      const [a, b] = s.socketpair();
      parentPort.postMessage({ fds: [a, b] });
      s.watch(a, s.WATCH_READ, () => {}).unref();
    `);
    const { fds } = await message<{ fds?: number[] }>(w, (m) => m.fds !== undefined);
    for (const fd of fds!) track(fd);
    expect(await exited(w)).toBe(0);
  });

  it('the same fd can be watched in a worker and in the main thread at once (one watcher per fd and thread)', async () => {
    const [a, b] = trackedPair();
    const mainFired = new Promise<number>((resolve) => {
      s.watch(a, s.WATCH_READ, function (_e, ev) {
        this.stop();
        resolve(ev);
      });
    });
    const w = worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      s.watch(${a}, s.WATCH_READ, function (err, ev) {
        this.stop();
        parentPort.postMessage({ ev });
      });
      parentPort.postMessage({ watching: true });
    `);
    const evMsg = message<{ ev?: number }>(w, (m) => m.ev !== undefined);
    await message<{ watching?: boolean }>(w, (m) => m.watching === true);
    s.send(b, 'both');
    expect((await mainFired) & s.WATCH_READ).toBeTruthy();
    expect((await evMsg).ev! & s.WATCH_READ).toBeTruthy();
    expect(await exited(w)).toBe(0);
  });
});
