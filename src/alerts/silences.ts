/**
 * Silences: matchers plus a time range, stored durably in the notification store. A firing alert that an
 * active silence matches is not notified; when the silence ends (or is expired by hand) and the alert
 * still fires, its group notifies it at the next group_interval, as Alertmanager does.
 *
 * Everything a silence holds comes from the HTTP API, so the store bounds it before anything is written: times
 * before now + 10 years, at most MAX_SILENCES pending or active, MAX_MATCHERS_PER_SILENCE matchers each, text
 * lengths, a budget for the compiled regexes of the live silences, and the number of expired silences kept.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { nodeCrypto } from '../lib/builtins.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { silentLogger } from '../lib/logger.js';
import type { Logger } from '../lib/logger.js';
import { MAX_LABEL_NAME_LENGTH, MAX_MATCHER_VALUE_LENGTH, MatcherSet } from './matchers.js';
import type { Matcher, MatchType } from './matchers.js';

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
const SILENCE_RETENTION_MS = 120 * 3_600_000;
/** At most this many expired silences are kept (the most recently ended), whatever their age. */
export const MAX_EXPIRED_SILENCES = 500;
/** Silences that are pending or active at once. */
export const MAX_SILENCES = 500;
export const MAX_MATCHERS_PER_SILENCE = 16;
export const MAX_CREATED_BY_LENGTH = 256;
export const MAX_COMMENT_LENGTH = 4096;
/** A silence starts and ends before now + 10 years. */
export const MAX_SILENCE_AHEAD_MS = 10 * 365 * 86_400_000;
/**
 * The regexes of all pending and active silences together compile to at most this many instructions (a
 * typical matcher such as `web-.*|db-[0-9]+` is about 20; a literal of 1000 characters about 1000): what
 * bounds the memory they hold, since each compiled instruction costs about 100 bytes plus its share of DFA.
 */
export const MAX_SILENCES_REGEX_PROGRAM_SIZE = 250_000;

const MATCH_TYPES: readonly MatchType[] = ['=', '!=', '=~', '!~'];

export function silenceState(s: Silence, nowMs: number): SilenceState {
  if (s.endsAtMs <= nowMs) return 'expired';
  return s.startsAtMs > nowMs ? 'pending' : 'active';
}

interface Row {
  id: unknown;
  matchers: unknown;
  starts_ms: unknown;
  ends_ms: unknown;
  created_by: unknown;
  comment: unknown;
  updated_ms: unknown;
}

interface Entry {
  silence: Silence;
  set: MatcherSet;
}

/** The last millisecond a JavaScript Date can hold (year 275760). */
const MAX_DATE_MS = 8.64e15;

function checkTime(ms: number, field: string, nowMs: number): void {
  if (!Number.isFinite(ms) || ms >= nowMs + MAX_SILENCE_AHEAD_MS) {
    throw new AgentError('E_USAGE', `${field}: must lie before now + 10 years`);
  }
}

function checkText(value: string, field: string, max: number): void {
  if (value.length > max) throw new AgentError('E_USAGE', `${field}: longer than ${max} characters`);
}

function checkMatchers(matchers: readonly Matcher[]): void {
  if (matchers.length === 0)
    throw new AgentError('E_USAGE', 'matchers: a silence needs at least one matcher');
  if (matchers.length > MAX_MATCHERS_PER_SILENCE) {
    throw new AgentError(
      'E_USAGE',
      `matchers: ${matchers.length} given, at most ${MAX_MATCHERS_PER_SILENCE} per silence`,
    );
  }
  for (const m of matchers) {
    if (m.name.length > MAX_LABEL_NAME_LENGTH) {
      throw new AgentError('E_USAGE', `matchers: label name longer than ${MAX_LABEL_NAME_LENGTH} characters`);
    }
    if (m.value.length > MAX_MATCHER_VALUE_LENGTH) {
      throw new AgentError('E_USAGE', `matchers: value longer than ${MAX_MATCHER_VALUE_LENGTH} characters`);
    }
  }
}

