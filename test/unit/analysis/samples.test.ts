import { describe, expect, it } from 'vitest';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { toSamples } from '../../../src/analysis/samples.js';
import { SeriesKeys, seriesKey } from '../../../src/model/labels.js';

function gauge(attributes: Record<string, unknown>[]): ResourceMetrics {
  return {
    resource: resourceFromAttributes({}),
    scopeMetrics: [
      {
        scope: { name: 'test' },
        metrics: [
          {
            descriptor: { name: 'p_queue_length', description: '', unit: '', valueType: 1, type: 'GAUGE' },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: attributes.map((a, i) => ({
              startTime: [0, 0],
              endTime: [0, 0],
              attributes: a,
              value: i,
            })),
          },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
}

describe('toSamples', () => {
  it('should keep string attributes as the labels, and turn other values into JSON text', () => {
    const strings = { queue_name: 'jobs', region: 'eu' };
    const mixed = { queue_name: 'mail', shard: 3, urgent: true };
    const samples = toSamples(gauge([strings, mixed]), 1000, (n) => n.replace(/^p_/, ''));
    expect(samples).toEqual([
      { metric: 'queue_length', labels: strings, value: 0, timestampMs: 1000, kind: 'gauge' },
      {
        metric: 'queue_length',
        labels: { queue_name: 'mail', shard: '3', urgent: 'true' },
        value: 1,
        timestampMs: 1000,
        kind: 'gauge',
      },
    ]);
    // Label sets that are all strings are not copied; the mixed one is, and its attributes stay as they were.
    expect(samples[0]!.labels).toBe(strings);
    expect(mixed).toEqual({ queue_name: 'mail', shard: 3, urgent: true });
  });

  it("should attach each sample's series key when given the reader's keys", () => {
    const strings = { queue_name: 'jobs', region: 'eu' };
    const mixed = { queue_name: 'mail', shard: 3 };
    const keys = new SeriesKeys();
    for (const t of [1000, 2000]) {
      const samples = toSamples(gauge([strings, mixed]), t, (n) => n.replace(/^p_/, ''), keys);
      expect(samples.map((s) => s.key)).toEqual(samples.map((s) => seriesKey(s.metric, s.labels)));
    }
  });
});
