/**
 * The value stream of one series in a block of shared timestamps. Each sample says where it sits in the
 * block (one bit when it follows the previous sample's collection, else the number skipped), then its value:
 *
 * - values that are integers, or decimals with up to nine digits after the point (counters, byte counts,
 *   percentages rounded by their source, nanosecond latencies in seconds), are scaled to integers and stored
 *   as delta-of-delta: a counter growing at a steady rate costs one bit, a constant one bit;
 * - any other value (a full-precision ratio, NaN, ±Inf, -0) switches the stream to Gorilla's XOR coding
 *   (gorilla.ts) for the rest of the block.
 *
 * A value the current scale cannot hold exactly restarts the stream with a new mode (an escape code, the mode
 * and the value in full), so the round trip is exact for every float64, bit for bit.
 */
import { AgentError } from '../../lib/errors.js';
import { BitReader, BitWriter, FloatBits, readXor, writeBucketed, writeXor, xorState } from '../gorilla.js';
import type { Buckets, XorState } from '../gorilla.js';

/** Decimal scales 0..9 (10^k); FLOAT is the XOR mode. */
const FLOAT = 15;
export const MAX_SCALE = 9;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9] as const;
/** Scaled integers stay well inside the exact range of doubles, so deltas of deltas are exact. */
const MAX_SCALED = 2 ** 50;
/** Positions in a block are below this (BLOCK_TIMES ≤ 1024). */
const SKIP_BITS = 10;
export const MAX_BLOCK_TIMES = 2 ** SKIP_BITS;

/**
 * Delta-of-delta buckets of scaled values: [value bits, prefix, prefix bits]; 111111 escapes. Most changes of
 * a counter's rate are a few units (real collections: 3 bits cover 95 % of the non-zero ones).
 */
const VALUE_BUCKETS: Buckets = [
  [3, 0b10, 2],
  [7, 0b110, 3],
  [13, 0b1110, 4],
  [20, 0b11110, 5],
  [32, 0b111110, 6],
];
const ESCAPE = 0b111111;
const ESCAPE_BITS = 6;

/** `value` scaled by 10^k to an integer, when that is exact; undefined otherwise. */
function scaled(value: number, k: number): number | undefined {
  const n = Math.round(value * POW10[k]!);
  // -0 (which equals 0) is not a decimal: 1 / -0 is -Infinity.
  if (!(Math.abs(n) <= MAX_SCALED) || n / POW10[k]! !== value || (value === 0 && 1 / value < 0))
    return undefined;
  return n;
}

/** `value` rounded to `k` decimals (0 ≤ k ≤ MAX_SCALE), as a decimal stream of scale k holds it. */
export function roundedTo(value: number, k: number): number {
  return Math.round(value * POW10[k]!) / POW10[k]!;
}

/** The smallest decimal scale that holds `value` exactly, not below `atLeast`; FLOAT when none does. */
export function modeFor(value: number, atLeast = 0): number {
  for (let k = atLeast; k <= MAX_SCALE; k++) if (scaled(value, k) !== undefined) return k;
  return FLOAT;
}

export class ValueEncoder {
  private readonly _w: BitWriter;
  private readonly _dense: boolean;
  private readonly _bits = new FloatBits();
  private _count = 0;
  private _mode: number;
  private _prevIndex = -1;
  private _prevN = 0;
  private _prevD = 0;
  /** The last value appended (NaN before the first). */
  private _prevValue = NaN;
  private _xor: XorState = xorState(0, 0);

  /**
   * `mode`: the mode the series ended its previous block in (it tends to stay), or 0. A `dense` stream has a
   * value at every position and writes none (rollup columns); `w`: the bit stream to write into.
   */
  constructor(mode = 0, opts: { dense?: boolean; w?: BitWriter } = {}) {
    this._mode = mode;
    this._dense = opts.dense === true;
    this._w = opts.w ?? new BitWriter();
  }

  get count(): number {
    return this._count;
  }

  /** The mode in force: a decimal scale 0..9, or 15 for XOR. */
  get mode(): number {
    return this._mode;
  }

  get byteLength(): number {
    return (this._w.bitLength + 7) >>> 3;
  }

