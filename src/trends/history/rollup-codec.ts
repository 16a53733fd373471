/**
 * The stored form of rollup rows (history format 3): the rows of one series in a block as one bit stream,
 * the bucket starts (the first, when the rows are consecutive, else the gaps from the block's start), then each column in turn under whichever coding makes it
 * smallest (a tag of three bits says which):
 *
 * - PLAIN: a dense value stream (values.ts: integers and few-decimal values as delta-of-delta, the rest in
 *   Gorilla's XOR coding);
 * - COUNTS: whole numbers below 2^31 as the change from the row before (the samples per bucket, which the
 *   collection's jitter moves by one now and then);
 * - CONST: one value for every row (a gauge's unused first value and increase);
 * - BASE: whole numbers as their difference from the first row's;
 * - REF: per row, which of one or two values computed from the columns before it the value equals bit for bit
 *   (a counter's min is its first value and its max its last; its increase is last − first unless it reset;
 *   a bucket whose value held still has sum = n × last), and the rows that equal none in a dense value stream;
 *   SAME when every row equals the first reference of the set;
 * - DIFF, DIFF_INT: the difference from a prediction computed from the columns before it (a counter's sum from
 *   n × (first + last) / 2, a sum of squares from sum² / n), as a dense value stream or as whole numbers,
 *   when adding it back gives the value bit for bit in every row;
 * - ULP: the distance in units of the last place from such a prediction (large sums of squares);
 * - ROUNDED: the values rounded to the fewest decimals that come within a few units of the last place of each
 *   (a sum of two-decimal values is a two-decimal value but for the float error of the additions), as a
 *   decimal stream, then each row's distance from its rounded value in units of the last place.
 *
 * Every coding is exact for every float64 (NaN, ±Inf and -0 go to the value streams), so a query reads the
 * rows it wrote.
 */
import { AgentError } from '../../lib/errors.js';
import { BitReader, BitWriter, FloatBits, readBucketed, writeBucketed } from '../gorilla.js';
import type { Buckets } from '../gorilla.js';
import { emptyRollup } from './rollup.js';
import type { RollupRows } from './rollup.js';
import { MAX_SCALE, ValueEncoder, readValues, roundedTo } from './values.js';

/** The columns in their stored order; a column's references read only the columns before it. */
const ORDER = ['n', 'last', 'first', 'min', 'max', 'sum', 'sumsq', 'inc'] as const;
type Column = (typeof ORDER)[number];
type Columns = Record<Column, Float64Array>;

/** A value computed from the columns before a column, in row `i`. */
type Ref = (c: Columns, i: number) => number;
const column =
  (name: Column): Ref =>
  (c, i) =>
    c[name][i]!;
const lastMinusFirst: Ref = (c, i) => c.last[i]! - c.first[i]!;
const ZERO: Ref = () => 0;

/** A tag: the coding (4 bits), then which of the column's reference sets or predictions (2 bits). */
const TAG_BITS = 6;
const PLAIN = 0;
const COUNTS = 1;
const CONST = 2;
const BASE = 3;
const REF = 4;
const DIFF = 5;
const DIFF_INT = 6;
const ULP = 7;
const SAME = 8;
const ROUNDED = 9;
/** ROUNDED takes the fewest decimals within this many units of the last place of every row. */
const ROUNDED_ULPS = 2 ** 20;
const MAX_VARIANTS = 4;

/** The reference sets a column may be coded against (at most MAX_VARIANTS). */
const REFS: Record<Column, readonly (readonly Ref[])[]> = {
  n: [],
  last: [],
  first: [[column('last')]],
  min: [
    [column('first')],
    [column('last')],
    [column('first'), column('last')],
    [column('last'), column('first')],
  ],
  max: [
    [column('last')],
    [column('first')],
    [column('last'), column('first')],
    [column('first'), column('last')],
  ],
  sum: [[(c, i) => c.n[i]! * c.last[i]!]],
  sumsq: [[(c, i) => c.n[i]! * c.last[i]! * c.last[i]!]],
  inc: [[lastMinusFirst], [lastMinusFirst, ZERO]],
};

