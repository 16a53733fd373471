/**
 * The quantiles every layer computes, once, as Prometheus 2.42 computes them (promtool 2.42 is the oracle of
 * the alert rules' differential test):
 *
 * - Sample quantile, the definition of PromQL's `quantile` and `quantile_over_time`: rank `q·(n−1)` with
 *   linear interpolation between the two closest ranks (`lo·(1−w) + hi·w`), NaN sorted first as Go sorts,
 *   −Inf for q < 0, +Inf for q > 1, NaN for no values.
 * - histogram_quantile over cumulative buckets: buckets with the same bound added up, counts forced to be
 *   monotonic, linear interpolation inside the bucket that holds the rank, the lowest bucket starting from 0
 *   when its bound is positive (its bound itself when not), the highest finite bound when the rank falls in
 *   +Inf; NaN without a +Inf bucket, with fewer than two buckets, without observations or for q NaN; −Inf
 *   for q < 0, +Inf for q > 1.
 */

/** Go's sort order for float64 values: NaN first, then ascending. */
export function goFloatOrder(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a - b;
}

/** Where quantile q of n ordered values lies: the two ranks and the weight of the upper one. */
function ranks(q: number, n: number): { lower: number; upper: number; weight: number } {
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  return { lower, upper: Math.min(n - 1, lower + 1), weight: rank - Math.floor(rank) };
}

/**
 * Sample quantile q of `sorted[0..n)`, which must be in Go's order (ascending, NaN first; see goFloatOrder).
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number, n: number = sorted.length): number {
  if (n <= 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const { lower, upper, weight } = ranks(q, n);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/** A reusable buffer for sampleQuantile. */
export interface QuantileScratch {
  buf: Float64Array;
}

/**
 * Sample quantile q of `values[from..to)` in any order, unchanged. The two ranks are found by selection (O(n))
 * rather than a full sort; `scratch` is reused between calls when given.
 */
export function sampleQuantile(
  q: number,
  values: ArrayLike<number>,
  from = 0,
  to: number = values.length,
  scratch?: QuantileScratch,
): number {
  const n = to - from;
  if (n <= 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  let buf = scratch?.buf;
  if (buf === undefined || buf.length < n) {
    buf = new Float64Array(Math.max(n, 64));
    if (scratch !== undefined) scratch.buf = buf;
  }
  let nan = false;
  for (let i = 0; i < n; i++) {
    const v = values[from + i]!;
    if (Number.isNaN(v)) nan = true;
    buf[i] = v;
  }
  // Go's order puts NaN first; a comparator sort keeps that exact.
  if (nan) return quantileOfSorted(Array.from(buf.subarray(0, n)).sort(goFloatOrder), q, n);
  const { lower, upper, weight } = ranks(q, n);
  const lo = select(buf, n, lower);
  let hi = lo;
  if (upper > lower) {
    // After selection everything past `lower` is ≥ it; the next rank is their minimum.
    hi = Infinity;
    for (let i = lower + 1; i < n; i++) if (buf[i]! < hi) hi = buf[i]!;
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

/** One cumulative bucket: the `le` series of a histogram. */
export interface Bucket {
  upperBound: number;
  count: number;
}

/**
 * histogram_quantile over cumulative counts `cumulative[i]` of the buckets with upper bounds `upperBounds[i]`,
 * which must be strictly ascending (the last +Inf). Prometheus' bucketQuantile after its sort and coalescing.
 */
export function histogramQuantile(
  q: number,
  upperBounds: ArrayLike<number>,
  cumulative: ArrayLike<number>,
): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const n = upperBounds.length;
  if (n < 2 || upperBounds[n - 1] !== Infinity) return NaN;
  // Counts are forced to be monotonic: a count below an earlier one counts as that one.
  let max = -Infinity;
  let observations = 0;
  for (let i = 0; i < n; i++) {
    const c = cumulative[i]!;
    observations = c < max ? max : c;
    if (c > max) max = c;
  }
  if (observations === 0) return NaN;
  let rank = q * observations;
  // First bucket (among all but the last) whose count reaches the rank.
  max = -Infinity;
  let previous = 0;
  let b = n - 1;
  let count = 0;
  for (let i = 0; i < n - 1; i++) {
    const c = cumulative[i]! < max ? max : cumulative[i]!;
    if (c > max) max = c;
    if (c >= rank) {
      b = i;
      count = c;
      break;
    }
    previous = c;
  }
  if (b === n - 1) return upperBounds[n - 2]!;
  if (b === 0 && upperBounds[0]! <= 0) return upperBounds[0]!;
  let start = 0;
  const end = upperBounds[b]!;
  if (b > 0) {
    start = upperBounds[b - 1]!;
    count -= previous;
    rank -= previous;
  }
  return start + (end - start) * (rank / count);
}

/** histogram_quantile over `le` buckets in any order, some perhaps with the same bound (Prometheus' input). */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (input.length === 0) return NaN;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  // Buckets with the same bound are added up.
  const bounds: number[] = [];
  const counts: number[] = [];
  for (const b of sorted) {
    const last = bounds.length - 1;
    if (last >= 0 && bounds[last] === b.upperBound) counts[last]! += b.count;
    else {
      bounds.push(b.upperBound);
      counts.push(b.count);
    }
  }
  return histogramQuantile(q, bounds, counts);
}

/**
 * histogram_quantile of a histogram as the agent's samples carry it: finite upper bounds (ascending) and
 * per-bucket counts, one more than bounds (the last for +Inf).
 */
export function bucketCountsQuantile(
  q: number,
  h: { readonly boundaries: readonly number[]; readonly counts: readonly number[] },
): number {
  const n = h.boundaries.length + 1;
  const bounds = new Float64Array(n);
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    bounds[i] = i < n - 1 ? h.boundaries[i]! : Infinity;
    sum += h.counts[i] ?? 0;
    cumulative[i] = sum;
  }
  return histogramQuantile(q, bounds, cumulative);
}
