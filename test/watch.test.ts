/**
 * watch(fd, events, callback): readiness callbacks on the event loop through a uv_poll_t. Socketpairs and TCP
 * over loopback in this process; the cases about process lifetime (unref, uncaught exceptions) in children.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { runNode, type Child } from './helpers/child';
import { checkFdLeaks, isOpen } from './helpers/fds';
import { tcpListener } from './helpers/net';
import { closeFd, track, trackedPair, trackedTcpPair, untrack, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

// Everything a test opens is released after it, whatever happened in it (fds by ./helpers/track, after this
// file's own afterEach).
const watchers: s.Watcher[] = [];
const children: Child[] = [];
function own(w: s.Watcher): s.Watcher {
  watchers.push(w);
  return w;
}
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const w of watchers.splice(0)) w.stop();
});

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Resolves with the first callback's arguments and `this`, then stops the watcher. */
function once(fd: s.FileObj, events: number): { w: s.Watcher; fired: Promise<{ self: unknown; err: Error | null; events: number }> } {
  let w!: s.Watcher;
  const fired = new Promise<{ self: unknown; err: Error | null; events: number }>((resolve) => {
    w = own(
      s.watch(fd, events, function (err, ev) {
        this.stop();
        resolve({ self: this, err, events: ev });
      }),
    );
  });
  return { w, fired };
}

describe('watch: readiness', () => {
  it('calls back with (null, WATCH_READ) when data arrives, with the Watcher as this', async () => {
    const [a, b] = trackedPair();
    const { w, fired } = once(a, s.WATCH_READ);
    expect(w).toBeInstanceOf(s.Watcher);
    expect(w.fd).toBe(a);
    expect(w.events).toBe(s.WATCH_READ);
    expect(w.active).toBe(true);
    await tick(20);
    s.send(b, 'ping');
    const r = await fired;
    expect(r.err).toBeNull();
    expect(r.events & s.WATCH_READ).toBe(s.WATCH_READ);
    expect(r.self).toBe(w);
    expect(w.active).toBe(false);
    expect(s.recv(a, 100)!.toString()).toBe('ping');
  });

  it('does not call back before the fd is ready', async () => {
    const [a] = trackedPair();
    let calls = 0;
    own(s.watch(a, s.WATCH_READ, () => calls++));
    for (let i = 0; i < 5; i++) await turn();
    await tick(30);
    expect(calls).toBe(0);
  });

  it('takes an object with fileno() (a Socket)', async () => {
    const [a, b] = trackedPair();
    const sock = new s.Socket(s.AF_UNIX, s.SOCK_STREAM, 0, a);
    untrack(a);
    try {
      const { w, fired } = once(sock, s.WATCH_READ);
      expect(w.fd).toBe(a);
      s.send(b, 'x');
      const r = await fired;
      expect(r.err).toBeNull();
      expect(r.events & s.WATCH_READ).toBeTruthy();
    } finally {
      sock.close();
    }
  });

  it('is level-triggered: fires again on later loop turns while the data is not read', async () => {
    const [a, b] = trackedPair();
    s.send(b, 'not drained');
    let calls = 0;
    await new Promise<void>((resolve) => {
      own(
        s.watch(a, s.WATCH_READ, function (err, ev) {
          expect(err).toBeNull();
          expect(ev & s.WATCH_READ).toBeTruthy();
          if (++calls === 4) {
            this.stop();
            resolve();
          }
        }),
      );
    });
    expect(calls).toBe(4);
    // Draining stops the callbacks.
    let after = 0;
    const w = own(
      s.watch(a, s.WATCH_READ, () => {
        after++;
        while (s.recv(a, 4096) !== null) {
          /* drain */
        }
      }),
    );
    await tick(50);
    expect(after).toBe(1);
    w.stop();
  });

  it('reports WATCH_WRITE on a writable socket', async () => {
    const [a] = trackedPair();
    const { fired } = once(a, s.WATCH_WRITE);
    const r = await fired;
    expect(r.err).toBeNull();
    expect(r.events & s.WATCH_WRITE).toBe(s.WATCH_WRITE);
    expect(r.events & s.WATCH_READ).toBe(0);
  });

  it('reports both bits when watching both and both are ready', async () => {
    const [a, b] = trackedPair();
    s.send(b, 'x');
    const { fired } = once(a, s.WATCH_READ | s.WATCH_WRITE);
    const r = await fired;
    expect(r.events & (s.WATCH_READ | s.WATCH_WRITE)).toBe(s.WATCH_READ | s.WATCH_WRITE);
  });

  it('keeps timers firing while it waits', async () => {
    const [a, b] = trackedPair();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    try {
      const { fired } = once(a, s.WATCH_READ);
      setTimeout(() => s.send(b, 'late'), 100);
      const r = await fired;
      expect(r.err).toBeNull();
      expect(ticks).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(iv);
    }
    expect(s.recv(a, 10)!.toString()).toBe('late');
  });
});

