/**
 * One step: a spec picked by weight, its arguments made and made safe, the call made during a mutator burst
 * when it was given shared memory, its outcome classified (a promise's when it settles), and the spec's hooks.
 */
import * as fs from 'node:fs';
import type { Ctx } from './context';
import { OOR_BASE } from './pool';
import { type Call, describeCall } from './report';
import type { Spec } from './specs/types';
import type { Watchdog } from './watchdog';

export class Runner {
  readonly #cumulative: number[] = [];
  readonly #totalWeight: number;

  constructor(
    private readonly c: Ctx,
    readonly specs: readonly Spec[],
    private readonly watchdog: Watchdog,
    /** Trace every call from this step on (-1: none). */
    private readonly traceFrom: number,
  ) {
    let total = 0;
    for (const sp of specs) {
      total += sp.weight;
      this.#cumulative.push(total);
    }
    this.#totalWeight = total;
  }

  /** A spec index, by weight. */
  chooseSpec(): number {
    const r = this.c.rng.next() * this.#totalWeight;
    const cumulative = this.#cumulative;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Good arguments (55%), one bad one (35%), or each bad by a coin (10%); now and then one too few or too many. */
  buildArgs(sp: Spec): unknown[] {
    const { rng, v } = this.c;
    const kinds = sp.kinds;
    const r = rng.next();
    let args: unknown[];
    if (r < 0.55 || kinds.length === 0) args = kinds.map((g) => g.v());
    else if (r < 0.9) {
      const bad = rng.int(kinds.length);
      args = kinds.map((g, i) => (i === bad ? g.b() : g.v()));
    } else args = kinds.map((g) => (rng.chance(0.5) ? g.b() : g.v()));
    const mayDrop = !kinds.some((g) => g.required);
    if (mayDrop && rng.chance(0.04)) args.length = rng.int(args.length + 1);
    else if (rng.chance(0.02)) args.push(v.junk(true));
    return args;
  }

  /** The last line of defence: fd arguments that could name something the fuzzer does not own are replaced. */
  enforceFdSafety(sp: Spec, args: unknown[]): void {
    const { pool, rng } = this.c;
    sp.kinds.forEach((g, i) => {
      // Positions that are not fds take numbers that are not fds (fileobjs are made safe by their generators).
      if (i >= args.length || g.fd === undefined) return;
      if (!pool.fdSafe(args[i], g.fd)) args[i] = OOR_BASE + rng.int(1000);
    });
  }

  runStep(step: number): void {
    const { c } = this;
    const { report, marks } = c;
    const idx = this.chooseSpec();
    const sp = this.specs[idx];
    this.watchdog.spec(idx);
    marks.racy = false;
    marks.target = -1;
    const args = this.buildArgs(sp);
    this.enforceFdSafety(sp, args);
    sp.prepare?.(args);
    const call: Call = { name: sp.name, args, racy: marks.racy };
    report.current = call;
    if (step >= this.traceFrom && this.traceFrom >= 0) {
      fs.writeSync(2, `[${step}] ${describeCall(call)}${marks.racy ? ` [racy: pool ${marks.target}]` : ''}\n`);
    }
    const finish = sp.before?.(args);
    let result: unknown;
    let threw = false;
    if (marks.racy) c.mutator.kick(marks.target); // the call runs during a burst on its memory
    try {
      result = sp.call(args);
    } catch (e) {
      threw = true;
      report.check(e);
    }
    if (!threw) {
      if (result instanceof Promise) this.settle(sp, call, step, result);
      else {
        report.countOk(call);
        sp.created?.(result, args);
      }
    }
    // Bookkeeping after the call, whatever it returned.
    if (finish) finish(result, threw);
    sp.after?.(args);
  }

  /** An async call: its outcome is counted when it settles (`async=` counts them as they start). */
  private settle(sp: Spec, call: Call, atStep: number, p: Promise<unknown>): void {
    const { report } = this.c;
    report.counts.async++;
    p.then(
      (r) => {
        report.countOk(call);
        sp.created?.(r, call.args);
      },
      (e) => report.check(e, call, atStep),
    );
  }
}
