import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../../src/cli/cli.js';
import type { CliIo } from '../../../../src/cli/io.js';
import { SqliteHistoryStore } from '../../../../src/trends/history-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function run(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main(argv, io, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/**
 * A config naming a history file holding the last 30 minutes of two series, written a moment ago; with
 * `inStateDir`, a config that names no file, and the history where the daemon keeps it under
 * $XDG_STATE_HOME=`dir`.
 */
function setup(inStateDir = false): { config: string; history: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-cli-trends-'));
  dirs.push(dir);
  const history = inStateDir
    ? path.join(dir, 'perf-monitor', 'metrics_history.db')
    : path.join(dir, 'metrics_history');
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    config,
    inStateDir
      ? 'trend_analysis:\n  enabled: true\n'
      : `trend_analysis:\n  enabled: true\n  storage:\n    path: ${JSON.stringify(history)}\n`,
  );
  const now = Date.now();
  const s = new SqliteHistoryStore({
    path: history,
    rawRetentionMs: 48 * 3_600_000,
    rollup1mRetentionMs: 14 * 86_400_000,
    retentionMs: 30 * 86_400_000,
    nowMs: () => now,
  });
  s.open();
  for (let i = 180; i >= 0; i--) {
    const t = now - i * 10_000;
    s.append([
      { metric: 'cpu_percent', labels: {}, value: 10 + (i % 10), timestampMs: t, kind: 'gauge' },
      {
        metric: 'network_bytes_recv',
        labels: { interface: 'eth0' },
        value: (180 - i) * 5000,
        timestampMs: t,
        kind: 'counter',
      },
    ]);
  }
  s.close();
  return { config, history, dir };
}

describe('perf-monitor trends', () => {
  it('should print a table with the window statistics and a sparkline', async () => {
    const { config } = setup();
    const r = await run(['trends', 'cpu_percent', '-c', config, '--window', '1h']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('cpu_percent over the last 1h');
    expect(r.out).toContain('{}  (gauge, raw samples, percentiles from samples)');
    expect(lines.find((l) => l.includes('count'))).toMatch(
      /count\s+mean\s+min\s+max\s+stddev\s+p50\s+p95\s+p99\s+rate\/s\s+slope\/s/,
    );
    expect(lines.find((l) => /^\s+181\s/.test(l))).toMatch(/^\s+181\s+14\.4\d*\s+10\s+19\s/);
    expect(r.out).toMatch(/[▁▂▃▄▅▆▇█]{20,}/);
  });

  it('should give counters a rate and print JSON with --json, filtered by --labels', async () => {
    const { config } = setup();
    const r = await run([
      'trends',
      'network_bytes_recv',
      '-c',
      config,
      '-w',
      '10m',
      '--labels',
      'interface=eth0',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out) as {
      series: { rate: number; labels: Record<string, string>; count: number }[];
    };
    expect(body.series).toHaveLength(1);
    expect(body.series[0]!.labels).toEqual({ interface: 'eth0' });
    expect(body.series[0]!.rate).toBeCloseTo(500, 9);
    const none = await run(['trends', 'network_bytes_recv', '-c', config, '--labels', 'interface=lo']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('no samples of network_bytes_recv{interface="lo"} in the last 1h');
  });

  it('should exit 2 with one line for a bad window, a missing metric or a missing history file', async () => {
    const { config, history } = setup();
    const badWindow = await run(['trends', 'cpu_percent', '-c', config, '--window', 'soon']);
    expect(badWindow.code).toBe(2);
    expect(badWindow.err).toBe('perf-monitor: --window "soon": use a duration such as 1h, 24h or 7d');
    expect((await run(['trends', '-c', config])).code).toBe(2);
    fs.rmSync(history);
    const missing = await run(['trends', 'cpu_percent', '-c', config]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`no history file (looked at ${history})`);
    expect(missing.err.split('\n')).toHaveLength(1);
  });

  it("should find the daemon's history in the state directory without flags", async () => {
    const { config, dir } = setup(true);
    const r = await run(['trends', 'cpu_percent', '-c', config], {
      XDG_STATE_HOME: dir,
      HOME: '/nonexistent',
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('cpu_percent over the last 1h');
    // Without the variable the state directory is elsewhere, and the message names where it looked.
    const elsewhere = await run(['trends', 'cpu_percent', '-c', config], { HOME: dir });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.err).toContain(
      `no history file (looked at ${path.join(dir, '.local', 'state', 'perf-monitor', 'metrics_history.db')}, /var/lib/perf-monitor/metrics_history.db)`,
    );
  });

  it('should exit 2 with one line for a metric the configuration does not know or that is not a name', async () => {
    const { config } = setup();
    const unknown = await run(['trends', 'up', '-c', config]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe('perf-monitor: unknown metric "up"');
    const promql = await run(['trends', 'cpu_percent or vector(1)', '-c', config]);
    expect(promql.code).toBe(2);
    expect(promql.err).toMatch(/^perf-monitor: bad metric name "cpu_percent or vector\(1\)"/);
  });
});
