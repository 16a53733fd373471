/**
 * The bit-level codecs of the history, after Facebook's Gorilla paper (and Prometheus' XOR chunks): a bit
 * stream, timestamps as delta-of-delta with variable-length buckets (a steady collection interval costs one
 * bit per timestamp), and float values as the XOR with the previous value, storing only the meaningful bits
 * (an unchanged value costs one bit, a noisy gauge the bits that differ). Appending is incremental, so an
 * open block can be written to disk after every collection without re-encoding it. The value streams of the
 * history (integers and few-decimal floats, with gaps) build on these in history/values.ts.
 */
import { AgentError } from '../lib/errors.js';

/** Growable bit buffer, most significant bit first. */
export class BitWriter {
  private _buf = new Uint8Array(64);
  private _bits = 0;

  /**
   * Writes the low `n` bits (n ≤ 32) of `value`. Runs for every bit field of every appended sample: the
   * buffer grows once up front, and the loop keeps its state in locals.
   */
  write(value: number, n: number): void {
    let bits = this._bits;
    const need = (bits + n + 7) >>> 3;
    if (need > this._buf.length) {
      const next = new Uint8Array(Math.max(this._buf.length * 2, need));
      next.set(this._buf);
      this._buf = next;
    }
    const buf = this._buf;
    const room = 8 - (bits & 7);
    if (n <= room) {
      // Fits in the current byte (most fields of a sample: a position bit, a delta of delta of 0).
      buf[bits >>> 3]! |= (value & ((1 << n) - 1)) << (room - n);
      this._bits = bits + n;
      return;
    }
    for (let left = n; left > 0;) {
      const free = 8 - (bits & 7);
      const take = free < left ? free : left;
      buf[bits >>> 3]! |= ((value >>> (left - take)) & ((1 << take) - 1)) << (free - take);
      bits += take;
      left -= take;
    }
    this._bits = bits;
  }

  get bitLength(): number {
    return this._bits;
  }

  /** Writes a float64 as its 64 raw bits. */
  writeFloat(hi: number, lo: number): void {
    this.write(hi, 32);
    this.write(lo, 32);
  }

  /** The bytes written so far (a view; copy before the next write if kept). */
  bytes(): Uint8Array {
    return this._buf.subarray(0, (this._bits + 7) >>> 3);
  }

  /** Appends the bits `other` holds. */
  append(other: BitWriter): void {
    const bytes = other.bytes();
    const whole = other.bitLength >>> 3;
    for (let i = 0; i < whole; i++) this.write(bytes[i]!, 8);
    const rest = other.bitLength & 7;
    if (rest > 0) this.write(bytes[whole]! >>> (8 - rest), rest);
  }
}