/** The predictions a column's differences may be taken from (at most MAX_VARIANTS). */
const PREDICTIONS: Record<Column, readonly Ref[]> = {
  n: [],
  last: [],
  first: [column('last'), (c, i) => (i > 0 ? c.last[i - 1]! : 0)],
  min: [],
  max: [],
  sum: [
    (c, i) => (c.n[i]! * (c.first[i]! + c.last[i]!)) / 2,
    (c, i) => (c.n[i]! * (c.min[i]! + c.max[i]!)) / 2,
    (c, i) => c.n[i]! * c.last[i]!,
  ],
  sumsq: [
    (c, i) => Math.round((c.sum[i]! * c.sum[i]!) / c.n[i]!),
    (c, i) => (c.sum[i]! * c.sum[i]!) / c.n[i]!,
  ],
  inc: [],
};

/** Buckets of the gaps between rows and of the change in a count: 0, -1..2, -31..32, ... , any 32-bit. */
const COUNT_BUCKETS: Buckets = [
  [2, 0b10, 2],
  [6, 0b110, 3],
  [12, 0b1110, 4],
  [32, 0b1111, 4],
];
const MAX_COUNT = 2 ** 31;
/** Buckets of distances in units of the last place. */
const ULP_BUCKETS: Buckets = [
  [4, 0b10, 2],
  [10, 0b110, 3],
  [20, 0b1110, 4],
  [32, 0b1111, 4],
];

const bitsOf = new FloatBits();

/** The distance from `p` to `v` in units of the last place (their bit patterns' difference). */
function ulpDistance(v: number, p: number): number {
  bitsOf.set(v);
  const vh = bitsOf.hi;
  const vl = bitsOf.lo;
  bitsOf.set(p);
  return (vh - bitsOf.hi) * 2 ** 32 + (vl - bitsOf.lo);
}

/** The float `d` units of the last place from `p` (|d| < 2^31). */
function ulpStep(p: number, d: number): number {
  bitsOf.set(p);
  let hi = bitsOf.hi;
  let lo = bitsOf.lo + d;
  const carry = Math.floor(lo / 2 ** 32);
  hi += carry;
  lo -= carry * 2 ** 32;
  return bitsOf.of(hi >>> 0, lo >>> 0);
}

/** Whole numbers in [lo, hi), not -0. */
function wholeIn(x: number, lo: number, hi: number): boolean {
  return Number.isInteger(x) && x >= lo && x < hi && !Object.is(x, -0);
}

/** Bit-for-bit equal, NaN never (a NaN goes to the value stream, which keeps its bits). */
function same(a: number, b: number): boolean {
  return a === b && (a !== 0 || Object.is(a, b));
}

function writePlain(w: BitWriter, values: ArrayLike<number>): void {
  const e = new ValueEncoder(0, { dense: true, w });
  for (let i = 0; i < values.length; i++) e.append(i, values[i]!);
}

function writeCounts(w: BitWriter, v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!wholeIn(v[i]!, 0, MAX_COUNT)) return false;
  for (let i = 0; i < v.length; i++)
    if (i === 0) w.write(v[0]!, 32);
    else writeBucketed(w, v[i]! - v[i - 1]!, COUNT_BUCKETS);
  return true;
}

function writeBase(w: BitWriter, v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!wholeIn(v[i]!, 0, MAX_COUNT)) return false;
  for (let i = 0; i < v.length; i++)
    if (i === 0) w.write(v[0]!, 32);
    else writeBucketed(w, v[i]! - v[0]!, COUNT_BUCKETS);
  return true;
}

