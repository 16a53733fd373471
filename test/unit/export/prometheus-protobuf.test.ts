import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { hrTime } from '../../../src/model/otel-constants.js';
import {
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_PROTOBUF_CONTENT_TYPE,
  PrometheusSnapshot,
  prefersProtobuf,
  serveMetrics,
} from '../../../src/export/prometheus.js';
import { serializePrometheusProtobuf } from '../../../src/export/prometheus-protobuf.js';
import { serializePrometheus } from '../../../src/export/prometheus-text.js';
import { SeriesTable } from '../../../src/telemetry/series-table.js';
import { createTestMeter, send } from './helpers.js';
import type { TestMeter } from './helpers.js';

/** io.prometheus.client's metrics.proto (client_model), the messages the exposition uses. */
const PROTO = `
syntax = "proto2";
package io.prometheus.client;
message LabelPair { optional string name = 1; optional string value = 2; }
enum MetricType { COUNTER = 0; GAUGE = 1; SUMMARY = 2; UNTYPED = 3; HISTOGRAM = 4; GAUGE_HISTOGRAM = 5; }
message Gauge { optional double value = 1; }
message Counter { optional double value = 1; }
message Untyped { optional double value = 1; }
message Bucket { optional uint64 cumulative_count = 1; optional double cumulative_count_float = 4; optional double upper_bound = 2; }
message BucketSpan { optional sint32 offset = 1; optional uint32 length = 2; }
message Histogram {
  optional uint64 sample_count = 1; optional double sample_count_float = 4; optional double sample_sum = 2;
  repeated Bucket bucket = 3;
  optional sint32 schema = 5; optional double zero_threshold = 6; optional uint64 zero_count = 7;
  optional double zero_count_float = 8;
  repeated BucketSpan negative_span = 9; repeated sint64 negative_delta = 10; repeated double negative_count = 11;
  repeated BucketSpan positive_span = 12; repeated sint64 positive_delta = 13; repeated double positive_count = 14;
}
message Metric {
  repeated LabelPair label = 1; optional Gauge gauge = 2; optional Counter counter = 3; optional Untyped untyped = 5;
  optional Histogram histogram = 7; optional int64 timestamp_ms = 6;
}
message MetricFamily { optional string name = 1; optional string help = 2; optional MetricType type = 3; repeated Metric metric = 4; }
`;

const MetricFamily = protobuf
  .parse(PROTO, { keepCase: true })
  .root.lookupType('io.prometheus.client.MetricFamily');

interface Span {
  offset?: number;
  length?: number;
}
interface DecodedHistogram {
  sample_count: number;
  sample_sum: number;
  bucket: { cumulative_count: number; upper_bound: number }[];
  schema?: number;
  zero_threshold?: number;
  zero_count?: number;
  positive_span?: Span[];
  positive_delta?: number[];
  negative_span?: Span[];
  negative_delta?: number[];
}
interface DecodedFamily {
  name: string;
  help: string;
  type: number;
  metric: {
    label: { name: string; value: string }[];
    gauge?: { value: number };
    counter?: { value: number };
    histogram?: DecodedHistogram;
  }[];
}

function decode(buf: Buffer): DecodedFamily[] {
  const reader = protobuf.Reader.create(buf);
  const out: DecodedFamily[] = [];
  while (reader.pos < reader.len) {
    const message = MetricFamily.decodeDelimited(reader);
    out.push(MetricFamily.toObject(message, { longs: Number, enums: Number, arrays: true }) as DecodedFamily);
  }
  return out;
}

/** Prometheus native buckets (spans and deltas) → index → count, Prometheus' indexes. */
function nativeCounts(spans: Span[] = [], deltas: number[] = []): Map<number, number> {
  const out = new Map<number, number>();
  let index = 0;
  let d = 0;
  let count = 0;
  for (const s of spans) {
    index += s.offset ?? 0;
    for (let k = 0; k < (s.length ?? 0); k++) {
      count += deltas[d++]!;
      if (count !== 0) out.set(index, count);
      index++;
    }
  }
  return out;
}

const CONSTANT_LABELS = new Set(['environment', 'agent_instance', 'version']);
const VALUES = [0, 0.003, 0.05, 0.3, 0.3, 2, 17, 600];

let meter: TestMeter;

beforeEach(() => {
  meter = createTestMeter();
});

