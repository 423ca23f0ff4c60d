/**
 * The demo server harness (lib/demo), for test/demo.test.ts and test/stress.test.ts:
 *
 * - the ways to run the server, read from the model registry (lib/demo/models): every model, and every model
 *   that takes `--workers` on WORKERS threads, so that a new model is tested without a word changed here;
 * - the server (`node dist/demo/cli.js server ARGS`, or another server that speaks the protocol and prints the
 *   tutorial's log: the tutorial's Python server) in a child process, its log read line by line into counters
 *   and a short tail (never kept whole: a storm makes hundreds of thousands of lines);
 * - node:net clients in the test process (its thread never blocks), which keep raw bytes; a whole conversation;
 * - `sockfd-demo client` run to its end.
 *
 * Protocol: `Welcome` on connect; each message read is answered with a random integer 1..100 as text; `exit`
 * (whitespace around it ignored) or end of stream closes the connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { MODEL_NAMES, WORKER_MODELS, modelInfo, type ModelInfo, type ModelName } from '../../lib/demo/models';
import { root } from './child';
import { fdCount, fdKinds, tcpSockets } from './proc';

export const CLI = path.join(root, 'dist', 'demo', 'cli.js');
export const FIXTURES = path.join(root, 'test', 'fixtures');

/**
 * How long one wait may take before it fails with the server's output: a deadline for a hung server, never a
 * speed requirement. A file whose test timeout is shorter sets less (setWaitMs), so that the wait fails first and
 * says why.
 */
export let WAIT_MS = 30000;
export function setWaitMs(ms: number): void {
  WAIT_MS = ms;
}