/** A time column as a number of milliseconds a Date can hold; throws otherwise. */
function timeColumn(value: unknown, column: string): number {
  const ms = typeof value === 'bigint' || typeof value === 'number' ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_DATE_MS)
    throw new AgentError('E_OUTBOX', `${column} out of range`);
  return ms;
}

function textColumn(value: unknown, column: string): string {
  if (typeof value !== 'string') throw new AgentError('E_OUTBOX', `${column} is not text`);
  return value;
}

function matchersColumn(value: unknown): Matcher[] {
  const parsed = JSON.parse(textColumn(value, 'matchers')) as unknown;
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new AgentError('E_OUTBOX', 'matchers is not a list');
  return parsed.map((m: unknown) => {
    const o = m as Partial<Matcher> | null;
    if (
      o === null ||
      typeof o !== 'object' ||
      typeof o.name !== 'string' ||
      typeof o.value !== 'string' ||
      !MATCH_TYPES.includes(o.type!)
    ) {
      throw new AgentError('E_OUTBOX', 'matchers holds something that is not a matcher');
    }
    return { name: o.name, type: o.type!, value: o.value };
  });
}

/** The table's order: by start, then id. */
function byStart(a: Entry, b: Entry): number {
  const d = a.silence.startsAtMs - b.silence.startsAtMs;
  return d !== 0 ? d : a.silence.id < b.silence.id ? -1 : a.silence.id > b.silence.id ? 1 : 0;
}

function rowSilence(r: Row): Silence {
  return {
    id: textColumn(r.id, 'id'),
    matchers: matchersColumn(r.matchers),
    startsAtMs: timeColumn(r.starts_ms, 'starts_ms'),
    endsAtMs: timeColumn(r.ends_ms, 'ends_ms'),
    createdBy: textColumn(r.created_by, 'created_by'),
    comment: textColumn(r.comment, 'comment'),
    updatedAtMs: timeColumn(r.updated_ms, 'updated_ms'),
  };
}

/**
 * The silences table, with its rows compiled once. A row it cannot read (a time out of range, matchers that do
 * not parse or compile, as an older version or a hand edit may have left) is skipped and logged once, never
 * a failure: the agent starts, notifies and lists the other silences.
 */
export class SilenceStore {
  private readonly _insert: StatementSync;
  private readonly _all: StatementSync;
  private readonly _expire: StatementSync;
  private readonly _gc: StatementSync;
  private readonly _trim: StatementSync;
  private readonly _log: Logger;
  private _cache: Entry[] | undefined;
  /** Compiled matchers by silence id, kept across reloads of the table. */
  private _sets = new Map<string, MatcherSet>();
  /** Ids of rows already logged as unreadable. */
  private readonly _skipped = new Set<string>();

