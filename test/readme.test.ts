/**
 * README.md as a reader uses it: every fenced block is taken out by its fence and run as written against the
 * built package (a scratch directory whose node_modules/sockfd is this checkout), so that an example that
 * breaks fails the suite. What a block is comes from its fence's info string:
 *
 * - ```` ```js ```` and ```` ```python ````: runnable. A server (it calls `listen`) is run with clients (the demo
 *   client, twice, then a probe), then killed while a client is connected and started again at once on the
 *   same port, where the old connection is in TIME_WAIT; a client (it calls `connect`) is run against a server
 *   of the test that greets it; anything else is run to its end. Port 9999 in the text is replaced by a free
 *   port. A program must exit 0 (the ones that end), and write nothing to stderr.
 * - A block whose first line names a file (`// parent.js`) is one file of a multi-file example: the files are
 *   written side by side and the example is run as a whole by a test of its own (fd passing: `parent.js` hands
 *   its listening socket to `worker.js`, which greets a client). A block that binds the Unix path
 *   `/tmp/app.sock` is run on a temporary path with a client of the test that connects and then writes.
 * - ```` ```js skeleton ````: a fragment with parts left out; type-checked, not run.
 * - ```` ```sh ````: commands. Each must exist (an npm script of package.json, `npm install`/`npm ci`, a
 *   `sockfd-demo` option its `--help` lists); a block with a server command (`npm start`) and a client command
 *   (`npm run client`) is run, the client against the server, on a free port.
 * - ```` ```text ```` and the like: not code.
 *
 * Every JavaScript block, runnable or skeleton, is also type-checked (tsc, checkJs) against the package's
 * shipped types. Also here: every export of the package root, and every public member of its classes, is
 * documented in README.md; package-lock.json is what `npm install` writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sockfd from '../lib';
import { root } from './helpers/child';
import { CLI } from './helpers/demo';
import { checkFdLeaks } from './helpers/fds';

checkFdLeaks();

const T = 60000; // test timeout: each server example starts four processes on a loaded 2-core machine
const WAIT = 20000; // the longest a step may wait before it fails with the program's output

const README = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const PKG = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>; bin: Record<string, string>; dependencies: object; devDependencies: object; engines: object;
  name: string; version: string; license: string;
};

/** A fenced block of README.md. */
interface Block {
  /** 1-based line of its opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly flags: readonly string[];
  readonly code: string;
  /** The section it is in, for test titles. */
  readonly heading: string;
}

function blocks(text: string): Block[] {
  const found: Block[] = [];
  const lines = text.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+ (.*)$/.exec(lines[i]);
    if (h) heading = h[1];
    const open = /^(`{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [lang = '', ...flags] = open[2].trim().split(/\s+/).filter((w) => w !== '');
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].startsWith(open[1])) body.push(lines[j++]);
    if (j === lines.length) throw new Error(`README.md:${i + 1}: fence never closed`);
    found.push({ line: i + 1, lang, flags, code: `${body.join('\n')}\n`, heading });
    i = j;
  }
  return found;
}

const ALL = blocks(README);
const JS = new Set(['js', 'javascript', 'mjs', 'cjs']);
const isJs = (b: Block): boolean => JS.has(b.lang);
/** The file a block is, from its first line (`// parent.js`), or null. */
const fileName = (b: Block): string | null => /^\/\/ ([\w-]+\.[cm]?js)\s*$/.exec(b.code.split('\n')[0])?.[1] ?? null;
const UNIX_PATH = '/tmp/app.sock';
const runnable = ALL.filter((b) => (isJs(b) || b.lang === 'python') && !b.flags.includes('skeleton'));
const files = runnable.filter((b) => fileName(b) !== null);
const unixServers = runnable.filter((b) => fileName(b) === null && b.code.includes(`path: '${UNIX_PATH}'`));
const plain = runnable.filter((b) => !files.includes(b) && !unixServers.includes(b));
const shell = ALL.filter((b) => b.lang === 'sh' || b.lang === 'bash');
const title = (b: Block): string => `README.md:${b.line} (${b.heading}, ${b.lang}${b.flags.length ? ` ${b.flags.join(' ')}` : ''})`;

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

// ---------------------------------------------------------------------------------------------------------------
// Processes.

let scratch = '';
const procs = new Set<ChildProcess>();
const groups = new WeakSet<ChildProcess>(); // started as the leader of a process group (npm and its children)

beforeAll(() => {
  // A scratch project with the package installed as users get it: node_modules/sockfd is this checkout (its
  // package.json "exports", dist/ and the built addon).
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-readme-'));
  fs.mkdirSync(path.join(scratch, 'node_modules'));
  fs.symlinkSync(root, path.join(scratch, 'node_modules', 'sockfd'), 'dir');
  fs.writeFileSync(path.join(scratch, 'package.json'), '{ "private": true, "type": "commonjs" }\n');
});

afterAll(async () => {
  await Promise.all([...procs].map((p) => kill(p)));
  if (scratch !== '') fs.rmSync(scratch, { recursive: true, force: true });
});

interface Proc {
  readonly proc: ChildProcess;
  out: string;
  err: string;
  /** Exit code, or the signal's name; null while it runs. */
  end: number | string | null;
  readonly ended: Promise<number | string>;
}

function start(command: string, args: string[], { cwd = scratch, stdin = '', group = false } = {}): Proc {
  const proc = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: group });
  procs.add(proc);
  if (group) groups.add(proc);
  const p: Proc = {
    proc, out: '', err: '', end: null,
    ended: new Promise((resolve) => proc.on('close', (code, sig) => {
      procs.delete(proc);
      p.end = code ?? sig ?? -1;
      resolve(p.end);
    })),
  };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (p.out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (p.err += d));
  proc.on('error', (e) => (p.err += `spawn failed: ${e.message}`));
  proc.stdin!.on('error', () => {});
  proc.stdin!.end(stdin);
  return p;
}

