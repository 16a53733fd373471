/**
 * The history file: opening it (creating a private file, refusing what is not ours or is corrupt), its
 * schema, and the statements the store prepares once per open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { AgentError, errorMessage } from '../../lib/errors.js';
import { createPrivateFile, ensurePrivateDir } from '../../lib/private-files.js';

/** Marks the file as ours: PRAGMA application_id ('PMAH'). */
const HISTORY_APPLICATION_ID = 0x504d4148;
/**
 * The format of the file. 1: per-series chunks of times and values (Gorilla), 120 samples each. 2: blocks of
 * shared timestamps, per-series value streams with integer and decimal detection (values.ts), rollup blocks
 * with their bucket starts once. 3: rollup blocks of a day (1-minute rows) and a week (1-hour rows), each
 * column coded against the columns before it (rollup-codec.ts). A file in another format is refused,
 * untouched.
 */
export const SCHEMA_VERSION = 3;

/**
 * The size the write-ahead log is cut back to once checkpointed: twice what SQLite's automatic checkpoint
 * (every 1000 pages) lets it reach, so the steady state never truncates.
 */
export const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * The page cache of a history connection, in KiB. SQLite's default is 2 MB per connection, which stays resident
 * for as long as the agent runs once its appends, rollups and queries have touched that many pages. An append
 * touches a few pages (the open chunks, the newest rows); a read of older history goes to the operating
 * system's file cache instead.
 */
export const HISTORY_CACHE_KIB = 256;

function storeError(file: string, reason: string, cause?: unknown): AgentError {
  return new AgentError(
    'E_HISTORY_STORE',
    `${file}: ${reason}; it was left untouched (move it away or set trend_analysis.storage.path)`,
    { cause },
  );
}

/** errno codes of a directory or disk that cannot take the file: read-only, no permission, full. */
const UNAVAILABLE_ERRNO = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']);
/** SQLite primary result codes of the same: PERM, READONLY, IOERR, FULL, CANTOPEN. */
const UNAVAILABLE_SQLITE = new Set([3, 8, 10, 13, 14]);

/**
 * Whether opening the history failed because its place cannot take it (a read-only or full directory, no
 * permission), rather than because the file is foreign or corrupt: the agent then runs without history.
 */
export function historyUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const x = e as Error & { code?: unknown; errcode?: unknown };
    if (typeof x.code === 'string' && UNAVAILABLE_ERRNO.has(x.code)) return true;
    if (typeof x.errcode === 'number' && UNAVAILABLE_SQLITE.has(x.errcode & 0xff)) return true;
    e = x.cause;
  }
  return false;
}

/**
 * Opens (or creates) the history file. A file that is not SQLite, is another program's database, or fails
 * SQLite's integrity check is refused with E_HISTORY_STORE and never written to. Read-only: the file must
 * exist and hold a history; the schema is left as it is.
 */
export function openHistoryDb(file: string, readOnly: boolean): DatabaseSync {
  let existing = false;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw storeError(file, 'the history path is not a regular file');
    existing = st.size > 0;
  } catch (err) {
    if (err instanceof AgentError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw storeError(file, `cannot read the history file (${errorMessage(err)})`, err);
    if (readOnly)
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
  if (readOnly && !existing) throw new AgentError('E_HISTORY_STORE', `${file}: the history file is empty`);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { readOnly });
  } catch (err) {
    throw storeError(file, `cannot open the history file (${errorMessage(err)})`, err);
  }
  try {
    db.exec(`PRAGMA cache_size=-${HISTORY_CACHE_KIB}`);
    if (existing) checkOurs(db, file, readOnly);
    if (!readOnly) initSchema(db);
  } catch (err) {
    db.close();
    if (err instanceof AgentError) throw err;
    throw storeError(file, `is not a usable history database (${errorMessage(err)})`, err);
  }
  return db;
}

/** Refuses another program's database, and (before writing) a corrupt one. */
function checkOurs(db: DatabaseSync, file: string, readOnly: boolean): void {
  const appId = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
  const tables = (
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type='table'").get() as {
      n: number;
    }
  ).n;
  if (appId !== HISTORY_APPLICATION_ID && (tables > 0 || readOnly))
    throw storeError(file, 'is an SQLite database of another program, not a metrics history');
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (appId === HISTORY_APPLICATION_ID && version !== SCHEMA_VERSION && !(version === 0 && tables === 0))
    throw new AgentError(
      'E_HISTORY_STORE',
      `${file}: a metrics history in format ${version}, which this version does not read (it writes format ` +
        `${SCHEMA_VERSION}); it was left untouched: move it away to start a new history, ` +
        'or read it with the version that wrote it',
    );
  if (!readOnly) {
    const check = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
    if (check.length !== 1 || check[0]!.quick_check !== 'ok')
      throw storeError(file, `the history file is corrupt (${check[0]?.quick_check ?? 'unknown'})`);
  }
}

