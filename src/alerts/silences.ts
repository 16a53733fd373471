/**
 * Silences: matchers plus a time range, stored durably in the notification store. A firing alert that an
 * active silence matches is not notified; when the silence ends (or is expired by hand) and the alert
 * still fires, its group notifies it at the next group_interval, as Alertmanager does.
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { AgentError } from '../lib/errors.js';
import { MatcherSet } from './matchers.js';
import type { Matcher } from './matchers.js';

export type SilenceState = 'pending' | 'active' | 'expired';

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAtMs: number;
  endsAtMs: number;
  createdBy: string;
  comment: string;
  updatedAtMs: number;
}

export interface SilenceInput {
  matchers: Matcher[];
  startsAtMs?: number;
  endsAtMs: number;
  createdBy?: string;
  comment?: string;
}

/** Expired silences are kept this long for `silence list`, then deleted (Alertmanager keeps 120 h). */
export const SILENCE_RETENTION_MS = 120 * 3_600_000;

export function silenceState(s: Silence, nowMs: number): SilenceState {
  if (s.endsAtMs <= nowMs) return 'expired';
  return s.startsAtMs > nowMs ? 'pending' : 'active';
}

interface Row {
  id: string;
  matchers: string;
  starts_ms: number;
  ends_ms: number;
  created_by: string;
  comment: string;
  updated_ms: number;
}

export class SilenceStore {
  private readonly _insert: StatementSync;
  private readonly _all: StatementSync;
  private readonly _expire: StatementSync;
  private readonly _gc: StatementSync;
  private _cache: { silence: Silence; set: MatcherSet }[] | undefined;

  constructor(db: DatabaseSync) {
    this._insert = db.prepare(
      `INSERT INTO silences (id, matchers, starts_ms, ends_ms, created_by, comment, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this._all = db.prepare('SELECT * FROM silences ORDER BY starts_ms, id');
    this._expire = db.prepare('UPDATE silences SET ends_ms = ?, updated_ms = ? WHERE id = ? AND ends_ms > ?');
    this._gc = db.prepare('DELETE FROM silences WHERE ends_ms < ?');
  }

  add(input: SilenceInput, nowMs: number): Silence {
    const startsAtMs = input.startsAtMs ?? nowMs;
    if (input.matchers.length === 0) throw new AgentError('E_USAGE', 'a silence needs at least one matcher');
    if (!Number.isFinite(input.endsAtMs) || input.endsAtMs <= nowMs) {
      throw new AgentError('E_USAGE', 'a silence must end in the future');
    }
    if (input.endsAtMs <= startsAtMs) throw new AgentError('E_USAGE', 'a silence must end after it starts');
    new MatcherSet(input.matchers); // validates regexes
    const silence: Silence = {
      id: randomUUID(),
      matchers: input.matchers.map((m) => ({ name: m.name, type: m.type, value: m.value })),
      startsAtMs,
      endsAtMs: input.endsAtMs,
      createdBy: input.createdBy ?? '',
      comment: input.comment ?? '',
      updatedAtMs: nowMs,
    };
    this._insert.run(
      silence.id,
      JSON.stringify(silence.matchers),
      silence.startsAtMs,
      silence.endsAtMs,
      silence.createdBy,
      silence.comment,
      nowMs,
    );
    this._cache = undefined;
    return silence;
  }

  /** Ends a silence now; false when there is no such silence or it has ended already. */
  expire(id: string, nowMs: number): boolean {
    const changed = Number(this._expire.run(nowMs, nowMs, id, nowMs).changes) > 0;
    this._cache = undefined;
    return changed;
  }

  list(nowMs: number): Silence[] {
    if (Number(this._gc.run(nowMs - SILENCE_RETENTION_MS).changes) > 0) this._cache = undefined;
    return this._load().map((c) => c.silence);
  }

  get(id: string): Silence | undefined {
    return this._load().find((c) => c.silence.id === id)?.silence;
  }

  /** The id of an active silence that matches these labels, if any. */
  silencedBy(labels: Readonly<Record<string, string>>, nowMs: number): string | undefined {
    for (const c of this._load()) {
      if (silenceState(c.silence, nowMs) === 'active' && c.set.matches(labels)) return c.silence.id;
    }
    return undefined;
  }

  private _load(): { silence: Silence; set: MatcherSet }[] {
    this._cache ??= (this._all.all() as unknown as Row[]).map((r) => {
      const silence: Silence = {
        id: r.id,
        matchers: JSON.parse(r.matchers) as Matcher[],
        startsAtMs: Number(r.starts_ms),
        endsAtMs: Number(r.ends_ms),
        createdBy: r.created_by,
        comment: r.comment,
        updatedAtMs: Number(r.updated_ms),
      };
      return { silence, set: new MatcherSet(silence.matchers) };
    });
    return this._cache;
  }
}
