/**
 * One maintenance pass of the history store, in units small enough to run between collections: each
 * series' complete hours rolled up into 1-minute and 1-hour rows (at most ROLL_STEP_MS of raw samples per
 * unit, however far behind the series is), then the retention tiers applied one statement per unit (raw
 * chunks that are rolled up and older than the raw retention, 1-minute rows older than theirs, everything
 * older than the overall retention), then the pages retention freed handed back to the file system,
 * VACUUM_PAGES per unit. The pass works on the series and the hour that existed when it started.
 */
import type { DatabaseSync } from 'node:sqlite';
import { rollupSamples } from './rollup.js';
import type { HistoryStatements } from './schema.js';
import { HOUR, MINUTE, pruneRollups, readRaw, writeRollups } from './tiers.js';
import type { TimesOf } from './tiers.js';

/** The raw samples one unit rolls up for one series. */
export const ROLL_STEP_MS = 6 * HOUR;
/** Free pages one unit returns to the file system. */
export const VACUUM_PAGES = 256;

/** What a pass needs of its store. */
export interface MaintenanceTarget {
  timesOf: TimesOf;
  retention: { rawRetentionMs: number; rollup1mRetentionMs: number; retentionMs: number };
  /** Drops every sample and rollup older than `beforeMs`. */
  prune(beforeMs: number): void;
}

/** A series as the pass rolls it up: rolled up to rolled_ms, whose last raw value was rolled_last. */
interface RollRow {
  id: number;
  kind: string;
  rolled_ms: number | null;
  rolled_last: number | null;
}

export class MaintenancePass {
  /** Series rolled up to the cutoff in this pass. */
  rolled = 0;
  private readonly _now: number;
  private readonly _cutoff: number;
  private readonly _series: RollRow[];
  private _next = 0;
  private _cleanup = 0;
  /** The free pages before the last incremental vacuum (a vacuum that frees nothing ends the pass). */
  private _freePages = Infinity;

  constructor(db: DatabaseSync, nowMs: number) {
    this._now = nowMs;
    this._cutoff = Math.floor(nowMs / HOUR) * HOUR;
    this._series = db
      .prepare('SELECT id, kind, rolled_ms, rolled_last FROM series')
      .all() as unknown as RollRow[];
  }

  /** Runs one unit; true when the pass is complete. */
  step(db: DatabaseSync, stmts: HistoryStatements, target: MaintenanceTarget): boolean {
    const s = this._series[this._next];
    if (s !== undefined) {
      this._roll(db, stmts, target.timesOf, s);
      return false;
    }
    const now = this._now;
    switch (this._cleanup++) {
      case 0:
        db.prepare(
          'DELETE FROM chunks WHERE end_ms < ? AND end_ms < (SELECT coalesce(rolled_ms, 0) FROM series s WHERE s.id = chunks.series_id)',
        ).run(now - target.retention.rawRetentionMs);
        return false;
      case 1:
        pruneRollups(stmts, '1m', now - target.retention.rollup1mRetentionMs);
        return false;
      case 2:
        target.prune(now - target.retention.retentionMs);
        return false;
      default: {
        const free = (db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
        if (free === 0 || free >= this._freePages) return true;
        this._freePages = free;
        db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
        return false;
      }
    }
  }

  /** Rolls up the next ROLL_STEP_MS (at most) of series `s`, in one transaction. */
  private _roll(db: DatabaseSync, stmts: HistoryStatements, timesOf: TimesOf, s: RollRow): void {
    if (s.rolled_ms === null) {
      const first = (stmts.firstChunk.get(s.id, s.id) as { s: number | null }).s;
      if (first === null) {
        this._next++;
        return;
      }
      s.rolled_ms = Math.floor(first / HOUR) * HOUR;
    }
    const from = s.rolled_ms;
    if (from >= this._cutoff) {
      this._next++;
      return;
    }
    const to = Math.min(this._cutoff, from + ROLL_STEP_MS);
    const raw = readRaw(stmts, timesOf, s.id, from, to - 1);
    const counter = s.kind !== 'gauge';
    const last = raw.v.length > 0 ? raw.v[raw.v.length - 1]! : s.rolled_last;
    db.exec('BEGIN');
    try {
      writeRollups(stmts, s.id, '1m', rollupSamples(raw.t, raw.v, MINUTE, counter));
      writeRollups(stmts, s.id, '1h', rollupSamples(raw.t, raw.v, HOUR, counter));
      stmts.setRolled.run(to, last, s.id);
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
    s.rolled_ms = to;
    s.rolled_last = last;
    if (to >= this._cutoff) {
      this.rolled++;
      this._next++;
    }
  }
}
