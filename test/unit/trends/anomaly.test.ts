import { describe, expect, it } from 'vitest';
import { SeriesDetector } from '../../../src/trends/anomaly.js';
import type { AnomalyAlgorithm, DetectorSettings } from '../../../src/trends/anomaly.js';

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

function settings(
  algorithm: AnomalyAlgorithm,
  sensitivity: number,
  extra: Partial<DetectorSettings> = {},
): DetectorSettings {
  return { algorithm, sensitivity, minSamples: 100, windowSamples: 360, seasonality: 'none', ...extra };
}

const ALGORITHMS: AnomalyAlgorithm[] = ['zscore', 'iqr', 'mad'];
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);

describe('SeriesDetector', () => {
  for (const algorithm of ALGORITHMS) {
    it(`should find injected spikes with high precision and recall (${algorithm})`, () => {
      const noise = gaussian(rng(42));
      const r = rng(7);
      const d = new SeriesDetector(settings(algorithm, algorithm === 'iqr' ? 3 : 4));
      const injected = new Set<number>();
      let tp = 0;
      let fp = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++) {
        const spike = i > 400 && i % 173 === 0;
        const base = 50 + 10 * Math.sin((2 * Math.PI * i) / 5000);
        const x = base + 2 * noise() + (spike ? (r() < 0.5 ? -1 : 1) * (16 + 8 * r()) : 0);
        if (spike) injected.add(i);
        const res = d.update(T0 + i * 10_000, x);
        if (res.flag) {
          if (spike) tp++;
          else fp++;
        }
      }
      const precision = tp / (tp + fp);
      const recall = tp / injected.size;
      console.log(
        `anomaly ${algorithm}: ${injected.size} injected spikes (8-12 sigma) in ${n} samples: ` +
          `precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)} (tp ${tp}, fp ${fp})`,
      );
      expect(precision).toBeGreaterThanOrEqual(0.9);
      expect(recall).toBeGreaterThanOrEqual(0.95);
    });

    it(`should raise no alarm on steady noise below the sensitivity (${algorithm})`, () => {
      // Uniform noise: its largest z-score is √3 ≈ 1.73, its largest IQR distance 0.5, its largest
      // robust z-score about 1.35 — all below the seed's default sensitivity of 2.
      const r = rng(99);
      const d = new SeriesDetector(settings(algorithm, 2));
      let flags = 0;
      let scored = 0;
      for (let i = 0; i < 20_000; i++) {
        const res = d.update(T0 + i * 10_000, 20 + (r() * 2 - 1) * 5);
        if (!Number.isNaN(res.score)) scored++;
        if (res.flag) flags++;
      }
      console.log(`anomaly ${algorithm}: steady uniform noise, ${scored} samples scored, ${flags} alarms`);
      expect(scored).toBe(20_000 - 100);
      expect(flags).toBe(0);
    });
  }

  it('should not score before min_samples and should report the expected range', () => {
    const d = new SeriesDetector(settings('zscore', 2, { minSamples: 10, windowSamples: 10 }));
    for (let i = 0; i < 10; i++)
      expect(Number.isNaN(d.update(T0 + i, i % 2 === 0 ? 9 : 11).score)).toBe(true);
    const res = d.update(T0 + 10, 10);
    expect(res.score).toBe(0);
    expect(res.expected![0]).toBeCloseTo(8, 9);
    expect(res.expected![1]).toBeCloseTo(12, 9);
    const spike = d.update(T0 + 11, 20);
    expect(spike.flag).toBe(true);
    expect(spike.score).toBeGreaterThan(9);
  });

  it('should flag any change of a constant series with a large finite score', () => {
    const d = new SeriesDetector(settings('mad', 2, { minSamples: 5, windowSamples: 5 }));
    for (let i = 0; i < 5; i++) d.update(T0 + i, 4);
    expect(d.update(T0 + 5, 4).flag).toBe(false);
    const res = d.update(T0 + 6, 5);
    expect(res.flag).toBe(true);
    expect(Number.isFinite(res.score)).toBe(true);
  });

  it('should keep its running sums exact over many windows of large values', () => {
    const d = new SeriesDetector(settings('zscore', 3, { minSamples: 50, windowSamples: 50 }));
    const r = rng(3);
    let last = { score: NaN, flag: false };
    for (let i = 0; i < 100_000; i++) last = d.update(T0 + i, 1e12 + r());
    expect(last.flag).toBe(false);
    expect(last.score).toBeLessThan(2);
  });

  it('should accept a daily pattern with seasonality on, and still flag the same jump at another hour', () => {
    const MIN = 60_000;
    const run = (seasonality: 'none' | 'daily'): { atPatternHour: number; elsewhere: number } => {
      const noise = gaussian(rng(5));
      const d = new SeriesDetector(
        settings('zscore', 4, { minSamples: 30, windowSamples: 360, seasonality }),
      );
      let atPatternHour = 0;
      let elsewhere = 0;
      for (let i = 0; i < 5 * 24 * 60; i++) {
        const t = T0 + i * MIN;
        const day = Math.floor(i / 1440);
        const hour = Math.floor((i % 1440) / 60);
        const pattern = hour === 3; // a nightly batch job
        const injected = day === 4 && hour === 15 && i % 60 < 3; // the same jump, once, at 15:00
        const x = 50 + noise() + (pattern || injected ? 30 : 0);
        const res = d.update(t, x);
        if (day >= 2 && pattern && res.flag) atPatternHour++;
        if (injected && res.flag) elsewhere++;
      }
      return { atPatternHour, elsewhere };
    };
    const plain = run('none');
    const seasonal = run('daily');
    console.log(
      `seasonality: nightly jump flagged ${plain.atPatternHour}× without, ${seasonal.atPatternHour}× with daily seasonality; ` +
        `the same jump at 15:00 flagged ${plain.elsewhere}/3 and ${seasonal.elsewhere}/3`,
    );
    expect(plain.atPatternHour).toBeGreaterThan(0);
    expect(seasonal.atPatternHour).toBe(0);
    expect(seasonal.elsewhere).toBeGreaterThanOrEqual(1);
  });
});

const MINUTE = 60_000;
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
  for (let i = 0; i < n; i++) if (d.update(T0 + i * MINUTE, value(i)).flag) out.push(i);
  return out;
}

describe('adaptive detector', () => {
  it('should learn for min_samples values, then report a score and the expected range', () => {
    const noise = gaussian(rng(1));
    const d = new SeriesDetector(SETTINGS);
    for (let i = 0; i < 100; i++)
      expect(Number.isNaN(d.update(T0 + i * MINUTE, 10 + noise()).score)).toBe(true);
    const res = d.update(T0 + 100 * MINUTE, 10);
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

  // A drift of 0.04 σ per value (24 σ over 10 hours at 1-minute steps) on day 1 is caught by the level
  // against its slower reference; slower drifts, once two days are known, by the slow-drift test
  // (adaptive-drift.test.ts).
  it('should flag a drift away from the level', () => {
    const noise = gaussian(rng(8));
    const flags = flagged(4000, (i) => 50 + noise() + (i >= 2000 ? Math.min(i - 2000, 600) * 0.04 : 0));
    expect(flags.some((i) => i >= 2000 && i < 2600)).toBe(true);
    expect(flags.filter((i) => i < 2000)).toEqual([]);
  });
});
