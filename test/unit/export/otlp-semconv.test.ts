/**
 * SemconvRenamer on a collection as the pipeline makes it (PointProducer for gauges and counters, a SeriesTable
 * for a histogram): convention names, units and attributes, percent → ratio, merged read/write pairs, counters
 * without `_total` that stay monotonic sums, gauges the conventions make updowncounters as non-monotonic sums,
 * our namespace, config names for the configuration's own metrics, and the resource.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { catalogEntry, instrumentName } from '../../../src/catalog/catalog.js';
import type { CatalogEntry } from '../../../src/catalog/catalog.js';
import { SemconvRenamer, semconvResourceAttributes } from '../../../src/export/otlp-semconv.js';
import { ManualClock } from '../../../src/lib/clock.js';
import type { MetricPoint } from '../../../src/model/metric.js';
import { CUMULATIVE, GAUGE_POINTS, HISTOGRAM_POINTS, SUM_POINTS } from '../../../src/model/otel-constants.js';
import { StaticResource } from '../../../src/telemetry/static-resource.js';
import { PointProducer } from '../../../src/telemetry/point-producer.js';
import { SeriesTable } from '../../../src/telemetry/series-table.js';

const PREFIX = 'multi_agent_system';
const ORDERS: CatalogEntry = {
  name: 'orders',
  exportedName: 'orders',
  kind: 'counter',
  unit: '1',
  description: 'Orders placed.',
  labels: [],
  group: 'application',
};
const NAMES = [
  'cpu_percent',
  'cpu_count',
  'memory_used_bytes',
  'memory_available_bytes',
  'disk_io_read_bytes',
  'disk_io_write_bytes',
  'network_bytes_sent',
  'cache_hits',
  'monitor_collections',
  'neo4j_query_duration_p99',
];
const ENTRIES = [...NAMES.map((n) => catalogEntry(n)!), ORDERS];

const POINTS: MetricPoint[] = [
  { metric: 'cpu_percent', labels: {}, value: 42 },
  { metric: 'cpu_count', labels: {}, value: 8 },
  { metric: 'memory_used_bytes', labels: {}, value: 3000 },
  { metric: 'memory_available_bytes', labels: {}, value: 1000 },
  { metric: 'disk_io_read_bytes', labels: { device: 'sda' }, value: 512 },
  { metric: 'disk_io_write_bytes', labels: { device: 'sda' }, value: 1024 },
  { metric: 'network_bytes_sent', labels: { interface: 'eth0' }, value: 77 },
  { metric: 'cache_hits', labels: { cache_name: 'sessions' }, value: 2 },
  { metric: 'monitor_collections', labels: {}, value: 5 },
  { metric: 'neo4j_query_duration_p99', labels: {}, value: 250 },
  { metric: 'orders', labels: {}, value: 3 },
];

function apiTable(): SeriesTable {
  const e = catalogEntry('api_request_duration')!;
  const table = new SeriesTable({
    name: instrumentName(PREFIX, e),
    description: e.description,
    unit: e.unit,
    kind: 'histogram',
    labelNames: e.labels,
    boundaries: e.buckets,
    limit: 100,
  });
  table.observe(table.create(['/users/:num', 'GET', '200']), 0.2);
  table.observe(table.create(['/users/:num', 'GET', 'timeout']), 0.3);
  return table;
}

const RESOURCE_ATTRIBUTES: Attributes = {
  'service.name': 'perf-monitor-agent',
  'service.version': '1.2.3',
  'service.instance.id': 'host-a',
  'host.name': 'host-a',
  'deployment.environment.name': 'prod',
  agent_instance: 'host-a',
  version: '1.2.3',
  environment: 'prod',
  team: 'core',
};

async function collection(clock: ManualClock): Promise<ResourceMetrics> {
  const producer = new PointProducer({
    clock,
    scope: { name: 'perf-monitor-agent' },
    prefix: PREFIX,
    entries: ENTRIES,
    sources: [() => POINTS],
  });
  const { resourceMetrics } = await producer.collect();
  const api = apiTable().toMetricData([1, 0], [2, 0])!;
  const metrics = [...resourceMetrics.scopeMetrics[0]!.metrics, api];
  return {
    resource: new StaticResource(RESOURCE_ATTRIBUTES),
    scopeMetrics: [{ scope: { name: 'perf-monitor-agent' }, metrics }],
  };
}

function renamer(): SemconvRenamer {
  const names = new Map<string, string>();
  for (const e of [...ENTRIES, catalogEntry('api_request_duration')!])
    names.set(instrumentName(PREFIX, e), e.name);
  return new SemconvRenamer({
    nameOf: (n) => names.get(n) ?? n,
    resourceOf: (a) => new StaticResource(a),
  });
}

function byName(rm: ResourceMetrics): Map<string, MetricData> {
  return new Map(rm.scopeMetrics[0]!.metrics.map((m) => [m.descriptor.name, m]));
}

describe('SemconvRenamer', () => {
  it('should use the conventions for names, units and attributes, merging parts into one metric', async () => {
    const clock = new ManualClock();
    const original = await collection(clock);
    const metrics = byName(renamer().convert(original));
    expect([...metrics.keys()].sort()).toEqual([
      'http.server.request.duration',
      'orders',
      'perf_monitor.cache.hits',
      'perf_monitor.collections',
      'perf_monitor.neo4j.query.duration.p99',
      'system.cpu.logical.count',
      'system.cpu.utilization',
      'system.disk.io',
      'system.memory.usage',
      'system.network.io',
    ]);
    const cpu = metrics.get('system.cpu.utilization')!;
    expect(cpu.descriptor.unit).toBe('1');
    expect(cpu.dataPointType).toBe(GAUGE_POINTS);
    expect(cpu.dataPoints.map((p) => p.value)).toEqual([0.42]);

    const disk = metrics.get('system.disk.io')!;
    expect(disk.dataPointType).toBe(SUM_POINTS);
    expect(disk.dataPointType === SUM_POINTS && disk.isMonotonic).toBe(true);
    expect(disk.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'system.device.name': 'sda', 'disk.io.direction': 'read' }, 512],
      [{ 'system.device.name': 'sda', 'disk.io.direction': 'write' }, 1024],
    ]);
    expect(metrics.get('system.network.io')!.dataPoints[0]!.attributes).toEqual({
      'network.interface.name': 'eth0',
      'network.io.direction': 'transmit',
    });
    expect(metrics.get('perf_monitor.neo4j.query.duration.p99')!.dataPoints[0]!.value).toBe(0.25);
    expect(metrics.get('perf_monitor.neo4j.query.duration.p99')!.descriptor.unit).toBe('s');
    // The Prometheus side reads the same collection: it is not modified.
    expect(original.scopeMetrics[0]!.metrics.map((m) => m.descriptor.name)).toContain(
      'multi_agent_system_cpu_percent',
    );
    expect(original.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.value).toBe(42);
  });

  it('should send counters without _total as monotonic cumulative sums, ours and the configuration’s', async () => {
    const metrics = byName(renamer().convert(await collection(new ManualClock())));
    for (const name of ['perf_monitor.cache.hits', 'perf_monitor.collections', 'orders']) {
      const m = metrics.get(name)!;
      expect(m.dataPointType, name).toBe(SUM_POINTS);
      expect(m.dataPointType === SUM_POINTS && m.isMonotonic, name).toBe(true);
      expect(m.aggregationTemporality, name).toBe(CUMULATIVE);
    }
    expect(metrics.get('perf_monitor.cache.hits')!.dataPoints[0]!.attributes).toEqual({
      cache_name: 'sessions',
    });
    expect(metrics.get('orders')!.dataPoints[0]!.value).toBe(3);
  });

  it('should send updowncounters as non-monotonic cumulative sums with one start time', async () => {
    const clock = new ManualClock();
    const r = renamer();
    const first = byName(r.convert(await collection(clock))).get('system.memory.usage')!;
    await clock.advance(15_000);
    const second = byName(r.convert(await collection(clock))).get('system.memory.usage')!;
    for (const m of [first, second]) {
      expect(m.dataPointType).toBe(SUM_POINTS);
      expect(m.dataPointType === SUM_POINTS && m.isMonotonic).toBe(false);
      expect(m.aggregationTemporality).toBe(CUMULATIVE);
      expect(m.descriptor.unit).toBe('By');
      expect(m.dataPoints.map((p) => [p.attributes['system.memory.state'], p.value])).toEqual([
        ['used', 3000],
        ['available', 1000],
      ]);
    }
    expect(second.dataPoints[0]!.startTime).toEqual(first.dataPoints[0]!.startTime);
    expect(second.dataPoints[0]!.endTime).not.toEqual(first.dataPoints[0]!.endTime);
  });

  it('should rename the HTTP attributes of a histogram, the status code as a number', async () => {
    const m = byName(renamer().convert(await collection(new ManualClock()))).get(
      'http.server.request.duration',
    )!;
    expect(m.dataPointType).toBe(HISTOGRAM_POINTS);
    expect(m.descriptor.unit).toBe('s');
    expect(m.dataPoints.map((p) => p.attributes)).toEqual([
      { 'http.route': '/users/:num', 'http.request.method': 'GET', 'http.response.status_code': 200 },
      { 'http.route': '/users/:num', 'http.request.method': 'GET', 'http.response.status_code': 'timeout' },
    ]);
    const value = m.dataPointType === HISTOGRAM_POINTS ? m.dataPoints[0]!.value : undefined;
    expect(value?.count).toBe(1);
    expect(value?.sum).toBe(0.2);
  });

  it('should send the conventions’ resource attributes without the labels that repeat them', async () => {
    const made: Attributes[] = [];
    const r = new SemconvRenamer({
      nameOf: (n) => n,
      resourceOf: (a): Resource => {
        made.push(a);
        return new StaticResource(a);
      },
    });
    const rm = await collection(new ManualClock());
    const out = r.convert(rm);
    r.convert(rm);
    expect(out.resource.attributes).toEqual({
      'service.name': 'perf-monitor-agent',
      'service.version': '1.2.3',
      'service.instance.id': 'host-a',
      'host.name': 'host-a',
      'deployment.environment.name': 'prod',
      team: 'core',
    });
    expect(made).toHaveLength(1);
    // A label whose convention attribute is absent stays.
    expect(semconvResourceAttributes({ environment: 'dev' })).toEqual({ environment: 'dev' });
  });
});
