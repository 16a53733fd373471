/**
 * Shared settings of the property-based (fast-check) fuzz tests. Deterministic by default: a fixed seed and a
 * moderate number of runs, so that the folder runs in a few seconds and a failure reproduces. Longer runs:
 *
 *   FUZZ_RUNS=100000 npx vitest run test/unit/fuzz          (more cases, same seed)
 *   FUZZ_SEED=random FUZZ_RUNS=20000 npx vitest run test/unit/fuzz   (a new seed each run; it is printed)
 *
 * A property that fails prints its seed and shrunk counterexample; keep the counterexample as an explicit
 * case in the test file (see the `examples` of each property) with a comment saying what it caught.
 */
import fc from 'fast-check';

const DEFAULT_SEED = 20260101;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function seed(): number {
  if (process.env.FUZZ_SEED === 'random') {
    const s = Math.floor(Math.random() * 0x7fffffff);
    console.warn(`fuzz: FUZZ_SEED=${s}`);
    return s;
  }
  return envInt('FUZZ_SEED') ?? DEFAULT_SEED;
}

const SEED = seed();

/**
 * Parameters for `fc.assert`: `runs` is the default number of runs for this property (scaled up by FUZZ_RUNS,
 * which sets the number of runs of the cheapest properties; costlier ones pass a smaller `runs` and keep
 * their ratio).
 */
export function fuzzParams<T>(runs: number, examples: T[] = []): fc.Parameters<T> {
  const scale = envInt('FUZZ_RUNS');
  const numRuns = scale === undefined ? runs : Math.max(1, Math.round((scale * runs) / 500));
  return { seed: SEED, numRuns, examples };
}

/** Any string, including lone surrogates, control characters and astral-plane characters. */
export const anyText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ maxLength }),
    fc.constantFrom('', '"', '\\', '\n', '\r\n', '\u2028', '\uD800', '{{', '}}', '${', '$$', ',', '=~', '\0'),
  );

/** Numbers at the edges: NaN, ±Infinity, -0, the largest and smallest doubles, huge and negative ones. */
export const edgyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    1e21,
    1e-7,
  ),
  fc.integer(),
);

/** Test timeout of a fuzz test: generous, and none to speak of for long runs (FUZZ_RUNS). */
export const FUZZ_TIMEOUT_MS = envInt('FUZZ_RUNS') === undefined ? 60_000 : 24 * 3_600_000;
