import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/model/metric.js';
import { AgentError } from '../../../src/lib/errors.js';
import { BLOCK_TIMES, SqliteHistoryStore } from '../../../src/trends/history-store.js';
import {
  HISTORY_CACHE_KIB,
  WAL_SIZE_LIMIT_BYTES,
  openHistoryDb,
} from '../../../src/trends/history/schema.js';
import { rollupIncrease } from '../../../src/trends/history/rollup.js';
import { computeStatistics } from '../../../src/trends/stats.js';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const HOUR = 3_600_000;
const dirs: string[] = [];

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-history-'));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function store(
  file: string,
  now: { ms: number },
  extra: Partial<{ readOnly: boolean }> = {},
): SqliteHistoryStore {
  return new SqliteHistoryStore({
    path: file,
    rawRetentionMs: 48 * HOUR,
    rollup1mRetentionMs: 14 * 24 * HOUR,
    retentionMs: 30 * 24 * HOUR,
    nowMs: () => now.ms,
    ...extra,
  });
}

function gauge(metric: string, labels: Record<string, string>, t: number, value: number): Sample {
  return { metric, labels, value, timestampMs: t, kind: 'gauge' };
}

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('SqliteHistoryStore', () => {
  it('should return every appended sample exactly, across chunk boundaries and a reopen', async () => {
    const file = path.join(tmp(), 'h.db');
    const now = { ms: T0 };
    const s = store(file, now);
    s.open();
    const want: [number, number][] = [];
    for (let i = 0; i < BLOCK_TIMES * 3 + 7; i++) {
      const t = T0 + i * 10_000 + (i % 3);
      const v = Math.sin(i / 7) * 100 + (i % 5 === 0 ? Math.PI : 0);
      want.push([t, v]);
      s.append([gauge('cpu_percent', {}, t, v), gauge('disk_usage_percent', { mountpoint: '/' }, t, 42)]);
    }
    now.ms = want[want.length - 1]![0];
    s.close();
    const again = store(file, now);
    again.open();
    const [w] = await again.query('cpu_percent', {}, T0, now.ms);
    expect(w).toBeDefined();
    expect(Array.from(w!.t)).toEqual(want.map((p) => p[0]));
    expect(Array.from(w!.v)).toEqual(want.map((p) => p[1]));
    const disk = await again.query('disk_usage_percent', { mountpoint: '/' }, T0, now.ms);
    expect(disk).toHaveLength(1);
    expect(disk[0]!.labels).toEqual({ mountpoint: '/' });
    expect(await again.query('disk_usage_percent', { mountpoint: '/boot' }, T0, now.ms)).toHaveLength(0);
    // A window in the middle holds exactly the samples inside it.
    const mid = await again.query('cpu_percent', {}, want[100]![0], want[199]![0]);
    expect(mid[0]!.t.length).toBe(100);
    again.close();
  });

  it('should keep histogram buckets so a window percentile comes from bucket increases', async () => {
    const now = { ms: T0 };
    const s = store(path.join(tmp(), 'h.db'), now);
    s.open();
    const boundaries = [0.1, 0.5, 1];
    const counts = [0, 0, 0, 0];
    let sum = 0;
    for (let i = 0; i < 50; i++) {
      // Each cycle adds 6 observations at 0.05 and 3 at 0.7, one at 3 (the +Inf bucket).
      counts[0]! += 6;
      counts[2]! += 3;
      counts[3]! += 1;
      sum += 6 * 0.05 + 3 * 0.7 + 3;
      const total = counts.reduce((a, b) => a + b, 0);
      s.append([
        {
          metric: 'api_request_duration',
          labels: { endpoint: '/x' },
          value: total,
          timestampMs: T0 + i * 1000,
          kind: 'histogram',
          histogram: { boundaries, counts: [...counts], sum, count: total },
        },
      ]);
    }
    now.ms = T0 + 49_000;
    const [w] = await s.query('api_request_duration', {}, T0, now.ms);
    expect(w!.histogram!.le).toEqual([0.1, 0.5, 1, Infinity]);
    // 49 intervals of increase: 294 + 0 + 147 + 49
    expect(w!.histogram!.increase).toEqual([294, 294, 441, 490]);
    const st = computeStatistics(w!, T0, now.ms);
    expect(st.count).toBe(490);
    expect(st.mean).toBeCloseTo((49 * (0.3 + 2.1 + 3)) / 490, 9);
    // rank 245 of 490 falls in the first bucket (294): 0 + 0.1 * 245/294
    expect(st.p50).toBeCloseTo((0.1 * 245) / 294, 12);
    // rank 465.5 falls in the +Inf bucket: the highest finite bound
    expect(st.p99).toBe(1);
    s.close();
  });

  it('should roll complete hours up so 1m windows give the same count, mean, min, max, stddev and rate', async () => {
    const now = { ms: T0 };
    const s = store(path.join(tmp(), 'h.db'), now);
    s.open();
    let counter = 0;
    for (let i = 0; i < 6 * 360; i++) {
      const t = T0 + i * 10_000;
      counter = i === 1000 ? 5 : counter + (i % 7); // one counter reset
      s.append([
        gauge('cpu_percent', {}, t, 50 + 30 * Math.sin(i / 50) + (i % 11)),
        {
          metric: 'network_bytes_recv',
          labels: { interface: 'eth0' },
          value: counter,
          timestampMs: t,
          kind: 'counter',
        },
      ]);
    }
    now.ms = T0 + 6 * HOUR;
    expect(s.maintain().rolledSeries).toBe(2);
    const from = T0;
    const to = T0 + 6 * HOUR - 1;
    for (const metric of ['cpu_percent', 'network_bytes_recv']) {
      const [raw] = await s.query(metric, {}, from, to, { resolution: 'raw' });
      const [m1] = await s.query(metric, {}, from, to, { resolution: '1m' });
      const [h1] = await s.query(metric, {}, from, to, { resolution: '1h' });
      const a = computeStatistics(raw!, from, to);
      for (const r of [m1!, h1!]) {
        expect(r.rollup).toBeDefined();
        const b = computeStatistics(r, from, to);
        expect(b.count).toBe(a.count);
        expect(b.mean).toBeCloseTo(a.mean, 9);
        expect(b.min).toBe(a.min);
        expect(b.max).toBe(a.max);
        expect(b.stddev).toBeCloseTo(a.stddev, 6);
      }
      if (metric === 'network_bytes_recv') {
        // increase is the same; the rollup's time span is bucket starts, so compare increases
        const incRaw = a.rate! * ((raw!.t[raw!.t.length - 1]! - raw!.t[0]!) / 1000);
        const b = computeStatistics(m1!, from, to);
        const incM = b.rate! * ((m1!.t[m1!.t.length - 1]! - m1!.t[0]!) / 1000);
        expect(incM).toBeCloseTo(incRaw, 6);
      }
    }
    s.close();
  });

  it('should drop raw chunks past the raw retention only after rolling them up, and prune by age', async () => {
    const now = { ms: T0 };
    const s = store(path.join(tmp(), 'h.db'), now);
    s.open();
    for (let i = 0; i < 3 * 24 * 60; i++) s.append([gauge('memory_percent', {}, T0 + i * 60_000, i % 100)]);
    now.ms = T0 + 3 * 24 * HOUR;
    s.maintain();
    const raw = await s.query('memory_percent', {}, T0, now.ms, { resolution: 'raw' });
    expect(raw[0]!.t[0]).toBeGreaterThanOrEqual(now.ms - 48 * HOUR - BLOCK_TIMES * 60_000);
    const m1 = await s.query('memory_percent', {}, T0, now.ms);
    expect(m1[0]!.resolution).toBe('1m');
    expect(m1[0]!.rollup!.n.reduce((a, b) => a + b, 0)).toBe(3 * 24 * 60);
    s.prune(T0 + 24 * HOUR);
    const after = await s.query('memory_percent', {}, T0, now.ms, { resolution: '1h' });
    expect(after[0]!.t[0]).toBe(T0 + 24 * HOUR);
    s.close();
  });

  it('should give the same tiers when maintenance runs one unit per slice, with appends between slices', async () => {
    // Two stores with the same three days of samples: one maintained at once, one slice by slice.
    const fill = (s: SqliteHistoryStore, fromMin: number, toMin: number): void => {
      for (let i = fromMin; i < toMin; i++)
        s.append([
          gauge('memory_percent', {}, T0 + i * 60_000, (i * 37) % 101),
          gauge('cpu_percent', { cpu: String(i % 2) }, T0 + i * 60_000, i % 13),
          // A counter with a reset every 500 minutes: its increase must not depend on where a unit ends.
          {
            metric: 'requests',
            labels: {},
            value: (i % 500) * 7,
            timestampMs: T0 + i * 60_000 + 30_000,
            kind: 'counter',
          },
        ]);
    };
    const now = { ms: T0 + 3 * 24 * HOUR };
    const whole = store(path.join(tmp(), 'whole.db'), now);
    const sliced = store(path.join(tmp(), 'sliced.db'), now);
    whole.open();
    sliced.open();
    fill(whole, 0, 3 * 24 * 60);
    fill(sliced, 0, 3 * 24 * 60);
    whole.maintain();
    // A clock that passes the budget at every reading after the first: each slice runs exactly one unit.
    let mono = 0;
    const tick = (): number => (mono += 10);
    let slices = 1;
    let done = sliced.maintainSlice(5, tick);
    while (done === undefined) {
      // The agent keeps appending between slices (in the current hour: the pass rolls up past hours).
      sliced.append([gauge('memory_percent', {}, now.ms + slices, 1)]);
      whole.append([gauge('memory_percent', {}, now.ms + slices, 1)]);
      done = sliced.maintainSlice(5, tick);
      slices++;
    }
    // 4 series × 3 days in 6-hour units, then the clean-up steps.
    expect(slices).toBeGreaterThanOrEqual(4 * 12 + 3);
    expect(done.rolledSeries).toBe(4);
    for (const [metric, labels] of [
      ['memory_percent', {}],
      ['cpu_percent', { cpu: '1' }],
      ['requests', {}],
    ] as const)
      for (const res of ['raw', '1m', '1h'] as const) {
        const [a] = await whole.query(metric, labels, T0, now.ms + HOUR, { resolution: res });
        const [b] = await sliced.query(metric, labels, T0, now.ms + HOUR, { resolution: res });
        expect(Array.from(b!.t)).toEqual(Array.from(a!.t));
        expect(Array.from(b!.v)).toEqual(Array.from(a!.v));
        if (res !== 'raw') expect(b!.rollup).toEqual(a!.rollup);
      }
    // And both hold what was appended: every sample of the three days in the rows, the counter's increase
    // across its resets and across the units' bounds.
    const minutes = 3 * 24 * 60;
    let increase = 0;
    for (let i = 1; i < minutes; i++) {
      const [prev, cur] = [((i - 1) % 500) * 7, (i % 500) * 7];
      increase += cur >= prev ? cur - prev : cur;
    }
    for (const res of ['1m', '1h'] as const) {
      const [mem] = await sliced.query('memory_percent', {}, T0, now.ms - 1, { resolution: res });
      const memValues = Array.from({ length: minutes }, (_, i) => (i * 37) % 101);
      expect(mem!.rollup!.n.reduce((x, y) => x + y, 0)).toBe(minutes);
      expect(mem!.rollup!.sum.reduce((x, y) => x + y, 0)).toBe(memValues.reduce((x, y) => x + y, 0));
      const [req] = await sliced.query('requests', {}, T0, now.ms - 1, { resolution: res });
      expect(req!.rollup!.n.reduce((x, y) => x + y, 0)).toBe(minutes);
      expect(rollupIncrease(req!.rollup!, req!.v)).toBe(increase);
    }
    // Nothing left to do: the next pass rolls nothing and completes.
    expect(sliced.maintain().rolledSeries).toBe(0);
    whole.close();
    sliced.close();
  });

  it('should prune rollup rows row by row, inside a block, and keep every row after the cut as it was', async () => {
    const now = { ms: T0 };
    const s = store(path.join(tmp(), 'h.db'), now);
    s.open();
    for (let i = 0; i < 2 * 24 * 60; i++)
      s.append([gauge('memory_percent', {}, T0 + i * 60_000 + 7, (i * 37) % 101)]);
    now.ms = T0 + 2 * 24 * HOUR;
    s.maintain();
    const window = async (res: '1m' | '1h'): Promise<number[]> =>
      Array.from((await s.query('memory_percent', {}, T0, now.ms, { resolution: res }))[0]!.t);
    const m1 = await window('1m');
    const h1 = await window('1h');
    // A cut in the middle of a day of 1-minute rows and of a week of 1-hour rows.
    const cut = T0 + 30 * HOUR + 17 * 60_000 + 5;
    s.prune(cut);
    expect(await window('1m')).toEqual(m1.filter((t) => t + 60_000 > cut));
    expect(await window('1h')).toEqual(h1.filter((t) => t + HOUR > cut));
    const [kept] = await s.query('memory_percent', {}, cut, now.ms, { resolution: '1m' });
    expect(kept!.rollup!.sum[0]).toBe(((30 * 60 + 17) * 37) % 101);
    s.close();
  });

  it('should refuse a file that is not SQLite, naming it, and leave it untouched', () => {
    const file = path.join(tmp(), 'metrics_history');
    fs.writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const before = sha(file);
    const s = store(file, { ms: T0 });
    expect(() => s.open()).toThrow(AgentError);
    try {
      s.open();
    } catch (err) {
      expect((err as AgentError).code).toBe('E_HISTORY_STORE');
      expect((err as Error).message).toContain(file);
      expect((err as Error).message.split('\n')).toHaveLength(1);
    }
    expect(sha(file)).toBe(before);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['metrics_history']);
  });

  it("should refuse another program's SQLite database and leave it untouched", () => {
    const file = path.join(tmp(), 'other.db');
    const db = new DatabaseSync(file);
    db.exec(
      "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, 'x')",
    );
    db.close();
    const before = sha(file);
    expect(() => store(file, { ms: T0 }).open()).toThrow(/another program/);
    expect(sha(file)).toBe(before);
  });

  it('should keep series that skip collections, batches of several times, and an open block across a reopen', () => {
    const file = path.join(tmp(), 'gaps.db');
    const now = { ms: T0 };
    let s = store(file, now);
    s.open();
    const every: [number, number][] = [];
    const sparse: [number, number][] = [];
    // Two collections per append, the sparse series in one collection of three, a reopen in the middle of a block.
    for (let i = 0; i < BLOCK_TIMES + 300; i += 2) {
      const batch: Sample[] = [];
      for (const k of [i, i + 1]) {
        const t = T0 + k * 10_000 + (k % 7);
        const v = k % 11 === 0 ? NaN : k * 1.25;
        every.push([t, v]);
        batch.push(gauge('cpu_percent', {}, t, v));
        if (k % 3 === 0) {
          sparse.push([t, k]);
          batch.push(gauge('memory_percent', {}, t, k));
        }
      }
      s.append(batch);
      if (i === BLOCK_TIMES + 100) {
        s.close();
        s = store(file, now);
        s.open();
      }
    }
    now.ms = T0 + (BLOCK_TIMES + 300) * 10_000;
    const [a] = s.querySync('cpu_percent', {}, T0, now.ms, { resolution: 'raw' });
    expect(Array.from(a!.t)).toEqual(every.map((p) => p[0]));
    expect(Array.from(a!.v)).toEqual(every.map((p) => p[1]));
    const [b] = s.querySync('memory_percent', {}, T0, now.ms, { resolution: 'raw' });
    expect(Array.from(b!.t)).toEqual(sparse.map((p) => p[0]));
    expect(Array.from(b!.v)).toEqual(sparse.map((p) => p[1]));
    s.close();
  });

  it('should hold only the live series in memory: one gone for a whole block is forgotten, and read back when it returns', () => {
    const file = path.join(tmp(), 'churn.db');
    const now = { ms: T0 };
    const s = store(file, now);
    s.open();
    const at = (i: number): number => T0 + i * 10_000;
    // An interface that comes and goes next to one that stays, over more than two blocks.
    for (let i = 0; i < 10; i++)
      s.append([gauge('net', { dev: 'eth0' }, at(i), i), gauge('net', { dev: 'veth1' }, at(i), 100 + i)]);
    expect(s.seriesInMemory).toBe(2);
    for (let i = 10; i < 2 * BLOCK_TIMES + 10; i++) s.append([gauge('net', { dev: 'eth0' }, at(i), i)]);
    expect(s.seriesInMemory).toBe(1);
    // It returns: a time it already holds is still refused, a new one is kept.
    const back = 2 * BLOCK_TIMES + 10;
    s.append([gauge('net', { dev: 'eth0' }, at(back), back), gauge('net', { dev: 'veth1' }, at(9), -1)]);
    s.append([
      gauge('net', { dev: 'eth0' }, at(back + 1), back + 1),
      gauge('net', { dev: 'veth1' }, at(back + 1), 7),
    ]);
    expect(s.seriesInMemory).toBe(2);
    now.ms = at(back + 2);
    const [w] = s.querySync('net', { dev: 'veth1' }, T0, now.ms, { resolution: 'raw' });
    expect(Array.from(w!.t)).toEqual([...Array.from({ length: 10 }, (_, i) => at(i)), at(back + 1)]);
    expect(Array.from(w!.v)).toEqual([...Array.from({ length: 10 }, (_, i) => 100 + i), 7]);
    s.close();
  });

  it('should not fail when two stores write one file (two agents on one state directory)', () => {
    const file = path.join(tmp(), 'shared.db');
    const now = { ms: T0 };
    const a = store(file, now);
    a.open();
    for (let i = 0; i < 5; i++) a.append([gauge('cpu_percent', {}, T0 + i * 10_000, i)]);
    // A second agent starts on the same file: it closes the first one's open block under it.
    const b = store(file, now);
    b.open();
    for (let i = 5; i < 10; i++) a.append([gauge('cpu_percent', {}, T0 + i * 10_000, i)]);
    a.close();
    const again = store(file, now);
    expect(() => again.open()).not.toThrow();
    again.close();
    b.close();
  });

  it.each([1, 2])(
    'should refuse a history file of format %i, naming it and the format, and leave it untouched',
    (version) => {
      const file = path.join(tmp(), `v${version}.db`);
      const db = new DatabaseSync(file);
      db.exec(
        `PRAGMA application_id=1347240264; PRAGMA user_version=${version}; CREATE TABLE chunks (series_id INTEGER, data BLOB)`,
      );
      db.close();
      const before = sha(file);
      expect(() => store(file, { ms: T0 }).open()).toThrow(
        new RegExp(
          `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: a metrics history in format ${version}, which this version does not read \\(it writes format 3\\)`,
        ),
      );
      expect(() => store(file, { ms: T0 }, { readOnly: true }).open()).toThrow(
        new RegExp(`format ${version}`),
      );
      expect(sha(file)).toBe(before);
    },
  );

  it('should cut the write-ahead log back to its limit after a reader held it open while the agent wrote', () => {
    const file = path.join(tmp(), 'wal.db');
    const now = { ms: T0 };
    const s = store(file, now);
    s.open();
    const collection = (i: number): Sample[] =>
      Array.from({ length: 200 }, (_, k) =>
        gauge('m', { k: String(k) }, T0 + i * 100, Math.sin(i + k) * 1e6),
      );
    let i = 0;
    s.append(collection(i++));
    // A reader (the CLI) keeps a snapshot: no checkpoint can restart the log, which grows past its limit.
    const reader = new DatabaseSync(file, { readOnly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) AS n FROM series').get();
    const wal = `${file}-wal`;
    while (fs.statSync(wal).size <= WAL_SIZE_LIMIT_BYTES) s.append(collection(i++));
    reader.exec('COMMIT');
    reader.close();
    // Once the reader is gone, the next automatic checkpoint restarts the log and cuts the file back.
    const grown = fs.statSync(wal).size;
    for (let k = 0; k < 2000 && fs.statSync(wal).size > WAL_SIZE_LIMIT_BYTES; k++) s.append(collection(i++));
    expect(grown).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES);
    expect(fs.statSync(wal).size).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES);
    s.close();
  });

  it('should refuse a corrupt history file', () => {
    const file = path.join(tmp(), 'h.db');
    const now = { ms: T0 };
    const s = store(file, now);
    s.open();
    for (let i = 0; i < 2000; i++) s.append([gauge('cpu_percent', { n: String(i % 50) }, T0 + i * 1000, i)]);
    s.checkpoint();
    s.close();
    const buf = fs.readFileSync(file);
    // Overwrite the second page onwards with garbage; the header (page 1) stays valid.
    for (let i = 4096; i < Math.min(buf.length, 4096 * 4); i++) buf[i] = (i * 7919) & 0xff;
    fs.writeFileSync(file, buf);
    const before = sha(file);
    expect(() => store(file, now).open()).toThrow(/corrupt|not a usable/);
    expect(sha(file)).toBe(before);
  });

  it('should open read-only without writing and report a missing file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'h.db');
    expect(() => store(file, { ms: T0 }, { readOnly: true }).open()).toThrow(/no history file/);
    const now = { ms: T0 + 10_000 };
    const w = store(file, now);
    w.open();
    w.append([gauge('cpu_percent', {}, T0, 1), gauge('cpu_percent', {}, T0 + 10_000, 2)]);
    const r = store(file, now, { readOnly: true });
    r.open();
    const [win] = await r.query('cpu_percent', {}, T0, now.ms);
    expect(Array.from(win!.v)).toEqual([1, 2]);
    expect(() => r.append([gauge('cpu_percent', {}, T0 + 20_000, 3)])).toThrow();
    r.close();
    w.close();
  });

  it('should bound the page cache of its writing and read-only connections', () => {
    const file = path.join(tmp(), 'h.db');
    const cacheKib = (db: ReturnType<typeof openHistoryDb>): number =>
      -(db.prepare('PRAGMA cache_size').get() as { cache_size: number }).cache_size;
    const w = openHistoryDb(file, false);
    expect(cacheKib(w)).toBe(HISTORY_CACHE_KIB);
    const r = openHistoryDb(file, true);
    expect(cacheKib(r)).toBe(HISTORY_CACHE_KIB);
    // Below SQLite's own default (2000 KiB), which is what a connection gets without the pragma.
    expect(HISTORY_CACHE_KIB).toBeLessThan(2000);
    r.close();
    w.close();
  });

  it('should ignore samples that do not move time forward', async () => {
    const now = { ms: T0 + 5000 };
    const s = store(path.join(tmp(), 'h.db'), now);
    s.open();
    s.append([gauge('cpu_percent', {}, T0 + 1000, 1)]);
    s.append([gauge('cpu_percent', {}, T0 + 1000, 2), gauge('cpu_percent', {}, T0, 3)]);
    s.append([gauge('cpu_percent', {}, T0 + 2000, 4)]);
    const [w] = await s.query('cpu_percent', {}, T0, now.ms);
    expect(Array.from(w!.v)).toEqual([1, 4]);
    s.close();
  });
});
