/**
 * Faults and load against the demo server (lib/demo), run as a child process of the built CLI:
 *
 * - every concurrent model of the registry (lib/demo/models), and each that takes --workers on 2 threads, through a
 *   storm of faulty clients: resets (SO_LINGER {on, 0}) in the middle of a message, with answers unread, with
 *   input the server has not read; half-closes; clients that connect and vanish (FIN or RST, before reading a
 *   word); binary garbage (NUL bytes, invalid UTF-8, near-misses of `exit`); 1 MiB in one write; clients that
 *   pipeline and never read. Meanwhile lock-step clients (one message, its answer checked, the next) must be
 *   served correctly throughout, and afterwards the server must have logged every close and hold exactly the fds
 *   it held before (/proc/<pid>/fd);
 * - half-close with --delay: the answer to the last message still comes, then the end of stream;
 * - 10000 concurrent connections on the models made to scale (those that take --workers: poll, epoll); more than
 *   FD_SETSIZE on select, which refuses the fds it cannot hold with a log line and goes on serving the others;
 * - out of fds (RLIMIT_NOFILE 64): every model logs it once, serves the clients it has, and accepts again when
 *   they leave;
 * - a listen backlog overflow: SYNs dropped while the accept queue is full are retried by the kernel, and every
 *   client is served;
 * - memory and fds flat over connect/disconnect cycles (the models made to scale).
 *
 * Scale: SOCKFD_STRESS unset is the quick form `npm test` runs; `native` is the part of it that reaches native
 * paths no other file does, for CI's ASan pass; `ci` and `full` (npm run test:stress) run more
 * rounds and cycles (test/helpers/stress.ts). Nothing here asserts a speed: the time limits are deadlines that
 * fail a hung server.
 *
 * The models come from the model registry, through the demo harness (test/helpers/demo.ts): a new model is
 * stressed without a word changed here. A model this machine cannot run is skipped with the registry's reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFdLeaks } from './helpers/fds';
import { root } from './helpers/child';
import {
  CONFIGS, Client, DemoServer, FIXTURES, cleanUpDemo, converse, destroyClients, eventually, expectAnswer, io, runnable,
  type DemoConfig, type MemoryReport,
} from './helpers/demo';
import { fdCount, fdKindCounts, fdKinds, listenOverflows, openFileLimit, rssKiB } from './helpers/proc';
import { answerCount, expectRssBelow, inBatches, stressScale, UNDER_ASAN } from './helpers/stress';
import { defaultModel } from '../lib/demo/models';

checkFdLeaks();
cleanUpDemo();

const SCALE = stressScale(process.env.SOCKFD_STRESS);
if (SCALE.name !== 'quick') console.log(`stress tests: SOCKFD_STRESS=${SCALE.name}`, SCALE);

/**
 * The `native` scale (CI's ASan pass) leaves out the blocks whose checks are of the JavaScript and the kernel:
 * the unread --trace pipe, the backlog overflow, the connect/disconnect cycles (see Scale.nativeOnly). Under ASan
 * those were most of this file's time, and npm test runs them without it.
 */
const NATIVE_ONLY = SCALE.nativeOnly;
if (NATIVE_ONLY) console.warn('stress tests: SOCKFD_STRESS=native: skipping the --trace pipe, backlog overflow and cycles blocks (npm test runs them)');

/** A test's own deadline: generous, a hung server fails it, a slow machine does not. */
const T = SCALE.name === 'quick' || SCALE.name === 'native' ? 120_000 : 600_000;

const children = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.all([...children].map((c) => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    return new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(undefined) : c.once('close', resolve)));
  }));
});

// The ways to run the server (helpers/demo.ts's CONFIGS: every model of the registry, and each that takes
// --workers on 2 threads), chosen by what the registry says of them.

/** The models that serve several clients at once: the faults, out of fds, the backlog while stopped. */
const CONCURRENT = CONFIGS.filter((c) => c.concurrent);

/**
 * The models made to scale, on one thread: 10000 connections, and the memory over connect/disconnect cycles.
 * The registry has no field for it; the models that take --workers (poll, epoll: no FD_SETSIZE, no thread
 * or busy loop per client) are the ones meant to.
 */
const SCALING = CONFIGS.filter((c) => c.info.workers !== null && c.listeners === 1);

/**
 * The listen backlog test's models at the quick scale: one of each way a stopped and continued server differs:
 * the default model, alone and on workers (a listening socket each), a thread per client, and signal-driven I/O
 * (what came in meanwhile is announced by a SIGIO after SIGCONT).
 */
const representative = (c: DemoConfig): boolean => c.model === defaultModel() || c.threadPerClient || c.info.ioModel === 'signal-driven';

// Messages of the well-behaved clients: text, each read whole by one recv (under 1024 bytes, sent in lock-step).
const MESSAGES = ['hello', 'what is the number?', 'x', '  padded  ', 'exit now', 'exits', 'été', 'a'.repeat(1000)];

