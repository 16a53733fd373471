import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { ExponentialHistogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { withExponentialHistograms } from '../../../src/export/otlp-exponential.js';
import { StaticResource } from '../../../src/telemetry/static-resource.js';
import { SeriesTable } from '../../../src/telemetry/series-table.js';

function table(name: string, exponential: boolean): SeriesTable {
  const t = new SeriesTable({
    name,
    description: 'd',
    unit: 's',
    kind: 'histogram',
    labelNames: ['route'],
    boundaries: [0.1, 1],
    limit: 10,
    exponential,
  });
  const s = t.create(['/a']);
  for (const v of [0, 0.05, 0.5, 5]) t.observe(s, v);
  return t;
}

describe('withExponentialHistograms', () => {
  it('turns histograms that carry exponential buckets into ExponentialHistogram metrics, and leaves the rest', () => {
    const counter = new SeriesTable({
      name: 'c_total',
      description: 'c',
      unit: '1',
      kind: 'counter',
      labelNames: [],
      limit: 1,
    });
    counter.create([]).value = 3;
    const metrics = [table('with', true), table('without', false), counter].map((t) =>
      t.toMetricData([1, 0], [2, 0])!,
    );
    const rm: ResourceMetrics = {
      resource: new StaticResource({ a: 'b' }),
      scopeMetrics: [{ scope: { name: 's' }, metrics }],
    };
    const out = withExponentialHistograms(rm);
    expect(out.resource).toBe(rm.resource);
    const [withExp, without, c] = out.scopeMetrics[0]!.metrics;
    expect(withExp!.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
    expect(withExp!.descriptor).toBe(metrics[0]!.descriptor);
    const dp = withExp!.dataPoints[0]!;
    expect(dp.attributes).toEqual({ route: '/a' });
    const value = dp.value as ExponentialHistogram;
    expect(value).toMatchObject({ count: 4, sum: 5.55, min: 0, max: 5, zeroCount: 1 });
    expect(value.positive.bucketCounts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(value.negative).toEqual({ offset: 0, bucketCounts: [] });
    expect(without).toBe(metrics[1]);
    expect(c).toBe(metrics[2]);
    // The collection itself is not changed: Prometheus and the subscribers keep the explicit buckets.
    expect(rm.scopeMetrics[0]!.metrics[0]!.dataPointType).toBe(DataPointType.HISTOGRAM);
  });
});
