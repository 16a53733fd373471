import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/alerts/types.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { advanceAndCollect, fixtureAgent, fixtureConfigText, scrape } from '../helpers/fixture-agent.js';
import type { FixtureAgent } from '../helpers/fixture-agent.js';
import { SqliteHistoryStore } from '../../../src/trends/history-store.js';

const dirs: string[] = [];
let running: FixtureAgent | undefined;

afterEach(async () => {
  await running?.agent.stop();
  running = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function trendsYaml(file: string): string {
  return `
trend_analysis:
  enabled: true
  storage:
    path: ${JSON.stringify(file)}
  anomaly_detection:
    enabled: true
    algorithm: mad
    min_samples: 5
    window_samples: 10
    metrics: [memory_percent, network_bytes_recv]
  forecasts:
    - metric: disk_usage_percent
      threshold: 100
  sparkline_metrics: [memory_percent, network_bytes_recv]
`;
}

function tmpFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-agent-trends-'));
  dirs.push(d);
  return path.join(d, 'history', 'metrics_history');
}

async function getJson(
  fx: FixtureAgent,
  url: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await scrape(fx.agent, url);
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
}

describe('PerformanceMonitorAgent with trend analysis', () => {
  it('should store every collection, export anomaly and forecast metrics, and answer the trend API', async () => {
    const file = tmpFile();
    const fx = fixtureAgent('linux-vm', { extra: trendsYaml(file) });
    running = fx;
    await fx.agent.start();
    for (let i = 0; i < 8; i++) await advanceAndCollect(fx, 15_000);
    expect(fs.existsSync(file)).toBe(true);

    const metrics = (await scrape(fx.agent)).text;
    expect(metrics).toMatch(/^multi_agent_system_anomaly_flag\{[^}]*metric="memory_percent"[^}]*\} 0$/m);
    expect(metrics).toMatch(/^multi_agent_system_anomaly_score\{[^}]*metric="memory_percent"[^}]*\} \d/m);
    expect(metrics).toMatch(
      /^multi_agent_system_anomaly_flag\{[^}]*interface="[^"]+"[^}]*metric="network_bytes_recv"/m,
    );
    // The fixture disk does not fill: the forecast says never.
    expect(metrics).toMatch(
      /^multi_agent_system_forecast_seconds_to_threshold\{mount_point="\/",metric="disk_usage_percent",[^}]*\} \+Inf$/m,
    );

    const trends = await getJson(fx, '/api/v1/trends?metric=memory_percent&window=1h');
    expect(trends.status).toBe(200);
    const series = trends.body.series as { count: number; mean: number; kind: string }[];
    expect(series).toHaveLength(1);
    expect(series[0]!.count).toBe(9);
    expect(series[0]!.kind).toBe('gauge');

    const stats = await fx.agent.getTrendStatistics('memory_percent', '1h');
    expect(stats[0]!.count).toBe(9);
    expect(stats[0]!.mean).toBe(series[0]!.mean);
    const rate = await fx.agent.getTrendStatistics('network_bytes_recv', '1h', {});
    expect(rate.length).toBeGreaterThan(0);
    expect(rate.every((s) => s.rate !== undefined && s.rate >= 0)).toBe(true);

    expect((await getJson(fx, '/api/v1/trends?window=1h')).status).toBe(400);
    const bad = await getJson(fx, '/api/v1/trends?metric=memory_percent&window=soon');
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toContain('soon');
    expect((await getJson(fx, '/api/v1/trends?metric=memory_percent&labels=nolabel')).status).toBe(400);
    // Only metric names the configuration knows, in grammar and at most 200 characters.
    for (const metric of [
      'up',
      'memory_percent{job=~".+"}',
      'memory_percent or vector(1)',
      'm'.repeat(201),
    ]) {
      const refused = await getJson(fx, `/api/v1/trends?metric=${encodeURIComponent(metric)}&window=1h`);
      expect(refused.status).toBe(400);
      expect(String(refused.body.error)).toMatch(/^(unknown metric|bad metric name|metric name longer)/);
      const scanned = await getJson(fx, `/api/v1/anomalies?metric=${encodeURIComponent(metric)}&window=1h`);
      expect(scanned.status).toBe(400);
    }

    const anomalies = await getJson(fx, '/api/v1/anomalies');
    expect(anomalies.status).toBe(200);
    expect((anomalies.body.detector as { algorithm: string }).algorithm).toBe('mad');
    const online = anomalies.body.series as { metric: string; flag: boolean }[];
    expect(online.some((s) => s.metric === 'memory_percent')).toBe(true);
    const scan = await getJson(fx, '/api/v1/anomalies?metric=memory_percent&window=1h');
    expect(Array.isArray(scan.body.anomalies)).toBe(true);
    expect(await fx.agent.detectAnomalies('memory_percent', { window: '1h' })).toEqual(scan.body.anomalies);
  });

  it('should show alerts, anomalies, forecasts and sparklines on the status page', async () => {
    const fx = fixtureAgent('linux-vm', { extra: trendsYaml(tmpFile()) });
    running = fx;
    await fx.agent.start();
    for (let i = 0; i < 4; i++) await advanceAndCollect(fx, 15_000);
    let page = (await scrape(fx.agent, '/')).text;
    expect(page).toContain('no active alerts');
    expect(page).toContain('<h2>Anomalies</h2>');
    expect(page).toContain('<h2>Forecasts</h2>');
    expect(page).toMatch(/<svg class="spark"[^>]*><title>memory_percent, last hour<\/title><polyline/);
    expect(page).toContain('<h2>Endpoints</h2>');
    const alert: Alert = {
      fingerprint: 'f1',
      labels: { alertname: 'high_cpu_usage', severity: 'warning' },
      annotations: { summary: 'CPU above 85 % for 5 minutes' },
      state: 'firing',
      value: 91.5,
      activeAtMs: 0,
      firedAtMs: 1,
    };
    fx.agent.setActiveAlertsProvider(() => [alert]);
    page = (await scrape(fx.agent, '/')).text;
    expect(page).not.toContain('no active alerts');
    expect(page).toContain('<td>high_cpu_usage</td><td class="firing">firing</td>');
    expect(page).toContain('CPU above 85 % for 5 minutes');
  });

  it('should refuse to start on a foreign file at the history path and leave it as it was', async () => {
    const file = tmpFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'not a database');
    const fx = fixtureAgent('linux-vm', { extra: trendsYaml(file) });
    await expect(fx.agent.start()).rejects.toMatchObject({ code: 'E_HISTORY_STORE' });
    expect(fs.readFileSync(file, 'utf8')).toBe('not a database');
    await fx.agent.stop();
  });

  it('should rebuild trend analysis on a reload that changes it, keeping the stored history', async () => {
    const history = tmpFile();
    const dir = path.dirname(path.dirname(history));
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(file, fixtureConfigText('linux-vm', trendsYaml(history)));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx;
    await fx.agent.start();
    for (let i = 0; i < 3; i++) await advanceAndCollect(fx, 15_000);
    const before = (await getJson(fx, '/api/v1/anomalies')).body.detector as { algorithm: string };
    expect(before.algorithm).toBe('mad');
    fs.writeFileSync(
      file,
      fixtureConfigText('linux-vm', trendsYaml(history).replace('algorithm: mad', 'algorithm: iqr')),
    );
    await fx.agent.reload();
    const after = (await getJson(fx, '/api/v1/anomalies')).body.detector as { algorithm: string };
    expect(after.algorithm).toBe('iqr');
    await advanceAndCollect(fx, 15_000);
    const stats = await fx.agent.getTrendStatistics('memory_percent', '1h');
    expect(stats[0]!.count).toBe(5);
  });

  it('should keep every collection held in memory across a reload and a stop (flush_interval 10m)', async () => {
    const history = tmpFile();
    const dir = path.dirname(path.dirname(history));
    const file = path.join(dir, 'agent.yaml');
    const yaml = trendsYaml(history).replace('    path:', '    flush_interval: 10m\n    path:');
    fs.writeFileSync(file, fixtureConfigText('linux-vm', yaml));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx;
    await fx.agent.start();
    for (let i = 0; i < 3; i++) await advanceAndCollect(fx, 15_000);
    fs.writeFileSync(file, fixtureConfigText('linux-vm', yaml.replace('algorithm: mad', 'algorithm: iqr')));
    await fx.agent.reload();
    for (let i = 0; i < 2; i++) await advanceAndCollect(fx, 15_000);
    await fx.agent.stop();
    running = undefined;
    const store = new SqliteHistoryStore({
      path: history,
      rawRetentionMs: 48 * 3_600_000,
      rollup1mRetentionMs: 14 * 86_400_000,
      retentionMs: 30 * 86_400_000,
      nowMs: () => fx.clock.nowMs(),
      readOnly: true,
    });
    store.open();
    const [w] = store.querySync('memory_percent', {}, 0, fx.clock.nowMs(), { resolution: 'raw' });
    store.close();
    // The collection at the start, three before the reload, two after: none lost.
    expect(w!.t.length).toBe(6);
    for (let i = 1; i < w!.t.length; i++) expect(w!.t[i]! - w!.t[i - 1]!).toBe(15_000);
  });

  it('should reject the trend API calls when trend analysis is off', async () => {
    const fx = fixtureAgent('linux-vm');
    running = fx;
    await fx.agent.start();
    await expect(fx.agent.getTrendStatistics('cpu_percent', '1h')).rejects.toMatchObject({ code: 'E_STATE' });
    expect((await scrape(fx.agent, '/api/v1/trends?metric=cpu_percent')).status).toBe(404);
    expect((await scrape(fx.agent, '/')).text).toContain('no active alerts');
  });
});

