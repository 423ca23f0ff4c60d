/**
 * The model registry: every I/O model the demo server has, what it shows, and how to load it. The one list the
 * CLI (`--io` choices, help, `--workers`), the worker threads of `--workers`, `--trace`, the demo and stress
 * tests and the benchmark read. Adding a model is one file in this folder that exports `serve`, and one entry
 * here: `ModelName` is the keys of `MODELS`, so a model without an entry is a compile error, not a silent exit.
 */
import { availableParallelism } from 'node:os';
import { hasEpoll } from '../../epoll';
import { ioUringSupport } from '../../uring';
import type { ServerOptions } from '../protocol';
import type { Running } from '../server';

/** What a model's module exports. */
export interface ModelModule {
  /**
   * Starts serving. `reusePort`: one of several `--workers`, each with its own listening socket on the same
   * port (SO_REUSEPORT). A model that blocks its thread for ever (blocking) never returns.
   */
  serve(opts: ServerOptions, reusePort?: boolean): Running;
}

/** What `--workers N` runs N of, for a model that takes it. */
export interface WorkersInfo {
  /**
   * A thread (worker_threads) with its own listening socket and loop; or a process (prefork), which the model
   * starts itself and hands connections to.
   */
  readonly unit: 'thread' | 'process';
  /** The default N. */
  readonly default: number;
}

/** What the registry says of a model. */
export interface ModelInfo {
  /** One line: what the model shows, for `--help` and the README's table. */
  readonly shows: string;
  /** The tutorial's name for its I/O model. */
  readonly ioModel: 'blocking' | 'non-blocking' | 'multiplexing' | 'signal-driven' | 'asynchronous' | 'event loop';
  /** Serves several clients at once (all but blocking). */
  readonly concurrent: boolean;
  /** Blocks its thread for ever: Node's signal handlers cannot run, Ctrl-C takes the default action. */
  readonly blocksThread: boolean;
  /**
   * One thread per client: its memory grows with its clients' threads, and out of fds (or threads) it refuses
   * the clients it cannot start one for.
   */
  readonly threadPerClient: boolean;
  /** Whether it takes `--workers`, and what a worker is there; null when it does not. */
  readonly workers: WorkersInfo | null;
  /** Why this machine cannot run it (`null` when it can). */
  unavailable(): string | null;
  /**
   * What its `--trace` shows that tells it apart, beyond the bind, listen, accept() and recv( lines every model
   * prints (nothing timing-dependent): the demo tests check each pattern, the README explains them.
   */
  readonly traceShows: readonly RegExp[];
  /** Loads the model's module (each model is loaded only when chosen). */
  load(): Promise<ModelModule>;
}

const anywhere = (): null => null;
const linuxOnly = (): string | null => (hasEpoll ? null : 'epoll is Linux only (use --io poll)');
const withIoUring = (): string | null => {
  const s = ioUringSupport();
  if (!s.supported) return `io_uring is not available: ${s.code}: ${s.reason}`;
  return s.multishot ? null : 'the uring model needs multishot accept and recv (Linux 6.0+): use --io epoll';
};