// Binary garbage, each a message to answer (not `exit`, not the end): NUL bytes, invalid UTF-8 (stray
// continuation bytes, overlong and truncated sequences, UTF-16 surrogates, code points past U+10FFFF, bytes that
// never occur in UTF-8), whitespace alone, near-misses of `exit`, and 1024 bytes of every value.
const GARBAGE: Buffer[] = [
  Buffer.from([0]),
  Buffer.from([0, 0, 0, 0]),
  Buffer.from([0xff, 0xfe, 0xfd]),
  Buffer.from([0x80, 0xbf]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from(' \t\r\n\v\f'),
  Buffer.from('\0exit'),
  Buffer.from('exit\0'),
  Buffer.from([0xff, 0x65, 0x78, 0x69, 0x74]),
  Buffer.from('EXIT'),
  Buffer.from('exit!'),
  Buffer.from('ex it'),
  Buffer.from('exit \0'),
  Buffer.from([0xa0, 0x65, 0x78, 0x69, 0x74, 0xa0]), // no-break spaces (Latin-1) are not whitespace to strip
  Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7) % 256)),
];

/** 1 MiB of every byte value but 'e' (so that no read of it can be `exit`): NULs, invalid UTF-8 and all. */
const MIB: Buffer = (() => {
  const b = Buffer.alloc(1 << 20);
  for (let i = 0; i < b.length; i++) {
    const v = (i * 31 + (i >> 10)) % 255;
    b[i] = v >= 0x65 ? v + 1 : v;
  }
  return b;
})();

// ---------------------------------------------------------------------------------------------------------------
// The storm.

/** What each kind of fault client saw, for the report. */
type Outcomes = Map<string, Map<string, number>>;
function note(outcomes: Outcomes, fault: string, what: string): void {
  const m = outcomes.get(fault) ?? new Map<string, number>();
  m.set(what, (m.get(what) ?? 0) + 1);
  outcomes.set(fault, m);
}

/** How a reset client's connection looked when it reset, for the report. */
function sawBeforeReset(c: Client): string {
  const got = c.peek().toString('latin1');
  if (got === '') return 'nothing received';
  return /^Welcome\d*$/.test(got) ? (got === 'Welcome' ? 'Welcome only' : 'Welcome and answers') : `${got.length} bytes`;
}

interface Fault {
  name: string;
  run(server: DemoServer, name: string): Promise<string>;
}

const FAULTS: Fault[] = [
  {
    // A message cut short by a reset: the first 600 bytes of a 1024-byte message, then RST.
    name: 'reset mid-message',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.welcome();
      await c.ask('a whole message first');
      c.sock.write(Buffer.alloc(600, 'p'));
      await new Promise<void>((resolve) => c.sock.write('', () => resolve()));
      await c.reset();
      return 'reset after 600 bytes';
    },
  },
  {
    // Twenty messages sent at once; reset as soon as the first answer arrives, the others unread or in flight.
    name: 'reset with answers unread',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.welcome();
      c.sock.setNoDelay(true);
      for (let i = 0; i < 20; i++) c.sock.write(`pipelined ${i}`);
      await c.until(() => c.pending > 0, 'the first answer');
      const got = c.peek().toString('latin1');
      expect(answerCount(got), `${name}: answers, got ${JSON.stringify(got)}`).not.toBeNull();
      await c.reset();
      return 'reset after the first answers';
    },
  },
  {
    // 256 KiB handed to the kernel, then RST: the server is reset with input it has not read yet.
    name: 'reset with input unread by the server',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.welcome();
      await new Promise<void>((resolve) => c.sock.write(Buffer.alloc(256 << 10, 'u'), () => resolve()));
      await c.reset();
      return 'reset after 256 KiB';
    },
  },
  {
    // 1 MiB in one write, reset at its first answer: the server is in the middle of reading it.
    name: '1 MiB then reset',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.welcome();
      c.sock.write(MIB);
      await c.until(() => c.pending > 0, 'the first answer');
      await c.reset();
      return 'reset at the first answer';
    },
  },
  {
    // Connect, then close without a word and without reading (FIN, or RST if Welcome was already in).
    name: 'connect and vanish (close)',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.destroy();
      return 'closed at once';
    },
  },
  {
    name: 'connect and vanish (reset)',
    async run(server, name) {
      const c = await Client.connect(server, name);
      const saw = sawBeforeReset(c);
      await c.reset();
      return `reset at once (${saw})`;
    },
  },
  {
    // Half-close before a word: the server still greets, then ends the stream, cleanly.
    name: 'half-close at once',
    async run(server, name) {
      const c = await Client.connect(server, name);
      c.sock.end();
      expect((await c.readToEnd()).toString('latin1'), `${name}: Welcome, then the end`).toBe('Welcome');
      await c.destroy();
      return 'Welcome, then end of stream';
    },
  },
  {
    // The last message goes with the FIN: its answer must still come, then the end of stream.
    name: 'half-close after a message',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.welcome();
      await c.ask('first');
      c.sock.end('last, then FIN');
      expectAnswer((await c.readToEnd()).toString('latin1'), name);
      await c.destroy();
      return 'the last answer, then end of stream';
    },
  },
  {
    // 1 MiB in one write, then FIN; read everything: at least 1024 answers (each read is at most 1024 bytes),
    // nothing but answers, then a clean end of stream.
    name: '1 MiB in one write, then half-close',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.welcome();
      c.sock.end(MIB);
      const text = (await c.readToEnd()).toString('latin1');
      const count = answerCount(text);
      expect(count, `${name}: only answers in ${JSON.stringify(text.slice(0, 100))}...`).not.toBeNull();
      expect(count!.max, `${name}: answers to at least 1024 reads of 1024 bytes`).toBeGreaterThanOrEqual(1024);
      expect(count!.min).toBeLessThanOrEqual(MIB.length);
      await c.destroy();
      return 'answers to every read, then end of stream';
    },
  },
  {
    // Garbage in lock-step: each is answered like any message, and the connection goes on.
    name: 'binary garbage',
    async run(server, name) {
      const c = await Client.connect(server, name);
      await c.welcome();
      for (const g of GARBAGE) await c.ask(g);
      await c.exit();
      return `${GARBAGE.length} answered, then exit`;
    },
  },
];

