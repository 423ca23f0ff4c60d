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
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from './helpers/child';
import {
  CONFIGS, Client, DemoServer, FIXTURES, cleanUpDemo, converse, runCli, runToEnd, runnable, setWaitMs,
} from './helpers/demo';
import { checkFdLeaks } from './helpers/fds';
import { processTree } from './helpers/proc';
import { modelInfo } from '../lib/demo/models';

checkFdLeaks();
cleanUpDemo();

const T = 30000; // test timeout: generous, for a loaded 2-core machine
setWaitMs(15000); // how long a wait may take before it fails with the server's output, within T (diagnostics only)

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
// Helpers of these tests (the server, its clients and a conversation are the demo harness's: helpers/demo.ts).

/**
 * Writes to `peer` as fast as its socket takes data (never reading) until stop() or the socket closes; sent()
 * counts the bytes handed to the socket.
 */
function flood(peer: Client, chunk: Buffer = Buffer.alloc(64 * 1024, 'f')): { stop(): void; sent(): number } {
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

// ---------------------------------------------------------------------------------------------------------------
// Every server model: each of the model registry's (lib/demo/models), and each that takes --workers on 2
// threads (helpers/demo.ts's CONFIGS); a model this machine cannot run is skipped with the registry's reason.

describe.each(runnable(CONFIGS, 'the demo server tests'))('server --io $name', (cfg) => {
  let server: DemoServer;
  let delayed: DemoServer | undefined;
  let traced: DemoServer;

  beforeAll(async () => {
    [server, delayed, traced] = await Promise.all([
      DemoServer.start(cfg.args),
      cfg.concurrent ? DemoServer.start([...cfg.args, '--delay', '200']) : undefined,
      DemoServer.start([...cfg.args, '--trace']),
    ]);
  }, T);
  afterAll(async () => {
    await Promise.all([server, delayed, traced].map((s) => s?.kill()));
  });

  it('prints its model and port when it starts', () => {
    expect(server.label).toBe(cfg.label); // `epoll`, `epoll, 2 workers`
    expect(server.port).toBeGreaterThan(0);
  });

  it(cfg.concurrent ? 'serves several clients at once: Welcome, numbers 1..100, close on exit' : 'serves several clients in turn: Welcome, numbers 1..100, close on exit', async () => {
    const names = ['a', 'b', 'c', 'd'];
    let clients: Client[];
    if (cfg.concurrent) {
      clients = await Promise.all(names.map((n) => converse(server, n, ['hello', 'world', n])));
    } else {
      clients = [];
      for (const n of names) clients.push(await converse(server, n, ['hello', 'world', n]));
    }
    for (const c of clients) {
      await server.loggedClose(c.localPort);
      expect(server.connectedPorts.has(c.localPort), `Connected with 127.0.0.1:${c.localPort}`).toBe(true);
    }
  }, T);

  if (!cfg.concurrent) {
    it('makes a second client wait for its Welcome until the first has left', async () => {
      const first = await Client.connect(server, 'first');
      await first.welcome();
      const second = await Client.connect(server, 'second'); // completed by the kernel, in the backlog
      await first.ask('hello');
      await first.ask('still me');
      // The server has answered the first twice since the second connected, and is still serving the first.
      expect(second.pending).toBe(0);
      await first.exit();
      await second.welcome();
      await second.ask('my turn');
      await second.exit();
      await server.loggedClose(second.localPort);
      // The log: the first's close, then the second's connection.
      const firstClosed = server.closedPorts.get(first.localPort);
      const secondConnected = server.connectedPorts.get(second.localPort);
      expect(firstClosed).toBeDefined();
      expect(secondConnected).toBeGreaterThan(firstClosed!);
    }, T);
  }

  it('closes on `exit` with whitespace around it', async () => {
    const c = await converse(server, 'client', ['hello'], '  exit  \n');
    await server.loggedClose(c.localPort);
    // `exit` inside a longer message is just a message.
    const d = await Client.connect(server);
    await d.welcome();
    await d.ask('exit now');
    await d.ask('exits');
    await d.exit('\texit\r\n');
  }, T);

  it('closes when the client ends its stream without exit, and keeps serving', async () => {
    const c = await Client.connect(server);
    await c.welcome();
    await c.ask('hello');
    c.sock.end(); // FIN: the server reads end of stream
    await c.endOfStream();
    await server.loggedClose(c.localPort);
    await converse(server);
  }, T);

  it('survives a client that resets its connection, and keeps serving new ones', async () => {
    const c = await Client.connect(server);
    await c.welcome();
    await c.ask('hello');
    await c.reset(); // RST, not FIN
    await server.loggedClose(c.localPort);
    // Reset right after connecting, before reading anything.
    const d = await Client.connect(server);
    await d.reset();
    await server.loggedClose(d.localPort);
    const again = await converse(server, 'client', ['after the reset']);
    await server.loggedClose(again.localPort);
  }, T);

  if (cfg.concurrent) {
    it('keeps serving the others while a client floods it and never reads', async () => {
      const flooder = await Client.connect(server, 'flood');
      await flooder.welcome();
      flooder.sock.pause(); // never read again: its answers pile up in the kernel, then in the server
      flooder.sock.setNoDelay(true);
      const msg = 'a message from a client that never reads its answers\n';
      for (let i = 0; i < 20000; i++) flooder.sock.write(msg); // 20000 small writes, about 1 MB
      // Then as much as the socket takes, for as long as the others talk: a server that serves one client
      // until it would block never gets to them.
      const pump = flood(flooder);
      // Full conversations, while the flood is being read and answered, must all finish.
      const others = await Promise.all(['x', 'y', 'z'].map((n) => converse(server, n, ['hello', 'world', 'again'])));
      pump.stop();
      expect(pump.sent()).toBeGreaterThan(0);
      for (const o of others) await server.loggedClose(o.localPort);
      await flooder.reset();
      await server.loggedClose(flooder.localPort);
      await converse(server, 'client', ['after the flood']);
    }, T);

    it('answers after --delay 200 without holding up other clients', async () => {
      const s = delayed!;
      const [a, b] = await Promise.all([Client.connect(s, 'a'), Client.connect(s, 'b')]);
      await Promise.all([a.welcome(), b.welcome()]);
      // Both ask at once; each gets its own answer.
      const answers = await Promise.all([a.ask('hello'), b.ask('hello')]);
      expect(answers).toHaveLength(2);
      // A third client is welcomed and answered while the first two wait for their next answers.
      const pendingA = a.ask('again');
      const pendingB = b.ask('again');
      const c = await converse(s, 'c', ['meanwhile']);
      await Promise.all([pendingA, pendingB]);
      await Promise.all([a.exit('exit\n'), b.exit('exit\n')]);
      for (const p of [a, b, c]) await s.loggedClose(p.localPort);
    }, T);
  }

  it('prints the system calls it makes under --trace, on stderr', async () => {
    const c = await converse(traced, 'client', ['hello']);
    await traced.loggedClose(c.localPort);
    const err = traced.stderr;
    expect(err).toMatch(/socket\(AF_INET, SOCK_STREAM \| SOCK_CLOEXEC\) -> fd \d+/);
    expect(err).toMatch(/fd \d+ {2}setsockopt\(SOL_SOCKET, SO_REUSEADDR, 1\) -> ok/);
    expect(err, 'a result that ends in a colon').not.toMatch(/: $/m);
    expect(err).toMatch(/bind\(\('127\.0\.0\.1', \d+\)\)/);
    expect(err).toMatch(/listen\(5\)/);
    expect(err).toMatch(/accept\(\).* -> fd \d+ from 127\.0\.0\.1:\d+/);
    expect(err).toMatch(/recv\(1024\).* -> 5 bytes/); // "hello"
    expect(err).toMatch(/recv\(1024\).* -> 4 bytes/); // "exit"
    for (const re of cfg.traceShows) expect(err).toMatch(re); // the registry's, on a worker's line with workers
    // stdout keeps the tutorial's lines only: no trace line (no recv( there), nothing else.
    expect(traced.unexpected, 'lines on stdout other than the tutorial\'s').toEqual([]);
  }, T);

  it.skipIf(PYTHON === null)("talks to the tutorial's Python client", async () => {
    const py = await runToEnd(PYTHON!, ['-u', path.join(FIXTURES, 'tutorial_client.py'), String(server.port)]);
    expect(py.code).toBe(0);
    expect(py.err).toBe('');
    const m = py.out.match(/^Welcome\n>>> hello\n(\d+)\n>>> what is the number\?\n(\d+)\n>>> exit\n$/);
    expect(m, py.out).not.toBeNull();
    for (const n of [m![1], m![2]]) {
      expect(Number(n)).toBeGreaterThanOrEqual(1);
      expect(Number(n)).toBeLessThanOrEqual(100);
    }
  }, T);

  it('stops on Ctrl-C (SIGINT), even while a client floods it, closing its clients and freeing the port', async () => {
    const idle = await Client.connect(server, 'idle');
    await idle.welcome();
    await server.until(() => server.connectedPorts.has(idle.localPort), `Connected with 127.0.0.1:${idle.localPort}`);
    let pump: ReturnType<typeof flood> | undefined;
    if (cfg.concurrent) {
      const flooder = await Client.connect(server, 'flood');
      await flooder.welcome();
      flooder.sock.pause();
      pump = flood(flooder);
    }
    server.proc.kill('SIGINT');
    const code = await server.exited();
    pump?.stop();
    if (cfg.info.blocksThread) {
      expect(code).toBe('SIGINT'); // blocked in recv(): the signal's default action
    } else {
      expect(code).toBe(0);
      expect(server.stoppedBy).toBe('SIGINT'); // `Server stopped (SIGINT)`
    }
    await idle.closed;
    expect(await refused(server.port)).toBe('ECONNREFUSED');
    await bindable(server.port);
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// The client.

/** The default model, as documented (README, --help): epoll where the platform has it, else poll. */
const DEFAULT_MODEL = process.platform === 'linux' ? 'epoll' : 'poll';

describe('client', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await DemoServer.start(['--port', '0']); // the default model
  }, T);
  afterAll(async () => {
    await server.kill();
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
    expect(server.label).toBe(DEFAULT_MODEL);
  }, T);

  it('sends exit and exits 0 when its input ends early', async () => {
    const before = server.closed;
    const { code, out, err } = await runCli(['client', '--port', String(server.port)], 'hello\n');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Welcome\n>>> \d{1,3}\n>>> exit\n$/);
    const empty = await runCli(['client', '--port', String(server.port)], '');
    expect(empty.code).toBe(0);
    expect(empty.out).toBe('Welcome\n>>> exit\n');
    // The server saw both leave.
    await server.until(() => server.closed >= before + 2, `${before + 2} closes logged`);
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
  let py: DemoServer;
  beforeAll(async () => {
    py = await DemoServer.spawn(PYTHON!, ['-u', path.join(FIXTURES, 'tutorial_server.py'), '0', '0']);
  }, T);
  afterAll(async () => {
    await py.kill();
  });

  it('serves sockfd-demo client', async () => {
    const { code, out, err } = await runCli(['client', '--port', String(py.port)], 'hello\nworld\nexit\n');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Welcome\n>>> \d{1,3}\n>>> \d{1,3}\n>>> $/);
    await py.until(() => py.closed >= 1, 'the Python server to log the close');
    expect(py.connected).toBe(1);
    expect(py.unexpected).toEqual([]);
    expect(py.stderr).toBe('');
  }, T);

  it('closes on exit with whitespace around it (the fixed comparison)', async () => {
    // The client sends `  exit  ` as typed and goes on; the server closes, and the client says so.
    const { code, out } = await runCli(['client', '--port', String(py.port)], 'hi\n  exit  \n');
    expect(code).toBe(0);
    expect(out).toMatch(/^Welcome\n>>> \d{1,3}\n>>> \(the server closed the connection\)\n$/);
    expect(py.stderr).toBe('');
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// npm start: the defaults.

describe('npm start', () => {
  it('is `node dist/demo/cli.js server`', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node dist/demo/cli.js server');
  });

  it(`serves on 127.0.0.1:9999 with ${DEFAULT_MODEL} by default, and stops on SIGTERM`, async (ctx) => {
    try {
      await bindable(9999);
    } catch (e) {
      console.warn(`demo tests: skipping the defaults test: port 9999 is taken (${(e as Error).message})`);
      ctx.skip();
      return;
    }
    const server = await DemoServer.start([]);
    expect(server.port).toBe(9999);
    expect(server.label).toBe(DEFAULT_MODEL);
    const c = await converse(server, 'client', ['hello']);
    await server.loggedClose(c.localPort);
    server.proc.kill('SIGTERM');
    expect(await server.exited()).toBe(0);
    expect(server.stoppedBy).toBe('SIGTERM'); // `Server stopped (SIGTERM)`
    expect(await refused(9999)).toBe('ECONNREFUSED');
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// --io prefork: processes, not threads. What the generic tests above cannot see: the children themselves.

describe.skipIf(modelInfo('prefork').unavailable() !== null)('server --io prefork: its processes', () => {
  /** Whether process `pid` still exists (a zombie of ours would still be listed: children are reaped by Node). */
  const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`);
  const childrenOf = (pid: number): number[] => processTree(pid).filter((p) => p !== pid);

  it('runs --workers N child processes that serve the clients, and none outlives SIGTERM', async () => {
    const server = await DemoServer.start(['--io', 'prefork', '--workers', '3', '--port', '0']);
    const kids = childrenOf(server.pid);
    expect(server.label).toBe('prefork, 3 processes');
    expect(kids).toHaveLength(3);
    // Each child holds its channel and no listening socket: only the parent accepts.
    for (const c of await Promise.all(['a', 'b', 'c', 'd'].map((n) => converse(server, n, ['hello'])))) await server.loggedClose(c.localPort);
    server.proc.kill('SIGTERM');
    expect(await server.exited()).toBe(0);
    expect(server.stoppedBy).toBe('SIGTERM');
    for (const pid of kids) expect(alive(pid), `child ${pid} after the parent stopped`).toBe(false);
  }, T);

  it('the children stop by themselves when the parent is killed outright (their channel ends)', async () => {
    const server = await DemoServer.start(['--io', 'prefork', '--workers', '2', '--port', '0']);
    const kids = childrenOf(server.pid);
    expect(kids).toHaveLength(2);
    const c = await Client.connect(server, 'left behind');
    await c.welcome();
    server.proc.kill('SIGKILL');
    expect(await server.exited()).toBe('SIGKILL');
    // The child serving the client closes it as it stops.
    await c.closed;
    const deadline = Date.now() + T / 2;
    while (kids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(kids.filter(alive)).toEqual([]);
  }, T);
});