afterEach(async () => {
  await meter.provider.shutdown();
});

/** Counters and a gauge from the SDK, and a series-table histogram keeping exponential buckets. */
async function collection(exponential = true): Promise<ResourceMetrics> {
  const m = meter.provider.getMeter('perf-monitor-agent', '0.1.0');
  const requests = m.createCounter('multi_agent_system_requests_total', { description: 'Requests handled.' });
  const queue = m.createGauge('multi_agent_system_queue_depth', { description: 'Items waiting.' });
  requests.add(3, { route: '/a' });
  requests.add(1, { route: '/b' });
  queue.record(7);
  const table = new SeriesTable({
    name: 'multi_agent_system_latency_seconds',
    description: 'Request latency.',
    unit: 's',
    kind: 'histogram',
    labelNames: ['route'],
    boundaries: [0.1, 0.5, 1],
    limit: 10,
    exponential,
  });
  const a = table.create(['/a']);
  for (const v of VALUES) table.observe(a, v);
  table.observe(table.create(['/b']), 0.2);
  const rm = await meter.collect();
  const now = hrTime(new ManualClock(0).nowMs());
  rm.scopeMetrics.push({ scope: { name: 'tables' }, metrics: [table.toMetricData(now, now)!] });
  return rm;
}

describe('serializePrometheusProtobuf', () => {
  it('writes the families of the text format, with the same names, types, help and series', async () => {
    const rm = await collection();
    const families = decode(serializePrometheusProtobuf(rm, CONSTANT_LABELS));
    const text = serializePrometheus(rm, CONSTANT_LABELS);
    const textTypes = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    const typeName = ['counter', 'gauge', 'summary', 'untyped', 'histogram'];
    expect(families.map((f) => [f.name, typeName[f.type]])).toEqual(textTypes);
    const requests = families.find((f) => f.name === 'multi_agent_system_requests_total')!;
    expect(requests.help).toBe('Requests handled.');
    expect(requests.metric.map((x) => [x.label, x.counter?.value])).toEqual([
      [
        [
          { name: 'route', value: '/a' },
          { name: 'environment', value: 'test' },
          { name: 'agent_instance', value: 'host-1' },
          { name: 'version', value: '1.2.3' },
        ],
        3,
      ],
      [expect.arrayContaining([{ name: 'route', value: '/b' }]), 1],
    ]);
    expect(families.find((f) => f.name === 'multi_agent_system_queue_depth')!.metric[0]!.gauge?.value).toBe(
      7,
    );
    const target = families[0]!;
    expect(target.name).toBe('target_info');
    expect(target.metric[0]!.label).toContainEqual({ name: 'service_name', value: 'checkout' });
  });

  it("writes the classic buckets, count and sum exactly as the text's", async () => {
    const rm = await collection();
    const families = decode(serializePrometheusProtobuf(rm, CONSTANT_LABELS));
    const text = serializePrometheus(rm, CONSTANT_LABELS);
    const latency = families.find((f) => f.name === 'multi_agent_system_latency_seconds')!;
    expect(latency.type).toBe(4);
    for (const metric of latency.metric) {
      const route = metric.label.find((l) => l.name === 'route')!.value;
      const lines = text.split('\n').filter((l) => l.includes(`route="${route}"`));
      const value = (suffix: string, le?: string): number =>
        Number(
          lines
            .find(
              (l) =>
                l.startsWith(`multi_agent_system_latency_seconds_${suffix}{`) &&
                (le === undefined || l.includes(`le="${le}"`)),
            )!
            .split(' ')
            .pop(),
        );
      const h = metric.histogram!;
      expect(h.sample_count).toBe(value('count'));
      expect(h.sample_sum).toBe(value('sum'));
      expect(h.bucket.map((b) => [b.upper_bound, b.cumulative_count])).toEqual(
        ['0.1', '0.5', '1', '+Inf'].map((le) => [le === '+Inf' ? Infinity : Number(le), value('bucket', le)]),
      );
    }
  });

  it('writes the native buckets: schema, zero bucket, spans and deltas that decode to every observation', async () => {
    const rm = await collection();
    const latency = decode(serializePrometheusProtobuf(rm, CONSTANT_LABELS)).find(
      (f) => f.name === 'multi_agent_system_latency_seconds',
    )!;
    const h = latency.metric[0]!.histogram!;
    // 0.003 .. 600 is a range of 2^17.6: 160 buckets hold it at scale 3 (2^(1/8) per bucket).
    expect(h.schema).toBe(3);
    expect(h.zero_threshold).toBe(0);
    expect(h.zero_count).toBe(1);
    expect(h.negative_span ?? []).toEqual([]);
    const counts = nativeCounts(h.positive_span, h.positive_delta);
    const base = 2 ** (2 ** -h.schema!);
    // Prometheus' bucket i holds (base^(i-1), base^i]: every non-zero value lands in the bucket that holds it.
    const expected = new Map<number, number>();
    for (const v of VALUES.filter((x) => x > 0)) {
      const i = [...Array(400).keys()]
        .map((k) => k - 200)
        .find((k) => base ** (k - 1) < v && v <= base ** k)!;
      expected.set(i, (expected.get(i) ?? 0) + 1);
    }
    expect(counts).toEqual(expected);
  });

  it('writes a no-op span for a native histogram with nothing but zeros, and no native fields when off', async () => {
    const table = new SeriesTable({
      name: 'zeros_seconds',
      description: 'Zeros.',
      unit: 's',
      kind: 'histogram',
      labelNames: [],
      boundaries: [1],
      limit: 1,
      exponential: true,
    });
    table.observe(table.create([]), 0);
    const rm = await meter.collect();
    rm.scopeMetrics.push({ scope: { name: 't' }, metrics: [table.toMetricData([0, 0], [0, 0])!] });
    const h = decode(serializePrometheusProtobuf(rm, CONSTANT_LABELS)).find(
      (f) => f.name === 'zeros_seconds',
    )!.metric[0]!.histogram!;
    expect(h.zero_count).toBe(1);
    expect(h.positive_span).toEqual([{}]); // offset 0, length 0: defaults are not written
    const off = decode(serializePrometheusProtobuf(await collection(false), CONSTANT_LABELS)).find(
      (f) => f.name === 'multi_agent_system_latency_seconds',
    )!.metric[0]!.histogram!;
    expect(off.schema).toBeUndefined();
    expect(off.positive_span).toEqual([]);
  });
});