function initSchema(db: DatabaseSync): void {
  // Before the first table: pages that retention frees go back to the file system (maintain()).
  db.exec('PRAGMA auto_vacuum=INCREMENTAL');
  db.exec('PRAGMA journal_mode=WAL');
  db.exec('PRAGMA synchronous=NORMAL');
  // SQLite restarts the write-ahead log after a checkpoint but keeps the file at its largest size; a reader
  // that held a snapshot while the agent wrote (the CLI) could leave it large for good. Cut back to this.
  db.exec(`PRAGMA journal_size_limit=${WAL_SIZE_LIMIT_BYTES}`);
  db.exec(`PRAGMA application_id=${HISTORY_APPLICATION_ID}`);
  db.exec(`PRAGMA user_version=${SCHEMA_VERSION}`);
  db.exec(`
        CREATE TABLE IF NOT EXISTS series (
          id INTEGER PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, part TEXT NOT NULL,
          kind TEXT NOT NULL, rolled_ms INTEGER, rolled_last REAL, UNIQUE (metric, labels, part));
        -- Blocks of timestamps shared by the series collected together (the last one is open).
        CREATE TABLE IF NOT EXISTS times (
          id INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, n INTEGER NOT NULL,
          data BLOB NOT NULL);
        -- A series' values in one time block, from position \`first\`: written once, when the block closes.
        CREATE TABLE IF NOT EXISTS chunks (
          series_id INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
          n INTEGER NOT NULL, time_id INTEGER NOT NULL, first INTEGER NOT NULL, data BLOB NOT NULL);
        -- Rowid tables with a unique index, not WITHOUT ROWID: blobs of a kilobyte or more would spill into
        -- mostly empty overflow pages in an index b-tree.
        CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_series ON chunks (series_id, start_ms);
        CREATE INDEX IF NOT EXISTS chunks_by_time ON chunks (time_id);
        -- The chunks of the open time block, rewritten with each collection (a small table whose pages are
        -- reused, so that the closed chunks lie densely packed).
        CREATE TABLE IF NOT EXISTS open_chunks (
          series_id INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
          n INTEGER NOT NULL, time_id INTEGER NOT NULL, first INTEGER NOT NULL, data BLOB NOT NULL);
        -- Rollup rows, compressed column-wise in blocks (rollup-codec.ts): 6 hours of 1-minute rows, a week of
        -- 1-hour rows; t is the block's start.
        CREATE TABLE IF NOT EXISTS rollup_1m (
          series_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,
          UNIQUE (series_id, t));
        CREATE TABLE IF NOT EXISTS rollup_1h (
          series_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,
          UNIQUE (series_id, t));
      `);
}

/** The statements of one rollup table (`rollup_1m` or `rollup_1h`). */
export interface RollupStatements {
  /** (series_id, t, n, data): writes a block, replacing the one at t. */
  upsert: StatementSync;
  /** (series_id, t) → n, data: the block starting at t. */
  block: StatementSync;
  /** (series_id, from, to) → t, n, data: the blocks starting in [from, to), in order. */
  range: StatementSync;
  /** (t): drops the blocks starting at t or before. */
  dropThrough: StatementSync;
  /** (after, before) → series_id, t, n, data: the blocks starting in (after, before). */
  astride: StatementSync;
  /** (series_id, t): drops one block. */
  remove: StatementSync;
}

export interface HistoryStatements {
  findSeries: StatementSync;
  insertSeries: StatementSync;
  lastEnd: StatementSync;
  /** (series_id, start_ms, end_ms, n, time_id, first, data): the series' chunk in the open block. */
  upsertOpen: StatementSync;
  /** Moves the open chunks into `chunks` (the block closed). */
  sealOpen: StatementSync;
  clearOpen: StatementSync;
  /** (id, start_ms, end_ms, n, data) */
  upsertTimes: StatementSync;
  nextTimesId: StatementSync;
  /** (id) → n, data */
  times: StatementSync;
  seriesOf: StatementSync;
  chunksIn: StatementSync;
  rolled: StatementSync;
  firstChunk: StatementSync;
  setRolled: StatementSync;
  rollup1m: RollupStatements;
  rollup1h: RollupStatements;
}

