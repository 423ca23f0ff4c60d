/**
 * The package as users get it: `require('sockfd')` and `import ... from 'sockfd'` from a child process (the
 * package references itself through its "exports"), the constants, the shipped types, the addon loader
 * (SOCKFD_BINDING), getaddrinfo, and IPV6_V6ONLY.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import * as constantsModule from '../lib/constants';
import { root, runNode, wrap, type Child } from './helpers/child';
import { checkFdLeaks } from './helpers/fds';
import { ipv6 } from './helpers/net';
import { track, useFdTracking } from './helpers/track';

checkFdLeaks();
useFdTracking();

// Children are killed after each test by this file's afterEach, then the fds it tracks by ./helpers/track.
const children: Child[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Runs a child to its end: its exit code and stdout. */
async function run(child: Child): Promise<{ code: number | string; out: string }> {
  children.push(child);
  const code = await child.exited();
  return { code, out: child.output() };
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('loading the package', () => {
  it('require("sockfd") and import from "sockfd" both work, and give the same objects', async () => {
    // An ES module child that loads the package both ways.
    const code = `
      import * as esm from 'sockfd';
      import { socket, Socket, select, poll, constants } from 'sockfd';
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/');
      const cjs = require('sockfd');
      const names = Object.keys(cjs).filter((n) => n !== '__esModule');
      const missing = names.filter((n) => !(n in esm));
      const different = names.filter((n) => n in esm && esm[n] !== cjs[n]);
      const fd = socket(cjs.AF_INET, cjs.SOCK_STREAM);
      cjs.close(fd);
      console.log(JSON.stringify({
        names: names.length, missing, different,
        same: socket === cjs.socket && Socket === cjs.Socket && select === cjs.select && poll === cjs.poll && constants === cjs.constants,
        defaultIsCjs: esm.default === cjs,
        fd,
      }));
    `;
    const { code: exit, out } = await run(wrap(spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    })));
    expect(exit).toBe(0);
    const r = JSON.parse(out);
    expect(r.names).toBeGreaterThan(100);
    expect(r.missing).toEqual([]);
    expect(r.different).toEqual([]);
    expect(r.same).toBe(true);
    expect(r.defaultIsCjs).toBe(true);
    expect(r.fd).toBeGreaterThanOrEqual(0);
  });

  it('require("sockfd") from CommonJS has the functions, the class and the constants', async () => {
    const { code, out } = await run(runNode(`
      const s = require('sockfd');
      const fns = ['socket', 'socketpair', 'bind', 'connect', 'listen', 'accept', 'recv', 'recvInto', 'recvfrom',
        'recvfromInto', 'send', 'sendto', 'sendAll', 'shutdown', 'close', 'setsockopt', 'getsockopt', 'getsockname',
        'getpeername', 'setBlocking', 'getBlocking', 'fcntl', 'select', 'poll', 'getaddrinfo', 'Socket'];
      console.log(JSON.stringify({
        notFunctions: fns.filter((n) => typeof s[n] !== 'function'),
        resolved: require.resolve('sockfd'),
        bindingPath: s.bindingPath,
        AF_INET: s.AF_INET,
      }));
    `));
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.notFunctions).toEqual([]);
    expect(r.resolved).toBe(path.join(root, 'dist', 'main.js'));
    expect(r.AF_INET).toBe(s.AF_INET);
    expect(fs.existsSync(r.bindingPath)).toBe(true);
  });

  it("keeps the objects its hot paths load from in V8's fast mode (a dictionary-mode one costs a hash lookup per load)", async () => {
    // The addon's exports object and a TypeScript named re-export (`export { x } from`) both end in dictionary
    // mode; these are the objects the per-message paths of the selectors, the async methods and the demo
    // servers read from, and what require('sockfd') gives a program (dist/main.js, see scripts/gen-esm.js).
    const modules = ['binding', 'raw', 'errors', 'socket', 'readiness', 'watch', 'selectors/index', 'selectors/base',
      'selectors/epoll', 'demo/protocol', 'demo/session', 'demo/connection'];
    const { code, out } = await run(wrap(spawn(process.execPath, ['--allow-natives-syntax', '-e', `
      const path = require('node:path');
      const dist = path.join(process.cwd(), 'dist');
      const slow = [];
      if (!%HasFastProperties(require('sockfd'))) slow.push("require('sockfd')");
      const { native } = require(path.join(dist, 'binding.js'));
      if (!%HasFastProperties(native)) slow.push('native');
      if (!%HasFastProperties(native.constants)) slow.push('native.constants');
      if (!%HasFastProperties(require('sockfd').constants)) slow.push('constants');
      for (const m of ${JSON.stringify(modules)}) if (!%HasFastProperties(require(path.join(dist, m + '.js')))) slow.push(m);
      console.log(JSON.stringify(slow));
    `], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([]);
  });

  it('imports nothing of its own through a re-exporting module (tsc makes each re-exported name a getter)', () => {
    // A module that re-exports (`export * from`, `export { x } from`) is, compiled, an object of getters
    // (`return m[k]`, one function for every name: a megamorphic load at each read). The select loop read
    // EVENT_READ through the selectors' index four times per message. This package's modules import values
    // from the module that defines them; `import type` costs nothing at run time.
    const lib = path.join(root, 'lib');
    const files = (fs.readdirSync(lib, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(lib, f));
    const source = new Map(files.map((f) => [f, fs.readFileSync(f, 'utf8')]));
    const reexports = (text: string): boolean =>
      /^export \* from /m.test(text) || [...text.matchAll(/^export \{([^}]*)\} from /gm)].some((m) => hasValue(m[1]));
    const hasValue = (names: string): boolean => names.split(',').some((n) => n.trim() !== '' && !n.trim().startsWith('type '));
    const reexporters = files.filter((f) => reexports(source.get(f)!));
    expect(reexporters.map((f) => path.relative(root, f)).sort()).toEqual(['lib/index.ts', 'lib/selectors/index.ts']);
    const through: string[] = [];
    for (const [file, text] of source) {
      for (const m of text.matchAll(/^import (?!type )(.*?) from '(\.[^']*)';/gms)) {
        const [, what, spec] = m;
        const named = /^\{([^}]*)\}$/s.exec(what.trim());
        if (named !== null && !hasValue(named[1])) continue; // only types, erased
        const target = path.resolve(path.dirname(file), spec);
        if (reexporters.includes(`${target}.ts`) || reexporters.includes(path.join(target, 'index.ts'))) {
          through.push(`${path.relative(root, file)}: ${spec}`);
        }
      }
    }
    expect(through).toEqual([]);
  });

  it('reads no global that Node defines as a getter (Buffer, AbortSignal) on its paths', async () => {
    // In Node 20 globalThis.Buffer and globalThis.AbortSignal are accessors: each use is a getter call, and an
    // `instanceof` of the unknown result a generic property load. recvAsync used Buffer.from, and every async
    // call checked `signal instanceof AbortSignal`.
    const { code, out } = await run(runNode(`console.log(['Buffer', 'AbortSignal'].map((n) => typeof Object.getOwnPropertyDescriptor(globalThis, n).get).join())`));
    expect(code).toBe(0);
    expect(out.trim()).toBe('function,function'); // in a plain node: a test worker's globals may be its own
    const lib = path.join(root, 'lib');
    const files = (fs.readdirSync(lib, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const offenders: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(path.join(lib, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, ''); // comments aside
      if (/\bBuffer\.\w/.test(text) && !text.includes("import { Buffer } from 'node:buffer';")) offenders.push(`${f}: the global Buffer`);
      if (/instanceof AbortSignal\b/.test(text)) offenders.push(`${f}: instanceof the global AbortSignal`);
    }
    expect(offenders).toEqual([]);
  });

  it("require('sockfd')'s properties behave as tsc's getters did: no assignment, but redefinable (test spies) and extensible", async () => {
    const { code, out } = await run(runNode(`
      'use strict';
      const s = require('sockfd');
      const r = {};
      const d = Object.getOwnPropertyDescriptor(s, 'recv');
      r.desc = { enumerable: d.enumerable, writable: d.writable, configurable: d.configurable };
      try { s.recv = () => 0; r.assign = 'allowed'; } catch (e) { r.assign = e.constructor.name; }
      const original = s.gethostname;
      Object.defineProperty(s, 'gethostname', { value: () => 'stub', configurable: true, enumerable: true }); // what vi.spyOn does
      r.stubbed = s.gethostname();
      Object.defineProperty(s, 'gethostname', { value: original, writable: false });
      r.restored = s.gethostname === original;
      s.extra = 1;
      r.extensible = s.extra === 1;
      r.esModule = s.__esModule === true && !Object.keys(s).includes('__esModule');
      console.log(JSON.stringify(r));
    `));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      desc: { enumerable: true, writable: false, configurable: true },
      assign: 'TypeError',
      stubbed: 'stub',
      restored: true,
      extensible: true,
      esModule: true,
    });
  });

  it('ships its types: dist/index.d.ts for require, dist/index.d.mts for import, named by package.json', () => {
    expect(pkg.types).toBe('./dist/index.d.ts');
    expect(pkg.exports['.'].require).toEqual({ types: './dist/index.d.ts', default: './dist/main.js' });
    expect(pkg.main).toBe('./dist/main.js');
    expect(pkg.exports['.'].import).toEqual({ types: './dist/index.d.mts', default: './dist/index.mjs' });
    for (const f of ['index.d.ts', 'index.d.mts', 'index.js', 'main.js', 'index.mjs', 'raw.d.ts', 'socket.d.ts']) {
      expect(fs.existsSync(path.join(root, 'dist', f)), `dist/${f}`).toBe(true);
    }
    const dts = fs.readFileSync(path.join(root, 'dist', 'index.d.ts'), 'utf8');
    expect(dts).toMatch(/\bSocket\b/);
    expect(dts).toMatch(/\bselect\b/);
    expect(dts).toMatch(/\bpoll\b/);
    expect(dts).toMatch(/from '\.\/constants'/);
  });
});

