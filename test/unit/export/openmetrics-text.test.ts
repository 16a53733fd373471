/**
 * The OpenMetrics exposition: the same series as the text format (what Prometheus stores does not depend on the
 * format it negotiated), counter families without `_total`, `# UNIT` only where the name ends with the unit,
 * exemplars on histogram buckets, `# EOF` last; and the Accept-header negotiation.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMetricsUnit, serializeOpenMetrics } from '../../../src/export/openmetrics-text.js';
import { prefersOpenMetrics } from '../../../src/export/prometheus.js';
import { serializePrometheus } from '../../../src/export/prometheus-text.js';
import { TEST_EXEMPLAR, createTestMeter } from './helpers.js';
import type { TestMeter } from './helpers.js';

const CONSTANT = new Set(['environment']);
const EXEMPLAR = TEST_EXEMPLAR;

let meter: TestMeter;
beforeEach(() => {
  meter = createTestMeter();
});
afterEach(async () => {
  await meter.provider.shutdown();
});

/** A collection with a counter (one named with `_total`, one without), a gauge and a histogram with an exemplar. */
async function collection(): Promise<ResourceMetrics> {
  const m = meter.provider.getMeter('perf-monitor-agent');
  m.createCounter('app_requests_total', { description: 'Requests "handled".' }).add(3, { route: '/a' });
  m.createCounter('app_sent_bytes', { description: 'Bytes sent.', unit: 'By' }).add(1024);
  m.createGauge('app_queue_depth', { description: 'Items\nwaiting.', unit: '{item}' }).record(7);
  m.createGauge('app_cpu', { unit: '%' }).record(12.5);
  const h = m.createHistogram('app_latency_seconds', {
    description: 'Latency.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.1, 0.5] },
  });
  for (const v of [0.05, 0.3, 2]) h.record(v);
  const rm = await meter.collect();
  // The series tables put their exemplars on the histogram value, one slot per bucket.
  const latency = rm.scopeMetrics[0]!.metrics.find((x) => x.descriptor.name === 'app_latency_seconds')!;
  Object.assign(latency.dataPoints[0]!.value as object, { exemplars: [undefined, EXEMPLAR, undefined] });
  return rm;
}

/** `name{labels}` of every sample line, exemplars and comments left out. */
function seriesOf(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(' # ')[0]!.replace(/ [^ ]+$/, ''))
    .sort();
}

describe('serializeOpenMetrics', () => {
  it('should write the collection as OpenMetrics, exemplar included', async () => {
    const rm = await collection();
    expect(serializeOpenMetrics(rm, CONSTANT)).toBe(`# TYPE target_info gauge
# HELP target_info Target metadata
target_info{environment="test",agent_instance="host-1",version="1.2.3",service_name="checkout"} 1
# TYPE app_requests counter
# HELP app_requests Requests \\"handled\\".
app_requests_total{route="/a",environment="test"} 3
# TYPE app_sent_bytes counter
# HELP app_sent_bytes Bytes sent.
# UNIT app_sent_bytes bytes
app_sent_bytes_total{environment="test"} 1024
# TYPE app_queue_depth gauge
# HELP app_queue_depth Items\\nwaiting.
app_queue_depth{environment="test"} 7
# TYPE app_cpu gauge
# HELP app_cpu description missing
app_cpu{environment="test"} 12.5
# TYPE app_latency_seconds histogram
# HELP app_latency_seconds Latency.
# UNIT app_latency_seconds seconds
app_latency_seconds_bucket{environment="test",le="0.1"} 1
app_latency_seconds_bucket{environment="test",le="0.5"} 2 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 0.3 1700000000.123
app_latency_seconds_bucket{environment="test",le="+Inf"} 3
app_latency_seconds_count{environment="test"} 3
app_latency_seconds_sum{environment="test"} 2.35
# EOF
`);
  });

  it('should expose the same series as the text format', async () => {
    const rm = await collection();
    expect(seriesOf(serializeOpenMetrics(rm, CONSTANT))).toEqual(seriesOf(serializePrometheus(rm, CONSTANT)));
  });

  it('should end an empty collection with # EOF and no other comment', async () => {
    const rm = await meter.collect();
    const text = serializeOpenMetrics(rm, CONSTANT);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text.split('\n').filter((l) => l.startsWith('#') && !/^# (TYPE|HELP|EOF)/.test(l))).toEqual([]);
  });
});

describe('openMetricsUnit', () => {
  it('should declare a unit only where the family name ends with it', () => {
    expect(openMetricsUnit('x_duration_seconds', 's')).toBe('seconds');
    expect(openMetricsUnit('x_memory_bytes', 'By')).toBe('bytes');
    expect(openMetricsUnit('x_duration', 's')).toBeUndefined();
    expect(openMetricsUnit('x_packets', '{packet}')).toBeUndefined();
    expect(openMetricsUnit('x_ratio', '1')).toBeUndefined();
    expect(openMetricsUnit('x_ratio', '')).toBeUndefined();
  });
});

describe('prefersOpenMetrics', () => {
  it("should pick OpenMetrics for Prometheus 2.42's default Accept header", () => {
    expect(
      prefersOpenMetrics(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
    ).toBe(true);
  });

  it('should keep the text format for other scrapers', () => {
    expect(prefersOpenMetrics(undefined)).toBe(false);
    expect(prefersOpenMetrics('*/*')).toBe(false);
    expect(prefersOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(prefersOpenMetrics('text/plain;version=0.0.4,application/openmetrics-text;q=0.5')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text;q=0')).toBe(false);
    expect(prefersOpenMetrics(`application/openmetrics-text,${'x'.repeat(2000)}`)).toBe(false);
  });

  it('should accept the header as an array, and a q-value tie', () => {
    expect(prefersOpenMetrics(['text/plain', 'application/openmetrics-text'])).toBe(true);
  });
});
