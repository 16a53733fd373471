import { describe, expect, it } from 'vitest';
import { AdaptiveDetector } from '../../../src/trends/adaptive-detector.js';

/** Fixture series at 1-minute steps from a UTC midnight, the detector at the shipped defaults. */
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const MINUTE = 60_000;
const DAY = 1440;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
}

/** AR(1) noise (φ = 0.6) of standard deviation 1, as metric noise is correlated from one scrape to the next. */
function arNoise(seed: number): () => number {
  const r = rng(seed);
  let ar = 0;
  return () => {
    ar = 0.6 * ar + 0.8 * Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
    return ar;
  };
}

/**
 * Runs the detector along `n` minutes of `value(i)`; returns the indices where the slow-drift test fired
 * (its count went up) and the indices flagged.
 */
function run(n: number, value: (i: number) => number): { drifts: number[]; flags: number[] } {
  const d = new AdaptiveDetector({ sensitivity: 4, minSamples: 100, windowSamples: 360 });
  const drifts: number[] = [];
  const flags: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = d.slowDrifts;
    if (d.update(T0 + i * MINUTE, value(i)).flag) flags.push(i);
    if (d.slowDrifts > before) drifts.push(i);
  }
  return { drifts, flags };
}

describe('adaptive detector: slow drift', () => {
  // A leak: 0.015 σ per minute (0.9 σ an hour) from day 3, e.g. 1.8 MB/h on an RSS whose noise is 2 MB.
  const START = 3 * DAY + 200;
  const leak = (seed: number) => {
    const noise = arNoise(seed);
    return (i: number): number => 100 + noise() + (i >= START ? 0.015 * (i - START) : 0);
  };

  it('should flag a slow drift within 5 hours of its start', () => {
    for (const seed of [1, 2, 3]) {
      const { drifts, flags } = run(START + 900, leak(seed));
      expect(drifts.filter((i) => i < START)).toEqual([]);
      expect(drifts.length).toBeGreaterThan(0);
      expect(drifts[0]! - START).toBeLessThanOrEqual(300);
      expect(flags).toContain(drifts[0]);
    }
  });

  it('should flag a drift down as well as up, and a drift on a series with a daily cycle', () => {
    const noise = arNoise(4);
    const cycle = (i: number): number => 8 * Math.sin((2 * Math.PI * i) / DAY);
    const { drifts } = run(
      START + 600,
      (i) => 100 + noise() + cycle(i) - (i >= START ? 0.015 * (i - START) : 0),
    );
    expect(drifts.filter((i) => i < START)).toEqual([]);
    expect(drifts.length).toBeGreaterThan(0);
    expect(drifts[0]! - START).toBeLessThanOrEqual(300);
  });

  it('should raise no drift on clean correlated noise', () => {
    for (const seed of [5, 6, 7]) {
      const noise = arNoise(seed);
      expect(run(6 * DAY, () => 100 + noise()).drifts).toEqual([]);
    }
  });

  it('should raise no drift on a daily cycle, before or after it is learnt', () => {
    const noise = arNoise(8);
    const { drifts, flags } = run(6 * DAY, (i) => 100 + noise() + 10 * Math.sin((2 * Math.PI * i) / DAY + 1));
    expect(drifts).toEqual([]);
    // The learnt days are quiet (the cycle is not flagged by the other checks either).
    expect(flags.filter((i) => i >= 3 * DAY).length).toBeLessThan(5);
  });

  it('should raise no drift on a level shift (flagged as a shift) or on a spike', () => {
    const noise = arNoise(9);
    const { drifts, flags } = run(
      6 * DAY,
      (i) => 100 + noise() + (i >= START ? 8 : 0) + (i === START + 700 ? 15 : 0),
    );
    expect(flags).toContain(START);
    expect(flags).toContain(START + 700);
    expect(drifts).toEqual([]);
  });

  it('should raise no drift on a change that completes within an hour and then holds', () => {
    for (const seed of [11, 12]) {
      const noise = arNoise(seed);
      const ramp = (i: number): number => 4 * Math.min(1, Math.max(0, (i - START) / 60));
      expect(run(6 * DAY, (i) => 100 + noise() + ramp(i)).drifts).toEqual([]);
    }
  });

  it('should flag a drift that goes on for days once, then take it as the normal wander of the series', () => {
    const noise = arNoise(10);
    const { drifts } = run(START + 3 * DAY, (i) => 100 + noise() + (i >= START ? 0.015 * (i - START) : 0));
    expect(drifts.length).toBe(1);
    expect(drifts[0]! - START).toBeLessThanOrEqual(300);
  });
});