describe('the addon loader', () => {
  it('bindingPath names the file loaded, which exists', () => {
    expect(path.isAbsolute(s.bindingPath)).toBe(true);
    expect(fs.existsSync(s.bindingPath)).toBe(true);
    expect(s.bindingPath).toMatch(/\.node$/);
    if (process.env.SOCKFD_BINDING) expect(s.bindingPath).toBe(path.resolve(root, process.env.SOCKFD_BINDING));
  });

  it('SOCKFD_BINDING pointing at a missing file fails with ERR_SOCKFD_NOT_BUILT, naming the path', async () => {
    const missing = path.join(root, 'build', 'no-such-dir', 'sockfd.node');
    const { code, out } = await run(runNode(`
      try {
        require('sockfd');
        console.log(JSON.stringify({ loaded: true }));
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, message: e.message }));
      }
    `, [], { SOCKFD_BINDING: missing }));
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.code).toBe('ERR_SOCKFD_NOT_BUILT');
    expect(r.message).toContain(missing);
  });

  it('SOCKFD_BINDING, relative to the package root, chooses the file loaded', async () => {
    const rel = path.relative(root, s.bindingPath);
    const { code, out } = await run(runNode(`
      const s = require('sockfd');
      console.log(JSON.stringify({ bindingPath: s.bindingPath, works: typeof s.socket(s.AF_UNIX, s.SOCK_STREAM) }));
    `, [], { SOCKFD_BINDING: rel }));
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.bindingPath).toBe(s.bindingPath);
    expect(r.works).toBe('number');
  });
});

