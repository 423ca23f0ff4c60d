/**
 * Child processes for tests whose code blocks: a blocking server or client runs in its own process, never in
 * the test runner's thread.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const root = path.resolve(__dirname, '..', '..');

export interface Child {
  proc: ChildProcess;
  /** Everything written to stdout so far. */
  output(): string;
  /** Resolves with stdout once `pattern` appears in it (rejects after `ms` or on exit). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name). */
  exited(): Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Runs `code` (CommonJS JavaScript) in a child `node` started in the package root, where `require('sockfd')`
 * is this package's build (dist/, rebuilt by `npm test`'s pretest step). The child inherits the environment,
 * so SOCKFD_BINDING (which addon build to load) reaches it too.
 */
export function runNode(code: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['-e', code, '--', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return wrap(proc);
}

export function wrap(proc: ChildProcess): Child {
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (d: string) => (out += d));
  proc.stderr?.on('data', (d: string) => (err += d));
  const exit = new Promise<number | string>((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return {
    proc,
    output: () => out,
    waitFor(pattern, ms = 10000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; stdout: ${out}; stderr: ${err}`));
        }, ms);
        const onExit = () => {
          check();
          cleanup();
          reject(new Error(`child exited before ${pattern}; stdout: ${out}; stderr: ${err}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          proc.stdout?.off('data', check);
          proc.off('exit', onExit);
        };
        proc.stdout?.on('data', check);
        proc.on('exit', onExit);
        check();
      });
    },
    exited: () => exit,
    kill: (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** What {@link underSignals} reports. */
export interface SignalledRun<R> {
  /** The JSON the child printed after `result `. */
  result: R;
  /** How many SIGUSR1 the parent sent. */
  sent: number;
  /** The child's exit code (or signal name). */
  code: number | string;
}

/**
 * The EINTR tests' harness: runs `code` in a child with a SIGUSR1 counter `signals` already installed. The code
 * prints `ready` just before its wait and `result <json>` after it; from `ready` until `result` the parent sends
 * SIGUSR1 every 50 ms. The child then stays alive, handler installed, until the parent has stopped signalling
 * and closes its stdin: a SIGUSR1 that arrived while the process exits, after Node has let go of the handler,
 * would kill it. The child is killed if anything fails on the way.
 */
export async function underSignals<R>(code: string, args: string[] = [], ms = 15000): Promise<SignalledRun<R>> {
  const child = runNode(`
    let signals = 0;
    process.on('SIGUSR1', () => { signals++; });
    ${code}
    process.stdin.resume();
  `, args);
  let timer: NodeJS.Timeout | undefined;
  try {
    await child.waitFor(/ready/, ms);
    let sent = 0;
    timer = setInterval(() => {
      sent++;
      child.kill('SIGUSR1');
    }, 50);
    const [, json] = await child.waitFor(/result (.*)\n/, ms);
    clearInterval(timer);
    child.proc.stdin!.end();
    return { result: JSON.parse(json) as R, sent, code: await child.exited() };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearInterval(timer);
  }
}
