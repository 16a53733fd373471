/**
 * Guards the real-server harness in test/services/: Prometheus scrapes and answers queries, promtool lints,
 * and the test Collector turns OTLP/HTTP JSON into Prometheus exposition.
 */
import { createServer, type Server } from 'node:http';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allAvailable, describeService } from '../services/availability.js';
import {
  collectorBinary,
  startCollector,
  validateCollectorConfig,
  type CollectorServer,
} from '../services/otelcol.js';
import {
  prometheusAvailable,
  promtoolAvailable,
  promtoolCheckMetrics,
  startPrometheus,
  type PrometheusServer,
} from '../services/prometheus.js';

const EXPOSITION = '# HELP demo_metric A demo gauge.\n# TYPE demo_metric gauge\ndemo_metric 42\n';

/** A static /metrics endpoint on 127.0.0.1 with a free port. */
async function startStaticExporter(body: string): Promise<{ target: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    target: `127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function nowUnixNano(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}

/** One OTLP/JSON export request: gauge demo.gauge=7, gauge demo.duration=1.5 s, counter demo.requests=3. */
function otlpJsonBody(): string {
  const t = nowUnixNano();
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'services-test' } }] },
        scopeMetrics: [
          {
            scope: { name: 'services-test' },
            metrics: [
              { name: 'demo.gauge', gauge: { dataPoints: [{ asDouble: 7, timeUnixNano: t }] } },
              {
                name: 'demo.duration',
                unit: 's',
                gauge: { dataPoints: [{ asDouble: 1.5, timeUnixNano: t }] },
              },
              {
                name: 'demo.requests',
                unit: '{request}',
                sum: {
                  aggregationTemporality: 2, // AGGREGATION_TEMPORALITY_CUMULATIVE
                  isMonotonic: true,
                  dataPoints: [{ asInt: '3', startTimeUnixNano: t, timeUnixNano: t }],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

async function postOtlp(collector: CollectorServer): Promise<void> {
  const res = await fetch(collector.otlpHttpUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: otlpJsonBody(),
  });
  expect(res.status, await res.text()).toBe(200);
}

/** Polls the collector's Prometheus exporter until `pattern` matches its text. */
async function waitForExposition(
  collector: CollectorServer,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let text = '';
  while (performance.now() < deadline) {
    text = await (await fetch(collector.prometheusUrl)).text();
    if (pattern.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${pattern} not in ${collector.prometheusUrl} within ${timeoutMs} ms:\n${text}\n${collector.output()}`,
  );
}

const prometheus = await prometheusAvailable();
const promtool = await promtoolAvailable();
const collector = await collectorBinary();

describeService('Prometheus', prometheus, () => {
  let exporter: Awaited<ReturnType<typeof startStaticExporter>>;
  let prom: PrometheusServer;

  beforeAll(async () => {
    exporter = await startStaticExporter(EXPOSITION);
    prom = await startPrometheus({ targets: [exporter.target] });
  });
  afterAll(async () => {
    await prom?.stop();
    await exporter?.close();
  });

  it('should scrape a loopback target and answer an instant query', async () => {
    const vector = await prom.waitFor('demo_metric', (v) => v.length > 0);
    expect(vector).toHaveLength(1);
    expect(vector[0]?.value[1]).toBe('42');
    expect(vector[0]?.metric).toMatchObject({ job: 'perf-monitor', instance: exporter.target });
  });

  it('should report the target as up', async () => {
    const targets = await prom.targetsHealth();
    expect(targets).toEqual([
      expect.objectContaining({
        scrapeUrl: `http://${exporter.target}/metrics`,
        health: 'up',
        lastError: '',
      }),
    ]);
  });

  it('should answer range queries', async () => {
    const endS = Math.ceil(Date.now() / 1000) + 1; // the grid must reach past the newest sample
    const series = await prom.queryRange('demo_metric', { startS: endS - 60, endS, stepS: 1 });
    expect(series[0]?.values.at(-1)?.[1]).toBe('42');
  });

  it('should reject bad PromQL at once', async () => {
    await expect(prom.waitFor('demo_metric{', () => true, 5_000)).rejects.toThrow(/bad_data/);
  });

  it('should refuse non-loopback targets', async () => {
    await expect(startPrometheus({ targets: ['192.0.2.1:9100'] })).rejects.toThrow(/loopback/);
  });

  it('should be safe to stop twice', async () => {
    const other = await startPrometheus({ targets: [exporter.target] });
    await Promise.all([other.stop(), other.stop()]);
    await other.stop();
    await expect(fetch(`${other.url}/-/ready`)).rejects.toThrow();
  });
});

