/**
 * The embedded history: every collected series in one SQLite file (node:sqlite, WAL mode). Raw samples live
 * in per-series chunks of up to CHUNK_SAMPLES samples, Gorilla-compressed (gorilla.ts); the open chunk of a
 * series is rewritten in the same transaction as each append, so a killed process loses at most the append
 * in flight. Complete hours are rolled up into 1-minute and 1-hour rows (count, sum, sum of squares, min,
 * max, last value and reset-aware increase), which outlive the raw chunks, so long windows stay cheap.
 * Histograms are stored as Prometheus stores them: one cumulative series per bucket bound, plus sum and
 * count, so percentiles over any window come from real bucket increases.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Labels, MetricKind, Sample } from '../model/metric.js';
import { AgentError } from '../lib/errors.js';
import { ChunkEncoder } from './gorilla.js';
import { increaseOf, rollupIncrease, rollupSamples } from './history/rollup.js';
import { openHistoryDb, prepareStatements } from './history/schema.js';
import type { HistoryStatements } from './history/schema.js';
import { DAY, HOUR, MINUTE, readRaw, readRollups, writeRollups } from './history/tiers.js';
import type { HistoryQuery, HistoryStore, Resolution, SeriesWindow } from './history/types.js';

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

export const CHUNK_SAMPLES = 120;

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

function canonicalLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  const o: Record<string, string> = {};
  for (const k of keys) o[k] = labels[k]!;
  return JSON.stringify(o);
}

function matches(labels: Labels, want: Labels): boolean {
  for (const [k, v] of Object.entries(want)) if (labels[k] !== v) return false;
  return true;
}

function leText(bound: number | undefined): string {
  return bound === undefined ? '+Inf' : String(bound);
}

export class SqliteHistoryStore implements HistoryStore {
  private readonly _opts: SqliteHistoryStoreOptions;
  private _db: DatabaseSync | undefined;
  private readonly _series = new Map<string, SeriesState>();
  private _stmts: HistoryStatements | undefined;

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
    this._db = openHistoryDb(this._opts.path, this._opts.readOnly === true);
    this._stmts = prepareStatements(this._db);
  }

  /** The open database and its statements; E_STATE before open() and after close(). */
  private _open(): { db: DatabaseSync; stmts: HistoryStatements } {
    if (this._db === undefined || this._stmts === undefined)
      throw new AgentError('E_STATE', 'the history store is not open');
    return { db: this._db, stmts: this._stmts };
  }

  close(): void {
    this._db?.close();
    this._db = undefined;
    this._stmts = undefined;
    this._series.clear();
  }

  private _state(
    stmts: HistoryStatements,
    metric: string,
    labels: string,
    part: string,
    kind: string,
  ): SeriesState {
    const key = `${metric}\u0000${labels}\u0000${part}`;
    let s = this._series.get(key);
    if (s === undefined) {
      let row = stmts.findSeries.get(metric, labels, part) as { id: number } | undefined;
      if (row === undefined) {
        const r = stmts.insertSeries.run(metric, labels, part, kind);
        row = { id: Number(r.lastInsertRowid) };
      }
      const last = (stmts.lastEnd.get(row.id) as { e: number | null }).e;
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
    const { db, stmts } = this._open();
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
            const s = this._state(stmts, smp.metric, labels, `le:${leText(h.boundaries[i])}`, 'counter');
            this._add(s, smp.timestampMs, cum);
            touched.push(s);
          }
          const sum = this._state(stmts, smp.metric, labels, 'sum', 'counter');
          this._add(sum, smp.timestampMs, h.sum);
          touched.push(sum);
          const count = this._state(stmts, smp.metric, labels, 'count', 'histogram');
          this._add(count, smp.timestampMs, h.count);
          touched.push(count);
        } else {
          const s = this._state(stmts, smp.metric, labels, '', smp.kind);
          this._add(s, smp.timestampMs, smp.value);
          touched.push(s);
        }
      }
      for (const s of touched) {
        if (!s.dirty || s.open === undefined) continue;
        s.dirty = false;
        stmts.upsertChunk.run(s.id, s.open.startMs, s.lastT, s.open.enc.count, s.open.enc.bytes());
      }
      db.exec('COMMIT');
    } catch (err) {
      // SQLite has already rolled back after some errors (a full disk): a second ROLLBACK would hide the cause.
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
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

  query(...args: HistoryQuery): Promise<SeriesWindow[]> {
    return Promise.resolve(this.querySync(...args));
  }

  querySync(...[metric, labels, fromMs, toMs, opts = {}]: HistoryQuery): SeriesWindow[] {
    const { stmts } = this._open();
    const resolution = opts.resolution ?? this.resolutionFor(fromMs, toMs);
    const rows = stmts.seriesOf.all(metric) as unknown as SeriesRow[];
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
      const win = this._window(stmts, main.id, resolution, fromMs, toMs, main.kind !== 'gauge');
      const w: SeriesWindow = { ...base, ...win };
      if (main.part === 'count') {
        const increase = (id: number): number => this._increase(stmts, id, resolution, fromMs, toMs);
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
    stmts: HistoryStatements,
    id: number,
    resolution: Resolution,
    fromMs: number,
    toMs: number,
    counter: boolean,
  ): Pick<SeriesWindow, 't' | 'v' | 'rollup'> {
    if (resolution === 'raw') return readRaw(stmts, id, fromMs, toMs);
    const r = readRollups(stmts, id, resolution, fromMs, toMs, counter);
    return { t: r.t, v: r.last, rollup: r.cols };
  }

  private _increase(
    stmts: HistoryStatements,
    id: number,
    resolution: Resolution,
    fromMs: number,
    toMs: number,
  ): number {
    const w = this._window(stmts, id, resolution, fromMs, toMs, true);
    return w.rollup !== undefined ? rollupIncrease(w.rollup, w.v) : increaseOf(w.v);
  }

  /**
   * Rolls complete hours up into 1-minute and 1-hour rows, then applies the retention tiers: raw chunks
   * that are rolled up and older than the raw retention, 1-minute rows older than theirs, and everything
   * older than the overall retention.
   */
  maintain(): { rolledSeries: number } {
    const { db, stmts } = this._open();
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
        const first = (stmts.firstChunk.get(s.id) as { s: number | null }).s;
        if (first === null) continue;
        from = Math.floor(first / HOUR) * HOUR;
      }
      if (from >= cutoff) continue;
      const raw = readRaw(stmts, s.id, from, cutoff - 1);
      db.exec('BEGIN');
      try {
        const counter = s.kind !== 'gauge';
        writeRollups(stmts, s.id, '1m', rollupSamples(raw.t, raw.v, MINUTE, counter));
        writeRollups(stmts, s.id, '1h', rollupSamples(raw.t, raw.v, HOUR, counter));
        const last = raw.v.length > 0 ? raw.v[raw.v.length - 1]! : (s.rolled_last ?? null);
        stmts.setRolled.run(cutoff, last, s.id);
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
    const { db } = this._open();
    db.prepare('DELETE FROM chunks WHERE end_ms < ?').run(beforeMs);
    // Whole blocks only: an hour of 1-minute rows, a day of 1-hour rows.
    db.prepare('DELETE FROM rollup_1m WHERE t + 3600000 <= ?').run(beforeMs);
    db.prepare('DELETE FROM rollup_1h WHERE t + 86400000 <= ?').run(beforeMs);
  }

  /** Bytes used by live pages, and rows per table (for the benchmarks and the status page). */
  footprint(): { bytes: number; chunks: number; rawSamples: number; rollup1m: number; rollup1h: number } {
    const { db } = this._open();
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
    const rows = this._open().stmts.seriesOf.all(metric) as unknown as SeriesRow[];
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
