/**
 * Helpers of test/stress.test.ts: the scale (SOCKFD_STRESS), the demo server in a child process with its log
 * counted line by line (never kept whole: a storm makes hundreds of thousands of lines), node:net clients that
 * keep raw bytes, and the /proc readings the checks use (fds, memory, limits, listen overflows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { expect } from 'vitest';
import { root } from './child';

export const CLI = path.join(root, 'dist', 'demo', 'cli.js');
export const FIXTURES = path.join(root, 'test', 'fixtures');
/** How long one wait may take before it fails (a deadline for a hung server, never a speed requirement). */
export const WAIT_MS = 30000;

// ---------------------------------------------------------------------------------------------------------------
// Scale.

export interface Scale {
  name: 'quick' | 'ci' | 'full';
  /** Rounds of the fault clients per model; each round runs every fault at once. */
  rounds: number;
  /** Copies of each fault client per round. */
  copies: number;
  /** Well-behaved lock-step clients running throughout a storm. */
  lockStep: number;
  /** Bytes a never-reading client pipelines, at most, per round. */
  floodBytes: number;
  /** Concurrent connections on the epoll and poll models. */
  concurrent: number;
  /** Connections against the select model (more than FD_SETSIZE). */
  selectClients: number;
  /** Connect/disconnect cycles of the memory test, per model. */
  cycles: { epoll: number; poll: number };
  /** Concurrent models that get the listen backlog overflow test (SIGSTOP). */
  backlogModels: 'some' | 'all';
}

const SCALES: Record<Scale['name'], Scale> = {
  // npm test: every fault once per model, the issue's 10000 concurrent connections, a tenth of its cycles.
  quick: {
    name: 'quick', rounds: 1, copies: 1, lockStep: 4, floodBytes: 4 << 20, concurrent: 10000, selectClients: 1100,
    cycles: { epoll: 10000, poll: 10000 }, backlogModels: 'some',
  },
  // .ci/run: the issue's numbers where they are cheap (cycles, connections), fewer fault rounds than full.
  ci: {
    name: 'ci', rounds: 3, copies: 2, lockStep: 6, floodBytes: 16 << 20, concurrent: 10000, selectClients: 2000,
    cycles: { epoll: 100000, poll: 100000 }, backlogModels: 'all',
  },
  // npm run test:stress: the issue's numbers, and many more faults at once.
  full: {
    name: 'full', rounds: 10, copies: 4, lockStep: 10, floodBytes: 64 << 20, concurrent: 10000, selectClients: 2000,
    cycles: { epoll: 100000, poll: 100000 }, backlogModels: 'all',
  },
};

