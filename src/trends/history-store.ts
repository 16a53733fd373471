/**
 * The embedded history: every collected series in one SQLite file (node:sqlite, WAL mode). Raw samples live
 * in per-series chunks of up to CHUNK_SAMPLES samples, Gorilla-compressed (gorilla.ts); the open chunk of a
 * series is rewritten in the same transaction as each append, so a killed process loses at most the append
 * in flight. Complete hours are rolled up into 1-minute and 1-hour rows (count, sum, sum of squares, min,
 * max, last value and reset-aware increase), which outlive the raw chunks, so long windows stay cheap.
 * Histograms are stored as Prometheus stores them: one cumulative series per bucket bound, plus sum and
 * count, so percentiles over any window come from real bucket increases.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import type { MetricKind, Sample } from '../model/metric.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { createPrivateFile, ensurePrivateDir } from '../lib/private-files.js';
import { ChunkEncoder, decodeChunk } from './gorilla.js';

export type Resolution = 'raw' | '1m' | '1h';

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

/** Reset-aware increase over rollup buckets: within each bucket, and between consecutive buckets. */
export function rollupIncrease(cols: RollupColumns, last: ArrayLike<number>): number {
  let inc = 0;
  for (let i = 0; i < cols.inc.length; i++) {
    inc += cols.inc[i]!;
    if (i > 0) inc += counterIncrease(last[i - 1]!, cols.first[i]!);
  }
  return inc;
}

/** One series over a window, as the stats read it. */
export interface SeriesWindow {
  metric: string;
  labels: Readonly<Record<string, string>>;
  kind: MetricKind;
  resolution: Resolution;
  /** Sample times (raw) or bucket starts (rollups), ms. */
  t: Float64Array;
  /** Sample values (raw) or the last value of each bucket (rollups); histograms: the observation count. */
  v: Float64Array;
  /** Present for rollup resolutions. */
  rollup?: RollupColumns;
  /** Histograms: bucket increases over the window (cumulative, as `le` buckets), and the sum's increase. */
  histogram?: { le: number[]; increase: number[]; sumIncrease: number; countIncrease: number };
}

/** Reads history; the embedded store and the Prometheus backend both do. */
export interface HistoryReader {
  /** Series of `metric` whose labels include `labels`, with their samples in [fromMs, toMs]. */
  query(
    metric: string,
    labels: Readonly<Record<string, string>>,
    fromMs: number,
    toMs: number,
    opts?: { resolution?: Resolution },
  ): Promise<SeriesWindow[]>;
}

/** The history contract: append each collection, query windows, drop old data. */
export interface HistoryStore extends HistoryReader {
  append(samples: readonly Sample[]): void;
  prune(beforeMs: number): void;
}

export interface SqliteHistoryStoreOptions {
  path: string;
  /** Raw chunks older than this are dropped once rolled up. */
  rawRetentionMs: number;
  rollup1mRetentionMs: number;
  /** Everything older than this goes (retention_days). */
  retentionMs: number;
  /** Wall clock, for choosing a resolution and for retention. */
  nowMs: () => number;
  /** Opens an existing file for reading only (the CLI, while an agent may be writing it). */
  readOnly?: boolean;
}

/** Marks the file as ours: PRAGMA application_id ('PMAH'). */
export const HISTORY_APPLICATION_ID = 0x504d4148;
const SCHEMA_VERSION = 1;
export const CHUNK_SAMPLES = 120;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface SeriesRow {
  id: number;
  metric: string;
  labels: string;
  part: string;
  kind: string;
}

interface OpenChunk {
  enc: ChunkEncoder;
  startMs: number;
}

interface SeriesState {
  id: number;
  lastT: number;
  open: OpenChunk | undefined;
  dirty: boolean;
}

function canonicalLabels(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  const o: Record<string, string> = {};
  for (const k of keys) o[k] = labels[k]!;
  return JSON.stringify(o);
}

