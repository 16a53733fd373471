/**
 * The embedded history: every collected series in one SQLite file (node:sqlite, WAL mode). The series
 * collected together share their timestamps: blocks of up to BLOCK_TIMES collection times, delta-of-delta
 * coded (gorilla.ts); each series keeps its values in that block as one chunk, integers and few-decimal
 * values as delta-of-delta of scaled integers and the rest in Gorilla's XOR coding (history/values.ts).
 * Appends are encoded in memory; the open block and the chunks changed since the last write are written in
 * one transaction at most once per flush interval (flushIntervalMs, at the append nearest each mark), when a
 * block opens or closes, before every read (queries, maintenance, footprint, checkpoint) and at close(). A
 * process killed with SIGKILL (or a power cut) therefore loses at most the samples of the last flush
 * interval (plus half the time between appends); what the file holds stays intact (each write is one
 * transaction). A write that fails (a full disk) drops what was pending. A closed block's chunks are
 * written once, densely. Complete hours are rolled up into 1-minute and 1-hour rows (count, sum, sum of
 * squares, min, max, last value and reset-aware increase), which outlive the raw chunks, so long windows
 * stay cheap.
 * Histograms are stored as Prometheus stores them: one cumulative series per bucket bound, plus sum and
 * count, so percentiles over any window come from real bucket increases.
 */
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { AgentError } from '../lib/errors.js';
import { lowerBound } from '../lib/sorted-search.js';
import { sampleKey } from '../model/labels.js';
import type { MetricKind, Sample } from '../model/metric.js';
import { TimeEncoder, decodeTimes } from './gorilla.js';
import { MaintenancePass } from './history/maintenance.js';
import type { MaintenanceTarget } from './history/maintenance.js';
import { increaseOf, rollupIncrease } from './history/rollup.js';
import { openHistoryDb, prepareStatements } from './history/schema.js';
import type { HistoryStatements } from './history/schema.js';
import { DAY, pruneRollups, readRaw, readRollups } from './history/tiers.js';
import { ValueEncoder } from './history/values.js';
import { matches } from './history/series-labels.js';
import { SeriesStates } from './history/series-states.js';
import type { SeriesState } from './history/series-states.js';
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
  /**
   * Appends are written at most this often (ms of `monotonicMs`); 0 (the default) writes every append. A
   * read, a new block and close() write at once whatever is pending.
   */
  flushIntervalMs?: number;
  /** Monotonic clock for the flush interval (default performance.now()). */
  monotonicMs?: () => number;
}

/**
 * Collection times per block (and so samples per chunk at most): 512 is 85 min at 10 s, 51 s at 100 ms. At
 * most values.ts' MAX_BLOCK_TIMES, the positions its chunks can address.
 */
export const BLOCK_TIMES = 512;
/** Decoded time blocks kept for reads (each at most BLOCK_TIMES × 8 bytes). */
const TIME_CACHE_BLOCKS = 16;
/**
 * The writing stores open in this process, by file: a second one opened on a file (a reload starts the new
 * trend service before the old one stops) first has the first one write what it holds, so that the new
 * store reads (and seals) every sample. One entry per open file.
 */
const writers = new Map<string, SqliteHistoryStore>();
interface SeriesRow {
  id: number;
  metric: string;
  labels: string;
  part: string;
  kind: string;
}

/** The open time block: its encoder and its times (bounded by BLOCK_TIMES). */
interface OpenBlock {
  id: number;
  enc: TimeEncoder;
  times: number[];
  dirty: boolean;
}

export class SqliteHistoryStore implements HistoryStore {
  private readonly _opts: SqliteHistoryStoreOptions;
  private _db: DatabaseSync | undefined;
  private readonly _series = new SeriesStates();
  private _stmts: HistoryStatements | undefined;
  private _block: OpenBlock | undefined;
  private readonly _timeCache = new Map<number, Float64Array>();
  private readonly _timesOf = (id: number): Float64Array => this._times(id);
  private _pass: MaintenancePass | undefined;
  private readonly _maintenanceTarget: MaintenanceTarget;
  /** Series appended to since the last write, each once (so at most the live series). */
  private readonly _dirty: SeriesState[] = [];
  private readonly _monotonicMs: () => number;
  /** When pending appends were last written, and the time between the last two appends (monotonic ms). */
  private _flushedAt = -Infinity;
  private _lastAppendAt: number | undefined;
  private _appendGap = 0;
  /** The time _position placed last, its index and the block it is in. */
  private _placedT = NaN;
  private _placedAt = 0;
  private _placedIn: OpenBlock | undefined;

