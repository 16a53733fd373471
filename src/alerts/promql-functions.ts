/**
 * The PromQL functions alert rules map to, computed the way Prometheus 2.42 computes them (promtool 2.42 is
 * the oracle of the differential test): `rate()`/`increase()` with counter-reset handling and extrapolation,
 * the `*_over_time` functions, `quantile_over_time` and `histogram_quantile`'s bucket interpolation.
 * Inputs are the non-stale samples of one series inside the range `[t - range, t]` (both ends included, as in
 * Prometheus 2.x).
 */

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

/** max_over_time: NaN is replaced by any other value. */
export function maxOverTime(p: RangePoints): number | undefined {
  if (p.to <= p.from) return undefined;
  let max = p.values[p.from]!;
  for (let i = p.from + 1; i < p.to; i++) {
    const v = p.values[i]!;
    if (v > max || Number.isNaN(max)) max = v;
  }
  return max;
}

/** min_over_time: NaN is replaced by any other value. */
export function minOverTime(p: RangePoints): number | undefined {
  if (p.to <= p.from) return undefined;
  let min = p.values[p.from]!;
  for (let i = p.from + 1; i < p.to; i++) {
    const v = p.values[i]!;
    if (v < min || Number.isNaN(min)) min = v;
  }
  return min;
}

/**
 * quantile_over_time(q, …): linear interpolation between the two closest ranks. The two ranks are found by
 * selection (O(n)) rather than a full sort; `scratch` is reused between calls when given.
 */
export function quantileOverTime(
  q: number,
  p: RangePoints,
  scratch?: { buf: Float64Array },
): number | undefined {
  const n = p.to - p.from;
  if (n <= 0) return undefined;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  let buf = scratch?.buf;
  if (buf === undefined || buf.length < n) {
    buf = new Float64Array(Math.max(n, 64));
    if (scratch !== undefined) scratch.buf = buf;
  }
  let nan = false;
  for (let i = 0; i < n; i++) {
    const v = p.values[p.from + i]!;
    if (Number.isNaN(v)) nan = true;
    buf[i] = v;
  }
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  let lo: number;
  let hi: number;
  if (nan) {
    // Go's order puts NaN first; a comparator sort keeps that exact.
    const sorted = Array.from(buf.subarray(0, n)).sort(byValue);
    lo = sorted[lower]!;
    hi = sorted[upper]!;
  } else {
    lo = select(buf, n, lower);
    hi = lo;
    if (upper > lower) {
      // After selection everything past `lower` is ≥ it; the next rank is their minimum.
      hi = Infinity;
      for (let i = lower + 1; i < n; i++) if (buf[i]! < hi) hi = buf[i]!;
    }
  }
  return lo * (1 - weight) + hi * weight;
}

/** Hoare's selection: reorders a[0..n) so that a[k] is the k-th smallest; returns it. */
function select(a: Float64Array, n: number, k: number): number {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const pivot = a[(left + right) >>> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
}

/** Go's sort order for float64 values: NaN first, then ascending. */
function byValue(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a - b;
}

export interface Bucket {
  upperBound: number;
  count: number;
}

/** histogram_quantile over cumulative buckets (the `le` series), as Prometheus' bucketQuantile. */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (input.length === 0) return NaN;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;
  // Buckets with the same bound are added up; counts are forced to be monotonic.
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const prev = buckets[buckets.length - 1];
    if (prev !== undefined && prev.upperBound === b.upperBound) prev.count += b.count;
    else buckets.push({ upperBound: b.upperBound, count: b.count });
  }
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // First bucket (among all but the last) whose count reaches the rank.
  let b = buckets.length - 1;
  for (let i = 0; i < buckets.length - 1; i++) {
    if (buckets[i]!.count >= rank) {
      b = i;
      break;
    }
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let start = 0;
  const end = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    start = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return start + (end - start) * (rank / count);
}
