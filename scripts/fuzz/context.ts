/** What the specs and the runner share: the PRNGs, the report, the threads, the pool and the generators. */
import type { Args } from './args';
import type { Marks, Values } from './gen';
import type { Mutator } from './mutator';
import type { Pool } from './pool';
import type { Rng } from './prng';
import type { Report } from './report';

export interface Ctx {
  /** The main PRNG: every choice of the main thread, from the seed. */
  readonly rng: Rng;
  /** The callbacks' PRNG: their timing is the event loop's, not the seed's. */
  readonly cbRng: Rng;
  readonly report: Report;
  readonly mutator: Mutator;
  readonly pool: Pool;
  /** Values of every kind. */
  readonly v: Values;
  /** The argument generators the specs share. */
  readonly a: Args;
  /** The marks the generators leave on the current step. */
  readonly marks: Marks;
}
