import { describe, expect, it } from 'vitest';
import {
  bucketCountsQuantile,
  bucketQuantile,
  goFloatOrder,
  histogramQuantile,
  quantileOfSorted,
  sampleQuantile,
} from '../../../src/model/quantile.js';

describe('sampleQuantile', () => {
  it('should interpolate between the two closest ranks', () => {
    expect(sampleQuantile(0.5, [4, 1, 3, 2])).toBe(2.5);
    expect(sampleQuantile(0, [4, 1, 3, 2])).toBe(1);
    expect(sampleQuantile(1, [4, 1, 3, 2])).toBe(4);
    expect(sampleQuantile(0.99, [7])).toBe(7);
    // rank 0.95 · 4 = 3.8: lower · (1 − w) + upper · w, as Prometheus writes it.
    const w = 0.95 * 4 - 3;
    expect(sampleQuantile(0.95, [50, 10, 40, 20, 30])).toBe(40 * (1 - w) + 50 * w);
  });

  it('should read only values[from..to) and leave the input as it was', () => {
    const values = [100, 5, 1, 3, -100];
    expect(sampleQuantile(0.5, values, 1, 4)).toBe(3);
    expect(values).toEqual([100, 5, 1, 3, -100]);
  });

  it('should be NaN for no values and ±Inf for q out of [0, 1]', () => {
    expect(sampleQuantile(0.5, [])).toBeNaN();
    expect(sampleQuantile(0.5, [1, 2], 1, 1)).toBeNaN();
    expect(sampleQuantile(1.5, [1])).toBe(Infinity);
    expect(sampleQuantile(-1, [1])).toBe(-Infinity);
    expect(quantileOfSorted([], 0.5)).toBeNaN();
    expect(quantileOfSorted([1], 2)).toBe(Infinity);
    expect(quantileOfSorted([1], -0.1)).toBe(-Infinity);
  });

  it('should put NaN first, as Go sorts', () => {
    expect(sampleQuantile(0, [3, NaN, 1])).toBeNaN();
    expect(sampleQuantile(1, [3, NaN, 1])).toBe(3);
    expect(sampleQuantile(0.5, [3, NaN, 1])).toBe(1);
    expect([3, NaN, 1].sort(goFloatOrder)).toEqual([NaN, 1, 3]);
  });

  it('should give by selection what the sorted definition gives, with and without a scratch buffer', () => {
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
      expect(sampleQuantile(q, values, 0, n, scratch)).toBe(expected);
      expect(sampleQuantile(q, values)).toBe(expected);
      expect(quantileOfSorted(sorted, q)).toBe(expected);
      // quantileOfSorted reads only the first n values of a longer buffer.
      expect(quantileOfSorted(Float64Array.from([...sorted, -1, -1]), q, n)).toBe(expected);
    }
    expect(scratch.buf.length).toBeGreaterThanOrEqual(60);
  });
});