describe('prefersProtobuf', () => {
  it.each<[string | undefined, boolean]>([
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1',
      true,
    ],
    ['application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited', true],
    ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text', false],
    ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0', false],
    [
      'text/plain;version=0.0.4;q=0.9,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5',
      false,
    ],
    ['text/plain;version=0.0.4;q=0.3,*/*;q=0.2', false],
    ['*/*', false],
    [undefined, false],
  ])('Accept %s → %s', (accept, expected) => {
    expect(prefersProtobuf(accept)).toBe(expected);
  });
});

describe('serveMetrics with native histograms on', () => {
  let server: http.Server | undefined;
  let snapshot: PrometheusSnapshot;
  let url: string;
  const PROMETHEUS_ACCEPT =
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

  beforeEach(async () => {
    snapshot = new PrometheusSnapshot({
      constantLabels: [...CONSTANT_LABELS],
      protobuf: serializePrometheusProtobuf,
    });
    const s = http.createServer((req, res) => serveMetrics(req, res, snapshot.current(), () => undefined));
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`;
  });

  afterEach(async () => {
    const s = server;
    server = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  it('serves the protobuf to a scraper that prefers it, gzipped when accepted, and text to the others', async () => {
    const rm = await collection();
    snapshot.update(rm, 0);
    const proto = await send(url, { headers: { Accept: PROMETHEUS_ACCEPT, 'Accept-Encoding': 'gzip' } });
    expect(proto.status).toBe(200);
    expect(proto.headers['content-type']).toBe(PROMETHEUS_PROTOBUF_CONTENT_TYPE);
    expect(proto.headers['content-encoding']).toBe('gzip');
    expect(proto.headers.vary).toBe('Accept, Accept-Encoding');
    expect(gunzipSync(proto.body)).toEqual(serializePrometheusProtobuf(rm, CONSTANT_LABELS));
    const plain = await send(url, { headers: { Accept: PROMETHEUS_ACCEPT } });
    expect(plain.body).toEqual(serializePrometheusProtobuf(rm, CONSTANT_LABELS));
    const text = await send(url);
    expect(text.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(text.text).toBe(serializePrometheus(rm, CONSTANT_LABELS));
  });
});
