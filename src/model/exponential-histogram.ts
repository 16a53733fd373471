/**
 * Exponential (base-2, sparse) histogram buckets: the math shared by the recording path (telemetry) and the
 * exporters (OTLP ExponentialHistogram, Prometheus native histograms).
 *
 * At scale `s` the base is 2^(2^-s) and bucket `i` holds the values in (base^i, base^(i+1)] (the OTel
 * mapping function, upper bound inclusive). Prometheus numbers the same bucket `i + 1` (its bucket `i` is
 * (base^(i-1), base^i]) and calls the scale its schema. A histogram keeps at most `maxBuckets` buckets per
 * sign (160 like the OTel SDK's default); a value that would need more halves the resolution (scale - 1,
 * every two neighbouring buckets merged) until the range fits. The zero bucket holds exact zeros (zero
 * threshold 0); values below the smallest normal double count in the lowest normal bucket, as the OTel
 * specification says. Recording allocates nothing: each sign's counts live in one Float64Array of
 * `maxBuckets` slots made when the histogram is.
 */
import type { ExponentialHistogramValue } from './metric.js';

/** The highest scale Prometheus accepts (its schemas run from -4 to 8); the histograms start there. */
export const MAX_NATIVE_SCALE = 8;
/** The lowest scale Prometheus accepts; a histogram never goes below it (buckets then merge no further). */
export const MIN_NATIVE_SCALE = -4;
/** Buckets per sign, as the OTel SDK's default (maxSize 160). */
export const DEFAULT_MAX_BUCKETS = 160;

const MIN_NORMAL = 2 ** -1022;
const MIN_NORMAL_EXPONENT = -1022;
const MAX_NORMAL_EXPONENT = 1023;

