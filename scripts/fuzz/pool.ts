/**
 * The pool of resources the fuzzer owns, and the safety rules that keep it from blocking or harming anything
 * it does not own:
 * - every fd in the pool is non-blocking; after any call that may have changed that, all are reset
 *   (resetBlocking, from the specs' after hooks);
 * - fd arguments are pool fds, fds verified closed, numbers far beyond RLIMIT_NOFILE, or non-fds; only
 *   read-only calls ever see stdin/stdout/stderr; close() only gets fds the fuzzer owns outright, not those of
 *   its Socket objects or selectors (fdSafe, which the runner applies to every fd argument);
 * - sendAll only on a fresh socketpair (makeSink) with small data;
 * - addresses are loopback, the fuzzer's temp dir (also the working directory), or invalid.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BaseSelector, BufferRing, IoUring, Socket, Watcher } from '../../lib/index';
import type { NativeRegistry, NativeWatcher } from '../../lib/native';
import type { Mutator } from './mutator';
import { k, native, s, SELECTOR_CLASSES } from './pkg';
import type { Rng } from './prng';
import { FuzzerThrow, type Report } from './report';

/** Far beyond RLIMIT_NOFILE: never a real fd. */
export const OOR_BASE = 2 ** 30;
export const NB = k.SOCK_NONBLOCK;
/** The families socket() may be asked for (besides invalid ones). */
export const DOMAINS: readonly number[] = [k.AF_INET, k.AF_INET6, k.AF_UNIX];

/**
 * Which fds an fd argument may name: `ro`, a read-only call: any (stdin, stdout, stderr too); `any`, a call that
 * changes the fd but does not close it: the fuzzer's own, its Sockets' and selectors' too; `close`: only fds
 * the fuzzer owns outright. Anything else must be verified closed.
 */
export type FdMode = 'ro' | 'any' | 'close';

/** What the pool's raw fds are (for the reader of a trace, and the epoll fds' generator). */
export type FdKind = 'pair' | 'listen' | 'tcp' | 'udp' | 'unix' | 'file' | 'epoll' | 'new' | 'accepted' | 'pidfd' | 'detached' | 'received';

export interface InetTarget {
  family: string;
  address: string;
  port: number;
}

/** Runs fn, or gives dflt if it throws (the fuzzer's own look at hostile values). */
export function safely<T>(fn: () => T, dflt: T): T {
  try {
    return fn();
  } catch {
    return dflt;
  }
}

export function isSocket(x: unknown): x is Socket {
  return safely(() => x instanceof s.Socket, false);
}

export class Pool {
  /** fds the fuzzer owns outright: fd -> kind. Only these may be closed by a raw close. */
  readonly raw = new Map<number, FdKind>();
  /** Socket objects (each owns its fd). */
  readonly sockets: Socket[] = [];
  /** Selectors (the epoll ones own an epoll fd). */
  readonly selectors: BaseSelector[] = [];
  /** Native registries (PollSet, SelectSet). */
  readonly registries: NativeRegistry[] = [];
  /** io_uring instances (each owns its ring fd), and the provided-buffer rings made on them. */
  readonly rings: IoUring[] = [];
  readonly bufferRings: BufferRing[] = [];
  /** Watchers: the package's and the addon's. */
  readonly watchers: Array<Watcher | NativeWatcher> = [];
  /** Numbers recently closed (verified closed again when used). */
  readonly closedRing: number[] = [];
  readonly tcpTargets: InetTarget[] = [];
  readonly udpTargets: InetTarget[] = [];
  readonly unixTargets: Array<{ path: string }> = [];
  /** The AbortControllers of pending async calls. */
  readonly controllers: AbortController[] = [];
  /** The socketpairs made for one sendAll (fds, or a Socket), closed after it. */
  readonly #sinks: Array<number | Socket> = [];
  /** The temp dir: Unix socket paths and files; the working directory during the run. */
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-fuzz-'));
  #pathCounter = 0;

  constructor(
    private readonly rng: Rng,
    private readonly report: Report,
    private readonly mutator: Mutator,
  ) {}

  isOpen(fd: number): boolean {
    try {
      native.fcntl(fd, k.F_GETFD);
      return true;
    } catch {
      return false;
    }
  }

  nonblock(fd: number): void {
    try {
      native.setBlocking(fd, false);
    } catch {
      /* not ours to fix: closed meanwhile */
    }
  }