/** One well-behaved client after another, each asking in lock-step, until `stopped()`: exchanges made. */
async function lockStep(server: DemoServer, name: string, stopped: () => boolean): Promise<{ conversations: number; exchanges: number }> {
  let conversations = 0;
  let exchanges = 0;
  do {
    const c = await Client.connect(server, `${name}.${conversations}`);
    await c.welcome();
    for (let i = 0; i < 10; i++) {
      await c.ask(MESSAGES[(i + conversations) % MESSAGES.length]);
      exchanges++;
    }
    await c.exit();
    conversations++;
  } while (!stopped());
  return { conversations, exchanges };
}

/**
 * A client that pipelines messages and never reads: its answers pile up in the kernel, then in the server, which
 * must keep serving the others. Writes until `bytes` are sent, and reads nothing until stop(); then checks that
 * what came is answers, and resets.
 */
async function neverReads(server: DemoServer, name: string, bytes: number): Promise<{ stop(): void; done: Promise<string> }> {
  const c = await Client.connect(server, name);
  await c.welcome();
  c.sock.pause(); // never read: the kernel buffers fill, then the server's output
  c.sock.setNoDelay(true);
  let sent = 0;
  let stopped = false;
  let stop: () => void = () => {};
  const stopping = new Promise<void>((resolve) => (stop = resolve));
  const chunk = Buffer.from('never read me; '.repeat(1000));
  const pump = (): void => {
    while (!stopped && sent < bytes && !c.sock.destroyed) {
      sent += chunk.length;
      if (!c.sock.write(chunk)) {
        c.sock.once('drain', pump);
        return;
      }
    }
  };
  pump();
  const done = (async () => {
    await stopping;
    c.sock.resume();
    await c.until(() => c.pending > 0, 'any answer');
    const got = c.peek().toString('latin1');
    expect(answerCount(got), `${name}: nothing but answers in ${JSON.stringify(got.slice(0, 100))}`).not.toBeNull();
    await c.reset();
    return `${(sent / 2 ** 20).toFixed(1)} MiB sent unread, answers only, then reset`;
  })();
  return {
    stop: () => {
      stopped = true;
      stop();
    },
    done,
  };
}

