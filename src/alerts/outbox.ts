/**
 * The persisted outbox: every notification is written here before any delivery is tried, and removed only
 * once its channel has accepted it. Delivery is at least once and in order per alert: each (channel, group)
 * is a FIFO sub-queue and only its head is ever in flight (an alert always belongs to the same group).
 *
 * Bounded: each channel holds at most `maxPerChannel` entries. When a new entry would exceed it, the oldest
 * entry whose batch is all resolutions is dropped first (losing a resolution is recoverable: an Alertmanager
 * receiver times the alert out, and the next notification of the group shows what still fires), then the
 * oldest entry of any kind. Every drop is counted per channel.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { NotificationBatch } from './types.js';

export type OutboxKind = 'notify' | 'refresh';

export interface OutboxEntry {
  id: number;
  channel: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  kind: OutboxKind;
  batch: NotificationBatch;
  createdMs: number;
  attempts: number;
  nextAttemptMs: number;
}

export interface OutboxOptions {
  maxPerChannel: number;
}

interface Row {
  id: number;
  channel: string;
  group_key: string;
  status: string;
  kind: string;
  batch: string;
  created_ms: number;
  attempts: number;
  next_attempt_ms: number;
}

export class Outbox {
  private readonly _db: DatabaseSync;
  private readonly _max: number;
  private readonly _insert: StatementSync;
  private readonly _count: StatementSync;
  private readonly _dropResolved: StatementSync;
  private readonly _dropOldest: StatementSync;
  private readonly _heads: StatementSync;
  private readonly _delete: StatementSync;
  private readonly _retry: StatementSync;
  private readonly _pendingFor: StatementSync;
  /**
   * Entries per channel as last counted. The self-metrics read the count at every collection while the outbox
   * changes only when a notification is queued or leaves it; every change here forgets the counts.
   */
  private readonly _counts = new Map<string, number>();

  constructor(db: DatabaseSync, opts: OutboxOptions) {
    this._db = db;
    this._max = Math.max(1, opts.maxPerChannel);
    this._insert = db.prepare(
      `INSERT INTO outbox (channel, group_key, status, kind, batch, created_ms, next_attempt_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this._count = db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE channel = ?');
    this._dropResolved = db.prepare(
      `DELETE FROM outbox WHERE id = (SELECT id FROM outbox WHERE channel = ? AND status = 'resolved' ORDER BY id LIMIT 1)`,
    );
    this._dropOldest = db.prepare(
      'DELETE FROM outbox WHERE id = (SELECT id FROM outbox WHERE channel = ? ORDER BY id LIMIT 1)',
    );
    this._heads = db.prepare(
      `SELECT o.* FROM outbox o
       JOIN (SELECT MIN(id) AS id FROM outbox GROUP BY channel, group_key) h ON o.id = h.id
       ORDER BY o.id`,
    );
    this._delete = db.prepare('DELETE FROM outbox WHERE id = ?');
    this._retry = db.prepare(
      'UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE id = ?',
    );
    this._pendingFor = db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE channel = ? AND group_key = ?');
  }

  /** Appends a batch for `channel`; returns how many older entries were dropped to make room. */
  enqueue(channel: string, batch: NotificationBatch, nowMs: number, kind: OutboxKind = 'notify'): number {
    let dropped = 0;
    try {
      while (this.pending(channel) >= this._max) {
        const r = this._dropResolved.run(channel);
        if (Number(r.changes) === 0) this._dropOldest.run(channel);
        this._counts.clear();
        dropped++;
      }
      this._insert.run(channel, batch.groupKey, batch.status, kind, JSON.stringify(batch), nowMs, nowMs);
    } finally {
      this._counts.clear();
    }
    return dropped;
  }

  /** Entries waiting for `channel`. */
  pending(channel: string): number {
    let n = this._counts.get(channel);
    if (n === undefined) {
      n = Number((this._count.get(channel) as { n: number }).n);
      this._counts.set(channel, n);
    }
    return n;
  }

  /** Whether anything waits for this channel and group. */
  hasPending(channel: string, groupKey: string): boolean {
    return Number((this._pendingFor.get(channel, groupKey) as { n: number }).n) > 0;
  }

  /** The head of every (channel, group) sub-queue, oldest first. */
  heads(): OutboxEntry[] {
    return (this._heads.all() as unknown as Row[]).map(toEntry);
  }

  /** The channel accepted it. */
  complete(id: number): void {
    this._counts.clear();
    this._delete.run(id);
  }

  /** Delivery failed; try again at `nextAttemptMs`. */
  retryAt(id: number, nextAttemptMs: number, error: string): void {
    this._retry.run(nextAttemptMs, error.slice(0, 500), id);
  }

  /** Makes every waiting entry due now (after a restart the receiver may well be back). */
  allDue(nowMs: number): void {
    this._db.prepare('UPDATE outbox SET next_attempt_ms = ? WHERE next_attempt_ms > ?').run(nowMs, nowMs);
  }

  /** Moves every retry time by `deltaMs` (the wall clock was stepped). */
  shiftRetries(deltaMs: number): void {
    this._db.prepare('UPDATE outbox SET next_attempt_ms = next_attempt_ms + ?').run(deltaMs);
  }

  /** For tests and diagnostics: every entry in order. */
  all(): OutboxEntry[] {
    return (this._db.prepare('SELECT * FROM outbox ORDER BY id').all() as unknown as Row[]).map(toEntry);
  }
}

function toEntry(r: Row): OutboxEntry {
  return {
    id: Number(r.id),
    channel: r.channel,
    groupKey: r.group_key,
    status: r.status === 'resolved' ? 'resolved' : 'firing',
    kind: r.kind === 'refresh' ? 'refresh' : 'notify',
    batch: JSON.parse(r.batch) as NotificationBatch,
    createdMs: Number(r.created_ms),
    attempts: Number(r.attempts),
    nextAttemptMs: Number(r.next_attempt_ms),
  };
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A number in [0, 1); injected so tests are deterministic. */
  random: () => number;
}

/**
 * Capped exponential backoff with jitter: attempt n (1-based) waits a random time between half and all of
 * min(maxMs, initialMs * 2^(n-1)), so that many agents that lost the same receiver do not retry in step.
 */
export function backoffMs(attempt: number, opts: BackoffOptions): number {
  const ceiling = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(ceiling / 2 + (ceiling / 2) * opts.random());
}
