import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import type { Sample } from '../../../src/model/metric.js';
import { TrendService } from '../../../src/trends/trend-service.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function service(yaml: string, clock: ManualClock): TrendService {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-chart-query-'));
  dirs.push(dir);
  const config = parseConfigText(
    `trend_analysis:\n  enabled: true\n  storage:\n    path: ${JSON.stringify(path.join(dir, 'h'))}\n${yaml}`,
    'x.yaml',
    {},
  );
  return new TrendService({
    config: config.trend_analysis,
    intervalMs: 10_000,
    metricPrefix: 'p',
    clock,
    logger: new MemoryLogger(),
  });
}

const sample = (
  metric: string,
  kind: 'gauge' | 'counter',
  t: number,
  value: number,
  labels = {},
): Sample => ({
  metric,
  labels,
  value,
  timestampMs: t,
  kind,
});

describe('chart data', () => {
  it('should draw counters as per-second rates and hold at most maxPoints points and maxSeries series', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const s = service('', clock);
    await s.start();
    for (let i = 0; i < 360; i++) {
      if (i > 0) await clock.advance(10_000);
      const t = clock.nowMs();
      s.ingest(
        [
          sample('network_bytes_recv', 'counter', t, i * 5000, { interface: 'eth0' }),
          ...[0, 1, 2].map((k) =>
            sample('disk_usage_percent', 'gauge', t, 40 + k, { mount_point: `/m${k}` }),
          ),
        ],
        t,
      );
    }
    const toMs = clock.nowMs();
    const lines = await s.charts(
      ['network_bytes_recv', 'disk_usage_percent', 'cpu_percent'],
      { fromMs: toMs - 3_600_000, toMs, resolution: 'raw' },
      { maxPoints: 50, maxSeries: 2 },
    );
    const net = lines.filter((l) => l.metric === 'network_bytes_recv');
    expect(net).toHaveLength(1);
    expect(net[0]!.rate).toBe(true);
    expect(net[0]!.v.length).toBe(50);
    // 5000 bytes every 10 s.
    for (const v of net[0]!.v) expect(v).toBeCloseTo(500, 9);
    const disk = lines.filter((l) => l.metric === 'disk_usage_percent');
    expect(disk).toHaveLength(2);
    expect(disk[0]!.omitted).toBe(1);
    expect(disk[0]!.rate).toBe(false);
    // No history, no chart.
    expect(lines.some((l) => l.metric === 'cpu_percent')).toBe(false);
    await s.shutdown();
  });

  it('should keep the last flagged values, bounded, oldest first', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const s = service(
      '  anomaly_detection:\n    enabled: true\n    min_samples: 20\n    window_samples: 60\n    metrics: [cpu_percent]\n',
      clock,
    );
    await s.start();
    let r = 1;
    const noise = (): number => ((r = (r * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2;
    const spikes: number[] = [];
    for (let i = 0; i < 3000; i++) {
      await clock.advance(10_000);
      const t = clock.nowMs();
      const spike = i > 100 && i % 50 === 0;
      if (spike) spikes.push(t);
      s.ingest([sample('cpu_percent', 'gauge', t, 30 + noise() + (spike ? 40 : 0))], t);
    }
    const flagged = s.recentAnomalies();
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.length).toBeLessThanOrEqual(512);
    const times = flagged.map((a) => a.timestampMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The newest spike is among them.
    expect(times).toContain(spikes[spikes.length - 1]);
    expect(flagged[0]!.metric).toBe('cpu_percent');
    await s.shutdown();
  });
});
