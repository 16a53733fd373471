/**
 * The agent pushes OTLP/HTTP protobuf to a real OpenTelemetry Collector (built from
 * otel-collector/builder.yaml by test/services/build-otelcol.sh); the Collector's Prometheus exporter then
 * serves the same series and values as the agent's own /metrics.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import { freePort, getText, seriesValue, startInProcessAgent, waitFor } from './agent-harness.js';

const binary = await collectorBinary();

/** The Collector settings that keep the agent's names and labels (see otel-collector/config.yaml). */
const SAME_NAMES = {
  translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
  prometheusExporter: { without_scope_info: true, resource_to_telemetry_conversion: { enabled: true } },
} as const;

describeService('OpenTelemetry Collector', binary, () => {
  let collector: CollectorServer;
  let agent: PerformanceMonitorAgent;

  beforeAll(async () => {
    collector = await startCollector(SAME_NAMES);
    ({ agent } = await startInProcessAgent({
      port: await freePort(),
      interval: '1s',
      otlpEndpoint: collector.otlpHttpUrl,
    }));
  });

  afterAll(async () => {
    await agent?.stop();
    await collector?.stop();
  });

  it('should deliver the agent metrics to the Collector, which serves them under the same names and labels', async () => {
    const fromCollector = await waitFor('cpu_cores at the collector', async () => {
      const { text } = await getText(collector.prometheusUrl);
      return seriesValue(text, 'multi_agent_system_cpu_cores') === undefined ? undefined : text;
    });
    const { text: direct } = await getText(`${agent.url!}/metrics`);
    expect(seriesValue(fromCollector, 'multi_agent_system_cpu_cores', 'environment="integration"')).toBe(
      seriesValue(direct, 'multi_agent_system_cpu_cores'),
    );
    const names = (text: string): Set<string> =>
      new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('multi_agent_system_'))
          .map((l) => l.slice(0, l.search(/[{ ]/))),
      );
    const directNames = names(direct);
    const collectorNames = names(fromCollector);
    // Counters keep _total, histograms and gauges keep their names: the same dashboard works on both paths.
    for (const n of directNames) {
      if (n.startsWith('multi_agent_system_monitor_scrapes')) continue;
      expect(collectorNames.has(n), n).toBe(true);
    }
    expect(fromCollector).toMatch(/multi_agent_system_network_bytes_recv_total\{[^}]*interface="lo"/);
    expect(fromCollector).toMatch(/agent_instance="/);
  });

  it('should count successful exports and no failures', async () => {
    const summary = await waitFor('two exports', () => {
      const s = agent.getMetricsSummary();
      return Promise.resolve(s.otlp !== undefined && s.otlp.exports >= 2 ? s : undefined);
    });
    expect(summary.otlp).toMatchObject({ endpoint: collector.otlpHttpUrl, failures: 0 });
  });

  it('should count failed exports while the Collector is down and recover when it returns', async () => {
    const otlpPort = await freePort();
    const { agent: lonely, logger } = await startInProcessAgent({
      port: await freePort(),
      interval: '1s',
      otlpEndpoint: `http://127.0.0.1:${otlpPort}/v1/metrics`,
    });
    let late: CollectorServer | undefined;
    try {
      await waitFor('a failed export in /metrics', async () => {
        const { text } = await getText(`${lonely.url!}/metrics`);
        const failures = seriesValue(text, 'multi_agent_system_monitor_otlp_export_failures_total');
        return failures !== undefined && failures >= 1 ? failures : undefined;
      });
      expect(logger.find('warn', 'OTLP export failed')).toHaveLength(1);
      late = await startCollector({ ...SAME_NAMES, otlpHttpPort: otlpPort });
      const collector = late;
      await waitFor('metrics at the late collector', async () => {
        const { text } = await getText(collector.prometheusUrl);
        return seriesValue(text, 'multi_agent_system_cpu_cores') === undefined ? undefined : true;
      });
      await waitFor('the recovery log line', () =>
        Promise.resolve(logger.find('info', 'OTLP export recovered').length === 1 ? true : undefined),
      );
      expect(logger.find('warn', 'OTLP export failed')).toHaveLength(1);
    } finally {
      await lonely.stop();
      await late?.stop();
    }
  });
});
