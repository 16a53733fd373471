/**
 * The history store writes its appends at most once per flush interval: what it holds in memory is in its
 * own answers at once, in the file (as a second, read-only connection sees it) only at the append nearest
 * each interval's mark, a new block, a read or close(); nothing is lost by a clean stop or a reload.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { configIssues } from '../helpers/config-issues.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import type { Sample } from '../../../src/model/metric.js';
import { BLOCK_TIMES, SqliteHistoryStore } from '../../../src/trends/history-store.js';
import { TrendService } from '../../../src/trends/trend-service.js';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const HOUR = 3_600_000;
const dirs: string[] = [];

function tmpFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-history-flush-'));
  dirs.push(d);
  return path.join(d, 'h.db');
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Clocks {
  now: { ms: number };
  mono: { ms: number };
}

function store(file: string, c: Clocks, flushIntervalMs: number, readOnly = false): SqliteHistoryStore {
  const s = new SqliteHistoryStore({
    path: file,
    rawRetentionMs: 48 * HOUR,
    rollup1mRetentionMs: 14 * 24 * HOUR,
    retentionMs: 30 * 24 * HOUR,
    nowMs: () => c.now.ms,
    readOnly,
    flushIntervalMs,
    monotonicMs: () => c.mono.ms,
  });
  s.open();
  return s;
}

function collection(t: number, i: number): Sample[] {
  return [
    { metric: 'cpu_percent', labels: {}, value: i * 0.5, timestampMs: t, kind: 'gauge' },
    {
      metric: 'net_bytes',
      labels: { dev: 'eth0', dir: 'rx' },
      value: i * 1000,
      timestampMs: t,
      kind: 'counter',
    },
  ];
}

/** The cpu_percent samples the file holds, as another process (read-only) sees them. */
function inFile(file: string, c: Clocks): number[] {
  const r = store(file, c, 0, true);
  try {
    const [w] = r.querySync('cpu_percent', {}, 0, Number.MAX_SAFE_INTEGER, { resolution: 'raw' });
    return Array.from(w?.v ?? []);
  } finally {
    r.close();
  }
}

const values = (n: number): number[] => Array.from({ length: n }, (_, i) => i * 0.5);

