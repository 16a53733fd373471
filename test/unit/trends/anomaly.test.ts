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
