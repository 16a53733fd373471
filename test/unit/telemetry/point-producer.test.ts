/**
 * PointProducer against the SDK it replaces: the same points, collection after collection, through the SDK's
 * observable instruments (as the pipeline had them, gauges with DELTA temporality) and through the producer,
 * give the same metrics, series and values.
 */
import {
  MeterProvider,
  MetricReader,
  AggregationTemporality,
  InstrumentType,
} from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { instrumentName } from '../../../src/catalog/catalog.js';
import type { CatalogEntry } from '../../../src/catalog/catalog.js';
import { ManualClock } from '../../../src/lib/clock.js';
import type { MetricPoint } from '../../../src/model/metric.js';
import { PointProducer, SERIES_PER_METRIC } from '../../../src/telemetry/point-producer.js';

class TestReader extends MetricReader {
  constructor() {
    super({
      aggregationTemporalitySelector: (type) =>
        type === InstrumentType.OBSERVABLE_GAUGE
          ? AggregationTemporality.DELTA
          : AggregationTemporality.CUMULATIVE,
    });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const entry = (name: string, kind: 'gauge' | 'counter'): CatalogEntry =>
  ({
    name,
    exportedName: name,
    kind,
    description: `${name} help`,
    unit: '1',
    group: 'system',
    labels: [],
  }) as unknown as CatalogEntry;

const ENTRIES = [entry('temperature', 'gauge'), entry('requests', 'counter'), entry('errors', 'counter')];

/** The SDK's view of a point sequence, as the pipeline registered observables before. */
function viaSdk(collections: MetricPoint[][]): Promise<MetricData[][]> {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('test');
  const byName = new Map(
    ENTRIES.map((e) => [
      e.name,
      e.kind === 'counter'
        ? meter.createObservableCounter(instrumentName('p', e), { description: e.description, unit: e.unit })
        : meter.createObservableGauge(instrumentName('p', e), { description: e.description, unit: e.unit }),
    ]),
  );
  let current: MetricPoint[] = [];
  meter.addBatchObservableCallback(
    (result) => {
      for (const p of current) result.observe(byName.get(p.metric)!, p.value, p.labels);
    },
    [...byName.values()],
  );
  return (async () => {
    const out: MetricData[][] = [];
    for (const c of collections) {
      current = c;
      const { resourceMetrics } = await reader.collect();
      out.push(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics));
    }
    await provider.shutdown();
    return out;
  })();
}

async function viaProducer(
  collections: MetricPoint[][],
  entries: readonly CatalogEntry[] = ENTRIES,
): Promise<MetricData[][]> {
  let current: MetricPoint[] = [];
  const producer = new PointProducer({
    clock: new ManualClock(0),
    scope: { name: 'test' },
    prefix: 'p',
    entries,
    sources: [() => current],
  });
  const out: MetricData[][] = [];
  for (const c of collections) {
    current = c;
    const { resourceMetrics } = await producer.collect();
    out.push(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics));
  }
  return out;
}

/** What the exposition and the samples read of a collection: names, kinds and series values, in order. */
function shape(metrics: MetricData[]): unknown[] {
  return metrics
    .filter((m) => m.dataPoints.length > 0)
    .map((m) => ({
      name: m.descriptor.name,
      description: m.descriptor.description,
      unit: m.descriptor.unit,
      type: m.dataPointType,
      monotonic: 'isMonotonic' in m ? m.isMonotonic : undefined,
      points: m.dataPoints.map((d) => [d.attributes, d.value]),
    }));
}

const pt = (metric: string, value: number, labels: Record<string, string> = {}): MetricPoint => ({
  metric,
  value,
  labels,
});

describe('PointProducer', () => {
  it('should give what the SDK gave through observable instruments, collection after collection', async () => {
    const collections: MetricPoint[][] = [
      [
        pt('temperature', 20, { room: 'a' }),
        pt('temperature', 21, { room: 'b' }),
        pt('requests', 5, { code: '200' }),
      ],
      // room b and the counter's series disappear; a new counter series; a duplicate gauge point (last wins)
      [
        pt('temperature', 22, { room: 'a' }),
        pt('temperature', 23, { room: 'a' }),
        pt('requests', 2, { code: '500' }),
      ],
      // the first counter series comes back lower than before: its source restarted
      [pt('requests', 3, { code: '200' }), pt('requests', 4, { code: '500' }), pt('errors', 1)],
      [],
      [pt('requests', 6, { code: '200' }), pt('unknown', 1), pt('temperature', Number.NaN, { room: 'c' })],
      // room b back after three collections away, reported before a and c (this collection's order)
      [
        pt('temperature', 30, { room: 'b' }),
        pt('temperature', 31, { room: 'a' }),
        pt('temperature', 32, { room: 'c' }),
      ],
    ];
    const [sdk, ours] = await Promise.all([viaSdk(collections), viaProducer(collections)]);
    expect(ours.map(shape)).toEqual(sdk.map(shape));
    // Spelled out: a counter series keeps its last total while unreported, and a source that restarted
    // (5, then 3) is exported as it reports.
    const requests200 = ours.map(
      (c) =>
        (c.find((m) => m.descriptor.name === 'p_requests_total')?.dataPoints ?? []).find(
          (d) => d.attributes.code === '200',
        )?.value,
    );
    expect(requests200).toEqual([5, 5, 3, 3, 6, 6]);
  });

  it('should hand out the same attributes object for a series reported again, with the new value', async () => {
    const ours = await viaProducer([
      [pt('temperature', 1, { room: 'a' }), pt('requests', 1, { code: '200' })],
      [pt('temperature', 2, { room: 'a' }), pt('requests', 2, { code: '200' })],
      [pt('requests', 3, { code: '200' })],
      [pt('temperature', 4, { room: 'a' })],
    ]);
    const point = (c: number, name: string) =>
      ours[c]!.find((m) => m.descriptor.name === name)?.dataPoints[0];
    // Each collection's points come with new label objects; the exported attributes stay the first ones.
    expect(point(1, 'p_temperature')!.attributes).toBe(point(0, 'p_temperature')!.attributes);
    expect(point(1, 'p_requests_total')!.attributes).toBe(point(0, 'p_requests_total')!.attributes);
    expect([0, 1].map((c) => point(c, 'p_temperature')!.value)).toEqual([1, 2]);
    // A gauge away for a collection starts over (its attributes are this collection's), with its value.
    expect(point(2, 'p_temperature')).toBeUndefined();
    expect(point(3, 'p_temperature')!.attributes).toEqual({ room: 'a' });
    expect(point(3, 'p_temperature')!.attributes).not.toBe(point(0, 'p_temperature')!.attributes);
    expect(point(3, 'p_temperature')!.value).toBe(4);
  });

  it('should export a counter marked absentWhenUnreported only in the collections that report it', async () => {
    const remote = { ...entry('requests', 'counter'), absentWhenUnreported: true };
    const collections = [[pt('requests', 5)], [], [pt('requests', 2)]];
    const ours = await viaProducer(collections, [remote]);
    expect(ours.map((c) => c.map((m) => m.dataPoints.map((d) => d.value)))).toEqual([[[5]], [], [[2]]]);
  });

  it(`should keep at most ${SERIES_PER_METRIC} series per metric`, async () => {
    const many = Array.from({ length: SERIES_PER_METRIC + 5 }, (_, i) =>
      pt('temperature', i, { i: String(i) }),
    );
    const [first] = await viaProducer([many]);
    expect(first![0]!.dataPoints).toHaveLength(SERIES_PER_METRIC);
  });
});
