/**
 * The history survives a crash: the real `perf-monitor` executable collects every 500 ms and writes its
 * history every 2 s (flush_interval); killed with SIGKILL, restarted on the same file, the store opens
 * intact with every collection up to its last write and at most one flush interval lost; a clean stop
 * (SIGTERM) writes everything; windows spanning the restart count every stored sample and handle the
 * counter reset. A foreign file at the history path stops the executable with exit code 2 and one line
 * naming the file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import type { ServerHandle } from '../services/process.js';
import { SqliteHistoryStore } from '../../src/trends/history-store.js';
import { increaseOf } from '../../src/trends/history/rollup.js';
import { computeStatistics } from '../../src/trends/stats.js';
import {
  CLI,
  NODE,
  agentConfigText,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';

const INTERVAL_MS = 500;
const FLUSH_MS = 2000;

function writeConfig(dir: string, port: number, history: string): string {
  const file = path.join(dir, 'config.yaml');
  const text = agentConfigText({ port, interval: `${INTERVAL_MS}ms` }).replace(
    'logging:\n  level: debug',
    'logging:\n  level: warn',
  );
  fs.writeFileSync(
    file,
    `${text}\ntrend_analysis:\n  enabled: true\n  storage:\n    path: ${JSON.stringify(history)}\n    flush_interval: ${FLUSH_MS}ms\n  anomaly_detection:\n    enabled: true\n    min_samples: 5\n    window_samples: 20\n`,
  );
  return file;
}

function readStore(history: string): SqliteHistoryStore {
  const s = new SqliteHistoryStore({
    path: history,
    rawRetentionMs: 48 * 3_600_000,
    rollup1mRetentionMs: 14 * 86_400_000,
    retentionMs: 30 * 86_400_000,
    nowMs: () => Date.now(),
  });
  s.open();
  return s;
}

async function storedCount(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/trends?metric=monitor_collections&window=1h`);
    const body = (await res.json()) as { series: { count: number }[] };
    return body.series[0]?.count;
  } catch {
    return undefined;
  }
}

describeService('perf-monitor executable', builtCliAvailable(), () => {
  let handle: ServerHandle | undefined;
  afterEach(async () => {
    await handle?.stop();
    handle = undefined;
  });

  it('should keep the history through kill -9 and a restart, losing at most one flush interval', async () => {
    const dir = tempDir('trends-crash');
    const history = path.join(dir, 'data', 'metrics_history');
    const port = await freePort();
    const config = writeConfig(dir, port, history);
    const collections = async (): Promise<number> =>
      seriesValue(
        (await getText(`http://127.0.0.1:${port}/metrics`)).text,
        'multi_agent_system_monitor_collections_total',
      ) ?? 0;

    handle = await startCliAgent(config, port);
    // Watched on /metrics, not through the API: a query writes what is pending.
    await waitFor('twelve collections', async () => ((await collections()) >= 12 ? true : undefined), 30_000);
    const acknowledged = (await storedCount(port))!;
    await waitFor(
      'two flush intervals more',
      async () => ((await collections()) >= acknowledged + (2 * FLUSH_MS) / INTERVAL_MS ? true : undefined),
      30_000,
    );
    // The collection counter as /metrics shows it right before the kill: the number of collections done.
    const collected = await collections();
    const killedAtMs = Date.now();
    await handle.kill9();
    handle = undefined;

    // The store opens after the crash (the WAL is replayed, the file passes its integrity check) and holds
    // every collection up to its last write.
    let s = readStore(history);
    const [crashed] = await s.query('monitor_collections', {}, 0, Date.now(), { resolution: 'raw' });
    s.close();
    const stored = Array.from(crashed!.v);
    expect(stored.length).toBeGreaterThanOrEqual(acknowledged);
    for (let i = 1; i < stored.length; i++) expect(stored[i]! - stored[i - 1]!).toBe(1);
    const lastBeforeKill = crashed!.t[crashed!.t.length - 1]!;
    console.log(
      `durability: ${stored.length} samples stored before kill -9, the last with collection #${stored[stored.length - 1]} ` +
        `(/metrics showed #${collected}), ${killedAtMs - lastBeforeKill} ms before the kill (interval ${INTERVAL_MS} ms, ` +
        `flush interval ${FLUSH_MS} ms)`,
    );
    // Written with the API query and at least once since (two flush intervals passed): samples after the
    // query are in the file, and at most one flush interval (plus half a collection, and the one /metrics
    // may have shown before its write) is lost.
    expect(stored.length).toBeGreaterThan(acknowledged);
    expect(stored[stored.length - 1]!).toBeGreaterThanOrEqual(collected - FLUSH_MS / INTERVAL_MS - 2);

    handle = await startCliAgent(config, port);
    const before = crashed!.t.length;
    await waitFor(
      'ten more stored collections',
      async () => (((await storedCount(port)) ?? 0) >= before + 10 ? true : undefined),
      30_000,
    );
    // A clean stop (SIGTERM) writes every collection made, those after the last write included.
    const queried = await collections();
    await waitFor(
      'a collection after the query',
      async () => ((await collections()) > queried ? true : undefined),
      30_000,
    );
    const collectedBeforeStop = await collections();
    await handle.stop();
    handle = undefined;

    s = readStore(history);
    const [w] = await s.query('monitor_collections', {}, 0, Date.now(), { resolution: 'raw' });
    s.close();
    const t = Array.from(w!.t);
    const v = Array.from(w!.v);
    expect(v[v.length - 1]!).toBeGreaterThanOrEqual(collectedBeforeStop);
    // Nothing stored before the crash is gone, and time only moves forward.
    expect(t.slice(0, before)).toEqual(Array.from(crashed!.t));
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    // The collection counter restarted at the restart: the window's increase counts both runs.
    const resetAt = v.findIndex((x, i) => i > 0 && x < v[i - 1]!);
    expect(resetAt).toBe(before);
    const expectedIncrease = v[before - 1]! - v[0]! + v[v.length - 1]!;
    expect(increaseOf(v)).toBe(expectedIncrease);
    const stats = computeStatistics(w!, t[0]!, t[t.length - 1]!);
    expect(stats.count).toBe(t.length);
    expect(stats.rate).toBeCloseTo(expectedIncrease / ((t[t.length - 1]! - t[0]!) / 1000), 9);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should exit 2 with one line naming a foreign file at the history path, and leave it alone', async () => {
    const dir = tempDir('trends-foreign');
    const history = path.join(dir, 'metrics_history');
    fs.writeFileSync(history, 'quarterly figures, not a database\n');
    const config = writeConfig(dir, await freePort(), history);
    const r = spawnSync(NODE, [CLI, 'run', '-c', config], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.includes('ExperimentalWarning') && !l.includes('--trace-warnings'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(history);
    expect(fs.readFileSync(history, 'utf8')).toBe('quarterly figures, not a database\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