/** Resolves once `ready()` returns true, checking every 10 ms; fails after `ms` with `what` and `detail()`. */
export async function eventually(ready: () => boolean, what: string, detail: () => string = () => '', ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (ready()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail() ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Checks that `text` is one answer, an integer from 1 to 100, and returns it. */
export function expectAnswer(text: string, who: string): number {
  expect(text, `${who}: an answer is an integer 1..100`).toMatch(/^(?:100|[1-9]\d?)$/);
  return Number(text);
}

// ---------------------------------------------------------------------------------------------------------------
// The ways to run the server, from the model registry.

/** How many threads the `--workers` configs run. */
export const WORKERS = 2;

/** One way to run the demo server: a model of the registry, on its own or on WORKERS worker threads. */
export interface DemoConfig {
  /** `epoll`, or `epoll --workers 2`: what its tests are titled with. */
  readonly name: string;
  readonly model: ModelName;
  /** The registry's entry. */
  readonly info: ModelInfo;
  /** `--io MODEL [--workers N] --port 0`. */
  readonly args: readonly string[];
  /** Listening sockets: 1, or one per worker (SO_REUSEPORT). */
  readonly listeners: number;
  /**
   * Loops that take connections and may each run out of fds: the listeners, or prefork's child processes (the
   * parent hands over what it accepts; each child's receive is its accept).
   */
  readonly acceptors: number;
  /** What the server calls it in its start line: `epoll`, `epoll, 2 workers`. */
  readonly label: string;
  /** Serves several clients at once (the registry's `concurrent`: all but blocking). */
  readonly concurrent: boolean;
  /**
   * One thread per client (the registry's `threadPerClient`): its memory grows with its threads, and out of fds
   * it refuses the clients it cannot start a thread for.
   */
  readonly threadPerClient: boolean;
  /**
   * What its `--trace` must show besides the lines every model prints: the registry's `traceShows`; with
   * workers, each on a line of a worker thread (`[thread N] ...`), and at least one such line.
   */
  readonly traceShows: readonly RegExp[];
  /** Why this machine cannot run it (the registry's `unavailable()`), or null. */
  readonly unavailable: string | null;
}

/** `pattern`, on a line that a worker thread printed. */
function onWorkerLine(pattern: RegExp): RegExp {
  return new RegExp(String.raw`^\[thread \d+\] .*(?:${pattern.source})`, pattern.flags.includes('m') ? pattern.flags : `${pattern.flags}m`);
}

function config(model: ModelName, workers: number): DemoConfig {
  const info = modelInfo(model);
  const onWorkers = workers > 1;
  if (info.workers?.unit === 'process') {
    // Processes (prefork): one listening socket, the parent's; as many processes as asked (default: the
    // registry's); the trace lines of the children say `[pid N]`, and the registry's patterns say which.
    const n = onWorkers ? workers : info.workers.default;
    return {
      name: onWorkers ? `${model} --workers ${workers}` : model,
      model,
      info,
      args: ['--io', model, ...(onWorkers ? ['--workers', String(workers)] : []), '--port', '0'],
      listeners: 1,
      acceptors: n,
      label: `${model}, ${n} processes`,
      concurrent: info.concurrent,
      threadPerClient: info.threadPerClient,
      traceShows: [...info.traceShows, /^\[pid \d+\] /m],
      unavailable: info.unavailable(),
    };
  }
  return {
    name: onWorkers ? `${model} --workers ${workers}` : model,
    model,
    info,
    args: ['--io', model, ...(onWorkers ? ['--workers', String(workers)] : []), '--port', '0'],
    listeners: workers,
    acceptors: workers,
    label: onWorkers ? `${model}, ${workers} workers` : model,
    concurrent: info.concurrent,
    threadPerClient: info.threadPerClient,
    traceShows: onWorkers
      ? (info.traceShows.length > 0 ? info.traceShows.map(onWorkerLine) : [/^\[thread \d+\] /m])
      : info.traceShows,
    unavailable: info.unavailable(),
  };
}

/** Every model in the registry's order, then each model that takes `--workers` on WORKERS threads. */
export const CONFIGS: readonly DemoConfig[] = [
  ...MODEL_NAMES.map((model) => config(model, 1)),
  ...WORKER_MODELS.map((model) => config(model, WORKERS)),
];

/** `--io MODEL --port 0` and `extra`: for a test about one model in particular. */
export function io(model: ModelName, extra: string[] = []): string[] {
  return ['--io', model, ...extra, '--port', '0'];
}

/**
 * The configs this machine can run, to register tests for. For each other one, registers an `it.skip` whose
 * title gives the registry's reason, and prints it: call it where the tests would be registered.
 */
export function runnable(configs: readonly DemoConfig[], what: string): DemoConfig[] {
  return configs.filter((cfg) => {
    if (cfg.unavailable === null) return true;
    console.warn(`skipping ${what} on --io ${cfg.name}: ${cfg.unavailable}`);
    it.skip(`--io ${cfg.name}: ${what}: cannot run here: ${cfg.unavailable}`, () => {});
    return false;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The server.

const servers = new Set<DemoServer>();
const runs = new Set<ChildProcess>();

/** Kills (SIGKILL) and reaps every server and CLI run still going. For afterAll. */
export async function reapServers(): Promise<void> {
  const ended = [...runs].map((p) => new Promise((resolve) => p.once('close', resolve)));
  for (const p of runs) p.kill('SIGKILL');
  await Promise.all([...[...servers].map((s) => s.kill()), ...ended]);
}

/**
 * Registers the harness's clean-up: every client destroyed after each test, every server and run reaped after
 * the file. Call at the top of a test file, after checkFdLeaks (whose check must run last).
 */
export function cleanUpDemo(): void {
  afterEach(async () => {
    await destroyClients();
  });
  afterAll(async () => {
    await reapServers();
  });
}

/** The start line; the label (the model) is missing from the tutorial's Python server's. */
const WAITING = /^Waiting for connection on 127\.0\.0\.1:(\d+)(?: \(([^)]*)\))?\.\.\.$/;
const CONNECTED = /^Connected with 127\.0\.0\.1:(\d+)$/;
const CLOSED = /^Connection from 127\.0\.0\.1:(\d+) closed$/;
const FAILED = /^Connection from 127\.0\.0\.1:(\d+): (.*)$/;
const REFUSING = /^refusing 127\.0\.0\.1:(\d+): (.*)$/;
const STOPPED = /^Server stopped \((\w+)\)$/;
const MEMORY = /^memory (\{.*\})$/;
/** What a failed connection may log (the blocking-call models log it): only a peer gone, a reset or broken pipe. */
const PEER_GONE = /: (?:\w+ )?(?:ECONNRESET|EPIPE|ENOTCONN|ETIMEDOUT)\b/;
/** How much of its stderr is kept (all of a test's --trace output; not a crash's flood). */
const STDERR_KEPT = 1 << 20;

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface StartOptions {
  /** Arguments to node, before the script. */
  nodeArgs?: string[];
  /** Keep the client ports of the `Connected with` and `closed` lines (off for hundreds of thousands). */
  trackPorts?: boolean;
  /** The RLIMIT_NOFILE to run it with. */
  fdLimit?: number;
}

/**
 * A demo server in a child process. Its stdout is read line by line into counters (connections logged, closes
 * logged, errors, refusals) and a short tail; nothing grows with the number of connections unless `trackPorts`.
 */
export class DemoServer {
  readonly proc: ChildProcess;
  port = 0;
  /** The model, as its start line names it: `epoll`, `poll, 2 workers` ('' for the tutorial's Python server). */
  label = '';
  /** Connections the server logged as made (`Connected with ...`), and as closed. */
  connected = 0;
  closed = 0;
  /** Connections our clients completed (connect succeeded): the server must log the close of each. */
  clientConnections = 0;
  /** Client ports logged as connected, and as closed, each with the number of its (last) line (only with trackPorts). */
  readonly connectedPorts = new Map<number, number>();
  readonly closedPorts = new Map<number, number>();
  /** `Connection from ...: error` lines (the blocking, threads and async models log a peer's reset): count, samples. */
  failures = 0;
  readonly failureSamples: string[] = [];
  /** `refusing IP:PORT: why` (select: an fd >= FD_SETSIZE; threads: a thread that cannot start), by port. */
  readonly refused = new Map<number, string>();
  /** `accept failed: ...` lines (out of fds: the first of each run), count and samples; `accepting again` lines. */
  acceptFailures = 0;
  readonly acceptFailureSamples: string[] = [];
  acceptingAgain = 0;
  /** The signal named by its `Server stopped (SIGNAL)` line, once it has printed it. */
  stoppedBy: string | undefined;
  /** Lines none of the above (and failures other than a peer gone), besides the start line: there should be none. */
  readonly unexpected: string[] = [];
  memory: MemoryReport[] = [];
  #lines = 0;
  #tail: string[] = [];
  #partial = '';
  #stderr = '';
  #exit: Promise<void>;
  #exited = false;
  #listening: Promise<void>;

  private constructor(command: string, argv: string[], readonly trackPorts: boolean, fdLimit: number | undefined) {
    // RLIMIT_NOFILE, soft and hard (node raises its soft limit to the hard one): set by the shell, which then
    // becomes the server (exec), so the pid is the server's.
    this.proc = fdLimit === undefined
      ? spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, command, ...argv], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    servers.add(this);
    this.proc.stdout!.setEncoding('latin1');
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => {
      if (this.#stderr.length < STDERR_KEPT) this.#stderr += d;
    });
    let listening: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    this.#listening = new Promise<void>((resolve, reject) => {
      listening = resolve;
      failed = reject;
    });
    this.proc.stdout!.on('data', (d: string) => {
      const lines = (this.#partial + d).split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) this.#line(line, listening);
    });
    this.#exit = new Promise<void>((resolve) => {
      this.proc.on('close', () => {
        this.#exited = true;
        servers.delete(this);
        failed(new Error(`the server exited before listening: ${this.diagnostics()}`));
        resolve();
      });
    });
  }

  /**
   * Starts `sockfd-demo server ARGS` (the built CLI) and resolves once it listens. `nodeArgs` go to node before
   * the script; `fdLimit` is the RLIMIT_NOFILE to run it with.
   */
  static start(args: readonly string[], { nodeArgs = [], ...options }: StartOptions = {}): Promise<DemoServer> {
    return DemoServer.spawn(process.execPath, [...nodeArgs, CLI, 'server', ...args], options);
  }

  /** Starts another server that speaks the protocol and prints the tutorial's log; resolves once it listens. */
  static async spawn(command: string, argv: string[], { trackPorts = true, fdLimit }: Omit<StartOptions, 'nodeArgs'> = {}): Promise<DemoServer> {
    const s = new DemoServer(command, argv, trackPorts, fdLimit);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        s.#listening,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the server did not listen within ${WAIT_MS} ms: ${s.diagnostics()}`)), WAIT_MS);
        }),
      ]);
    } catch (e) {
      await s.kill();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return s;
  }

  #line(line: string, listening: () => void): void {
    if (line === '') return; // the close line ends with an empty one
    const n = ++this.#lines;
    this.#tail.push(line);
    if (this.#tail.length > 40) this.#tail.shift();
    let m: RegExpExecArray | null;
    if ((m = CONNECTED.exec(line))) {
      this.connected++;
      if (this.trackPorts) this.connectedPorts.set(Number(m[1]), n);
    } else if ((m = CLOSED.exec(line))) {
      this.closed++;
      if (this.trackPorts) this.closedPorts.set(Number(m[1]), n);
    } else if (FAILED.test(line)) {
      this.failures++;
      if (this.failureSamples.length < 20) this.failureSamples.push(line);
      if (!PEER_GONE.test(line) && this.unexpected.length < 20) this.unexpected.push(line);
    } else if ((m = REFUSING.exec(line))) {
      this.refused.set(Number(m[1]), m[2]);
    } else if (line.startsWith('accept failed: ')) {
      this.acceptFailures++;
      if (this.acceptFailureSamples.length < 20) this.acceptFailureSamples.push(line);
    } else if (line === 'accepting again') {
      this.acceptingAgain++;
    } else if ((m = MEMORY.exec(line))) {
      this.memory.push(JSON.parse(m[1]) as MemoryReport);
    } else if ((m = STOPPED.exec(line)) && this.stoppedBy === undefined) {
      this.stoppedBy = m[1];
    } else if ((m = WAITING.exec(line)) && this.port === 0) {
      this.port = Number(m[1]);
      this.label = m[2] ?? '';
      listening();
    } else if (this.unexpected.length < 20) {
      this.unexpected.push(line);
    }
  }

  get pid(): number {
    return this.proc.pid!;
  }
  get alive(): boolean {
    return !this.#exited && this.proc.exitCode === null && this.proc.signalCode === null;
  }
  get stderr(): string {
    return this.#stderr;
  }

  /** The last lines of its log, its stderr and how it ended: for failure messages. */
  diagnostics(): string {
    const how = this.proc.exitCode !== null ? `exit code ${this.proc.exitCode}` : this.proc.signalCode !== null ? `killed by ${this.proc.signalCode}` : 'running';
    return `server ${this.label || '?'} (pid ${this.proc.pid}, ${how}); logged ${this.connected} connected, ${this.closed} closed, ` +
      `${this.failures} errors, ${this.refused.size} refused, ${this.acceptFailures} accept failures; our clients connected ${this.clientConnections}; ` +
      `last lines: ${JSON.stringify(this.#tail.slice(-8))}; stderr: ${JSON.stringify(this.#stderr.slice(0, 2000))}`;
  }

  /** Waits until `ready()` holds (checked every 10 ms); fails, with the diagnostics, if the server exits first. */
  async until(ready: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    await eventually(() => ready() || this.#exited, what, () => this.diagnostics(), ms);
    if (!ready()) throw new Error(`the server exited before ${what}: ${this.diagnostics()}`);
  }

  /** Waits until the server has logged the close of the client on local port `clientPort` (needs trackPorts). */
  async loggedClose(clientPort: number): Promise<void> {
    await this.until(() => this.closedPorts.has(clientPort), `the close of 127.0.0.1:${clientPort} to be logged`);
  }

  /** Its open fds, waited for until stable across 3 readings 20 ms apart (start-up and closes settle). */
  async stableFdCount(): Promise<number> {
    let last = -1;
    let same = 0;
    await eventually(() => {
      const n = fdCount(this.pid);
      same = n === last ? same + 1 : 0;
      last = n;
      return same >= 3;
    }, 'a stable fd count', () => fdKinds(this.pid));
    return last;
  }

  /** Waits until the server has logged the close of every connection our clients made to it. */
  async allClosesLogged(): Promise<void> {
    await eventually(() => this.closed >= this.clientConnections || !this.alive, 'the server to log every close', () => this.diagnostics());
    expect(this.alive, this.diagnostics()).toBe(true);
    expect(this.closed, `more closes than connections: ${this.diagnostics()}`).toBe(this.clientConnections);
  }

  /** Waits until its fd count is `n` (closes are logged just before the fd is closed, or a thread exits). */
  async fdsBackTo(n: number): Promise<void> {
    await eventually(() => fdCount(this.pid) === n || !this.alive, `the server's fd count to return to ${n}`,
      () => `${fdCount(this.pid)} open: ${fdKinds(this.pid)}; sockets ${tcpSockets(this.pid).slice(0, 20).join(', ')}; ${this.diagnostics()}`);
    expect(this.alive, this.diagnostics()).toBe(true);
  }

  /** Asks the memory probe (test/fixtures/memory-probe.js, preloaded) for a report after a full GC. */
  async probeMemory(): Promise<MemoryReport> {
    const before = this.memory.length;
    this.proc.kill('SIGUSR2');
    await eventually(() => this.memory.length > before || !this.alive, 'the memory report', () => this.diagnostics());
    expect(this.alive, this.diagnostics()).toBe(true);
    return this.memory[before];
  }

  /** Checks that nothing unexpected was logged: no crash output, no stray lines, no accept failure. */
  expectCleanLog(): void {
    expect(this.stderr, 'the server wrote to stderr').toBe('');
    expect(this.unexpected, 'unexpected log lines').toEqual([]);
    expect(this.acceptFailureSamples, 'accept failures').toEqual([]);
  }

  /** Resolves, once it has exited and its pipes are closed (its log all read), with its exit code or signal. */
  async exited(): Promise<number | string> {
    await this.#exit;
    return this.proc.exitCode ?? this.proc.signalCode ?? -1;
  }

  async kill(): Promise<void> {
    if (!this.#exited) this.proc.kill('SIGKILL');
    await this.#exit;
  }
}

/** What a run to the end gave: the exit code (or signal), stdout and stderr. */
export interface Ran {
  code: number | string;
  out: string;
  err: string;
}

/** Runs `command ARGS` to its end, feeding it `stdin`. Killed by reapServers if the file ends first. */
export async function runToEnd(command: string, args: string[], stdin = ''): Promise<Ran> {
  const proc = spawn(command, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  runs.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8');
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => (out += d));
  proc.stderr!.on('data', (d: string) => (err += d));
  proc.on('error', (e) => (err += `spawn failed: ${e.message}`));
  const code = new Promise<number | string>((resolve) => proc.on('close', (c, sig) => {
    runs.delete(proc);
    resolve(c ?? sig ?? -1);
  }));
  proc.stdin!.on('error', () => {}); // EPIPE if it exits first
  proc.stdin!.end(stdin);
  return { code: await code, out, err };
}

/** `sockfd-demo ARGS` (the built CLI) run to its end, fed `stdin`. */
export function runCli(args: string[], stdin = ''): Promise<Ran> {
  return runToEnd(process.execPath, [CLI, ...args], stdin);
}

// ---------------------------------------------------------------------------------------------------------------
// Clients: node:net sockets in the test process (never blocking its thread), every one destroyed after its test.

const clients = new Set<Client>();

/** Destroys every client still open and waits for their closes. For afterEach. */
export async function destroyClients(): Promise<void> {
  await Promise.all([...clients].map((c) => c.destroy()));
}

export class Client {
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #error: NodeJS.ErrnoException | undefined;
  #wake: Array<() => void> = [];
  #localPort = 0;
  readonly closed: Promise<void>;

  private constructor(readonly sock: net.Socket, readonly name: string) {
    sock.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      this.#length += d.length;
      this.#notify();
    });
    sock.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.#error ??= e;
      this.#notify();
    });
    this.closed = new Promise((resolve) =>
      sock.once('close', () => {
        clients.delete(this);
        this.#notify();
        resolve();
      }),
    );
  }

  /** Connects to `server`; resolves once connected (counted in server.clientConnections). */
  static connect(server: DemoServer, name = 'client'): Promise<Client> {
    const sock = net.connect({ host: '127.0.0.1', port: server.port });
    const c = new Client(sock, name);
    clients.add(c);
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`${name}: connect failed: ${e.message}`));
      sock.once('error', onError);
      sock.once('connect', () => {
        sock.off('error', onError);
        c.#localPort = sock.localPort!;
        server.clientConnections++;
        resolve(c);
      });
    });
  }

  /** The client's port, as the server logs it (kept after the socket is closed). */
  get localPort(): number {
    return this.#localPort;
  }
  /** Bytes received and not taken yet. */
  get pending(): number {
    return this.#length;
  }
  get ended(): boolean {
    return this.#ended;
  }
  get error(): NodeJS.ErrnoException | undefined {
    return this.#error;
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }

  /** Resolves once `ready()` holds (checked on every event of the socket); fails after `ms`. */
  until(ready: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#wake.indexOf(check);
        if (i >= 0) this.#wake.splice(i, 1);
        reject(new Error(`${this.name} (port ${this.#localPort}): timed out after ${ms} ms waiting for ${what}; ` +
          `have ${JSON.stringify(this.peek().toString('latin1').slice(0, 200))}, ended ${this.#ended}, error ${this.#error?.code}`));
      }, ms);
      const check = (): void => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else this.#wake.push(check);
      };
      check();
    });
  }

  /** What has arrived, without taking it. */
  peek(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  /** Takes everything that has arrived. */
  take(): Buffer {
    const all = this.peek();
    this.#chunks = [];
    this.#length = 0;
    return all;
  }

  #gone(): boolean {
    return this.#ended || this.#error !== undefined || this.sock.destroyed;
  }

  /** Waits for `Welcome`, exactly. */
  async welcome(): Promise<void> {
    await this.until(() => this.#length >= 7 || this.#gone(), 'Welcome');
    expect(this.take().toString('latin1'), `${this.name}: the greeting`).toBe('Welcome');
  }

  /** For a message sent before the greeting: `Welcome`, then that message's answer (in one read or two). */
  async welcomeThenAnswer(): Promise<number> {
    await this.until(() => this.#length > 7 || this.#gone(), 'Welcome and an answer');
    const text = this.take().toString('latin1');
    expect(text.slice(0, 7), `${this.name}: the greeting`).toBe('Welcome');
    return expectAnswer(text.slice(7), `${this.name} (port ${this.#localPort})`);
  }

  /** Sends one message and checks its answer: an integer 1..100. */
  async ask(msg: string | Buffer): Promise<number> {
    this.sock.write(msg);
    await this.until(() => this.#length > 0 || this.#gone(), 'an answer');
    return expectAnswer(this.take().toString('latin1'), `${this.name} (port ${this.#localPort})`);
  }

  /** Everything until the end of the stream; fails on a reset or an error. */
  async readToEnd(): Promise<Buffer> {
    await this.until(() => this.#gone(), 'end of stream');
    expect(this.#error?.code, `${this.name} (port ${this.#localPort}): a clean end of stream, not an error`).toBeUndefined();
    expect(this.#ended, `${this.name}: end of stream`).toBe(true);
    return this.take();
  }

  /** Waits for the server's clean end of stream (a FIN, no reset) with nothing more sent, then closes. */
  async endOfStream(): Promise<void> {
    expect((await this.readToEnd()).toString('latin1'), `${this.name}: nothing after the last answer`).toBe('');
    this.sock.destroy();
    await this.closed;
  }

  /** Sends `bye` (`exit`, or a variant the server takes as it) and checks the server's clean end of stream. */
  async exit(bye = 'exit'): Promise<void> {
    this.sock.write(bye);
    await this.endOfStream();
  }

  /** Resets the connection: SO_LINGER {on, 0} then close, so the kernel sends RST instead of FIN. */
  async reset(): Promise<void> {
    if (!this.sock.destroyed) this.sock.resetAndDestroy();
    await this.closed;
  }

  async destroy(): Promise<void> {
    this.sock.destroy();
    await this.closed;
  }
}

/** The messages of a conversation, unless told otherwise. */
export const CONVERSATION: readonly string[] = ['hello', 'what is the number?', 'x'];

/** A whole conversation: Welcome, an answer (1..100) to each message, then `bye` and the server's clean close. */
export async function converse(server: DemoServer, name = 'client', messages: ReadonlyArray<string | Buffer> = CONVERSATION, bye = 'exit'): Promise<Client> {
  const c = await Client.connect(server, name);
  await c.welcome();
  for (const m of messages) await c.ask(m);
  await c.exit(bye);
  return c;
}
