import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  FORECAST_BUCKETS,
  SeriesForecaster,
  linearFit,
  secondsToThreshold,
} from '../../../src/trends/forecast.js';

describe('linearFit and secondsToThreshold', () => {
  it('should find when a linearly filling disk reaches 100 %', () => {
    // 50 % now, growing 1 % per 10 minutes: full in 500 minutes.
    const t = Array.from({ length: 61 }, (_, i) => i * 60_000);
    const v = t.map((ms) => 44 + ms / 600_000);
    const fit = linearFit(t, v)!;
    expect(fit.slope).toBeCloseTo(1 / 600, 12);
    expect(fit.value).toBeCloseTo(50, 9);
    expect(secondsToThreshold(fit, 100)).toBeCloseTo(500 * 60, 6);
  });

  it('should say never for a flat or receding series and 0 once reached', () => {
    const t = [0, 1000, 2000];
    expect(secondsToThreshold(linearFit(t, [5, 5, 5])!, 100)).toBe(Infinity);
    expect(secondsToThreshold(linearFit(t, [5, 4, 3])!, 100)).toBe(Infinity);
    expect(secondsToThreshold(linearFit(t, [99, 100, 101])!, 100)).toBe(0);
    expect(secondsToThreshold(linearFit(t, [30, 20, 10])!, 0, 'down')).toBeCloseTo(1, 9);
    expect(linearFit([1], [1])).toBeUndefined();
  });
});

describe('SeriesForecaster', () => {
  it('should fit only the samples of its window', () => {
    const f = new SeriesForecaster(60_000);
    // A steep ramp long ago, then a gentle one inside the window.
    for (let i = 0; i < 100; i++) f.add(i * 1000, i < 39 ? i * 100 : 4000 + (i - 40));
    expect(f.size).toBe(61);
    expect(f.fit()!.slope).toBeCloseTo(1, 9);
  });
});

