/**
 * The agent's serializer against the SDK's PrometheusSerializer (a dev dependency kept as the oracle):
 * the same collection must give the same bytes.
 */
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { afterEach, describe, expect, it } from 'vitest';
import { LabelTexts, sanitizeName, serializePrometheus } from '../../../src/export/prometheus-text.js';
import { createTestMeter } from './helpers.js';
import type { TestMeter } from './helpers.js';

const CONSTANT = ['environment', 'agent_instance', 'version'];

function sdk(): PrometheusSerializer {
  return new PrometheusSerializer(undefined, false, /^(?:environment|agent_instance|version)$/, false, true);
}

describe('serializePrometheus', () => {
  let m: TestMeter | undefined;
  afterEach(async () => {
    await m?.provider.shutdown();
    m = undefined;
  });

  it('should match the SDK serializer on every instrument kind, odd names and odd label values', async () => {
    m = createTestMeter();
    const meter = m.provider.getMeter('t');
    const c = meter.createCounter('app.requests', { description: 'Requests\nserved', unit: '{request}' });
    c.add(3, { route: '/a"b\\c', status: 200 });
    c.add(1, { route: 'line\nbreak' });
    meter.createCounter('already_total').add(2);
    meter.createUpDownCounter('in_flight').add(-4, { pool: 'x' });
    meter.createGauge('temp-°C', { unit: 'Cel' }).record(-1.5e-7);
    meter.createGauge('9lives').record(Infinity);
    meter.createGauge('neg').record(-Infinity, { k: 'v' });
    const h = meter.createHistogram('latency', {
      unit: 's',
      advice: { explicitBucketBoundaries: [0.005, 0.1, 1, 2.5] },
    });
    for (const v of [0.001, 0.05, 0.5, 3, 100]) h.record(v, { op: 'get' });
    h.record(0.2);
    meter.createHistogram('no_buckets', { advice: { explicitBucketBoundaries: [] } }).record(1);
    meter.createObservableGauge('observed').addCallback((r) => {
      for (let i = 0; i < 50; i++) r.observe(i / 7, { i: String(i), shard: `s${i % 3}` });
    });
    meter.createObservableCounter('obs_total_things').addCallback((r) => r.observe(12, { a: 'b' }));
    const rm = await m.collect();
    expect(serializePrometheus(rm, new Set(CONSTANT))).toBe(sdk().serialize(rm));
  });

  it('should match the SDK serializer when two scopes share a name, and drop a name with two types', async () => {
    m = createTestMeter();
    m.provider.getMeter('one').createCounter('shared').add(1, { from: 'one' });
    m.provider.getMeter('two').createCounter('shared').add(2, { from: 'two' });
    m.provider.getMeter('one').createGauge('clash').record(1);
    m.provider.getMeter('two').createHistogram('clash').record(5);
    const rm = await m.collect();
    const ours = serializePrometheus(rm, new Set(CONSTANT));
    expect(ours).toBe(sdk().serialize(rm));
    expect(ours).toContain('shared_total{from="two"');
    expect(ours).not.toContain('clash');
  });

  it('should give the same bytes with label text kept from one collection to the next', async () => {
    m = createTestMeter();
    const meter = m.provider.getMeter('t');
    const c = meter.createCounter('app.requests');
    const h = meter.createHistogram('latency', { advice: { explicitBucketBoundaries: [0.1, 1] } });
    let round = 0;
    meter.createObservableGauge('observed').addCallback((r) => {
      for (let i = 0; i < 5; i++) r.observe(i * round, { i: String(i), odd: 'a"b' });
    });
    const texts = new LabelTexts();
    for (round = 1; round <= 3; round++) {
      c.add(round, { route: `/r${round % 2}` });
      h.record(round / 2, { op: 'get' });
      const rm = await m.collect();
      expect(serializePrometheus(rm, new Set(CONSTANT), texts)).toBe(sdk().serialize(rm));
    }
    // Other constant labels: the kept text (which ends with the old ones) is not used.
    const rm = await m.collect();
    expect(serializePrometheus(rm, new Set(['version']), texts)).toBe(
      serializePrometheus(rm, new Set(['version'])),
    );
    expect(serializePrometheus(rm, new Set(CONSTANT), texts)).toBe(sdk().serialize(rm));
  });

  it('should write a family header made once per descriptor, and made again when the descriptor changes', async () => {
    m = createTestMeter();
    const meter = m.provider.getMeter('t');
    meter.createCounter('jobs', { description: 'Jobs\\done', unit: '{job}' }).add(2, { q: 'a' });
    meter.createGauge('depth').record(3);
    const rm = await m.collect();
    const expected = sdk().serialize(rm);
    expect(serializePrometheus(rm, new Set(CONSTANT))).toBe(expected);
    expect(serializePrometheus(rm, new Set(CONSTANT))).toBe(expected);
    // The same descriptor objects with another name, help and unit: the kept name and header are not used.
    const descriptors = rm.scopeMetrics[0]!.metrics.map(
      (x) => x.descriptor as { -readonly [K in keyof typeof x.descriptor]: (typeof x.descriptor)[K] },
    );
    descriptors[0]!.name = 'tasks';
    descriptors[0]!.unit = '{task}';
    descriptors[1]!.description = 'Queue\ndepth';
    const changed = serializePrometheus(rm, new Set(CONSTANT));
    expect(changed).toBe(sdk().serialize(rm));
    expect(changed).toContain('# HELP depth Queue\\ndepth\n');
    expect(changed).not.toContain('jobs');
  });

  it('should say there is nothing to show when nothing was recorded', async () => {
    m = createTestMeter();
    m.provider.getMeter('t').createCounter('never');
    const rm = await m.collect();
    // The SDK leaves the last line without its newline, which promtool refuses; ours ends it.
    expect(serializePrometheus(rm, new Set(CONSTANT))).toBe(`${sdk().serialize(rm)}\n`);
    expect(serializePrometheus(rm, new Set())).toMatch(/\n# no registered metrics\n$/);
  });

  it('should sanitize names as Prometheus requires', () => {
    expect(sanitizeName('http.server.duration')).toBe('http_server_duration');
    expect(sanitizeName('a..b--c')).toBe('a_b_c');
    expect(sanitizeName('9lives')).toBe('_9lives');
  });
});
