import { describe, expect, it } from 'vitest';
import { SeriesDetector } from '../../../src/trends/anomaly.js';
import type { DetectorSettings } from '../../../src/trends/anomaly.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
}
function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
}

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const SETTINGS: DetectorSettings = {
  algorithm: 'adaptive',
  sensitivity: 4,
  minSamples: 100,
  windowSamples: 360,
  seasonality: 'none',
};

/** Runs the default detector along `n` minutes of `value(i)`; returns the indices it flags. */
function flagged(n: number, value: (i: number) => number): number[] {
  const d = new SeriesDetector(SETTINGS);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (d.update(T0 + i * MIN, value(i)).flag) out.push(i);
  return out;
}

describe('adaptive detector', () => {
  it('should learn for min_samples values, then report a score and the expected range', () => {
    const noise = gaussian(rng(1));
    const d = new SeriesDetector(SETTINGS);
    for (let i = 0; i < 100; i++) expect(Number.isNaN(d.update(T0 + i * MIN, 10 + noise()).score)).toBe(true);
    const res = d.update(T0 + 100 * MIN, 10);
    expect(Number.isFinite(res.score)).toBe(true);
    expect(res.expected![0]).toBeLessThan(10);
    expect(res.expected![1]).toBeGreaterThan(10);
    expect(d.size).toBe(101);
  });

  it('should stay quiet on Gaussian noise', () => {
    const noise = gaussian(rng(2));
    const flags = flagged(20_000, () => 50 + 3 * noise());
    // At 4 σ a Gaussian value is beyond the range once in 15,787; the other checks add a little.
    expect(flags.length).toBeLessThan(20);
  });

  it('should flag a spike and not the values after it', () => {
    const noise = gaussian(rng(3));
    const flags = flagged(3000, (i) => 50 + noise() + (i === 2000 ? 12 : 0));
    expect(flags).toContain(2000);
    expect(flags.filter((i) => i > 2000 && i < 2100)).toEqual([]);
  });

  it('should flag a level shift for a few values, then take the new level as normal', () => {
    const noise = gaussian(rng(4));
    const flags = flagged(4000, (i) => 50 + noise() + (i >= 2000 ? 8 : 0));
    expect(flags).toContain(2000);
    const after = flags.filter((i) => i >= 2000);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((i) => i > 2400)).toEqual([]);
  });

  it('should flag a variance burst that no single value of which is a spike', () => {
    const noise = gaussian(rng(5));
    const flags = flagged(4000, (i) => 50 + noise() * (i >= 2000 && i < 2100 ? 3.5 : 1));
    expect(flags.some((i) => i >= 2000 && i < 2150)).toBe(true);
    expect(flags.filter((i) => i < 2000)).toEqual([]);
  });

  it('should flag a series that stops changing, but not a series that never changed', () => {
    const noise = gaussian(rng(6));
    let last = 0;
    const flags = flagged(4000, (i) => (i < 2000 || i > 2200 ? (last = 50 + noise()) : last));
    expect(flags.some((i) => i > 2000 && i <= 2200)).toBe(true);
    expect(flags.filter((i) => i < 2000)).toEqual([]);
    expect(flagged(4000, () => 7)).toEqual([]);
  });

  it('should learn a daily pattern and flag the day it breaks', () => {
    const noise = gaussian(rng(7));
    const day = 1440;
    const cycle = (i: number): number => 20 * Math.sin((2 * Math.PI * i) / day);
    // Days 0–3 follow the cycle; on day 4, 06:00–10:00 (the peak), the cycle does not come.
    const broken = (i: number): boolean => i >= 4 * day + 360 && i < 4 * day + 600;
    const flags = flagged(5 * day, (i) => 50 + noise() + (broken(i) ? 0 : cycle(i)));
    expect(flags.some(broken)).toBe(true);
    // The normal days, once the profile is learnt (day 2 on), raise no alarm.
    expect(flags.filter((i) => i >= 2 * day + 200 && i < 4 * day + 360)).toEqual([]);
  });

  // A drift of 0.04 σ per value (24 σ over 10 hours at 1-minute steps) is caught; one of 0.02 σ per value
  // is not (see the drift column of test/bench/anomaly-quality.js).
  it('should flag a drift away from the level', () => {
    const noise = gaussian(rng(8));
    const flags = flagged(4000, (i) => 50 + noise() + (i >= 2000 ? Math.min(i - 2000, 600) * 0.04 : 0));
    expect(flags.some((i) => i >= 2000 && i < 2600)).toBe(true);
    expect(flags.filter((i) => i < 2000)).toEqual([]);
  });
});