describe.each(runnable(CONCURRENT, 'the storm'))('server --io $name under faults and load', (cfg) => {
  let server: DemoServer;
  let base: number;

  beforeAll(async () => {
    // --backlog 511 (Node's), not the tutorial's 5: a storm connects dozens at once, and when the accept queue
    // overflows, Linux may drop the last ACK of a handshake the client already saw complete (with SYN cookies,
    // leaving no trace on the server). Such a client waits for a Welcome that never comes; the backlog test
    // below is where overflows belong.
    server = await DemoServer.start([...cfg.args, '--backlog', '511']);
    // One conversation first: the threads model opens an fd of its own on its first worker, once.
    await converse(server, 'warm-up');
    await server.allClosesLogged();
    base = await server.stableFdCount();
  }, T);
  afterAll(async () => {
    await server?.kill();
  });

  it('serves lock-step clients correctly throughout a storm of faulty ones, then holds the fds it held before', async () => {
    const outcomes: Outcomes = new Map();
    const rssBefore = rssKiB(server.pid);
    let rssPeak = rssBefore;
    let stop = false;
    const steady = Array.from({ length: SCALE.lockStep }, (_, i) => lockStep(server, `lock-step ${i}`, () => stop));
    const floods: Array<Awaited<ReturnType<typeof neverReads>>> = [];
    let served: Array<{ conversations: number; exchanges: number }> | undefined;
    try {
      // Clients that connect and say nothing through the storm; served after it.
      const idle = await Promise.all([0, 1].map(async (i) => {
        const c = await Client.connect(server, `idle ${i}`);
        await c.welcome();
        return c;
      }));
      for (let i = 0; i < SCALE.copies; i++) floods.push(await neverReads(server, `never reads ${i}`, SCALE.floodBytes));
      for (let round = 0; round < SCALE.rounds; round++) {
        await Promise.all(FAULTS.flatMap((f) => Array.from({ length: SCALE.copies }, async (_, k) => {
          note(outcomes, f.name, await f.run(server, `${f.name} ${round}.${k}`));
        })));
        rssPeak = Math.max(rssPeak, rssKiB(server.pid));
      }
      for (const f of floods) f.stop();
      for (const f of floods) note(outcomes, 'never reads', await f.done);
      rssPeak = Math.max(rssPeak, rssKiB(server.pid));
      stop = true;
      served = await Promise.all(steady);
      for (const s of served) expect(s.exchanges).toBeGreaterThanOrEqual(10);
      // The silent ones are still served.
      for (const c of idle) {
        await c.ask('still there?');
        await c.exit();
      }
      await converse(server, 'after the storm');
    } finally {
      // On a failure, end the clients still running (their waits fail at once) before the test ends.
      stop = true;
      for (const f of floods) f.stop();
      if (served === undefined) {
        await destroyClients();
        await Promise.allSettled([...steady, ...floods.map((f) => f.done)]);
      }
    }

    await server.allClosesLogged();
    await server.fdsBackTo(base);
    expect(fdCount(server.pid)).toBe(base);
    // Connections that failed are logged by the blocking-call models (threads, async): a peer gone, nothing else
    // (expectCleanLog counts any other as unexpected).
    server.expectCleanLog();
    expect(server.connected).toBeLessThanOrEqual(server.closed);

    const rssAfter = rssKiB(server.pid);
    const exchanges = served!.reduce((n, s) => n + s.exchanges, 0);
    console.log(`stress ${cfg.name}: ${server.clientConnections} connections, ${exchanges} lock-step exchanges in ` +
      `${served!.reduce((n, s) => n + s.conversations, 0)} conversations; fds ${base} before, ${fdCount(server.pid)} after; ` +
      `RSS ${rssBefore} KiB before, ${rssPeak} KiB peak, ${rssAfter} KiB after; ${server.failures} failures logged` +
      `${server.failureSamples.length ? ` (e.g. ${JSON.stringify(server.failureSamples.slice(0, 3))})` : ''}\n` +
      [...outcomes].map(([f, m]) => `  ${f}: ${[...m].map(([w, n]) => `${n} x ${w}`).join('; ')}`).join('\n'));
    if (!cfg.threadPerClient) {
      // One thread, no input buffered (each read is answered at once) and output capped at 64 KiB a client: the
      // storm's few dozen connections and their megabytes must not show in memory. The bound leaves room for V8
      // growing its young generation (2 x 16 MiB semi-spaces at most) and old-space garbage not yet collected.
      expectRssBelow(rssPeak - rssBefore, 64 * 1024, `RSS from ${rssBefore} KiB to a ${rssPeak} KiB peak`);
    }
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// Half-close with --delay: the answer is queued after the read, and must still go out before the close.

describe('half-close with --delay 20', () => {
  const configs = runnable(CONFIGS, 'half-close with --delay 20'); // every model, one client at a time or not
  const delayed = new Map<string, DemoServer>();
  beforeAll(async () => {
    await Promise.all(configs.map(async (cfg) => delayed.set(cfg.name, await DemoServer.start([...cfg.args, '--delay', '20']))));
  }, T);
  afterAll(async () => {
    await Promise.all([...delayed.values()].map((s) => s.kill()));
  });

  it.each(configs)('--io $name: the answer to the last message, then the end of stream', async (cfg) => {
    const model = cfg.name;
    const server = delayed.get(model)!;
    const c = await Client.connect(server, 'half-close');
    await c.welcome();
    await c.ask('one');
    c.sock.end('two, then FIN');
    expectAnswer((await c.readToEnd()).toString('latin1'), `${model}: the answer after the FIN`);
    await c.destroy();
    // A first message sent with the FIN: its answer still waits for its delay when the server reads the end of
    // the stream.
    const d = await Client.connect(server, 'half-close 2');
    await d.welcome();
    d.sock.end('three');
    expectAnswer((await d.readToEnd()).toString('latin1'), `${model}: the answer to a message sent with the FIN`);
    await d.destroy();
    await server.allClosesLogged();
    server.expectCleanLog();
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// Many connections.

/** Skips the test (with the reason printed) unless this process and the server may open `needed` more fds. */
function needFds(ctx: { skip(note?: string): never }, server: DemoServer, needed: number): void {
  const mine = openFileLimit('self') - fdCount(process.pid);
  const its = openFileLimit(server.pid) - fdCount(server.pid);
  if (mine < needed + 64 || its < needed + 64) {
    const why = `RLIMIT_NOFILE leaves ${mine} fds to the test and ${its} to the server, not ${needed} + 64 (raise the hard limit: ulimit -Hn)`;
    console.warn(`stress tests: skipping ${needed} connections: ${why}`);
    ctx.skip(why);
  }
}

describe.each(runnable(SCALING, `${SCALE.concurrent} concurrent connections`))(`${SCALE.concurrent} concurrent connections on --io $name`, (cfg) => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await DemoServer.start([...cfg.args, '--backlog', '4096'], { trackPorts: false });
  }, T);
  afterAll(async () => {
    await server?.kill();
  });

  it('welcomes and answers every one, holds one fd each, and releases them all', async (ctx) => {
    const n = SCALE.concurrent;
    needFds(ctx, server, n);
    const base = await server.stableFdCount();
    const conns = await inBatches(n, 256, async (i) => {
      const c = await Client.connect(server, `client ${i}`);
      await c.welcome();
      return c;
    });
    await eventually(() => fdCount(server.pid) === base + n, `the server to hold ${base} + ${n} fds`, () => `${fdCount(server.pid)}: ${fdKinds(server.pid)}`);
    const rssAll = rssKiB(server.pid);
    // Every one asks at once, then again: all are answered, each with its own answer.
    for (let round = 0; round < 2; round++) {
      await Promise.all(conns.map((c, i) => c.ask(MESSAGES[(i + round) % MESSAGES.length])));
    }
    expect(server.connected).toBe(n);
    // Node may hold a short-lived fd of its own for a moment (seen once on a loaded machine: one more, then
    // gone); a leak stays, and fails this wait.
    await eventually(() => fdCount(server.pid) === base + n, `the server to hold ${base} + ${n} fds after the answers`, () => `${fdCount(server.pid)}: ${fdKinds(server.pid)}`);
    // Leave three ways: exit (the server closes first), FIN, reset.
    await Promise.all(conns.map(async (c, i) => {
      if (i % 3 === 0) await c.exit();
      else if (i % 3 === 1) {
        c.sock.end();
        expect((await c.readToEnd()).length).toBe(0);
        await c.destroy();
      } else await c.reset();
    }));
    await server.allClosesLogged();
    await server.fdsBackTo(base);
    server.expectCleanLog();
    console.log(`stress ${cfg.name}: ${n} concurrent connections: server fds ${base} -> ${base + n} -> ${fdCount(server.pid)}; RSS with all open ${rssAll} KiB`);
  }, T);
});

// About select alone: FD_SETSIZE is select(2)'s limit.
describe('more than FD_SETSIZE connections on --io select', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await DemoServer.start([...io('select'), '--backlog', '4096']);
  }, T);
  afterAll(async () => {
    await server?.kill();
  });

  it('refuses the fds it cannot hold, with a log line, and keeps serving the others', async (ctx) => {
    const n = SCALE.selectClients;
    needFds(ctx, server, n);
    await converse(server, 'warm-up');
    await server.allClosesLogged();
    const base = await server.stableFdCount();
    // 64 at a time, each until its Welcome or its refusal; all are held open till the end.
    const conns = await inBatches(n, 64, async (i) => {
      const c = await Client.connect(server, `client ${i}`);
      await c.until(() => c.pending >= 7 || c.ended || c.error !== undefined, 'Welcome or a refusal');
      return c;
    });
    const served = conns.filter((c) => c.pending > 0);
    const refused = conns.filter((c) => c.pending === 0);
    // fds 0..1023 hold the server's own `base` fds and one per served client; each refused client's fd (1024)
    // is closed at once, and the next one gets the same number.
    expect(served.length).toBe(1024 - base);
    expect(refused.length).toBe(n - served.length);
    // The log line travels through the server's stdout pipe, which the test may read after the client sees
    // its connection end: wait for it rather than racing it.
    await eventually(() => server.refused.size >= refused.length, `${refused.length} refusal log lines`, () => `${server.refused.size} so far`);
    expect(server.refused.size).toBe(refused.length);
    for (const c of refused) {
      // A clear failure: the end of the stream (or a reset), without a Welcome; and a log line naming it.
      await c.until(() => c.ended || c.error !== undefined, 'the end of a refused connection');
      expect(c.pending).toBe(0);
      expect(server.refused.get(c.localPort), `log line for ${c.localPort}`).toMatch(/FD_SETSIZE \(1024\)/);
      expect(server.connectedPorts.has(c.localPort), `a refused client is not logged as connected`).toBe(false);
    }
    for (const c of served) await c.welcome();
    // The others are served as before, all at once.
    for (let round = 0; round < 2; round++) await Promise.all(served.map((c, i) => c.ask(MESSAGES[(i + round) % MESSAGES.length])));
    await Promise.all(refused.map((c) => c.destroy()));
    await Promise.all(served.map((c) => c.exit()));
    server.clientConnections -= refused.length; // refused before any Connection: no close logged for them
    await server.allClosesLogged();
    await server.fdsBackTo(base);
    await converse(server, 'after');
    server.expectCleanLog();
    console.log(`stress select: ${n} connections: ${served.length} served (fds < 1024 with ${base} of the server's own), ` +
      `${refused.length} refused, e.g. ${JSON.stringify([...server.refused][0])}`);
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// Out of fds: what happens when RLIMIT_NOFILE is not raised enough.

// Not under the sanitizers: UBSan tells valid memory from invalid by writing it into a pipe, and a process
// with no fd left for that pipe gets false "invalid vptr" reports on every C++ exception the addon throws (the
// EMFILE of accept itself). What this block tests, the models' accept loops, is JavaScript; the plain build
// runs it in npm test.
if (UNDER_ASAN) console.warn('stress tests: skipping the out-of-fds block under ASan/UBSan: UBSan needs a free fd for its own memory checks');

describe.skipIf(UNDER_ASAN)('out of file descriptors (RLIMIT_NOFILE 64)', () => {
  const FD_LIMIT = 64;
  const CLIENTS = 80; // more than the fds left to any model

  it.each(runnable(CONCURRENT, 'out of file descriptors'))('--io $name: logs it once, serves the clients it has, and accepts again when they leave', async (cfg) => {
    const server = await DemoServer.start([...cfg.args, '--backlog', '511'], { fdLimit: FD_LIMIT });
    try {
      expect(openFileLimit(server.pid)).toBe(FD_LIMIT);
      await converse(server, 'warm-up');
      await server.allClosesLogged();
      const base = await server.stableFdCount();
      const baseKinds = fdKindCounts(server.pid);
      // Processes (prefork) have a limit each: more clients, so that every one runs out.
      const clients = CLIENTS * (cfg.info.workers?.unit === 'process' ? cfg.acceptors : 1);
      const conns = await Promise.all(Array.from({ length: clients }, (_, i) => Client.connect(server, `client ${i}`)));
      // Some are accepted and welcomed; accept() then fails (EMFILE) and the others wait in the backlog (the
      // threads model, whose threads need fds of their own, refuses those it cannot start a thread for).
      await eventually(() => server.acceptFailures > 0, 'the server to run out of fds', () => server.diagnostics());
      // (A prefork child runs out in the recvmsg that receives a connection's fd from its parent.)
      expect(server.acceptFailureSamples[0]).toMatch(/accept failed: (accept|recvmsg) (EMFILE|ENFILE)/);
      const welcomed = (): Client[] => conns.filter((c) => c.pending >= 7);
      // (The threads model may still be starting threads for some: those are served with the others below.)
      await eventually(() => welcomed().length > 0 && welcomed().length === server.connected - 1, 'the clients the server took to be welcomed',
        () => `${welcomed().length} welcomed; ${server.diagnostics()}`);
      const first = welcomed();
      expect(first.length).toBeLessThan(clients);
      // The server still serves those it has, out of fds as it is.
      for (const c of first) await c.welcome();
      await Promise.all(first.map((c) => c.ask('still served?')));
      // One log line per run of failures, not one per attempt.
      expect(server.acceptFailures, server.acceptFailureSamples.join('\n')).toBeLessThanOrEqual(server.acceptingAgain + cfg.acceptors);
      // They leave: the others are taken (or refused, threads) as fds come free.
      await Promise.all(first.map((c) => c.exit()));
      let refused = 0;
      await Promise.all(conns.filter((c) => !first.includes(c)).map(async (c) => {
        await c.until(() => c.pending >= 7 || c.ended || c.error !== undefined, 'Welcome or a refusal');
        if (c.pending > 0) {
          await c.welcome();
          await c.ask('served after the others left');
          await c.exit();
        } else {
          refused++;
          await eventually(() => server.refused.has(c.localPort), `a log line refusing ${c.localPort}`, () => server.diagnostics());
          expect(server.refused.get(c.localPort)).toMatch(/cannot start its thread/);
          await c.destroy();
        }
      }));
      if (!cfg.threadPerClient) expect(refused).toBe(0);
      expect(server.acceptingAgain).toBeGreaterThan(0);
      server.clientConnections -= refused;
      await server.allClosesLogged();
      if (cfg.threadPerClient) {
        // Node itself (20.20) leaks the epoll fd of a worker thread whose start fails for want of fds
        // (ERR_WORKER_INIT_FAILED, EMFILE): `ulimit -n 64; node -e` starting 40 workers that fail leaves 2 more
        // anon_inode:[eventpoll] behind, without sockfd. Every other fd must be back: sockets, pipes, eventfds.
        const without = (kinds: Map<string, number>): string =>
          JSON.stringify([...kinds].filter(([k]) => k !== 'anon_inode:[eventpoll]').sort());
        await eventually(() => without(fdKindCounts(server.pid)) === without(baseKinds), 'the server\'s fds, but epoll ones, to be back',
          () => `${fdKinds(server.pid)}, at first ${JSON.stringify([...baseKinds])}`);
      } else {
        await server.fdsBackTo(base);
      }
      await converse(server, 'after');
      expect(server.stderr).toBe('');
      expect(server.unexpected).toEqual([]);
      console.log(`stress ${cfg.name}: out of fds (${FD_LIMIT}, ${base} the server's own): ${first.length} of ${clients} clients taken at first, ` +
        `${refused} refused; ${server.acceptFailures} accept failures logged, ${server.acceptingAgain} x "accepting again"; e.g. ${JSON.stringify(server.acceptFailureSamples[0])}`);
    } finally {
      await server.kill();
    }
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// A log nobody reads for a while: once the threads model has started a thread, Node has made fds 1 and 2
// non-blocking (a worker's output is piped through the main thread's process.stdout and stderr), so a full pipe
// is EAGAIN to a write, not a wait. Every model with a thread per client, each of them tracing.

describe.skipIf(NATIVE_ONLY).each(runnable(CONFIGS.filter((c) => c.threadPerClient), '--trace with its stderr unread'))('--io $name --trace with its stderr unread for a while', (cfg) => {
  it('waits for the full pipe, as a blocking write would, and serves every client', async () => {
    const server = await DemoServer.start([...cfg.args, '--trace', '--backlog', '511']);
    try {
      await converse(server, 'warm-up');
      await server.allClosesLogged();
      const perConversation = server.stderr.length; // bytes of --trace lines a conversation makes
      expect(perConversation).toBeGreaterThan(0);
      server.proc.stderr!.pause(); // the pipe fills (64 KiB), then each write finds it full
      const conversations = Math.ceil((2 * 65536) / perConversation);
      let settled = false;
      const all = inBatches(conversations, 8, (i) => converse(server, `client ${i}`)).finally(() => (settled = true));
      // Read again once the server gets nowhere (every thread waits for the pipe), or all are done. Only when
      // the pipe filled up does this exercise anything; a server that fails on it fails the conversations.
      let last = -1;
      let still = 0;
      await eventually(() => {
        still = server.closed === last ? still + 1 : 0;
        last = server.closed;
        return settled || still >= 50;
      }, 'the conversations to end or stall');
      const stalled = !settled;
      server.proc.stderr!.resume();
      await all;
      await server.allClosesLogged();
      expect(server.failures, server.failureSamples.join('\n')).toBe(0);
      expect(server.unexpected).toEqual([]);
      expect(server.alive).toBe(true);
      console.log(`stress ${cfg.name} --trace: ${conversations} conversations with stderr unread, ${perConversation} bytes of trace each; ` +
        `${stalled ? 'the server waited for the pipe until it was read again' : 'all done before the pipe filled'}`);
    } finally {
      await server.kill();
    }
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// Listen backlog overflow.

/**
 * With listen(fd, 1) Linux keeps two established connections in the accept queue (full when more than the
 * backlog wait) and drops the SYNs that come while it is full; their clients retransmit them (after 1 s, then
 * 3, 7...) and get in once the server has accepted. Counted by TcpExt ListenOverflows, which other processes
 * can only increase.
 */
const QUEUED_PER_LISTENER = 2;

describe.skipIf(NATIVE_ONLY)('listen backlog overflow (--backlog 1)', () => {
  const backlogConfigs = runnable(SCALE.backlogModels === 'all' ? CONCURRENT : CONCURRENT.filter(representative), 'the backlog overflow');

  /**
   * Connects `count` clients, each sending a message at once (before its Welcome): a client whose handshake
   * the full queue dropped after the client saw it complete (the ACK, with SYN cookies) gets in when it sends.
   */
  function connectAndAsk(server: DemoServer, count: number): { connected(): number; clients: Array<Promise<Client>> } {
    let connected = 0;
    const clients = Array.from({ length: count }, async (_, i) => {
      const c = await Client.connect(server, `client ${i}`);
      connected++;
      c.sock.write('sent before the Welcome');
      return c;
    });
    return { connected: () => connected, clients };
  }

  /** Each client reads Welcome and its answer, asks again and leaves: all at once, in whatever order served. */
  async function serveAll(clients: Array<Promise<Client>>): Promise<void> {
    await Promise.all(clients.map(async (p) => {
      const c = await p;
      await c.welcomeThenAnswer();
      await c.ask('served after the overflow');
      await c.exit();
    }));
  }

  // The models that serve one client at a time (blocking): the others wait in the backlog meanwhile.
  it.each(runnable(CONFIGS.filter((c) => !c.concurrent), 'the backlog overflow'))('--io $name: clients beyond the full backlog are retried by the kernel and served in turn', async (cfg) => {
    const server = await DemoServer.start([...cfg.args, '--backlog', '1']);
    try {
      const first = await Client.connect(server, 'first');
      await first.welcome(); // accepted and being served: the others wait in the backlog
      const overflows = listenOverflows();
      const waiting = connectAndAsk(server, QUEUED_PER_LISTENER + 2);
      await eventually(() => waiting.connected() >= QUEUED_PER_LISTENER && listenOverflows() - overflows >= 2,
        `${QUEUED_PER_LISTENER} connections queued and 2 SYNs dropped`,
        () => `${waiting.connected()} connected, ListenOverflows +${listenOverflows() - overflows}`);
      await first.ask('hello');
      await first.exit();
      await serveAll(waiting.clients);
      await converse(server, 'after');
      await server.allClosesLogged();
      server.expectCleanLog();
    } finally {
      await server.kill();
    }
  }, T);

  it.each(backlogConfigs)('--io $name: clients that overflow the backlog while the server is stopped are all served after SIGCONT', async (cfg) => {
    const server = await DemoServer.start([...cfg.args, '--backlog', '1']);
    try {
      await converse(server, 'warm-up');
      await server.allClosesLogged();
      const base = await server.stableFdCount();
      const fit = QUEUED_PER_LISTENER * cfg.listeners;
      const overflows = listenOverflows();
      server.proc.kill('SIGSTOP');
      const waiting = connectAndAsk(server, 2 * fit);
      try {
        // SO_REUSEPORT spreads connections over the listeners by a hash: with two, one may fill first.
        const queued = cfg.listeners === 1 ? fit : 1;
        // Seen once in CI with the uring model and --workers 2: all 8 clients connected while the process was
        // stopped, and only 2 SYNs dropped. Its accepts are io_uring operations, which the kernel apparently
        // went on completing (not verified). There, all clients in and at least one drop is as far as it goes.
        const ringAccepts = cfg.model === 'uring';
        await eventually(() => waiting.connected() >= queued &&
          (listenOverflows() - overflows >= fit || (ringAccepts && waiting.connected() === 2 * fit && listenOverflows() - overflows >= 1)),
          `${queued} connections queued and ${fit} SYNs dropped`,
          () => `${waiting.connected()} connected, ListenOverflows +${listenOverflows() - overflows}`);
      } finally {
        server.proc.kill('SIGCONT');
      }
      await serveAll(waiting.clients);
      await converse(server, 'after');
      await server.allClosesLogged();
      await server.fdsBackTo(base);
      server.expectCleanLog();
    } finally {
      await server.kill();
    }
  }, T);
});

// ---------------------------------------------------------------------------------------------------------------
// Memory over connect/disconnect cycles.

const PROBE = path.join(FIXTURES, 'memory-probe.js');
const CYCLER = path.join(FIXTURES, 'cycle-client.js');
const PHASES = 10;

describe.skipIf(NATIVE_ONLY).each(runnable(SCALING, 'connect/disconnect cycles'))('connect/disconnect cycles on --io $name', (cfg) => {
  const cycles = SCALE.cycles;

  it(`keeps memory and fds flat over ${cycles} cycles`, async () => {
    // The server runs with a memory probe preloaded (a full GC, then a report, on SIGUSR2), V8's young
    // generation capped at 1 MiB a semi-space and GC on the main thread only. Otherwise V8 grows its young
    // generation (up to 2 x 16 MiB) and each GC helper thread's malloc arena at its own discretion, tens of MiB
    // of noise that a leak of 100 bytes a connection would hide in. The old generation, where anything retained
    // ends up, is not capped.
    const server = await DemoServer.start([...cfg.args, '--backlog', '1024'], {
      nodeArgs: ['--max-semi-space-size=1', '--single-threaded-gc', '--expose-gc', '--require', PROBE],
      trackPorts: false,
    });
    try {
      await server.probeMemory();
      const base = await server.stableFdCount();
      const child = spawn(process.execPath, [CYCLER, String(server.port), String(cycles), '64', String(PHASES)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(child);
      child.stdin!.on('error', () => {});
      let out = '';
      let err = '';
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => (err += d));
      const exited = new Promise<number | string>((resolve) => child.on('close', (code, sig) => resolve(code ?? sig ?? -1)));
      const reports: Array<{ cycles: number; memory: MemoryReport; fds: number }> = [];
      let phasesSeen = 0;
      const lines: string[] = [];
      child.stdout!.on('data', (d: string) => {
        out += d;
        lines.push(...d.split('\n').filter((l) => l.startsWith('phase ')));
      });
      // At each phase's end the client waits, all its connections closed: measure the server at rest.
      while (phasesSeen < PHASES - 1) {
        await eventually(() => lines.length > phasesSeen || child.exitCode !== null, `phase ${phasesSeen + 1} of the cycles`,
          () => `client: ${out.slice(-500)} ${err.slice(-500)}; ${server.diagnostics()}`, T);
        expect(child.exitCode, `the cycle client ended early: ${out} ${err}`).toBeNull();
        const done = Number(/^phase \d+ DONE (\d+)$/.exec(lines[phasesSeen])![1]);
        await eventually(() => server.closed >= done, `the server to log ${done} closes`, () => server.diagnostics());
        reports.push({ cycles: done, memory: await server.probeMemory(), fds: fdCount(server.pid) });
        phasesSeen++;
        child.stdin!.write('go\n');
      }
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timed out'), T))]);
      const summary = /^done (\{.*\})$/m.exec(out);
      expect(code, `the cycle client: ${out.slice(-2000)} ${err}`).toBe(0);
      const result = JSON.parse(summary![1]) as { cycles: number; failures: number };
      expect(result.cycles).toBe(cycles);
      expect(result.failures).toBe(0);
      server.clientConnections = cycles;
      await server.allClosesLogged();
      expect(server.connected).toBe(cycles);
      await server.fdsBackTo(base);
      reports.push({ cycles, memory: await server.probeMemory(), fds: fdCount(server.pid) });
      server.expectCleanLog();

      for (const r of reports) expect(r.fds, `fds at rest after ${r.cycles} cycles`).toBe(base);
      const warm = reports[0]; // after 10% of the cycles: code compiled, pools and caches filled
      const end = reports[reports.length - 1];
      console.log(`stress ${cfg.name}: ${cycles} cycles: fds ${base} throughout; after a full GC, RSS ${warm.memory.rss} KiB after ` +
        `${warm.cycles} cycles, ${end.memory.rss} KiB after ${end.cycles} (${end.memory.rss - warm.memory.rss >= 0 ? '+' : ''}${end.memory.rss - warm.memory.rss} KiB); ` +
        `JS heap used ${warm.memory.heapUsed} -> ${end.memory.heapUsed} KiB; RSS by phase: ${reports.map((r) => r.memory.rss).join(' ')}`);
      // At rest, after a full GC: a retained JS object of 12 bytes a connection would show as 1 MiB over
      // 90000 cycles (10 times less in the quick form); the noise seen is about 0.2 MiB.
      expect(end.memory.heapUsed - warm.memory.heapUsed, 'JS heap growth, KiB').toBeLessThan(1024);
      // Native memory too (the addon, libuv, Node): 8 MiB is 93 bytes a connection over 90000 cycles; with the
      // young generation capped and GC on one thread the noise seen is 1 to 2 MiB.
      expectRssBelow(end.memory.rss - warm.memory.rss, 8 * 1024, `RSS over ${cycles} cycles`);
    } finally {
      await server.kill();
    }
  }, T);
});
