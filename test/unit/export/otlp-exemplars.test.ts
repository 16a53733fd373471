/**
 * Exemplars in the OTLP protobuf request: the SDK's serializer writes none, ours appends them to each
 * HistogramDataPoint (field 8) and leaves every other field as the SDK wrote it. The request is decoded here by
 * a protobuf reader of the test's own, along opentelemetry-proto's metrics.proto.
 */
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExemplars, withExemplars } from '../../../src/export/otlp-exemplars.js';
import { AgentError } from '../../../src/lib/errors.js';
import { TEST_EXEMPLAR, createTestMeter } from './helpers.js';
import type { TestMeter } from './helpers.js';

type Field = { field: number; wire: number; bytes: Uint8Array; value: bigint };

/** The fields of one message, in order. */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    const start = pos;
    let value = 0n;
    if (wire === 0) value = varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ field: tag >> 3, wire, bytes: buf.subarray(pos, pos + len), value: 0n });
      pos += len;
      continue;
    } else throw new Error(`wire type ${wire}`);
    out.push({ field: tag >> 3, wire, bytes: buf.subarray(start, pos), value });
  }
  return out;
}

function sub(buf: Uint8Array, ...path: number[]): Uint8Array[] {
  let level = [buf];
  for (const f of path)
    level = level.flatMap((b) =>
      fields(b)
        .filter((x) => x.field === f)
        .map((x) => x.bytes),
    );
  return level;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const le = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

const EXEMPLAR = TEST_EXEMPLAR;

let meter: TestMeter;
beforeEach(() => {
  meter = createTestMeter();
});
afterEach(async () => {
  await meter.provider.shutdown();
});

async function collection(withExemplar: boolean): Promise<ResourceMetrics> {
  const m = meter.provider.getMeter('perf-monitor-agent');
  m.createCounter('requests_total').add(3, { route: '/a' });
  const h = m.createHistogram('latency', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5] } });
  for (const v of [0.05, 0.3, 2]) h.record(v, { route: '/a' });
  h.record(0.01, { route: '/b' });
  const rm = await meter.collect();
  if (withExemplar) {
    const latency = rm.scopeMetrics[0]!.metrics.find((x) => x.descriptor.name === 'latency')!;
    Object.assign(latency.dataPoints[0]!.value as object, { exemplars: [undefined, EXEMPLAR, undefined] });
  }
  return rm;
}

const fail = (err: unknown): never => {
  throw err;
};

describe('withExemplars', () => {
  it('should add the exemplar to its histogram data point and change nothing else', async () => {
    const rm = await collection(true);
    const plain = ProtobufMetricsSerializer.serializeRequest(rm)!;
    const ours = withExemplars(ProtobufMetricsSerializer, fail).serializeRequest(rm)!;
    const points = (b: Uint8Array): Uint8Array[] => sub(b, 1, 2, 2, 9, 1);
    const [withEx, without] = points(ours);
    expect(points(ours)).toHaveLength(2);
    expect(sub(without!, 8)).toEqual([]);
    const [ex] = sub(withEx!, 8);
    const exFields = fields(ex!);
    expect(le(exFields.find((f) => f.field === 2)!.bytes).getBigUint64(0, true)).toBe(
      1_700_000_000_123_000_000n,
    );
    expect(le(exFields.find((f) => f.field === 3)!.bytes).getFloat64(0, true)).toBe(0.3);
    expect(hex(exFields.find((f) => f.field === 4)!.bytes)).toBe(EXEMPLAR.spanId);
    expect(hex(exFields.find((f) => f.field === 5)!.bytes)).toBe(EXEMPLAR.traceId);
    // Every other field of every data point, and the rest of the request, as the SDK wrote them.
    const strip = (b: Uint8Array): string[] =>
      fields(b)
        .filter((f) => f.field !== 8)
        .map((f) => `${f.field}:${hex(f.bytes)}`);
    expect(points(ours).map(strip)).toEqual(points(plain).map(strip));
    expect(sub(ours, 1, 1)).toEqual(sub(plain, 1, 1));
    expect(sub(ours, 1, 2, 2, 7)).toEqual(sub(plain, 1, 2, 2, 7));
  });

  it('should return the SDK request as it is when no data point has an exemplar', async () => {
    const rm = await collection(false);
    expect(withExemplars(ProtobufMetricsSerializer, fail).serializeRequest(rm)).toEqual(
      ProtobufMetricsSerializer.serializeRequest(rm),
    );
  });

  it('should send the request without exemplars, and say so, when it cannot be rewritten', async () => {
    const rm = await collection(true);
    const errors: unknown[] = [];
    const truncated = {
      ...ProtobufMetricsSerializer,
      serializeRequest: (r: ResourceMetrics) =>
        ProtobufMetricsSerializer.serializeRequest(r)!.subarray(0, 40),
    };
    const out = withExemplars(truncated, (e) => errors.push(e)).serializeRequest(rm);
    expect(out).toEqual(truncated.serializeRequest(rm));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(AgentError);
  });

  it('should refuse bytes that are not a protobuf message', () => {
    expect(() => addExemplars(Uint8Array.of(0x0a, 0x05, 1), [[EXEMPLAR]])).toThrow(AgentError);
    expect(() => addExemplars(Uint8Array.of(0x0b), [[EXEMPLAR]])).toThrow(AgentError);
  });
});