describe('constants', () => {
  it('every named constant export equals constants[name], and the package exports each', () => {
    const names = Object.keys(constantsModule).filter((n) => n !== 'constants');
    expect(names.length).toBeGreaterThan(100);
    const cm = constantsModule as unknown as Record<string, unknown>;
    const mod = s as unknown as Record<string, unknown>;
    for (const name of names) {
      expect(cm[name], name).toBe(s.constants[name]);
      expect(mod[name], name).toBe(s.constants[name]);
    }
    // Where the platform has a constant, its named export is defined (undefined only where it lacks it).
    for (const name of names) if (name in s.constants) expect(cm[name], name).not.toBeUndefined();
  });

  it('every constant of the platform is also a named export (the constants module lists each)', () => {
    const cm = constantsModule as unknown as Record<string, unknown>;
    const missing = Object.keys(s.constants).filter((name) => !(name in cm));
    expect(missing, 'in constants but not exported by name from lib/constants.ts').toEqual([]);
  });

  it('the constants object is frozen', () => {
    expect(Object.isFrozen(s.constants)).toBe(true);
  });

  it.runIf(process.platform === 'linux')('has the Linux values', () => {
    // The generic Linux ABI (x86, x86-64, arm, arm64, riscv, ...).
    const linux: Record<string, number> = {
      AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 10,
      SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_SEQPACKET: 5, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
      SOL_SOCKET: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_KEEPALIVE: 9, SO_REUSEPORT: 15,
      IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, TCP_NODELAY: 1, IPV6_V6ONLY: 26,
      MSG_OOB: 1, MSG_PEEK: 2, MSG_DONTROUTE: 4, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40, MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000,
      SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
      POLLIN: 1, POLLPRI: 2, POLLOUT: 4, POLLERR: 8, POLLHUP: 16, POLLNVAL: 32, POLLRDHUP: 0x2000,
      FD_SETSIZE: 1024,
    };
    const mod = s as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(linux)) {
      expect(mod[name], name).toBe(value);
      expect(s.constants[name], name).toBe(value);
    }
    for (const name of ['MSG_OOB', 'MSG_PEEK', 'MSG_WAITALL', 'MSG_TRUNC', 'MSG_DONTWAIT', 'MSG_NOSIGNAL', 'MSG_MORE', 'MSG_CTRUNC', 'MSG_EOR', 'MSG_ERRQUEUE', 'MSG_CONFIRM']) {
      expect(typeof mod[name], name).toBe('number');
    }
    expect(s.FD_SETSIZE).toBe(1024);
    expect(s.INADDR_ANY).toBe('0.0.0.0');
    expect(s.IN6ADDR_LOOPBACK).toBe('::1');
  });
});

