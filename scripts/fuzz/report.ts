/**
 * What the fuzzer counts and reports: the classification of errors (which ones a call may throw), the tallies, the
 * summary line, and the failure report (seed, step, call, arguments, and the command that replays it).
 */
import * as fs from 'node:fs';
import * as util from 'node:util';

/** What the fuzzer's own getters, proxies and callbacks throw: always allowed to come back out. */
export class FuzzerThrow extends Error {}

/** The allowed outcomes of a call. */
export type Outcome = 'ok' | 'typeerror' | 'rangeerror' | 'errno' | 'coded' | 'abort' | 'fuzzer';
type ErrorClass = Exclude<Outcome, 'ok'>;

/** A call, as reports name it. */
export interface Call {
  readonly name: string;
  readonly args: readonly unknown[];
  /** Given memory the mutator thread changes: its outcome is the threads' timing, not the seed's. */
  readonly racy?: boolean;
  /** Made by a callback: its timing is the event loop's. */
  readonly inCallback?: boolean;
}

/** The package's coded errors, and Node's, that a call may throw. */
const ALLOWED_CODES = new Set([
  'ERR_SELECTOR_CLOSED', 'ERR_WATCHER_STOPPED', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_IP_ADDRESS',
  'ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE', 'ABORT_ERR', 'ERR_URING_CLOSED',
  // Socket#sendfile on a non-blocking socket (Python's ValueError), and a send-all whose buffer shrank.
  'ERR_INVALID_STATE',
]);

export function show(v: unknown): string {
  try {
    return util.inspect(v, { depth: 2, maxArrayLength: 8, maxStringLength: 80, breakLength: Infinity, getters: false, showProxy: true });
  } catch (e) {
    return `<uninspectable: ${(e as { message?: unknown } | null)?.message}>`;
  }
}

export function describeCall(c: Call): string {
  return `${c.name}(${c.args.map(show).join(', ')})`;
}

function errText(e: unknown): string {
  if (e instanceof Error) {
    const { code, errno } = e as { code?: unknown; errno?: unknown };
    return `${e.constructor.name} code=${show(code)} errno=${show(errno)}: ${e.stack}`;
  }
  return show(e);
}

export class Report {
  readonly counts = { ok: 0, typeerror: 0, rangeerror: 0, errno: 0, coded: 0, abort: 0, fuzzer: 0, async: 0 };
  /** The outcomes of calls given memory the mutator changes: their timing is the threads', not the seed's. */
  readonly racy = new Map<Outcome, number>();
  racyTotal = 0;
  readonly errnoCodes = new Set<string>();
  /** Errors in callbacks (kept apart: their timing is the event loop's, not the seed's). */
  callbackErrors = 0;
  watchFires = 0;
  /** Per call name, per outcome (errno codes apart), for FUZZ_VERBOSE. */
  readonly perSpec = new Map<string, Map<string, number>>();

  /** The step running, -1 during setup. */
  step = -1;
  /** The call running (or the phase). */
  current: Call = { name: '(setup)', args: [] };
  /** The run's temp dir, removed when the run fails. */
  tmpDir: string | null = null;

  /**
   * @param seed for the reports.
   * @param command how to run the fuzzer again (`node <its main.js>`), for the reproduce line.
   */
  constructor(
    readonly seed: number,
    readonly command: string,
  ) {}

  /** The class of an error a call threw, or null when no call may throw it. */
  classify(e: unknown): ErrorClass | null {
    if (e instanceof FuzzerThrow) return 'fuzzer';
    if (e === null || typeof e !== 'object') return null;
    if (e instanceof TypeError) return 'typeerror';
    if (e instanceof RangeError) return 'rangeerror';
    const { name, code, errno } = e as { name?: unknown; code?: unknown; errno?: unknown };
    if (name === 'AbortError') return 'abort';
    if (typeof code === 'string' && typeof errno === 'number' && errno < 0 && Number.isInteger(errno)) {
      this.errnoCodes.add(code);
      return 'errno';
    }
    if (e instanceof Error && typeof code === 'string' && ALLOWED_CODES.has(code)) return 'coded';
    return null;
  }

  /** The command line that replays a run up to `atStep`, tracing its last calls. */
  reproduce(atStep: number): string {
    return `${this.command} --seed ${this.seed} --calls ${atStep + 1} --trace-from ${Math.max(0, atStep - 5)}`;
  }

  /** Prints the failure (seed, step, call, error, how to replay it) and exits 1. */
  fail(what: string, e: unknown, call: Call = this.current, atStep: number = this.step): never {
    const msg = [
      `fuzz: FAILURE (${what}) seed=${this.seed} step=${atStep}`,
      `  call: ${describeCall(call)}`,
      `  error: ${errText(e)}`,
      `  reproduce: ${this.reproduce(atStep)}`,
      '',
    ].join('\n');
    fs.writeSync(2, msg);
    if (this.tmpDir !== null) fs.rmSync(this.tmpDir, { recursive: true, force: true });
    process.exit(1);
  }

  /** A call threw e: counted if allowed, else the run fails. */
  check(e: unknown, call: Call = this.current, atStep: number = this.step): void {
    const c = this.classify(e);
    if (c === null) this.fail('disallowed error', e, call, atStep);
    if (call.inCallback) this.callbackErrors++;
    else if (call.racy) this.countRacy(c);
    else this.counts[c]++;
    this.tally(call, c === 'errno' ? `errno:${(e as { code: string }).code}` : c);
  }

  /** A call that worked. */
  countOk(call: Call): void {
    if (call.racy) this.countRacy('ok');
    else this.counts.ok++;
    this.tally(call, 'ok');
  }

  private countRacy(c: Outcome): void {
    this.racyTotal++;
    this.racy.set(c, (this.racy.get(c) ?? 0) + 1);
  }

  private tally(call: Call, outcome: string): void {
    const name = call.racy ? `${call.name} [racy]` : call.name;
    let t = this.perSpec.get(name);
    if (t === undefined) this.perSpec.set(name, (t = new Map()));
    t.set(outcome, (t.get(outcome) ?? 0) + 1);
  }

  /** The summary line (test/fuzz.test.ts parses it). */
  summary(calls: number, ms: number): string {
    const c = this.counts;
    const rate = Math.round(calls / (ms / 1000));
    return (
      `fuzz: seed=${this.seed} calls=${calls} ok=${c.ok} typeerror=${c.typeerror} rangeerror=${c.rangeerror} ` +
      `errno=${c.errno} (${this.errnoCodes.size} distinct codes) coded=${c.coded} abort=${c.abort} fuzzer=${c.fuzzer} ` +
      `async=${c.async} watch-callbacks=${this.watchFires} (${this.callbackErrors} errors) racy=${this.racyTotal} ` +
      `time=${Math.round(ms)}ms rate=${rate}/s\n`
    );
  }

  /** FUZZ_VERBOSE's detail: the errno codes, the racy calls and the mutator's work, the outcomes per call. */
  details(mutator: string): string {
    const lines = [
      `fuzz: errno codes: ${[...this.errnoCodes].sort().join(' ')}`,
      `fuzz: racy calls (memory the mutator changed): ${this.racyTotal}: ${[...this.racy].map(([c, n]) => `${c}=${n}`).join(' ')}; ${mutator}`,
    ];
    for (const [name, t] of [...this.perSpec].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      lines.push(`  ${name}: ${[...t].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}=${n}`).join(' ')}`);
    }
    return lines.join('\n') + '\n';
  }
}
