import fc from 'fast-check';
import { AggregationType, DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_BUCKETS,
  MAX_NATIVE_SCALE,
  bucketIndex,
  bucketLowerBound,
  newExponentialState,
  recordExponential,
  snapshotExponential,
  toPrometheusSpans,
} from '../../../src/model/exponential-histogram.js';
import { fuzzParams } from '../fuzz/fuzz-settings.js';
import { PullReader } from '../export/helpers.js';

/** The reference: the OTel SDK's own exponential histogram aggregation (maxSize 160, its scale starts at 20). */
async function sdkHistogram(values: readonly number[]): Promise<ExponentialHistogram> {
  const reader = new PullReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [
      {
        instrumentName: 'h',
        aggregation: {
          type: AggregationType.EXPONENTIAL_HISTOGRAM,
          options: { maxSize: DEFAULT_MAX_BUCKETS },
        },
      },
    ],
  });
  const h = provider.getMeter('test').createHistogram('h');
  for (const v of values) h.record(v);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const metric = resourceMetrics.scopeMetrics[0]!.metrics[0]!;
  expect(metric.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
  return metric.dataPoints[0]!.value as ExponentialHistogram;
}

/** OTel-indexed counts merged down by `change` scales (the reference's form at a lower scale). */
function downscaled(b: { offset: number; bucketCounts: number[] }, change: number) {
  const merged = new Map<number, number>();
  b.bucketCounts.forEach((c, i) => {
    const index = (b.offset + i) >> change;
    merged.set(index, (merged.get(index) ?? 0) + c);
  });
  const indexes = [...merged.keys()].filter((i) => merged.get(i)! > 0);
  if (indexes.length === 0) return { offset: 0, bucketCounts: [] as number[] };
  const lo = Math.min(...indexes);
  const hi = Math.max(...indexes);
  const bucketCounts: number[] = [];
  for (let i = lo; i <= hi; i++) bucketCounts.push(merged.get(i) ?? 0);
  return { offset: lo, bucketCounts };
}

const positive = fc.oneof(
  fc.double({ min: 1e-6, max: 1e4, noNaN: true }),
  fc.constantFrom(0, 1, 2, 0.5, 1024, 2 ** -20, 3, 0.001, 0.1, 60),
);

const value = fc.oneof(
  fc.double({ min: 1e-6, max: 1e4, noNaN: true }),
  fc.double({ min: -1e3, max: -1e-3, noNaN: true }),
  fc.constantFrom(0, 1, 2, 0.5, 1024, 2 ** -20, 3, 0.001, 0.1, 60),
);

describe('bucketIndex', () => {
  it('puts a value in the bucket whose bounds hold it: base^i < v <= base^(i+1)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
        fc.integer({ min: -4, max: 8 }),
        (v, scale) => {
          const i = bucketIndex(v, scale);
          // Relative slack for the logarithm's rounding right at a boundary (the OTel SDK has the same).
          const slack = 1 + 1e-12;
          expect(bucketLowerBound(i, scale)).toBeLessThan(v * slack);
          expect(v).toBeLessThanOrEqual(bucketLowerBound(i + 1, scale) * slack);
        },
      ),
      fuzzParams(2000),
    );
  });

  it('maps exact powers of two to the bucket they close (upper bound inclusive)', () => {
    for (let scale = -4; scale <= 8; scale++) {
      for (const e of [-20, -1, 0, 1, 7, 100]) {
        const expected = scale > 0 ? (e << scale) - 1 : (e - 1) >> -scale;
        expect(bucketIndex(2 ** e, scale)).toBe(expected);
      }
    }
    expect(bucketIndex(1, 0)).toBe(-1);
    expect(bucketIndex(1.5, 0)).toBe(0);
    expect(bucketIndex(2, 0)).toBe(0);
  });

  it('is monotonic in the value', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-10, max: 1e10, noNaN: true }),
        fc.double({ min: 1e-10, max: 1e10, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(bucketIndex(lo, 8)).toBeLessThanOrEqual(bucketIndex(hi, 8));
        },
      ),
      fuzzParams(1000),
    );
  });
});