function matches(labels: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(want)) if (labels[k] !== v) return false;
  return true;
}

function leText(bound: number | undefined): string {
  return bound === undefined ? '+Inf' : String(bound);
}

/** Reset-aware increase from `prev` to `cur`, as Prometheus' rate() counts it. */
export function counterIncrease(prev: number, cur: number): number {
  return cur >= prev ? cur - prev : cur;
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
): { t: Float64Array; last: Float64Array; cols: RollupColumns } {
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
  const n = rows.length;
  const cols: RollupColumns = {
    n: new Float64Array(n),
    sum: new Float64Array(n),
    sumsq: new Float64Array(n),
    min: new Float64Array(n),
    max: new Float64Array(n),
    first: new Float64Array(n),
    inc: new Float64Array(n),
  };
  const tt = new Float64Array(n);
  const last = new Float64Array(n);
  rows.forEach((r, i) => {
    tt[i] = r[0]!;
    cols.n[i] = r[1]!;
    cols.sum[i] = r[2]!;
    cols.sumsq[i] = r[3]!;
    cols.min[i] = r[4]!;
    cols.max[i] = r[5]!;
    last[i] = r[6]!;
    cols.inc[i] = r[7]!;
    cols.first[i] = r[8]!;
  });
  return { t: tt, last, cols };
}

/** Rollup rows: bucket starts, last values and the other columns. */
export interface RollupRows {
  t: Float64Array;
  last: Float64Array;
  cols: RollupColumns;
}

const ROLLUP_COLUMNS = ['n', 'sum', 'sumsq', 'min', 'max', 'first', 'inc'] as const;

function emptyRollup(n: number): RollupRows {
  const col = (): Float64Array => new Float64Array(n);
  return {
    t: col(),
    last: col(),
    cols: { n: col(), sum: col(), sumsq: col(), min: col(), max: col(), first: col(), inc: col() },
  };
}

function sliceRows(r: RollupRows, from: number, to: number): RollupRows {
  const out = emptyRollup(0);
  out.t = r.t.slice(from, to);
  out.last = r.last.slice(from, to);
  for (const c of ROLLUP_COLUMNS) out.cols[c] = r.cols[c].slice(from, to);
  return out;
}

/** The rows with fromMs ≤ t < toMs. */
function sliceRollup(r: RollupRows, fromMs: number, toMs: number): RollupRows {
  let lo = 0;
  while (lo < r.t.length && r.t[lo]! < fromMs) lo++;
  let hi = lo;
  while (hi < r.t.length && r.t[hi]! < toMs) hi++;
  return sliceRows(r, lo, hi);
}

