/**
 * The notification side's durable state in one embedded SQLite file (node:sqlite, built into Node; no native
 * build): the outbox, the silences and the notification logs (which alerts receivers were last told are firing,
 * per group and, for direct channels, per alert).
 *
 * Why SQLite rather than an append-only file: the outbox is a queue that is read from the head of many
 * sub-queues (one per channel and group), updated on every retry and trimmed from the middle on overflow; a
 * transaction makes "enqueue these batches and record what was announced" one atomic step, and WAL with
 * synchronous=FULL makes a committed notification survive a kill -9 or a power cut. An append log would need
 * its own compaction, index and crash recovery to do the same.
 */
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { AgentError, errorMessage } from '../lib/errors.js';
import { createPrivateFile, ensurePrivateDir } from '../lib/private-files.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  group_key TEXT NOT NULL,
  status TEXT NOT NULL,
  kind TEXT NOT NULL,
  batch TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (channel, group_key, id);
CREATE TABLE IF NOT EXISTS silences (
  id TEXT PRIMARY KEY,
  matchers TEXT NOT NULL,
  starts_ms INTEGER NOT NULL,
  ends_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  comment TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS notified_groups (
  group_key TEXT PRIMARY KEY,
  group_labels TEXT NOT NULL,
  last_sent_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS direct_alerts (
  fingerprint TEXT PRIMARY KEY,
  group_key TEXT NOT NULL,
  alert TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notified_alerts (
  fingerprint TEXT NOT NULL,
  group_key TEXT NOT NULL,
  alert TEXT NOT NULL,
  PRIMARY KEY (group_key, fingerprint)
);
`;

/**
 * The page cache of the store's connection, in KiB: its rows are small and bounded in number (the outbox per
 * channel, silences by MAX_SILENCES), far below SQLite's default of 2 MB per connection, which would otherwise
 * stay resident once touched.
 */
export const OUTBOX_CACHE_KIB = 128;

/** Opens (creating if needed) the store at `file`; `:memory:` keeps it in memory (tests). */
export async function openNotificationDb(file: string): Promise<DatabaseSync> {
  // Loaded on demand so that an agent without alerting never loads SQLite.
  const { DatabaseSync } = await import('node:sqlite');
  try {
    if (file !== ':memory:') {
      ensurePrivateDir(path.dirname(path.resolve(file)));
      createPrivateFile(file);
    }
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(`PRAGMA cache_size = -${OUTBOX_CACHE_KIB}`);
    db.exec(SCHEMA);
    return db;
  } catch (err) {
    throw new AgentError('E_OUTBOX', `cannot open the notification store ${file}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** Runs `fn` in one transaction. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    // SQLite has already rolled back after some errors (a full disk): a second ROLLBACK would hide the cause.
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