/** Every model, in the tutorial's order. */
export const MODELS = {
  blocking: {
    shows: 'the tutorial\'s server as written: one client at a time, blocking accept, recv and send',
    ioModel: 'blocking',
    concurrent: false,
    blocksThread: true,
    threadPerClient: false,
    workers: null,
    unavailable: anywhere,
    traceShows: [],
    load: async () => import('./blocking'),
  },
  threads: {
    shows: 'one thread per client, each with blocking calls (the tutorial\'s first way)',
    ioModel: 'blocking',
    concurrent: true,
    blocksThread: false,
    threadPerClient: true,
    workers: null,
    unavailable: anywhere,
    traceShows: [/\[thread \d+\] fd \d+ {2}recv\(/, /fd \d+ {2}new Worker\(threads-worker\.js\).* -> thread \d+/, /\[thread \d+\] fd \d+ {2}taken over from the main thread/],
    load: async () => import('./threads'),
  },
  nonblocking: {
    shows: 'non-blocking sockets polled in a loop: most answers are "would block" (wasted work)',
    ioModel: 'non-blocking',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: null,
    unavailable: anywhere,
    traceShows: [/accept\(\) -> null \(would block\)/, /^sleep 10 ms .* -> setTimeout$/m],
    load: async () => import('./nonblocking'),
  },
  select: {
    shows: 'multiplexing with select(2): every wait passes bitmaps of all fds, fds < FD_SETSIZE only',
    ioModel: 'multiplexing',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: null,
    unavailable: anywhere,
    traceShows: [/ select\(\d+ fds passed in/],
    load: async () => import('./select'),
  },
  poll: {
    shows: 'multiplexing with poll(2): no fd limit, but every wait passes the whole list',
    ioModel: 'multiplexing',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: { unit: 'thread', default: 1 },
    unavailable: anywhere,
    traceShows: [/ poll\(\d+ fds passed in/],
    load: async () => import('./poll'),
  },
  epoll: {
    shows: 'multiplexing with epoll(7): fds registered once, a wait returns only the ready ones',
    ioModel: 'multiplexing',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: { unit: 'thread', default: 1 },
    unavailable: linuxOnly,
    traceShows: [/epoll_create1\(EPOLL_CLOEXEC\) -> fd \d+/, /epoll_wait\(/, /epoll_ctl\(ADD/],
    load: async () => import('./epoll'),
  },
  prefork: {
    shows: 'pre-forked processes: the parent accepts and passes each fd to a child (SCM_RIGHTS), which serves it with epoll',
    ioModel: 'multiplexing',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: { unit: 'process', default: availableParallelism() },
    unavailable: () => (process.platform === 'linux' ? null : 'prefork passes fds over SOCK_SEQPACKET Unix sockets: Linux only here'),
    traceShows: [/sendmsg\(.*SCM_RIGHTS, \[fd \d+\]\)\]\)  # send_fds -> \d+ sent/, /^\[pid \d+\] fd 3  recvmsg\(.*# recv_fds -> \d+ bytes, SCM_RIGHTS \[fd \d+\]/m],
    load: async () => import('./prefork'),
  },
  async: {
    shows: 'the event loop (the tutorial\'s asyncio): one async function per client, awaiting readiness',
    ioModel: 'event loop',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: null,
    unavailable: anywhere,
    traceShows: [/fd \d+ {2}wait readable \(uv_poll\) {2}# recvIntoAsync returns a pending promise.* -> pending/, /fd \d+ {2}readable \(uv_poll callback\).* -> ready/],
    load: async () => import('./async'),
  },
  sigio: {
    shows: 'signal-driven I/O: the kernel sends SIGIO when a socket is ready (O_ASYNC, F_SETOWN)',
    ioModel: 'signal-driven',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: null,
    unavailable: anywhere,
    traceShows: [/fcntl\(F_SETOWN, \d+\)/, /fcntl\(F_SETFL, 0x[0-9a-f]+\)  # \+ O_ASYNC/, /^signal SIGIO .* -> handler runs$/m],
    load: async () => import('./sigio'),
  },
  uring: {
    shows: 'asynchronous I/O with io_uring: the kernel does whole accepts, recvs and sends, and says when done',
    ioModel: 'asynchronous',
    concurrent: true,
    blocksThread: false,
    threadPerClient: false,
    workers: { unit: 'thread', default: 1 },
    unavailable: withIoUring,
    traceShows: [/sqe accept fd \d+ user 0/, /sqe recv fd \d+ user \d+/, /cqe user \d+ res \d+/],
    load: async () => import('./uring'),
  },
} as const satisfies Record<string, ModelInfo>;

/** A model's name: a key of the registry. */
export type ModelName = keyof typeof MODELS;

/** The model names, in the registry's order. */
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

/** Whether `name` names a model. */
export function isModelName(name: string): name is ModelName {
  return Object.prototype.hasOwnProperty.call(MODELS, name);
}

/** The registry's entry for a model, typed as the interface (the `as const` entries are narrower). */
export function modelInfo(name: ModelName): ModelInfo {
  return MODELS[name];
}

/** The models that take `--workers`. */
export const WORKER_MODELS = MODEL_NAMES.filter((name) => modelInfo(name).workers !== null);

/** The model `--io` defaults to here: epoll where the platform has it, else poll. */
export function defaultModel(): ModelName {
  return modelInfo('epoll').unavailable() === null ? 'epoll' : 'poll';
}