describe('SeriesForecaster memory and accuracy', () => {
  const T = Date.UTC(2026, 0, 1);

  /** Feeds `hours` of a slowly filling disk with noise, one sample every `stepMs`. */
  function feed(
    f: SeriesForecaster,
    stepMs: number,
    hours: number,
    t: number[] = [],
    v: number[] = [],
  ): void {
    for (let ms = 0; ms <= hours * 3_600_000; ms += stepMs) {
      const value = 40 + ms / 3_600_000 + Math.sin(ms / 7_000) * 0.5;
      f.add(ms, value);
      t.push(ms);
      v.push(value);
    }
  }

  it('should keep the same state whether the series is collected every 100 ms or every minute', () => {
    const fast = new SeriesForecaster(6 * 3_600_000);
    const slow = new SeriesForecaster(6 * 3_600_000);
    feed(fast, 100, 7);
    feed(slow, 60_000, 7);
    // 252,000 samples against 421: what is kept must not depend on how many samples came in.
    expect(v8.serialize(fast).byteLength).toBe(v8.serialize(slow).byteLength);
    expect(v8.serialize(fast).byteLength).toBeLessThan(30_000);
  });

  it('should fit like linearFit over the samples of its window, to a bucket at the window start', () => {
    const window = 6 * 3_600_000;
    const f = new SeriesForecaster(window);
    const t: number[] = [];
    const v: number[] = [];
    feed(f, 1000, 7, t, v);
    const last = t.at(-1)!;
    // The buckets overlapping the window reach back at most one bucket (window / 360) before its start.
    const bucket = Math.ceil(window / FORECAST_BUCKETS);
    const from = Math.floor((last - window) / bucket) * bucket;
    const keep = t.map((ms, i) => [ms, v[i]!] as const).filter(([ms]) => ms >= from);
    const exact = linearFit(
      keep.map(([ms]) => ms),
      keep.map(([, x]) => x),
    )!;
    const fit = f.fit()!;
    expect(f.size).toBe(keep.length);
    expect(fit.slope).toBeCloseTo(exact.slope, 12);
    expect(fit.value).toBeCloseTo(exact.value, 9);
    expect(fit.atMs).toBe(last);
    expect(fit.slope * 3600).toBeCloseTo(1, 2);
  });

  it('should count the buckets at the window edges as the per-bucket test does, at exact and fractional times', () => {
    const window = 60_000;
    const bucket = Math.ceil(window / FORECAST_BUCKETS);
    const f = new SeriesForecaster(window);
    const times: number[] = [];
    // Wall-clock times on bucket edges, just before and after them, across several windows.
    for (let k = 1_000_000; k < 1_000_000 + 3 * FORECAST_BUCKETS; k += 7)
      for (const d of [-0.25, 0, 0.25, bucket / 2]) times.push(k * bucket + d);
    for (const t of times.sort((x, y) => x - y)) {
      f.add(t, t / 1000);
      const start = t - window;
      const expected = times.filter((s) => {
        const key = Math.floor(s / bucket);
        return s <= t && (key + 1) * bucket > start && key * bucket <= t;
      }).length;
      expect(f.size).toBe(expected);
    }
  });

  it('should fit after every sample as a forecaster fed the same samples at once does, late samples included', () => {
    // fit() keeps the buckets before the latest combined between calls; a fresh forecaster combines them anew.
    const window = 60_000;
    const f = new SeriesForecaster(window);
    const fed: [number, number][] = [];
    let t = 5_000_000;
    // Eight or so samples per bucket (1/360 of the window), so that fit() reuses its combined buckets.
    for (let i = 0; i < 1500; i++) {
      t += 20;
      // Now and then a late sample, one to three buckets back (the collection of a slow source).
      const at = i % 23 === 5 ? t - 200 - (i % 3) * 170 : t;
      const v = 10 + at / 60_000 + Math.sin(i / 5);
      f.add(at, v);
      fed.push([at, v]);
      const live = f.fit();
      const fresh = new SeriesForecaster(window);
      for (const [ts, x] of fed) fresh.add(ts, x);
      const once = fresh.fit();
      expect(live === undefined).toBe(once === undefined);
      if (live === undefined || once === undefined) continue;
      expect(live.slope).toBeCloseTo(once.slope, 9);
      expect(live.value).toBeCloseTo(once.value, 9);
      expect(live.atMs).toBe(once.atMs);
    }
  });

  it('should keep full precision for large values with small changes', () => {
    const f = new SeriesForecaster(3_600_000);
    // A byte counter near 1 TB growing 1 byte per second.
    for (let s = 0; s <= 3600; s++) f.add(s * 1000, 1e12 + s);
    expect(f.fit()!.slope).toBeCloseTo(1, 9);
    expect(f.fit()!.value).toBe(1e12 + 3600);
  });

  it('should move the kept samples with a wall-clock step', () => {
    const stepped = new SeriesForecaster(600_000);
    const moved = new SeriesForecaster(600_000);
    // Ten minutes of 1 unit per second, then the wall clock is set back an hour; the series goes on.
    for (let s = 0; s < 600; s++) {
      stepped.add(T + s * 1000, s);
      moved.add(T - 3_600_000 + s * 1000, s);
    }
    stepped.shift(-3_600_000);
    for (let s = 600; s < 660; s++) {
      stepped.add(T - 3_600_000 + s * 1000, s);
      moved.add(T - 3_600_000 + s * 1000, s);
    }
    // The same window, to a bucket (1/360 of it) at its start: the buckets keep their pre-step boundaries.
    expect(Math.abs(stepped.size - moved.size)).toBeLessThanOrEqual(2);
    expect(stepped.size).toBeGreaterThan(590);
    expect(stepped.fit()!.slope).toBeCloseTo(1, 9);
    expect(stepped.fit()!.atMs).toBe(moved.fit()!.atMs);
    expect(stepped.fit()!.value).toBeCloseTo(659, 6);
    expect(stepped.fit(T)!.value).toBeCloseTo(moved.fit(T)!.value, 6);
  });

  it('should give no line for a single instant and ignore non-finite values', () => {
    const f = new SeriesForecaster(60_000);
    f.add(1000, 1);
    f.add(1000, 2);
    f.add(2000, NaN);
    expect(f.fit()).toBeUndefined();
    expect(f.size).toBe(2);
  });
});
