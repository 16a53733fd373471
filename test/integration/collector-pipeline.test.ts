/**
 * The shipped otel-collector/config.yaml (and its forward.yaml overlay), run by the real Collector built
 * from otel-collector/builder.yaml: `validate` accepts them, and end to end agent → Collector → real
 * Prometheus scraping the Collector shows the same series and values as Prometheus scraping the agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { allAvailable, describeService } from '../services/availability.js';
import {
  collectorBinary,
  SHIPPED_COLLECTOR_CONFIG,
  SHIPPED_COLLECTOR_FORWARD,
  startShippedCollector,
  validateCollectorConfig,
} from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import { prometheusAvailable, startPrometheus } from '../services/prometheus.js';
import type { PrometheusServer, PromSample } from '../services/prometheus.js';
import { freePort, getText, seriesValue, startInProcessAgent, waitFor } from './agent-harness.js';
import { comparableSeries, shippedScrapeJob } from './series-compare.js';

const availability = allAvailable(await collectorBinary(), await prometheusAvailable());

describeService('OpenTelemetry Collector and Prometheus', availability, () => {
  it('should accept every shipped collector config with otelcol validate', async () => {
    for (const files of [[SHIPPED_COLLECTOR_CONFIG], [SHIPPED_COLLECTOR_CONFIG, SHIPPED_COLLECTOR_FORWARD]]) {
      const { exitCode, output } = await validateCollectorConfig(files[0]!, files.slice(1));
      expect(exitCode, output).toBe(0);
    }
  });

  describe('agent → Collector (shipped config) → Prometheus', () => {
    let collector: CollectorServer;
    let agent: PerformanceMonitorAgent;
    let prometheus: PrometheusServer;
    let agentTarget: string;
    let collectorTarget: string;

    beforeAll(async () => {
      collector = await startShippedCollector();
      const port = await freePort();
      ({ agent } = await startInProcessAgent({
        port,
        interval: '1s',
        otlpEndpoint: collector.otlpHttpUrl,
        labels: { environment: 'pipeline', instance: 'pipeline-host' },
      }));
      // Fixed application values: both paths must show exactly these.
      const app = agent.getApplicationCollector();
      app.recordCacheHit('sessions');
      app.recordCacheHit('sessions');
      app.recordCacheMiss('sessions');
      app.setCacheSize('sessions', 42);
      app.setQueueLength('ingest', 7);
      app.recordApiRequest('/users', 'GET', 0.2, 200);
      app.recordApiError('/users', 'GET', 'timeout');
      app.recordAgentExecution('planner', 1.5, 'success');
      agentTarget = `127.0.0.1:${port}`;
      collectorTarget = `127.0.0.1:${collector.prometheusPort}`;
      // The shipped prometheus.yml's Collector job relabeling (a no-op on the agent's own series).
      const { metric_relabel_configs } = shippedScrapeJob('perf-monitor-collector');
      prometheus = await startPrometheus({
        targets: [agentTarget, collectorTarget],
        scrapeIntervalSeconds: 1,
        extraScrapeConfig: { metric_relabel_configs },
      });
    });

    afterAll(async () => {
      await prometheus?.stop();
      await agent?.stop();
      await collector?.stop();
    });

    it('should show the same series through the Collector as from the agent directly', async () => {
      const byTarget = (v: PromSample[], target: string): PromSample[] =>
        v.filter((s) => s.metric.instance === target);
      const split = (v: PromSample[]): [Set<string>, Set<string>] => [
        comparableSeries(byTarget(v, agentTarget)),
        comparableSeries(byTarget(v, collectorTarget)),
      ];
      const ALL = '{__name__=~"multi_agent_system_.+"}';
      // Wait until both targets have been scraped with every series (the sets then stay equal).
      await prometheus
        .waitFor(ALL, (v) => {
          const [a, b] = split(v);
          return a.size > 0 && a.size === b.size && [...a].every((x) => b.has(x));
        })
        .catch(() => undefined);
      const [direct, viaCollector] = split(await prometheus.query(ALL));
      const onlyDirect = [...direct].filter((s) => !viaCollector.has(s));
      const onlyCollector = [...viaCollector].filter((s) => !direct.has(s));
      expect(onlyDirect, 'series only on the agent').toEqual([]);
      expect(onlyCollector, 'series only at the Collector').toEqual([]);
      expect(direct.size).toBeGreaterThan(40);
    });

    it('should show the same values for the application metrics and stable host gauges', async () => {
      const queries = [
        'multi_agent_system_cache_hits_total{cache_name="sessions"}',
        'multi_agent_system_cache_misses_total{cache_name="sessions"}',
        'multi_agent_system_cache_size{cache_name="sessions"}',
        'multi_agent_system_queue_length{queue_name="ingest"}',
        'multi_agent_system_api_request_count_total{endpoint="/users"}',
        'multi_agent_system_api_error_count_total{endpoint="/users"}',
        'multi_agent_system_api_request_duration_bucket{endpoint="/users",le="0.25"}',
        'multi_agent_system_api_request_duration_sum{endpoint="/users"}',
        'multi_agent_system_agent_execution_time_count{agent_name="planner"}',
        'multi_agent_system_cpu_cores',
      ];
      for (const q of queries) {
        const v = await prometheus.waitFor(q, (r) => r.length === 2, 30_000);
        const [a, b] = v.map((s) => Number(s.value[1]));
        expect(a, q).toBe(b);
        expect(
          v.every((s) => s.metric.agent_instance === 'pipeline-host' && s.metric.environment === 'pipeline'),
        ).toBe(true);
      }
      const { text } = await getText(collector.prometheusUrl);
      expect(seriesValue(text, 'multi_agent_system_cache_hits_total', 'cache_name="sessions"')).toBe(2);
    });
  });

  describe('forward.yaml: a sidecar Collector forwards over otlphttp to a backend Collector', () => {
    let backend: CollectorServer;
    let sidecar: CollectorServer;
    let agent: PerformanceMonitorAgent;

    beforeAll(async () => {
      backend = await startShippedCollector();
      sidecar = await startShippedCollector({
        configPaths: [SHIPPED_COLLECTOR_CONFIG, SHIPPED_COLLECTOR_FORWARD],
        backendEndpoint: `http://127.0.0.1:${backend.otlpHttpPort}`,
      });
      ({ agent } = await startInProcessAgent({
        port: await freePort(),
        interval: '1s',
        otlpEndpoint: sidecar.otlpHttpUrl,
        labels: { environment: 'forward', instance: 'forwarded-host' },
      }));
      agent.getApplicationCollector().setQueueLength('forwarded', 11);
    });

    afterAll(async () => {
      await agent?.stop();
      await sidecar?.stop();
      await backend?.stop();
    });

    it('should serve the agent metrics at both the sidecar and the backend', async () => {
      for (const c of [sidecar, backend]) {
        const value = await waitFor('queue_length at the collector', async () => {
          const { text } = await getText(c.prometheusUrl);
          return seriesValue(text, 'multi_agent_system_queue_length', 'agent_instance="forwarded-host"');
        });
        expect(value).toBe(11);
      }
    });
  });
});