  /** Appends `value` at position `index` of the block (greater than the previous sample's). */
  append(index: number, value: number): void {
    const w = this._w;
    const skip = index - this._prevIndex;
    // The value of the previous collection again, in a decimal stream whose last delta was 0 (a limit, a count,
    // an idle counter: a third of an idle host's series): its position bit and a delta of delta of 0, as below,
    // without scaling it. -0 is not 0 to the stream (it switches to XOR below).
    if (
      value === this._prevValue &&
      skip === 1 &&
      this._prevD === 0 &&
      this._mode !== FLOAT &&
      !this._dense &&
      (value !== 0 || 1 / value > 0)
    ) {
      w.write(0, 2);
      this._prevIndex = index;
      this._count++;
      return;
    }
    this._prevValue = value;
    // Most samples of a collection: a decimal value whose delta of delta fits, written with its position
    // (after the previous sample's: one bit 0) in as few writes as possible — a steady counter or a constant
    // in one. The same bits as the general path below.
    if (this._count > 0 && this._mode !== FLOAT) {
      const n = scaled(value, this._mode);
      if (n !== undefined) {
        const d = n - this._prevN;
        const dod = d - this._prevD;
        if (Math.abs(dod) < 2 ** 31) {
          if (this._dense) writeValueDod(w, dod);
          else if (skip === 1 && dod === 0) w.write(0, 2);
          else {
            this._writeSkip(skip);
            writeValueDod(w, dod);
          }
          this._prevIndex = index;
          this._prevN = n;
          this._prevD = d;
          this._count++;
          return;
        }
      }
    }
    if (this._count > 0 && !this._dense) this._writeSkip(skip);
    this._prevIndex = index;
    if (this._count === 0) {
      this._mode = this._mode === FLOAT ? FLOAT : modeFor(value, this._mode);
      this._start(value);
    } else if (this._mode === FLOAT) {
      this._bits.set(value);
      writeXor(w, this._xor, this._bits.hi, this._bits.lo);
    } else {
      // A value the scale cannot hold, or a delta of delta beyond 32 bits: escape and start again.
      w.write(ESCAPE, ESCAPE_BITS);
      if (scaled(value, this._mode) === undefined) this._mode = modeFor(value, this._mode);
      this._start(value);
    }
    this._count++;
  }

  /** The position bits: 0 after the previous sample's, else 1 and the positions skipped. */
  private _writeSkip(skip: number): void {
    if (skip === 1) this._w.write(0, 1);
    else {
      this._w.write(1, 1);
      this._w.write(skip - 2, SKIP_BITS);
    }
  }

  /** Writes the mode and the value in full, and starts the deltas from it. */
  private _start(value: number): void {
    const w = this._w;
    w.write(this._mode, 4);
    if (this._mode === FLOAT) {
      this._bits.set(value);
      w.writeFloat(this._bits.hi, this._bits.lo);
      this._xor = xorState(this._bits.hi, this._bits.lo);
      return;
    }
    const n = scaled(value, this._mode)!;
    const m = Math.abs(n);
    w.write(n < 0 ? 1 : 0, 1);
    w.write(Math.floor(m / 2 ** 32), 19);
    w.write(m >>> 0, 32);
    this._prevN = n;
    this._prevD = 0;
  }

  /** The encoded stream so far (a view, valid until the next append). */
  bytes(): Uint8Array {
    return this._w.bytes();
  }
}

function writeValueDod(w: BitWriter, dod: number): void {
  if (!writeBucketed(w, dod, VALUE_BUCKETS))
    throw new AgentError('E_STATE', `delta of delta ${dod} out of range`);
}

/**
 * Decodes `count` values whose first sits at position `first` of a block with times `times`; appends the
 * times and values to `outT`, `outV` from `offset` and returns the new length.
 */
export function decodeValues(
  data: Uint8Array,
  count: number,
  first: number,
  times: ArrayLike<number>,
  outT: number[] | Float64Array,
  outV: number[] | Float64Array,
  offset = 0,
): number {
  return readValues(new BitReader(data), count, outV, offset, { first, times, outT });
}

/**
 * Reads `count` values of a stream from `r` into `outV` from `offset`; returns the new length. With
 * `positions` the stream says where each value sits in its time block (their times go to `outT`); without,
 * it is dense (ValueEncoder's `dense`).
 */
export function readValues(
  r: BitReader,
  count: number,
  outV: number[] | Float64Array,
  offset = 0,
  positions?: { first: number; times: ArrayLike<number>; outT: number[] | Float64Array },
): number {
  const bits = new FloatBits();
  let index = positions?.first ?? 0;
  let mode = 0;
  let n = 0;
  let d = 0;
  const xor = xorState(0, 0);
  const start = (): number => {
    mode = r.read(4);
    if (mode === FLOAT) {
      xor.hi = r.read(32);
      xor.lo = r.read(32);
      xor.leading = -1;
      return bits.of(xor.hi, xor.lo);
    }
    if (mode > MAX_SCALE) throw new AgentError('E_HISTORY_STORE', `bad value mode ${mode}`);
    const neg = r.bit();
    const m = r.read(19) * 2 ** 32 + r.read(32);
    n = neg === 1 ? -m : m;
    d = 0;
    return n / POW10[mode]!;
  };
  for (let i = 0; i < count; i++) {
    if (positions !== undefined) {
      if (i > 0) index += r.bit() === 0 ? 1 : r.read(SKIP_BITS) + 2;
      if (index >= positions.times.length)
        throw new AgentError('E_HISTORY_STORE', 'a value lies outside its time block');
      positions.outT[offset + i] = positions.times[index]!;
    }
    let v: number;
    if (i === 0) v = start();
    else if (mode === FLOAT) {
      readXor(r, xor);
      v = bits.of(xor.hi, xor.lo);
    } else {
      let ones = 0;
      while (ones < ESCAPE_BITS && r.bit() === 1) ones++;
      if (ones === ESCAPE_BITS) v = start();
      else {
        if (ones > 0) {
          const b = VALUE_BUCKETS[ones - 1]![0];
          d += r.read(b) - (2 ** (b - 1) - 1);
        }
        n += d;
        v = n / POW10[mode]!;
      }
    }
    outV[offset + i] = v;
  }
  return offset + count;
}