/** The scale SOCKFD_STRESS asks for: unset (or empty) is `quick`, npm test's. */
export function stressScale(value: string | undefined): Scale {
  if (value === undefined || value === '' || value === 'quick') return SCALES.quick;
  if (value === 'ci' || value === 'full') return SCALES[value];
  throw new Error(`SOCKFD_STRESS must be unset, quick, ci or full, not ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Waiting.

/** Resolves once `ready()` returns true, checking every 10 ms; fails after `ms` with `what` and `detail()`. */
export async function eventually(ready: () => boolean, what: string, detail: () => string = () => '', ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (ready()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail() ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `tasks` with at most `limit` at a time; rejects with the first failure (after the others settle). */
export async function inBatches<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const i = next++;
      try {
        results[i] = await task(i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// /proc.

/** The number of fds open in process `pid`. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** The fds of `pid` counted by kind: `socket:`, `pipe:`, `anon_inode:[eventpoll]`, `/dev/null`... */
export function fdKindCounts(pid: number): Map<string, number> {
  const kinds = new Map<string, number>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '?';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]$/, '');
    } catch {
      /* closed meanwhile */
    }
    kinds.set(target, (kinds.get(target) ?? 0) + 1);
  }
  return kinds;
}

/** fdKindCounts as text, for diagnostics. */
export function fdKinds(pid: number): string {
  return [...fdKindCounts(pid)].map(([k, n]) => `${n} x ${k}`).join(', ');
}

const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];

/** The TCP sockets among the fds of `pid`: local port, remote port and state of each, for diagnostics. */
export function tcpSockets(pid: number): string[] {
  const byInode = new Map<string, string>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (a: string): number => parseInt(a.split(':')[1], 16);
      byInode.set(f[9], `${port(f[1])}->${port(f[2])} ${TCP_STATES[parseInt(f[3], 16)] ?? f[3]}`);
    }
  }
  const found: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) found.push(`fd ${fd}: ${byInode.get(m[1]) ?? 'not TCP'}`);
  }
  return found;
}

/** VmRSS of `pid`, in KiB. */
/**
 * Whether the servers run under AddressSanitizer (`npm run test:asan` preloads it, and children inherit the
 * environment). ASan keeps freed memory in quarantine (256 MiB by default) and pads every allocation, so resident
 * memory then says nothing about leaks: the RSS bounds are not checked there (fds and the JS heap still are).
 */
export const UNDER_ASAN = /libasan/.test(process.env.LD_PRELOAD ?? '');

/** Checks an RSS bound, except under ASan (saying so). */
export function expectRssBelow(grownKiB: number, limitKiB: number, what: string): void {
  if (UNDER_ASAN) {
    console.warn(`stress tests: ${what}: RSS bound not checked under AddressSanitizer (its quarantine holds freed memory); grew ${grownKiB} KiB`);
    return;
  }
  if (!(grownKiB < limitKiB)) throw new Error(`${what}: RSS grew ${grownKiB} KiB, over the ${limitKiB} KiB bound`);
}

export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** The soft RLIMIT_NOFILE of `pid` (or 'self'). */
export function openFileLimit(pid: number | 'self'): number {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  if (!m) throw new Error(`no "Max open files" in /proc/${pid}/limits`);
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** TcpExt ListenOverflows of this network namespace: SYNs and handshakes dropped because an accept queue was full. */
export function listenOverflows(): number {
  const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  const i = names.indexOf('ListenOverflows');
  if (i < 0) throw new Error('no ListenOverflows in /proc/net/netstat');
  return Number(values[i]);
}

// ---------------------------------------------------------------------------------------------------------------
// Answers.

/**
 * How many answers `text` can be read as. The answers (integers 1..100 as text) arrive back to back without a
 * delimiter, so one stream has several readings: no answer starts with 0 and none is over 100, so "110" reads
 * only as 1,10, but "123" as 1,23 or 12,3 or 1,2,3. Returns the least and the most answers of any reading, or
 * null when the text cannot be answers at all (a byte that is not a digit, a 0 that nothing before can end in).
 */
export function answerCount(text: string): { min: number; max: number } | null {
  const n = text.length;
  // min[i], max[i]: answers in a reading of text[0, i); -1 where no reading exists.
  const min = new Int32Array(n + 1).fill(-1);
  const max = new Int32Array(n + 1).fill(-1);
  min[0] = 0;
  max[0] = 0;
  for (let i = 0; i < n; i++) {
    if (min[i] < 0 || text[i] < '1' || text[i] > '9') continue;
    for (let len = 1; len <= 3 && i + len <= n; len++) {
      const token = text.slice(i, i + len);
      if (!/^\d+$/.test(token) || Number(token) > 100) break;
      const j = i + len;
      if (min[j] < 0 || min[i] + 1 < min[j]) min[j] = min[i] + 1;
      if (max[i] + 1 > max[j]) max[j] = max[i] + 1;
    }
  }
  return min[n] < 0 ? null : { min: min[n], max: max[n] };
}

/** Checks that `text` is one answer, an integer from 1 to 100, and returns it. */
export function expectAnswer(text: string, who: string): number {
  expect(text, `${who}: an answer is an integer 1..100`).toMatch(/^(?:100|[1-9]\d?)$/);
  return Number(text);
}

// ---------------------------------------------------------------------------------------------------------------
// The demo server.

const servers = new Set<DemoServer>();

/** Kills (SIGKILL) and reaps every server still running. For afterAll. */
export async function reapServers(): Promise<void> {
  await Promise.all([...servers].map((s) => s.kill()));
}

const WAITING = /^Waiting for connection on 127\.0\.0\.1:(\d+) \(([^)]*)\)\.\.\.$/;
const CONNECTED = /^Connected with 127\.0\.0\.1:(\d+)$/;
const CLOSED = /^Connection from 127\.0\.0\.1:(\d+) closed$/;
const FAILED = /^Connection from 127\.0\.0\.1:(\d+): (.*)$/;
const REFUSING = /^refusing 127\.0\.0\.1:(\d+): (.*)$/;
const MEMORY = /^memory (\{.*\})$/;
/** What a failed connection may log (the blocking-call models log it): only a peer gone, a reset or broken pipe. */
const PEER_GONE = /: (?:\w+ )?(?:ECONNRESET|EPIPE|ENOTCONN|ETIMEDOUT)\b/;

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/**
 * `node dist/demo/cli.js server ARGS` in a child process. Its stdout is read line by line into counters
 * (connections logged, closes logged, errors, refusals) and a short tail; nothing grows with the number of
 * connections unless `trackPorts` is set.
 */
export class DemoServer {
  readonly proc: ChildProcess;
  port = 0;
  label = '';
  /** Connections the server logged as made (`Connected with ...`), and as closed. */
  connected = 0;
  closed = 0;
  /** Connections our clients completed (connect succeeded): the server must log the close of each. */
  clientConnections = 0;
  /** Client ports logged as connected (only with trackPorts). */
  readonly connectedPorts = new Set<number>();
  /** `Connection from ...: error` lines (the blocking, threads and async models log a peer's reset): count, samples. */
  failures = 0;
  readonly failureSamples: string[] = [];
  /** `refusing IP:PORT: why` (select: an fd >= FD_SETSIZE; threads: a thread that cannot start), by port. */
  readonly refused = new Map<number, string>();
  /** `accept failed: ...` lines (out of fds: the first of each run), count and samples; `accepting again` lines. */
  acceptFailures = 0;
  readonly acceptFailureSamples: string[] = [];
  acceptingAgain = 0;
  /** Lines none of the above (and failures other than a peer gone), besides the start line: there should be none. */
  readonly unexpected: string[] = [];
  memory: MemoryReport[] = [];
  #tail: string[] = [];
  #partial = '';
  #stderr = '';
  #exit: Promise<void>;
  #exited = false;
  #listening: Promise<void>;

  private constructor(args: string[], nodeArgs: string[], readonly trackPorts: boolean, fdLimit: number | undefined) {
    const argv = [...nodeArgs, CLI, 'server', ...args];
    // RLIMIT_NOFILE, soft and hard (node raises its soft limit to the hard one): set by the shell, which then
    // becomes node (exec), so the pid is the server's.
    this.proc = fdLimit === undefined
      ? spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, ...argv], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    servers.add(this);
    this.proc.stdout!.setEncoding('latin1');
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => {
      if (this.#stderr.length < 20000) this.#stderr += d;
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
   * Starts a server and resolves once it listens. `nodeArgs` go to node before the script; `fdLimit` is the
   * RLIMIT_NOFILE to run it with.
   */
  static async start(args: string[], { nodeArgs = [] as string[], trackPorts = true, fdLimit = undefined as number | undefined } = {}): Promise<DemoServer> {
    const s = new DemoServer(args, nodeArgs, trackPorts, fdLimit);
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
    this.#tail.push(line);
    if (this.#tail.length > 40) this.#tail.shift();
    let m: RegExpExecArray | null;
    if ((m = CONNECTED.exec(line))) {
      this.connected++;
      if (this.trackPorts) this.connectedPorts.add(Number(m[1]));
    } else if (CLOSED.test(line)) {
      this.closed++;
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
    } else if ((m = WAITING.exec(line)) && this.port === 0) {
      this.port = Number(m[1]);
      this.label = m[2];
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

  async kill(): Promise<void> {
    if (!this.#exited) this.proc.kill('SIGKILL');
    await this.#exit;
  }
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

  /** Sends `exit` and checks the server's clean end of stream, with nothing after the last answer. */
  async exit(): Promise<void> {
    this.sock.write('exit');
    expect((await this.readToEnd()).toString('latin1'), `${this.name}: nothing after exit`).toBe('');
    this.sock.destroy();
    await this.closed;
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
