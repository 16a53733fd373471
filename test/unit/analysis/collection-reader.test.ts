import { describe, expect, it } from 'vitest';
import { CollectionReader } from '../../../src/analysis/collection-reader.js';
import type { CollectionBatch } from '../../../src/analysis/collection-reader.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import type { CatalogEntry } from '../../../src/catalog/catalog.js';
import { seriesKey } from '../../../src/model/labels.js';
import type { MetricPoint, Sample } from '../../../src/model/metric.js';
import { PointProducer } from '../../../src/telemetry/point-producer.js';
import { SeriesProducer, SeriesTable } from '../../../src/telemetry/series-table.js';
import { StaticResource } from '../../../src/telemetry/static-resource.js';

interface Rig {
  clock: ManualClock;
  logger: MemoryLogger;
  reader: CollectionReader;
  /** Stops the reader (as the pipeline does at shutdown). */
  provider: { shutdown: () => Promise<void> };
  refreshes: () => number;
  setValue: (v: number) => void;
}

function rig(opts: { intervalMs?: number; refresh?: () => Promise<void> } = {}): Rig {
  const clock = new ManualClock();
  const logger = new MemoryLogger();
  let refreshes = 0;
  let value = 1;
  const entry = (name: string, kind: 'gauge' | 'counter'): CatalogEntry =>
    ({
      name,
      exportedName: name,
      kind,
      description: name,
      unit: '1',
      group: 'system',
      labels: [],
    }) as unknown as CatalogEntry;
  const points = new PointProducer({
    clock,
    scope: { name: 'test' },
    prefix: 'p',
    entries: [entry('level', 'gauge'), entry('things', 'counter')],
    sources: [
      (): MetricPoint[] => [
        { metric: 'level', labels: { k: 'v' }, value },
        { metric: 'things', labels: {}, value: value * 10 },
      ],
    ],
  });
  const latency = new SeriesTable({
    name: 'p_latency',
    description: 'latency',
    unit: 's',
    kind: 'histogram',
    labelNames: ['route'],
    boundaries: [0.1, 1],
    limit: 10,
  });
  latency.observe(latency.create(['/a']), 0.5);
  const tables = new SeriesProducer(clock, { name: 'test' });
  tables.addSource(() => [latency]);
  const reader = new CollectionReader({
    clock,
    logger,
    intervalMs: opts.intervalMs ?? 1000,
    refresh: async () => {
      refreshes++;
      await opts.refresh?.();
    },
    nameOf: (n) => n.replace(/^p_/, '').replace(/_total$/, ''),
    resource: new StaticResource({ 'service.name': 'test' }),
    metricProducers: [points, tables],
  });
  const provider = { shutdown: () => reader.shutdown() };
  return { clock, logger, reader, provider, refreshes: () => refreshes, setValue: (v) => (value = v) };
}