describe('trend_analysis configuration', () => {
  const base = fixtureConfigText('linux-vm');
  it('should default to the embedded SQLite store and accept the seed backend name "file"', () => {
    expect(parseConfigText(base, 'x.yaml', {}).trend_analysis.storage.backend).toBe('sqlite');
    const seed = parseConfigText(`${base}\ntrend_analysis:\n  storage:\n    backend: file\n`, 'x.yaml', {});
    expect(seed.trend_analysis.storage.backend).toBe('file');
  });

  it('should validate an alert rule on anomaly_score', () => {
    const text = base.replace(
      'performance_monitor:\n',
      `performance_monitor:
  alerting:
    rules:
      - name: cpu_anomaly
        metric: anomaly_score
        condition: ">"
        threshold: 3
        duration: 60
        severity: warning
`,
    );
    expect(parseConfigText(text, 'x.yaml', {}).performance_monitor.alerting.rules[0]!.metric).toBe(
      'anomaly_score',
    );
  });

  it('should reject a baseline window smaller than min_samples, naming the key', () => {
    const text = `${base}\ntrend_analysis:\n  anomaly_detection:\n    min_samples: 50\n    window_samples: 10\n`;
    try {
      parseConfigText(text, 'x.yaml', {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0]!.path).toBe('trend_analysis.anomaly_detection.window_samples');
    }
  });
});

describe('trend_analysis metric names', () => {
  it('should reject an unknown metric in the monitored, forecast and sparkline lists, naming each key', () => {
    const text = `${fixtureConfigText('linux-vm')}
trend_analysis:
  anomaly_detection:
    metrics: [cpu_percnt]
  forecasts:
    - { metric: disk_usage, threshold: 100 }
  sparkline_metrics: [memory_percent, nope]
`;
    try {
      parseConfigText(text, 'x.yaml', {});
      expect.unreachable();
    } catch (err) {
      const issues = (err as ConfigError).issues;
      expect(issues.map((i) => i.path)).toEqual([
        'trend_analysis.anomaly_detection.metrics[0]',
        'trend_analysis.forecasts[0].metric',
        'trend_analysis.sparkline_metrics[1]',
      ]);
      expect(issues[0]!.message).toContain('unknown metric "cpu_percnt"');
      expect(issues[0]!.line).toBe(text.split('\n').findIndex((l) => l.includes('cpu_percnt')) + 1);
    }
  });
});