function rollupStatements(db: DatabaseSync, table: 'rollup_1m' | 'rollup_1h'): RollupStatements {
  return {
    upsert: db.prepare(
      `INSERT INTO ${table} (series_id, t, n, data) VALUES (?, ?, ?, ?) ON CONFLICT (series_id, t) DO UPDATE SET n = excluded.n, data = excluded.data`,
    ),
    block: db.prepare(`SELECT n, data FROM ${table} WHERE series_id = ? AND t = ?`),
    range: db.prepare(`SELECT t, n, data FROM ${table} WHERE series_id = ? AND t >= ? AND t < ? ORDER BY t`),
    dropThrough: db.prepare(`DELETE FROM ${table} WHERE t <= ?`),
    astride: db.prepare(`SELECT series_id, t, n, data FROM ${table} WHERE t > ? AND t < ?`),
    remove: db.prepare(`DELETE FROM ${table} WHERE series_id = ? AND t = ?`),
  };
}

export function prepareStatements(db: DatabaseSync): HistoryStatements {
  return {
    findSeries: db.prepare('SELECT id FROM series WHERE metric = ? AND labels = ? AND part = ?'),
    insertSeries: db.prepare('INSERT INTO series (metric, labels, part, kind) VALUES (?, ?, ?, ?)'),
    lastEnd: db.prepare(
      'SELECT max(e) AS e FROM (SELECT max(end_ms) AS e FROM chunks WHERE series_id = ? ' +
        'UNION ALL SELECT end_ms FROM open_chunks WHERE series_id = ?)',
    ),
    upsertOpen: db.prepare(
      'INSERT INTO open_chunks (series_id, start_ms, end_ms, n, time_id, first, data) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (series_id) DO UPDATE SET start_ms = excluded.start_ms, end_ms = excluded.end_ms, ' +
        'n = excluded.n, time_id = excluded.time_id, first = excluded.first, data = excluded.data',
    ),
    sealOpen: db.prepare(
      'INSERT INTO chunks (series_id, start_ms, end_ms, n, time_id, first, data) ' +
        'SELECT series_id, start_ms, end_ms, n, time_id, first, data FROM open_chunks WHERE true ORDER BY series_id ' +
        // Two agents writing one file (a misconfiguration) overwrite each other's chunks rather than fail.
        'ON CONFLICT (series_id, start_ms) DO UPDATE SET end_ms = excluded.end_ms, n = excluded.n, ' +
        'time_id = excluded.time_id, first = excluded.first, data = excluded.data',
    ),
    clearOpen: db.prepare('DELETE FROM open_chunks'),
    upsertTimes: db.prepare(
      'INSERT INTO times (id, start_ms, end_ms, n, data) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET end_ms = excluded.end_ms, n = excluded.n, data = excluded.data',
    ),
    nextTimesId: db.prepare('SELECT coalesce(max(id), 0) + 1 AS id FROM times'),
    times: db.prepare('SELECT n, data FROM times WHERE id = ?'),
    seriesOf: db.prepare('SELECT id, metric, labels, part, kind FROM series WHERE metric = ?'),
    chunksIn: db.prepare(
      'SELECT start_ms, n, time_id, first, data FROM chunks WHERE series_id = ? AND end_ms >= ? AND start_ms <= ? ' +
        'UNION ALL SELECT start_ms, n, time_id, first, data FROM open_chunks ' +
        'WHERE series_id = ? AND end_ms >= ? AND start_ms <= ? ORDER BY start_ms',
    ),
    rolled: db.prepare('SELECT rolled_ms, rolled_last FROM series WHERE id = ?'),
    firstChunk: db.prepare(
      'SELECT min(s) AS s FROM (SELECT min(start_ms) AS s FROM chunks WHERE series_id = ? ' +
        'UNION ALL SELECT start_ms FROM open_chunks WHERE series_id = ?)',
    ),
    setRolled: db.prepare('UPDATE series SET rolled_ms = ?, rolled_last = ? WHERE id = ?'),
    rollup1m: rollupStatements(db, 'rollup_1m'),
    rollup1h: rollupStatements(db, 'rollup_1h'),
  };
}
