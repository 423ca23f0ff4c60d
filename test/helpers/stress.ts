/**
 * Helpers of test/stress.test.ts: the scale (SOCKFD_STRESS), batches of clients, the RSS bound (not under
 * ASan), and answers read back to back. The demo server, its clients and the models to run are the demo
 * harness's (./demo.ts); what /proc says of the server is ./proc.ts's.
 */

// ---------------------------------------------------------------------------------------------------------------
// Scale.

export interface Scale {
  name: 'quick' | 'native' | 'ci' | 'full';
  /**
   * Only the tests that take the native code where no other test file does (the `native` scale): the storms,
   * half-close, the concurrent connections and select past FD_SETSIZE; not the cycles, the backlog overflow or
   * the unread --trace pipe, whose checks (RSS and fd counts at rest, the kernel's accept queue, a blocked
   * stderr) are of the JavaScript and the kernel. (Out of fds runs too, except under ASan, where it never does.)
   */
  nativeOnly: boolean;
  /** Rounds of the fault clients per model; each round runs every fault at once. */
  rounds: number;
  /** Copies of each fault client per round. */
  copies: number;
  /** Well-behaved lock-step clients running throughout a storm. */
  lockStep: number;
  /** Bytes a never-reading client pipelines, at most, per round. */
  floodBytes: number;
  /** Concurrent connections on each model made to scale (the ones that take --workers: poll, epoll). */
  concurrent: number;
  /** Connections against the select model (more than FD_SETSIZE). */
  selectClients: number;
  /** Connect/disconnect cycles of the memory test, per model (the same ones). */
  cycles: number;
  /**
   * Concurrent models that get the listen backlog overflow test (SIGSTOP): all, or some that each stand for a
   * kind (test/stress.test.ts).
   */
  backlogModels: 'some' | 'all';
}

// npm test: every fault once per model, the 10000 concurrent connections, a tenth of its cycles.
const QUICK: Scale = {
  name: 'quick', rounds: 1, copies: 1, lockStep: 4, floodBytes: 4 << 20, concurrent: 10000, selectClients: 1100,
  cycles: 10000, backlogModels: 'some', nativeOnly: false,
};

const SCALES: Record<Scale['name'], Scale> = {
  quick: QUICK,
  // .ci/run's ASan pass: the quick form's tests that reach native paths no other file reaches (see nativeOnly).
  native: { ...QUICK, name: 'native', nativeOnly: true },
  // .ci/run: the numbers where they are cheap (cycles, connections), fewer fault rounds than full.
  ci: {
    name: 'ci', rounds: 3, copies: 2, lockStep: 6, floodBytes: 16 << 20, concurrent: 10000, selectClients: 2000,
    cycles: 100000, backlogModels: 'all', nativeOnly: false,
  },
  // npm run test:stress: the numbers, and many more faults at once.
  full: {
    name: 'full', rounds: 10, copies: 4, lockStep: 10, floodBytes: 64 << 20, concurrent: 10000, selectClients: 2000,
    cycles: 100000, backlogModels: 'all', nativeOnly: false,
  },
};

/**
 * The scale SOCKFD_STRESS asks for: unset (or empty) is `quick`, npm test's; `native` is the part of it CI runs
 * under ASan (nativeOnly). Under ASan (npm run test:asan, and CI's ASan pass) the quick and native forms make 2000
 * concurrent connections, and the quick form 2000 cycles, instead of 10000 each: they still take every path that
 * the count reaches (more ready fds than one delivery holds, poll arrays past FD_SETSIZE, the watcher table
 * grown), and what the full counts check (fd counts, the JS heap; RSS, which ASan makes meaningless) is checked
 * at full scale without ASan. At 10000 they were 85 s of the ASan suite's 183 s of
 * stress on a slow machine (2026-12-02), in a CI run that took 890 s of its 900.
 */
export function stressScale(value: string | undefined): Scale {
  if (value === undefined || value === '' || value === 'quick' || value === 'native') {
    const scale = SCALES[value === 'native' ? 'native' : 'quick'];
    return UNDER_ASAN ? { ...scale, concurrent: 2000, cycles: 2000 } : scale;
  }
  if (value === 'ci' || value === 'full') return SCALES[value];
  throw new Error(`SOCKFD_STRESS must be unset, quick, native, ci or full, not ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Batches.

/** Runs `tasks` with at most `limit` at a time; rejects with the first failure (after the others settle). */
export async function inBatches<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const i = next++;
      try {
        results[i] = await task(i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// Memory.

/**
 * Whether the servers run under AddressSanitizer (`npm run test:asan` preloads it, and children inherit the
 * environment). ASan keeps freed memory in quarantine (256 MiB by default) and pads every allocation, so resident
 * memory then says nothing about leaks: the RSS bounds are not checked there (fds and the JS heap still are).
 */
export const UNDER_ASAN = /libasan/.test(process.env.LD_PRELOAD ?? '');

/** Checks an RSS bound, except under ASan (saying so). */
export function expectRssBelow(grownKiB: number, limitKiB: number, what: string): void {
  if (UNDER_ASAN) {
    console.warn(`stress tests: ${what}: RSS bound not checked under AddressSanitizer (its quarantine holds freed memory); grew ${grownKiB} KiB`);
    return;
  }
  if (!(grownKiB < limitKiB)) throw new Error(`${what}: RSS grew ${grownKiB} KiB, over the ${limitKiB} KiB bound`);
}

// ---------------------------------------------------------------------------------------------------------------
// Answers.

/**
 * How many answers `text` can be read as. The answers (integers 1..100 as text) arrive back to back without a
 * delimiter, so one stream has several readings: no answer starts with 0 and none is over 100, so "110" reads
 * only as 1,10, but "123" as 1,23 or 12,3 or 1,2,3. Returns the least and the most answers of any reading, or
 * null when the text cannot be answers at all (a byte that is not a digit, a 0 that nothing before can end in).
 */
export function answerCount(text: string): { min: number; max: number } | null {
  const n = text.length;
  // min[i], max[i]: answers in a reading of text[0, i); -1 where no reading exists.
  const min = new Int32Array(n + 1).fill(-1);
  const max = new Int32Array(n + 1).fill(-1);
  min[0] = 0;
  max[0] = 0;
  for (let i = 0; i < n; i++) {
    if (min[i] < 0 || text[i] < '1' || text[i] > '9') continue;
    for (let len = 1; len <= 3 && i + len <= n; len++) {
      const token = text.slice(i, i + len);
      if (!/^\d+$/.test(token) || Number(token) > 100) break;
      const j = i + len;
      if (min[j] < 0 || min[i] + 1 < min[j]) min[j] = min[i] + 1;
      if (max[i] + 1 > max[j]) max[j] = max[i] + 1;
    }
  }
  return min[n] < 0 ? null : { min: min[n], max: max[n] };
}
