/**
 * `--trace` as a reader meets it: the idle rounds of the polling models fold into one line with a count, so that
 * an idle server does not bury the lesson, and what is printed in full is each distinct line once; and the
 * multiplexing models' rounds as the trace shows them: every ready client read, then the answers.
 * (What each model's trace shows is checked, model by model, in demo.test.ts from the registry's `traceShows`.)
 */
import { describe, expect, it } from 'vitest';
import { CONFIGS, Client, DemoServer, cleanUpDemo, converse, eventually, expectAnswer, io, runnable, setWaitMs } from './helpers/demo';
import { stopped } from './helpers/proc';
import { checkFdLeaks } from './helpers/fds';

checkFdLeaks();
cleanUpDemo();

const T = 30000;
setWaitMs(15000);

/** The models with an idle loop, and what one idle round of each is called in the folded line. */
const IDLE: Readonly<Record<string, string>> = { nonblocking: 'pass', select: 'wait', poll: 'wait', epoll: 'wait' };

describe.each(runnable(CONFIGS.filter((c) => c.name in IDLE), 'idle folding'))('--io $name --trace', (cfg) => {
  it('folds consecutive idle rounds into one line with a count and a time, and prints no line twice in a row', async () => {
    const s = await DemoServer.start(io(cfg.model, ['--trace']));
    // Idle for a while: the selectors wait 250 ms at a time, the nonblocking loop sleeps 10 ms a pass.
    await new Promise((r) => setTimeout(r, 1200));
    const c = await converse(s, 'client', ['hello', 'again']);
    await s.loggedClose(c.localPort);
    const lines = s.stderr.split('\n').filter((l) => l !== '');
    const noun = IDLE[cfg.name];
    const folded = lines.filter((l) => l.startsWith('... '));
    expect(folded.length, s.stderr).toBeGreaterThan(0);
    const re = new RegExp(`^\\.\\.\\. (\\d+) idle ${noun}(?:e?s)?, (\\d+\\.\\d) s$`);
    const counted = folded.map((l) => l.match(re)).filter((m) => m !== null);
    expect(counted.length, `no "... N idle ${noun}s, T s" line in: ${s.stderr}`).toBeGreaterThan(0);
    for (const m of counted) expect(Number(m![1])).toBeGreaterThan(0);
    for (let i = 1; i < lines.length; i++) expect(lines[i], `line ${i} repeats line ${i - 1}`).not.toBe(lines[i - 1]);
    // Unfolded, 1.2 s idle is about 5 selector waits or 100 nonblocking passes of 2 lines each.
    expect(lines.length, s.stderr).toBeLessThan(60);
    expect(s.stderr, 'a result that ends in a colon').not.toMatch(/: $/m);
  }, T);
});

/** The models whose loop reads every ready client before it answers any (lib/demo/models/multiplex.ts). */
const BURST = ['select', 'poll', 'epoll'];

describe.each(runnable(CONFIGS.filter((c) => BURST.includes(c.name)), 'answers in a burst'))('--io $name --trace', (cfg) => {
  it('reads every client its wait reports ready before it answers any of them', async () => {
    const s = await DemoServer.start(io(cfg.model, ['--trace']));
    const a = await Client.connect(s, 'a');
    await a.welcome();
    const b = await Client.connect(s, 'b');
    await b.welcome();
    // Stopped, the server cannot take the first message before the second is there: its next wait reports both.
    // Stopped for sure first: a stop takes effect when the server leaves the kernel, and a wait that the signal
    // woke could still see the first message arrive and return it alone (seen once under ASan in CI).
    expect(s.proc.kill('SIGSTOP')).toBe(true);
    try {
      await eventually(() => stopped(s.proc.pid!), 'the server stopped');
      await new Promise<void>((resolve, reject) => a.sock.write('first', (e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve, reject) => b.sock.write('second', (e) => (e ? reject(e) : resolve())));
    } finally {
      s.proc.kill('SIGCONT');
    }
    for (const c of [a, b]) {
      await c.until(() => c.pending > 0, 'an answer');
      expectAnswer(c.take().toString('latin1'), c.name);
    }
    await a.exit();
    await b.exit();
    await s.loggedClose(b.localPort);
    // The wait that reported both, then their two reads, then their two answers.
    const lines = s.stderr.split('\n');
    const both = lines.findIndex((l) => /^(select|poll|epoll) .*-> 2 ready/.test(l));
    expect(both, s.stderr).toBeGreaterThanOrEqual(0);
    const calls = lines.slice(both + 1, both + 5).map((l) => l.replace(/^fd \d+ +/, ''));
    expect(calls.slice(0, 2).sort(), s.stderr).toEqual(['recv(1024) -> 5 bytes', 'recv(1024) -> 6 bytes']);
    for (const c of calls.slice(2)) expect(c, s.stderr).toMatch(/^send\(\d bytes\) -> \d sent$/);
  }, T);
});