  constructor(opts: SqliteHistoryStoreOptions) {
    this._opts = opts;
    this._monotonicMs = opts.monotonicMs ?? (() => performance.now());
    this._maintenanceTarget = {
      timesOf: this._timesOf,
      retention: opts,
      prune: (beforeMs) => this.prune(beforeMs),
    };
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
    const key = path.resolve(this._opts.path);
    if (this._opts.readOnly !== true) writers.get(key)?.flush();
    const db = openHistoryDb(this._opts.path, this._opts.readOnly === true);
    this._db = db;
    this._stmts = prepareStatements(db);
    // The chunks of a block left open by the previous process are closed: its encoders are gone.
    if (this._opts.readOnly !== true) {
      this._transaction(db, () => this._seal(this._stmts!));
      writers.set(key, this);
    }
  }

  /** Runs `fn` in one transaction. */
  private _transaction(db: DatabaseSync, fn: () => void): void {
    db.exec('BEGIN');
    try {
      fn();
      db.exec('COMMIT');
    } catch (err) {
      // SQLite has already rolled back after some errors (a full disk): a second ROLLBACK would hide the cause.
      if (db.isTransaction) db.exec('ROLLBACK');
      // What the encoders hold is no longer what the file holds: start new chunks and a new block.
      this._block = undefined;
      for (const s of this._series.values()) {
        s.open = undefined;
        s.dirty = false;
      }
      this._dirty.length = 0;
      throw err;
    }
  }

  /** Closes the open block: its chunks move into the chunk table, every series starts a new chunk. */
  private _seal(stmts: HistoryStatements): void {
    stmts.sealOpen.run();
    stmts.clearOpen.run();
    this._block = undefined;
    this._series.sealed();
  }

  /** Series whose append state is held in memory (the live ones). */
  get seriesInMemory(): number {
    return this._series.size;
  }

  /** The timestamps of time block `id` (cached; the open block is read from memory). */
  private _times(id: number): Float64Array {
    const b = this._block;
    if (b !== undefined && b.id === id) return Float64Array.from(b.times);
    let t = this._timeCache.get(id);
    if (t === undefined) {
      const row = this._open().stmts.times.get(id) as { n: number; data: Uint8Array } | undefined;
      t = new Float64Array(row?.n ?? 0);
      if (row !== undefined) decodeTimes(row.data, row.n, t);
      // A block another process still writes (a read-only reader) is not cached.
      if (this._opts.readOnly !== true) {
        if (this._timeCache.size >= TIME_CACHE_BLOCKS)
          this._timeCache.delete(this._timeCache.keys().next().value!);
        this._timeCache.set(id, t);
      }
    }
    return t;
  }

  /** The open database and its statements; E_STATE before open() and after close(). */
  private _open(): { db: DatabaseSync; stmts: HistoryStatements } {
    if (this._db === undefined || this._stmts === undefined)
      throw new AgentError('E_STATE', 'the history store is not open');
    return { db: this._db, stmts: this._stmts };
  }

  /** Writes what is pending, then closes the file (after a failed write: what the last write left). */
  close(): void {
    const key = path.resolve(this._opts.path);
    if (writers.get(key) === this) writers.delete(key);
    try {
      if (this._db !== undefined) this.flush();
    } finally {
      this._closeDb();
    }
  }

  private _closeDb(): void {
    this._db?.close();
    this._db = undefined;
    this._stmts = undefined;
    this._series.clear();
    this._block = undefined;
    this._placedIn = undefined;
    this._timeCache.clear();
    this._pass = undefined;
    this._dirty.length = 0;
  }

  /**
   * The position of time `t` in the open block (this._block afterwards): appended when it is the latest; a
   * block that is full, or lacks an earlier `t`, is closed first (the dirty chunks written, then moved, in
   * one transaction).
   */
  private _position(db: DatabaseSync, stmts: HistoryStatements, t: number): number {
    // The samples of a collection share their time: placed once (an open block's times only grow).
    const open = this._block;
    if (open !== undefined && open === this._placedIn && t === this._placedT) return this._placedAt;
    const at = this._place(db, stmts, t);
    this._placedIn = this._block;
    this._placedT = t;
    this._placedAt = at;
    return at;
  }

