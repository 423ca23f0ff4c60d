/**
 * What a user meets before and around the addon: the loader's advice when no binary fits (a copy of the package
 * with no build and no prebuild), `sockfd-demo --help` and `--version` with and without the addon, the client's
 * `--timeout` and its refusal of server options, and the ES module face written by scripts/gen-esm.js.
 * scripts/consumer-test.sh tests the packed tarball itself, installed as a consumer installs it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { root } from './helpers/child';
import { CLI, cleanUpDemo, runCli, runToEnd } from './helpers/demo';
import { checkFdLeaks } from './helpers/fds';
import { closedPort } from './helpers/net';
import { track, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();
cleanUpDemo();

const T = 30000; // generous, for a loaded 2-core machine
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

/**
 * The package as installed where no binary fits: dist/ and package.json, node-gyp-build beside it, no build/,
 * and a prebuilds/ folder holding only a binary for another system.
 */
const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-bare-'));
const bareRoot = path.join(bare, 'node_modules', 'sockfd');
fs.mkdirSync(path.join(bareRoot, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true });
fs.cpSync(path.join(root, 'dist'), path.join(bareRoot, 'dist'), { recursive: true });
fs.copyFileSync(path.join(root, 'package.json'), path.join(bareRoot, 'package.json'));
fs.writeFileSync(path.join(bareRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'sockfd.othertag.abi1.node'), '');
fs.symlinkSync(path.join(root, 'node_modules', 'node-gyp-build'), path.join(bare, 'node_modules', 'node-gyp-build'));
afterAll(() => fs.rmSync(bare, { recursive: true, force: true }));

const bareCli = path.join(bareRoot, 'dist', 'demo', 'cli.js');

/** `node ARGS` with the bare package, without SOCKFD_BINDING (npm run test:native-cmake sets it), plus `env`. */
function runBare(args: string[], env: string[] = []): ReturnType<typeof runToEnd> {
  return runToEnd('/usr/bin/env', ['-u', 'SOCKFD_BINDING', ...env, process.execPath, ...args]);
}

