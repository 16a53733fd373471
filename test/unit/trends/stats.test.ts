import { describe, expect, it } from 'vitest';
import type { SeriesWindow } from '../../../src/trends/history/types.js';
import { computeStatistics } from '../../../src/trends/stats.js';

/** A seeded generator, so the series are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function windowOf(kind: SeriesWindow['kind'], t: number[], v: number[]): SeriesWindow {
  return {
    metric: 'm',
    labels: {},
    kind,
    resolution: 'raw',
    t: Float64Array.from(t),
    v: Float64Array.from(v),
  };
}

// Independent reference computations, written differently from src/trends/stats.ts.
function refPercentile(values: number[], p: number): number {
  // Hyndman & Fan type 7 via the (n - 1) p position, computed on a plain-array copy.
  const a = [...values].sort((x, y) => x - y);
  const h = (a.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return a[lo]! + (h - lo) * (a[hi]! - a[lo]!);
}

function refStddev(values: number[]): number {
  // Welford's running variance (population).
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (const x of values) {
    n++;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  return Math.sqrt(m2 / n);
}

function refSlope(t: number[], raw: number[]): number {
  // Normal equations in the closed form n Σxy − Σx Σy over n Σx² − (Σx)², x in seconds; y shifted by its
  // first value (the slope does not change) so that the closed form keeps its precision on large values.
  const v = raw.map((y) => y - raw[0]!);
  const n = t.length;
  const x = t.map((ms) => (ms - t[0]!) / 1000);
  const sx = x.reduce((a, b) => a + b, 0);
  const sy = v.reduce((a, b) => a + b, 0);
  const sxy = x.reduce((a, xi, i) => a + xi * v[i]!, 0);
  const sxx = x.reduce((a, xi) => a + xi * xi, 0);
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

describe('computeStatistics', () => {
  const cases = [
    { name: 'uniform noise', gen: (r: () => number, i: number) => r() * 100 + i * 0 },
    { name: 'trend plus noise', gen: (r: () => number, i: number) => 5 + 0.01 * i + r() },
    { name: 'spiky', gen: (r: () => number, i: number) => (i % 97 === 0 ? 1e6 : r() * 3) },
    { name: 'large values', gen: (r: () => number) => 1e12 + r() * 1e3 },
  ];
  for (const c of cases) {
    it(`should match an independent computation on ${c.name}`, () => {
      const r = rng(c.name.length * 7919);
      const t: number[] = [];
      const v: number[] = [];
      for (let i = 0; i < 5000; i++) {
        t.push(1_700_000_000_000 + i * 10_000 + Math.floor(r() * 30));
        v.push(c.gen(r, i));
      }
      const s = computeStatistics(windowOf('gauge', t, v), t[0]!, t[t.length - 1]!);
      expect(s.count).toBe(5000);
      expect(s.mean).toBeCloseTo(v.reduce((a, b) => a + b, 0) / v.length, 6);
      expect(s.min).toBe(Math.min(...v));
      expect(s.max).toBe(Math.max(...v));
      expect(s.stddev / refStddev(v)).toBeCloseTo(1, 6);
      for (const [p, got] of [
        [0.5, s.p50],
        [0.95, s.p95],
        [0.99, s.p99],
      ] as const)
        expect(got).toBeCloseTo(refPercentile(v, p), 6);
      expect(s.slope / refSlope(t, v)).toBeCloseTo(1, 6);
      expect(s.rate).toBeUndefined();
    });
  }

  it('should compute a counter rate across resets', () => {
    // 1 per second for 100 s, reset to 0, then 2 per second for 100 s.
    const t: number[] = [];
    const v: number[] = [];
    for (let i = 0; i <= 100; i++) {
      t.push(i * 1000);
      v.push(1000 + i);
    }
    for (let i = 1; i <= 100; i++) {
      t.push((100 + i) * 1000);
      v.push(2 * i);
    }
    const s = computeStatistics(windowOf('counter', t, v), 0, 200_000);
    // increase: 100 + (2, the first sample after the reset counts from 0) + 99 × 2
    expect(s.rate).toBeCloseTo((100 + 2 + 198) / 200, 12);
  });

  it('should give NaN statistics and no rate for an empty window', () => {
    const s = computeStatistics(windowOf('counter', [], []), 0, 1);
    expect(s.count).toBe(0);
    expect(s.mean).toBeNaN();
    expect(s.p99).toBeNaN();
    expect(s.rate).toBeUndefined();
  });
});