describe('recordExponential', () => {
  it('agrees with the OTel SDK aggregation (brought to the same scale) on any values', async () => {
    await fc.assert(
      // The SDK's histogram instrument drops negative values; the next property covers them.
      fc.asyncProperty(fc.array(positive, { minLength: 1, maxLength: 300 }), async (values) => {
        const state = newExponentialState();
        for (const v of values) recordExponential(state, v);
        const mine = snapshotExponential(state);
        const ref = await sdkHistogram(values);
        const scale = Math.min(ref.scale, MAX_NATIVE_SCALE);
        // With zeros only, no bucket says anything about the scale (the SDK reports 0, this module its start).
        if (ref.positive.bucketCounts.length > 0) expect(mine.scale).toBe(scale);
        expect(mine.zeroCount).toBe(ref.zeroCount);
        expect(mine.positive).toEqual(downscaled(ref.positive, ref.scale - scale));
        expect(mine.negative).toEqual({ offset: 0, bucketCounts: [] });
      }),
      fuzzParams(60, [[[1e-6, 1e4]], [[0.001, 0.0011, 0.0012, 5000]], [[2, 4, 8, 16]]]),
    );
  });

  it('records negative values as their magnitudes, in the negative buckets at the common scale', () => {
    fc.assert(
      fc.property(fc.array(positive, { maxLength: 300 }), (values) => {
        const pos = newExponentialState();
        const neg = newExponentialState();
        for (const v of values) {
          recordExponential(pos, v);
          recordExponential(neg, -v);
        }
        const p = snapshotExponential(pos);
        const n = snapshotExponential(neg);
        expect(n.scale).toBe(p.scale);
        expect(n.zeroCount).toBe(p.zeroCount);
        expect(n.negative).toEqual(p.positive);
        // Both signs share the scale: a wide negative range downscales the positive buckets too.
        const both = newExponentialState();
        for (const v of values) recordExponential(both, v);
        recordExponential(both, -1e-6);
        recordExponential(both, -1e6);
        const b = snapshotExponential(both);
        expect(b.scale).toBeLessThanOrEqual(p.scale);
        expect(b.positive).toEqual(downscaled(p.positive, p.scale - b.scale));
      }),
      fuzzParams(300),
    );
  });

  it('keeps at most maxBuckets buckets per sign and every count', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 500 }), (values) => {
        const state = newExponentialState(20);
        for (const v of values) recordExponential(state, v);
        const s = snapshotExponential(state);
        expect(s.positive.bucketCounts.length).toBeLessThanOrEqual(20);
        expect(s.negative.bucketCounts.length).toBeLessThanOrEqual(20);
        const total =
          s.zeroCount +
          s.positive.bucketCounts.reduce((a, b) => a + b, 0) +
          s.negative.bucketCounts.reduce((a, b) => a + b, 0);
        expect(total).toBe(values.length);
      }),
      fuzzParams(500),
    );
  });

  it('starts at scale 8 and halves the resolution only when the range needs it', () => {
    const state = newExponentialState();
    recordExponential(state, 1.01);
    recordExponential(state, 1.02);
    expect(state.scale).toBe(8);
    recordExponential(state, 1000); // 2^10 apart: 2560 buckets at scale 8, 160 at scale 4
    expect(state.scale).toBe(4);
    recordExponential(state, 0);
    expect(snapshotExponential(state).zeroCount).toBe(1);
  });

  it('ignores NaN and infinities', () => {
    const state = newExponentialState();
    for (const v of [NaN, Infinity, -Infinity]) recordExponential(state, v);
    expect(snapshotExponential(state).positive.bucketCounts).toEqual([]);
  });
});

describe('toPrometheusSpans', () => {
  it('shifts indexes by one, splits on gaps of more than two empty buckets, and writes deltas', () => {
    // OTel indexes 3..12: counts at 3, 4, 7 (gap of 2: same span), 12 (gap of 4: new span).
    const { spans, deltas } = toPrometheusSpans(3, [2, 1, 0, 0, 5, 0, 0, 0, 0, 3]);
    expect(spans).toEqual([
      { offset: 4, length: 5 },
      { offset: 4, length: 1 },
    ]);
    expect(deltas).toEqual([2, -1, -1, 0, 5, -2]);
  });

  it('decodes back to the counts (reference: expanding spans and summing deltas)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -300, max: 300 }),
        fc.array(fc.nat(5), { maxLength: 60 }),
        (offset, counts) => {
          const { spans, deltas } = toPrometheusSpans(offset, counts);
          const decoded = new Map<number, number>();
          let index = 0;
          let d = 0;
          let count = 0;
          spans.forEach((s) => {
            index += s.offset;
            for (let k = 0; k < s.length; k++) {
              count += deltas[d++]!;
              decoded.set(index - 1, count);
              index++;
            }
          });
          expect(d).toBe(deltas.length);
          counts.forEach((c, i) => expect(decoded.get(offset + i) ?? 0).toBe(c));
          for (const [i, c] of decoded) if (c !== 0) expect(counts[i - offset]).toBe(c);
        },
      ),
      fuzzParams(1000),
    );
  });
});
