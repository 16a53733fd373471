/**
 * The PromQL functions alert rules map to, computed the way Prometheus 2.42 computes them (promtool 2.42 is
 * the oracle of the differential test): `rate()`/`increase()` with counter-reset handling and extrapolation,
 * the `*_over_time` functions and `quantile_over_time`. Inputs are the non-stale samples of one series inside
 * the range `[t - range, t]` (both ends included, as in Prometheus 2.x). The quantiles themselves (sample
 * quantile and histogram_quantile's bucket interpolation) are model/quantile's, shared with trends and probes.
 */
import { sampleQuantile } from '../model/quantile.js';
import type { QuantileScratch } from '../model/quantile.js';

/** Samples of one series in a range: parallel arrays of times (ms) and values, oldest first. */
export interface RangePoints {
  readonly times: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  /** Index of the first point in the range. */
  readonly from: number;
  /** Index after the last point in the range. */
  readonly to: number;
}

/**
 * rate() (isRate) or increase() over the range ending at `endMs`; undefined when fewer than two samples
 * (Prometheus drops the series then).
 */
export function extrapolatedRate(
  p: RangePoints,
  rangeMs: number,
  endMs: number,
  isRate: boolean,
): number | undefined {
  const n = p.to - p.from;
  if (n < 2) return undefined;
  const first = p.values[p.from]!;
  const last = p.values[p.to - 1]!;
  let result = last - first;
  let prev = first;
  for (let i = p.from + 1; i < p.to; i++) {
    const v = p.values[i]!;
    if (v < prev) result += prev;
    prev = v;
  }
  const firstT = p.times[p.from]!;
  const lastT = p.times[p.to - 1]!;
  const rangeStart = endMs - rangeMs;
  let durationToStart = (firstT - rangeStart) / 1000;
  const durationToEnd = (endMs - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageBetween = sampledInterval / (n - 1);
  if (result > 0 && first >= 0) {
    // A counter cannot go below zero: do not extrapolate past the point where it would have been zero.
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageBetween * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2;
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** avg_over_time, with Prometheus' incremental mean. */
export function avgOverTime(p: RangePoints): number | undefined {
  if (p.to <= p.from) return undefined;
  let mean = 0;
  let count = 0;
  for (let i = p.from; i < p.to; i++) {
    const v = p.values[i]!;
    count++;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue;
      if (Number.isFinite(v)) continue;
    }
    mean += v / count - mean / count;
  }
  return mean;
}

/** max_over_time (sign 1) or min_over_time (sign −1): NaN is replaced by any other value. */
function extremeOverTime(p: RangePoints, sign: 1 | -1): number | undefined {
  if (p.to <= p.from) return undefined;
  let best = p.values[p.from]!;
  for (let i = p.from + 1; i < p.to; i++) {
    const v = p.values[i]!;
    if (sign * v > sign * best || Number.isNaN(best)) best = v;
  }
  return best;
}

/** max_over_time: NaN is replaced by any other value. */
export function maxOverTime(p: RangePoints): number | undefined {
  return extremeOverTime(p, 1);
}

/** min_over_time: NaN is replaced by any other value. */
export function minOverTime(p: RangePoints): number | undefined {
  return extremeOverTime(p, -1);
}

/**
 * quantile_over_time(q, …): the sample quantile of the range (model/quantile); undefined for an empty range.
 * `scratch` is reused between calls when given.
 */
export function quantileOverTime(q: number, p: RangePoints, scratch?: QuantileScratch): number | undefined {
  if (p.to <= p.from) return undefined;
  return sampleQuantile(q, p.values, p.from, p.to, scratch);
}
