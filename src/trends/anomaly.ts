/**
 * Online anomaly detection for one series. Each new value is scored against a baseline of the previous
 * `windowSamples` values, then joins the baseline:
 *  - zscore: |x − mean| / stddev (running sums over a ring buffer, O(1));
 *  - iqr:    distance beyond the quartiles in units of the interquartile range (sorted window);
 *  - mad:    |x − median| / (1.4826 · MAD), the robust z-score (sorted window, MAD by a linear merge,
 *            refreshed every 8 values since it moves slowly; the median is exact every time).
 * A value is flagged when its score exceeds `sensitivity` and the baseline holds at least `minSamples`.
 * With daily seasonality the value is also compared with the same hour of previous days (running mean and
 * variance per hour of day, UTC); it is flagged only when it is unusual against both baselines, so a
 * spike that happens every day at that hour is not an anomaly. Quartiles and median are model/quantile's
 * sample quantile.
 * The default, `adaptive` (adaptive-detector.ts), keeps no window: a robust level, spread and hour-of-day
 * profile, with level-shift, drift, slow-drift, variance-burst and flat-line checks; `seasonality` does not
 * apply to it (it finds a daily pattern itself).
 */
import { lowerBound } from '../lib/sorted-search.js';
import { quantileOfSorted } from '../model/quantile.js';
import { AdaptiveDetector } from './adaptive-detector.js';
import type { AnomalyResult } from './adaptive-detector.js';

export type AnomalyAlgorithm = 'adaptive' | 'zscore' | 'iqr' | 'mad';

export interface DetectorSettings {
  algorithm: AnomalyAlgorithm;
  sensitivity: number;
  minSamples: number;
  /** Values in the baseline window (≥ minSamples). */
  windowSamples: number;
  seasonality: 'none' | 'daily';
}

export type { AnomalyResult };

const MAD_SCALE = 1.4826;
const MAD_REFRESH = 8;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Spread floor, so a constant baseline gives a large finite score for any change rather than Infinity. */
function floorSpread(spread: number, center: number): number {
  return Math.max(spread, 1e-9 * Math.max(1, Math.abs(center)));
}

/** Median absolute deviation of sorted a[0..n): merges the two sorted deviation runs around the median. */
function mad(a: Float64Array, n: number, med: number): number {
  let i = lowerBound(a, med, 0, n) - 1; // walks left: deviations med − a[i] ascending
  let j = i + 1; // walks right: a[j] − med ascending
  const want = n >>> 1;
  let prev = 0;
  for (let k = 0; k <= want; k++) {
    const dl = i >= 0 ? med - a[i]! : Infinity;
    const dr = j < n ? a[j]! - med : Infinity;
    let d: number;
    if (dl <= dr) {
      d = dl;
      i--;
    } else {
      d = dr;
      j++;
    }
    if (n % 2 === 0 && k === want - 1) prev = d;
    if (k === want) return n % 2 === 0 ? (prev + d) / 2 : d;
  }
  return 0;
}

interface HourStats {
  n: number;
  mean: number;
  m2: number;
}

export class SeriesDetector {
  private readonly _s: DetectorSettings;
  private readonly _ring: Float64Array;
  private readonly _sorted: Float64Array | undefined;
  private _n = 0;
  private _head = 0;
  private _sum = 0;
  private _sumsq = 0;
  /** Shift for the running sums (about the window mean), against cancellation with large values. */
  private _k = NaN;
  private _sinceRecompute = 0;
  /** MAD changes slowly; it is recomputed every MAD_REFRESH values (the median is exact every time). */
  private _mad = NaN;
  private _madAge = 0;
  private readonly _days: { baseline: HourStats[]; today: HourStats[]; day: number } | undefined;
  private readonly _adaptive: AdaptiveDetector | undefined;

  constructor(settings: DetectorSettings) {
    this._s = settings;
    const adaptive = settings.algorithm === 'adaptive';
    if (adaptive) this._adaptive = new AdaptiveDetector(settings);
    const size = adaptive ? 2 : Math.max(settings.windowSamples, settings.minSamples, 2);
    this._ring = new Float64Array(size);
    this._sorted = settings.algorithm === 'zscore' || adaptive ? undefined : new Float64Array(size + 1);
    if (settings.seasonality === 'daily' && !adaptive) {
      const fresh = (): HourStats[] => Array.from({ length: 24 }, () => ({ n: 0, mean: 0, m2: 0 }));
      this._days = { baseline: fresh(), today: fresh(), day: -1 };
    }
  }

  /** Values in the baseline now. */
  get size(): number {
    return this._adaptive?.size ?? this._n;
  }