function concatRollups(parts: readonly RollupRows[]): RollupRows {
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

function storeError(file: string, reason: string, cause?: unknown): AgentError {
  return new AgentError(
    'E_HISTORY_STORE',
    `${file}: ${reason}; it was left untouched (move it away or set trend_analysis.storage.path)`,
    { cause },
  );
}

export class SqliteHistoryStore implements HistoryStore {
  private readonly _opts: SqliteHistoryStoreOptions;
  private _db: DatabaseSync | undefined;
  private readonly _series = new Map<string, SeriesState>();
  private _stmts: Record<string, StatementSync> = {};

  constructor(opts: SqliteHistoryStoreOptions) {
    this._opts = opts;
  }

  get path(): string {
    return this._opts.path;
  }

  /**
   * Opens (or creates) the file. A file that is not SQLite, is another program's database, or fails
   * SQLite's integrity check is refused with E_HISTORY_STORE and never written to.
   */
  open(): void {
    if (this._db !== undefined) return;
    const file = this._opts.path;
    let existing = false;
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) throw storeError(file, 'the history path is not a regular file');
      existing = st.size > 0;
    } catch (err) {
      if (err instanceof AgentError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw storeError(file, `cannot read the history file (${errorMessage(err)})`, err);
      if (this._opts.readOnly === true)
        throw new AgentError(
          'E_HISTORY_STORE',
          `${file}: no history file (is trend_analysis enabled with the sqlite backend?)`,
        );
      try {
        ensurePrivateDir(path.dirname(path.resolve(file)));
        createPrivateFile(file);
      } catch (cause) {
        throw storeError(file, `cannot create the history file (${errorMessage(cause)})`, cause);
      }
    }
    const readOnly = this._opts.readOnly === true;
    if (readOnly && !existing) throw new AgentError('E_HISTORY_STORE', `${file}: the history file is empty`);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file, { readOnly });
    } catch (err) {
      throw storeError(file, `cannot open the history file (${errorMessage(err)})`, err);
    }
    try {
      if (existing) {
        const appId = (db.prepare('PRAGMA application_id').get() as { application_id: number })
          .application_id;
        const tables = (
          db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type='table'").get() as {
            n: number;
          }
        ).n;
        if (appId !== HISTORY_APPLICATION_ID && (tables > 0 || readOnly))
          throw storeError(file, 'is an SQLite database of another program, not a metrics history');
        if (!readOnly) {
          const check = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
          if (check.length !== 1 || check[0]!.quick_check !== 'ok')
            throw storeError(file, `the history file is corrupt (${check[0]?.quick_check ?? 'unknown'})`);
        }
      }
      if (!readOnly) this._initSchema(db);
    } catch (err) {
      db.close();
      if (err instanceof AgentError) throw err;
      throw storeError(file, `is not a usable history database (${errorMessage(err)})`, err);
    }
    this._db = db;
    this._prepare(db);
  }

  private _initSchema(db: DatabaseSync): void {
    db.exec('PRAGMA journal_mode=WAL');
    db.exec('PRAGMA synchronous=NORMAL');
    db.exec(`PRAGMA application_id=${HISTORY_APPLICATION_ID}`);
    db.exec(`PRAGMA user_version=${SCHEMA_VERSION}`);
    db.exec(`
        CREATE TABLE IF NOT EXISTS series (
          id INTEGER PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, part TEXT NOT NULL,
          kind TEXT NOT NULL, rolled_ms INTEGER, rolled_last REAL, UNIQUE (metric, labels, part));
        CREATE TABLE IF NOT EXISTS chunks (
          series_id INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
          n INTEGER NOT NULL, data BLOB NOT NULL);
        -- Rowid tables with a unique index, not WITHOUT ROWID: blobs of a kilobyte or more would spill into
        -- mostly empty overflow pages in an index b-tree.
        CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_series ON chunks (series_id, start_ms);
        -- Rollup rows, compressed column-wise in blocks: an hour of 1-minute rows, a day of 1-hour rows.
        CREATE TABLE IF NOT EXISTS rollup_1m (
          series_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,
          UNIQUE (series_id, t));
        CREATE TABLE IF NOT EXISTS rollup_1h (
          series_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,
          UNIQUE (series_id, t));
      `);
  }

  private _prepare(db: DatabaseSync): void {
    this._stmts = {
      findSeries: db.prepare('SELECT id FROM series WHERE metric = ? AND labels = ? AND part = ?'),
      insertSeries: db.prepare('INSERT INTO series (metric, labels, part, kind) VALUES (?, ?, ?, ?)'),
      lastEnd: db.prepare('SELECT max(end_ms) AS e FROM chunks WHERE series_id = ?'),
      upsertChunk: db.prepare(
        'INSERT INTO chunks (series_id, start_ms, end_ms, n, data) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (series_id, start_ms) DO UPDATE SET end_ms = excluded.end_ms, n = excluded.n, data = excluded.data',
      ),
      seriesOf: db.prepare('SELECT id, metric, labels, part, kind FROM series WHERE metric = ?'),
      chunksIn: db.prepare(
        'SELECT n, data FROM chunks WHERE series_id = ? AND end_ms >= ? AND start_ms <= ? ORDER BY start_ms',
      ),
      rolled: db.prepare('SELECT rolled_ms, rolled_last FROM series WHERE id = ?'),
      firstChunk: db.prepare('SELECT min(start_ms) AS s FROM chunks WHERE series_id = ?'),
      setRolled: db.prepare('UPDATE series SET rolled_ms = ?, rolled_last = ? WHERE id = ?'),
      insert1m: db.prepare(
        'INSERT INTO rollup_1m (series_id, t, n, data) VALUES (?, ?, ?, ?) ON CONFLICT (series_id, t) DO UPDATE SET n = excluded.n, data = excluded.data',
      ),
      insert1h: db.prepare(
        'INSERT INTO rollup_1h (series_id, t, n, data) VALUES (?, ?, ?, ?) ON CONFLICT (series_id, t) DO UPDATE SET n = excluded.n, data = excluded.data',
      ),
      block1m: db.prepare('SELECT n, data FROM rollup_1m WHERE series_id = ? AND t = ?'),
      block1h: db.prepare('SELECT n, data FROM rollup_1h WHERE series_id = ? AND t = ?'),
      rollups1m: db.prepare(
        'SELECT t, n, data FROM rollup_1m WHERE series_id = ? AND t >= ? AND t < ? ORDER BY t',
      ),
      rollups1h: db.prepare(
        'SELECT t, n, data FROM rollup_1h WHERE series_id = ? AND t >= ? AND t < ? ORDER BY t',
      ),
    };
  }

  private _openDb(): DatabaseSync {
    if (this._db === undefined) throw new AgentError('E_STATE', 'the history store is not open');
    return this._db;
  }

  close(): void {
    this._db?.close();
    this._db = undefined;
    this._series.clear();
  }

  private _state(metric: string, labels: string, part: string, kind: string): SeriesState {
    const key = `${metric}\u0000${labels}\u0000${part}`;
    let s = this._series.get(key);
    if (s === undefined) {
      let row = this._stmts.findSeries!.get(metric, labels, part) as { id: number } | undefined;
      if (row === undefined) {
        const r = this._stmts.insertSeries!.run(metric, labels, part, kind);
        row = { id: Number(r.lastInsertRowid) };
      }
      const last = (this._stmts.lastEnd!.get(row.id) as { e: number | null }).e;
      s = { id: row.id, lastT: last ?? -Infinity, open: undefined, dirty: false };
      this._series.set(key, s);
    }
    return s;
  }

  private _add(s: SeriesState, t: number, v: number): void {
    if (!(t > s.lastT)) return;
    if (s.open === undefined || s.open.enc.count >= CHUNK_SAMPLES)
      s.open = { enc: new ChunkEncoder(), startMs: t };
    s.open.enc.append(t, v);
    s.lastT = t;
    s.dirty = true;
  }

  /** Appends one collection and makes it durable (one transaction). */
  append(samples: readonly Sample[]): void {
    const db = this._openDb();
    const touched: SeriesState[] = [];
    db.exec('BEGIN');
    try {
      for (const smp of samples) {
        const labels = canonicalLabels(smp.labels);
        if (smp.kind === 'histogram' && smp.histogram !== undefined) {
          const h = smp.histogram;
          let cum = 0;
          for (let i = 0; i < h.counts.length; i++) {
            cum += h.counts[i]!;
            const s = this._state(smp.metric, labels, `le:${leText(h.boundaries[i])}`, 'counter');
            this._add(s, smp.timestampMs, cum);
            touched.push(s);
          }
          const sum = this._state(smp.metric, labels, 'sum', 'counter');
          this._add(sum, smp.timestampMs, h.sum);
          touched.push(sum);
          const count = this._state(smp.metric, labels, 'count', 'histogram');
          this._add(count, smp.timestampMs, h.count);
          touched.push(count);
        } else {
          const s = this._state(smp.metric, labels, '', smp.kind);
          this._add(s, smp.timestampMs, smp.value);
          touched.push(s);
        }
      }
      for (const s of touched) {
        if (!s.dirty || s.open === undefined) continue;
        s.dirty = false;
        this._stmts.upsertChunk!.run(s.id, s.open.startMs, s.lastT, s.open.enc.count, s.open.enc.bytes());
      }
      db.exec('COMMIT');
    } catch (err) {
      // SQLite has already rolled back after some errors (a full disk): a second ROLLBACK would hide the cause.
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }

  private _raw(id: number, fromMs: number, toMs: number): { t: Float64Array; v: Float64Array } {
    const rows = this._stmts.chunksIn!.all(id, fromMs, toMs) as { n: number; data: Uint8Array }[];
    let total = 0;
    for (const r of rows) total += r.n;
    const t = new Float64Array(total);
    const v = new Float64Array(total);
    let off = 0;
    for (const r of rows) off = decodeChunk(r.data, r.n, t, v, off);
    let lo = 0;
    while (lo < total && t[lo]! < fromMs) lo++;
    let hi = total;
    while (hi > lo && t[hi - 1]! > toMs) hi--;
    return { t: t.subarray(lo, hi), v: v.subarray(lo, hi) };
  }

  private _rollups(
    id: number,
    res: '1m' | '1h',
    fromMs: number,
    toMs: number,
    counter: boolean,
  ): { t: Float64Array; last: Float64Array; cols: RollupColumns } {
    const bucket = res === '1m' ? MINUTE : HOUR;
    const rolled = this._stmts.rolled!.get(id) as { rolled_ms: number | null; rolled_last: number | null };
    const watermark = rolled.rolled_ms ?? -Infinity;
    const stmt = res === '1m' ? this._stmts.rollups1m! : this._stmts.rollups1h!;
    const block = res === '1m' ? HOUR : DAY;
    const start = Math.floor(fromMs / bucket) * bucket;
    const limit = Math.min(toMs + 1, watermark);
    const blocks = stmt.all(id, Math.floor(start / block) * block, limit) as {
      t: number;
      n: number;
      data: Uint8Array;
    }[];
    const parts = blocks.map((b) => decodeRollupBlock(b.data, b.n));
    const stored = concatRollups(parts.map((r) => sliceRollup(r, start, limit)));
    // Samples after the last rolled-up hour are still raw: bucket them the same way on the fly.
    const tailFrom = Math.max(start, watermark === -Infinity ? start : watermark);
    const raw = this._raw(id, tailFrom, toMs);
    const tail = rollupSamples(raw.t, raw.v, bucket, counter);
    return concatRollups([stored, tail]);
  }

  /** Writes rollup rows into their blocks, merging with rows a block already holds. */
  private _writeRollups(id: number, res: '1m' | '1h', rows: RollupRows): void {
    const block = res === '1m' ? HOUR : DAY;
    const insert = res === '1m' ? this._stmts.insert1m! : this._stmts.insert1h!;
    const existing = res === '1m' ? this._stmts.block1m! : this._stmts.block1h!;
    let i = 0;
    while (i < rows.t.length) {
      const b = Math.floor(rows.t[i]! / block) * block;
      let j = i;
      while (j < rows.t.length && Math.floor(rows.t[j]! / block) * block === b) j++;
      let part = sliceRows(rows, i, j);
      const old = existing.get(id, b) as { n: number; data: Uint8Array } | undefined;
      if (old !== undefined) {
        const prev = decodeRollupBlock(old.data, old.n);
        part = concatRollups([sliceRollup(prev, -Infinity, part.t[0]!), part]);
      }
      insert.run(id, b, part.t.length, encodeRollupBlock(part));
      i = j;
    }
  }

  /**
   * The resolution a query gets unless it asks for one: the finest whose retention reaches back to the
   * window's start, and no finer than the window's length needs — raw up to a day, 1-minute rows up to
   * three days, 1-hour rows beyond (a 7-day window reads 168 rows per series).
   */
  resolutionFor(fromMs: number, toMs: number = this._opts.nowMs()): Resolution {
    const now = this._opts.nowMs();
    const length = toMs - fromMs;
    if (fromMs >= now - this._opts.rawRetentionMs && length <= DAY) return 'raw';
    if (fromMs >= now - this._opts.rollup1mRetentionMs && length <= 3 * DAY) return '1m';
    return '1h';
  }

  query(
    metric: string,
    labels: Readonly<Record<string, string>>,
    fromMs: number,
    toMs: number,
    opts: { resolution?: Resolution } = {},
  ): Promise<SeriesWindow[]> {
    return Promise.resolve(this.querySync(metric, labels, fromMs, toMs, opts));
  }

  querySync(
    metric: string,
    labels: Readonly<Record<string, string>>,
    fromMs: number,
    toMs: number,
    opts: { resolution?: Resolution } = {},
  ): SeriesWindow[] {
    this._openDb();
    const resolution = opts.resolution ?? this.resolutionFor(fromMs, toMs);
    const rows = this._stmts.seriesOf!.all(metric) as unknown as SeriesRow[];
    const groups = new Map<string, SeriesRow[]>();
    for (const r of rows) {
      const l = JSON.parse(r.labels) as Record<string, string>;
      if (!matches(l, labels)) continue;
      let g = groups.get(r.labels);
      if (g === undefined) groups.set(r.labels, (g = []));
      g.push(r);
    }
    const out: SeriesWindow[] = [];
    for (const [labelText, parts] of groups) {
      const main = parts.find((p) => p.part === '' || p.part === 'count');
      if (main === undefined) continue;
      const base = {
        metric,
        labels: JSON.parse(labelText) as Record<string, string>,
        kind: main.kind as MetricKind,
        resolution,
      };
      const win = this._window(main.id, resolution, fromMs, toMs, main.kind !== 'gauge');
      const w: SeriesWindow = { ...base, ...win };
      if (main.part === 'count') {
        const increase = (id: number): number => this._increase(id, resolution, fromMs, toMs);
        const buckets = parts
          .filter((p) => p.part.startsWith('le:'))
          .map((p) => ({ le: Number(p.part.slice(3).replace('+Inf', 'Infinity')), id: p.id }))
          .sort((a, b) => a.le - b.le);
        const sum = parts.find((p) => p.part === 'sum');
        w.histogram = {
          le: buckets.map((b) => b.le),
          increase: buckets.map((b) => increase(b.id)),
          sumIncrease: sum === undefined ? 0 : increase(sum.id),
          countIncrease: increase(main.id),
        };
      }
      if (w.t.length > 0) out.push(w);
    }
    return out;
  }

  private _window(
    id: number,
    resolution: Resolution,
    fromMs: number,
    toMs: number,
    counter: boolean,
  ): Pick<SeriesWindow, 't' | 'v' | 'rollup'> {
    if (resolution === 'raw') return this._raw(id, fromMs, toMs);
    const r = this._rollups(id, resolution, fromMs, toMs, counter);
    return { t: r.t, v: r.last, rollup: r.cols };
  }

  private _increase(id: number, resolution: Resolution, fromMs: number, toMs: number): number {
    const w = this._window(id, resolution, fromMs, toMs, true);
    if (w.rollup !== undefined) return rollupIncrease(w.rollup, w.v);
    let inc = 0;
    for (let i = 1; i < w.v.length; i++) inc += counterIncrease(w.v[i - 1]!, w.v[i]!);
    return inc;
  }

  /**
   * Rolls complete hours up into 1-minute and 1-hour rows, then applies the retention tiers: raw chunks
   * that are rolled up and older than the raw retention, 1-minute rows older than theirs, and everything
   * older than the overall retention.
   */
  maintain(): { rolledSeries: number } {
    const db = this._openDb();
    const now = this._opts.nowMs();
    const cutoff = Math.floor(now / HOUR) * HOUR;
    const ids = db.prepare('SELECT id, kind, rolled_ms, rolled_last FROM series').all() as {
      id: number;
      kind: string;
      rolled_ms: number | null;
      rolled_last: number | null;
    }[];
    let rolledSeries = 0;
    for (const s of ids) {
      let from = s.rolled_ms;
      if (from === null) {
        const first = (this._stmts.firstChunk!.get(s.id) as { s: number | null }).s;
        if (first === null) continue;
        from = Math.floor(first / HOUR) * HOUR;
      }
      if (from >= cutoff) continue;
      const raw = this._raw(s.id, from, cutoff - 1);
      db.exec('BEGIN');
      try {
        const counter = s.kind !== 'gauge';
        this._writeRollups(s.id, '1m', rollupSamples(raw.t, raw.v, MINUTE, counter));
        this._writeRollups(s.id, '1h', rollupSamples(raw.t, raw.v, HOUR, counter));
        const last = raw.v.length > 0 ? raw.v[raw.v.length - 1]! : (s.rolled_last ?? null);
        this._stmts.setRolled!.run(cutoff, last, s.id);
        db.exec('COMMIT');
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
      rolledSeries++;
    }
    db.prepare(
      'DELETE FROM chunks WHERE end_ms < ? AND end_ms < (SELECT coalesce(rolled_ms, 0) FROM series s WHERE s.id = chunks.series_id)',
    ).run(now - this._opts.rawRetentionMs);
    db.prepare('DELETE FROM rollup_1m WHERE t + 3600000 <= ?').run(now - this._opts.rollup1mRetentionMs);
    this.prune(now - this._opts.retentionMs);
    return { rolledSeries };
  }

  /** Drops every sample and rollup older than `beforeMs`. */
  prune(beforeMs: number): void {
    const db = this._openDb();
    db.prepare('DELETE FROM chunks WHERE end_ms < ?').run(beforeMs);
    // Whole blocks only: an hour of 1-minute rows, a day of 1-hour rows.
    db.prepare('DELETE FROM rollup_1m WHERE t + 3600000 <= ?').run(beforeMs);
    db.prepare('DELETE FROM rollup_1h WHERE t + 86400000 <= ?').run(beforeMs);
  }

  /** Bytes used by live pages, and rows per table (for the benchmarks and the status page). */
  footprint(): { bytes: number; chunks: number; rawSamples: number; rollup1m: number; rollup1h: number } {
    const db = this._openDb();
    const one = (sql: string): number => Number((db.prepare(sql).get() as { v: number | null }).v ?? 0);
    const pageSize = one('SELECT page_size AS v FROM pragma_page_size');
    const pages = one('SELECT page_count AS v FROM pragma_page_count');
    const free = one('SELECT freelist_count AS v FROM pragma_freelist_count');
    return {
      bytes: (pages - free) * pageSize,
      chunks: one('SELECT count(*) AS v FROM chunks'),
      rawSamples: one('SELECT sum(n) AS v FROM chunks'),
      rollup1m: one('SELECT sum(n) AS v FROM rollup_1m'),
      rollup1h: one('SELECT sum(n) AS v FROM rollup_1h'),
    };
  }

  /** Folds the WAL into the main file (for measurements and a clean stop). */
  checkpoint(): void {
    this._db?.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  /** Every stored series of `metric` (labels only). */
  seriesOf(metric: string): Record<string, string>[] {
    const rows = this._stmts.seriesOf!.all(metric) as unknown as SeriesRow[];
    const seen = new Set<string>();
    const out: Record<string, string>[] = [];
    for (const r of rows)
      if (!seen.has(r.labels)) {
        seen.add(r.labels);
        out.push(JSON.parse(r.labels) as Record<string, string>);
      }
    return out;
  }
}
