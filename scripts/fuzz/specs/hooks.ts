/**
 * Hooks several specs share: the rules that make a dangerous combination of arguments safe, and the
 * bookkeeping of what calls create or close.
 */
import * as net from 'node:net';
import * as util from 'node:util';
import type { Ctx } from '../context';
import { LATER, later, Values } from '../gen';
import { k } from '../pkg';
import { DOMAINS, type FdKind, isSocket, NB, OOR_BASE, safely } from '../pool';
import type { After } from './types';

/** getsockopt(SOL_SOCKET, SO_PEERPIDFD) (Linux 6.5+) returns a new fd, a pidfd of the peer: the caller owns it. */
const SO_PEERPIDFD = 77;

const isBytesish = (v: unknown): boolean => safely(() => ArrayBuffer.isView(v) || v instanceof ArrayBuffer, false);

/** The rules, bound to one run's pool. */
export function makeHooks(c: Ctx) {
  const { pool } = c;

  /** socket()/socketpair() arguments that never make a raw or packet socket, or one in a family we do not want. */
  function safeSocketArgs(args: unknown[]): void {
    const d = args[0];
    const t = args[1];
    if (typeof d === 'number' && Number.isInteger(d) && d >= 0 && d < 64 && !DOMAINS.includes(d) && d !== k.AF_UNSPEC) args[0] = 9999;
    if (typeof t === 'number' && Number.isInteger(t) && ((t & 0xf) === k.SOCK_RAW || (t & 0xf) === 10)) args[1] = k.SOCK_STREAM | NB;
  }

  /** args[i..i+2] = level, name, value: no SO_LINGER with a time, no multicast joins. */
  function safeSockopt(args: unknown[], i: number): void {
    const level = args[i];
    const name = args[i + 1];
    const value = args[i + 2];
    const isBuf = isBytesish(value);
    if (level === k.SOL_SOCKET && name === k.SO_LINGER && isBuf) args[i + 2] = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]); // linger 0 s: never blocks close
    if (typeof name !== 'number') return;
    if ((level === k.IPPROTO_IP && name >= 32 && name <= 48) || (level === k.IPPROTO_IPV6 && (name === 20 || name === 21 || (name >= 42 && name <= 48)))) {
      if (isBuf) args[i + 2] = Buffer.alloc(0); // no multicast joins (packets would leave the machine)
    }
  }

  /** args[i..i+1] = cmd, arg: no F_SETOWN to other processes, no O_ASYNC. */
  function safeFcntl(args: unknown[], i: number): void {
    const cmd = args[i];
    const arg = args[i + 1];
    if (cmd === k.F_SETOWN) args[i + 1] = typeof arg === 'number' ? 0 : arg;
    if (cmd === k.F_SETFL && typeof arg === 'number' && Number.isInteger(arg)) args[i + 1] = arg & ~k.O_ASYNC;
  }

  /** Host names that getaddrinfo could send to DNS: replaced by ones refused before any lookup. */
  function safeHostAddr(a: unknown): unknown {
    if (a === null || typeof a !== 'object' || util.types.isProxy(a)) return a;
    const d = Object.getOwnPropertyDescriptor(a, 'address');
    if (d && 'value' in d && typeof d.value === 'string' && net.isIP(d.value) === 0 && d.value !== 'localhost' && !d.value.includes('\0')) {
      return safely<unknown>(() => ({ ...a, address: 'no\0dns' }), { address: 'no\0dns', port: 1 });
    }
    if (d && d.get) return { path: undefined, address: 'no\0dns', port: 1 }; // a changing getter could name a host
    return a;
  }

  /** connectAsync resolves a non-IP string with dns.lookup on the thread pool: give it no such string at all. */
  function safeAsyncAddr(a: unknown): unknown {
    if (a === null || typeof a !== 'object' || util.types.isProxy(a)) return a;
    const d = Object.getOwnPropertyDescriptor(a, 'address');
    if (d && (d.get || (typeof d.value === 'string' && net.isIP(d.value) === 0))) return safely<unknown>(() => ({ ...a, address: 5 }), { address: 5, port: 1 });
    return a;
  }

  /** args[i..i+2] = level, name, length: SO_PEERPIDFD's whole fd number, so that created() can take it over. */
  function pidfdPrepare(args: unknown[], i: number): void {
    const len = args[i + 2];
    if (args[i] === k.SOL_SOCKET && args[i + 1] === SO_PEERPIDFD && typeof len === 'number' && len >= 0 && len < 4) args[i + 2] = 4;
  }
  function pidfdCreated(r: unknown, args: readonly unknown[], i: number): void {
    if (args[i] !== k.SOL_SOCKET || args[i + 1] !== SO_PEERPIDFD) return;
    const fd = typeof r === 'number' ? r : Buffer.isBuffer(r) && r.length >= 4 ? r.readInt32LE(0) : -1;
    if (fd > 2 && pool.isOpen(fd) && !pool.raw.has(fd)) pool.own(fd, 'pidfd');
  }

  /** sendAll gets small data only. */
  function smallSinkData(args: unknown[]): void {
    const d = args[1];
    if (typeof d === 'string' && Buffer.byteLength(d) > 4096) args[1] = 'small';
    else if (isBytesish(d) && safely(() => Values.maxByteLengthOf(d as ArrayBufferView) > 4096, false)) args[1] = Buffer.alloc(16);
  }

  return {
    safeSocketArgs,
    safeSockopt,
    safeFcntl,
    safeHostAddr,
    safeAsyncAddr,
    pidfdPrepare,
    pidfdCreated,
    /** sendAll's fd: a fresh socketpair made for the call by sinkPrepare, closed by closeSinks after it. */
    sinkFd: later<number>(() => c.v.badFd()),
    /** The sink, and small data only: a fresh socketpair takes it all without a reader. */
    sinkPrepare: (args: unknown[]) => {
      if (args[0] === LATER) args[0] = pool.makeSink(false);
      smallSinkData(args);
    },
    /** The same for Socket#sendAll: a Socket over a fresh socketpair. */
    sinkSocketPrepare: (args: unknown[]) => {
      if (args[0] === LATER) args[0] = pool.makeSink(true);
      smallSinkData(args);
    },
    /** The fd a call returned is the fuzzer's. */
    ownResult: (kind: FdKind) => (r: unknown) => pool.own(r, kind),
    /** Both fds of a pair. */
    ownPair: (r: unknown) => {
      if (Array.isArray(r)) {
        pool.own(r[0], 'new');
        pool.own(r[1], 'new');
      }
    },
    /** accept's { fd, address }. */
    ownAccepted: (r: unknown) => {
      if (r && typeof r === 'object' && typeof (r as { fd?: unknown }).fd === 'number') pool.own((r as { fd: number }).fd, 'accepted');
    },
    /** A raw close: the fd leaves the pool if it was ours and is closed now. */
    closes: (args: readonly unknown[]) => pool.closedIfGone(args[0]),
    /** A call that may have made an fd blocking. */
    resetBlocking: () => pool.resetBlocking(),
    /** The socketpairs of a sendAll are closed after it. */
    closeSinks: () => pool.closeSinks(),
    /**
     * A Socket method: if the call closed the Socket, its fd leaves the pool's view (a detach gives it back, to
     * the fuzzer outright).
     */
    socketFd:
      (detach: boolean) =>
      (args: readonly unknown[]): After | void => {
        const sock = args[0];
        if (!isSocket(sock)) return;
        const before = safely(() => sock.fileno(), -1);
        if (before < 0) return;
        return (result) => {
          if (!safely(() => sock.closed, false)) return;
          if (detach && result === before) pool.own(before, 'detached');
          else pool.noteClosed(before);
        };
      },
    /** A Socket made over fd args[i] takes it over: only an fd the fuzzer owns outright may be given. */
    ownedFileno: (args: unknown[], i: number) => {
      if (args.length <= i) return;
      const f = args[i];
      if (typeof f === 'number' && Number.isInteger(f) && f >= 0 && f < OOR_BASE && !pool.raw.has(f)) args[i] = OOR_BASE + 1;
    },
  };
}

export type SharedHooks = ReturnType<typeof makeHooks>;
