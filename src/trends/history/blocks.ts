/**
 * The stored form of raw chunks: the value stream of one series in a block of shared timestamps (values.ts).
 * Rollup blocks are in rollup-codec.ts.
 */
import { decodeValues } from './values.js';

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
