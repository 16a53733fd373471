import { describe, expect, it } from 'vitest';
import {
  avgOverTime,
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

describe('quantileOverTime', () => {
  it('should be the sample quantile of the range only, and undefined for an empty one', () => {
    const p = { times: [0, 1, 2, 3, 4], values: [100, 5, 1, 3, -100], from: 1, to: 4 };
    expect(quantileOverTime(0.5, p)).toBe(3);
    expect(quantileOverTime(0.5, { ...p, to: 1 })).toBeUndefined();
    const scratch = { buf: new Float64Array(0) };
    expect(quantileOverTime(1, p, scratch)).toBe(5);
    expect(scratch.buf.length).toBeGreaterThanOrEqual(3);
  });
});