describe('without the addon', () => {
  it('require("sockfd") says ERR_SOCKFD_NOT_BUILT, where it looked (prebuilds/ too), and `npm rebuild sockfd`', async () => {
    const code = `try { require('sockfd'); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const ran = await runBare(['-e', code.replace("'sockfd'", JSON.stringify(bareRoot))]);
    expect(ran.code).toBe(0);
    const r = JSON.parse(ran.out) as { code: string; message: string };
    expect(r.code).toBe('ERR_SOCKFD_NOT_BUILT');
    expect(r.message).toContain(path.join(bareRoot, 'build', 'Release', 'sockfd.node'));
    expect(r.message).toContain(path.join(bareRoot, 'prebuilds', `${process.platform}-${process.arch}`));
    expect(r.message).toContain('sockfd.othertag.abi1.node, none for this system');
    expect(r.message).toContain('`npm rebuild sockfd`');
    expect(r.message).toMatch(/python3, make and a C\+\+17 compiler/);
    expect(r.message).not.toMatch(/run `npm install`/);
  }, T);

  it('sockfd-demo --help still prints the usage, and says why the model list is missing', async () => {
    const ran = await runBare([bareCli, '--help']);
    expect(ran.err).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.out).toMatch(/^usage:\n {2}sockfd-demo server /);
    expect(ran.out).toContain('sockfd-demo client [--host HOST] [--port PORT] [--timeout MS]');
    expect(ran.out).toContain('needs the native addon, which does not load here');
  }, T);

  it('sockfd-demo --version prints the version and that the addon is not loaded', async () => {
    const ran = await runBare([bareCli, '--version']);
    expect(ran.code).toBe(0);
    expect(ran.out).toBe(`sockfd-demo ${pkg.version} (Node.js ${process.version}, ${process.platform}-${process.arch})\naddon: not loaded (ERR_SOCKFD_NOT_BUILT)\n`);
  }, T);

  it('sockfd-demo server and client fail with the loader\'s message, no stack', async () => {
    for (const args of [['server', '--port', '0'], ['client', '--port', '9']]) {
      const ran = await runBare([bareCli, ...args]);
      expect(ran.code, args.join(' ')).toBe(1);
      expect(ran.err).toMatch(/^sockfd-demo: sockfd: no native addon for this system/);
      expect(ran.err).toContain('`npm rebuild sockfd`');
      expect(ran.err).not.toMatch(/\n\s+at /);
    }
  }, T);

  it('a binary that does not load is ERR_SOCKFD_LOAD_FAILED, with the system\'s reason and the same advice', async () => {
    const broken = path.join(bare, 'broken.node');
    fs.writeFileSync(broken, 'not an ELF file');
    const code = `try { require(${JSON.stringify(bareRoot)}); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, cause: !!e.cause })); }`;
    const ran = await runBare(['-e', code], [`SOCKFD_BINDING=${broken}`]);
    const r = JSON.parse(ran.out) as { code: string; message: string; cause: boolean };
    expect(r.code).toBe('ERR_SOCKFD_LOAD_FAILED');
    expect(r.message).toContain(`the native addon ${broken} does not load on this system`);
    expect(r.message).toContain('`npm rebuild sockfd`');
    expect(r.cause).toBe(true);
  }, T);
});

describe('sockfd-demo --version and --help (addon built)', () => {
  it('--version names the addon file loaded', async () => {
    const ran = await runCli(['--version']);
    expect(ran.code).toBe(0);
    expect(ran.out).toBe(`sockfd-demo ${pkg.version} (Node.js ${process.version}, ${process.platform}-${process.arch})\naddon: ${s.bindingPath}\n`);
  }, T);

  it('-h lists the models and the client\'s --timeout', async () => {
    const ran = await runCli(['-h']);
    expect(ran.code).toBe(0);
    expect(ran.out).toMatch(/\n {2}epoll {7}multiplexing with epoll/);
    expect(ran.out).toContain('client --timeout: how long to wait for the connection (default 10000 ms)');
  }, T);
});

describe('sockfd-demo client', () => {
  it('refuses the server\'s options, naming them, and the server refuses --timeout', async () => {
    const c = await runCli(['client', '--io', 'poll', '--workers', '2', '--port', '9']);
    expect(c.code).toBe(2);
    expect(c.out).toBe('');
    expect(c.err).toMatch(/^sockfd-demo: --io, --workers are options of `sockfd-demo server`, not of `client`\nusage:/);
    const t = await runCli(['client', '--trace']);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/^sockfd-demo: --trace is an option of `sockfd-demo server`, not of `client`/);
    const sv = await runCli(['server', '--timeout', '5', '--port', '0']);
    expect(sv.code).toBe(2);
    expect(sv.err).toMatch(/^sockfd-demo: --timeout is an option of `sockfd-demo client`, not of `server`/);
  }, T);

  it('checks --timeout, and extra arguments', async () => {
    for (const bad of ['0', '-1', '1.5', 'soon']) {
      const ran = await runCli(['client', `--timeout=${bad}`]);
      expect(ran.code, bad).toBe(2);
      expect(ran.err).toContain(`--timeout must be an integer from 1 to 3600000, not ${JSON.stringify(bad)}`);
    }
    const extra = await runCli(['client', 'now']);
    expect(extra.code).toBe(2);
    expect(extra.err).toMatch(/^sockfd-demo: unexpected argument "now"/);
  }, T);

  it('refused: the hint is `npx sockfd-demo server`, not `npm start`', async () => {
    const port = closedPort();
    const ran = await runCli(['client', '--port', String(port)], 'hello\n');
    expect(ran.code).toBe(1);
    expect(ran.err).toBe(
      `Cannot reach the server at 127.0.0.1:${port}: nothing is listening there (start the server with \`npx sockfd-demo server\`) [ECONNREFUSED]\n`,
    );
  }, T);

  // A connect that never completes: a listener with a full accept queue (backlog 0, never accepting) drops the
  // SYN of one more connection, which then waits for the kernel's retries (two minutes) unless given up on.
  const abortOnOverflow = (() => {
    try {
      return fs.readFileSync('/proc/sys/net/ipv4/tcp_abort_on_overflow', 'utf8').trim() !== '0';
    } catch {
      return true;
    }
  })();
  const NO_HANG = 'needs Linux with net.ipv4.tcp_abort_on_overflow = 0 to make a connect that never completes';
  if (abortOnOverflow) console.warn(`install tests: skipping the --timeout test: ${NO_HANG}`);

  it.skipIf(abortOnOverflow)('--timeout: a connect that is never answered fails after that long, with ETIMEDOUT', async () => {
    const l = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    s.bind(l, { address: '127.0.0.1', port: 0 });
    s.listen(l, 0);
    const port = (s.getsockname(l) as s.InetAddress).port;
    for (let i = 0; i < 3; i++) {
      const c = track(s.socket(s.AF_INET, s.SOCK_STREAM | s.SOCK_NONBLOCK));
      s.connect(c, { address: '127.0.0.1', port }); // fills the queue; false (in progress) once it is full
    }
    const started = Date.now();
    const ran = await runCli(['client', '--port', String(port), '--timeout', '400'], 'hello\n');
    const took = Date.now() - started;
    expect(ran.code).toBe(1);
    expect(ran.out).toBe('');
    expect(ran.err).toBe(
      `Cannot reach the server at 127.0.0.1:${port}: no answer within 400 ms (--timeout); is the address right, and the server accepting? [ETIMEDOUT]\n`,
    );
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(20000); // not the kernel's two minutes (slack for a loaded machine)
  }, T);
});

