/**
 * `otlp.naming: semconv` end to end: the agent pushes to a real OpenTelemetry Collector (built from
 * otel-collector/builder.yaml), whose otlphttp exporter forwards every metric as OTLP/JSON to a receiver in this
 * test. The Collector passes on the conventions' names, units and attributes, and the agent's own /metrics keeps
 * the seed's names. The default naming is covered by otlp-collector.test.ts and collector-pipeline.test.ts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import { WebhookReceiver } from '../services/webhook-receiver.js';
import type { ReceivedRequest } from '../services/webhook-receiver.js';
import { freePort, getText, seriesValue, startInProcessAgent } from './agent-harness.js';

interface JsonValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonAttribute {
  key: string;
  value: JsonValue;
}
interface JsonPoint {
  attributes?: JsonAttribute[];
  asDouble?: number;
  asInt?: string;
  count?: string;
}
interface JsonMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: JsonPoint[] };
  sum?: { dataPoints: JsonPoint[]; isMonotonic?: boolean; aggregationTemporality?: number };
  histogram?: { dataPoints: JsonPoint[] };
}
interface JsonRequest {
  resourceMetrics?: {
    resource?: { attributes?: JsonAttribute[] };
    scopeMetrics?: { metrics?: JsonMetric[] }[];
  }[];
}

const binary = await collectorBinary();

/** Every metric of every forwarded request, the last one of each name winning, and the last resource. */
function received(requests: readonly ReceivedRequest[]): {
  metrics: Map<string, JsonMetric>;
  resource: Record<string, JsonValue>;
} {
  const metrics = new Map<string, JsonMetric>();
  let resource: Record<string, JsonValue> = {};
  for (const r of requests) {
    for (const rm of (r.json as JsonRequest | undefined)?.resourceMetrics ?? []) {
      resource = attrs(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) metrics.set(m.name, m);
    }
  }
  return { metrics, resource };
}

function attrs(list: JsonAttribute[] | undefined): Record<string, JsonValue> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, a.value]));
}

function points(m: JsonMetric | undefined): JsonPoint[] {
  return m?.gauge?.dataPoints ?? m?.sum?.dataPoints ?? m?.histogram?.dataPoints ?? [];
}

describeService('OpenTelemetry Collector (semconv naming)', binary, () => {
  const receiver = new WebhookReceiver();
  let collector: CollectorServer;
  let agent: PerformanceMonitorAgent;

  beforeAll(async () => {
    await receiver.start();
    collector = await startCollector({
      extraConfig: {
        exporters: {
          otlphttp: { endpoint: `http://127.0.0.1:${receiver.port}`, encoding: 'json', compression: 'none' },
        },
        service: { pipelines: { metrics: { exporters: ['prometheus', 'otlphttp'] } } },
      },
    });
    ({ agent } = await startInProcessAgent({
      port: await freePort(),
      interval: '1s',
      otlpEndpoint: collector.otlpHttpUrl,
      otlpNaming: 'semconv',
      labels: { environment: 'integration', team: 'core' },
    }));
    const app = agent.getApplicationCollector();
    app.recordApiRequest('/users/:id', 'GET', 0.2, 200);
    app.recordCacheHit('sessions');
    await receiver.waitFor((r) => {
      const { metrics } = received(r);
      return metrics.has('http.server.request.duration') && metrics.has('system.network.io');
    }, 60_000);
  });

  afterAll(async () => {
    await agent?.stop();
    await collector?.stop();
    await receiver.stop();
  });

  it('should reach the backend under the conventions’ names and units, counters without _total', () => {
    const { metrics } = received(receiver.received);
    for (const [name, unit] of [
      ['system.cpu.utilization', '1'],
      ['system.memory.usage', 'By'],
      ['system.network.io', 'By'],
      ['system.cpu.logical.count', '{cpu}'],
      ['http.server.request.duration', 's'],
      ['nodejs.eventloop.utilization', '1'],
      ['perf_monitor.cache.hits', '{hit}'],
      ['perf_monitor.collections', '{collection}'],
    ] as const) {
      expect(metrics.get(name)?.unit, name).toBe(unit);
    }
    for (const name of metrics.keys()) {
      expect(name).not.toMatch(/^multi_agent_system|_total$/);
      expect(name).toMatch(/^(system|process|http|db|nodejs|v8js|perf_monitor)\./);
    }
    const cpu = points(metrics.get('system.cpu.utilization'))[0]!.asDouble!;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
    expect(metrics.get('perf_monitor.collections')?.sum?.isMonotonic).toBe(true);
    expect(metrics.get('system.network.io')?.sum?.isMonotonic).toBe(true);
    expect(metrics.get('system.cpu.logical.count')?.sum?.isMonotonic ?? false).toBe(false);
    expect(metrics.get('system.cpu.logical.count')?.sum).toBeDefined();
  });

  it('should carry the conventions’ attributes', () => {
    const { metrics } = received(receiver.received);
    const memoryStates = points(metrics.get('system.memory.usage')).map(
      (p) => attrs(p.attributes)['system.memory.state']?.stringValue,
    );
    expect(memoryStates.sort()).toEqual(['available', 'used']);
    const lo = points(metrics.get('system.network.io'))
      .map((p) => attrs(p.attributes))
      .filter((a) => a['network.interface.name']?.stringValue === 'lo')
      .map((a) => a['network.io.direction']?.stringValue);
    expect(lo.sort()).toEqual(['receive', 'transmit']);
    const http = attrs(points(metrics.get('http.server.request.duration'))[0]!.attributes);
    expect(http['http.route']?.stringValue).toBe('/users/:id');
    expect(http['http.request.method']?.stringValue).toBe('GET');
    expect(Number(http['http.response.status_code']?.intValue)).toBe(200);
    expect(points(metrics.get('http.server.request.duration'))[0]!.count).toBe('1');
  });

  it('should send the conventions’ resource attributes, not the Prometheus labels that repeat them', () => {
    const { resource } = received(receiver.received);
    expect(resource['service.name']?.stringValue).toBe('perf-monitor-agent');
    expect(resource['deployment.environment.name']?.stringValue).toBe('integration');
    expect(resource['host.name']?.stringValue).toBeTruthy();
    expect(resource['service.instance.id']?.stringValue).toBeTruthy();
    expect(resource['team']?.stringValue).toBe('core');
    for (const label of ['agent_instance', 'version', 'environment'])
      expect(resource[label], label).toBeUndefined();
  });

  it('should keep the seed names on the agent’s own /metrics', async () => {
    const { text } = await getText(`${agent.url!}/metrics`);
    expect(seriesValue(text, 'multi_agent_system_cpu_percent')).toBeDefined();
    expect(seriesValue(text, 'multi_agent_system_cache_hits_total', 'cache_name="sessions"')).toBe(1);
    expect(text).not.toContain('system.cpu.utilization');
  });
});
