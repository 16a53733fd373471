/**
 * OTLP exemplars reach the real OpenTelemetry Collector: an application records API requests inside a sampled
 * span, the agent pushes OTLP/HTTP protobuf, and the Collector's Prometheus exporter (OpenMetrics enabled) shows
 * the span's trace id on the histogram bucket.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import { inSpan, installContextManager } from '../unit/helpers/otel-context.js';
import { freePort, startInProcessAgent, waitFor } from './agent-harness.js';

const binary = await collectorBinary();

const TRACE_ID = 'b1b2c3d4e5f60718293a4b5c6d7e8f91';
const SPAN_ID = '2a2b3c4d5e6f7082';

describeService('OpenTelemetry Collector', binary, () => {
  let collector: CollectorServer;
  let agent: PerformanceMonitorAgent;
  let uninstall: () => void;
  let timer: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    uninstall = installContextManager();
    collector = await startCollector({
      translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
      prometheusExporter: {
        without_scope_info: true,
        resource_to_telemetry_conversion: { enabled: true },
        enable_open_metrics: true,
      },
    });
    ({ agent } = await startInProcessAgent({
      port: await freePort(),
      interval: '1s',
      otlpEndpoint: collector.otlpHttpUrl,
    }));
    const app = agent.getApplicationCollector();
    const record = (): void =>
      inSpan(TRACE_ID, SPAN_ID, () => app.recordApiRequest('/pay', 'POST', 0.04, 200));
    record();
    timer = setInterval(record, 250);
  });

  afterAll(async () => {
    if (timer !== undefined) clearInterval(timer);
    await agent?.stop();
    await collector?.stop();
    uninstall?.();
  });

  it('should show the trace id of a histogram measurement on the bucket it fell in', async () => {
    const line = await waitFor('an exemplar at the collector', async () => {
      const res = await fetch(collector.prometheusUrl, {
        headers: { Accept: 'application/openmetrics-text;version=1.0.0' },
      });
      const text = await res.text();
      return text
        .split('\n')
        .find((l) => l.startsWith('multi_agent_system_api_request_duration_bucket{') && l.includes(TRACE_ID));
    });
    expect(line).toContain('endpoint="/pay"');
    expect(line).toContain('le="0.05"');
    expect(line).toMatch(new RegExp(`# \\{.*span_id="${SPAN_ID}".*\\} 0\\.04 `));
  });
});
