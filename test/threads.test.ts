/**
 * worker_threads: the addon loaded in 8 workers at once, each with a selector and watchers; workers terminated
 * while they wait (on their event loop, and in blocking waits); 50 workers started and terminated in turn;
 * the main thread exiting while its workers wait.
 *
 * Each scenario runs in its own `node` process (test/fixtures/threads-main.js, whose workers run
 * test/fixtures/thread-worker.js), so that a crash, an abort or a hang is seen from outside: the process must
 * exit with code 0, print nothing on stderr, and report its checks in a `RESULT <json>` line. The deadline
 * only detects a hang; nothing here measures time. Under `npm run test:asan` the children load the ASan build
 * too (they inherit SOCKFD_BINDING and LD_PRELOAD).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { root, wrap, type Child } from './helpers/child';

const linux = process.platform === 'linux';
if (!linux) console.warn('sockfd tests: skipping threads.test.ts: its scenarios count fds in /proc/self/fd (Linux only)');

const script = path.join(root, 'test', 'fixtures', 'threads-main.js');
const children: Child[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

interface Outcome {
  code: number | string;
  stdout: string;
  stderr: string;
  result: Record<string, unknown>;
}

/** Runs a scenario to its end; fails on a hang (past `deadlineMs` it is killed), a crash or any stderr output. */
async function scenario(args: string[], deadlineMs = 30000): Promise<Outcome> {
  const proc = spawn(process.execPath, [script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => (stderr += d));
  const child = wrap(proc);
  children.push(child);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), deadlineMs);
  });
  const code = await Promise.race([child.exited(), hung]);
  clearTimeout(timer);
  if (code === 'hung') {
    child.kill('SIGKILL');
    await child.exited();
  }
  const stdout = child.output();
  const context = `scenario ${args.join(' ')}: exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
  expect(code, context).toBe(0);
  expect(stderr, context).toBe('');
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, context).toBeDefined();
  return { code, stdout, stderr, result: JSON.parse(line!.slice('RESULT '.length)) as Record<string, unknown> };
}

describe.skipIf(!linux)('worker_threads', () => {
  it('8 workers at once, each with a selector (all four kinds) and watchers, exchange data and check readiness; every fd is closed after', async () => {
    const { result } = await scenario(['eight']);
    const results = result.results as Array<{ ok?: boolean; checks?: number; error?: string }>;
    expect(results).toHaveLength(8);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.checks).toBe(17);
    }
    expect(result.codes).toEqual(Array(8).fill(0));
  }, 90000);

  it('8 workers terminated at once while they wait: watchers (some firing on every loop turn), async calls, blocking selector and raw waits with no timeout', async () => {
    // Inside: every worker ends with code 1 and no error; the fds it opened stay open (the process's), and
    // this thread can watch them and move data over them; once it closes them, the fd table is as before.
    const { result } = await scenario(['terminate']);
    expect(result.codes).toEqual(Array(8).fill(1));
    const waits = (result.waits as Array<{ wait: string; timeout?: number }>).map((w) => w.wait);
    expect(new Set(waits)).toEqual(new Set(['events', 'select', 'raw', 'blocking']));
  }, 90000);

  it('50 workers started and terminated one after another: no crash, the fd count the same after each', async () => {
    const { result } = await scenario(['recreate', '50'], 120000);
    expect(result.iterations).toBe(50);
  }, 150000);

  it.each([1, 2, 3])('50 workers terminated after a random delay (seed %i): anywhere from loading the addon to having finished', async (seed) => {
    const { result } = await scenario(['chaos', '50', String(seed)], 120000);
    expect(result.iterations).toBe(50);
    expect((result.terminated as number) + (result.finished as number) + (result.stoppedAtStart as number)).toBe(50);
  }, 150000);

  it.each(['process-exit', 'natural'])('the main thread ends (%s) while 8 workers wait, some in blocking selects with no timeout or a 60 s one: exit code 0, no hang', async (how) => {
    const { stdout } = await scenario(['exit', how]);
    expect(stdout).toContain('MAIN EXIT 0');
  }, 90000);

  it('process.exit(0) while 8 workers are still starting up', async () => {
    const { stdout } = await scenario(['exit', 'startup']);
    expect(stdout).toContain('MAIN EXIT 0');
  }, 90000);
});