describe('histogramQuantile', () => {
  // Prometheus docs example shape: 100 observations, cumulative.
  const le = [0.1, 0.2, 0.5, 1, Infinity];
  const cum = [10, 30, 80, 95, 100];

  it('should interpolate linearly inside the bucket that holds the rank', () => {
    expect(histogramQuantile(0.5, le, cum)).toBeCloseTo(0.2 + ((0.5 - 0.2) * (50 - 30)) / 50, 12);
    expect(histogramQuantile(0.9, le, cum)).toBeCloseTo(0.5 + (0.5 * (90 - 80)) / 15, 12);
  });

  it('should start the lowest bucket from 0 when its bound is positive, and answer that bound when not', () => {
    expect(histogramQuantile(0.05, le, cum)).toBeCloseTo(0.05, 12);
    expect(histogramQuantile(0.1, [-1, Infinity], [5, 10])).toBe(-1);
    expect(histogramQuantile(0.1, [0, Infinity], [5, 10])).toBe(0);
  });

  it('should answer the highest finite bound when the rank falls in +Inf', () => {
    expect(histogramQuantile(0.99, le, cum)).toBe(1);
    expect(histogramQuantile(1, [1, Infinity], [10, 100])).toBe(1);
  });

  it('should be NaN without observations, without a +Inf bucket, with one bucket or for q NaN', () => {
    expect(histogramQuantile(0.5, le, [0, 0, 0, 0, 0])).toBeNaN();
    expect(histogramQuantile(0.5, [0.1, 1], [1, 2])).toBeNaN();
    expect(histogramQuantile(0.5, [Infinity], [10])).toBeNaN();
    expect(histogramQuantile(0.5, [], [])).toBeNaN();
    expect(histogramQuantile(NaN, le, cum)).toBeNaN();
  });

  it('should be ±Inf for q out of [0, 1]', () => {
    expect(histogramQuantile(-0.5, le, cum)).toBe(-Infinity);
    expect(histogramQuantile(1.5, le, cum)).toBe(Infinity);
  });

  it('should force counts below an earlier one up to it', () => {
    expect(histogramQuantile(0.5, [1, 2, Infinity], [10, 5, 10])).toBe(
      histogramQuantile(0.5, [1, 2, Infinity], [10, 10, 10]),
    );
    // A dip before the bucket that holds the rank does not lower what is subtracted from it.
    expect(histogramQuantile(0.9, [1, 2, 3, Infinity], [6, 2, 10, 10])).toBe(
      histogramQuantile(0.9, [1, 2, 3, Infinity], [6, 6, 10, 10]),
    );
    // A dip in +Inf: the observations are the largest count.
    expect(histogramQuantile(0.75, [1, 2, Infinity], [4, 8, 6])).toBe(1.5);
  });
});

describe('bucketQuantile', () => {
  const b = (pairs: [number, number][]) => pairs.map(([upperBound, count]) => ({ upperBound, count }));

  it('should interpolate linearly inside the bucket holding the rank', () => {
    // 60 observations: 6 ≤ 0.1, 30 ≤ 0.5, 60 ≤ 1. Rank 57 lies in (0.5, 1]: 0.5 + 0.5 × 27/30.
    const buckets = b([
      [0.1, 6],
      [0.5, 30],
      [1, 60],
      [Infinity, 60],
    ]);
    expect(bucketQuantile(0.95, buckets)).toBeCloseTo(0.95, 12);
    expect(bucketQuantile(0.95, [...buckets].reverse())).toBe(bucketQuantile(0.95, buckets));
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

  it('should be NaN without buckets, without a +Inf bucket or without observations', () => {
    expect(bucketQuantile(0.5, [])).toBeNaN();
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

describe('bucketCountsQuantile', () => {
  const h = { boundaries: [0.01, 0.1, 1], counts: [50, 40, 9, 1] };

  it('should be histogram_quantile of the cumulative buckets, +Inf added', () => {
    expect(bucketCountsQuantile(0.5, h)).toBeCloseTo(0.01, 9);
    expect(bucketCountsQuantile(0.7, h)).toBeCloseTo(0.01 + 0.09 * (20 / 40), 9);
    expect(bucketCountsQuantile(0.99, h)).toBeCloseTo(1, 9);
    expect(bucketCountsQuantile(0.995, h)).toBe(1);
    for (const q of [0.1, 0.5, 0.95, 0.99])
      expect(bucketCountsQuantile(q, h)).toBe(
        histogramQuantile(q, [0.01, 0.1, 1, Infinity], [50, 90, 99, 100]),
      );
  });

  it('should be NaN for an empty histogram or one with only the +Inf bucket', () => {
    expect(bucketCountsQuantile(0.5, { boundaries: [1], counts: [0, 0] })).toBeNaN();
    expect(bucketCountsQuantile(0.5, { boundaries: [], counts: [5] })).toBeNaN();
  });
});
