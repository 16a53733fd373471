/**
 * `prometheus.native_histograms: true` against a real Prometheus (Debian's 2.42) started with
 * `--enable-feature=native-histograms`: it negotiates the protobuf exposition, ingests the native form, and
 * PromQL's histogram_count / histogram_quantile answer on the series itself. promtool still lints the text
 * the agent serves to everyone else. And `otlp.histograms: exponential` against a real Collector: it receives
 * ExponentialHistogram points.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { allAvailable, describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import {
  prometheusAvailable,
  promtoolAvailable,
  promtoolCheckMetrics,
  startPrometheus,
} from '../services/prometheus.js';
import type { PrometheusServer } from '../services/prometheus.js';
import { freePort, getText, startInProcessAgent, waitFor } from './agent-harness.js';

const availability = allAvailable(await prometheusAvailable(), await promtoolAvailable());
const collector = await collectorBinary();

const DURATION = 'multi_agent_system_api_request_duration';

/** 70 requests of 20 ms and 30 of 300 ms: the median is 20 ms, the count 100. */
function recordRequests(agent: PerformanceMonitorAgent): void {
  const app = agent.getApplicationCollector();
  for (let i = 0; i < 100; i++) app.recordApiRequest('/orders', 'GET', i < 70 ? 0.02 : 0.3, 200);
}

describeService('Prometheus with native histograms', availability, () => {
  let agent: PerformanceMonitorAgent;
  let prometheus: PrometheusServer;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    ({ agent } = await startInProcessAgent({
      port,
      interval: '1s',
      prometheusExtra: '    native_histograms: true\n',
    }));
    recordRequests(agent);
    prometheus = await startPrometheus({
      targets: [`127.0.0.1:${port}`],
      scrapeIntervalSeconds: 1,
      extraArgs: ['--enable-feature=native-histograms'],
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await agent?.stop();
  });

  it('answers histogram_count on the native series', async () => {
    const result = await prometheus.waitFor(`histogram_count(${DURATION})`, (v) => v.length === 1, 30_000);
    expect(Number(result[0]!.value[1])).toBe(100);
    expect(result[0]!.metric).toMatchObject({ endpoint: '/orders', environment: 'integration' });
  });

  it('answers histogram_quantile(0.5, ...) on the native series within a bucket of the median', async () => {
    const [median] = await prometheus.waitFor(
      `histogram_quantile(0.5, ${DURATION})`,
      (v) => v.length === 1,
      30_000,
    );
    const value = Number(median!.value[1]);
    // At the scale the 20 ms .. 300 ms range allows (at most 160 buckets), a bucket is under 10 % wide.
    expect(value).toBeGreaterThan(0.018);
    expect(value).toBeLessThan(0.022);
    const [p90] = await prometheus.query(`histogram_quantile(0.9, ${DURATION})`);
    expect(Number(p90!.value[1])).toBeGreaterThan(0.27);
    expect(Number(p90!.value[1])).toBeLessThan(0.33);
  });

  it('ingests only the native form: Prometheus 2.42 keeps no classic _bucket series of a native histogram', async () => {
    await prometheus.waitFor(`histogram_count(${DURATION})`, (v) => v.length === 1, 30_000);
    expect(await prometheus.query(`${DURATION}_bucket`)).toEqual([]);
    // Metrics that are not histograms arrive as before.
    const cpu = await prometheus.waitFor('multi_agent_system_cpu_percent', (v) => v.length === 1, 30_000);
    expect(Number(cpu[0]!.value[1])).toBeGreaterThanOrEqual(0);
  });

  it('still serves text (with the classic buckets) that promtool lints without findings to other scrapers', async () => {
    const { text } = await getText(`http://127.0.0.1:${port}/metrics`);
    expect(text).toContain(`${DURATION}_bucket{`);
    const lint = await promtoolCheckMetrics(text);
    expect(lint.output.trim()).toBe('');
    expect(lint.exitCode).toBe(0);
  });
});

describeService('OpenTelemetry Collector with exponential histograms', collector, () => {
  let server: CollectorServer;
  let agent: PerformanceMonitorAgent;

  beforeAll(async () => {
    server = await startCollector({ extraConfig: { exporters: { debug: { verbosity: 'detailed' } } } });
    ({ agent } = await startInProcessAgent({
      port: await freePort(),
      interval: '1s',
      extra: `  otlp:\n    endpoint: ${server.otlpHttpUrl}\n    timeout: 2s\n    histograms: exponential\n`,
    }));
    recordRequests(agent);
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
  });

  it('receives the histograms as ExponentialHistogram points', async () => {
    const block = await waitFor('an exponential api_request_duration at the collector', () => {
      const out = server.output();
      const at = out.indexOf(`-> Name: ${DURATION}\n`);
      const end = out.indexOf('Metric #', at);
      return Promise.resolve(at < 0 || end < 0 ? undefined : out.slice(at, end));
    });
    expect(block).toMatch(/-> DataType: ExponentialHistogram/);
    expect(block).toMatch(/^Count: 100$/m);
    // The debug exporter prints each exponential bucket as its bounds: 20 ms and 300 ms fall in the non-empty ones.
    const buckets = [...block.matchAll(/^Bucket \(([\d.e+-]+), ([\d.e+-]+)\], Count: (\d+)$/gm)]
      .map((m) => ({ low: Number(m[1]), high: Number(m[2]), count: Number(m[3]) }))
      .filter((b) => b.count > 0);
    expect(buckets).toHaveLength(2);
    expect(buckets[0]!.count).toBe(70);
    expect(buckets[0]!.low).toBeLessThan(0.02);
    expect(buckets[0]!.high).toBeGreaterThanOrEqual(0.02);
    expect(buckets[1]!.count).toBe(30);
    expect(buckets[1]!.low).toBeLessThan(0.3);
    expect(buckets[1]!.high).toBeGreaterThanOrEqual(0.3);
  });
});
