import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PROMETHEUS_CONTENT_TYPE,
  PrometheusSnapshot,
  acceptsGzip,
  serveMetrics,
} from '../../../src/export/prometheus.js';
import { OPENMETRICS_CONTENT_TYPE } from '../../../src/export/openmetrics-text.js';
import { createTestMeter, send } from './helpers.js';
import type { TestMeter } from './helpers.js';

const CONSTANT_LABELS = ['environment', 'agent_instance', 'version'];
const IDENTITY = 'environment="test",agent_instance="host-1",version="1.2.3"';

/** The exposition of `record()`'s collection, written out by hand. */
const GOLDEN = `# HELP target_info Target metadata
# TYPE target_info gauge
target_info{environment="test",agent_instance="host-1",version="1.2.3",service_name="checkout"} 1
# HELP multi_agent_system_requests_total Requests handled.
# TYPE multi_agent_system_requests_total counter
multi_agent_system_requests_total{route="/a",${IDENTITY}} 3
multi_agent_system_requests_total{route="/b",${IDENTITY}} 1
# HELP multi_agent_system_sent_bytes_total Bytes sent.
# UNIT multi_agent_system_sent_bytes_total By
# TYPE multi_agent_system_sent_bytes_total counter
multi_agent_system_sent_bytes_total{${IDENTITY}} 1024
# HELP multi_agent_system_queue_depth Items waiting.
# TYPE multi_agent_system_queue_depth gauge
multi_agent_system_queue_depth{${IDENTITY}} 7
# HELP multi_agent_system_latency_seconds Request latency.
# UNIT multi_agent_system_latency_seconds s
# TYPE multi_agent_system_latency_seconds histogram
multi_agent_system_latency_seconds_count{${IDENTITY}} 3
multi_agent_system_latency_seconds_sum{${IDENTITY}} 2.35
multi_agent_system_latency_seconds_bucket{${IDENTITY},le="0.1"} 1
multi_agent_system_latency_seconds_bucket{${IDENTITY},le="0.5"} 2
multi_agent_system_latency_seconds_bucket{${IDENTITY},le="1"} 2
multi_agent_system_latency_seconds_bucket{${IDENTITY},le="+Inf"} 3
`;

let meter: TestMeter;

beforeEach(() => {
  meter = createTestMeter();
});

afterEach(async () => {
  await meter.provider.shutdown();
});

/** Records a known set of values on prefix-named instruments and collects them. */
async function record(): Promise<ResourceMetrics> {
  const m = meter.provider.getMeter('perf-monitor-agent', '0.1.0');
  const requests = m.createCounter('multi_agent_system_requests_total', { description: 'Requests handled.' });
  const sent = m.createCounter('multi_agent_system_sent_bytes', { description: 'Bytes sent.', unit: 'By' });
  const queue = m.createGauge('multi_agent_system_queue_depth', { description: 'Items waiting.' });
  const latency = m.createHistogram('multi_agent_system_latency_seconds', {
    description: 'Request latency.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.1, 0.5, 1] },
  });
  requests.add(3, { route: '/a' });
  requests.add(1, { route: '/b' });
  sent.add(1024);
  queue.record(7);
  for (const v of [0.05, 0.3, 2]) latency.record(v);
  return meter.collect();
}

