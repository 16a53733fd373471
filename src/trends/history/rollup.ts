/**
 * The counter and rollup math of the history: reset-aware increases, and samples bucketed into rollup rows
 * (count, sum, sum of squares, min, max, first and last value, increase) that can be sliced and joined.
 */

/** Aggregates of one rollup bucket, column-wise. */
export interface RollupColumns {
  n: Float64Array;
  sum: Float64Array;
  sumsq: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** First value in the bucket (the last is SeriesWindow.v). */
  first: Float64Array;
  /** Reset-aware increase from the bucket's first sample to its last (counters). */
  inc: Float64Array;
}

/** Rollup rows: bucket starts, last values and the other columns. */
export interface RollupRows {
  t: Float64Array;
  last: Float64Array;
  cols: RollupColumns;
}

/** The columns besides the bucket starts and last values, in their stored order. */
export const ROLLUP_COLUMNS = ['n', 'sum', 'sumsq', 'min', 'max', 'first', 'inc'] as const;

/** Reset-aware increase from `prev` to `cur`, as Prometheus' rate() counts it. */
function counterIncrease(prev: number, cur: number): number {
  return cur >= prev ? cur - prev : cur;
}

/** Reset-aware per-second rate from `prev` at `prevT` to `cur` at `t` (ms). */
export function counterRate(prevT: number, prev: number, t: number, cur: number): number {
  return counterIncrease(prev, cur) / ((t - prevT) / 1000);
}

/** Reset-aware increase between consecutive values. */
export function increaseOf(v: ArrayLike<number>): number {
  let inc = 0;
  for (let i = 1; i < v.length; i++) inc += counterIncrease(v[i - 1]!, v[i]!);
  return inc;
}

/** Reset-aware increase over rollup buckets: within each bucket, and between consecutive buckets. */
export function rollupIncrease(cols: RollupColumns, last: ArrayLike<number>): number {
  let inc = 0;
  for (let i = 0; i < cols.inc.length; i++) {
    inc += cols.inc[i]!;
    if (i > 0) inc += counterIncrease(last[i - 1]!, cols.first[i]!);
  }
  return inc;
}

/**
 * Buckets raw samples into rollup rows of `bucketMs`. Only counters need the first value and the increase;
 * gauges get zeros there, which compress to a bit per row.
 */
export function rollupSamples(
  t: ArrayLike<number>,
  v: ArrayLike<number>,
  bucketMs: number,
  counter = true,
): RollupRows {
  const rows: number[][] = [];
  let cur: number[] | undefined;
  let prev: number | undefined;
  for (let i = 0; i < t.length; i++) {
    const b = Math.floor(t[i]! / bucketMs) * bucketMs;
    const x = v[i]!;
    if (cur === undefined || cur[0] !== b) {
      cur = [b, 0, 0, 0, Infinity, -Infinity, 0, 0, counter ? x : 0];
      rows.push(cur);
      prev = undefined;
    }
    cur[1]! += 1;
    cur[2]! += x;
    cur[3]! += x * x;
    if (x < cur[4]!) cur[4] = x;
    if (x > cur[5]!) cur[5] = x;
    cur[6] = x;
    if (counter && prev !== undefined) cur[7]! += counterIncrease(prev, x);
    prev = x;
  }
  const out = emptyRollup(rows.length);
  const { cols } = out;
  rows.forEach((r, i) => {
    out.t[i] = r[0]!;
    cols.n[i] = r[1]!;
    cols.sum[i] = r[2]!;
    cols.sumsq[i] = r[3]!;
    cols.min[i] = r[4]!;
    cols.max[i] = r[5]!;
    out.last[i] = r[6]!;
    cols.inc[i] = r[7]!;
    cols.first[i] = r[8]!;
  });
  return out;
}

/** `n` rows of zeros. */
export function emptyRollup(n: number): RollupRows {
  const col = (): Float64Array => new Float64Array(n);
  return {
    t: col(),
    last: col(),
    cols: { n: col(), sum: col(), sumsq: col(), min: col(), max: col(), first: col(), inc: col() },
  };
}

/** Rows `from` (inclusive) to `to` (exclusive), by index. */
export function sliceRows(r: RollupRows, from: number, to: number): RollupRows {
  const out = emptyRollup(0);
  out.t = r.t.slice(from, to);
  out.last = r.last.slice(from, to);
  for (const c of ROLLUP_COLUMNS) out.cols[c] = r.cols[c].slice(from, to);
  return out;
}

/** The rows with fromMs ≤ t < toMs. */
export function sliceRollup(r: RollupRows, fromMs: number, toMs: number): RollupRows {
  let lo = 0;
  while (lo < r.t.length && r.t[lo]! < fromMs) lo++;
  let hi = lo;
  while (hi < r.t.length && r.t[hi]! < toMs) hi++;
  return sliceRows(r, lo, hi);
}

/** The rows of `parts`, one after another. */
export function concatRollups(parts: readonly RollupRows[]): RollupRows {
  let n = 0;
  for (const p of parts) n += p.t.length;
  const out = emptyRollup(n);
  let k = 0;
  for (const p of parts) {
    out.t.set(p.t, k);
    out.last.set(p.last, k);
    for (const c of ROLLUP_COLUMNS) out.cols[c].set(p.cols[c], k);
    k += p.t.length;
  }
  return out;
}
