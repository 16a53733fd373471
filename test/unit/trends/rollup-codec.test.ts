import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/lib/errors.js';
import { edgyNumber } from '../fuzz/fuzz-settings.js';
import { decodeRollupBlock, encodeRollupBlock } from '../../../src/trends/history/rollup-codec.js';
import { ROLLUP_COLUMNS, emptyRollup, rollupSamples } from '../../../src/trends/history/rollup.js';
import type { RollupRows } from '../../../src/trends/history/rollup.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

function roundTrip(r: RollupRows, start = T0, bucketMs = MINUTE): { back: RollupRows; bytes: number } {
  const data = encodeRollupBlock(r, start, bucketMs);
  return { back: decodeRollupBlock(data, r.t.length, start, bucketMs), bytes: data.length };
}

/** Every column equal bit for bit (Object.is: NaN is NaN, -0 is not 0). */
function expectSame(a: RollupRows, b: RollupRows): void {
  const cols = (r: RollupRows): number[][] => [
    Array.from(r.t),
    Array.from(r.last),
    ...ROLLUP_COLUMNS.map((c) => Array.from(r.cols[c])),
  ];
  const x = cols(a);
  const y = cols(b);
  x.forEach((col, i) =>
    col.forEach((v, j) => expect(Object.is(v, y[i]![j]), `column ${i} row ${j}`).toBe(true)),
  );
}

/** Any double: the edges (NaN, ±Inf, -0, huge, tiny), whole numbers, few-decimal values, large sums. */
const anyValue = fc.oneof(
  edgyNumber,
  fc.integer({ min: 0, max: 1e6 }).map((x) => x / 100),
  fc.double({ min: 1e15, max: 1e20, noNaN: true }),
);

/** Rows on random buckets of a block, with random values in every column. */
const anyRows = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.array(anyValue, { minLength: 8, maxLength: 8 })), {
    maxLength: 80,
  })
  .map((rows) => {
    const r = emptyRollup(rows.length);
    let k = -1;
    rows.forEach(([gap, v], i) => {
      k += gap;
      r.t[i] = T0 + k * MINUTE;
      r.last[i] = v[0]!;
      ROLLUP_COLUMNS.forEach((c, j) => (r.cols[c][i] = v[j + 1]!));
    });
    return r;
  });

/** Rows from samples, as the store rolls them up: counters (with resets), gauges, constants. */
const sampledRows = fc
  .tuple(
    fc.constantFrom('counter', 'gauge', 'constant', 'decimal'),
    fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 600 }),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(([kind, steps, jitter]) => {
    const t: number[] = [];
    const v: number[] = [];
    let x = 4e9;
    steps.forEach((s, i) => {
      t.push(T0 + i * 10_000 + ((i * jitter) % 11) - 5 + 5);
      if (kind === 'counter')
        x = s === 0 ? 0 : x + s; // a step of 0 resets it
      else if (kind === 'gauge') x = 30 + Math.sin(i / 50) * s;
      else if (kind === 'decimal') x = s / 100;
      else x = 8;
      v.push(x);
    });
    return rollupSamples(t, v, MINUTE, kind === 'counter');
  });

describe('rollup blocks', () => {
  it('should round-trip any rows bit for bit, NaN, ±Inf, -0, huge and tiny values included', () => {
    fc.assert(
      fc.property(anyRows, (r) => {
        expectSame(roundTrip(r).back, r);
      }),
    );
  });

  it('should round-trip rows rolled up from counters, gauges, constants and decimals', () => {
    fc.assert(
      fc.property(sampledRows, (r) => {
        expectSame(roundTrip(r).back, r);
      }),
      { numRuns: 200 },
    );
  });

  it('should round-trip a single row and no rows', () => {
    const one = rollupSamples([T0 + 5], [-0], MINUTE, false);
    expectSame(roundTrip(one).back, one);
    const none = emptyRollup(0);
    expect(roundTrip(none).back.t.length).toBe(0);
  });

  it('should store a steady counter in a few bits per row, its min, max, first and increase from the rest', () => {
    const t: number[] = [];
    const v: number[] = [];
    for (let i = 0; i < DAY / 10_000; i++) {
      t.push(T0 + i * 10_000 + ((i * 7) % 11));
      v.push(1_000_000 + i * 4096);
    }
    const r = rollupSamples(t, v, MINUTE, true);
    const { back, bytes } = roundTrip(r);
    expectSame(back, r);
    // 1440 rows of eight columns: well under a byte per row.
    expect(bytes / r.t.length).toBeLessThan(1);
  });

  it('should store a constant gauge in a few bytes per block', () => {
    const t = Array.from({ length: 8640 }, (_, i) => T0 + i * 10_000);
    const r = rollupSamples(
      t,
      t.map(() => 8),
      MINUTE,
      false,
    );
    expect(roundTrip(r).bytes).toBeLessThan(64);
  });

  it('should refuse rows that are not buckets of the block, and a block with a bad column coding', () => {
    const r = rollupSamples([T0, T0 + MINUTE], [1, 2], MINUTE, false);
    expect(() => encodeRollupBlock(r, T0 + 1, MINUTE)).toThrow(AgentError);
    // Gaps (bit 0), the one row at the block's start (bit 0), then a column tag of all ones: no such coding.
    const bad = new Uint8Array([0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeRollupBlock(bad, 1, T0, MINUTE)).toThrow(/bad rollup column coding/);
  });
});