  private _place(db: DatabaseSync, stmts: HistoryStatements, t: number): number {
    let b = this._block;
    if (b !== undefined) {
      const last = b.times[b.times.length - 1]!;
      if (t === last) return b.times.length - 1;
      if (t < last) {
        const at = lowerBound(b.times, t);
        if (b.times[at] === t) return at;
      }
      if (t < last || b.times.length >= BLOCK_TIMES) b = undefined;
    }
    if (b === undefined) {
      // Also after a failed append: the chunks the file holds for the old block are kept as they are.
      this._transaction(db, () => {
        this._flush(stmts);
        this._seal(stmts);
      });
      const id = (stmts.nextTimesId.get() as { id: number }).id;
      b = { id, enc: new TimeEncoder(), times: [], dirty: true };
      this._block = b;
    }
    b.enc.append(t);
    b.times.push(t);
    b.dirty = true;
    return b.times.length - 1;
  }

  private _add(db: DatabaseSync, stmts: HistoryStatements, s: SeriesState, t: number, v: number): void {
    if (!(t > s.lastT)) return;
    const at = this._position(db, stmts, t);
    const blockId = this._block!.id;
    let o = s.open;
    if (o === undefined || o.blockId !== blockId)
      s.open = o = { enc: new ValueEncoder(s.mode), startMs: t, blockId, first: at };
    o.enc.append(at, v);
    s.mode = o.enc.mode;
    s.lastT = t;
    if (!s.dirty) {
      s.dirty = true;
      this._dirty.push(s);
    }
  }

  /** Writes the open block and the chunks changed since the last write. */
  private _flush(stmts: HistoryStatements): void {
    const b = this._block;
    if (b !== undefined && b.dirty) {
      b.dirty = false;
      stmts.upsertTimes.run(b.id, b.times[0]!, b.times[b.times.length - 1]!, b.times.length, b.enc.bytes());
    }
    const dirty = this._dirty;
    for (let i = 0; i < dirty.length; i++) {
      const s = dirty[i]!;
      if (!s.dirty) continue;
      s.dirty = false;
      const o = s.open;
      if (o === undefined) continue;
      stmts.upsertOpen.run(s.id, o.startMs, s.lastT, o.enc.count, o.blockId, o.first, o.enc.bytes());
    }
    dirty.length = 0;
    this._flushedAt = this._monotonicMs();
  }

  /** Series with samples not yet written (at most the live series: each is listed once). */
  get pendingSeries(): number {
    return this._dirty.length;
  }

  /** Writes the pending appends now (one transaction); a no-op when none are pending or read-only. */
  flush(): void {
    if ((this._dirty.length === 0 && this._block?.dirty !== true) || this._opts.readOnly === true) return;
    const { db, stmts } = this._open();
    this._transaction(db, () => this._flush(stmts));
  }

  /**
   * Writes what is pending before a read. A write that fails (a full disk) has dropped the pending samples
   * (_transaction) and leaves the read to what the file holds; the next append fails the same way and reports.
   */
  private _flushBeforeRead(): void {
    try {
      this.flush();
    } catch {
      // Reported by the next append (see above).
    }
  }

  /**
   * Whether an append at `now` writes: the flush interval has passed, or this append is nearer its mark
   * than the next one will be (half the last gap between appends early), so that a flush interval equal to
   * the collection interval writes every collection despite timer jitter.
   */
  private _flushDue(now: number): boolean {
    const every = this._opts.flushIntervalMs ?? 0;
    return now - this._flushedAt + this._appendGap / 2 >= every;
  }