/** Differences from `pred` (DIFF, DIFF_INT) or distances in units of the last place (ULP), if exact. */
function writeRounded(w: BitWriter, v: Float64Array): boolean {
  const q = new Float64Array(v.length);
  const d = new Float64Array(v.length);
  for (let k = 0; k <= MAX_SCALE; k++) {
    let ok = true;
    for (let i = 0; i < v.length && ok; i++) {
      q[i] = roundedTo(v[i]!, k);
      d[i] = ulpDistance(v[i]!, q[i]!);
      ok = Number.isFinite(v[i]!) && Math.abs(d[i]!) < ROUNDED_ULPS && same(ulpStep(q[i]!, d[i]!), v[i]!);
    }
    if (!ok) continue;
    writePlain(w, q);
    for (const x of d) writeBucketed(w, x, ULP_BUCKETS);
    return true;
  }
  return false;
}

function writeDiffs(w: BitWriter, c: Columns, v: Float64Array, pred: Ref, coding: number): boolean {
  const d = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const p = pred(c, i);
    if (coding === ULP) {
      if (!Number.isFinite(v[i]!) || !Number.isFinite(p)) return false;
      d[i] = ulpDistance(v[i]!, p);
      if (!(Math.abs(d[i]!) < MAX_COUNT) || !same(ulpStep(p, d[i]!), v[i]!)) return false;
    } else {
      d[i] = v[i]! - p;
      if (!same(p + d[i]!, v[i]!)) return false;
      if (coding === DIFF_INT && !wholeIn(d[i]!, -MAX_COUNT + 1, MAX_COUNT)) return false;
    }
  }
  if (coding === DIFF) writePlain(w, d);
  else for (const x of d) writeBucketed(w, x, coding === ULP ? ULP_BUCKETS : COUNT_BUCKETS);
  return true;
}

function writeRefs(w: BitWriter, c: Columns, v: Float64Array, refs: readonly Ref[]): void {
  const others: number[] = [];
  for (let i = 0; i < v.length; i++) {
    let j = 0;
    while (j < refs.length && !same(v[i]!, refs[j]!(c, i))) j++;
    // Reference j: j ones and a zero; none: as many ones as there are references.
    for (let k = 0; k < j; k++) w.write(1, 1);
    if (j < refs.length) w.write(0, 1);
    else others.push(v[i]!);
  }
  writePlain(w, others);
}

/** The column `name` under its smallest coding, tag first. */
function encodeColumn(c: Columns, name: Column): BitWriter {
  const v = c[name];
  let best: BitWriter | undefined;
  const offer = (coding: number, write: (w: BitWriter) => boolean | void, variant = 0): void => {
    const w = new BitWriter();
    w.write(coding * MAX_VARIANTS + variant, TAG_BITS);
    if (write(w) === false) return;
    if (best === undefined || w.bitLength < best.bitLength) best = w;
  };
  // A constant column, or one that is a reference throughout, costs no bits per row: nothing beats it.
  if (v.length > 0 && v.every((x) => same(x, v[0]!))) offer(CONST, (w) => writePlain(w, [v[0]!]));
  REFS[name].forEach((refs, k) => {
    if (v.every((x, i) => same(x, refs[0]!(c, i)))) offer(SAME, () => true, k);
  });
  if (best !== undefined) return best;
  offer(PLAIN, (w) => writePlain(w, v));
  offer(COUNTS, (w) => writeCounts(w, v));
  offer(BASE, (w) => writeBase(w, v));
  if (name === 'sum' || name === 'sumsq') offer(ROUNDED, (w) => writeRounded(w, v));
  REFS[name].forEach((refs, k) => offer(REF, (w) => writeRefs(w, c, v, refs), k));
  PREDICTIONS[name].forEach((pred, k) => {
    for (const coding of [DIFF, DIFF_INT, ULP]) offer(coding, (w) => writeDiffs(w, c, v, pred, coding), k);
  });
  return best!;
}

function columnsOf(r: RollupRows): Columns {
  return { ...r.cols, last: r.last };
}

/**
 * Encodes rollup rows whose bucket starts lie in the block from `blockStartMs`, on multiples of `bucketMs`
 * from it, in increasing order.
 */
