import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNotificationDb } from '../../src/alerts/notification-store.js';
import { AlertStateStore } from '../../src/alerts/state-store.js';
import type { PersistedState } from '../../src/alerts/state-store.js';
import { RotatingFileSink } from '../../src/lib/logger.js';
import { SqliteHistoryStore } from '../../src/trends/history-store.js';

const STATE: PersistedState = { version: 1, savedAtMs: 1, rules: [] };

function modeOf(p: string): string {
  return (fs.statSync(p).mode & 0o777).toString(8);
}

describe('state files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-modes-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should create the notification store and its -wal and -shm 0600 in new directories 0700', async () => {
    const file = path.join(dir, 'data', 'alerts', 'notifications.db');
    const db = await openNotificationDb(file);
    try {
      db.prepare("INSERT INTO silences VALUES ('s', '[]', 0, 1, 'me', '', 0)").run();
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, modeOf(f)]).toEqual([f, '600']);
      expect(modeOf(path.join(dir, 'data'))).toBe('700');
      expect(modeOf(path.join(dir, 'data', 'alerts'))).toBe('700');
    } finally {
      db.close();
    }
  });

  it('should create the trend history and its -wal and -shm 0600 in a new directory 0700', () => {
    const file = path.join(dir, 'history', 'metrics_history');
    const store = new SqliteHistoryStore({
      path: file,
      rawRetentionMs: 3_600_000,
      rollup1mRetentionMs: 3_600_000,
      retentionMs: 3_600_000,
      nowMs: () => 1000,
    });
    store.open();
    try {
      store.append([{ metric: 'cpu_percent', labels: {}, value: 1, timestampMs: 1000, kind: 'gauge' }]);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, modeOf(f)]).toEqual([f, '600']);
      expect(modeOf(path.join(dir, 'history'))).toBe('700');
    } finally {
      store.close();
    }
  });

  it('should write the alert state 0600 in a new directory 0700, sync and async', async () => {
    const sync = new AlertStateStore(path.join(dir, 'a', 'state.json'));
    sync.saveSync(STATE);
    expect(modeOf(sync.file)).toBe('600');
    expect(modeOf(path.join(dir, 'a'))).toBe('700');
    const async = new AlertStateStore(path.join(dir, 'b', 'state.json'));
    await async.save(STATE);
    expect(async.lastError).toBeUndefined();
    expect(modeOf(async.file)).toBe('600');
    expect(modeOf(path.join(dir, 'b'))).toBe('700');
  });

  it('should never write the alert state through a symlink planted at its temporary name', async () => {
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'untouched');
    const store = new AlertStateStore(path.join(dir, 'state.json'));
    const plant = (seq: number): void =>
      fs.symlinkSync(victim, path.join(dir, `.state.json.${process.pid}.${seq}.tmp`));
    plant(1);
    expect(() => store.saveSync(STATE)).toThrow(/EEXIST/);
    plant(2);
    await store.save(STATE);
    expect(store.lastError).toMatch(/EEXIST/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched');
    expect(fs.existsSync(store.file)).toBe(false);
  });

  it('should create log files 0600 in a new directory 0700, also after a rotation', () => {
    const file = path.join(dir, 'logs', 'agent.log');
    const sink = new RotatingFileSink({ file, maxBytes: 10, backupCount: 1 });
    sink.write('first line');
    sink.write('second line');
    sink.close();
    expect(modeOf(file)).toBe('600');
    expect(modeOf(`${file}.1`)).toBe('600');
    expect(modeOf(path.join(dir, 'logs'))).toBe('700');
  });
});
