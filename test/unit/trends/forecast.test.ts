import { describe, expect, it } from 'vitest';
import { SeriesForecaster, linearFit, secondsToThreshold } from '../../../src/trends/forecast.js';

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