  /** Takes fd into the pool (non-blocking); anything that is no fd number is ignored. */
  own(fd: unknown, kind: FdKind): void {
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd >= OOR_BASE) return;
    this.nonblock(fd);
    this.raw.set(fd, kind);
  }

  noteClosed(fd: unknown): void {
    if (typeof fd !== 'number' || fd < 0 || fd >= OOR_BASE) return;
    this.raw.delete(fd);
    this.closedRing.push(fd);
    if (this.closedRing.length > 64) this.closedRing.shift();
  }

  closeRaw(fd: number): void {
    try {
      s.close(fd);
    } catch {
      /* already closed */
    }
    this.noteClosed(fd);
  }

  /** After a raw close: if fd was ours and is closed now, it leaves the pool. */
  closedIfGone(fd: unknown): void {
    if (typeof fd === 'number' && this.raw.has(fd) && !this.isOpen(fd)) this.noteClosed(fd);
  }

  addSocket(sock: unknown): void {
    if (!(sock instanceof s.Socket)) return;
    try {
      sock.setBlocking(false);
    } catch {
      /* closed, or an fd beyond the open range */
    }
    if (!this.sockets.includes(sock)) this.sockets.push(sock);
  }

  /** A Socket made from fd: the Socket owns it now. */
  adoptSocket(sock: unknown): void {
    if (!(sock instanceof s.Socket)) return;
    const fd = sock.fileno();
    if (this.raw.has(fd)) this.raw.delete(fd);
    this.addSocket(sock);
  }

  liveSockets(): Socket[] {
    return this.sockets.filter((x) => !x.closed);
  }

  liveSelectors(): BaseSelector[] {
    return this.selectors.filter((x) => !x.closed);
  }

  socketFds(): number[] {
    const out: number[] = [];
    for (const x of this.sockets) {
      const fd = x.fileno();
      if (fd >= 0 && fd < OOR_BASE) out.push(fd);
    }
    return out;
  }

  selectorFds(): number[] {
    const out: number[] = [];
    for (const x of this.selectors) {
      const fileno = (x as { fileno?: unknown }).fileno;
      if (typeof fileno === 'function' && !x.closed) {
        try {
          const fd = fileno.call(x) as number;
          if (fd >= 0) out.push(fd);
        } catch {
          /* a BaseSelector has none */
        }
      }
    }
    return out;
  }

  /** Whether a value given as an fd can name nothing the fuzzer does not own (see FdMode). */
  fdSafe(v: unknown, mode: FdMode): boolean {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= OOR_BASE) return true; // not an fd, or never open
    if (mode === 'ro') return true;
    if (this.raw.has(v)) return true;
    if (mode === 'close') return !this.isOpen(v);
    if (this.socketFds().includes(v) || this.selectorFds().includes(v)) return true;
    return !this.isOpen(v);
  }

  /** After a call that may have made an fd blocking: every fd of the pool non-blocking again. */
  resetBlocking(): void {
    for (const fd of this.raw.keys()) this.nonblock(fd);
    for (const x of this.sockets) {
      if (x.closed) continue;
      try {
        x.setBlocking(false);
      } catch {
        this.nonblock(x.fileno());
      }
    }
    for (const fd of this.selectorFds()) this.nonblock(fd);
  }

  newPath(): string {
    return path.join(this.tmp, `p${this.#pathCounter++}`);
  }

  // ---- making resources ----

  mkPair(type: number): [number, number] {
    const p = s.socketpair(k.AF_UNIX, type | NB);
    this.own(p[0], 'pair');
    this.own(p[1], 'pair');
    return p;
  }

  mkTcpListener(v6: boolean): number {
    const fd = s.socket(v6 ? k.AF_INET6 : k.AF_INET, k.SOCK_STREAM | NB);
    this.own(fd, 'listen');
    s.setsockopt(fd, k.SOL_SOCKET, k.SO_REUSEADDR, 1);
    s.bind(fd, { address: v6 ? '::1' : '127.0.0.1', port: 0 });
    s.listen(fd, 64);
    this.tcpTargets.push(s.getsockname(fd) as InetTarget);
    if (this.tcpTargets.length > 16) this.tcpTargets.shift();
    return fd;
  }

  mkTcpConn(): void {
    const l = this.mkTcpListener(this.rng.chance(0.3));
    const addr = s.getsockname(l) as InetTarget;
    const c = s.socket(addr.family === 'IPv6' ? k.AF_INET6 : k.AF_INET, k.SOCK_STREAM | NB);
    this.own(c, 'tcp');
    s.connect(c, addr);
    const a = s.accept(l, NB);
    if (a) this.own(a.fd, 'tcp');
  }

  mkUdp(v6: boolean): void {
    const fd = s.socket(v6 ? k.AF_INET6 : k.AF_INET, k.SOCK_DGRAM | NB);
    this.own(fd, 'udp');
    s.bind(fd, { address: v6 ? '::1' : '127.0.0.1', port: 0 });
    this.udpTargets.push(s.getsockname(fd) as InetTarget);
    if (this.udpTargets.length > 16) this.udpTargets.shift();
  }

  mkUnix(type: number): void {
    const fd = s.socket(k.AF_UNIX, type | NB);
    this.own(fd, 'unix');
    const p = this.newPath();
    s.bind(fd, { path: p });
    if (type !== k.SOCK_DGRAM) s.listen(fd, 16);
    this.unixTargets.push({ path: p });
    if (this.unixTargets.length > 16) this.unixTargets.shift();
  }

  mkFile(): void {
    this.own(fs.openSync(path.join(this.tmp, `file${this.#pathCounter++}`), 'w+'), 'file');
  }

  mkEpoll(): void {
    this.own(s.epollCreate(), 'epoll');
  }

  mkSocket(): void {
    const { rng } = this;
    if (rng.int(4) === 0) {
      const p = s.socketpair(k.AF_UNIX, k.SOCK_STREAM | NB);
      this.addSocket(new s.Socket(k.AF_UNIX, k.SOCK_STREAM, 0, p[0]));
      if (rng.chance(0.5)) this.addSocket(new s.Socket(k.AF_UNIX, k.SOCK_STREAM, 0, p[1]));
      else this.own(p[1], 'pair');
    } else {
      const fam = rng.pick(DOMAINS);
      this.addSocket(new s.Socket(fam, rng.pick([k.SOCK_STREAM, k.SOCK_DGRAM]) | NB));
    }
  }

  mkSelector(): void {
    this.selectors.push(new (this.rng.pick(SELECTOR_CLASSES))());
  }

  /** A fresh socketpair for one sendAll (a fresh one takes small data without a reader); closed by closeSinks. */
  makeSink(forSocket: boolean): number | Socket {
    const p = s.socketpair(k.AF_UNIX, (this.rng.chance(0.5) ? k.SOCK_STREAM : k.SOCK_SEQPACKET) | NB);
    if (!forSocket) {
      this.#sinks.push(...p);
      return p[0];
    }
    const sock = new s.Socket(k.AF_UNIX, k.SOCK_STREAM | NB, 0, p[0]);
    this.#sinks.push(p[1], sock);
    return sock;
  }

  closeSinks(): void {
    for (const x of this.#sinks.splice(0)) {
      try {
        if (typeof x === 'number') s.close(x);
        else x.close();
      } catch {
        /* closed by the call */
      }
    }
  }

  /** Tops the pool up (and caps it), then tells the mutator the fds it may write. */
  replenish(): void {
    const { rng } = this;
    const makers: Array<() => void> = [
      () => this.mkPair(k.SOCK_STREAM), () => this.mkPair(k.SOCK_DGRAM), () => this.mkPair(k.SOCK_SEQPACKET),
      () => this.mkTcpListener(false), () => this.mkTcpListener(true), () => this.mkTcpConn(), () => this.mkUdp(false),
      () => this.mkUdp(true), () => this.mkUnix(k.SOCK_STREAM), () => this.mkUnix(k.SOCK_DGRAM), () => this.mkFile(),
      () => this.mkEpoll(),
    ];
    const attempt = (fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        if (this.report.classify(e) === null) throw e; // IPv6 missing, say: go on with the rest
      }
    };
    let guard = 0;
    while (this.raw.size < 28 && guard++ < 20) attempt(rng.pick(makers));
    while (this.liveSockets().length < 4 && guard++ < 30) attempt(() => this.mkSocket());
    while (this.liveSelectors().length < 3 && guard++ < 40) attempt(() => this.mkSelector());
    while (this.registries.length < 2) this.registries.push(rng.chance(0.5) ? new native.PollSet() : new native.SelectSet());
    // Caps.
    if (this.raw.size > 80) {
      const fds = [...this.raw.keys()];
      for (let i = 0; i < fds.length - 60; i++) this.closeRaw(fds[i]);
    }
    const { sockets, selectors, registries, watchers } = this;
    for (let i = sockets.length - 1; i >= 0; i--) if (sockets[i].closed) sockets.splice(i, 1);
    while (sockets.length > 24) {
      const x = sockets.shift()!;
      try {
        x.close();
      } catch {
        /* EBADF: its fd was beyond the open range */
      }
    }
    for (let i = selectors.length - 1; i >= 0; i--) if (selectors[i].closed) selectors.splice(i, 1);
    while (selectors.length > 8) selectors.shift()!.close();
    while (registries.length > 6) registries.shift();
    for (let i = watchers.length - 1; i >= 0; i--) {
      const w = watchers[i];
      if (w instanceof s.Watcher && w.stopped) watchers.splice(i, 1);
    }
    while (watchers.length > 24) watchers.shift()!.stop();
    for (let i = this.rings.length - 1; i >= 0; i--) if (this.rings[i].closed) this.rings.splice(i, 1);
    while (this.rings.length > 4) this.rings.shift()!.close();
    while (this.bufferRings.length > 8) this.bufferRings.shift();
    this.mutator.setHints([0, 1, 2, ...this.raw.keys(), ...this.socketFds()]);
  }

  /** Everything closed and stopped, for the fd-leak check; calls here must still only throw allowed errors. */
  cleanup(): void {
    for (const c of this.controllers.splice(0)) c.abort(new FuzzerThrow('cleanup'));
    for (const w of this.watchers.splice(0)) {
      try {
        w.stop();
      } catch (e) {
        this.report.check(e, { name: 'cleanup: watcher.stop', args: [] });
      }
    }
    for (const x of this.sockets.splice(0)) {
      try {
        x.close();
      } catch (e) {
        this.report.check(e, { name: 'cleanup: socket.close', args: [x] });
      }
    }
    for (const sel of this.selectors.splice(0)) sel.close();
    for (const r of this.rings.splice(0)) r.close(); // closes the connections it accepted that nobody drained
    this.bufferRings.length = 0;
    for (const fd of [...this.raw.keys()]) this.closeRaw(fd);
    this.registries.length = 0;
  }
}