describe('the ES module face (scripts/gen-esm.js)', () => {
  it('is written without loading the addon: dist/index.mjs and index.d.mts re-export dist/index.js, main.js copies it', () => {
    const files = ['index.mjs', 'index.d.mts', 'main.js'];
    const before = files.map((f) => fs.readFileSync(path.join(root, 'dist', f), 'utf8'));
    // The generator run again, in a process where loading any .node file or dist/index.js throws.
    const r = spawnSync(process.execPath, ['-e', `
      const Module = require('node:module');
      Module._extensions['.node'] = (m, file) => { throw new Error('gen-esm loaded ' + file); };
      const js = Module._extensions['.js'];
      Module._extensions['.js'] = (m, file) => {
        if (file.startsWith(${JSON.stringify(path.join(root, 'dist') + path.sep)})) throw new Error('gen-esm loaded ' + file);
        return js(m, file);
      };
      require('./scripts/gen-esm.js');
    `], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(files.map((f) => fs.readFileSync(path.join(root, 'dist', f), 'utf8'))).toEqual(before);
    for (const f of ['index.mjs', 'index.d.mts']) {
      const text = fs.readFileSync(path.join(root, 'dist', f), 'utf8');
      expect(text).toContain("export * from './index.js';");
      expect(text).toContain('export default cjs;');
    }
    // require('sockfd') loads main.js, a copy of index.js's exports; import's default is that same object.
    expect(fs.readFileSync(path.join(root, 'dist', 'index.mjs'), 'utf8')).toContain("import cjs from './main.js';");
  });

  it('the generated index.d.ts no longer says the selectors and watcher come later', () => {
    const dts = fs.readFileSync(path.join(root, 'dist', 'index.d.ts'), 'utf8');
    expect(dts).not.toContain('(later)');
    expect(dts).toMatch(/selectors/);
  });

  it('the demo CLI file is executable by npx: a shebang', () => {
    expect(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
