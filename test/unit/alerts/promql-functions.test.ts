import { describe, expect, it } from 'vitest';
import {
  avgOverTime,
  bucketQuantile,
  extrapolatedRate,
  maxOverTime,
  minOverTime,
  quantileOverTime,
} from '../../../src/alerts/promql-functions.js';
import type { RangePoints } from '../../../src/alerts/promql-functions.js';

/** Points one minute apart starting at `startS` seconds. */
function pts(values: number[], startS = 0, stepS = 60): RangePoints {
  return { times: values.map((_, i) => (startS + i * stepS) * 1000), values, from: 0, to: values.length };
}

describe('extrapolatedRate', () => {
  it('should be undefined with fewer than two samples', () => {
    expect(extrapolatedRate(pts([5]), 300_000, 300_000, true)).toBeUndefined();
  });

  it('should give the exact rate when samples cover the window', () => {
    // 0..300 s, +60 a minute: 1/s.
    expect(extrapolatedRate(pts([0, 60, 120, 180, 240, 300]), 300_000, 300_000, true)).toBe(1);
    expect(extrapolatedRate(pts([0, 60, 120, 180, 240, 300]), 300_000, 300_000, false)).toBe(300);
  });

  it('should add the value before a counter reset', () => {
    // 100, 200, reset to 0, 100: increase (200 − 100) + (100 − 0) = 200 over a window the samples cover.
    expect(extrapolatedRate(pts([100, 200, 0, 100]), 180_000, 180_000, false)).toBe(200);
  });

  it('should extrapolate by half an interval when the first sample is far from the window start', () => {
    // Samples at 120..300 s in a 300 s window: 120 s to the start is more than 1.1 × 60 s.
    const v = extrapolatedRate(pts([1000, 1060, 1120, 1180], 120), 300_000, 300_000, false);
    expect(v).toBeCloseTo((180 * (180 + 30)) / 180, 10);
  });

  it('should not extrapolate a counter below zero', () => {
    // 10 → 70 over 60 s in a 300 s window: zero would be reached 10 s before the first sample.
    const v = extrapolatedRate(pts([10, 70], 240), 300_000, 300_000, false);
    expect(v).toBeCloseTo((60 * (60 + 10)) / 60, 10);
  });
});

describe('over-time functions', () => {
  it('should compute avg, max, min over the range', () => {
    const p = pts([3, 1, 4, 1, 5]);
    expect(avgOverTime(p)).toBeCloseTo(2.8, 12);
    expect(maxOverTime(p)).toBe(5);
    expect(minOverTime(p)).toBe(1);
    expect(avgOverTime(pts([]))).toBeUndefined();
  });

  it('should let any value replace NaN in max and min, and keep an infinite mean', () => {
    expect(maxOverTime(pts([NaN, 2]))).toBe(2);
    expect(minOverTime(pts([NaN, 2]))).toBe(2);
    expect(avgOverTime(pts([Infinity, 5]))).toBe(Infinity);
  });

  it('should interpolate quantile_over_time between ranks', () => {
    expect(quantileOverTime(0.5, pts([1, 2, 3, 4]))).toBe(2.5);
    expect(quantileOverTime(0.95, pts([10, 20, 30, 40, 50]))).toBeCloseTo(48, 12);
    expect(quantileOverTime(1.5, pts([1]))).toBe(Infinity);
    expect(quantileOverTime(-1, pts([1]))).toBe(-Infinity);
  });
});

describe('bucketQuantile', () => {
  const b = (pairs: [number, number][]) => pairs.map(([upperBound, count]) => ({ upperBound, count }));

  it('should interpolate linearly inside the bucket holding the rank', () => {
    // 60 observations: 6 ≤ 0.1, 30 ≤ 0.5, 60 ≤ 1. Rank 57 lies in (0.5, 1]: 0.5 + 0.5 × 27/30.
    expect(
      bucketQuantile(
        0.95,
        b([
          [0.1, 6],
          [0.5, 30],
          [1, 60],
          [Infinity, 60],
        ]),
      ),
    ).toBeCloseTo(0.95, 12);
  });

  it('should answer the highest finite bound when the rank falls in +Inf', () => {
    expect(
      bucketQuantile(
        0.99,
        b([
          [1, 10],
          [Infinity, 100],
        ]),
      ),
    ).toBe(1);
  });

  it('should be NaN without a +Inf bucket or without observations', () => {
    expect(bucketQuantile(0.5, b([[1, 10]]))).toBeNaN();
    expect(
      bucketQuantile(
        0.5,
        b([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNaN();
  });

  it('should force non-monotonic counts up and merge equal bounds', () => {
    expect(
      bucketQuantile(
        0.5,
        b([
          [1, 10],
          [2, 5],
          [Infinity, 10],
        ]),
      ),
    ).toBe(
      bucketQuantile(
        0.5,
        b([
          [1, 10],
          [2, 10],
          [Infinity, 10],
        ]),
      ),
    );
    expect(
      bucketQuantile(
        0.5,
        b([
          [1, 5],
          [1, 5],
          [Infinity, 10],
        ]),
      ),
    ).toBe(
      bucketQuantile(
        0.5,
        b([
          [1, 10],
          [Infinity, 10],
        ]),
      ),
    );
  });

  it('should return the first bound when it is not positive', () => {
    expect(
      bucketQuantile(
        0.1,
        b([
          [-1, 5],
          [Infinity, 10],
        ]),
      ),
    ).toBe(-1);
  });
});

describe('quantileOverTime by selection', () => {
  it('should equal the sort-based definition on random inputs', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const scratch = { buf: new Float64Array(0) };
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rand() * 60);
      const values = Array.from({ length: n }, () => Math.round(rand() * 20) / 2);
      const q = [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1][trial % 7]!;
      const sorted = [...values].sort((a, b) => a - b);
      const rank = q * (n - 1);
      const lo = Math.floor(rank);
      const hi = Math.min(n - 1, lo + 1);
      const w = rank - lo;
      const expected = sorted[lo]! * (1 - w) + sorted[hi]! * w;
      expect(quantileOverTime(q, pts(values), scratch)).toBe(expected);
    }
  });

  it('should put NaN first, as Go sorts', () => {
    expect(quantileOverTime(0, pts([3, NaN, 1]))).toBeNaN();
    expect(quantileOverTime(1, pts([3, NaN, 1]))).toBe(3);
  });
});