export class BitReader {
  private _pos = 0;
  private readonly _buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this._buf = buf;
  }

  bit(): number {
    const p = this._pos++;
    return (this._buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  /** Reads `n` bits (n ≤ 32) as an unsigned number. */
  read(n: number): number {
    const buf = this._buf;
    let pos = this._pos;
    if (pos + n > buf.length * 8) throw new AgentError('E_HISTORY_STORE', 'chunk ended early');
    let out = 0;
    let rem = n;
    const off = pos & 7;
    if (off !== 0) {
      const avail = 8 - off;
      const take = rem < avail ? rem : avail;
      out = (buf[pos >>> 3]! >>> (avail - take)) & ((1 << take) - 1);
      pos += take;
      rem -= take;
    }
    while (rem >= 8) {
      out = out * 256 + buf[pos >>> 3]!;
      pos += 8;
      rem -= 8;
    }
    if (rem > 0) {
      out = out * (1 << rem) + (buf[pos >>> 3]! >>> (8 - rem));
      pos += rem;
    }
    this._pos = pos;
    return out;
  }
}

/** A float64 and its two 32-bit halves (little-endian hosts: [lo, hi]). */
export class FloatBits {
  private readonly _f = new Float64Array(1);
  private readonly _u = new Uint32Array(this._f.buffer);

  set(value: number): this {
    this._f[0] = value;
    return this;
  }

  get hi(): number {
    return this._u[1]!;
  }

  get lo(): number {
    return this._u[0]!;
  }

  of(hi: number, lo: number): number {
    this._u[0] = lo;
    this._u[1] = hi;
    return this._f[0]!;
  }
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/** Signed delta-of-delta buckets of timestamps: [value bits, prefix, prefix bits]; 1111 + 32 bits beyond. */
const DOD_BUCKETS: Buckets = [
  [7, 0b10, 2],
  [9, 0b110, 3],
  [12, 0b1110, 4],
];

/** Encodes strictly increasing millisecond timestamps: the first in 64 bits, then delta-of-delta. */
export class TimeEncoder {
  private readonly _w = new BitWriter();
  private _count = 0;
  private _prevT = 0;
  private _prevDelta = 0;

  get count(): number {
    return this._count;
  }

  get lastTimestampMs(): number {
    return this._prevT;
  }

  append(timestampMs: number): void {
    const w = this._w;
    if (this._count === 0) {
      w.write(Math.floor(timestampMs / 2 ** 32), 32);
      w.write(timestampMs >>> 0, 32);
    } else {
      const delta = timestampMs - this._prevT;
      if (this._count === 1) w.write(delta >>> 0, 32);
      else writeDod(w, delta - this._prevDelta);
      this._prevDelta = delta;
    }
    this._prevT = timestampMs;
    this._count++;
  }

  /** The encoded block so far (a view, valid until the next append). */
  bytes(): Uint8Array {
    return this._w.bytes();
  }
}

/** Variable-length buckets of a signed integer: [value bits, prefix, prefix bits], narrowest first. */
export type Buckets = readonly (readonly [number, number, number])[];

/**
 * Writes `x` as one bit 0 when it is zero, else as the prefix and the offset value of the narrowest bucket
 * that holds it; false (nothing written) when none does.
 */
export function writeBucketed(w: BitWriter, x: number, buckets: Buckets): boolean {
  if (x === 0) {
    w.write(0, 1);
    return true;
  }
  // Indexed, no destructuring: under --lite-mode each would allocate, and this runs per appended sample.
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const bits = b[0];
    const lim = 2 ** (bits - 1);
    if (x >= -lim + 1 && x <= lim) {
      w.write(b[1], b[2]);
      w.write((x + lim - 1) >>> 0, bits);
      return true;
    }
  }
  return false;
}

/**
 * Reads what writeBucketed wrote with buckets whose prefixes are 10, 110, 1110, ... and, for the last, all
 * ones (as many as the one before it).
 */
export function readBucketed(r: BitReader, buckets: Buckets): number {
  if (r.bit() === 0) return 0;
  let k = 0;
  while (k < buckets.length - 1 && r.bit() === 1) k++;
  const bits = buckets[k]![0];
  return r.read(bits) - (2 ** (bits - 1) - 1);
}

function writeDod(w: BitWriter, dod: number): void {
  if (writeBucketed(w, dod, DOD_BUCKETS)) return;
  w.write(0b1111, 4);
  w.write(dod | 0, 32);
}

/** Decodes `count` timestamps into `out` from `offset`; returns the new length. */
export function decodeTimes(
  data: Uint8Array,
  count: number,
  out: number[] | Float64Array,
  offset = 0,
): number {
  if (count === 0) return offset;
  const r = new BitReader(data);
  let t = r.read(32) * 2 ** 32 + r.read(32);
  out[offset] = t;
  let delta = 0;
  for (let i = 1; i < count; i++) {
    if (i === 1) delta = r.read(32) | 0;
    else if (r.bit() !== 0) {
      // Prefix 10, 110, 1110 or 1111: count the ones after the first.
      let ones = 0;
      while (ones < 3 && r.bit() === 1) ones++;
      delta +=
        ones === 3 ? r.read(32) | 0 : r.read(DOD_BUCKETS[ones]![0]) - (2 ** (DOD_BUCKETS[ones]![0] - 1) - 1);
    }
    t += delta;
    out[offset + i] = t;
  }
  return offset + count;
}

/** The state of an XOR-compressed float stream: the previous value and the window of meaningful bits. */
export interface XorState {
  hi: number;
  lo: number;
  leading: number;
  trailing: number;
}

export function xorState(hi: number, lo: number): XorState {
  return { hi, lo, leading: -1, trailing: 0 };
}

/** Writes one value of an XOR stream (after its first, which is written raw). */
export function writeXor(w: BitWriter, s: XorState, hi: number, lo: number): void {
  const xh = (hi ^ s.hi) >>> 0;
  const xl = (lo ^ s.lo) >>> 0;
  s.hi = hi;
  s.lo = lo;
  if (xh === 0 && xl === 0) {
    w.write(0, 1);
    return;
  }
  w.write(1, 1);
  let leading = Math.min(clz64(xh, xl), 31);
  let trailing = ctz64(xh, xl);
  if (s.leading >= 0 && leading >= s.leading && trailing >= s.trailing) {
    w.write(0, 1);
    leading = s.leading;
    trailing = s.trailing;
  } else {
    const meaningful = 64 - leading - trailing;
    w.write(1, 1);
    w.write(leading, 5);
    w.write(meaningful & 63, 6); // 64 is written as 0
    s.leading = leading;
    s.trailing = trailing;
  }
  writeMeaningful(w, xh, xl, trailing, 64 - leading - trailing);
}

function writeMeaningful(w: BitWriter, hi: number, lo: number, trailing: number, n: number): void {
  let vh: number;
  let vl: number;
  if (trailing >= 32) {
    vh = 0;
    vl = hi >>> (trailing - 32);
  } else if (trailing === 0) {
    vh = hi;
    vl = lo;
  } else {
    vl = ((lo >>> trailing) | (hi << (32 - trailing))) >>> 0;
    vh = hi >>> trailing;
  }
  if (n > 32) {
    w.write(vh, n - 32);
    w.write(vl, 32);
  } else w.write(vl, n);
}

/** Reads one value of an XOR stream into `s` (s.hi, s.lo hold it afterwards). */
export function readXor(r: BitReader, s: XorState): void {
  if (r.bit() === 0) return;
  if (r.bit() !== 0) {
    s.leading = r.read(5);
    const m = r.read(6);
    s.trailing = 64 - s.leading - (m === 0 ? 64 : m);
  }
  const trailing = s.trailing;
  const n = 64 - s.leading - trailing;
  let vh = 0;
  let vl: number;
  if (n > 32) {
    vh = r.read(n - 32);
    vl = r.read(32);
  } else vl = r.read(n);
  // shift (vh, vl) left by `trailing` and XOR into the previous value
  let xh: number;
  let xl: number;
  if (trailing >= 32) {
    xh = (vl << (trailing - 32)) >>> 0;
    xl = 0;
  } else if (trailing === 0) {
    xh = vh;
    xl = vl;
  } else {
    xh = ((vh << trailing) | (vl >>> (32 - trailing))) >>> 0;
    xl = (vl << trailing) >>> 0;
  }
  s.hi = (s.hi ^ xh) >>> 0;
  s.lo = (s.lo ^ xl) >>> 0;
}
