/**
 * Every error shape of the raw calls and of the addon underneath them:
 * - wrong types: TypeError, code ERR_INVALID_ARG_TYPE;
 * - out-of-range values: RangeError, code ERR_OUT_OF_RANGE; host names: ERR_INVALID_IP_ADDRESS; bad Unix paths;
 * - all of them thrown before any system call (shown with fd counts, socket state and untouched buffers);
 * - failed system calls: Node-shaped errors (EBADF on closed and never-opened fds, ENOTSOCK on a file), POLLNVAL;
 * - the addon itself (lib/binding's `native`) rejects bad arguments without crashing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as s from '../lib';
import { native } from '../lib/binding';
import { errnoErrorFromNumber } from '../lib/errors';
import { expectRangeError, expectSysError, expectTypeError, thrown } from './helpers/expect';
import { checkFdLeaks, isOpen, openFds } from './helpers/fds';
import { runNode } from './helpers/child';
import { tmpSocketPath } from './helpers/net';
import { closeFd, regularFile, track, untrack, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

/** An fd number that is not open in this process (checked), well above anything in use. */
function neverOpened(from = 4321): number {
  let fd = from;
  while (isOpen(fd)) fd++;
  return fd;
}

// ---------------------------------------------------------------------------------------------------------------
// A table of the raw exports: valid arguments for each, and which positions take a number.

type Fn = (...args: unknown[]) => unknown;
interface Spec {
  name: string;
  fn: Fn;
  /** Arguments that make a valid call, given a socket fd to use. */
  args: (fd: number) => unknown[];
  /** Positions that take a number; `required` ones reject undefined too. */
  numbers: number[];
  required: number[];
  /** Positions that take an fd. */
  fds: number[];
}
const anyFn = (f: unknown) => f as Fn;
const specs: Spec[] = [
  { name: 'socket', fn: anyFn(s.socket), args: () => [s.AF_INET, s.SOCK_STREAM, 0], numbers: [0, 1, 2], required: [0, 1], fds: [] },
  { name: 'socketpair', fn: anyFn(s.socketpair), args: () => [s.AF_UNIX, s.SOCK_STREAM, 0], numbers: [0, 1, 2], required: [], fds: [] },
  { name: 'bind', fn: anyFn(s.bind), args: (fd) => [fd, { address: '127.0.0.1', port: 0 }], numbers: [0], required: [0], fds: [0] },
  { name: 'connect', fn: anyFn(s.connect), args: (fd) => [fd, { address: '127.0.0.1', port: 9 }], numbers: [0], required: [0], fds: [0] },
  { name: 'listen', fn: anyFn(s.listen), args: (fd) => [fd, 5], numbers: [0, 1], required: [0], fds: [0] },
  { name: 'accept', fn: anyFn(s.accept), args: (fd) => [fd, 0], numbers: [0, 1], required: [0], fds: [0] },
  { name: 'recv', fn: anyFn(s.recv), args: (fd) => [fd, 10, 0], numbers: [0, 1, 2], required: [0, 1], fds: [0] },
  { name: 'recvInto', fn: anyFn(s.recvInto), args: (fd) => [fd, Buffer.alloc(8), 0, 8, 0], numbers: [0, 2, 3, 4], required: [0], fds: [0] },
  { name: 'recvfrom', fn: anyFn(s.recvfrom), args: (fd) => [fd, 10, 0], numbers: [0, 1, 2], required: [0, 1], fds: [0] },
  { name: 'recvfromInto', fn: anyFn(s.recvfromInto), args: (fd) => [fd, Buffer.alloc(8), 0, 8, 0], numbers: [0, 2, 3, 4], required: [0], fds: [0] },
  { name: 'send', fn: anyFn(s.send), args: (fd) => [fd, 'x', 0], numbers: [0, 2], required: [0], fds: [0] },
  { name: 'sendto', fn: anyFn(s.sendto), args: (fd) => [fd, 'x', { address: '127.0.0.1', port: 9 }, 0], numbers: [0, 3], required: [0], fds: [0] },
  { name: 'sendAll', fn: anyFn(s.sendAll), args: (fd) => [fd, 'x'], numbers: [0], required: [0], fds: [0] },
  { name: 'shutdown', fn: anyFn(s.shutdown), args: (fd) => [fd, s.SHUT_RDWR], numbers: [0, 1], required: [0, 1], fds: [0] },
  { name: 'close', fn: anyFn(s.close), args: (fd) => [fd], numbers: [0], required: [0], fds: [0] },
  { name: 'setsockopt', fn: anyFn(s.setsockopt), args: (fd) => [fd, s.SOL_SOCKET, s.SO_REUSEADDR, 1], numbers: [0, 1, 2], required: [0, 1, 2], fds: [0] },
  { name: 'getsockopt', fn: anyFn(s.getsockopt), args: (fd) => [fd, s.SOL_SOCKET, s.SO_LINGER, 8], numbers: [0, 1, 2, 3], required: [0, 1, 2], fds: [0] },
  { name: 'getsockname', fn: anyFn(s.getsockname), args: (fd) => [fd], numbers: [0], required: [0], fds: [0] },
  { name: 'getpeername', fn: anyFn(s.getpeername), args: (fd) => [fd], numbers: [0], required: [0], fds: [0] },
  { name: 'setBlocking', fn: anyFn(s.setBlocking), args: (fd) => [fd, true], numbers: [0], required: [0], fds: [0] },
  { name: 'getBlocking', fn: anyFn(s.getBlocking), args: (fd) => [fd], numbers: [0], required: [0], fds: [0] },
  { name: 'fcntl', fn: anyFn(s.fcntl), args: (fd) => [fd, s.F_GETFL, 0], numbers: [0, 1, 2], required: [0, 1], fds: [0] },
  { name: 'select', fn: anyFn(s.select), args: (fd) => [[fd], [], [], 0], numbers: [3], required: [], fds: [] },
  { name: 'poll', fn: anyFn(s.poll), args: (fd) => [[{ fd, events: s.POLLIN }], 0], numbers: [1], required: [], fds: [] },
  { name: 'getaddrinfo', fn: anyFn(s.getaddrinfo), args: () => ['127.0.0.1', 80, { family: s.AF_INET }], numbers: [], required: [], fds: [] },
];
/** Values of the wrong type where a number is needed (null is never a number; select/poll timeouts excepted). */
const notNumbers: Array<[string, unknown]> = [
  ['a numeric string', '3'],
  ['an object', {}],
  ['an array', [1]],
  ['a BigInt', 1n],
  ['a boolean', true],
  ['null', null],
  ['a Number object', Object(3)],
];