// One scratch buffer to read a double's bits (no allocation per call): the high word holds the sign, the
// exponent and the top 20 bits of the significand.
const scratchFloat = new Float64Array(1);
const scratchWords = new Uint32Array(scratchFloat.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // little-endian: word 1
const LO = 1 - HI;

/**
 * The bucket index of a positive finite value at a scale (the OTel specification's mapping function): for
 * scale > 0 the logarithm, corrected at exact powers of two; for scale <= 0 the exponent, shifted.
 * `scaleFactor` is 2^scale / ln 2 (passed by the recording path, which keeps it with the scale).
 */
export function bucketIndex(value: number, scale: number, scaleFactor = 2 ** scale / Math.LN2): number {
  if (value <= MIN_NORMAL) {
    return scale > 0 ? (MIN_NORMAL_EXPONENT << scale) - 1 : (MIN_NORMAL_EXPONENT - 1) >> -scale;
  }
  scratchFloat[0] = value;
  const hi = scratchWords[HI]!;
  const exponent = ((hi >>> 20) & 0x7ff) - 1023;
  const powerOfTwo = (hi & 0xfffff) === 0 && scratchWords[LO] === 0;
  if (scale <= 0) return (exponent - (powerOfTwo ? 1 : 0)) >> -scale;
  if (powerOfTwo) return (exponent << scale) - 1;
  const index = Math.floor(Math.log(value) * scaleFactor);
  const maxIndex = ((MAX_NORMAL_EXPONENT + 1) << scale) - 1;
  return index >= maxIndex ? maxIndex : index;
}

/** The lower bound (exclusive) of OTel bucket `index` at `scale`: base^index. */
export function bucketLowerBound(index: number, scale: number): number {
  return scale <= 0 ? 2 ** (index * 2 ** -scale) : 2 ** (index / 2 ** scale);
}

/** The buckets of one sign: counts of indexes `offset .. offset + maxBuckets - 1`, used range `low..high`. */
export interface ExponentialBuckets {
  readonly counts: Float64Array;
  offset: number;
  /** Lowest and highest index with a count; low > high when empty. */
  low: number;
  high: number;
}

/** An exponential histogram being recorded. */
export interface ExponentialState {
  scale: number;
  /** 2^scale / ln 2, kept with the scale. */
  scaleFactor: number;
  zeroCount: number;
  readonly positive: ExponentialBuckets;
  /** Made on the first negative value (the agent's histograms record durations, never negative). */
  negative: ExponentialBuckets | undefined;
  readonly maxBuckets: number;
}

function newBuckets(maxBuckets: number): ExponentialBuckets {
  return { counts: new Float64Array(maxBuckets), offset: 0, low: 1, high: 0 };
}

export function newExponentialState(
  maxBuckets = DEFAULT_MAX_BUCKETS,
  scale = MAX_NATIVE_SCALE,
): ExponentialState {
  return {
    scale,
    scaleFactor: 2 ** scale / Math.LN2,
    zeroCount: 0,
    positive: newBuckets(maxBuckets),
    negative: undefined,
    maxBuckets,
  };
}

/** Records a finite value (NaN and infinities are ignored: they have no bucket). */
export function recordExponential(state: ExponentialState, value: number): void {
  if (value === 0) {
    state.zeroCount++;
    return;
  }
  if (!Number.isFinite(value)) return;
  let buckets: ExponentialBuckets;
  if (value > 0) buckets = state.positive;
  else buckets = state.negative ??= newBuckets(state.maxBuckets);
  const magnitude = value > 0 ? value : -value;
  let index = bucketIndex(magnitude, state.scale, state.scaleFactor);
  if (buckets.low > buckets.high) {
    buckets.offset = index;
    buckets.low = index;
    buckets.high = index;
    buckets.counts[0]!++;
    return;
  }
  const low = index < buckets.low ? index : buckets.low;
  const high = index > buckets.high ? index : buckets.high;
  let change = 0;
  while (high - low >= state.maxBuckets && state.scale - change > MIN_NATIVE_SCALE) {
    change++;
    if ((high >> change) - (low >> change) < state.maxBuckets) break;
  }
  if (change > 0) {
    downscale(state, change);
    index = bucketIndex(magnitude, state.scale, state.scaleFactor);
  }
  place(buckets, index);
}

/** Lowers the scale by `change`, merging the buckets of both signs. */
export function downscale(state: ExponentialState, change: number): void {
  state.scale -= change;
  state.scaleFactor = 2 ** state.scale / Math.LN2;
  mergeBuckets(state.positive, change);
  if (state.negative !== undefined) mergeBuckets(state.negative, change);
}

function mergeBuckets(b: ExponentialBuckets, change: number): void {
  if (b.low > b.high) return;
  const counts = b.counts;
  const newOffset = b.low >> change;
  // New slot <= old slot (indexes shrink at least as fast as the offset), so one ascending pass in place works.
  for (let i = b.low; i <= b.high; i++) {
    const slot = i - b.offset;
    const c = counts[slot]!;
    if (c === 0) continue;
    counts[slot] = 0;
    counts[(i >> change) - newOffset]! += c;
  }
  b.offset = newOffset;
  b.low = newOffset;
  b.high = b.high >> change;
}

/** Adds one to bucket `index`, moving the window when needed (the used range fits: recordExponential checked). */
function place(b: ExponentialBuckets, index: number): void {
  const counts = b.counts;
  if (index < b.offset) {
    const shift = b.offset - index;
    counts.copyWithin(shift, 0, b.high - b.offset + 1);
    counts.fill(0, 0, shift);
    b.offset = index;
  } else if (index - b.offset >= counts.length) {
    const shift = b.low - b.offset;
    counts.copyWithin(0, shift, b.high - b.offset + 1);
    counts.fill(0, b.high - b.low + 1);
    b.offset = b.low;
  }
  counts[index - b.offset]!++;
  if (index < b.low) b.low = index;
  if (index > b.high) b.high = index;
}

function bucketsSnapshot(b: ExponentialBuckets | undefined): { offset: number; bucketCounts: number[] } {
  if (b === undefined || b.low > b.high) return { offset: 0, bucketCounts: [] };
  return {
    offset: b.low,
    bucketCounts: Array.from(b.counts.subarray(b.low - b.offset, b.high - b.offset + 1)),
  };
}

/** A state's counts in the OTel ExponentialHistogram shape: `offset` and the counts from there up. */
export function snapshotExponential(state: ExponentialState): ExponentialHistogramValue {
  return {
    scale: state.scale,
    zeroCount: state.zeroCount,
    positive: bucketsSnapshot(state.positive),
    negative: bucketsSnapshot(state.negative),
  };
}

/** A run of Prometheus buckets: `offset` from the end of the previous span (or from 0), `length` buckets. */
export interface BucketSpan {
  offset: number;
  length: number;
}

/** Zero buckets in a row that still stay inside a span (cheaper than a new span), as Prometheus' client. */
const MAX_GAP_IN_SPAN = 2;

/**
 * OTel-indexed counts (`offset`, counts) → Prometheus' spans and deltas: indexes shift by one (Prometheus'
 * bucket i is OTel's i - 1), runs of more than two empty buckets split spans, and each count is written as
 * its difference to the previous bucket's.
 */
export function toPrometheusSpans(
  offset: number,
  counts: readonly number[],
): { spans: BucketSpan[]; deltas: number[] } {
  const spans: BucketSpan[] = [];
  const deltas: number[] = [];
  let previousCount = 0;
  let nextIndex = 0; // Prometheus index right after the last span
  let i = 0;
  while (i < counts.length) {
    if (counts[i] === 0) {
      i++;
      continue;
    }
    // A span starts at i and runs until a gap of more than MAX_GAP_IN_SPAN empty buckets or the end.
    let end = i;
    let j = i + 1;
    while (j < counts.length) {
      if (counts[j] !== 0) {
        end = j;
        j++;
        continue;
      }
      let k = j;
      while (k < counts.length && counts[k] === 0) k++;
      if (k >= counts.length || k - j > MAX_GAP_IN_SPAN) break;
      j = k;
    }
    const start = offset + i + 1;
    spans.push({ offset: spans.length === 0 ? start : start - nextIndex, length: end - i + 1 });
    for (let x = i; x <= end; x++) {
      deltas.push(counts[x]! - previousCount);
      previousCount = counts[x]!;
    }
    nextIndex = offset + end + 2;
    i = end + 1;
  }
  return { spans, deltas };
}

/**
 * The exponential buckets a histogram data point carries next to its explicit ones (series tables add them
 * to the OTel Histogram value when exponential histograms are on), or undefined.
 */
export function exponentialOf(value: object): ExponentialHistogramValue | undefined {
  return (value as { exponential?: ExponentialHistogramValue }).exponential;
}