describe('watch: update, stop, ref', () => {
  it('update(0) pauses and update(WATCH_READ) resumes', async () => {
    const [a, b] = trackedPair();
    s.send(b, 'pending');
    let calls = 0;
    const w = own(s.watch(a, s.WATCH_READ, () => calls++));
    expect(w.update(0)).toBe(w);
    expect(w.events).toBe(0);
    expect(w.active, 'paused: not polling').toBe(false);
    expect(w.stopped, 'paused, not stopped').toBe(false);
    await tick(50);
    expect(calls).toBe(0);
    w.update(s.WATCH_READ);
    expect(w.events).toBe(s.WATCH_READ);
    expect(w.active).toBe(true);
    while (calls === 0) await turn();
    w.stop();
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  it('update() switches from read to write', async () => {
    const [a] = trackedPair();
    const seen: number[] = [];
    const w = own(s.watch(a, s.WATCH_READ, (_err, ev) => seen.push(ev)));
    await tick(20);
    expect(seen).toEqual([]);
    w.update(s.WATCH_WRITE);
    while (seen.length === 0) await turn();
    w.stop();
    expect(seen[0] & s.WATCH_WRITE).toBe(s.WATCH_WRITE);
  });

  it('stop() is idempotent and no callback arrives after it', async () => {
    const [a, b] = trackedPair();
    let calls = 0;
    const w = s.watch(a, s.WATCH_READ, () => calls++);
    w.stop();
    expect(w.active).toBe(false);
    expect(w.stopped).toBe(true);
    expect(w.events).toBe(0);
    w.stop();
    w.stop();
    s.send(b, 'ignored');
    await tick(50);
    expect(calls).toBe(0);
    expect(w.hasRef()).toBe(false);
    // ref/unref on a stopped watcher do nothing; update is an error
    expect(w.ref()).toBe(w);
    expect(w.unref()).toBe(w);
    expect(() => w.update(s.WATCH_READ)).toThrow(expect.objectContaining({ code: 'ERR_WATCHER_STOPPED' }));
  });

  it('stop() inside the callback prevents the later ones (level-triggered data left unread)', async () => {
    const [a, b] = trackedPair();
    s.send(b, 'x');
    let calls = 0;
    own(
      s.watch(a, s.WATCH_READ, function () {
        calls++;
        this.stop();
      }),
    );
    await tick(50);
    expect(calls).toBe(1);
  });

  it('a second watch of the same fd is an EEXIST error, and the first goes on working', async () => {
    const [a, b] = trackedPair();
    const { w, fired } = once(a, s.WATCH_READ);
    let err: unknown;
    try {
      s.watch(a, s.WATCH_WRITE, () => {
        throw new Error('must not be called');
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'EEXIST', syscall: 'watch', errno: -os.constants.errno.EEXIST });
    expect(w.active).toBe(true);
    s.send(b, 'y');
    const r = await fired;
    expect(r.err).toBeNull();
    expect(r.events & s.WATCH_READ).toBeTruthy();
  });

  it('after stop(), the same fd can be watched again at once', async () => {
    const [a, b] = trackedPair();
    const w1 = s.watch(a, s.WATCH_READ, () => {});
    w1.stop();
    const { fired } = once(a, s.WATCH_READ);
    s.send(b, 'z');
    const r = await fired;
    expect(r.err).toBeNull();
    // and a third time, after that one stopped itself in its callback
    const again = once(a, s.WATCH_READ);
    expect((await again.fired).events & s.WATCH_READ).toBeTruthy();
  });

  it('ref(), unref() and hasRef()', () => {
    const [a] = trackedPair();
    const w = own(s.watch(a, s.WATCH_READ, () => {}));
    expect(w.hasRef()).toBe(true);
    expect(w.unref()).toBe(w);
    expect(w.hasRef()).toBe(false);
    expect(w.ref()).toBe(w);
    expect(w.hasRef()).toBe(true);
    w.unref();
    w.update(0);
    expect(w.hasRef()).toBe(false);
    w.stop();
    expect(w.hasRef()).toBe(false);
  });
});

describe('watch: the fd', () => {
  it('makes the fd non-blocking', () => {
    const [a] = trackedPair();
    expect(s.getBlocking(a)).toBe(true);
    own(s.watch(a, s.WATCH_READ, () => {}));
    expect(s.getBlocking(a)).toBe(false);
    expect(s.recv(a, 10)).toBeNull();
  });

  it('refuses a regular file with EPERM', () => {
    const file = path.join(os.tmpdir(), `sockfd-watch-${process.pid}.txt`);
    fs.writeFileSync(file, 'data');
    const fd = fs.openSync(file, 'r');
    try {
      expect(() => s.watch(fd, s.WATCH_READ, () => {})).toThrow(
        expect.objectContaining({ code: 'EPERM', syscall: 'watch', errno: -os.constants.errno.EPERM }),
      );
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  it('refuses an fd that is not open with EBADF', () => {
    expect(() => s.watch(987654, s.WATCH_READ, () => {})).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('checks its arguments: TypeError and RangeError with codes', () => {
    const [a] = trackedPair();
    const cb = (): void => {};
    const badType = expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' });
    const badRange = expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' });
    const call = (...args: unknown[]) => () => (s.watch as (...x: unknown[]) => unknown)(...args);
    for (const [args, cls, code] of [
      [['3', s.WATCH_READ, cb], TypeError, badType],
      [[null, s.WATCH_READ, cb], TypeError, badType],
      [[{}, s.WATCH_READ, cb], TypeError, badType],
      [[-1, s.WATCH_READ, cb], RangeError, badRange],
      [[1.5, s.WATCH_READ, cb], RangeError, badRange],
      [[a, '1', cb], TypeError, badType],
      [[a, undefined, cb], TypeError, badType],
      [[a, -1, cb], RangeError, badRange],
      [[a, 16, cb], RangeError, badRange],
      [[a, 0.5, cb], RangeError, badRange],
      [[a, s.WATCH_READ], TypeError, badType],
      [[a, s.WATCH_READ, 'cb'], TypeError, badType],
      [[{ fileno: () => -2 }, s.WATCH_READ, cb], RangeError, badRange],
    ] as const) {
      expect(call(...args)).toThrow(cls);
      expect(call(...args)).toThrow(code);
    }
    // None of those left a watcher behind: a real one works.
    const w = own(s.watch(a, s.WATCH_READ, cb));
    expect(() => w.update(32)).toThrow(RangeError);
    expect(() => w.update(-1)).toThrow(badRange);
    expect(() => (w.update as (x: unknown) => unknown)('2')).toThrow(TypeError);
    expect(w.events).toBe(s.WATCH_READ);
  });

  it('takes file objects as select() and the selectors do: the same checks, the same errors but for the name', () => {
    const errorOf = (f: () => unknown): { name: string; code: string; message: string } => {
      try {
        f();
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        return { name: err.name, code: err.code!, message: err.message };
      }
      throw new Error('no error');
    };
    const sel = new s.SelectSelector();
    try {
      for (const bad of ['3', null, undefined, {}, { fileno: 3 }, { fileno: () => '3' }, { fileno: () => -1 }, { fileno: () => 1.5 }, -1, 2 ** 31]) {
        const byWatch = errorOf(() => s.watch(bad as never, s.WATCH_READ, () => {}));
        const bySelect = errorOf(() => s.select([bad as never], [], [], 0));
        const byRegister = errorOf(() => sel.register(bad as never, s.EVENT_READ));
        expect(byWatch.code).toMatch(/^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE)$/);
        for (const other of [bySelect, byRegister]) {
          expect({ name: other.name, code: other.code }).toEqual({ name: byWatch.name, code: byWatch.code });
        }
        expect(bySelect.message).toBe(byWatch.message.replace(/"fd(\.fileno\(\))?"/, '"readFds[0]$1"'));
        expect(byRegister.message).toBe(byWatch.message.replace(/"fd(\.fileno\(\))?"/, '"fileobj$1"'));
      }
    } finally {
      sel.close();
    }
  });

  it('a peer reset fires the callback with readiness, and the next recv throws ECONNRESET', async () => {
    const [c, srv] = trackedTcpPair();
    const { fired } = once(srv, s.WATCH_READ);
    await tick(10);
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0); // l_onoff
    linger.writeInt32LE(0, 4); // l_linger
    s.setsockopt(c, s.SOL_SOCKET, s.SO_LINGER, linger);
    closeFd(c); // RST
    const r = await fired;
    expect(r.err).toBeNull();
    expect(r.events & s.WATCH_READ).toBe(s.WATCH_READ);
    expect(() => s.recv(srv, 100)).toThrow(expect.objectContaining({ code: 'ECONNRESET', syscall: 'recv' }));
  });

  it('a peer reset while watching for both keeps reporting readiness (no error)', async () => {
    const [c, srv] = trackedTcpPair();
    const seen: Array<[Error | null, number]> = [];
    const w = own(s.watch(srv, s.WATCH_READ, (err, ev) => seen.push([err, ev])));
    await tick(10);
    s.setsockopt(c, s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
    closeFd(c);
    while (seen.length < 3) await turn(); // level-triggered: the error is pending until read
    w.stop();
    for (const [err, ev] of seen) {
      expect(err).toBeNull();
      expect(ev & s.WATCH_READ).toBe(s.WATCH_READ);
    }
  });

  it('WATCH_DISCONNECT alone: reported for a peer that closes and for a peer that resets (never an empty mask)', async () => {
    for (const reset of [false, true]) {
      const [c, srv] = trackedTcpPair();
      const seen: Array<[Error | null, number]> = [];
      const w = own(s.watch(srv, s.WATCH_DISCONNECT, (err, ev) => seen.push([err, ev])));
      await tick(10);
      expect(seen).toEqual([]);
      if (reset) s.setsockopt(c, s.SOL_SOCKET, s.SO_LINGER, Buffer.from(new Int32Array([1, 0]).buffer));
      closeFd(c);
      while (seen.length < 2) await turn();
      w.stop();
      for (const [err, ev] of seen) {
        expect(err).toBeNull();
        expect(ev).toBe(s.WATCH_DISCONNECT);
      }
    }
  });

  it('a peer that closes normally: readable, then recv returns an empty Buffer', async () => {
    const [a, b] = trackedPair();
    const { fired } = once(a, s.WATCH_READ);
    closeFd(b);
    expect((await fired).err).toBeNull();
    expect(s.recv(a, 10)).toEqual(Buffer.alloc(0));
  });

  it('closing a watched fd with close() stops the watcher first: no crash, no further callbacks', async () => {
    const [a, b] = trackedPair();
    s.send(b, 'pending data'); // level-triggered: it would fire on every turn
    let calls = 0;
    const w = own(s.watch(a, s.WATCH_READ, () => calls++));
    while (calls < 2) await turn();
    closeFd(a);
    expect(isOpen(a)).toBe(false);
    const at = calls;
    await tick(50);
    expect(calls).toBe(at);
    // The number may be reused at once; a new socket there can be watched (the old handle left the table).
    const [c, d] = trackedPair();
    const { fired } = once(c, s.WATCH_READ);
    s.send(d, 'new');
    expect((await fired).err).toBeNull();
    w.stop(); // harmless after the close
    w.stop();
  });

  it('closing a watched fd from inside its own callback is safe', async () => {
    const [a, b] = trackedPair();
    let calls = 0;
    own(
      s.watch(a, s.WATCH_READ, () => {
        calls++;
        closeFd(a);
      }),
    );
    s.send(b, 'x');
    while (calls === 0) await turn();
    await tick(30);
    expect(calls).toBe(1);
  });

  it('a watched listening socket reports incoming connections as readable', async () => {
    const l = tcpListener();
    track(l.fd);
    const { fired } = once(l.fd, s.WATCH_READ);
    const c = s.socket(s.AF_INET, s.SOCK_STREAM);
    track(c);
    s.setBlocking(c, false);
    s.connect(c, { address: '127.0.0.1', port: l.port });
    expect((await fired).events & s.WATCH_READ).toBeTruthy();
    const acc = s.accept(l.fd);
    expect(acc).not.toBeNull();
    track(acc!.fd);
  });
});

describe('watch: the process', () => {
  function child(code: string): Child {
    const c = runNode(code);
    children.push(c);
    return c;
  }

  it("a process with only an unref'd watcher exits by itself", async () => {
    const c = child(`
      const s = require('sockfd');
      const [a, b] = s.socketpair();
      const w = s.watch(a, s.WATCH_READ, () => console.log('fired'));
      w.unref();
      console.log('hasRef', w.hasRef());
      process.on('exit', () => console.log('exiting'));
    `);
    expect(await c.exited()).toBe(0);
    expect(c.output()).toContain('hasRef false');
    expect(c.output()).toContain('exiting');
    expect(c.output()).not.toContain('fired');
  });

  it('a process with only a paused (update(0)) watcher exits by itself', async () => {
    const c = child(`
      const s = require('sockfd');
      const [a, b] = s.socketpair();
      s.send(b, 'pending');
      const w = s.watch(a, s.WATCH_READ, () => console.log('fired'));
      w.update(0);
      process.on('exit', () => console.log('exiting'));
    `);
    expect(await c.exited()).toBe(0);
    expect(c.output()).toContain('exiting');
    expect(c.output()).not.toContain('fired');
  });

  it("a ref'd watcher keeps the process alive until its fd is ready", async () => {
    const l = tcpListener();
    track(l.fd);
    const c = child(`
      const s = require('sockfd');
      const fd = s.socket(s.AF_INET, s.SOCK_STREAM);
      s.connect(fd, { address: '127.0.0.1', port: ${l.port} });
      const w = s.watch(fd, s.WATCH_READ, function (err, events) {
        console.log('data', s.recv(fd, 100).toString());
        this.stop();
        s.close(fd);
      });
      console.log('watching', w.hasRef());
    `);
    await c.waitFor(/watching true/);
    const acc = s.accept(l.fd)!; // the connection is already in the backlog
    track(acc.fd);
    await tick(300);
    expect(c.proc.exitCode).toBeNull(); // still alive, waiting
    s.send(acc.fd, 'wake up');
    expect(await c.exited()).toBe(0);
    expect(c.output()).toContain('data wake up');
  });

  it("a ref'd watcher that never fires keeps the process alive until killed", async () => {
    const c = child(`
      const s = require('sockfd');
      const [a, b] = s.socketpair();
      s.watch(a, s.WATCH_READ, () => console.log('fired'));
      console.log('watching');
    `);
    await c.waitFor(/watching/);
    await tick(300);
    expect(c.proc.exitCode).toBeNull();
    c.kill('SIGTERM');
    expect(await c.exited()).toBe('SIGTERM');
  });

  // A child with a gc() of its own; FinalizationRegistry tells which Watcher objects were collected.
  const gcPrelude = `
    const v8 = require('node:v8');
    const vm = require('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    const s = require('sockfd');
    const settle = async () => { for (let i = 0; i < 10; i++) { gc(); await new Promise((r) => setTimeout(r, 5)); } };
  `;

  it('a started watcher nobody references survives garbage collection and still fires', async () => {
    const c = child(`${gcPrelude}
      const [a, b] = s.socketpair();
      (function () { s.watch(a, s.WATCH_READ, function () {
        console.log('fired', s.recv(a, 10).toString());
        this.stop();
        s.close(a); s.close(b);
      }); })();
      settle().then(() => s.send(b, 'alive'));
    `);
    expect(await c.exited()).toBe(0);
    expect(c.output()).toContain('fired alive');
  });

  it('watchers released by stop() or by close() of their fd can be garbage-collected', async () => {
    const c = child(`${gcPrelude}
      const collected = { stopped: 0, closed: 0 };
      const fr = new FinalizationRegistry((kind) => collected[kind]++);
      for (let i = 0; i < 20; i++) {
        const [a, b] = s.socketpair();
        const w1 = s.watch(a, s.WATCH_READ, () => {});
        w1.stop();
        fr.register(w1, 'stopped');
        const w2 = s.watch(b, s.WATCH_READ, () => {});
        fr.register(w2, 'closed');
        s.close(a);
        s.close(b); // while w2 watches it
      }
      settle().then(() => console.log(JSON.stringify(collected)));
    `);
    expect(await c.exited()).toBe(0);
    const counts = JSON.parse(c.output().trim()) as { stopped: number; closed: number };
    expect(counts.stopped).toBeGreaterThanOrEqual(10);
    expect(counts.closed).toBeGreaterThanOrEqual(10);
  });

  it('a paused (update(0)) watcher nobody references is collected and releases its fd for a new watch', async () => {
    const c = child(`${gcPrelude}
      let collected = 0;
      const fr = new FinalizationRegistry(() => collected++);
      const pairs = [];
      for (let i = 0; i < 20; i++) {
        const [a, b] = s.socketpair();
        pairs.push([a, b]);
        (function () {
          const w = s.watch(a, s.WATCH_READ, () => {});
          w.update(0);
          fr.register(w, i);
        })();
      }
      settle().then(() => {
        // Each fd can be watched again: the dropped watcher's claim on it went with it.
        let rewatched = 0;
        for (const [a, b] of pairs) {
          const w = s.watch(a, s.WATCH_READ, () => {});
          rewatched++;
          w.stop();
          s.close(a); s.close(b);
        }
        console.log(JSON.stringify({ collected, rewatched }));
      });
    `);
    expect(await c.exited()).toBe(0);
    const out = JSON.parse(c.output().trim()) as { collected: number; rewatched: number };
    expect(out.rewatched).toBe(20);
    expect(out.collected).toBeGreaterThanOrEqual(10);
  });

  // The async methods' batched watchers are found by id in a table of the package's: a paused one must not be
  // kept alive by it, a stopped one must leave it, and a started one's callback must be kept (as an unbatched
  // watcher's is) however many collections pass.
  it('batched watchers: a paused one nobody references is collected, a started one still fires after GC', async () => {
    const c = child(`${gcPrelude}
      const { batchedWatcher } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'watch.js'))});
      const collected = { paused: 0, stopped: 0, closed: 0 };
      const fr = new FinalizationRegistry((kind) => collected[kind]++);
      const pairs = [];
      for (let i = 0; i < 20; i++) {
        const [a, b] = s.socketpair();
        const [c, d] = s.socketpair();
        const [e, f] = s.socketpair();
        pairs.push([a, b, e, f]);
        (function () {
          // Each callback refers to its watcher, as the async methods' does (through their Readiness).
          const w = batchedWatcher(a, s.WATCH_READ, () => w.update(0));
          w.update(0);
          fr.register(w, 'paused');
          const w2 = batchedWatcher(b, s.WATCH_READ, () => w2.stop());
          w2.stop();
          fr.register(w2, 'stopped');
          const w3 = batchedWatcher(c, s.WATCH_READ, () => w3.stop());
          fr.register(w3, 'closed');
          s.close(c); // while w3 watches it
          s.close(d);
        })();
      }
      let fired = 0;
      (function () {
        const [e] = pairs[0].slice(2);
        batchedWatcher(e, s.WATCH_READ, (value) => {
          fired = value;
          s.recv(e, 10);
        });
      })();
      settle().then(() => {
        s.send(pairs[0][3], 'x');
        setTimeout(() => {
          // Each paused fd can be watched again: the dropped watcher's claim on it went with it.
          let rewatched = 0;
          for (const [a] of pairs) {
            batchedWatcher(a, s.WATCH_READ, () => {}).stop();
            rewatched++;
          }
          console.log(JSON.stringify({ ...collected, fired, rewatched }));
          process.exit(0);
        }, 50);
      });
    `);
    expect(await c.exited()).toBe(0);
    const out = JSON.parse(c.output().trim()) as Record<string, number>;
    expect(out).toMatchObject({ fired: s.WATCH_READ, rewatched: 20 });
    expect(out.paused).toBeGreaterThanOrEqual(10);
    expect(out.stopped).toBeGreaterThanOrEqual(10);
    expect(out.closed).toBeGreaterThanOrEqual(10);
  });

  it("an exception thrown in the callback reaches process 'uncaughtException'", async () => {
    const c = child(`
      const s = require('sockfd');
      const [a, b] = s.socketpair();
      process.on('uncaughtException', (err) => {
        console.log('caught', err.message, w.active);
        w.stop();
        s.close(a);
        s.close(b);
      });
      const w = s.watch(a, s.WATCH_READ, () => {
        throw new Error('boom from the callback');
      });
      s.send(b, 'x');
    `);
    expect(await c.exited()).toBe(0);
    expect(c.output()).toContain('caught boom from the callback true');
  });

  it('an uncaught exception in the callback without a handler ends the process with it', async () => {
    const c = child(`
      const s = require('sockfd');
      const [a, b] = s.socketpair();
      s.watch(a, s.WATCH_READ, () => { throw new Error('unhandled boom'); });
      s.send(b, 'x');
    `);
    expect(await c.exited()).toBe(1);
  });

  it('process.nextTick and microtasks queued in the callback run right after it', async () => {
    const c = child(`
      const s = require('sockfd');
      const [a, b] = s.socketpair();
      const order = [];
      const w = s.watch(a, s.WATCH_READ, function () {
        this.stop();
        process.nextTick(() => order.push('tick'));
        Promise.resolve().then(() => order.push('micro'));
        setImmediate(() => { order.push('immediate'); console.log(order.join(',')); s.close(a); s.close(b); });
        order.push('cb');
      });
      s.send(b, 'x');
    `);
    expect(await c.exited()).toBe(0);
    expect(c.output().trim()).toBe('cb,tick,micro,immediate');
  });
});
