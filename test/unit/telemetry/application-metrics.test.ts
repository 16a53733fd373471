import v8 from 'node:v8';
import vm from 'node:vm';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { HistogramMetricData, MetricData, SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { guardedFailures } from '../../../src/lib/guard.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { ApplicationMetrics, DROP_WARNING_INTERVAL_MS } from '../../../src/telemetry/application-metrics.js';
import { OVERFLOW_LABEL_VALUE, SeriesProducer } from '../../../src/telemetry/series-table.js';

function bound(yaml = 'performance_monitor: {}\n'): {
  app: ApplicationMetrics;
  clock: ManualClock;
  logger: MemoryLogger;
  collect: () => Promise<MetricData[]>;
} {
  const clock = new ManualClock(Date.UTC(2026, 10, 1));
  const logger = new MemoryLogger();
  const app = new ApplicationMetrics();
  app.bind(parseConfigText(yaml, 'test.yaml', {}), { clock, logger });
  const producer = new SeriesProducer(clock, { name: 'test' });
  producer.addSource(() => app.tables());
  const collect = async (): Promise<MetricData[]> =>
    (await producer.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  return { app, clock, logger, collect };
}

function metric<T extends MetricData>(data: MetricData[], name: string): T {
  const m = data.find((d) => d.descriptor.name === name);
  if (m === undefined) throw new Error(`no ${name} in ${data.map((d) => d.descriptor.name).join(', ')}`);
  return m as T;
}

function heapUsedAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('ApplicationMetrics', () => {
  it('should record a request into the histogram (config buckets) and the counter with the same labels', async () => {
    const { app, collect } = bound(`
performance_monitor:
  application_metrics:
    - { name: api_request_duration, buckets: [0.1, 1] }
`);
    app.recordApiRequest('/a', 'GET', 0.05, 200);
    app.recordApiRequest('/a', 'GET', 0.1, 200);
    app.recordApiRequest('/a', 'GET', 3, 200);
    app.recordApiRequest('/b', 'POST', 0.5, '201');
    const data = await collect();
    const h = metric<HistogramMetricData>(data, 'multi_agent_system_api_request_duration');
    expect(h.dataPointType).toBe(DataPointType.HISTOGRAM);
    const a = h.dataPoints.find((p) => p.attributes.endpoint === '/a')!;
    expect(a.attributes).toEqual({ endpoint: '/a', method: 'GET', status: '200' });
    expect(a.value.buckets).toEqual({ boundaries: [0.1, 1], counts: [2, 0, 1] });
    expect(a.value.count).toBe(3);
    expect(a.value.sum).toBeCloseTo(3.15);
    expect(a.value.min).toBe(0.05);
    expect(a.value.max).toBe(3);
    const c = metric<SumMetricData>(data, 'multi_agent_system_api_request_count_total');
    expect(c.isMonotonic).toBe(true);
    expect(c.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ endpoint: '/a', method: 'GET', status: '200' }, 3],
      [{ endpoint: '/b', method: 'POST', status: '201' }, 1],
    ]);
  });

  it('should keep only the configured labels, in the configured order', async () => {
    const { app, collect } = bound(`
performance_monitor:
  application_metrics:
    - { name: api_request_count, labels: [status, endpoint] }
`);
    app.recordApiRequest('/a', 'GET', 0.1, 200);
    app.recordApiRequest('/a', 'POST', 0.1, 200);
    const c = metric<SumMetricData>(await collect(), 'multi_agent_system_api_request_count_total');
    expect(c.dataPoints.map((p) => [Object.keys(p.attributes), p.value])).toEqual([
      [['status', 'endpoint'], 2],
    ]);
  });

  it('should record every seed method into its metric', async () => {
    const { app, collect } = bound();
    app.recordAgentExecution('planner', 2, 'success');
    app.recordAgentError('planner', 'Timeout');
    app.recordApiError('/a', 'GET', 'ValidationError');
    app.setQueueLength('jobs', 7);
    app.setQueueLength('jobs', 4);
    app.recordQueueProcessing('jobs', 0.2, 3);
    app.recordEntityProcessing('user', 'create', 0.01);
    app.recordCacheHit('c');
    app.recordCacheHit('c');
    app.recordCacheMiss('c');
    app.setCacheSize('c', 12);
    const data = await collect();
    const value = (name: string): number =>
      metric(data, `multi_agent_system_${name}`).dataPoints[0]!.value as number;
    expect(value('agent_execution_count_total')).toBe(1);
    expect(value('agent_error_count_total')).toBe(1);
    expect(value('api_error_count_total')).toBe(1);
    expect(value('queue_length')).toBe(4);
    expect(value('queue_items_processed_total')).toBe(3);
    expect(value('entities_processed_total')).toBe(1);
    expect(value('cache_hits_total')).toBe(2);
    expect(value('cache_misses_total')).toBe(1);
    expect(value('cache_size')).toBe(12);
    const agent = metric<HistogramMetricData>(data, 'multi_agent_system_agent_execution_time');
    expect(agent.dataPoints[0]!.attributes).toEqual({ agent_name: 'planner', status: 'success' });
    expect(agent.dataPoints[0]!.value.buckets.counts).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0]);
    const entity = metric<HistogramMetricData>(data, 'multi_agent_system_entities_processing_time');
    expect(entity.dataPoints[0]!.attributes).toEqual({ entity_type: 'user', operation: 'create' });
  });

  it('should have no table for a disabled metric, nor for any when the application collector is off', async () => {
    const one = bound(`
performance_monitor:
  application_metrics:
    - { name: cache_hits, enabled: false }
`);
    one.app.recordCacheHit('c');
    expect((await one.collect()).map((d) => d.descriptor.name)).not.toContain(
      'multi_agent_system_cache_hits_total',
    );
    expect(one.app.tables().map((t) => t.opts.name)).not.toContain('multi_agent_system_cache_hits_total');
    const none = bound('performance_monitor: { enabled_collectors: [system] }\n');
    none.app.recordApiRequest('/a', 'GET', 1, 200);
    expect(none.app.tables()).toEqual([]);
  });

  it('should drop bad input without throwing, count it by metric and reason, and warn once a minute', async () => {
    const { app, clock, logger, collect } = bound(`
performance_monitor:
  application_metrics:
    - { name: jobs_latency, type: histogram, labels: [queue, kind], buckets: [1] }
`);
    const loose = app as unknown as Record<string, (...args: unknown[]) => void>;
    expect(() => {
      app.recordApiRequest('/a', 'GET', -1, 200);
      app.recordApiRequest('/a', 'GET', Number.NaN, 200);
      app.recordApiRequest('/a', 'GET', Infinity, 200);
      loose.recordApiRequest!('/a', undefined, 0.1, 200);
      loose.recordCacheHit!({ toString: () => 'x' });
      app.recordApiRequest('x'.repeat(257), 'GET', 0.1, 200);
      app.setQueueLength('q', Number.NaN);
      app.record('jobs_latency', 0.5, ['a']);
      app.record('jobs_latency', -0.5, ['a', 'b']);
      app.record('jobs_latency', 0.5, ['a', 'b']);
    }).not.toThrow();
    expect(app.droppedMeasurements).toBe(9);
    expect([...app.selfPoints()].map((p) => [p.metric, p.labels, p.value])).toEqual(
      expect.arrayContaining([
        [
          'monitor_application_dropped_measurements',
          { metric: 'api_request_duration', reason: 'invalid_value' },
          3,
        ],
        [
          'monitor_application_dropped_measurements',
          { metric: 'api_request_duration', reason: 'wrong_label_count' },
          1,
        ],
        [
          'monitor_application_dropped_measurements',
          { metric: 'api_request_duration', reason: 'label_too_long' },
          1,
        ],
        [
          'monitor_application_dropped_measurements',
          { metric: 'cache_hits', reason: 'wrong_label_count' },
          1,
        ],
        ['monitor_application_dropped_measurements', { metric: 'queue_length', reason: 'invalid_value' }, 1],
        [
          'monitor_application_dropped_measurements',
          { metric: 'jobs_latency', reason: 'wrong_label_count' },
          1,
        ],
        ['monitor_application_dropped_measurements', { metric: 'jobs_latency', reason: 'invalid_value' }, 1],
      ]),
    );
    expect(logger.find('warn', 'application measurements dropped')).toHaveLength(1);
    await clock.advance(DROP_WARNING_INTERVAL_MS);
    app.recordApiRequest('/a', 'GET', -1, 200);
    const warnings = logger.find('warn', 'application measurements dropped');
    expect(warnings).toHaveLength(2);
    expect(warnings[1]!.fields).toMatchObject({
      metric: 'api_request_duration',
      reason: 'invalid_value',
      dropped: 9,
    });
    // The one good custom measurement went through.
    const custom = metric<HistogramMetricData>(await collect(), 'multi_agent_system_jobs_latency');
    expect(custom.dataPoints.map((p) => [p.attributes, p.value.count])).toEqual([
      [{ queue: 'a', kind: 'b' }, 1],
    ]);
  });

  it('should send label sets past the cardinality limit to one overflow series and count them', async () => {
    const { app, collect } = bound('performance_monitor: { application_cardinality_limit: 3 }\n');
    for (let i = 0; i < 10; i++) app.recordApiRequest(`/e${i}`, 'GET', 0.1, 200);
    app.recordApiRequest('/e1', 'GET', 0.1, 200); // an existing series keeps recording
    const c = metric<SumMetricData>(await collect(), 'multi_agent_system_api_request_count_total');
    expect(c.dataPoints.map((p) => [p.attributes.endpoint, p.value])).toEqual([
      ['/e0', 1],
      ['/e1', 2],
      ['/e2', 1],
      [OVERFLOW_LABEL_VALUE, 7],
    ]);
    expect(c.dataPoints[3]!.attributes).toEqual({
      endpoint: OVERFLOW_LABEL_VALUE,
      method: OVERFLOW_LABEL_VALUE,
      status: OVERFLOW_LABEL_VALUE,
    });
    const overflow = [...app.selfPoints()].filter(
      (p) => p.metric === 'monitor_application_overflow_measurements' && p.value > 0,
    );
    expect(overflow.map((p) => [p.labels, p.value])).toEqual([
      [{ metric: 'api_request_duration' }, 7],
      [{ metric: 'api_request_count' }, 7],
    ]);
  });

  it('should export the overflow counter of every enabled metric at 0 before anything overflows', () => {
    const { app } = bound();
    app.recordApiRequest('/e0', 'GET', 0.1, 200);
    const overflow = [...app.selfPoints()].filter(
      (p) => p.metric === 'monitor_application_overflow_measurements',
    );
    expect(overflow.map((p) => p.labels.metric)).toEqual(
      expect.arrayContaining(['api_request_duration', 'api_request_count', 'queue_length', 'cache_size']),
    );
    expect(overflow.every((p) => p.value === 0)).toBe(true);
  });

  it('should keep memory flat when 1,000,000 distinct endpoints are recorded', async () => {
    const { app, collect } = bound();
    const before = heapUsedAfterGc();
    for (let i = 0; i < 1_000_000; i++) app.recordApiRequest(`/users/${i}/profile`, 'GET', 0.01, 200);
    const after = heapUsedAfterGc();
    const tables = app.tables().filter((t) => t.opts.name.includes('api_request'));
    expect(tables.map((t) => t.size)).toEqual([2001, 2001]);
    expect(tables.map((t) => t.overflowed)).toEqual([998_000, 998_000]);
    // Unbounded, 2 × 1,000,000 series (a histogram with 12 buckets and a counter, each with its label
    // strings and Map entries) would take several hundred MB; the 2 × 2001 kept take about 1 MB.
    expect(after - before).toBeLessThan(16 * 1024 * 1024);
    const h = metric<HistogramMetricData>(await collect(), 'multi_agent_system_api_request_duration');
    expect(h.dataPoints).toHaveLength(2001);
    expect(h.dataPoints.reduce((n, p) => n + p.value.count, 0)).toBe(1_000_000);
  }, 60_000); // a million calls take seconds under coverage on a busy machine

  it('should replay what was recorded before the first bind, and nothing after a metric is disabled', () => {
    const app = new ApplicationMetrics();
    app.recordCacheHit('early');
    app.recordApiRequest('/early', 'GET', 0.1, 200);
    app.bind(
      parseConfigText(
        'performance_monitor:\n  application_metrics:\n    - { name: cache_hits, enabled: false }\n',
        'test.yaml',
        {},
      ),
      { clock: new ManualClock() },
    );
    app.recordApiRequest('/late', 'GET', 0.1, 200);
    const count = app.tables().find((t) => t.opts.name.endsWith('api_request_count_total'))!;
    expect([...count.series()].map((s) => [s.labels[0], s.value])).toEqual([
      ['/early', 1],
      ['/late', 1],
    ]);
    expect(app.tables().some((t) => t.opts.name.includes('cache_hits'))).toBe(false);
  });

  it('should time sync and async functions and record success or error', async () => {
    const { app, collect } = bound();
    expect(app.timeAgent('sync', () => 42)).toBe(42);
    expect(() =>
      app.timeAgent('sync', () => {
        throw new RangeError('no');
      }),
    ).toThrow(RangeError);
    await expect(app.timeAgent('async', () => Promise.resolve('ok'))).resolves.toBe('ok');
    await expect(app.timeApiRequest('/x', 'GET', () => Promise.reject(new TypeError('bad')))).rejects.toThrow(
      TypeError,
    );
    const data = await collect();
    const runs = metric<SumMetricData>(data, 'multi_agent_system_agent_execution_count_total');
    expect(runs.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ agent_name: 'sync', status: 'success' }, 1],
      [{ agent_name: 'sync', status: 'error' }, 1],
      [{ agent_name: 'async', status: 'success' }, 1],
    ]);
    const errors = metric<SumMetricData>(data, 'multi_agent_system_agent_error_count_total');
    expect(errors.dataPoints.map((p) => p.attributes)).toEqual([
      { agent_name: 'sync', error_type: 'RangeError' },
    ]);
    const api = metric<SumMetricData>(data, 'multi_agent_system_api_error_count_total');
    expect(api.dataPoints.map((p) => p.attributes)).toEqual([
      { endpoint: '/x', method: 'GET', error_type: 'TypeError' },
    ]);
    const req = metric<SumMetricData>(data, 'multi_agent_system_api_request_count_total');
    expect(req.dataPoints.map((p) => p.attributes.status)).toEqual(['error']);
  });

  it('should count a failure of its own recording while timing, and still return what the function returns', async () => {
    class Broken extends ApplicationMetrics {
      override recordAgentExecution(): void {
        throw new Error('broken table');
      }
    }
    const where = 'application metrics timing';
    const before = guardedFailures().get(where) ?? 0;
    const app = new Broken();
    expect(app.timeAgent('sync', () => 42)).toBe(42);
    await expect(app.timeAgent('async', () => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(guardedFailures().get(where)).toBe(before + 2);
  });
});