describe('SqliteHistoryStore flush interval', () => {
  it('should hold appends in memory until the interval, answer them itself, and write them all at close', () => {
    const file = tmpFile();
    const c: Clocks = { now: { ms: T0 }, mono: { ms: 0 } };
    const s = store(file, c, 10_000);
    const append = (i: number): void => {
      c.mono.ms = i * 1000;
      s.append(collection(T0 + i * 1000, i));
    };
    // The first append opens a block, which is written at once; the next four wait.
    for (let i = 0; i < 5; i++) append(i);
    expect(inFile(file, c)).toEqual(values(1));
    expect(s.pendingSeries).toBe(2);
    // Its own query writes them first, so the agent's answers hold the latest collection.
    const [own] = s.querySync('cpu_percent', {}, T0, T0 + HOUR, { resolution: 'raw' });
    expect(Array.from(own!.v)).toEqual(values(5));
    expect(inFile(file, c)).toEqual(values(5));
    expect(s.pendingSeries).toBe(0);
    // Written at 4 s: the append nearest the 14 s mark (13.5 s or later, half a gap early) writes.
    for (let i = 5; i < 14; i++) append(i);
    expect(inFile(file, c)).toEqual(values(5));
    append(14);
    expect(inFile(file, c)).toEqual(values(15));
    // However many appends wait, each series is listed once.
    for (let i = 15; i < 23; i++) append(i);
    expect(s.pendingSeries).toBe(2);
    expect(inFile(file, c)).toEqual(values(15));
    s.close();
    expect(inFile(file, c)).toEqual(values(23));
    const again = store(file, c, 10_000);
    const [net] = again.querySync('net_bytes', { dev: 'eth0' }, T0, T0 + HOUR, { resolution: 'raw' });
    expect(Array.from(net!.v)).toEqual(Array.from({ length: 23 }, (_, i) => i * 1000));
    again.close();
  });

  it('should write every collection when the interval equals the collection interval, despite timer jitter', () => {
    const file = tmpFile();
    const c: Clocks = { now: { ms: T0 }, mono: { ms: 0 } };
    const s = store(file, c, 15_000);
    for (let i = 0; i < 40; i++) {
      // Timers fire up to 40 ms early or late.
      c.mono.ms = i * 15_000 + ((i * 37) % 81) - 40;
      s.append(collection(T0 + i * 15_000, i));
      expect(s.pendingSeries).toBe(0);
    }
    expect(inFile(file, c)).toEqual(values(40));
    s.close();
  });

  it('should write every append with an interval of 0, and every block as it opens', () => {
    const file = tmpFile();
    const c: Clocks = { now: { ms: T0 }, mono: { ms: 0 } };
    const every = store(file, c, 0);
    for (let i = 0; i < 3; i++) every.append(collection(T0 + i * 1000, i));
    expect(inFile(file, c)).toEqual(values(3));
    every.close();
    // A long interval: the block that opens after BLOCK_TIMES collections is written with its first one.
    const file2 = tmpFile();
    const s = store(file2, c, 600_000);
    for (let i = 0; i <= BLOCK_TIMES; i++) {
      c.mono.ms = i;
      s.append(collection(T0 + i * 1000, i));
    }
    expect(inFile(file2, c)).toEqual(values(BLOCK_TIMES + 1));
    s.close();
  });

  it("should have a second store opened on the file (a reload) write the first one's pending samples first", () => {
    const file = tmpFile();
    const c: Clocks = { now: { ms: T0 }, mono: { ms: 0 } };
    const a = store(file, c, 60_000);
    for (let i = 0; i < 6; i++) a.append(collection(T0 + i * 1000, i));
    expect(a.pendingSeries).toBe(2);
    const b = store(file, c, 60_000);
    const [w] = b.querySync('cpu_percent', {}, T0, T0 + HOUR, { resolution: 'raw' });
    expect(Array.from(w!.v)).toEqual(values(6));
    a.close();
    for (let i = 6; i < 9; i++) b.append(collection(T0 + i * 1000, i));
    b.close();
    expect(inFile(file, c)).toEqual(values(9));
  });

  it('should answer a read from the file when the write before it fails, and go on appending after', () => {
    const file = tmpFile();
    const c: Clocks = { now: { ms: T0 }, mono: { ms: 0 } };
    const s = store(file, c, 60_000);
    for (let i = 0; i < 5; i++) s.append(collection(T0 + i * 1000, i));
    // Another writer holds the file's write lock: the write before the query fails (SQLITE_BUSY).
    const other = new DatabaseSync(file);
    other.exec('BEGIN IMMEDIATE');
    const [w] = s.querySync('cpu_percent', {}, T0, T0 + HOUR, { resolution: 'raw' });
    expect(Array.from(w!.v)).toEqual(values(1));
    // The samples that could not be written are dropped, not kept to grow.
    expect(s.pendingSeries).toBe(0);
    other.exec('ROLLBACK');
    other.close();
    for (let i = 5; i < 7; i++) s.append(collection(T0 + i * 1000, i));
    s.close();
    expect(inFile(file, c)).toEqual([0, 2.5, 3]);
  });

  it('should roll up the samples still pending when maintenance runs', () => {
    const file = tmpFile();
    const c: Clocks = { now: { ms: T0 }, mono: { ms: 0 } };
    const s = store(file, c, 600_000);
    const n = HOUR / 1000 + 30;
    for (let i = 0; i < n; i++) {
      c.mono.ms = i * 1000;
      s.append(collection(T0 + i * 1000, i));
    }
    expect(s.pendingSeries).toBe(2);
    c.now.ms = T0 + n * 1000;
    s.maintain();
    const [w] = s.querySync('cpu_percent', {}, T0, T0 + HOUR - 1, { resolution: '1m' });
    expect(Array.from(w!.rollup!.n).reduce((a, b) => a + b, 0)).toBe(HOUR / 1000);
    expect(w!.v[w!.v.length - 1]).toBe((HOUR / 1000 - 1) * 0.5);
    s.close();
  });
});

describe('trend_analysis.storage.flush_interval', () => {
  const storage = (text: string): string => `trend_analysis:\n  storage:\n    ${text}\n`;
  const issues = configIssues;

  it('should default to 15s and take 0s to 10m', () => {
    expect(parseConfigText('', 'c.yaml', {}).trend_analysis.storage.flush_interval.ms).toBe(15_000);
    for (const [text, ms] of [
      ['0s', 0],
      ['0', 0],
      ['2s', 2000],
      ['10m', 600_000],
    ] as const)
      expect(
        parseConfigText(storage(`flush_interval: ${text}`), 'c.yaml', {}).trend_analysis.storage
          .flush_interval.ms,
      ).toBe(ms);
  });

  it('should refuse a negative or too long interval, naming the key', () => {
    expect(issues(storage('flush_interval: 11m'))).toEqual([
      'trend_analysis.storage.flush_interval: must be at most 10m',
    ]);
    const [negative] = issues(storage('flush_interval: -1s'));
    expect(negative).toMatch(/^trend_analysis\.storage\.flush_interval: invalid duration "-1s"/);
  });
});

describe('TrendService shutdown', () => {
  it('should write every pending sample when it stops', async () => {
    const dir = path.dirname(tmpFile());
    const file = path.join(dir, 'history.db');
    const config = parseConfigText(
      `trend_analysis:\n  enabled: true\n  storage:\n    path: ${JSON.stringify(file)}\n    flush_interval: 10m\n`,
      'x.yaml',
      {},
    );
    const clock = new ManualClock(T0);
    const svc = new TrendService({
      config: config.trend_analysis,
      intervalMs: 1000,
      metricPrefix: 'p',
      clock,
      logger: new MemoryLogger(),
      historyPath: file,
    });
    await svc.start();
    for (let i = 0; i < 30; i++) {
      if (i > 0) await clock.advance(1000);
      svc.ingest(collection(clock.nowMs(), i), clock.nowMs());
    }
    expect(svc.store!.pendingSeries).toBe(2);
    await svc.shutdown();
    expect(inFile(file, { now: { ms: clock.nowMs() }, mono: { ms: 0 } })).toEqual(values(30));
  });
});