describe('wrong types: TypeError ERR_INVALID_ARG_TYPE from every raw export', () => {
  it('the table covers every raw function exported', () => {
    const rawNames = ['socket', 'socketpair', 'bind', 'connect', 'listen', 'accept', 'recv', 'recvInto', 'recvfrom',
      'recvfromInto', 'send', 'sendto', 'sendAll', 'shutdown', 'close', 'setsockopt', 'getsockopt', 'getsockname',
      'getpeername', 'setBlocking', 'getBlocking', 'fcntl', 'select', 'poll', 'getaddrinfo'];
    expect(specs.map((x) => x.name).sort()).toEqual(rawNames.sort());
    for (const n of rawNames) expect(typeof (s as unknown as Record<string, unknown>)[n]).toBe('function');
  });

  describe.each(specs)('$name', (spec) => {
    it('the valid arguments of the table are accepted (sanity check of the table)', () => {
      const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM | s.SOCK_NONBLOCK));
      try {
        const r = spec.fn(...spec.args(fd));
        if (spec.name === 'socket') track(r as number);
        if (spec.name === 'socketpair') (r as number[]).forEach(track);
        if (spec.name === 'close') untrack(fd);
      } catch (e) {
        // A system error is fine here (accept on UDP, ...): what matters is that it is not an argument error.
        expect((e as NodeJS.ErrnoException).code).not.toMatch(/^ERR_/);
        expect((e as NodeJS.ErrnoException).syscall).toBeTypeOf('string');
      }
    });

    const cases: Array<[number, string, unknown]> = [];
    for (const i of spec.numbers) {
      for (const [what, v] of notNumbers) {
        if (v === null && ((spec.name === 'select' && i === 3) || (spec.name === 'poll' && i === 1))) continue;
        cases.push([i, what, v]);
      }
      if (spec.required.includes(i)) cases.push([i, 'undefined', undefined]);
    }
    it.runIf(cases.length > 0).each(cases)('argument %i as %s', (i, _what, v) => {
      const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM));
      const args = spec.args(fd);
      args[i] = v;
      const before = openFds().length;
      const e = expectTypeError(() => spec.fn(...args));
      expect(e.message).toMatch(/^The "[^"]+" argument must be /);
      expect(openFds().length).toBe(before); // socket()/socketpair() made nothing
      expect(isOpen(fd)).toBe(true); // close() did not close it
    });
  });

  it('non-number arguments of other kinds', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM));
    // Addresses.
    for (const bad of [undefined, null, 'x', 9999, 1n]) {
      expectTypeError(() => s.bind(fd, bad as never));
      expectTypeError(() => s.connect(fd, bad as never));
      expectTypeError(() => s.sendto(fd, 'x', bad as never));
    }
    expectTypeError(() => s.bind(fd, { address: 127, port: 0 } as never));
    expectTypeError(() => s.bind(fd, { port: 0 } as never));
    expectTypeError(() => s.bind(fd, { address: '127.0.0.1', port: '80' } as never));
    expectTypeError(() => s.bind(fd, { address: '127.0.0.1' } as never));
    expectTypeError(() => s.bind(fd, { address: '127.0.0.1', port: 1n } as never));
    expectTypeError(() => s.bind(fd, { path: 42 } as never));
    expectTypeError(() => s.bind(fd, { path: null } as never));
    expectTypeError(() => s.connect(fd, { address: '::1', port: 1, flowinfo: '1' } as never));
    expectTypeError(() => s.connect(fd, { address: '::1', port: 1, scopeId: null } as never));
    // Data and buffers.
    for (const bad of [undefined, null, 42, {}, [1, 2], 1n, true]) {
      expectTypeError(() => s.send(fd, bad as never));
      expectTypeError(() => s.sendto(fd, bad as never, { address: '127.0.0.1', port: 9 }));
      expectTypeError(() => s.sendAll(fd, bad as never));
      expectTypeError(() => s.recvInto(fd, bad as never));
      expectTypeError(() => s.recvfromInto(fd, bad as never));
    }
    expectTypeError(() => s.recvInto(fd, 'a string is not writable' as never));
    // Option values, booleans.
    for (const bad of [undefined, null, '1', {}, 1n]) {
      expectTypeError(() => s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, bad as never));
    }
    for (const bad of [undefined, null, 0, 1, 'true', {}]) expectTypeError(() => s.setBlocking(fd, bad as never));
    // select / poll structures.
    for (const bad of [undefined, null, 3, 'x', {}, new Int32Array([fd])]) {
      expectTypeError(() => s.select(bad as never, [], []));
      expectTypeError(() => s.poll(bad as never));
    }
    for (const bad of ['3', null, undefined, 1n, {}, { fileno: 3 }]) expectTypeError(() => s.select([bad as never], [], []));
    expectTypeError(() => s.select([{ fileno: () => '3' }] as never, [], []));
    for (const bad of [null, 3, 'x']) expectTypeError(() => s.poll([bad as never]));
    expectTypeError(() => s.poll([{ fd: '3', events: s.POLLIN }] as never));
    expectTypeError(() => s.poll([{ fd, events: null }] as never));
    expectTypeError(() => s.poll([{ fd }] as never));
    expectTypeError(() => s.select([], [], [], '10' as never));
    expectTypeError(() => s.poll([], 1n as never));
    // getaddrinfo.
    expectTypeError(() => s.getaddrinfo(undefined as never));
    expectTypeError(() => s.getaddrinfo('localhost', {} as never));
    expectTypeError(() => s.getaddrinfo('localhost', 80, { family: '4' } as never));
    expectTypeError(() => s.getaddrinfo('localhost', 80, null as never));
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('out of range: RangeError ERR_OUT_OF_RANGE', () => {
  const badFds: Array<[string, number]> = [
    ['-1', -1], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['1.5', 1.5], ['2^31', 2 ** 31],
    ['MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2],
  ];
  describe.each(specs.filter((x) => x.fds.length > 0))('$name', (spec) => {
    it.each(badFds)('fd %s', (_what, v) => {
      const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM));
      const args = spec.args(fd);
      args[spec.fds[0]] = v;
      const e = expectRangeError(() => spec.fn(...args));
      expect(e.message).toMatch(/^The value of "fd" is out of range\. It must be /);
    });
  });

  it('fds in select and poll entries', () => {
    for (const [, v] of badFds) {
      expectRangeError(() => s.select([v], [], []));
      expectRangeError(() => s.select([], [v], []));
      expectRangeError(() => s.select([], [], [{ fileno: () => v }]));
      expectRangeError(() => s.poll([{ fd: v, events: s.POLLIN }]));
    }
  });

  it('ports 65536, -1, 1.5 and NaN; flowinfo and scopeId out of range', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM));
    const fd6 = track(s.socket(s.AF_INET6, s.SOCK_DGRAM));
    for (const port of [65536, -1, 1.5, NaN, Infinity, 2 ** 32]) {
      const e = expectRangeError(() => s.bind(fd, { address: '127.0.0.1', port }));
      expect(e.message).toContain('"address.port"');
      expectRangeError(() => s.connect(fd, { address: '127.0.0.1', port }));
      expectRangeError(() => s.sendto(fd, 'x', { address: '127.0.0.1', port }));
      expectRangeError(() => s.connect(fd6, { address: '::1', port }));
    }
    expectRangeError(() => s.connect(fd6, { address: '::1', port: 1, flowinfo: 0x100000 }));
    expectRangeError(() => s.connect(fd6, { address: '::1', port: 1, flowinfo: -1 }));
    expectRangeError(() => s.connect(fd6, { address: '::1', port: 1, scopeId: 2 ** 32 }));
    expectRangeError(() => s.connect(fd6, { address: '::1', port: 1, scopeId: -1 }));
    // Not a range error: the top of the range.
    expect(() => s.sendto(fd, '', { address: '127.0.0.1', port: 65535 })).not.toThrow(RangeError);
  });

  it('buffer offset and length past the end, in bytes of the view', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM | s.SOCK_NONBLOCK));
    const buf = Buffer.alloc(8);
    const u32 = new Uint32Array(4); // 16 bytes
    for (const f of [s.recvInto, s.recvfromInto]) {
      expectRangeError(() => f(fd, buf, 9));
      expectRangeError(() => f(fd, buf, -1));
      expectRangeError(() => f(fd, buf, 0.5));
      expectRangeError(() => f(fd, buf, 0, 9));
      expectRangeError(() => f(fd, buf, 4, 5));
      expectRangeError(() => f(fd, buf, 8, 1));
      expectRangeError(() => f(fd, buf, 0, -1));
      expectRangeError(() => f(fd, buf, NaN));
      expectRangeError(() => f(fd, u32, 17));
      expectRangeError(() => f(fd, u32, 12, 5));
      expectRangeError(() => f(fd, new DataView(new ArrayBuffer(10), 5), 0, 6));
      expectRangeError(() => f(fd, new ArrayBuffer(3), 2, 2));
      // The edges are allowed: these would block, and say so with null.
      expect(f(fd, buf, 8)).toBeNull();
      expect(f(fd, u32, 12, 4)).toBeNull();
    }
  });

  it('sizes, backlogs, getsockopt lengths, poll events, select fds, timeouts', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expectRangeError(() => s.recv(fd, -1));
    expectRangeError(() => s.recv(fd, 2 ** 31));
    expectRangeError(() => s.recv(fd, 1.5));
    expectRangeError(() => s.recvfrom(fd, -1));
    expectRangeError(() => s.listen(fd, -1));
    expectRangeError(() => s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, (1 << 20) + 1));
    expectRangeError(() => s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, -1));
    expectRangeError(() => s.setsockopt(fd, s.SOL_SOCKET, s.SO_RCVBUF, 2 ** 31));
    expectRangeError(() => s.setsockopt(fd, s.SOL_SOCKET, s.SO_RCVBUF, 0.5));
    expectRangeError(() => s.socket(2 ** 31, s.SOCK_STREAM));
    expectRangeError(() => s.send(fd, 'x', 2 ** 32));
    expectRangeError(() => s.fcntl(fd, s.F_GETFL, 2 ** 31));
    // poll masks.
    expectRangeError(() => s.poll([{ fd, events: 0x10000 }]));
    expectRangeError(() => s.poll([{ fd, events: -1 }]));
    expectRangeError(() => s.poll([{ fd, events: 1.5 }]));
    // select takes fds below FD_SETSIZE only.
    expect(s.FD_SETSIZE).toBe(1024);
    for (const big of [s.FD_SETSIZE, s.FD_SETSIZE + 1, 100000]) {
      const e = expectRangeError(() => s.select([big], [], []));
      expect(e.message).toContain('FD_SETSIZE');
      expectRangeError(() => s.select([], [big], [], 0));
      expectRangeError(() => s.select([], [], [{ fileno: () => big }], 0));
    }
    // Timeouts: at most 2^31-1 ms; NaN is no timeout.
    for (const t of [2 ** 31, 2 ** 31 - 0.5, Infinity, NaN, 1e20]) {
      expectRangeError(() => s.select([], [], [], t));
      expectRangeError(() => s.poll([], t));
    }
    // The largest timeout is accepted (and with a ready fd returns at once).
    const [a, b] = s.socketpair();
    track(a);
    track(b);
    expect(s.poll([{ fd: a, events: s.POLLOUT }], 2 ** 31 - 1)).toHaveLength(1);
    expect(s.select([], [a], [], 2 ** 31 - 1)[1]).toEqual([a]);
  });

  it('unknown fcntl commands are a RangeError', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    const before = openFds().length;
    expectRangeError(() => s.fcntl(fd, 0 /* F_DUPFD */, 100));
    expect(openFds().length).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('addresses that cannot be used', () => {
  it('a host name given to raw bind / connect / sendto: ERR_INVALID_IP_ADDRESS', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM));
    for (const host of ['localhost', 'example.com', '', '127.0.0.256', '1.2.3', '::1::', '[::1]']) {
      for (const call of [
        () => s.bind(fd, { address: host, port: 0 }),
        () => s.connect(fd, { address: host, port: 80 }),
        () => s.sendto(fd, 'x', { address: host, port: 80 }),
      ]) {
        const e = expectTypeError(call, 'ERR_INVALID_IP_ADDRESS');
        expect(e.message).toContain(JSON.stringify(host).slice(1, -1));
      }
    }
    // Nothing happened to the socket: still unbound and unconnected.
    expect(s.getsockname(fd)).toEqual({ family: 'IPv4', address: '0.0.0.0', port: 0 });
    expectSysError(() => s.getpeername(fd), 'ENOTCONN', 'getpeername');
  });

  it('Unix paths: over 107 bytes is a RangeError, an inner NUL a TypeError ERR_INVALID_ARG_VALUE', () => {
    const fd = track(s.socket(s.AF_UNIX, s.SOCK_STREAM));
    const dir = path.dirname(tmpSocketPath());
    const long = path.join(dir, 'x'.repeat(108 - dir.length - 1)); // 108 bytes
    expect(Buffer.byteLength(long)).toBe(108);
    for (const call of [
      () => s.bind(fd, { path: long }),
      () => s.connect(fd, { path: long }),
      () => s.sendto(fd, 'x', { path: long }),
    ]) {
      const e = expectRangeError(call);
      expect(e.message).toContain('107');
    }
    // Multi-byte characters count in bytes.
    expectRangeError(() => s.bind(fd, { path: '/tmp/' + 'é'.repeat(52) }));
    // 107 bytes is a valid length: the kernel answers (nothing is there).
    expectSysError(() => s.connect(fd, { path: long.slice(0, -1) }), 'ENOENT', 'connect');
    // An abstract name may use all 108 bytes, not 109.
    expectRangeError(() => s.bind(fd, { path: '\0' + 'a'.repeat(108) }));
    const abstract108 = `\0sockfd-nobody-${process.pid}-`.padEnd(108, 'z');
    expect(Buffer.byteLength(abstract108)).toBe(108);
    expectSysError(() => s.connect(fd, { path: abstract108 }), 'ECONNREFUSED', 'connect');

    for (const p of ['/tmp/a\0b', 'rel\0', `${dir}/x\0`]) {
      const e = expectTypeError(() => s.bind(fd, { path: p }), 'ERR_INVALID_ARG_VALUE');
      expect(e.message).toContain('NUL');
      expectTypeError(() => s.connect(fd, { path: p }), 'ERR_INVALID_ARG_VALUE');
    }
    expect(fs.readdirSync(dir).filter((n) => n.includes('x'))).toEqual([]); // nothing was created
    expect(s.getsockname(fd)).toEqual({ family: 'unix', path: '' });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('argument errors come before any system call', () => {
  it('socket() and socketpair() with bad arguments open no fd', () => {
    const before = openFds();
    expectTypeError(() => s.socket('2' as never, s.SOCK_STREAM));
    expectRangeError(() => s.socket(s.AF_INET, s.SOCK_STREAM, 0.5));
    expectTypeError(() => s.socketpair(s.AF_UNIX, s.SOCK_STREAM, null as never));
    expectRangeError(() => s.socketpair(s.AF_UNIX, NaN));
    expect(openFds()).toEqual(before);
  });

  it('recvInto with a window past the end touches neither the buffer nor the queued data', () => {
    const [a, b] = s.socketpair();
    track(a);
    track(b);
    s.send(a, 'precious');
    s.poll([{ fd: b, events: s.POLLIN }], 10000);
    const buf = Buffer.alloc(8, 0x42);
    expectRangeError(() => s.recvInto(b, buf, 4, 5));
    expectRangeError(() => native.recvInto(b, buf, 4, 5, 0));
    expectRangeError(() => native.recvInto(b, buf, 9, 0, 0));
    expectTypeError(() => s.recvInto(b, buf, 0, 8, '0' as never));
    expect(buf).toEqual(Buffer.alloc(8, 0x42));
    expect(s.recv(b, 100)!.toString()).toBe('precious'); // still all there
  });

  it('a bad flag leaves data unsent; a bad port leaves the socket unconnected and unbound', () => {
    const [a, b] = s.socketpair(s.AF_UNIX, s.SOCK_STREAM | s.SOCK_NONBLOCK);
    track(a);
    track(b);
    expectRangeError(() => s.send(a, 'lost', 1.5));
    expectTypeError(() => s.sendAll(a, 'lost', 'x' as never));
    expect(s.recv(b, 100)).toBeNull();

    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expectRangeError(() => s.connect(fd, { address: '127.0.0.1', port: 65536 }));
    expectRangeError(() => s.bind(fd, { address: '127.0.0.1', port: -1 }));
    expect(s.getsockname(fd)).toEqual({ family: 'IPv4', address: '0.0.0.0', port: 0 });
    expectSysError(() => s.getpeername(fd), 'ENOTCONN', 'getpeername');
    expectRangeError(() => s.listen(fd, -5));
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_ACCEPTCONN)).toBe(0);
    expectRangeError(() => s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, 1.5));
    expect(s.getsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR)).toBe(0);
    expectTypeError(() => s.setBlocking(fd, 0 as never));
    expect(s.getBlocking(fd)).toBe(true);
  });

  it('close() with a bad fd closes nothing', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expectRangeError(() => s.close(fd + 0.5));
    expectTypeError(() => s.close(String(fd) as never));
    expectTypeError(() => s.close(BigInt(fd) as never));
    expect(isOpen(fd)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('errnos libuv has no name for', () => {
  it('are named as in C (EINPROGRESS, ENETRESET), not "Unknown system error -115"', () => {
    expect(getSystemErrorName(-os.constants.errno.EINPROGRESS)).toMatch(/^Unknown system error/); // why this exists
    const e = errnoErrorFromNumber(os.constants.errno.EINPROGRESS, 'connect', '127.0.0.1', 9);
    expect(e.code).toBe('EINPROGRESS');
    expect(e.errno).toBe(-os.constants.errno.EINPROGRESS);
    expect(e.message).toBe('connect EINPROGRESS 127.0.0.1:9');
    expect(errnoErrorFromNumber(os.constants.errno.ENETRESET, 'recv').code).toBe('ENETRESET');
    expect(errnoErrorFromNumber(os.constants.errno.ECONNREFUSED, 'connect').code).toBe('ECONNREFUSED');
  });

  it('a blocking connect that SO_SNDTIMEO cuts short (EINPROGRESS) returns false: the connect goes on', () => {
    // A listener with backlog 0 holds one connection nobody accepts; Linux then drops further SYNs, so a
    // blocking connect waits until SO_SNDTIMEO (100 ms) ends it with EINPROGRESS, which is "in progress",
    // as for a non-blocking socket, not an error.
    const l = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    s.bind(l, { address: '127.0.0.1', port: 0 });
    s.listen(l, 0);
    const addr = s.getsockname(l) as { address: string; port: number };
    const first = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expect(s.connect(first, addr)).toBe(true);
    const c = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(0n, 0);
    tv.writeBigInt64LE(100000n, 8); // 100 ms
    s.setsockopt(c, s.SOL_SOCKET, s.SO_SNDTIMEO, tv);
    expect(s.connect(c, addr)).toBe(false);
    expect(s.getBlocking(c)).toBe(true);
    // Once the listener takes the first connection, the SYN retry completes the second.
    s.close(s.accept(l)!.fd);
    const accepted = s.poll([{ fd: l, events: s.POLLIN }], 10000);
    expect(accepted).toHaveLength(1);
    track(s.accept(l)!.fd);
    expect(s.poll([{ fd: c, events: s.POLLOUT }], 10000)).toHaveLength(1);
    expect(s.getsockopt(c, s.SOL_SOCKET, s.SO_ERROR)).toBe(0);
    expect(s.getpeername(c)).toEqual({ family: 'IPv4', ...addr });
  });
});

describe('system errors on bad fds', () => {
  const calls: Array<[string, string, (fd: number) => unknown]> = [
    ['recv', 'recv', (fd) => s.recv(fd, 10)],
    ['recvInto', 'recv', (fd) => s.recvInto(fd, Buffer.alloc(4))],
    ['recvfrom', 'recvfrom', (fd) => s.recvfrom(fd, 10)],
    ['recvfromInto', 'recvfrom', (fd) => s.recvfromInto(fd, Buffer.alloc(4))],
    ['send', 'send', (fd) => s.send(fd, 'x')],
    ['sendAll', 'send', (fd) => s.sendAll(fd, 'x')],
    ['sendto', 'sendto', (fd) => s.sendto(fd, 'x', { address: '127.0.0.1', port: 9 })],
    ['bind', 'bind', (fd) => s.bind(fd, { address: '127.0.0.1', port: 0 })],
    ['connect', 'connect', (fd) => s.connect(fd, { address: '127.0.0.1', port: 9 })],
    ['listen', 'listen', (fd) => s.listen(fd)],
    ['accept', 'accept', (fd) => s.accept(fd)],
    ['shutdown', 'shutdown', (fd) => s.shutdown(fd, s.SHUT_RDWR)],
    ['getsockname', 'getsockname', (fd) => s.getsockname(fd)],
    ['getpeername', 'getpeername', (fd) => s.getpeername(fd)],
    ['setsockopt', 'setsockopt', (fd) => s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, 1)],
    ['getsockopt', 'getsockopt', (fd) => s.getsockopt(fd, s.SOL_SOCKET, s.SO_TYPE)],
    ['getsockopt(length)', 'getsockopt', (fd) => s.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, 8)],
    ['setBlocking', 'ioctl', (fd) => s.setBlocking(fd, false)],
    ['getBlocking', 'fcntl', (fd) => s.getBlocking(fd)],
    ['fcntl', 'fcntl', (fd) => s.fcntl(fd, s.F_GETFD)],
    ['close', 'close', (fd) => s.close(fd)],
  ];

  it.each(calls)('%s on a never-opened fd: EBADF', (_name, syscall, call) => {
    const fd = neverOpened();
    const e = expectSysError(() => call(fd), 'EBADF', syscall);
    expect(e.errno).toBe(-os.constants.errno.EBADF);
    expect(e.stack).toContain('errors.test.ts');
  });

  it.each(calls)('%s on a closed fd: EBADF', (_name, syscall, call) => {
    const fd = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.close(fd);
    // Nothing else runs on this thread between the close and the call; the number was a socket of ours.
    if (isOpen(fd)) return; // reused by another thread of the runner meanwhile: nothing to test
    expectSysError(() => call(fd), 'EBADF', syscall);
  });

  it('select with a closed fd: EBADF; poll reports POLLNVAL for it and still reports the others', () => {
    const [a, b] = s.socketpair();
    track(a);
    track(b);
    // select: a closed fd (one inside the fd table: Linux's select ignores numbers past the table's end).
    const closed = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.close(closed);
    if (!isOpen(closed)) {
      expectSysError(() => s.select([closed], [], [], 0), 'EBADF', 'select');
      expectSysError(() => s.select([a], [closed], [], 0), 'EBADF', 'select');
      expectSysError(() => s.select([], [], [closed], 2 ** 31 - 1), 'EBADF', 'select');
    }
    const dead = neverOpened();
    const r = s.poll([{ fd: dead, events: s.POLLIN }, { fd: a, events: s.POLLOUT }], 0);
    expect(r).toEqual([
      { fd: dead, events: s.POLLIN, revents: s.POLLNVAL },
      { fd: a, events: s.POLLOUT, revents: s.POLLOUT },
    ]);
    const c = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.close(c);
    if (!isOpen(c)) expect(s.poll([{ fd: c, events: s.POLLIN | s.POLLOUT }], 0)).toEqual([{ fd: c, events: s.POLLIN | s.POLLOUT, revents: s.POLLNVAL }]);
    // Also with a timeout: POLLNVAL is reported at once, not after waiting.
    expect(s.poll([{ fd: dead, events: s.POLLIN }], 2 ** 31 - 1)[0].revents).toBe(s.POLLNVAL);
  });

  it('a file that is not a socket: ENOTSOCK', () => {
    const fd = regularFile();
    expectSysError(() => s.recv(fd, 10), 'ENOTSOCK', 'recv');
    expectSysError(() => s.recvInto(fd, Buffer.alloc(4)), 'ENOTSOCK', 'recv');
    expectSysError(() => s.recvfrom(fd, 10), 'ENOTSOCK', 'recvfrom');
    expectSysError(() => s.send(fd, 'x'), 'ENOTSOCK', 'send');
    expectSysError(() => s.sendto(fd, 'x', { address: '127.0.0.1', port: 9 }), 'ENOTSOCK', 'sendto');
    const be = expectSysError(() => s.bind(fd, { address: '127.0.0.1', port: 0 }), 'ENOTSOCK', 'bind');
    expect(be.message).toBe('bind ENOTSOCK 127.0.0.1:0');
    expect((be as { address?: string }).address).toBe('127.0.0.1');
    expect((be as { port?: number }).port).toBe(0);
    expectSysError(() => s.connect(fd, { path: '/nonexistent/x' }), 'ENOTSOCK', 'connect');
    expectSysError(() => s.listen(fd), 'ENOTSOCK', 'listen');
    expectSysError(() => s.accept(fd), 'ENOTSOCK', 'accept');
    expectSysError(() => s.shutdown(fd, s.SHUT_RD), 'ENOTSOCK', 'shutdown');
    expectSysError(() => s.getsockname(fd), 'ENOTSOCK', 'getsockname');
    expectSysError(() => s.getpeername(fd), 'ENOTSOCK', 'getpeername');
    expectSysError(() => s.getsockopt(fd, s.SOL_SOCKET, s.SO_TYPE), 'ENOTSOCK', 'getsockopt');
    expectSysError(() => s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, 1), 'ENOTSOCK', 'setsockopt');
    // fcntl and getBlocking work on any fd.
    expect(s.getBlocking(fd)).toBe(true);
    expect(typeof s.fcntl(fd, s.F_GETFL)).toBe('number');
  });

  it('errors of the kernel on good fds, with the same shape', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expectSysError(() => s.shutdown(fd, s.SHUT_RDWR), 'ENOTCONN', 'shutdown');
    expectSysError(() => s.send(fd, 'x'), 'EPIPE', 'send');
    expectSysError(() => s.setsockopt(fd, s.SOL_SOCKET, 12345, 1), 'ENOPROTOOPT', 'setsockopt');
    // EOPNOTSUPP and ENOTSUP are one number on Linux; libuv (and so Node) names it ENOTSUP.
    expectSysError(() => s.getsockopt(fd, 12345, 1), 'ENOTSUP', 'getsockopt');
    expectSysError(() => s.socket(12345, s.SOCK_STREAM), 'EAFNOSUPPORT', 'socket');
    expectSysError(() => s.shutdown(fd, 99), 'EINVAL', 'shutdown');
    expectSysError(() => s.socketpair(s.AF_INET, s.SOCK_STREAM), 'ENOTSUP', 'socketpair');
    // A Unix path on an IPv4 socket: the kernel says EAFNOSUPPORT and the path is in the error.
    const e = expectSysError(() => s.bind(fd, { path: '/nonexistent/sock' }), 'EAFNOSUPPORT', 'bind');
    expect(e.message).toBe('bind EAFNOSUPPORT /nonexistent/sock');
    expect((e as { address?: string }).address).toBe('/nonexistent/sock');
    expect('port' in e).toBe(false);
  });

  it('errors are Error instances with their stack in the caller\'s file', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    const errs = [
      thrown(() => s.recv(neverOpened(), 1)), // system error made in C++
      thrown(() => s.recv('x' as never, 1)), // TypeError made in TypeScript
      thrown(() => s.recv(-1, 1)), // RangeError
      thrown(() => s.bind(fd, { address: 'localhost', port: 0 })),
      thrown(() => s.bind(fd, { path: 'a\0b' })),
      thrown(() => native.recv('x' as never, 1, 0)), // the addon's own checks
      thrown(() => native.recv(-1, 1, 0)),
    ];
    for (const e of errs) {
      expect(e).toBeInstanceOf(Error);
      expect(Object.prototype.toString.call(e)).toBe('[object Error]');
      expect(typeof e.stack).toBe('string');
      expect(e.stack).toContain('errors.test.ts');
      expect(e.stack!.startsWith(`${e.name}: ${e.message}`)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('the addon rejects bad arguments by itself', () => {
  const N = native;
  it('wrong types: TypeError', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM | s.SOCK_NONBLOCK));
    const buf = Buffer.alloc(8);
    expectTypeError(() => (N.socket as Fn)());
    expectTypeError(() => N.socket('2' as never, 1, 0));
    expectTypeError(() => N.socketpair(1, 1, undefined as never));
    expectTypeError(() => N.close('3' as never));
    expectTypeError(() => N.close(3n as never));
    expectTypeError(() => N.recv(fd, null as never, 0));
    expectTypeError(() => N.recv(fd, 10, undefined as never));
    expectTypeError(() => N.recvInto(fd, 'str' as never, 0, 0, 0));
    expectTypeError(() => N.recvInto(fd, [1, 2] as never, 0, 0, 0));
    expectTypeError(() => N.recvInto(fd, buf, undefined as never, 8, 0));
    expectTypeError(() => N.recvfromInto(fd, {} as never, 0, 0, 0));
    expectTypeError(() => N.send(fd, 42 as never, 0));
    expectTypeError(() => N.send(fd, null as never, 0));
    expectTypeError(() => N.sendto(fd, 'x', 0, s.AF_INET, 127 as never, 9, 0, 0));
    expectTypeError(() => N.bind(fd, s.AF_INET, undefined as never, 0, 0, 0));
    expectTypeError(() => N.bind(fd, s.AF_INET, '127.0.0.1', '0' as never, 0, 0));
    expectTypeError(() => N.bind(fd, s.AF_INET, 'localhost', 0, 0, 0), 'ERR_INVALID_IP_ADDRESS');
    expectTypeError(() => N.connect(fd, s.AF_INET6, '127.0.0.1', 1, 0, 0), 'ERR_INVALID_IP_ADDRESS');
    expectTypeError(() => N.connect(fd, s.AF_INET6, '::1%no-such-if0', 1, 0, 0), 'ERR_INVALID_IP_ADDRESS');
    expectTypeError(() => N.bind(fd, s.AF_UNIX, 'a\0b', 0, 0, 0), 'ERR_INVALID_ARG_VALUE');
    expectTypeError(() => N.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, 'on' as never));
    expectTypeError(() => N.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, undefined as never));
    expectTypeError(() => N.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, '8' as never));
    expectTypeError(() => N.fcntl(fd, s.F_GETFL, '0' as never));
    // select and poll take Int32Arrays, and nothing else.
    const i0 = new Int32Array(0);
    for (const bad of [new Uint32Array(1), new Float64Array(1), new Int16Array(2), Buffer.alloc(4), [fd], null, undefined]) {
      expectTypeError(() => N.select(bad as never, 0, 0, 0));
      expectTypeError(() => N.poll(bad as never, 0, 0));
    }
    expectTypeError(() => N.select(i0, '0' as never, 0, 0));
    expectTypeError(() => N.select(i0, 0, null as never, 0));
    expectTypeError(() => N.select(i0, 0, 0, '0' as never));
    expectTypeError(() => N.poll(new Int32Array(3), '1' as never, 0));
    expectTypeError(() => N.getaddrinfo(1 as never, null, 0, 0, 0));
  });

  it('out of range: RangeError, before any memory is touched', () => {
    const fd = track(s.socket(s.AF_INET, s.SOCK_DGRAM | s.SOCK_NONBLOCK));
    const buf = Buffer.alloc(8, 1);
    expectRangeError(() => N.close(-1));
    expectRangeError(() => N.close(1.5));
    expectRangeError(() => N.close(NaN));
    expectRangeError(() => N.close(2 ** 31));
    expectRangeError(() => N.recv(fd, -1, 0));
    expectRangeError(() => N.recv(fd, 2 ** 31, 0));
    expectRangeError(() => N.recv(fd, 10, 2 ** 31));
    expectRangeError(() => N.recvInto(fd, buf, 9, 0, 0));
    expectRangeError(() => N.recvInto(fd, buf, 0, 9, 0));
    expectRangeError(() => N.recvInto(fd, buf, 4, 5, 0));
    expectRangeError(() => N.recvInto(fd, buf, -1, 1, 0));
    expectRangeError(() => N.recvfromInto(fd, buf, 8, 1, 0));
    expectRangeError(() => N.recvInto(fd, new Uint16Array(2), 0, 5, 0)); // 4 bytes
    expectRangeError(() => N.recvInto(fd, new Uint8Array(new ArrayBuffer(16), 8, 4), 0, 5, 0)); // the view, not the store
    expect(buf).toEqual(Buffer.alloc(8, 1));
    expectRangeError(() => N.bind(fd, s.AF_INET, '127.0.0.1', 65536, 0, 0));
    expectRangeError(() => N.bind(fd, s.AF_INET, '127.0.0.1', -1, 0, 0));
    expectRangeError(() => N.bind(fd, 12345, '127.0.0.1', 0, 0, 0));
    expectRangeError(() => N.connect(fd, s.AF_INET6, '::1', 1, 0x100000, 0));
    expectRangeError(() => N.connect(fd, s.AF_INET6, '::1', 1, 0, -1));
    expectRangeError(() => N.bind(fd, s.AF_UNIX, '/' + 'a'.repeat(107), 0, 0, 0));
    expectRangeError(() => N.bind(fd, s.AF_UNIX, '\0' + 'a'.repeat(108), 0, 0, 0));
    expectRangeError(() => N.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, (1 << 20) + 1));
    expectRangeError(() => N.getsockopt(fd, s.SOL_SOCKET, s.SO_LINGER, -1));
    expectRangeError(() => N.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, 2 ** 31));
    expectRangeError(() => N.fcntl(fd, 0 /* F_DUPFD */, 0));
    expectRangeError(() => N.listen(fd, 2 ** 31));
    // select: fds below FD_SETSIZE and not negative; timeout -1..2^31-1.
    const i0 = new Int32Array(0);
    const fds = Int32Array.of(fd, fd);
    expectRangeError(() => N.select(Int32Array.of(s.FD_SETSIZE), 1, 0, 0));
    expectRangeError(() => N.select(Int32Array.of(fd, -1), 1, 1, 0));
    expectRangeError(() => N.select(Int32Array.of(fd, 2 ** 31 - 1), 0, 0, 0));
    // The read and write counts must fit in the array (the rest are the except fds).
    expectRangeError(() => N.select(fds, 3, 0, 0));
    expectRangeError(() => N.select(fds, 1, 2, 0));
    expectRangeError(() => N.select(fds, -1, 0, 0));
    expectRangeError(() => N.select(fds, 0.5, 0, 0));
    expect(fds).toEqual(Int32Array.of(fd, fd)); // refused before anything was written
    expectRangeError(() => N.select(i0, 0, 0, -2));
    expectRangeError(() => N.select(i0, 0, 0, 2 ** 31));
    // poll: count within the array, events within 16 bits, timeout in range.
    const entries = Int32Array.of(fd, s.POLLIN, 0);
    expectRangeError(() => N.poll(entries, 2, 0));
    expectRangeError(() => N.poll(new Int32Array(5), 2, 0)); // 5 ints hold one entry only
    expectRangeError(() => N.poll(entries, -1, 0));
    expectRangeError(() => N.poll(Int32Array.of(fd, 0x10000, 7), 1, 0));
    expectRangeError(() => N.poll(Int32Array.of(fd, -1, 7), 1, 0));
    expectRangeError(() => N.poll(entries, 1, 2 ** 31));
    expectRangeError(() => N.poll(entries, 1, 0.5));
    expect(entries).toEqual(Int32Array.of(fd, s.POLLIN, 0)); // revents not written
  });

  it('still works after all that', () => {
    const [a, b] = N.socketpair(s.AF_UNIX, s.SOCK_STREAM | s.SOCK_CLOEXEC, 0);
    track(a);
    track(b);
    expect(N.send(a, 'alive', s.MSG_NOSIGNAL)).toBe(5);
    const e = Int32Array.of(b, s.POLLIN, 0);
    expect(N.poll(e, 1, 10000)).toBe(1);
    expect(e[2] & s.POLLIN).toBe(s.POLLIN);
    expect(N.recv(b, 10, 0)!.toString()).toBe('alive');
    // A detached buffer is a zero-length window, not a crash.
    const ab = new ArrayBuffer(8);
    const view = new Uint8Array(ab);
    structuredClone(ab, { transfer: [ab] });
    expect(ab.byteLength).toBe(0);
    expect(view.byteLength).toBe(0);
    expectRangeError(() => N.recvInto(b, view, 0, 1, 0));
    expectRangeError(() => N.recvInto(b, ab as never, 0, 1, 0));
    expect(N.recvInto(b, view, 0, 0, s.MSG_DONTWAIT)).toBeNull();
    expectRangeError(() => s.recvInto(b, ab, 0, 1));
    expectRangeError(() => s.recvInto(b, view, 1));
    expectRangeError(() => s.recvfromInto(b, view, 0, 1));
    // A DataView over a detached buffer: its byteLength throws in JavaScript, but it is a zero-length window too.
    const ab2 = new ArrayBuffer(16);
    const dv = new DataView(ab2, 4, 8);
    structuredClone(ab2, { transfer: [ab2] });
    expect(() => dv.byteLength).toThrow(TypeError);
    expect(s.recvInto(b, dv, 0, 0, s.MSG_DONTWAIT)).toBeNull();
    expectRangeError(() => s.recvInto(b, dv, 0, 1));
    expectRangeError(() => s.recvfromInto(b, dv, 1));
    expect(s.send(a, dv)).toBe(0);
    expect(s.sendAll(a, dv)).toBeUndefined();
    expect(s.sendAll(a, view)).toBeUndefined();
    closeFd(a);
    closeFd(b);
  });
});

