/**
 * The demo (`sockfd-demo`, lib/demo): the tutorial's server in every I/O model and its client, run as child
 * processes of the built CLI (dist/demo/cli.js), with node:net sockets as clients in the test, so that the test
 * thread never blocks. Also the tutorial's own Python client and (bug-fixed) server against ours, when python3
 * is on PATH, and `npm start`'s defaults when port 9999 is free.
 *
 * Protocol: `Welcome` on connect; each message read is answered with a random integer 1..100 as text; `exit`
 * (whitespace around it ignored) or end of stream closes the connection. No upper bound on any time is
 * asserted: the only limits are the test timeouts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { root, wrap, type Child } from './helpers/child';
import { checkFdLeaks } from './helpers/fds';

checkFdLeaks();

const CLI = path.join(root, 'dist', 'demo', 'cli.js');
const FIXTURES = path.join(root, 'test', 'fixtures');
const WAIT_MS = 15000; // how long a wait may take before it fails with the server's output (diagnostics only)
const T = 30000; // test timeout: generous, for a loaded 2-core machine

/** python3 on PATH, looked up without running anything. */
const PYTHON: string | null = (() => {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir || '.', 'python3');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
})();
const NO_PYTHON = 'python3 is not on PATH: skipping the Python interop tests';
if (PYTHON === null) console.warn(`demo tests: ${NO_PYTHON}`);

// ---------------------------------------------------------------------------------------------------------------
// Child processes: every one is killed (if still running) and reaped, its pipes closed, before the file ends.

interface Proc extends Child {
  stderr(): string;
  /** Resolves once the process has exited and its stdio pipes are closed. */
  closed: Promise<void>;
}

const procs: Proc[] = [];

function start(command: string, args: string[]): Proc {
  const proc: ChildProcess = spawn(command, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const child = wrap(proc);
  let err = '';
  proc.stderr!.on('data', (d: string) => (err += d));
  const closed = new Promise<void>((resolve) => proc.on('close', () => resolve()));
  const p: Proc = { ...child, stderr: () => err, closed };
  procs.push(p);
  return p;
}

async function reap(p: Proc): Promise<void> {
  p.kill('SIGKILL');
  await p.closed;
}

/** Runs `sockfd-demo ARGS` to the end, feeding it `stdin`: its exit code (or signal), stdout and stderr. */
async function runCli(args: string[], stdin = ''): Promise<{ code: number | string; out: string; err: string }> {
  const p = start(process.execPath, [CLI, ...args]);
  p.proc.stdin!.on('error', () => {}); // EPIPE if it exits first
  p.proc.stdin!.end(stdin);
  const code = await p.exited();
  await p.closed;
  return { code, out: p.output(), err: p.stderr() };
}

interface Server extends Proc {
  port: number;
  /** The model as the server names it: `epoll`, `poll, 2 workers`... */
  label: string;
  /** Resolves once the server has logged the close of the client on local port `clientPort`. */
  loggedClose(clientPort: number): Promise<void>;
}

const WAITING = /Waiting for connection on 127\.0\.0\.1:(\d+) \(([^)]*)\)\.\.\./;