describeService('promtool', promtool, () => {
  it('should accept clean exposition text', async () => {
    await expect(promtoolCheckMetrics(EXPOSITION)).resolves.toEqual({ exitCode: 0, output: '' });
  });

  it('should report lint findings with exit code 3', async () => {
    const result = await promtoolCheckMetrics('demo_metric 42\n');
    expect(result.exitCode).toBe(3);
    expect(result.output).toContain('no help text');
  });
});

describeService('OpenTelemetry Collector', collector, () => {
  describe('with default exporter settings', () => {
    let otel: CollectorServer;
    beforeAll(async () => {
      otel = await startCollector();
    });
    afterAll(async () => {
      await otel?.stop();
    });

    it('should expose an OTLP/HTTP JSON gauge on its Prometheus endpoint', async () => {
      await postOtlp(otel);
      const text = await waitForExposition(otel, /^demo_gauge\{[^}]*\} 7$/m);
      expect(text).toMatch(/^demo_gauge\{[^}]*job="services-test"[^}]*\} 7$/m);
    });

    it('should add _total and unit suffixes by default', async () => {
      await postOtlp(otel);
      const text = await waitForExposition(otel, /^demo_requests_total\{[^}]*\} 3$/m);
      expect(text).toMatch(/^# TYPE demo_requests_total counter$/m);
      expect(text).toMatch(/^demo_duration_seconds\{[^}]*\} 1\.5$/m);
    });

    it('should accept its own config in validate and reject a broken one', async () => {
      await expect(validateCollectorConfig(otel.configPath)).resolves.toMatchObject({ exitCode: 0 });
      const dir = await mkdtemp(join(tmpdir(), 'perf-monitor-otelcol-bad-'));
      try {
        const bad = join(dir, 'bad.yaml');
        await writeFile(bad, 'receivers: {nope: {}}\nservice: {pipelines: {}}\n');
        const result = await validateCollectorConfig(bad);
        expect(result.exitCode).not.toBe(0);
        expect(result.output).toMatch(/nope/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('with a namespace and no suffixes', () => {
    let otel: CollectorServer;
    beforeAll(async () => {
      otel = await startCollector({
        namespace: 'pm',
        translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
      });
    });
    afterAll(async () => {
      await otel?.stop();
    });

    it('should prefix names and leave suffixes off', async () => {
      await postOtlp(otel);
      const text = await waitForExposition(otel, /^pm_demo_requests\{[^}]*\} 3$/m);
      expect(text).toMatch(/^pm_demo_duration\{[^}]*\} 1\.5$/m);
      expect(text).toMatch(/^pm_demo_gauge\{[^}]*\} 7$/m);
      expect(text).not.toMatch(/_total\{/);
    });
  });
});

describeService(
  'Prometheus + OpenTelemetry Collector',
  allAvailable(prometheus, collector),
  () => {
    let otel: CollectorServer;
    let prom: PrometheusServer;
    beforeAll(async () => {
      otel = await startCollector();
      prom = await startPrometheus({ targets: [`127.0.0.1:${otel.prometheusPort}`] });
    });
    afterAll(async () => {
      await prom?.stop();
      await otel?.stop();
    });

    it('should carry an OTLP gauge through the collector into Prometheus', async () => {
      await postOtlp(otel);
      const vector = await prom.waitFor('demo_gauge', (v) => v.length > 0);
      expect(vector[0]?.value[1]).toBe('7');
    });
  },
  'OTLP -> Collector -> Prometheus',
);