  constructor(db: DatabaseSync, logger: Logger = silentLogger) {
    this._log = logger;
    this._insert = db.prepare(
      `INSERT INTO silences (id, matchers, starts_ms, ends_ms, created_by, comment, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this._all = db.prepare('SELECT * FROM silences ORDER BY starts_ms, id');
    // Integers beyond 2^53 (which no valid row holds) are read as bigints instead of failing the whole query.
    this._all.setReadBigInts(true);
    this._expire = db.prepare('UPDATE silences SET ends_ms = ?, updated_ms = ? WHERE id = ? AND ends_ms > ?');
    this._gc = db.prepare('DELETE FROM silences WHERE ends_ms < ?');
    this._trim = db.prepare(
      `DELETE FROM silences WHERE ends_ms <= ?1 AND id NOT IN
         (SELECT id FROM silences WHERE ends_ms <= ?1 ORDER BY ends_ms DESC, id LIMIT ?2)`,
    );
  }

  add(input: SilenceInput, nowMs: number): Silence {
    // A start in the past means now, as in Alertmanager.
    const startsAtMs = Math.max(input.startsAtMs ?? nowMs, nowMs);
    checkTime(startsAtMs, 'startsAt', nowMs);
    checkTime(input.endsAtMs, 'endsAt', nowMs);
    if (input.endsAtMs <= nowMs) throw new AgentError('E_USAGE', 'endsAt: a silence must end in the future');
    if (input.endsAtMs <= startsAtMs) {
      throw new AgentError('E_USAGE', 'endsAt: a silence must end after it starts');
    }
    checkMatchers(input.matchers);
    checkText(input.createdBy ?? '', 'createdBy', MAX_CREATED_BY_LENGTH);
    checkText(input.comment ?? '', 'comment', MAX_COMMENT_LENGTH);
    const set = new MatcherSet(input.matchers); // validates regexes
    const live = this._load().filter((c) => silenceState(c.silence, nowMs) !== 'expired');
    if (live.length >= MAX_SILENCES) {
      throw new AgentError(
        'E_USAGE',
        `too many silences: ${live.length} are pending or active, at most ${MAX_SILENCES}; expire some first`,
      );
    }
    const programSize = live.reduce((n, c) => n + c.set.regexProgramSize, set.regexProgramSize);
    if (programSize > MAX_SILENCES_REGEX_PROGRAM_SIZE) {
      throw new AgentError(
        'E_USAGE',
        `matchers: the regular expressions of the pending and active silences would compile to ${programSize} instructions, at most ${MAX_SILENCES_REGEX_PROGRAM_SIZE}; expire some silences first`,
      );
    }
    const silence: Silence = {
      id: nodeCrypto().randomUUID(),
      matchers: input.matchers.map((m) => ({ name: m.name, type: m.type, value: m.value })),
      startsAtMs,
      endsAtMs: input.endsAtMs,
      createdBy: input.createdBy ?? '',
      comment: input.comment ?? '',
      updatedAtMs: nowMs,
    };
    this._trimExpired(nowMs);
    this._insert.run(
      silence.id,
      JSON.stringify(silence.matchers),
      silence.startsAtMs,
      silence.endsAtMs,
      silence.createdBy,
      silence.comment,
      nowMs,
    );
    this._sets.set(silence.id, set);
    if (this._cache !== undefined) {
      this._cache.push({ silence, set });
      this._cache.sort(byStart);
    }
    return silence;
  }

  /** Ends a silence now; false when there is no such silence or it has ended already. */
  expire(id: string, nowMs: number): boolean {
    const changed = Number(this._expire.run(nowMs, nowMs, id, nowMs).changes) > 0;
    if (!changed) return false;
    const entry = this._cache?.find((c) => c.silence.id === id);
    if (entry !== undefined) entry.silence = { ...entry.silence, endsAtMs: nowMs, updatedAtMs: nowMs };
    this._trimExpired(nowMs);
    return true;
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

  /** Keeps the MAX_EXPIRED_SILENCES most recently ended silences and deletes older expired ones. */
  private _trimExpired(nowMs: number): void {
    if (Number(this._trim.run(nowMs, MAX_EXPIRED_SILENCES).changes) > 0) this._cache = undefined;
  }

  private _load(): Entry[] {
    if (this._cache !== undefined) return this._cache;
    const entries: Entry[] = [];
    const sets = new Map<string, MatcherSet>();
    for (const r of this._all.all() as unknown as Row[]) {
      try {
        const silence = rowSilence(r);
        const set = this._sets.get(silence.id) ?? new MatcherSet(silence.matchers);
        sets.set(silence.id, set);
        entries.push({ silence, set });
      } catch (err) {
        const id = typeof r.id === 'string' ? r.id : String(r.id);
        if (!this._skipped.has(id)) {
          this._skipped.add(id);
          this._log.warn('skipping a stored silence that cannot be read', { id, error: errorMessage(err) });
        }
      }
    }
    this._sets = sets;
    this._cache = entries;
    return entries;
  }
}