describe('the addon\'s recvInto and send with trailing arguments left out', () => {
  // The JavaScript layer leaves out what is the default on the per-message paths (each argument the addon reads
  // is a Node-API call): absent, not undefined, means the default.
  const N = native;

  it('recvInto: no window is the whole buffer, an offset alone is the rest of it, flags 0', () => {
    const [a, b] = N.socketpair(s.AF_UNIX, s.SOCK_STREAM | s.SOCK_CLOEXEC, 0);
    track(a);
    track(b);
    expect(N.send(a, 'abcdefghijk')).toBe(11);
    expect(s.poll([{ fd: b, events: s.POLLIN }], 10000)).toHaveLength(1);
    const whole = Buffer.alloc(4, 0x2e);
    expect(N.recvInto(b, whole)).toBe(4);
    expect(whole.toString()).toBe('abcd');
    const rest = Buffer.alloc(6, 0x2e);
    expect(N.recvInto(b, rest, 2)).toBe(4);
    expect(rest.toString()).toBe('..efgh');
    const view = new Uint8Array(new ArrayBuffer(8), 2, 3); // a view's own window, not its buffer's
    expect(N.recvInto(b, view)).toBe(3);
    expect(Buffer.from(view).toString()).toBe('ijk');
    expect(new Uint8Array(view.buffer)[1]).toBe(0);
    expectRangeError(() => N.recvInto(b, rest, 7));
    expectTypeError(() => N.recvInto(b, rest, 0, 6, undefined as never)); // passed as undefined: still an error
    expectTypeError(() => N.recvInto(b, rest, undefined as never));
  });

  it('send: flags left out are MSG_NOSIGNAL (a closed peer is EPIPE, no SIGPIPE); flags 0 passed are 0', async () => {
    // Node ignores SIGPIPE unless it has a listener: the child listens, so a send without MSG_NOSIGNAL is seen.
    const child = runNode(`
      const { native: N } = require('./dist/binding.js');
      const s = require('sockfd');
      let pipes = 0;
      process.on('SIGPIPE', () => pipes++);
      const send = (flags) => {
        const [a, b] = N.socketpair(s.AF_UNIX, s.SOCK_STREAM | s.SOCK_CLOEXEC, 0);
        N.close(b);
        try {
          return String(flags === undefined ? N.send(a, 'x') : N.send(a, 'x', flags));
        } catch (e) {
          return e.code;
        } finally {
          N.close(a);
        }
      };
      let undefinedFlags;
      try { N.send(0, 'x', undefined); } catch (e) { undefinedFlags = e.code; }
      const left = send(undefined);
      setTimeout(() => {
        const leftPipes = pipes;
        const zero = send(0);
        setTimeout(() => console.log(JSON.stringify({ left, leftPipes, zero, zeroPipes: pipes - leftPipes, undefinedFlags })), 300);
      }, 300);
    `);
    expect(await child.exited()).toBe(0);
    expect(JSON.parse(child.output())).toEqual({
      left: 'EPIPE', leftPipes: 0, zero: 'EPIPE', zeroPipes: 1, undefinedFlags: 'ERR_INVALID_ARG_TYPE',
    });
  });
});