  /** Scores `x` (observed at `tMs`) against the baseline, then adds it to the baseline. */
  update(tMs: number, x: number): AnomalyResult {
    if (this._adaptive !== undefined) return this._adaptive.update(tMs, x);
    if (!Number.isFinite(x)) return { score: NaN, flag: false };
    let result = this._score(x);
    if (this._days !== undefined) result = this._seasonal(tMs, x, result);
    this._push(x);
    return result;
  }

  private _score(x: number): AnomalyResult {
    const s = this._s;
    const n = this._n;
    if (n < s.minSamples) return { score: NaN, flag: false };
    const k = s.sensitivity;
    let score: number;
    let expected: [number, number];
    if (s.algorithm === 'zscore') {
      const m = this._sum / n;
      const mean = this._k + m;
      const sd = floorSpread(Math.sqrt(Math.max(0, this._sumsq / n - m * m)), mean);
      score = Math.abs(x - mean) / sd;
      expected = [mean - k * sd, mean + k * sd];
    } else if (s.algorithm === 'iqr') {
      const a = this._sorted!;
      const q1 = quantileOfSorted(a, 0.25, n);
      const q3 = quantileOfSorted(a, 0.75, n);
      const iqr = floorSpread(q3 - q1, q3);
      score = x > q3 ? (x - q3) / iqr : x < q1 ? (q1 - x) / iqr : 0;
      expected = [q1 - k * iqr, q3 + k * iqr];
    } else {
      const a = this._sorted!;
      const med = quantileOfSorted(a, 0.5, n);
      if (Number.isNaN(this._mad) || this._madAge >= MAD_REFRESH) {
        this._mad = mad(a, n, med);
        this._madAge = 0;
      }
      this._madAge++;
      const spread = floorSpread(MAD_SCALE * this._mad, med);
      score = Math.abs(x - med) / spread;
      expected = [med - k * spread, med + k * spread];
    }
    return { score, flag: score > k, expected };
  }

  private _seasonal(tMs: number, x: number, base: AnomalyResult): AnomalyResult {
    const d = this._days!;
    const day = Math.floor(tMs / DAY);
    if (day !== d.day) {
      if (d.day >= 0)
        d.today.forEach((h, i) => {
          const b = d.baseline[i]!;
          // Chan et al.: merge today's running mean/variance into the baseline of that hour.
          const n = b.n + h.n;
          if (n === 0) return;
          const delta = h.mean - b.mean;
          b.mean += (delta * h.n) / n;
          b.m2 += h.m2 + (delta * delta * b.n * h.n) / n;
          b.n = n;
          h.n = 0;
          h.mean = 0;
          h.m2 = 0;
        });
      d.day = day;
    }
    const hour = Math.floor((tMs % DAY) / HOUR);
    const b = d.baseline[hour]!;
    const t = d.today[hour]!;
    t.n++;
    const delta = x - t.mean;
    t.mean += delta / t.n;
    t.m2 += delta * (x - t.mean);
    if (b.n < this._s.minSamples || Number.isNaN(base.score)) return base;
    const sd = floorSpread(Math.sqrt(b.m2 / b.n), b.mean);
    const seasonal = Math.abs(x - b.mean) / sd;
    const k = this._s.sensitivity;
    const score = Math.min(base.score, seasonal);
    return { score, flag: score > k, expected: base.expected };
  }

  private _push(x: number): void {
    const size = this._ring.length;
    const sorted = this._sorted;
    if (Number.isNaN(this._k)) this._k = x;
    if (this._n === size) {
      // Full: x replaces the oldest value. In the sorted copy only the values between the two positions move.
      const old = this._ring[this._head]!;
      this._sum -= old - this._k;
      this._sumsq -= (old - this._k) ** 2;
      if (sorted !== undefined) {
        const i = lowerBound(sorted, old, 0, size);
        const j = lowerBound(sorted, x, 0, size);
        if (j > i) {
          sorted.copyWithin(i, i + 1, j);
          sorted[j - 1] = x;
        } else {
          sorted.copyWithin(j + 1, j, i);
          sorted[j] = x;
        }
      }
    } else {
      if (sorted !== undefined) {
        const i = lowerBound(sorted, x, 0, this._n);
        sorted.copyWithin(i + 1, i, this._n);
        sorted[i] = x;
      }
      this._n++;
    }
    this._ring[this._head] = x;
    this._head = (this._head + 1) % size;
    this._sum += x - this._k;
    this._sumsq += (x - this._k) ** 2;
    // Running sums drift with cancellation; rebuild them from the ring once per window.
    if (++this._sinceRecompute >= size) {
      this._sinceRecompute = 0;
      let total = 0;
      for (let i = 0; i < this._n; i++) total += this._ring[i]!;
      this._k = total / this._n;
      let s = 0;
      let q = 0;
      for (let i = 0; i < this._n; i++) {
        const v = this._ring[i]! - this._k;
        s += v;
        q += v * v;
      }
      this._sum = s;
      this._sumsq = q;
    }
  }
}