/** Kills a process (its whole group if it leads one: npm's children) and waits for it. */
async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const closed = new Promise((resolve) => proc.once('close', resolve));
  try {
    if (groups.has(proc)) process.kill(-proc.pid!, 'SIGKILL');
    else proc.kill('SIGKILL');
  } catch {
    proc.kill('SIGKILL');
  }
  await closed;
}

async function within<R>(what: string, p: Promise<R>, detail: () => string): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT} ms waiting for ${what}: ${detail()}`)), WAIT);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const show = (p: Proc): string => `exit ${p.end ?? 'running'}; stdout ${JSON.stringify(p.out.slice(-1500))}; stderr ${JSON.stringify(p.err.slice(-1500))}`;

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * Connects to the server, waits for its greeting, and returns the socket (kept open if `hold`). Retries while
 * nothing listens yet; fails if `server` exits meanwhile.
 */
async function greeted(port: number, server: Proc, hold = false): Promise<net.Socket> {
  const deadline = Date.now() + WAIT;
  for (;;) {
    if (server.end !== null) throw new Error(`the server exited: ${show(server)}`);
    const sock = net.connect(port, '127.0.0.1');
    const got = await new Promise<string | Error>((resolve) => {
      sock.once('data', (d) => resolve(d.toString()));
      sock.once('error', (e) => resolve(e));
      sock.once('close', () => resolve(new Error('closed before a greeting')));
    });
    if (typeof got === 'string') {
      if (!hold) sock.destroy();
      return sock;
    }
    sock.destroy();
    if (Date.now() > deadline) throw new Error(`no greeting on port ${port}: ${got.message}; ${show(server)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The demo client against `port`: it must print the greeting and an answer to `hello` (a number, or the echo). */
async function demoClient(port: number, server: Proc, argv: string[] = [process.execPath, CLI, 'client', '--port', String(port)]): Promise<void> {
  const c = start(argv[0], argv.slice(1), { cwd: root, stdin: 'hello\nexit\n' });
  await within('the demo client', c.ended, () => `${show(c)}; server: ${show(server)}`);
  expect(c.end, show(c)).toBe(0);
  const m = /Welcome\n>>> (.*)\n>>> $/.exec(c.out);
  expect(m, `client: ${show(c)}; server: ${show(server)}`).not.toBeNull();
  expect(m![1], 'the answer: a number 1..100, or the echo').toMatch(/^(?:hello|100|[1-9]\d?)$/);
}

/** Sockets on `port` that are neither listening nor established: what a restarted server must bind past. */
function lingering(port: number): string[] {
  const states: Record<string, string> = { '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0B': 'CLOSING' };
  const found: string[] = [];
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    if (parseInt(f[1].split(':')[1], 16) === port && states[f[3]] !== undefined) found.push(states[f[3]]);
  }
  return found;
}