export function encodeRollupBlock(r: RollupRows, blockStartMs: number, bucketMs: number): Uint8Array {
  const w = new BitWriter();
  const at = Array.from(r.t, (t) => (t - blockStartMs) / bucketMs);
  at.forEach((k, i) => {
    if (!Number.isInteger(k) || k <= (at[i - 1] ?? -1) || k >= MAX_COUNT)
      throw new AgentError(
        'E_STATE',
        `rollup row at ${r.t[i]} is not a bucket of the block at ${blockStartMs}`,
      );
  });
  // Consecutive buckets (the rule): a bit and the first bucket; else the gaps.
  const consecutive = at.length > 0 && at[at.length - 1]! - at[0]! === at.length - 1;
  w.write(consecutive ? 1 : 0, 1);
  for (let i = 0; i < (consecutive ? 1 : at.length); i++)
    writeBucketed(w, at[i]! - (at[i - 1] ?? -1) - 1, COUNT_BUCKETS);
  const c = columnsOf(r);
  for (const name of ORDER) w.append(encodeColumn(c, name));
  return w.bytes().slice();
}

function readColumn(r: BitReader, c: Columns, name: Column): void {
  const v = c[name];
  const count = v.length;
  const tag = r.read(TAG_BITS);
  const coding = Math.floor(tag / MAX_VARIANTS);
  const variant = tag % MAX_VARIANTS;
  const bad = (): AgentError => new AgentError('E_HISTORY_STORE', `bad rollup column coding ${tag}`);
  if (coding === PLAIN) readValues(r, count, v);
  else if (coding === COUNTS || coding === BASE) {
    for (let i = 0; i < count; i++)
      v[i] = i === 0 ? r.read(32) : v[coding === BASE ? 0 : i - 1]! + readBucketed(r, COUNT_BUCKETS);
  } else if (coding === CONST) {
    readValues(r, 1, v);
    v.fill(v[0]!);
  } else if (coding === DIFF || coding === DIFF_INT || coding === ULP) {
    const pred = PREDICTIONS[name][variant];
    if (pred === undefined) throw bad();
    if (coding === DIFF) readValues(r, count, v);
    for (let i = 0; i < count; i++) {
      const p = pred(c, i);
      if (coding === DIFF) v[i] = p + v[i]!;
      else if (coding === DIFF_INT) v[i] = p + readBucketed(r, COUNT_BUCKETS);
      else v[i] = ulpStep(p, readBucketed(r, ULP_BUCKETS));
    }
  } else if (coding === ROUNDED) {
    readValues(r, count, v);
    for (let i = 0; i < count; i++) v[i] = ulpStep(v[i]!, readBucketed(r, ULP_BUCKETS));
  } else if (coding === SAME) {
    const ref = REFS[name][variant]?.[0];
    if (ref === undefined) throw bad();
    for (let i = 0; i < count; i++) v[i] = ref(c, i);
  } else {
    const refs = REFS[name][variant];
    if (refs === undefined || coding !== REF) throw bad();
    const others: number[] = [];
    for (let i = 0; i < count; i++) {
      let j = 0;
      while (j < refs.length && r.bit() === 1) j++;
      if (j < refs.length) v[i] = refs[j]!(c, i);
      else others.push(i);
    }
    const values = new Float64Array(others.length);
    readValues(r, others.length, values);
    others.forEach((at, k) => (v[at] = values[k]!));
  }
}

/** Decodes the `count` rows of a block from `blockStartMs` (encodeRollupBlock's arguments). */
export function decodeRollupBlock(
  data: Uint8Array,
  count: number,
  blockStartMs: number,
  bucketMs: number,
): RollupRows {
  const out = emptyRollup(count);
  const r = new BitReader(data);
  const consecutive = r.bit() === 1;
  let k = -1;
  for (let i = 0; i < count; i++) {
    k += i === 0 || !consecutive ? readBucketed(r, COUNT_BUCKETS) + 1 : 1;
    out.t[i] = blockStartMs + k * bucketMs;
  }
  const c = columnsOf(out);
  for (const name of ORDER) readColumn(r, c, name);
  return out;
}