describe('PrometheusSnapshot', () => {
  it('should have no payload before the first update', () => {
    expect(new PrometheusSnapshot({ constantLabels: CONSTANT_LABELS }).current()).toBeUndefined();
  });

  it('should serialize a collection to the exact exposition text', async () => {
    const snapshot = new PrometheusSnapshot({ constantLabels: CONSTANT_LABELS });
    snapshot.update(await record(), 1234);
    const payload = snapshot.current();
    expect(payload?.generatedAtMs).toBe(1234);
    expect(payload?.body.toString('utf8')).toBe(GOLDEN);
  });

  it('should put the constant labels on every series but target_info, and no scope labels', async () => {
    const snapshot = new PrometheusSnapshot({ constantLabels: CONSTANT_LABELS });
    snapshot.update(await record(), 0);
    const series = snapshot
      .current()!
      .body.toString('utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('target_info'));
    expect(series).toHaveLength(10);
    for (const line of series) expect(line).toContain(IDENTITY);
    expect(snapshot.current()!.body.toString('utf8')).not.toContain('otel_scope');
  });

  it('should take only the listed attributes as constant labels, matched whole', async () => {
    // "version" must not pull in a look-alike, and regex characters in names must be literal.
    const attrs = { environment: 'test', 'version.x': 'no', version: '9', 'a.b': 'dot', aXb: 'no' };
    await meter.provider.shutdown();
    meter = createTestMeter(attrs);
    meter.provider.getMeter('m').createGauge('multi_agent_system_up').record(1);
    const snapshot = new PrometheusSnapshot({ constantLabels: ['version', 'a.b'] });
    snapshot.update(await meter.collect(), 0);
    const text = snapshot.current()!.body.toString('utf8');
    expect(text).toContain('multi_agent_system_up{version="9",a_b="dot"} 1\n');
  });

  it('should add no labels when there are no constant labels', async () => {
    meter.provider.getMeter('m').createGauge('multi_agent_system_up').record(1);
    const snapshot = new PrometheusSnapshot({ constantLabels: [] });
    snapshot.update(await meter.collect(), 0);
    expect(snapshot.current()!.body.toString('utf8')).toContain('\nmulti_agent_system_up 1\n');
  });

  it('should serialize on first read, once per update, whichever form is read first', async () => {
    const snapshot = new PrometheusSnapshot({ constantLabels: CONSTANT_LABELS });
    snapshot.update(await record(), 0);
    const payload = snapshot.current()!;
    const gz = payload.gzipped();
    const body = payload.body;
    expect(payload.body).toBe(body);
    expect(gunzipSync(gz).equals(body)).toBe(true);
    expect(body.toString('utf8')).toBe(GOLDEN);
  });

  it('should give a payload no accessor of its own (no hidden class per collection, collection-reader.ts)', async () => {
    const snapshot = new PrometheusSnapshot({ constantLabels: CONSTANT_LABELS });
    snapshot.update(await record(), 0);
    const own = Object.getOwnPropertyDescriptors(snapshot.current()!);
    expect(Object.values(own).filter((d) => d.get !== undefined || d.set !== undefined)).toEqual([]);
    expect(snapshot.current()!.body.toString('utf8')).toBe(GOLDEN);
  });

  it('should gzip lazily, once per update', async () => {
    const snapshot = new PrometheusSnapshot({ constantLabels: CONSTANT_LABELS });
    snapshot.update(await record(), 0);
    const first = snapshot.current()!;
    const gz = first.gzipped();
    expect(first.gzipped()).toBe(gz);
    expect(gunzipSync(gz).toString('utf8')).toBe(GOLDEN);
    snapshot.update(await meter.collect(), 1);
    expect(snapshot.current()).not.toBe(first);
    expect(snapshot.current()!.gzipped()).not.toBe(gz);
  });
});

describe('serveMetrics', () => {
  let server: http.Server | undefined;
  let snapshot: PrometheusSnapshot;
  let onServe: ReturnType<typeof vi.fn<() => void>>;
  let url: string;

  beforeEach(async () => {
    snapshot = new PrometheusSnapshot({ constantLabels: CONSTANT_LABELS });
    onServe = vi.fn<() => void>();
    const s = http.createServer((req, res) => serveMetrics(req, res, snapshot.current(), onServe));
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`;
  });

  afterEach(async () => {
    const s = server;
    server = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  it('should answer 503 with Retry-After before the first collection, without counting a scrape', async () => {
    const reply = await send(url);
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(reply.text).toBe('no collection has completed yet\n');
    expect(onServe).not.toHaveBeenCalled();
  });

  it('should serve the snapshot with the Prometheus content type and count the scrape', async () => {
    snapshot.update(await record(), 0);
    const reply = await send(url);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(GOLDEN)));
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers.vary).toBe('Accept, Accept-Encoding');
    expect(reply.text).toBe(GOLDEN);
    expect(onServe).toHaveBeenCalledTimes(1);
    await send(url);
    expect(onServe).toHaveBeenCalledTimes(2);
  });

  it('should serve OpenMetrics, gzipped or not, to a scraper that asks for it, and text to the others', async () => {
    snapshot.update(await record(), 0);
    const accept =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const om = await send(url, { headers: { Accept: accept } });
    expect(om.headers['content-type']).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(om.text).toBe(snapshot.current()!.openMetrics().toString('utf8'));
    expect(om.text).toContain('multi_agent_system_requests_total{route="/a",');
    expect(om.text.endsWith('# EOF\n')).toBe(true);
    const gz = await send(url, { headers: { Accept: accept, 'Accept-Encoding': 'gzip' } });
    expect(gz.headers['content-type']).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(gunzipSync(gz.body).toString('utf8')).toBe(om.text);
    const plain = await send(url, { headers: { Accept: 'text/plain;version=0.0.4,*/*;q=0.1' } });
    expect(plain.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(plain.text).toBe(GOLDEN);
  });

  it.each(['gzip', 'deflate, gzip', 'gzip, deflate, br'])(
    'should gzip when Accept-Encoding is "%s"',
    async (accept) => {
      snapshot.update(await record(), 0);
      const reply = await send(url, { headers: { 'Accept-Encoding': accept } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(reply.headers['content-length']).toBe(String(reply.body.length));
      expect(gunzipSync(reply.body).toString('utf8')).toBe(GOLDEN);
    },
  );

  it.each(['identity', 'br, deflate'])('should not gzip when Accept-Encoding is "%s"', async (accept) => {
    snapshot.update(await record(), 0);
    const reply = await send(url, { headers: { 'Accept-Encoding': accept } });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.text).toBe(GOLDEN);
  });

  it('should answer HEAD with the headers of GET and no body', async () => {
    snapshot.update(await record(), 0);
    const reply = await send(url, { method: 'HEAD' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(GOLDEN)));
    expect(reply.body).toHaveLength(0);
    // A HEAD is not a scrape.
    expect(onServe).not.toHaveBeenCalled();
  });

  it('should serve the latest update', async () => {
    snapshot.update(await record(), 0);
    expect((await send(url)).text).toContain('multi_agent_system_queue_depth{');
    meter.provider.getMeter('perf-monitor-agent', '0.1.0').createGauge('multi_agent_system_extra').record(5);
    snapshot.update(await meter.collect(), 1);
    expect((await send(url)).text).toContain(`multi_agent_system_extra{${IDENTITY}} 5\n`);
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['deflate, gzip;q=0.5', true],
    ['x-gzip', true],
    ['*', true],
    ['gzip;q=0', false],
    ['gzip;q=0, *', false],
    ['identity', false],
    ['br, *;q=0', false],
    ['', false],
  ])('should read %j as %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