/** Writes a block where a user would put it, port 9999 made `port`, and gives the command that runs it. */
function program(b: Block, port: number | null): string[] {
  let code = b.code;
  if (port !== null) {
    expect(code, `${title(b)}: a server or client example must use port 9999, which the test moves to a free port`).toContain('9999');
    code = code.replaceAll('9999', String(port));
  }
  if (b.lang === 'python') {
    const file = path.join(scratch, `readme-${b.line}.py`);
    fs.writeFileSync(file, code);
    return [PYTHON!, '-u', file];
  }
  const esm = /^(?:import|export) /m.test(code);
  const file = path.join(scratch, `readme-${b.line}.${esm ? 'mjs' : 'cjs'}`);
  fs.writeFileSync(file, code);
  return [process.execPath, file];
}

// ---------------------------------------------------------------------------------------------------------------

describe('README.md: every runnable block runs as written', () => {
  it('has the blocks this test knows how to treat', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(6);
    for (const b of ALL) {
      const known = isJs(b) || b.lang === 'python' || b.lang === 'sh' || b.lang === 'bash' || b.lang === 'text' || b.lang === '';
      expect(known, `${title(b)}: a fence this test does not know; mark it \`text\` if it is not code`).toBe(true);
    }
  });

  it('the fd-passing example: parent.js hands its listening socket to worker.js, which greets a client', async () => {
    const names = files.map(fileName);
    expect(names.sort(), 'the multi-file examples this test knows').toEqual(['parent.js', 'worker.js']);
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(scratch, 'fds-')); // inside the scratch project: require('sockfd') resolves
    for (const b of files) {
      expect(b.code, `${title(b)}: uses port 9999, which the test moves to a free port`).toMatch(/9999|recvFds/);
      fs.writeFileSync(path.join(dir, fileName(b)!), b.code.replaceAll('9999', String(port)));
    }
    const parent = start(process.execPath, ['parent.js'], { cwd: dir });
    // The worker inherits the parent's stdout and stderr: `close` comes once both have exited.
    const sock = await greeted(port, parent, true);
    sock.destroy();
    await within('parent.js and worker.js to end', parent.ended, () => show(parent));
    expect(parent.end, show(parent)).toBe(0);
    expect(parent.err, show(parent)).toBe('');
  }, T);

  for (const b of unixServers) {
    it(`${title(b)}: a Unix server: tells the peer's pid and uid, from SO_PEERCRED and from SCM_CREDENTIALS`, async () => {
      const sockPath = path.join(fs.mkdtempSync(path.join(scratch, 'unix-')), 'app.sock');
      const code = b.code.replaceAll(UNIX_PATH, sockPath);
      const file = path.join(scratch, `readme-${b.line}.cjs`);
      fs.writeFileSync(file, code);
      const p = start(process.execPath, [file]);
      const deadline = Date.now() + WAIT;
      while (!fs.existsSync(sockPath)) {
        if (p.end !== null || Date.now() > deadline) throw new Error(`the server never bound ${sockPath}: ${show(p)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // The path exists from bind(), before listen(): until then a connect is refused, so try again.
      let c: net.Socket;
      for (;;) {
        const s = net.connect(sockPath);
        const ok = await new Promise<boolean>((r) => { s.once('connect', () => r(true)); s.once('error', () => r(false)); });
        if (ok) { c = s; break; }
        s.destroy();
        if (p.end !== null || Date.now() > deadline) throw new Error(`could not connect to ${sockPath}: ${show(p)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      c.on('error', () => {});
      // Written once the server has read SO_PEERCRED and turned SO_PASSCRED on: the kernel then attaches this
      // process's credentials to the message.
      while (!p.out.includes('connected:')) {
        if (p.end !== null || Date.now() > deadline) throw new Error(`no "connected:" line: ${show(p)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 100));
      c.write('hello');
      await within(title(b), p.ended, () => show(p));
      c.destroy();
      expect(p.end, show(p)).toBe(0);
      expect(p.err, show(p)).toBe('');
      expect(p.out).toContain(`connected: pid ${process.pid}, uid ${process.getuid!()}`);
      expect(p.out).toContain(`sent by { pid: ${process.pid}, uid: ${process.getuid!()}, gid: ${process.getgid!()} }`);
    }, T);
  }

  for (const b of plain) {
    const server = /\.listen\(/.test(b.code);
    const client = !server && /\.connect\(|createConnection\(|create_connection\(/.test(b.code);
    const skip = b.lang === 'python' && PYTHON === null;
    if (skip) console.warn(`${title(b)}: python3 is not on PATH: not run`);

    if (server) {
      it.skipIf(skip)(`${title(b)}: a server: serves two demo clients, survives their resets, restarts at once on its port`, async () => {
        const port = await freePort();
        const argv = program(b, port);
        const first = start(argv[0], argv.slice(1));
        (await greeted(port, first)).destroy();
        await demoClient(port, first);
        await demoClient(port, first);
        (await greeted(port, first)).destroy(); // still serving after both clients left
        // Killed while a client is connected, the server's end of that connection closes first: once the client
        // closes too, it is in TIME_WAIT on the server's port.
        const held = await greeted(port, first, true);
        const heldClosed = new Promise((resolve) => held.once('close', resolve));
        held.on('error', () => {});
        await kill(first.proc);
        held.destroySoon(); // if the server's FIN has not closed it already
        await heldClosed;
        const states = lingering(port);
        expect(states.length, 'a connection left on the port, for the restart to bind past').toBeGreaterThan(0);
        const second = start(argv[0], argv.slice(1));
        try {
          (await greeted(port, second)).destroy();
          await demoClient(port, second);
        } catch (err) {
          throw new Error(`restarted with ${states.join(', ')} on its port, it failed: ${(err as Error).message}`);
        }
        await kill(second.proc);
        expect(first.err, 'stderr of the first run').toBe('');
        expect(second.err, 'stderr of the second run').toBe('');
      }, T);
    } else if (client) {
      it.skipIf(skip)(`${title(b)}: a client: talks to a server and ends`, async () => {
        const received: Buffer[] = [];
        // The demo protocol's server: Welcome, then an answer to each message, so that the example runs its
        // conversation to its `exit` (a server that never answered left it waiting out its 10 s timeout).
        const srv = net.createServer((sock) => {
          sock.on('data', (d) => {
            received.push(d);
            if (d.toString().trim() !== 'exit') sock.write('42');
          });
          sock.on('error', () => {});
          sock.write('Welcome');
        });
        await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
        const port = (srv.address() as net.AddressInfo).port;
        try {
          const argv = program(b, port);
          const p = start(argv[0], argv.slice(1));
          await within(title(b), p.ended, () => show(p));
          expect(p.end, show(p)).toBe(0);
          expect(p.err, show(p)).toBe('');
          expect(Buffer.concat(received).length, 'bytes the example sent').toBeGreaterThan(0);
        } finally {
          await new Promise((resolve) => srv.close(resolve));
        }
      }, T);
    } else {
      it.skipIf(skip)(`${title(b)}: runs to its end`, async () => {
        const argv = program(b, null);
        const p = start(argv[0], argv.slice(1));
        await within(title(b), p.ended, () => show(p));
        expect(p.end, show(p)).toBe(0);
        expect(p.err, show(p)).toBe('');
      }, T);
    }
  }

  it('every JavaScript block, runnable or skeleton, type-checks against the shipped types', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'tsc-'));
    const files: string[] = [];
    for (const b of ALL.filter(isJs)) {
      const esm = /^(?:import|export) /m.test(b.code);
      const file = path.join(dir, `readme-${b.line}.${esm ? 'mjs' : 'cjs'}`);
      fs.writeFileSync(file, b.code);
      files.push(file);
    }
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const p = start(process.execPath, [
      tsc, '--noEmit', '--allowJs', '--checkJs', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), ...files,
    ], { cwd: dir });
    await within('tsc', p.ended, () => show(p));
    // One diagnostic: its first line and the indented lines that elaborate it.
    const diagnostics = p.out.split(/\n(?! )/).filter((d) => d.trim() !== '');
    // JavaScript cannot narrow a union (an `Address` is IPv4/IPv6 or Unix; a key's `fileobj` a Socket or an fd),
    // so a member that only some of the union's types have is not an error in a JavaScript example; one that none
    // has (a typo, a removed API) is, as is every other kind of error.
    const union = /^error TS2339: Property '[^']+' does not exist on type '[^']+'\.\n\s+Property '[^']+' does not exist on type/;
    const errors = diagnostics.filter((d) => !union.test(d.replace(/^\S+ /, '')));
    // Name each error by its README line.
    const report = errors.map((d) => d.replace(/^\S*readme-(\d+)\.[cm]js\((\d+),\d+\):/, (_, fence: string, line: string) => `README.md:${Number(fence) + Number(line)}:`));
    expect(report, 'type errors in README blocks').toEqual([]);
    if (errors.length === 0 && diagnostics.length === 0) expect(p.end).toBe(0);
  }, T);
});

describe('README.md: the shell blocks', () => {
  let help = '';
  beforeAll(async () => {
    const p = start(process.execPath, [CLI, '--help'], { cwd: root });
    await within('--help', p.ended, () => show(p));
    help = p.out;
  });

  for (const b of shell) {
    it(`${title(b)}: names only commands that exist`, () => {
      for (const raw of b.code.split('\n')) {
        const line = raw.replace(/\s#.*$/, '').trim();
        if (line === '') continue;
        for (const cmd of line.split('&&').map((c) => c.trim())) {
          const w = cmd.split(/\s+/);
          if (w[0] === 'npm') {
            if (w[1] === 'install' || w[1] === 'ci') continue;
            const script = w[1] === 'run' ? w[2] : w[1];
            expect(PKG.scripts, `${title(b)}: \`${cmd}\``).toHaveProperty([script]);
          } else if (w[0] === 'sockfd-demo' || (w[0] === 'npx' && w[1] === 'sockfd-demo')) {
            expect(PKG.bin).toHaveProperty(['sockfd-demo']);
            for (const opt of cmd.match(/--[a-z-]+/g) ?? []) expect(help, `${title(b)}: ${opt} is not in --help`).toContain(opt);
            const sub = w[w[0] === 'npx' ? 2 : 1];
            if (sub !== undefined && !sub.startsWith('-')) expect(help).toContain(`sockfd-demo ${sub}`);
          } else {
            throw new Error(`${title(b)}: \`${cmd}\`: a command this test does not know; teach it, or mark the block \`text\``);
          }
        }
      }
    });

    const lines = b.code.split('\n').map((l) => l.replace(/\s#.*$/, '').trim());
    const serverCmd = lines.flatMap((l) => l.split('&&').map((c) => c.trim())).find((c) => c === 'npm start');
    const clientCmd = lines.find((l) => l === 'npm run client');
    if (serverCmd !== undefined && clientCmd !== undefined) {
      it(`${title(b)}: \`${serverCmd}\`, then \`${clientCmd}\` talks to it at once (no rebuild)`, async () => {
        const port = await freePort();
        const srv = start('npm', ['start', '--', '--port', String(port)], { cwd: root, group: true });
        try {
          (await greeted(port, srv)).destroy();
          await demoClient(port, srv, ['npm', 'run', 'client', '--', '--port', String(port)]);
        } finally {
          await kill(srv.proc);
        }
      }, T);
    }
  }
});

describe('README.md documents the whole package', () => {
  /** Whether README.md names `name` in code: `name`, `name(...)`, `X#name`, `X.name`, `--name`. */
  const documented = (name: string): boolean => new RegExp(`\`(?:[\\w.]*[#.])?${name.replace(/\$/g, '\\$')}(?:[\`(\\s\\[]|\\b)`).test(README);

  it('every export of the package root', () => {
    // A constant is documented by name, or by its family in the constants row (`SO_*`, `POLL*`...).
    const families = [...README.matchAll(/`([A-Z][A-Z0-9_]*)\*`/g)].map((m) => m[1]);
    const missing = Object.keys(sockfd).filter((name) => !documented(name) &&
      !(name in sockfd.constants && families.some((f) => name.startsWith(f))));
    expect(missing, 'exports README.md never names').toEqual([]);
  });

  it('every public member of the exported classes', () => {
    const missing: string[] = [];
    for (const [name, value] of Object.entries(sockfd)) {
      if (typeof value !== 'function' || !/^class\b/.test(Function.prototype.toString.call(value))) continue;
      const own = (o: object): string[] => Object.getOwnPropertyNames(o).filter((m) => !['constructor', 'length', 'name', 'prototype'].includes(m));
      const members = new Set([...own(value), ...own(value.prototype)]);
      for (const m of members) if (!documented(m)) missing.push(`${name}#${m}`);
    }
    expect(missing, 'public members README.md never names').toEqual([]);
  });

  it('the CLI\'s --help', () => {
    expect(README).toContain('`--help`');
  });
});

describe('package-lock.json', () => {
  it('is what `npm install` writes for package.json: its root entry has the same name, bin, dependencies and engines', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { name: string; version: string; packages: Record<string, Record<string, unknown>> };
    const top = lock.packages[''];
    expect(lock.name).toBe(PKG.name);
    expect(lock.version).toBe(PKG.version);
    expect(top.bin).toEqual(PKG.bin);
    expect(top.dependencies).toEqual(PKG.dependencies);
    expect(top.devDependencies).toEqual(PKG.devDependencies);
    expect(top.engines).toEqual(PKG.engines);
    expect(top.license).toBe(PKG.license);
  });
});
