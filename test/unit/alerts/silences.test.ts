import type { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { MatcherSet, parseMatchers } from '../../../src/alerts/matchers.js';
import { openNotificationDb } from '../../../src/alerts/notification-store.js';
import {
  MAX_COMMENT_LENGTH,
  MAX_CREATED_BY_LENGTH,
  MAX_EXPIRED_SILENCES,
  MAX_MATCHERS_PER_SILENCE,
  MAX_SILENCES,
  MAX_SILENCES_REGEX_PROGRAM_SIZE,
  MAX_SILENCE_AHEAD_MS,
  SilenceStore,
} from '../../../src/alerts/silences.js';
import { MemoryLogger } from '../../../src/lib/logger.js';

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

async function store(): Promise<{ db: DatabaseSync; store: SilenceStore; logger: MemoryLogger }> {
  const db = await openNotificationDb(':memory:');
  const logger = new MemoryLogger();
  return { db, store: new SilenceStore(db, logger), logger };
}

function insertRow(db: DatabaseSync, id: string, row: { matchers?: string; endsMs?: number }): void {
  db.prepare(
    `INSERT INTO silences (id, matchers, starts_ms, ends_ms, created_by, comment, updated_ms)
     VALUES (?, ?, ?, ?, '', '', ?)`,
  ).run(id, row.matchers ?? '[{"name":"a","type":"=","value":"1"}]', NOW, row.endsMs ?? NOW + HOUR, NOW);
}

describe('SilenceStore', () => {
  it('should skip a stored row whose time is out of range, log it once and keep working', async () => {
    const { db, store: s, logger } = await store();
    // 300000 years from now: beyond what a Date holds and beyond 2^53, what an older version let through.
    insertRow(db, 'far', { endsMs: NOW + 300_000 * 31_536_000_000 });
    insertRow(db, 'ok', {});
    expect(s.list(NOW).map((x) => x.id)).toEqual(['ok']);
    expect(s.silencedBy({ a: '1' }, NOW)).toBe('ok');
    const added = s.add({ matchers: parseMatchers('b="2"'), endsAtMs: NOW + HOUR }, NOW);
    expect(
      s
        .list(NOW)
        .map((x) => x.id)
        .sort(),
    ).toEqual([added.id, 'ok'].sort());
    expect(s.get('far')).toBeUndefined();
    const logged = logger.find('warn', 'cannot be read');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.fields).toMatchObject({ id: 'far', error: 'ends_ms out of range' });
  });

  it('should skip rows whose matchers do not parse or do not compile on the linear-time engine', async () => {
    const { db, store: s, logger } = await store();
    insertRow(db, 'json', { matchers: '{not json' });
    insertRow(db, 'backref', { matchers: '[{"name":"a","type":"=~","value":"(x)\\\\1"}]' });
    insertRow(db, 'type', { matchers: '[{"name":"a","type":"~","value":"x"}]' });
    insertRow(db, 'ok', {});
    expect(s.list(NOW).map((x) => x.id)).toEqual(['ok']);
    expect(logger.find('warn', 'cannot be read').map((r) => r.fields.id)).toEqual([
      'backref',
      'json',
      'type',
    ]);
  });

  it('should refuse times from 10 years on and take a start in the past for now', async () => {
    const { store: s } = await store();
    const matchers = parseMatchers('a="1"');
    expect(() => s.add({ matchers, endsAtMs: NOW + MAX_SILENCE_AHEAD_MS }, NOW)).toThrow(
      /endsAt: must lie before now \+ 10 years/,
    );
    expect(() => s.add({ matchers, endsAtMs: Number.POSITIVE_INFINITY }, NOW)).toThrow(/endsAt/);
    expect(() =>
      s.add({ matchers, startsAtMs: NOW + MAX_SILENCE_AHEAD_MS, endsAtMs: NOW + HOUR }, NOW),
    ).toThrow(/startsAt: must lie before now \+ 10 years/);
    expect(() => s.add({ matchers, endsAtMs: NOW - 1 }, NOW)).toThrow(
      /endsAt: a silence must end in the future/,
    );
    expect(s.list(NOW)).toEqual([]);
    const late = s.add({ matchers, endsAtMs: NOW + MAX_SILENCE_AHEAD_MS - 1 }, NOW);
    expect(late.endsAtMs).toBe(NOW + MAX_SILENCE_AHEAD_MS - 1);
    const early = s.add({ matchers, startsAtMs: -8.64e15, endsAtMs: NOW + HOUR }, NOW);
    expect(early.startsAtMs).toBe(NOW);
  });

  it('should bound the matchers, createdBy and comment of a silence', async () => {
    const { store: s } = await store();
    const many = Array.from({ length: MAX_MATCHERS_PER_SILENCE + 1 }, (_, i) => `l${i}="x"`).join(',');
    expect(() => s.add({ matchers: parseMatchers(many), endsAtMs: NOW + HOUR }, NOW)).toThrow(
      /matchers: 17 given, at most 16 per silence/,
    );
    const matchers = parseMatchers('a="1"');
    const endsAtMs = NOW + HOUR;
    expect(() =>
      s.add({ matchers, endsAtMs, createdBy: 'u'.repeat(MAX_CREATED_BY_LENGTH + 1) }, NOW),
    ).toThrow(/createdBy: longer than 256 characters/);
    expect(() => s.add({ matchers, endsAtMs, comment: 'c'.repeat(MAX_COMMENT_LENGTH + 1) }, NOW)).toThrow(
      /comment: longer than 4096 characters/,
    );
    expect(s.list(NOW)).toEqual([]);
    const full = s.add(
      {
        matchers: parseMatchers(many.split(',').slice(1).join(',')),
        endsAtMs,
        createdBy: 'u'.repeat(MAX_CREATED_BY_LENGTH),
        comment: 'c'.repeat(MAX_COMMENT_LENGTH),
      },
      NOW,
    );
    expect(s.get(full.id)?.comment).toHaveLength(MAX_COMMENT_LENGTH);
  });

  it('should refuse a silence past the number that may be pending or active, and accept one after an expiry', async () => {
    const { store: s } = await store();
    const ids: string[] = [];
    for (let i = 0; i < MAX_SILENCES; i++) {
      ids.push(s.add({ matchers: parseMatchers(`n="${i}"`), endsAtMs: NOW + HOUR }, NOW).id);
    }
    expect(() => s.add({ matchers: parseMatchers('n="x"'), endsAtMs: NOW + HOUR }, NOW)).toThrow(
      /too many silences: 500 are pending or active, at most 500/,
    );
    expect(s.expire(ids[0]!, NOW)).toBe(true);
    expect(s.add({ matchers: parseMatchers('n="x"'), endsAtMs: NOW + HOUR }, NOW).id).toBeTypeOf('string');
    expect(s.list(NOW)).toHaveLength(MAX_SILENCES + 1);
  });

  it('should keep only the most recently ended expired silences', async () => {
    const { store: s } = await store();
    const matchers = parseMatchers('a="1"');
    let now = NOW;
    const ids: string[] = [];
    for (let i = 0; i < MAX_EXPIRED_SILENCES + 20; i++) {
      const id = s.add({ matchers, endsAtMs: now + HOUR }, now).id;
      ids.push(id);
      now += 1000;
      s.expire(id, now);
    }
    const kept = s.list(now).map((x) => x.id);
    expect(kept).toHaveLength(MAX_EXPIRED_SILENCES);
    expect(new Set(kept)).toEqual(new Set(ids.slice(20)));
  });

  it('should refuse a silence whose regexes would take the live silences past the instruction budget', async () => {
    const { store: s } = await store();
    // 16 literals of 1000 characters: about 16,000 instructions a silence.
    const big = (n: number): string =>
      Array.from({ length: 16 }, (_, i) => `l${i}=~"${String(n).padStart(4, '0')}${'x'.repeat(996)}"`).join(
        ',',
      );
    let accepted = 0;
    let refused: unknown;
    for (let n = 0; n < 100 && refused === undefined; n++) {
      try {
        s.add({ matchers: parseMatchers(big(n)), endsAtMs: NOW + HOUR }, NOW);
        accepted++;
      } catch (err) {
        refused = err;
      }
    }
    expect(String(refused)).toMatch(
      new RegExp(
        `matchers: .* would compile to \\d+ instructions, at most ${MAX_SILENCES_REGEX_PROGRAM_SIZE}`,
      ),
    );
    const perSilence = new MatcherSet(parseMatchers(big(0))).regexProgramSize;
    expect(perSilence).toBeGreaterThan(16 * 900);
    expect(accepted).toBe(Math.floor(MAX_SILENCES_REGEX_PROGRAM_SIZE / perSilence));
    expect(s.list(NOW)).toHaveLength(accepted);
    // Equality matchers hold no program: they are still accepted.
    expect(s.add({ matchers: parseMatchers('a="1"'), endsAtMs: NOW + HOUR }, NOW).id).toBeTypeOf('string');
  });
});