async function startServer(args: string[]): Promise<Server> {
  const p = start(process.execPath, [CLI, 'server', ...args]);
  let m: RegExpMatchArray;
  try {
    m = await p.waitFor(WAITING, WAIT_MS);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nstderr: ${p.stderr()}`);
  }
  return {
    ...p,
    port: Number(m[1]),
    label: m[2],
    async loggedClose(clientPort) {
      await p.waitFor(new RegExp(`Connection from 127\\.0\\.0\\.1:${clientPort} closed`), WAIT_MS);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Clients: node:net sockets, each closed after its test.

const peers: Peer[] = [];

class Peer {
  #data = '';
  #ended = false;
  #error: Error | undefined;
  #wake: Array<() => void> = [];
  #localPort = 0;
  readonly closed: Promise<void>;

  private constructor(readonly sock: net.Socket, readonly name: string) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#data += d;
      this.#notify();
    });
    sock.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    sock.on('error', (e) => {
      this.#error = e;
      this.#notify();
    });
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()));
  }

  static connect(port: number, name = 'client'): Promise<Peer> {
    const sock = net.connect({ host: '127.0.0.1', port });
    const peer = new Peer(sock, name);
    peers.push(peer);
    return new Promise((resolve, reject) => {
      sock.once('connect', () => {
        peer.#localPort = sock.localPort!;
        resolve(peer);
      });
      sock.once('error', reject);
    });
  }

  /** The client's port, as the server logs it (kept after the socket is closed). */
  get localPort(): number {
    return this.#localPort;
  }
  /** What has arrived and not been taken yet. */
  get pending(): string {
    return this.#data;
  }
  get ended(): boolean {
    return this.#ended;
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }

  /** Waits until `ready()` holds, re-checked on every event of the socket. */
  #until(ready: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name} (port ${this.localPort}): timed out waiting for ${what}; got ${JSON.stringify(this.#data)}`)),
        WAIT_MS,
      );
      const check = (): void => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else this.#wake.push(check);
      };
      check();
    });
  }

  /** The next bytes the server sends (fails at end of stream or on error). */
  async read(): Promise<string> {
    await this.#until(() => this.#data.length > 0 || this.#ended || this.#error !== undefined, 'data');
    if (this.#data.length === 0) throw new Error(`${this.name}: ${this.#error?.message ?? 'end of stream'} instead of data`);
    const d = this.#data;
    this.#data = '';
    return d;
  }

  async welcome(): Promise<void> {
    await this.#until(() => this.#data.length >= 7 || this.#ended || this.#error !== undefined, 'Welcome');
    expect(this.#data).toBe('Welcome');
    this.#data = '';
  }

  /** Sends one message and returns the number it is answered with, checked to be an integer 1..100. */
  async ask(msg: string): Promise<number> {
    this.sock.write(msg);
    const answer = await this.read();
    expect(answer).toMatch(/^\d{1,3}$/);
    const n = Number(answer);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(100);
    return n;
  }

  /** Waits for a clean end of stream (a FIN from the server: no reset, nothing more sent). */
  async endOfStream(): Promise<void> {
    await this.#until(() => this.#ended || this.#error !== undefined, 'end of stream');
    expect(this.#error).toBeUndefined();
    expect(this.#data).toBe('');
    await this.closed;
  }

  async destroy(): Promise<void> {
    this.sock.destroy();
    await this.closed;
  }
}

/** A whole conversation: Welcome, an answer to each message, then `exit` and the server's close. */
async function converse(port: number, messages = ['hello', 'world'], bye = 'exit', name = 'client'): Promise<Peer> {
  const c = await Peer.connect(port, name);
  await c.welcome();
  for (const m of messages) await c.ask(m);
  c.sock.write(bye);
  await c.endOfStream();
  return c;
}

/**
 * Writes to `peer` as fast as its socket takes data (never reading) until stop() or the socket closes; sent()
 * counts the bytes handed to the socket.
 */
function flood(peer: Peer, chunk: Buffer = Buffer.alloc(64 * 1024, 'f')): { stop(): void; sent(): number } {
  let stopped = false;
  let sent = 0;
  const sock = peer.sock;
  const pump = (): void => {
    while (!stopped && !sock.destroyed) {
      sent += chunk.length;
      if (!sock.write(chunk)) {
        sock.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return {
    stop: () => {
      stopped = true;
    },
    sent: () => sent,
  };
}

/** Whether connecting to `port` is refused: nothing listens there any more. */
function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.on('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Binds `port` on 127.0.0.1 and closes it again; rejects with the error if it cannot. */
function bindable(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

/** A port nothing listens on (the kernel refuses connections to it). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.destroy()));
});
afterAll(async () => {
  await Promise.all(procs.splice(0).map(reap));
});

// ---------------------------------------------------------------------------------------------------------------
// Every server model.

interface Config {
  name: string;
  args: string[];
  /** Serves clients at once (everything but blocking). */
  concurrent: boolean;
  /** What else its --trace must show, besides bind, listen, accept() and recv( (nothing timing-dependent). */
  traceWait: RegExp[];
}

const io = (model: string, extra: string[] = []): string[] => ['--io', model, ...extra, '--port', '0'];
const CONFIGS: Config[] = [
  { name: 'blocking', args: io('blocking'), concurrent: false, traceWait: [] },
  { name: 'threads', args: io('threads'), concurrent: true, traceWait: [/\[thread \d+\] fd \d+ {2}recv\(/] },
  { name: 'nonblocking', args: io('nonblocking'), concurrent: true, traceWait: [/accept\(\) -> null \(would block\)/] },
  { name: 'select', args: io('select'), concurrent: true, traceWait: [/ select\(\d+ fds passed in/] },
  { name: 'poll', args: io('poll'), concurrent: true, traceWait: [/ poll\(\d+ fds passed in/] },
  { name: 'epoll', args: io('epoll'), concurrent: true, traceWait: [/epoll_wait\(/, /epoll_ctl\(ADD/] },
  { name: 'async', args: io('async'), concurrent: true, traceWait: [] },
  { name: 'sigio', args: io('sigio'), concurrent: true, traceWait: [/accept\(\) -> null \(would block\)/] },
  {
    name: 'epoll --workers 2',
    args: io('epoll', ['--workers', '2']),
    concurrent: true,
    traceWait: [/\[thread \d+\] epoll {2}epoll_wait\(/, /epoll_ctl\(ADD/],
  },
  {
    name: 'poll --workers 2',
    args: io('poll', ['--workers', '2']),
    concurrent: true,
    traceWait: [/\[thread \d+\] poll {2}poll\(\d+ fds passed in/],
  },
];

describe.each(CONFIGS)('server --io $name', (cfg) => {
  let server: Server;
  let delayed: Server | undefined;
  let traced: Server;

  beforeAll(async () => {
    [server, delayed, traced] = await Promise.all([
      startServer(cfg.args),
      cfg.concurrent ? startServer([...cfg.args, '--delay', '200']) : undefined,
      startServer([...cfg.args, '--trace']),
    ]);
  }, T);
  afterAll(async () => {
    await Promise.all([server, delayed, traced].filter((s): s is Server => s !== undefined).map(reap));
  });

  it('prints its model and port when it starts', () => {
    const model = cfg.args[1];
    const workers = cfg.args.includes('--workers') ? ', 2 workers' : '';
    expect(server.label).toBe(`${model}${workers}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it(cfg.concurrent ? 'serves several clients at once: Welcome, numbers 1..100, close on exit' : 'serves several clients in turn: Welcome, numbers 1..100, close on exit', async () => {
    const names = ['a', 'b', 'c', 'd'];
    let clients: Peer[];
    if (cfg.concurrent) {
      clients = await Promise.all(names.map((n) => converse(server.port, ['hello', 'world', n], 'exit', n)));
    } else {
      clients = [];
      for (const n of names) clients.push(await converse(server.port, ['hello', 'world', n], 'exit', n));
    }
    for (const c of clients) {
      await server.loggedClose(c.localPort);
      expect(server.output()).toContain(`Connected with 127.0.0.1:${c.localPort}`);
    }
  }, T);

  if (!cfg.concurrent) {
    it('makes a second client wait for its Welcome until the first has left', async () => {
      const first = await Peer.connect(server.port, 'first');
      await first.welcome();
      const second = await Peer.connect(server.port, 'second'); // completed by the kernel, in the backlog
      await first.ask('hello');
      await first.ask('still me');
      // The server has answered the first twice since the second connected, and is still serving the first.
      expect(second.pending).toBe('');
      first.sock.write('exit');
      await first.endOfStream();
      await second.welcome();
      await second.ask('my turn');
      second.sock.write('exit');
      await second.endOfStream();
      await server.loggedClose(second.localPort);
      const out = server.output();
      const firstClosed = out.indexOf(`Connection from 127.0.0.1:${first.localPort} closed`);
      const secondConnected = out.indexOf(`Connected with 127.0.0.1:${second.localPort}`);
      expect(firstClosed).toBeGreaterThanOrEqual(0);
      expect(secondConnected).toBeGreaterThan(firstClosed);
    }, T);
  }

  it('closes on `exit` with whitespace around it', async () => {
    const c = await converse(server.port, ['hello'], '  exit  \n');
    await server.loggedClose(c.localPort);
    // `exit` inside a longer message is just a message.
    const d = await Peer.connect(server.port);
    await d.welcome();
    await d.ask('exit now');
    await d.ask('exits');
    d.sock.write('\texit\r\n');
    await d.endOfStream();
  }, T);

  it('closes when the client ends its stream without exit, and keeps serving', async () => {
    const c = await Peer.connect(server.port);
    await c.welcome();
    await c.ask('hello');
    c.sock.end(); // FIN: the server reads end of stream
    await c.endOfStream();
    await server.loggedClose(c.localPort);
    await converse(server.port);
  }, T);

  it('survives a client that resets its connection, and keeps serving new ones', async () => {
    const c = await Peer.connect(server.port);
    await c.welcome();
    await c.ask('hello');
    const port = c.localPort;
    c.sock.resetAndDestroy(); // RST, not FIN
    await c.closed;
    await server.loggedClose(port);
    // Reset right after connecting, before reading anything.
    const d = await Peer.connect(server.port);
    const dPort = d.localPort;
    d.sock.resetAndDestroy();
    await d.closed;
    await server.loggedClose(dPort);
    const again = await converse(server.port, ['after the reset']);
    await server.loggedClose(again.localPort);
  }, T);

  if (cfg.concurrent) {
    it('keeps serving the others while a client floods it and never reads', async () => {
      const flooder = await Peer.connect(server.port, 'flood');
      await flooder.welcome();
      flooder.sock.pause(); // never read again: its answers pile up in the kernel, then in the server
      flooder.sock.setNoDelay(true);
      const msg = 'a message from a client that never reads its answers\n';
      for (let i = 0; i < 20000; i++) flooder.sock.write(msg); // 20000 small writes, about 1 MB
      // Then as much as the socket takes, for as long as the others talk: a server that serves one client
      // until it would block never gets to them.
      const pump = flood(flooder);
      // Full conversations, while the flood is being read and answered, must all finish.
      const others = await Promise.all(['x', 'y', 'z'].map((n) => converse(server.port, ['hello', 'world', 'again'], 'exit', n)));
      pump.stop();
      expect(pump.sent()).toBeGreaterThan(0);
      for (const o of others) await server.loggedClose(o.localPort);
      flooder.sock.resetAndDestroy();
      await flooder.closed;
      await server.loggedClose(flooder.localPort);
      await converse(server.port, ['after the flood']);
    }, T);

    it('answers after --delay 200 without holding up other clients', async () => {
      const s = delayed!;
      const [a, b] = await Promise.all([Peer.connect(s.port, 'a'), Peer.connect(s.port, 'b')]);
      await Promise.all([a.welcome(), b.welcome()]);
      // Both ask at once; each gets its own answer.
      const answers = await Promise.all([a.ask('hello'), b.ask('hello')]);
      expect(answers).toHaveLength(2);
      // A third client is welcomed and answered while the first two wait for their next answers.
      const pendingA = a.ask('again');
      const pendingB = b.ask('again');
      const c = await converse(s.port, ['meanwhile'], 'exit', 'c');
      await Promise.all([pendingA, pendingB]);
      a.sock.write('exit\n');
      b.sock.write('exit\n');
      await Promise.all([a.endOfStream(), b.endOfStream()]);
      for (const p of [a, b, c]) await s.loggedClose(p.localPort);
    }, T);
  }

  it('prints the system calls it makes under --trace, on stderr', async () => {
    const c = await converse(traced.port, ['hello']);
    await traced.loggedClose(c.localPort);
    const err = traced.stderr();
    expect(err).toMatch(/bind\(\('127\.0\.0\.1', \d+\)\)/);
    expect(err).toMatch(/listen\(5\)/);
    expect(err).toMatch(/accept\(\).* -> fd \d+ from 127\.0\.0\.1:\d+/);
    expect(err).toMatch(/recv\(1024\).* -> 5 bytes/); // "hello"
    expect(err).toMatch(/recv\(1024\).* -> 4 bytes/); // "exit"
    for (const re of cfg.traceWait) expect(err).toMatch(re);
    expect(traced.output()).not.toMatch(/recv\(/); // stdout keeps the tutorial's lines only
  }, T);

  it.skipIf(PYTHON === null)("talks to the tutorial's Python client", async () => {
    const py = start(PYTHON!, ['-u', path.join(FIXTURES, 'tutorial_client.py'), String(server.port)]);
    expect(await py.exited()).toBe(0);
    await py.closed;
    expect(py.stderr()).toBe('');
    const m = py.output().match(/^Welcome\n>>> hello\n(\d+)\n>>> what is the number\?\n(\d+)\n>>> exit\n$/);
    expect(m, py.output()).not.toBeNull();
    for (const n of [m![1], m![2]]) {
      expect(Number(n)).toBeGreaterThanOrEqual(1);
      expect(Number(n)).toBeLessThanOrEqual(100);
    }
  }, T);

  it('stops on Ctrl-C (SIGINT), even while a client floods it, closing its clients and freeing the port', async () => {
    const idle = await Peer.connect(server.port, 'idle');
    await idle.welcome();
    await server.waitFor(new RegExp(`Connected with 127\\.0\\.0\\.1:${idle.localPort}`), WAIT_MS);
    let pump: ReturnType<typeof flood> | undefined;
    if (cfg.concurrent) {
      const flooder = await Peer.connect(server.port, 'flood');
      await flooder.welcome();
      flooder.sock.pause();
      pump = flood(flooder);
    }
    server.proc.kill('SIGINT');
    const code = await server.exited();
    pump?.stop();
    if (cfg.concurrent) {
      expect(code).toBe(0);
      expect(server.output()).toContain('Server stopped (SIGINT)');
    } else {
      expect(code).toBe('SIGINT'); // blocked in recv(): the signal's default action
    }
    await idle.closed;
    expect(await refused(server.port)).toBe('ECONNREFUSED');
    await bindable(server.port);
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// The client.

describe('client', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer(['--port', '0']); // the default model
  }, T);
  afterAll(async () => {
    await reap(server);
  });

  it('prints Welcome, prompts >>> and prints the answers to piped lines, then exits 0 after exit', async () => {
    const { code, out, err } = await runCli(['client', '--host', '127.0.0.1', '--port', String(server.port)], 'hello\nworld\nexit\n');
    expect(err).toBe('');
    expect(code).toBe(0);
    const m = out.match(/^Welcome\n>>> (\d+)\n>>> (\d+)\n>>> $/);
    expect(m, out).not.toBeNull();
    for (const n of [m![1], m![2]]) {
      expect(Number(n)).toBeGreaterThanOrEqual(1);
      expect(Number(n)).toBeLessThanOrEqual(100);
    }
    expect(server.label).toBe(process.platform === 'linux' ? 'epoll' : 'poll');
  }, T);

  it('sends exit and exits 0 when its input ends early', async () => {
    const before = (server.output().match(/ closed\n/g) ?? []).length;
    const { code, out, err } = await runCli(['client', '--port', String(server.port)], 'hello\n');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Welcome\n>>> \d{1,3}\n>>> exit\n$/);
    const empty = await runCli(['client', '--port', String(server.port)], '');
    expect(empty.code).toBe(0);
    expect(empty.out).toBe('Welcome\n>>> exit\n');
    // The server saw both leave.
    await server.waitFor(new RegExp(`(?:[^]*? closed\\n){${before + 2}}`), WAIT_MS);
  }, T);

  it('exits 1 with a clear message when nothing listens', async () => {
    const port = await freePort();
    const { code, out, err } = await runCli(['client', '--port', String(port)], 'hello\n');
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain(`127.0.0.1:${port}`);
    expect(err).toContain('ECONNREFUSED');
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// The tutorial's own Python server, serving our client.

describe.skipIf(PYTHON === null)("the tutorial's Python server", () => {
  let py: Proc;
  let port: number;
  beforeAll(async () => {
    py = start(PYTHON!, ['-u', path.join(FIXTURES, 'tutorial_server.py'), '0', '0']);
    const m = await py.waitFor(/Waiting for connection on 127\.0\.0\.1:(\d+)\.\.\./, WAIT_MS);
    port = Number(m[1]);
  }, T);
  afterAll(async () => {
    await reap(py);
  });

  it('serves sockfd-demo client', async () => {
    const { code, out, err } = await runCli(['client', '--port', String(port)], 'hello\nworld\nexit\n');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Welcome\n>>> \d{1,3}\n>>> \d{1,3}\n>>> $/);
    await py.waitFor(/Connected with 127\.0\.0\.1:\d+\n[^]*Connection from 127\.0\.0\.1:\d+ closed/, WAIT_MS);
    expect(py.stderr()).toBe('');
  }, T);

  it('closes on exit with whitespace around it (the fixed comparison)', async () => {
    // The client sends `  exit  ` as typed and goes on; the server closes, and the client says so.
    const { code, out } = await runCli(['client', '--port', String(port)], 'hi\n  exit  \n');
    expect(code).toBe(0);
    expect(out).toMatch(/^Welcome\n>>> \d{1,3}\n>>> \(the server closed the connection\)\n$/);
    expect(py.stderr()).toBe('');
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// npm start: the defaults.

describe('npm start', () => {
  it('is `node dist/demo/cli.js server`', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node dist/demo/cli.js server');
  });

  it('serves on 127.0.0.1:9999 with epoll by default, and stops on SIGTERM', async (ctx) => {
    try {
      await bindable(9999);
    } catch (e) {
      console.warn(`demo tests: skipping the defaults test: port 9999 is taken (${(e as Error).message})`);
      ctx.skip();
      return;
    }
    const p = start(process.execPath, [CLI, 'server']);
    await p.waitFor(/Waiting for connection on 127\.0\.0\.1:9999 \(epoll\)\.\.\./, WAIT_MS);
    const c = await converse(9999, ['hello']);
    await p.waitFor(new RegExp(`Connection from 127\\.0\\.0\\.1:${c.localPort} closed`), WAIT_MS);
    p.proc.kill('SIGTERM');
    expect(await p.exited()).toBe(0);
    expect(p.output()).toContain('Server stopped (SIGTERM)');
    await p.closed;
    expect(await refused(9999)).toBe('ECONNREFUSED');
  }, T);
});
