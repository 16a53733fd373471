/**
 * Exemplars in the series tables: kept only for a measurement made in a valid, sampled span of the
 * application's context, one per bucket per collection interval, never more than the buckets of a series.
 */
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistogramValue } from '../../../src/model/metric.js';
import { SeriesTable } from '../../../src/telemetry/series-table.js';
import { inSpan, installContextManager } from '../helpers/otel-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const T0: [number, number] = [0, 0];

function table(exemplars = true, limit = 10): SeriesTable {
  return new SeriesTable({
    name: 'req_seconds',
    description: 'd',
    unit: 's',
    kind: 'histogram',
    labelNames: ['route'],
    boundaries: [0.1, 1],
    limit,
    exemplars,
  });
}

function points(t: SeriesTable): (Histogram & Pick<HistogramValue, 'exemplars'>)[] {
  const data = t.toMetricData(T0, T0)!;
  return data.dataPoints.map((dp) => dp.value as Histogram & Pick<HistogramValue, 'exemplars'>);
}

describe('exemplars without a context manager', () => {
  it('should keep none: the active context is always the root one', () => {
    const t = table();
    const s = t.create(['/a']);
    inSpan(TRACE, SPAN, () => t.observe(s, 0.5));
    expect(points(t)[0]!.exemplars).toBeUndefined();
    expect(points(t)[0]!.count).toBe(1);
  });
});

describe('exemplars with a context manager', () => {
  let uninstall: () => void;
  beforeAll(() => {
    uninstall = installContextManager();
  });
  afterAll(() => uninstall());

  it('should keep the trace and span id of a measurement made in a sampled span, in its bucket', () => {
    const t = table();
    const s = t.create(['/a']);
    const before = Date.now();
    inSpan(TRACE, SPAN, () => t.observe(s, 0.5));
    t.observe(s, 0.05); // no span active: counted, no exemplar
    const [p] = points(t);
    expect(p!.buckets.counts).toEqual([1, 1, 0]);
    expect(p!.exemplars).toHaveLength(3);
    expect(p!.exemplars![0]).toBeUndefined();
    expect(p!.exemplars![2]).toBeUndefined();
    expect(p!.exemplars![1]).toMatchObject({ value: 0.5, traceId: TRACE, spanId: SPAN });
    expect(p!.exemplars![1]!.timeMs).toBeGreaterThanOrEqual(before);
  });

  it('should keep none for an unsampled or an invalid span', () => {
    const t = table();
    const s = t.create(['/a']);
    inSpan(TRACE, SPAN, () => t.observe(s, 0.5), false);
    inSpan('0'.repeat(32), SPAN, () => t.observe(s, 0.5));
    inSpan(TRACE, 'not-a-span-id', () => t.observe(s, 0.5));
    expect(points(t)[0]!.exemplars).toBeUndefined();
    expect(points(t)[0]!.count).toBe(3);
  });

  it('should keep none when exemplars are off', () => {
    const t = table(false);
    const s = t.create(['/a']);
    inSpan(TRACE, SPAN, () => t.observe(s, 0.5));
    expect(points(t)[0]!.exemplars).toBeUndefined();
  });

  it('should keep the first exemplar of each bucket per collection interval, and replace it in the next', () => {
    const t = table();
    const s = t.create(['/a']);
    inSpan(TRACE, SPAN, () => t.observe(s, 0.2));
    inSpan('1'.repeat(32), '1'.repeat(16), () => t.observe(s, 0.3));
    expect(points(t)[0]!.exemplars![1]).toMatchObject({ value: 0.2, traceId: TRACE });
    // A new interval: the next measurement in a span replaces it; one without a span leaves it.
    t.observe(s, 0.4);
    expect(points(t)[0]!.exemplars![1]).toMatchObject({ value: 0.2, traceId: TRACE });
    inSpan('2'.repeat(32), '2'.repeat(16), () => t.observe(s, 0.6));
    expect(points(t)[0]!.exemplars![1]).toMatchObject({ value: 0.6, traceId: '2'.repeat(32) });
  });

  it('should hold at most one exemplar per bucket per series, the overflow series included', () => {
    const t = table(true, 5);
    for (let i = 0; i < 50; i++) {
      const s = t.create([`/r${i}`]);
      for (let j = 0; j < 20; j++) {
        const id = (i * 20 + j + 1).toString(16).padStart(16, '0');
        inSpan(id.repeat(2), id, () => t.observe(s, j / 10));
      }
      t.toMetricData(T0, T0);
    }
    const all = points(t);
    expect(all).toHaveLength(6);
    for (const p of all) {
      expect(p.exemplars).toHaveLength(3);
      expect(p.exemplars!.filter((e) => e !== undefined).length).toBeLessThanOrEqual(3);
    }
  });

  it('should hand out copies: a later measurement does not change a collection already made', () => {
    const t = table();
    const s = t.create(['/a']);
    inSpan(TRACE, SPAN, () => t.observe(s, 0.5));
    const [first] = points(t);
    inSpan('3'.repeat(32), '3'.repeat(16), () => t.observe(s, 0.7));
    expect(first!.exemplars![1]).toMatchObject({ value: 0.5, traceId: TRACE });
  });
});

describe("exemplars from an application's own copy of @opentelemetry/api", () => {
  const KEY = Symbol.for('opentelemetry.js.api.1');
  const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
  const registry = globalThis as unknown as Record<symbol, unknown>;
  let saved: unknown;
  beforeAll(() => {
    saved = registry[KEY];
  });
  afterAll(() => {
    registry[KEY] = saved;
  });

  /** What any 1.x copy of the API leaves on globalThis once the application registers a context manager. */
  function register(active: () => unknown): void {
    registry[KEY] = { version: '1.0.0', context: { active } };
  }

  it('should read the span through the registered context manager alone, without the API module', () => {
    const sc = { traceId: TRACE.toUpperCase(), spanId: SPAN, traceFlags: 1 };
    register(() => ({ getValue: (k: symbol) => (k === SPAN_KEY ? { spanContext: () => sc } : undefined) }));
    const t = table();
    const s = t.create(['/a']);
    t.observe(s, 0.5);
    expect(points(t)[0]!.exemplars![1]).toMatchObject({
      value: 0.5,
      traceId: TRACE.toUpperCase(),
      spanId: SPAN,
    });
  });

  it('should keep the measurement without an exemplar when the context manager throws', () => {
    register(() => {
      throw new Error('broken context manager');
    });
    const t = table();
    const s = t.create(['/a']);
    t.observe(s, 0.5);
    expect(points(t)[0]!.count).toBe(1);
    expect(points(t)[0]!.exemplars).toBeUndefined();
  });
});
