/**
 * Window statistics over one series: count, mean, min, max, standard deviation, p50/p95/p99, the
 * reset-aware rate of counters and the least-squares slope. Raw windows are exact (percentiles are the
 * sample quantile of Prometheus' quantile_over_time); rollup windows are exact for count, mean, min, max,
 * stddev and rate, and take percentiles over the per-bucket means. Histograms take percentiles from their
 * bucket increases over the window, as histogram_quantile does. Both quantiles are model/quantile's.
 */
import { histogramQuantile, sampleQuantile } from '../model/quantile.js';
import { increaseOf, rollupIncrease } from './history/rollup.js';
import type { SeriesWindow } from './history/types.js';
import { linearFit } from './forecast.js';

export interface TrendStatistics {
  metric: string;
  labels: Readonly<Record<string, string>>;
  kind: SeriesWindow['kind'];
  resolution: SeriesWindow['resolution'];
  fromMs: number;
  toMs: number;
  /** Samples in the window (histograms: observations). */
  count: number;
  mean: number;
  min: number;
  max: number;
  stddev: number;
  p50: number;
  p95: number;
  p99: number;
  /** Counters and histograms: increase per second over the window. */
  rate?: number;
  /** Least-squares slope, units per second. */
  slope: number;
  last: number;
  /** Where the percentiles come from. */
  percentiles: 'samples' | 'bucket-means' | 'histogram-buckets';
}

/** Least-squares slope of v over t (t in ms), in units per second; 0 for fewer than two distinct times. */
function slopePerSecond(t: ArrayLike<number>, v: ArrayLike<number>): number {
  return linearFit(t, v)?.slope ?? 0;
}

/** p50, p95 and p99 by one quantile function. */
function percentiles(quantile: (q: number) => number): Pick<TrendStatistics, 'p50' | 'p95' | 'p99'> {
  return { p50: quantile(0.5), p95: quantile(0.95), p99: quantile(0.99) };
}

/** p50, p95 and p99 of values in any order. */
function samplePercentiles(values: ArrayLike<number>): Pick<TrendStatistics, 'p50' | 'p95' | 'p99'> {
  const scratch = { buf: new Float64Array(values.length) };
  return percentiles((q) => sampleQuantile(q, values, 0, values.length, scratch));
}

/** Count, mean, min, max and standard deviation of `n` values; NaN but the count when there are none. */
function moments(
  n: number,
  sum: number,
  min: number,
  max: number,
  variance: (mean: number) => number,
): Pick<TrendStatistics, 'count' | 'mean' | 'min' | 'max' | 'stddev'> {
  if (n === 0) return { count: 0, mean: NaN, min: NaN, max: NaN, stddev: NaN };
  const mean = sum / n;
  return { count: n, mean, min, max, stddev: Math.sqrt(variance(mean)) };
}

/** Statistics of one series window. */
export function computeStatistics(w: SeriesWindow, fromMs: number, toMs: number): TrendStatistics {
  const base = {
    metric: w.metric,
    labels: w.labels,
    kind: w.kind,
    resolution: w.resolution,
    fromMs,
    toMs,
    last: w.v.length > 0 ? w.v[w.v.length - 1]! : NaN,
  };
  const spanS = w.t.length > 1 ? (w.t[w.t.length - 1]! - w.t[0]!) / 1000 : 0;
  if (w.histogram !== undefined) {
    const h = w.histogram;
    const count = h.countIncrease;
    return {
      ...base,
      count,
      mean: count > 0 ? h.sumIncrease / count : NaN,
      min: NaN,
      max: NaN,
      stddev: NaN,
      ...percentiles((q) => histogramQuantile(q, h.le, h.increase)),
      rate: spanS > 0 ? count / spanS : undefined,
      slope: slopePerSecond(w.t, w.v),
      percentiles: 'histogram-buckets',
    };
  }
  if (w.rollup !== undefined) {
    const r = w.rollup;
    let n = 0;
    let sum = 0;
    let sumsq = 0;
    let min = Infinity;
    let max = -Infinity;
    const means = new Float64Array(r.n.length);
    for (let i = 0; i < r.n.length; i++) {
      n += r.n[i]!;
      sum += r.sum[i]!;
      sumsq += r.sumsq[i]!;
      if (r.min[i]! < min) min = r.min[i]!;
      if (r.max[i]! > max) max = r.max[i]!;
      means[i] = r.sum[i]! / r.n[i]!;
    }
    return {
      ...base,
      ...moments(n, sum, min, max, (mean) => Math.max(0, sumsq / n - mean * mean)),
      ...samplePercentiles(means),
      rate: w.kind === 'counter' && spanS > 0 ? rollupIncrease(r, w.v) / spanS : undefined,
      slope: slopePerSecond(w.t, means),
      percentiles: 'bucket-means',
    };
  }
  const v = w.v;
  const n = v.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += v[i]!;
    if (v[i]! < min) min = v[i]!;
    if (v[i]! > max) max = v[i]!;
  }
  const variance = (mean: number): number => {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (v[i]! - mean) ** 2;
    return ss / n;
  };
  return {
    ...base,
    ...moments(n, sum, min, max, variance),
    ...samplePercentiles(v),
    rate: w.kind === 'counter' && spanS > 0 ? increaseOf(v) / spanS : undefined,
    slope: slopePerSecond(w.t, v),
    percentiles: 'samples',
  };
}
