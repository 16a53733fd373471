import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Sample } from '../../../src/model/metric.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { parseLabelMatchers } from '../../../src/trends/metric-query.js';
import { TrendService } from '../../../src/trends/trend-service.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function service(yaml: string, clock: ManualClock, logger = new MemoryLogger()): TrendService {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-trend-service-'));
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
    logger,
  });
}

function disk(t: number, used: number): Sample {
  return {
    metric: 'disk_usage_percent',
    labels: { mount_point: '/data' },
    value: used,
    timestampMs: t,
    kind: 'gauge',
  };
}

describe('TrendService', () => {
  it('should forecast when a filling disk reaches 100 % and export it with the series labels', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const s = service(
      '  forecasts:\n    - metric: disk_usage_percent\n      threshold: 100\n      window: 1h\n',
      clock,
    );
    await s.start();
    // 1 % every 100 s from 50 %: the last sample is at 80 %, so 100 % comes 2000 s later.
    for (let i = 0; i <= 30; i++) {
      if (i > 0) await clock.advance(100_000);
      s.ingest([disk(clock.nowMs(), 50 + i)], clock.nowMs());
    }
    const [f] = s.forecasts();
    expect(f!.secondsToThreshold).toBeCloseTo(20 * 100, 6);
    const points = [...s.points()].filter((p) => p.metric === 'forecast_seconds_to_threshold');
    expect(points).toEqual([
      {
        metric: 'forecast_seconds_to_threshold',
        labels: { mount_point: '/data', metric: 'disk_usage_percent' },
        value: f!.secondsToThreshold,
      },
    ]);
    await s.shutdown();
    await s.shutdown();
  });

  it('should forget a monitored and forecast series an hour after its last collection, and keep the live ones', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const s = service(
      '  anomaly_detection:\n    enabled: true\n    metrics: [disk_usage_percent]\n' +
        '  forecasts:\n    - metric: disk_usage_percent\n      threshold: 100\n      window: 1h\n',
      clock,
    );
    await s.start();
    const other = (t: number, used: number): Sample => ({
      ...disk(t, used),
      labels: { mount_point: '/mnt/usb' },
    });
    const mounts = (): string[] =>
      s
        .anomalies()
        .map((a) => a.labels.mount_point!)
        .sort();
    for (let i = 0; i < 5; i++) {
      if (i > 0) await clock.advance(10_000);
      s.ingest([disk(clock.nowMs(), 50 + i), other(clock.nowMs(), 10 + i)], clock.nowMs());
    }
    expect(mounts()).toEqual(['/data', '/mnt/usb']);
    expect(s.forecasts()).toHaveLength(2);
    // The USB disk is unmounted; /data goes on for 70 minutes.
    for (let i = 0; i < 420; i++) {
      await clock.advance(10_000);
      s.ingest([disk(clock.nowMs(), 60)], clock.nowMs());
    }
    expect(mounts()).toEqual(['/data']);
    expect(s.forecasts().map((f) => f.labels.mount_point)).toEqual(['/data']);
    await s.shutdown();
  });

  it('should score counters as rates and warm up from the stored history after a restart', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const yaml =
      '  anomaly_detection:\n    enabled: true\n    min_samples: 5\n    window_samples: 10\n    metrics: [network_bytes_recv]\n';
    const s = service(yaml, clock);
    await s.start();
    const recv = (t: number, v: number): Sample => ({
      metric: 'network_bytes_recv',
      labels: { interface: 'eth0' },
      value: v,
      timestampMs: t,
      kind: 'counter',
    });
    for (let i = 0; i < 8; i++) {
      await clock.advance(10_000);
      s.ingest([recv(clock.nowMs(), i * 1000 + (i % 2) * 10)], clock.nowMs());
    }
    const [state] = s.anomalies();
    expect(state!.value).toBeCloseTo((7000 + 10 - 6000) / 10, 9);
    expect(state!.baselineSize).toBe(7);
    await s.shutdown();
    // A new service on the same file starts with the stored baseline.
    const again = new TrendService({
      config: (s as unknown as { _opts: { config: never } })._opts.config,
      intervalMs: 10_000,
      metricPrefix: 'p',
      clock,
      logger: new MemoryLogger(),
    });
    await again.start();
    await clock.advance(10_000);
    again.ingest([recv(clock.nowMs(), 8000)], clock.nowMs());
    const [warm] = again.anomalies();
    expect(warm!.baselineSize).toBe(8);
    expect(Number.isNaN(warm!.score)).toBe(false);
    await again.shutdown();
  });

  it('should warn when the history cannot be checkpointed at shutdown, and lose no sample', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const logger = new MemoryLogger();
    const s = service('', clock, logger);
    await s.start();
    s.ingest([disk(clock.nowMs(), 42)], clock.nowMs());
    const store = s.store!;
    const checkpoint = vi.spyOn(store, 'checkpoint').mockImplementation(() => {
      throw new Error('disk I/O error');
    });
    await s.shutdown();
    expect(checkpoint).toHaveBeenCalledTimes(1);
    const warnings = logger.find('warn', 'cannot checkpoint the trend history');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ path: store.path, error: 'disk I/O error' });
    checkpoint.mockRestore();
    await s.start();
    const [w] = await s.history('disk_usage_percent', 60_000);
    expect([...w!.v]).toEqual([42]);
    await s.shutdown();
    expect(logger.find('warn', 'cannot checkpoint')).toHaveLength(1);
  });

  it('should parse label matchers strictly', () => {
    expect(parseLabelMatchers('a=1, b = x=y')).toEqual({ a: '1', b: 'x=y' });
    expect(parseLabelMatchers(undefined)).toEqual({});
    expect(() => parseLabelMatchers('a')).toThrow(/bad label matcher "a"/);
    expect(() => parseLabelMatchers('9a=1')).toThrow(/bad label matcher/);
  });
});

