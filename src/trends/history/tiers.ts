/**
 * The stored tiers of one series: raw chunks read by window, and rollup rows, read by window (the rows after
 * the last rolled-up hour are bucketed from the raw tail on the fly), written into their blocks (6 hours of
 * 1-minute rows, a week of 1-hour rows) and pruned row by row.
 */
import { decodeChunks } from './blocks.js';
import type { StoredChunk } from './blocks.js';
import { decodeRollupBlock, encodeRollupBlock } from './rollup-codec.js';
import { concatRollups, rollupSamples, sliceRollup, sliceRows } from './rollup.js';
import type { RollupRows } from './rollup.js';
import type { HistoryStatements, RollupStatements } from './schema.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/**
 * The span of a rollup block: larger blocks amortise each column's first value and the table row, but the
 * open block is re-encoded at each maintenance (6 h of 1-minute rows take 0.1 byte per row more than a day).
 */
export const BLOCK_1M_MS = 6 * HOUR;
export const BLOCK_1H_MS = 7 * DAY;

export type RollupResolution = '1m' | '1h';

/** Rows per bucket and per block of a rollup resolution, and its statements. */
function tier(
  stmts: HistoryStatements,
  res: RollupResolution,
): { bucketMs: number; blockMs: number; sql: RollupStatements } {
  return res === '1m'
    ? { bucketMs: MINUTE, blockMs: BLOCK_1M_MS, sql: stmts.rollup1m }
    : { bucketMs: HOUR, blockMs: BLOCK_1H_MS, sql: stmts.rollup1h };
}

/** The timestamps of a time block, by id. */
export type TimesOf = (id: number) => Float64Array;

/** Raw samples of series `id` with fromMs ≤ t ≤ toMs. */
export function readRaw(
  stmts: HistoryStatements,
  timesOf: TimesOf,
  id: number,
  fromMs: number,
  toMs: number,
): { t: Float64Array; v: Float64Array } {
  const rows = stmts.chunksIn.all(id, fromMs, toMs, id, fromMs, toMs) as unknown as StoredChunk[];
  const { t, v } = decodeChunks(rows, timesOf);
  let lo = 0;
  while (lo < t.length && t[lo]! < fromMs) lo++;
  let hi = t.length;
  while (hi > lo && t[hi - 1]! > toMs) hi--;
  return { t: t.subarray(lo, hi), v: v.subarray(lo, hi) };
}

/** Rollup rows of series `id` whose buckets start in the window. */
export function readRollups(
  stmts: HistoryStatements,
  timesOf: TimesOf,
  id: number,
  res: RollupResolution,
  fromMs: number,
  toMs: number,
  counter: boolean,
): RollupRows {
  const { bucketMs, blockMs, sql } = tier(stmts, res);
  const rolled = stmts.rolled.get(id) as { rolled_ms: number | null; rolled_last: number | null };
  const watermark = rolled.rolled_ms ?? -Infinity;
  const start = Math.floor(fromMs / bucketMs) * bucketMs;
  const limit = Math.min(toMs + 1, watermark);
  const blocks = sql.range.all(id, Math.floor(start / blockMs) * blockMs, limit) as {
    t: number;
    n: number;
    data: Uint8Array;
  }[];
  const parts = blocks.map((b) => decodeRollupBlock(b.data, b.n, b.t, bucketMs));
  const stored = concatRollups(parts.map((r) => sliceRollup(r, start, limit)));
  // Samples after the last rolled-up hour are still raw: bucket them the same way on the fly.
  const tailFrom = Math.max(start, watermark === -Infinity ? start : watermark);
  const raw = readRaw(stmts, timesOf, id, tailFrom, toMs);
  const tail = rollupSamples(raw.t, raw.v, bucketMs, counter);
  return concatRollups([stored, tail]);
}

/** Writes rollup rows into their blocks, merging with rows a block already holds. */
export function writeRollups(
  stmts: HistoryStatements,
  id: number,
  res: RollupResolution,
  rows: RollupRows,
): void {
  const { bucketMs, blockMs, sql } = tier(stmts, res);
  let i = 0;
  while (i < rows.t.length) {
    const b = Math.floor(rows.t[i]! / blockMs) * blockMs;
    let j = i;
    while (j < rows.t.length && Math.floor(rows.t[j]! / blockMs) * blockMs === b) j++;
    let part = sliceRows(rows, i, j);
    const old = sql.block.get(id, b) as { n: number; data: Uint8Array } | undefined;
    if (old !== undefined) {
      const prev = decodeRollupBlock(old.data, old.n, b, bucketMs);
      part = concatRollups([sliceRollup(prev, -Infinity, part.t[0]!), part]);
    }
    sql.upsert.run(id, b, part.t.length, encodeRollupBlock(part, b, bucketMs));
    i = j;
  }
}

/** Drops the rollup rows whose buckets end by `beforeMs`: whole blocks, and the older rows of the block astride. */
export function pruneRollups(stmts: HistoryStatements, res: RollupResolution, beforeMs: number): void {
  const { bucketMs, blockMs, sql } = tier(stmts, res);
  sql.dropThrough.run(beforeMs - blockMs);
  const astride = sql.astride.all(beforeMs - blockMs, beforeMs) as {
    series_id: number;
    t: number;
    n: number;
    data: Uint8Array;
  }[];
  for (const b of astride) {
    const rows = decodeRollupBlock(b.data, b.n, b.t, bucketMs);
    const kept = sliceRollup(rows, beforeMs - bucketMs + 1, Infinity);
    if (kept.t.length === rows.t.length) continue;
    if (kept.t.length === 0) sql.remove.run(b.series_id, b.t);
    else sql.upsert.run(b.series_id, b.t, kept.t.length, encodeRollupBlock(kept, b.t, bucketMs));
  }
}
