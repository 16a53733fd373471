/**
 * The stored forms of the history's data: raw chunks (one Gorilla stream of times and values, gorilla.ts)
 * and rollup blocks (eight Gorilla columns, each carrying the bucket starts, preceded by their byte lengths).
 */
import { ChunkEncoder, decodeChunk } from '../gorilla.js';
import { ROLLUP_COLUMNS, emptyRollup } from './rollup.js';
import type { RollupRows } from './rollup.js';

/** Decodes raw chunks, in order, into one pair of columns. */
export function decodeChunks(chunks: readonly { n: number; data: Uint8Array }[]): {
  t: Float64Array;
  v: Float64Array;
} {
  let total = 0;
  for (const c of chunks) total += c.n;
  const t = new Float64Array(total);
  const v = new Float64Array(total);
  let off = 0;
  for (const c of chunks) off = decodeChunk(c.data, c.n, t, v, off);
  return { t, v };
}

/** Eight Gorilla-encoded columns (each carrying the bucket starts), preceded by their byte lengths. */
export function encodeRollupBlock(r: RollupRows): Uint8Array {
  const columns = [r.last, ...ROLLUP_COLUMNS.map((c) => r.cols[c])];
  const encoded = columns.map((col) => {
    const e = new ChunkEncoder();
    for (let i = 0; i < r.t.length; i++) e.append(r.t[i]!, col[i]!);
    return e.bytes().slice();
  });
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
  let off = 4 * columns.length;
  const scratch = new Float64Array(count);
  columns.forEach((col, i) => {
    const len = view.getUint32(4 * i);
    decodeChunk(data.subarray(off, off + len), count, i === 0 ? out.t : scratch, col);
    off += len;
  });
  return out;
}