describe('TrendService on histograms', () => {
  it('should score the mean of the observations made since the previous collection', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const yaml =
      '  anomaly_detection:\n    enabled: true\n    algorithm: mad\n    min_samples: 5\n    window_samples: 20\n    metrics: [api_request_duration]\n';
    const s = service(yaml, clock);
    await s.start();
    let count = 0;
    let sum = 0;
    const observe = async (n: number, each: number): Promise<void> => {
      count += n;
      sum += n * each;
      await clock.advance(10_000);
      const h = { boundaries: [0.1, 1], counts: [count, 0, 0], sum, count };
      s.ingest(
        [
          {
            metric: 'api_request_duration',
            labels: { endpoint: '/x' },
            value: count,
            timestampMs: clock.nowMs(),
            kind: 'histogram',
            histogram: h,
          },
        ],
        clock.nowMs(),
      );
    };
    for (let i = 0; i < 12; i++) await observe(10, 0.02 + (i % 3) * 0.001);
    await observe(0, 0); // a quiet interval: nothing to score
    expect(s.anomalies()[0]!.baselineSize).toBe(11);
    await observe(10, 0.5); // requests 25× slower
    const [state] = s.anomalies();
    expect(state!.value).toBeCloseTo(0.5, 12);
    expect(state!.flag).toBe(true);
    expect([...s.points()]).toContainEqual({
      metric: 'anomaly_flag',
      labels: { endpoint: '/x', metric: 'api_request_duration' },
      value: 1,
    });
    await s.shutdown();
  });

  it('should refuse a metric that is not a known metric name before asking Prometheus', async () => {
    const config = parseConfigText(
      'trend_analysis:\n  enabled: true\n  storage:\n    backend: prometheus\n    url: http://127.0.0.1:9090\n',
      'x.yaml',
      {},
    );
    const asked: string[] = [];
    const fetch = ((url: string) => {
      asked.push(new URL(url).searchParams.get('query') ?? '');
      const body = { status: 'success', data: { resultType: 'matrix', result: [] } };
      return Promise.resolve(new Response(JSON.stringify(body)));
    }) as typeof globalThis.fetch;
    const s = new TrendService({
      config: config.trend_analysis,
      intervalMs: 10_000,
      metricPrefix: 'p',
      clock: new ManualClock(Date.UTC(2026, 10, 1)),
      logger: new MemoryLogger(),
      fetch,
      knownMetrics: new Set(['cpu_percent', 'queue_length']),
    });
    for (const metric of ['cpu_percent) or vector(1', 'up', 'x'.repeat(201)]) {
      await expect(s.getTrendStatistics(metric, '1h')).rejects.toMatchObject({ code: 'E_USAGE' });
      await expect(s.detectAnomalies(metric, { window: '1h' })).rejects.toMatchObject({ code: 'E_USAGE' });
    }
    expect(asked).toEqual([]);
    await s.getTrendStatistics('queue_length', '1h', { job: '"} or up{"' });
    expect(asked).toEqual(['p_queue_length{job="\\"} or up{\\""}[3600s]']);
  });
});

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