describe('CollectionReader', () => {
  it('should run the first cycle at once and then one per interval, refreshing probes once per cycle', async () => {
    const r = rig();
    const batches: CollectionBatch[] = [];
    r.reader.subscribe('a', (b) => {
      batches.push(b);
    });
    r.reader.startSchedule();
    await r.clock.advance(0);
    expect(batches).toHaveLength(1);
    await r.clock.advance(999);
    expect(batches).toHaveLength(1);
    await r.clock.advance(1);
    expect(batches).toHaveLength(2);
    await r.clock.advance(3000);
    expect(batches).toHaveLength(5);
    expect(r.refreshes()).toBe(5);
    expect(r.reader.stats.cycles).toBe(5);
    await r.provider.shutdown();
  });

  it('should hand every subscriber the same batch object', async () => {
    const r = rig();
    const seen: CollectionBatch[] = [];
    r.reader.subscribe('one', (b) => {
      seen.push(b);
    });
    r.reader.subscribe('two', async (b) => {
      await Promise.resolve();
      seen.push(b);
    });
    await r.reader.runCycle();
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    await r.provider.shutdown();
  });

  it('should give the batch no accessor of its own, so that a collection gets no hidden class of its own', async () => {
    // An object literal's getter is made at every collection and kept in the object's hidden class, which V8
    // allocates in the old generation: it held each collection through the young-generation collections.
    const r = rig();
    const batch = (await r.reader.runCycle())!;
    const own = Object.getOwnPropertyDescriptors(batch);
    expect(Object.values(own).filter((d) => d.get !== undefined || d.set !== undefined)).toEqual([]);
    expect(batch.samples.length).toBeGreaterThan(0);
    await r.provider.shutdown();
  });

  it('should turn the collection into samples named as in the config', async () => {
    const r = rig();
    r.setValue(7);
    const batch = await r.reader.runCycle();
    const samples = batch!.samples;
    expect(samples.find((s) => s.metric === 'level')).toMatchObject({
      kind: 'gauge',
      value: 7,
      labels: { k: 'v' },
    });
    expect(samples.find((s) => s.metric === 'things')).toMatchObject({ kind: 'counter', value: 70 });
    expect(samples.find((s) => s.metric === 'latency')).toMatchObject({
      kind: 'histogram',
      value: 1,
      labels: { route: '/a' },
      histogram: { boundaries: [0.1, 1], counts: [0, 1, 0], sum: 0.5, count: 1 },
    });
    expect(samples.every((s) => s.timestampMs === r.clock.nowMs())).toBe(true);
    await r.provider.shutdown();
  });

  it('should share one samples array among the subscribers, keyed, and make it again when asked after them', async () => {
    const r = rig();
    const seen: (readonly Sample[])[] = [];
    r.reader.subscribe('one', (b) => {
      seen.push(b.samples);
    });
    r.reader.subscribe('two', async (b) => {
      await Promise.resolve();
      seen.push(b.samples);
    });
    const batch = (await r.reader.runCycle())!;
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]!.every((s) => s.key === seriesKey(s.metric, s.labels))).toBe(true);
    // Not kept past the subscribers (it would outlive the young generation); the same data when read later.
    const later = batch.samples;
    expect(later).not.toBe(seen[0]);
    expect(later).toEqual(seen[0]);
    expect(batch.samples).toBe(later);
    await r.provider.shutdown();
  });

  it('should keep delivering to other subscribers when one throws, and log it', async () => {
    const r = rig();
    let delivered = 0;
    r.reader.subscribe('bad', () => {
      throw new Error('boom');
    });
    r.reader.subscribe('good', () => {
      delivered++;
    });
    await r.reader.runCycle();
    await r.reader.runCycle();
    expect(delivered).toBe(2);
    expect(r.logger.find('error', 'collection subscriber failed')).toHaveLength(2);
    expect(r.logger.find('error', 'collection subscriber failed')[0]!.fields).toMatchObject({
      subscriber: 'bad',
      error: 'boom',
    });
    await r.provider.shutdown();
  });

  it('should skip ticks while a slow cycle runs and count them as overruns', async () => {
    let release: (() => void) | undefined;
    const r = rig({
      refresh: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    });
    r.reader.startSchedule();
    await r.clock.advance(3500);
    expect(r.reader.stats.cycles).toBe(0);
    expect(r.reader.stats.overruns).toBe(3);
    release!();
    await r.clock.advance(0);
    expect(r.reader.stats.cycles).toBe(1);
    r.reader.stopSchedule();
    release?.();
    await r.provider.shutdown();
  });

  it('should join a cycle in progress instead of starting a second one', async () => {
    const r = rig();
    const [a, b] = await Promise.all([r.reader.runCycle(), r.reader.runCycle()]);
    expect(a).toBe(b);
    expect(r.refreshes()).toBe(1);
    await r.provider.shutdown();
  });

  it('should stop scheduling on shutdown and leave no timer behind', async () => {
    const r = rig();
    r.reader.startSchedule();
    await r.clock.advance(0);
    await r.provider.shutdown();
    expect(r.clock.pendingTimers).toBe(0);
    await r.clock.advance(5000);
    expect(r.reader.stats.cycles).toBe(1);
  });

  it('should log and survive a refresh that rejects', async () => {
    const r = rig({ refresh: () => Promise.reject(new Error('probe layer broke')) });
    const batch = await r.reader.runCycle();
    expect(batch).toBeUndefined();
    expect(r.logger.find('error', 'collection failed')[0]!.fields).toMatchObject({
      error: 'probe layer broke',
    });
    await r.provider.shutdown();
  });
});
