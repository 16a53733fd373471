import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeEncoder, decodeTimes } from '../../../src/trends/gorilla.js';
import { BLOCK_TIMES } from '../../../src/trends/history-store.js';
import { MAX_BLOCK_TIMES, ValueEncoder, decodeValues, modeFor } from '../../../src/trends/history/values.js';

function timesRoundTrip(ts: number[]): { t: number[]; bytes: number } {
  const e = new TimeEncoder();
  for (const t of ts) e.append(t);
  const t: number[] = [];
  decodeTimes(e.bytes(), e.count, t);
  return { t, bytes: e.bytes().length };
}

/** Encodes `vs` at positions `at` of a block with times `times`; decodes them back. */
function valuesRoundTrip(
  vs: readonly number[],
  at: readonly number[] = vs.map((_, i) => i),
  mode = 0,
): { t: number[]; v: number[]; bytes: number; mode: number } {
  const e = new ValueEncoder(mode);
  vs.forEach((v, i) => e.append(at[i]!, v));
  const times = Array.from({ length: (at[at.length - 1] ?? 0) + 1 }, (_, i) => 1000 + i);
  const t: number[] = [];
  const v: number[] = [];
  decodeValues(e.bytes(), e.count, at[0] ?? 0, times, t, v);
  return { t, v, bytes: e.byteLength, mode: e.mode };
}

function sameBits(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

/** Strictly increasing positions within a block, from gaps of 1 or more. */
const positions = (n: number): fc.Arbitrary<number[]> =>
  fc
    .array(fc.oneof(fc.constant(1), fc.constant(1), fc.integer({ min: 2, max: 20 })), {
      minLength: n,
      maxLength: n,
    })
    .map((gaps) => {
      let p = -1;
      return gaps.map((g) => (p += g)).map((x) => Math.min(x, MAX_BLOCK_TIMES - 1));
    });

describe('TimeEncoder', () => {
  it('should round-trip increasing timestamps with jitter, pauses and clock steps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })), {
          maxLength: 300,
        }),
        (t0, steps) => {
          const ts = [t0];
          for (const s of steps) ts.push(ts[ts.length - 1]! + s);
          expect(timesRoundTrip(ts).t).toEqual(ts);
        },
      ),
    );
  });

  it('should spend one bit per timestamp at a steady interval', () => {
    const ts = Array.from({ length: 512 }, (_, i) => 1_764_000_000_000 + i * 10_000);
    // 8 bytes for the first, 4 for the first delta, a bit for each later one
    expect(timesRoundTrip(ts).bytes).toBe(8 + 4 + Math.ceil(510 / 8));
  });
});

describe('ValueEncoder', () => {
  it('should round-trip any float64 bit for bit, NaN, ±Inf and -0 included, from any starting mode', () => {
    const special = fc.constantFrom(
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      0.1 + 0.2,
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.double(),
            special,
            fc.integer(),
            fc.integer({ min: -5, max: 5 }).map((x) => x / 10),
          ),
          {
            minLength: 1,
            maxLength: 200,
          },
        ),
        fc.integer({ min: 0, max: 15 }),
        (vs, mode) => {
          fc.pre(mode <= 9 || mode === 15);
          const out = valuesRoundTrip(
            vs,
            vs.map((_, i) => i),
            mode,
          );
          expect(sameBits(out.v, vs)).toBe(true);
        },
      ),
    );
  });

  it('should round-trip integers, counters with resets and few-decimal values at their positions', () => {
    const series = fc.oneof(
      // a counter with increments, and resets to zero
      fc.array(fc.oneof(fc.nat(5000), fc.constant(-1)), { minLength: 1, maxLength: 300 }).map((incs) => {
        let c = 0;
        return incs.map((d) => (c = d < 0 ? 0 : c + d));
      }),
      // decimals with up to 9 digits
      fc.array(
        fc
          .tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 9 }))
          .map(([n, k]) => n / 10 ** k),
        { minLength: 1, maxLength: 300 },
      ),
      // big integers (bytes), near the scaled limit and beyond it
      fc.array(fc.oneof(fc.integer({ min: 0, max: 2 ** 52 }), fc.maxSafeInteger()), {
        minLength: 1,
        maxLength: 100,
      }),
    );
    fc.assert(
      fc.property(
        series.chain((vs) => fc.tuple(fc.constant(vs), positions(vs.length))),
        ([vs, at]) => {
          fc.pre(at.every((p, i) => i === 0 || p > at[i - 1]!));
          const out = valuesRoundTrip(vs, at);
          expect(sameBits(out.v, vs)).toBe(true);
          expect(out.t).toEqual(at.map((p) => 1000 + p));
        },
      ),
    );
  });

  it('should round-trip runs of repeated values, -0 after 0 and repeats after a change of mode', () => {
    // Few distinct values, so that most samples repeat the previous one (the encoder's shortcut for them).
    const value = fc.constantFrom(0, -0, 7, 7, 7, 2.5, 100 / 21, NaN, 2 ** 53);
    fc.assert(
      fc.property(
        fc
          .array(value, { minLength: 1, maxLength: 300 })
          .chain((vs) => fc.tuple(fc.constant(vs), positions(vs.length))),
        fc.constantFrom(0, 3, 15),
        ([vs, at], mode) => {
          fc.pre(at.every((p, i) => i === 0 || p > at[i - 1]!));
          const out = valuesRoundTrip(vs, at, mode);
          expect(sameBits(out.v, vs)).toBe(true);
          expect(out.t).toEqual(at.map((p) => 1000 + p));
        },
      ),
    );
    const zeros = valuesRoundTrip([0, 0, -0, -0, 0, 5, 5, 5]);
    expect(sameBits(zeros.v, [0, 0, -0, -0, 0, 5, 5, 5])).toBe(true);
  });

  it('should spend about a bit per sample on a constant or a steady counter, and detect decimals', () => {
    const constant = valuesRoundTrip(Array.from({ length: 512 }, () => 8));
    // mode and first value 56 bits, then a position bit and a value bit per sample
    expect(constant.bytes).toBe(Math.ceil((4 + 52 + 511 * 2) / 8));
    const counter = valuesRoundTrip(Array.from({ length: 512 }, (_, i) => 1_000_000 + 4096 * i));
    expect(counter.bytes).toBeLessThanOrEqual(Math.ceil((4 + 52 + 17 + 511 * 2) / 8));
    expect(modeFor(2.5)).toBe(1);
    expect(modeFor(0.100401151)).toBe(9);
    expect(modeFor(100 / 21)).toBe(15);
    expect(valuesRoundTrip([1, 2.5, 2.25, 100 / 21, 3]).mode).toBe(15);
  });

  it("should address every position of the store's time blocks", () => {
    expect(BLOCK_TIMES).toBeLessThanOrEqual(MAX_BLOCK_TIMES);
    const last = valuesRoundTrip([1, 2], [0, BLOCK_TIMES - 1]);
    expect(last.t).toEqual([1000, 1000 + BLOCK_TIMES - 1]);
  });

  it('should decode an empty stream to nothing', () => {
    const t: number[] = [];
    expect(decodeValues(new Uint8Array(0), 0, 0, [], t, [])).toBe(0);
    expect(t).toEqual([]);
  });
});
