/**
 * The stored forms of the history's data: raw chunks (the value stream of one series in a block of shared
 * timestamps, values.ts) and rollup blocks (the bucket starts once, then eight value columns, each section
 * preceded by its byte length).
 */
import { TimeEncoder, decodeTimes } from '../gorilla.js';
import { ROLLUP_COLUMNS, emptyRollup } from './rollup.js';
import type { RollupRows } from './rollup.js';
import { ValueEncoder, decodeValues } from './values.js';

/** A stored chunk: `n` values from position `first` of time block `time_id`. */
export interface StoredChunk {
  n: number;
  time_id: number;
  first: number;
  data: Uint8Array;
}

/** Decodes raw chunks, in order, into one pair of columns; `timesOf` gives a time block's timestamps. */
export function decodeChunks(
  chunks: readonly StoredChunk[],
  timesOf: (id: number) => Float64Array,
): { t: Float64Array; v: Float64Array } {
  let total = 0;
  for (const c of chunks) total += c.n;
  const t = new Float64Array(total);
  const v = new Float64Array(total);
  let off = 0;
  for (const c of chunks) off = decodeValues(c.data, c.n, c.first, timesOf(c.time_id), t, v, off);
  return { t, v };
}

/** The bucket starts, then the last values and the other columns, each preceded by its byte length. */
export function encodeRollupBlock(r: RollupRows): Uint8Array {
  const times = new TimeEncoder();
  for (let i = 0; i < r.t.length; i++) times.append(r.t[i]!);
  const columns = [r.last, ...ROLLUP_COLUMNS.map((c) => r.cols[c])];
  const encoded = [
    times.bytes().slice(),
    ...columns.map((col) => {
      const e = new ValueEncoder();
      for (let i = 0; i < r.t.length; i++) e.append(i, col[i]!);
      return e.bytes().slice();
    }),
  ];
  const total = 4 * encoded.length + encoded.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let off = 4 * encoded.length;
  encoded.forEach((bytes, i) => {
    view.setUint32(4 * i, bytes.length);
    out.set(bytes, off);
    off += bytes.length;
  });
  return out;
}

export function decodeRollupBlock(data: Uint8Array, count: number): RollupRows {
  const out = emptyRollup(count);
  const columns = [out.last, ...ROLLUP_COLUMNS.map((c) => out.cols[c])];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 4 * (columns.length + 1);
  const section = (i: number): Uint8Array => {
    const len = view.getUint32(4 * i);
    const bytes = data.subarray(off, off + len);
    off += len;
    return bytes;
  };
  decodeTimes(section(0), count, out.t);
  const scratch = new Float64Array(count);
  columns.forEach((col, i) => decodeValues(section(i + 1), count, 0, out.t, scratch, col));
  return out;
}
