/**
 * The fuzzer (scripts/fuzz/, compiled to dist-fuzz/ by `npm run build:fuzz`, which `npm test` runs first) for a
 * short seed set, each run in its own child process: a crash, an abort, a sanitizer report or a hang there is a
 * failed test here, not a dead runner. `npm run fuzz` runs the long one.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const script = path.join(root, 'dist-fuzz', 'scripts', 'fuzz', 'main.js');
const sources = path.join(root, 'scripts', 'fuzz');

/** The newest modification time of the fuzzer's sources. */
function newestSource(): number {
  let newest = 0;
  for (const f of fs.readdirSync(sources, { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(sources, f)).mtimeMs);
  }
  return newest;
}

// npm test builds the fuzzer first; a run of this file alone (npx vitest run test/fuzz.test.ts) after an edit of
// scripts/fuzz/ must not test the old build.
beforeAll(() => {
  const built = fs.existsSync(script) ? fs.statSync(script).mtimeMs : -Infinity;
  if (newestSource() <= built) return;
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.fuzz.json'], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`building the fuzzer (npm run build:fuzz) failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}, 120000);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runFuzz(seed: number, calls: number, timeLimitMs: number, extra: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    // The child inherits the environment, so SOCKFD_BINDING (and an ASan LD_PRELOAD) reach it too.
    const proc = spawn(process.execPath, [script, '--seed', String(seed), '--calls', String(calls), '--time-limit-ms', String(timeLimitMs), ...extra], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // The fuzzer has its own watchdog; this one is for a child that cannot even start it.
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeLimitMs + 15000);
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const SEEDS = [1, 2, 3, 4];
const CALLS = 5000;
const SUMMARY = /^fuzz: seed=(\d+) calls=(\d+) ok=(\d+) typeerror=(\d+) rangeerror=(\d+) errno=(\d+) \((\d+) distinct codes\)/m;

describe('fuzz (child processes)', () => {
  it.each(SEEDS)(
    `seed %i, ${CALLS} calls: every call works or throws an allowed error; no crash, hang or fd leak`,
    async (seed) => {
      const run = await runFuzz(seed, CALLS, 60000);
      const report = `exit ${run.code} signal ${run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      expect(run.signal, report).toBeNull();
      expect(run.code, report).toBe(0);
      expect(run.stderr, report).not.toMatch(/AddressSanitizer|runtime error:|FAILURE/);
      const m = SUMMARY.exec(run.stdout);
      expect(m, report).not.toBeNull();
      const [, s, calls, ok, typeErrors, rangeErrors, errnos, codes] = m!.map(Number);
      expect(s).toBe(seed);
      expect(calls).toBe(CALLS);
      // The bias towards valid arguments reaches the system calls: some succeed, some fail in the kernel.
      expect(ok).toBeGreaterThan(CALLS / 10);
      expect(typeErrors).toBeGreaterThan(0);
      expect(rangeErrors).toBeGreaterThan(0);
      expect(errnos).toBeGreaterThan(CALLS / 10);
      expect(codes).toBeGreaterThan(5);
    },
    90000,
  );

  it('is reproducible: the same seed gives the same counts', async () => {
    // Without the mutator thread: what it leaves behind (how many bytes a recv into a view it grew took off a
    // socket) shifts later outcomes with its timing, more so on a slow (ASan) build. The seed governs the rest.
    const [a, b] = await Promise.all([runFuzz(7, 2000, 60000, ['--no-mutator']), runFuzz(7, 2000, 60000, ['--no-mutator'])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // The outcome classes; the timing and the async results (which depend on the event loop) are left out.
    const pick = (out: string) => /typeerror=\d+ rangeerror=\d+/.exec(out)?.[0];
    expect(pick(a.stdout)).toBeDefined();
    expect(pick(a.stdout)).toBe(pick(b.stdout));
  }, 90000);

  it('fails, naming seed, step and call, when the time limit is exceeded', async () => {
    const run = await runFuzz(1, 10_000_000, 1500);
    expect(run.code === 0).toBe(false);
    expect(run.stderr).toMatch(/fuzz: FAILURE \(time limit of 1500 ms exceeded\) seed=1 step=\d+ call=/);
  }, 60000);
});