describe('getaddrinfo', () => {
  it("'localhost' gives 127.0.0.1 and/or ::1, in the documented shape", () => {
    const found = s.getaddrinfo('localhost');
    expect(found.length).toBeGreaterThan(0);
    for (const a of found) {
      expect(Object.keys(a).sort()).toEqual(['address', 'family', 'port', 'protocol', 'type']);
      expect(a.family === 'IPv4' ? a.address : a.address).toMatch(/^(127\.0\.0\.1|::1)$/);
      expect(a.family).toBe(a.address === '::1' ? 'IPv6' : 'IPv4');
      expect(a.port).toBe(0);
      expect(typeof a.type).toBe('number');
      expect(typeof a.protocol).toBe('number');
    }
    const stream = s.getaddrinfo('localhost', 8080, { type: s.SOCK_STREAM });
    expect(stream.length).toBeGreaterThan(0);
    for (const a of stream) {
      expect(a).toMatchObject({ port: 8080, type: s.SOCK_STREAM, protocol: s.IPPROTO_TCP });
    }
    const v4 = s.getaddrinfo('localhost', 53, { family: s.AF_INET, type: s.SOCK_DGRAM });
    expect(v4).toEqual([{ family: 'IPv4', address: '127.0.0.1', port: 53, type: s.SOCK_DGRAM, protocol: s.IPPROTO_UDP }]);
    // A service name is looked up (in /etc/services) like a port number.
    if (/^http\s+80\/tcp/m.test(fs.existsSync('/etc/services') ? fs.readFileSync('/etc/services', 'utf8') : '')) {
      expect(s.getaddrinfo('127.0.0.1', 'http', { type: s.SOCK_STREAM })).toMatchObject([{ port: 80 }]);
    }
  });

  it('a numeric host passes through', () => {
    expect(s.getaddrinfo('192.0.2.7', 443, { type: s.SOCK_STREAM, flags: s.AI_NUMERICHOST })).toEqual([
      { family: 'IPv4', address: '192.0.2.7', port: 443, type: s.SOCK_STREAM, protocol: s.IPPROTO_TCP },
    ]);
    expect(s.getaddrinfo('2001:db8::1', '53', { type: s.SOCK_DGRAM })).toEqual([
      { family: 'IPv6', address: '2001:db8::1', port: 53, type: s.SOCK_DGRAM, protocol: s.IPPROTO_UDP },
    ]);
  });

  it('a null host with AI_PASSIVE is the wildcard address', () => {
    const found = s.getaddrinfo(null, 7000, { family: s.AF_INET, type: s.SOCK_STREAM, flags: s.AI_PASSIVE });
    expect(found).toEqual([{ family: 'IPv4', address: '0.0.0.0', port: 7000, type: s.SOCK_STREAM, protocol: s.IPPROTO_TCP }]);
  });

  it('an unknown name is a system error: getSystemErrorName(errno) === code, syscall getaddrinfo', () => {
    let err: s.SystemError | undefined;
    try {
      s.getaddrinfo('nonexistent.invalid');
    } catch (e) {
      err = e as s.SystemError;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.syscall).toBe('getaddrinfo');
    expect(typeof err!.errno).toBe('number');
    expect(err!.errno).toBeLessThan(0);
    expect(getSystemErrorName(err!.errno)).toBe(err!.code);
    // EAI_NONAME where the resolver answers, EAI_AGAIN where no name server can be reached.
    expect(['EAI_NONAME', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_FAIL']).toContain(err!.code);
    expect(err!.address).toBe('nonexistent.invalid');
    expect(err!.message).toContain('nonexistent.invalid');
  });

  it('an unknown service name is an error too', () => {
    expect(() => s.getaddrinfo('127.0.0.1', 'no-such-service-here', { type: s.SOCK_STREAM })).toThrow(
      expect.objectContaining({ syscall: 'getaddrinfo' }),
    );
  });
});

describe.skipIf(!ipv6.ok)('IPV6_V6ONLY', () => {
  it('can be set and read on an AF_INET6 socket', () => {
    const fd = track(s.socket(s.AF_INET6, s.SOCK_STREAM));
    s.setsockopt(fd, s.IPPROTO_IPV6, s.IPV6_V6ONLY, 1);
    expect(s.getsockopt(fd, s.IPPROTO_IPV6, s.IPV6_V6ONLY)).toBe(1);
    s.setsockopt(fd, s.IPPROTO_IPV6, s.IPV6_V6ONLY, false);
    expect(s.getsockopt(fd, s.IPPROTO_IPV6, s.IPV6_V6ONLY)).toBe(0);
  });

  function listenOnAny(v6only: boolean): { fd: number; port: number } {
    const fd = track(s.socket(s.AF_INET6, s.SOCK_STREAM));
    s.setsockopt(fd, s.IPPROTO_IPV6, s.IPV6_V6ONLY, v6only);
    s.bind(fd, { address: '::', port: 0 });
    s.listen(fd);
    return { fd, port: (s.getsockname(fd) as s.InetAddress).port };
  }

  it("a v6-only socket bound to '::' takes IPv6 connections but not IPv4 ones", () => {
    const l = listenOnAny(true);
    const v4 = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    let err: s.SystemError | undefined;
    try {
      s.connect(v4, { address: '127.0.0.1', port: l.port });
    } catch (e) {
      err = e as s.SystemError;
    }
    expect(err).toMatchObject({ code: 'ECONNREFUSED', errno: -osConstants.errno.ECONNREFUSED, syscall: 'connect', port: l.port });
    const v6 = track(s.socket(s.AF_INET6, s.SOCK_STREAM));
    expect(s.connect(v6, { address: '::1', port: l.port })).toBe(true);
    const a = s.accept(l.fd)!;
    track(a.fd);
    expect(a.address).toMatchObject({ family: 'IPv6', address: '::1' });
  });

  it("without v6-only, a socket bound to '::' takes IPv4 connections as mapped addresses", () => {
    const l = listenOnAny(false);
    const v4 = track(s.socket(s.AF_INET, s.SOCK_STREAM));
    expect(s.connect(v4, { address: '127.0.0.1', port: l.port })).toBe(true);
    const a = s.accept(l.fd)!;
    track(a.fd);
    expect(a.address).toMatchObject({ family: 'IPv6', address: '::ffff:127.0.0.1', port: (s.getsockname(v4) as s.InetAddress).port });
  });
});