  /**
   * Appends one collection. It is written at once when the flush interval is 0, else with the append
   * nearest each flush interval mark (or earlier: a new block, a read, close()).
   */
  append(samples: readonly Sample[]): void {
    const { db, stmts } = this._open();
    this._series.forgetIdle();
    const now = this._monotonicMs();
    if (this._lastAppendAt !== undefined) this._appendGap = Math.max(0, now - this._lastAppendAt);
    this._lastAppendAt = now;
    const blockBefore = this._block;
    // No transaction around the encoding: the file is written only by a new series' row (one statement), a
    // block's change and the flush below, each in its own.
    // Indexed loops: under --lite-mode a for-of step allocates, and this runs per series per collection.
    for (let k = 0; k < samples.length; k++) {
      const smp = samples[k]!;
      const series = sampleKey(smp);
      if (smp.kind === 'histogram' && smp.histogram !== undefined) {
        const h = smp.histogram;
        const parts = this._series.histogramParts(stmts, series, smp, h);
        let cum = 0;
        for (let i = 0; i < h.counts.length; i++) {
          cum += h.counts[i]!;
          this._add(db, stmts, parts[i]!, smp.timestampMs, cum);
        }
        this._add(db, stmts, parts[h.counts.length]!, smp.timestampMs, h.sum);
        this._add(db, stmts, parts[h.counts.length + 1]!, smp.timestampMs, h.count);
      } else {
        const s = this._series.state(stmts, series, smp, '', smp.kind);
        this._add(db, stmts, s, smp.timestampMs, smp.value);
      }
    }
    // A new block is written at once: its id is then taken in the file (another store on it, a restart).
    if (this._block !== blockBefore || this._flushDue(now)) this._transaction(db, () => this._flush(stmts));
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
    this._flushBeforeRead();
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
    if (resolution === 'raw') return readRaw(stmts, this._timesOf, id, fromMs, toMs);
    const r = readRollups(stmts, this._timesOf, id, resolution, fromMs, toMs, counter);
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
   * older than the overall retention. The whole pass at once (tests, benchmarks); the agent runs it in
   * slices (maintainSlice) so that its loop is never held for long.
   */
  maintain(): { rolledSeries: number } {
    this._pass = undefined;
    for (;;) {
      const done = this.maintainSlice(Infinity, () => 0);
      if (done !== undefined) return done;
    }
  }

  /**
   * Runs the maintenance pass where its last slice stopped (or starts one) until `budgetMs` of
   * `monotonicMs` has passed, and returns the pass's result when it is complete, else undefined. A unit of
   * work is one series' roll-up of at most ROLL_STEP_MS of raw samples, or one clean-up step; a slice runs
   * at least one. A slice that throws abandons the pass (the next call starts a new one; what was rolled
   * up stays rolled up).
   */
  maintainSlice(budgetMs: number, monotonicMs: () => number): { rolledSeries: number } | undefined {
    const { db, stmts } = this._open();
    // The roll-up of the hour that just ended needs its last samples.
    this._flushBeforeRead();
    const pass = (this._pass ??= new MaintenancePass(db, this._opts.nowMs()));
    const until = monotonicMs() + budgetMs;
    try {
      do {
        if (pass.step(db, stmts, this._maintenanceTarget)) {
          this._pass = undefined;
          return { rolledSeries: pass.rolled };
        }
      } while (monotonicMs() < until);
    } catch (err) {
      this._pass = undefined;
      throw err;
    }
    return undefined;
  }

  /** Time blocks older than every chunk left (block ids grow with time). */
  private _dropUnusedTimes(db: DatabaseSync): void {
    const current = this._block?.id ?? Infinity;
    db.prepare(
      'DELETE FROM times WHERE id < ? AND id < (SELECT coalesce(min(m), 9007199254740991) FROM ' +
        '(SELECT min(time_id) AS m FROM chunks UNION ALL SELECT min(time_id) FROM open_chunks))',
    ).run(Number.isFinite(current) ? current : Number.MAX_SAFE_INTEGER);
    this._timeCache.clear();
  }

  /** Drops every sample and rollup older than `beforeMs`. */
  prune(beforeMs: number): void {
    const { db, stmts } = this._open();
    this._flushBeforeRead();
    db.prepare('DELETE FROM chunks WHERE end_ms < ?').run(beforeMs);
    db.prepare('DELETE FROM open_chunks WHERE end_ms < ?').run(beforeMs);
    for (const s of this._series.values()) if (s.open !== undefined && s.lastT < beforeMs) s.open = undefined;
    pruneRollups(stmts, '1m', beforeMs);
    pruneRollups(stmts, '1h', beforeMs);
    this._dropUnusedTimes(db);
  }

  /**
   * The file's size as it lies on disk (free pages included; after checkpoint() without the write-ahead
   * log), the bytes of free pages, and rows per table (for the benchmarks and the status page).
   */
  footprint(): {
    bytes: number;
    freeBytes: number;
    chunks: number;
    rawSamples: number;
    rollup1m: number;
    rollup1h: number;
  } {
    const { db } = this._open();
    this._flushBeforeRead();
    const one = (sql: string): number => Number((db.prepare(sql).get() as { v: number | null }).v ?? 0);
    const pageSize = one('SELECT page_size AS v FROM pragma_page_size');
    const pages = one('SELECT page_count AS v FROM pragma_page_count');
    const free = one('SELECT freelist_count AS v FROM pragma_freelist_count');
    return {
      bytes: pages * pageSize,
      freeBytes: free * pageSize,
      chunks: one('SELECT count(*) AS v FROM chunks') + one('SELECT count(*) AS v FROM open_chunks'),
      rawSamples: one('SELECT sum(n) AS v FROM chunks') + one('SELECT sum(n) AS v FROM open_chunks'),
      rollup1m: one('SELECT sum(n) AS v FROM rollup_1m'),
      rollup1h: one('SELECT sum(n) AS v FROM rollup_1h'),
    };
  }

  /** Folds the WAL into the main file (for measurements and a clean stop). */
  checkpoint(): void {
    if (this._db === undefined) return;
    this.flush();
    this._db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
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
