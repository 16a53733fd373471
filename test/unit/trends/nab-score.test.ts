import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM JavaScript of the benchmarks, without type declarations
import * as nab from '../../bench/nab-score.js';

interface Score {
  score: number;
  tp: number;
  fp: number;
  fn: number;
  detected: number;
  fpCount: number;
}
type Profile = { tp: number; fp: number; fn: number };
const NAB = nab as {
  PROFILES: Record<'standard' | 'reward_low_fp' | 'reward_low_fn', Profile>;
  anomalyWindows: (length: number, at: number[]) => [number, number][];
  normalisedScore: (raw: number, windows: number, profile?: Profile) => number;
  probationaryPeriod: (length: number) => number;
  scaledSigmoid: (y: number) => number;
  scoreSeries: (flags: boolean[], windows: [number, number][], profile?: Profile) => Score;
};
const { PROFILES, anomalyWindows, normalisedScore, probationaryPeriod, scaledSigmoid, scoreSeries } = NAB;

function flagsAt(length: number, at: number[]): boolean[] {
  const out = new Array<boolean>(length).fill(false);
  for (const i of at) out[i] = true;
  return out;
}

describe('NAB windowed scoring', () => {
  it('should follow the scaled sigmoid of the definition', () => {
    // σ(y) = 2 / (1 + e^(5y)) − 1: 0 at the window end, 2/(1+e^-5) − 1 at its start, −1 past 3 widths.
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(-1)).toBeCloseTo(2 / (1 + Math.exp(-5)) - 1, 12);
    expect(scaledSigmoid(-1)).toBeCloseTo(0.986614, 6);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.986614, 6);
    expect(scaledSigmoid(3.5)).toBe(-1);
  });

  it('should size windows as 10% of the length shared by the anomalies, centred, merged when they overlap', () => {
    expect(anomalyWindows(1000, [500])).toEqual([[450, 550]]);
    expect(anomalyWindows(1000, [300, 700])).toEqual([
      [275, 325],
      [675, 725],
    ]);
    expect(anomalyWindows(1000, [500, 520])).toEqual([[475, 545]]);
    expect(probationaryPeriod(1000)).toBe(150);
    expect(probationaryPeriod(100_000)).toBe(750);
  });

  it('should score a detection at the start of a window as a full true positive', () => {
    const w = anomalyWindows(1000, [500]);
    const r = scoreSeries(flagsAt(1000, [450, 460, 500]), w);
    // Only the first detection of the window counts: A_TP · σ(−101/101) / σ(−1) = 1.
    expect(r.tp).toBeCloseTo(1, 12);
    expect(r.fp).toBe(0);
    expect(r.fn).toBe(0);
    expect(r.score).toBeCloseTo(1, 12);
    expect(normalisedScore(r.score, 1)).toBeCloseTo(100, 10);
  });

  it('should give less for a late detection: σ(−(right − i + 1)/width) / σ(−1)', () => {
    const w = anomalyWindows(1000, [500]); // [450, 550], width 101
    const r = scoreSeries(flagsAt(1000, [530]), w);
    const expected = (2 / (1 + Math.exp((5 * -21) / 101)) - 1) / (2 / (1 + Math.exp(-5)) - 1);
    expect(r.tp).toBeCloseTo(expected, 12);
    expect(r.tp).toBeCloseTo(0.484, 3); // y = −21/101 = −0.208: 2/(1 + e^−1.040) − 1 = 0.4775, over 0.9866
  });

  it('should count a missed window as −A_FN and a flag-free series as the null score', () => {
    const w = anomalyWindows(1000, [300, 700]);
    const r = scoreSeries(flagsAt(1000, []), w);
    expect(r.score).toBe(-2);
    expect(normalisedScore(r.score, 2)).toBe(0);
    expect(scoreSeries(flagsAt(1000, []), w, PROFILES.reward_low_fn).score).toBe(-4);
  });

  it('should weigh false positives by A_FP: −1 before any window, σ of the distance after one', () => {
    const w = anomalyWindows(1000, [500]); // [450, 550]
    // 200 is after the probationary period (150) and before the window: −A_FP.
    expect(scoreSeries(flagsAt(1000, [200]), w).fp).toBeCloseTo(-0.11, 12);
    // 100 is inside the probationary period: nothing.
    expect(scoreSeries(flagsAt(1000, [100]), w).fp).toBe(0);
    // 600 is 50 points past the window's right end, which is 100 points wide (width − 1): y = 0.5.
    const after = scoreSeries(flagsAt(1000, [600]), w);
    expect(after.fp).toBeCloseTo(0.11 * (2 / (1 + Math.exp(2.5)) - 1), 12);
    expect(after.fn).toBe(-1);
    expect(after.fpCount).toBe(1);
    // Far past (y > 3): the full −A_FP; the low-FP profile doubles it.
    expect(scoreSeries(flagsAt(2000, [1900]), anomalyWindows(2000, [400])).fp).toBeCloseTo(-0.11, 12);
    expect(scoreSeries(flagsAt(1000, [200]), w, PROFILES.reward_low_fp).fp).toBeCloseTo(-0.22, 12);
  });
});
