/**
 * Exemplars in the OTLP/HTTP protobuf request. The SDK's metrics serializer (3.x) writes none (it has no exemplar
 * support), so its request is rewritten when a histogram data point carries exemplars (HistogramValue.exemplars):
 * they are appended to that HistogramDataPoint as field 8 (`repeated Exemplar exemplars`), and the lengths of the
 * enclosing messages are written anew. Every other byte is copied as the SDK wrote it; a request without
 * exemplars is returned as it is.
 *
 * The path to a histogram data point (opentelemetry-proto metrics.proto): ExportMetricsServiceRequest 1 →
 * ResourceMetrics 2 → ScopeMetrics 2 → Metric 9 (histogram) → Histogram 1. The serializer writes data points in
 * the collection's order, which is how the exemplars are matched to them.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { AgentError } from '../lib/errors.js';
import type { Exemplar, HistogramValue } from '../model/metric.js';
import { HISTOGRAM_POINTS } from '../model/otel-constants.js';

/** Field numbers leading from the request to a HistogramDataPoint. */
const PATH = [1, 2, 2, 9, 1] as const;
const LEN = 2;

/** The exemplars of each histogram data point, in serializer order; undefined when there are none at all. */
export function histogramExemplars(rm: ResourceMetrics): Exemplar[][] | undefined {
  const out: Exemplar[][] = [];
  let any = false;
  for (const scope of rm.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.dataPointType !== HISTOGRAM_POINTS) continue;
      for (const dp of metric.dataPoints) {
        const held = (dp.value as Pick<HistogramValue, 'exemplars'>).exemplars;
        const list = held === undefined ? [] : held.filter((e): e is Exemplar => e !== undefined);
        if (list.length > 0) any = true;
        out.push(list);
      }
    }
  }
  return any ? out : undefined;
}

/** The serialized request with the exemplars added (see the module comment). */
export function addExemplars(request: Uint8Array, exemplars: readonly Exemplar[][]): Uint8Array {
  const state = { next: 0 };
  const body = rewrite(request, 0, request.length, 0, exemplars, state);
  return concat(body);
}

type Chunks = Uint8Array[];

function rewrite(
  buf: Uint8Array,
  start: number,
  end: number,
  depth: number,
  exemplars: readonly Exemplar[][],
  state: { next: number },
): Chunks {
  const out: Chunks = [];
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    pos = afterTag;
    if (wire === LEN) {
      const [len, afterLen] = readVarint(buf, pos);
      const bodyStart = afterLen;
      pos = bodyStart + len;
      if (field === PATH[depth]) {
        const inner =
          depth === PATH.length - 1
            ? [buf.subarray(bodyStart, pos), ...exemplarFields(exemplars[state.next++] ?? [])]
            : rewrite(buf, bodyStart, pos, depth + 1, exemplars, state);
        out.push(buf.subarray(fieldStart, afterTag), varint(byteLength(inner)), ...inner);
        continue;
      }
    } else if (wire === 0) {
      pos = readVarint(buf, pos)[1];
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new AgentError('E_INVALID_ARGUMENT', `unexpected protobuf wire type ${wire}`);
    }
    out.push(buf.subarray(fieldStart, pos));
  }
  if (pos !== end) throw new AgentError('E_INVALID_ARGUMENT', 'protobuf field overruns its message');
  return out;
}

/** `exemplars` (field 8) entries of a HistogramDataPoint. */
function exemplarFields(list: readonly Exemplar[]): Chunks {
  const out: Chunks = [];
  for (const e of list) {
    const msg = new Uint8Array(9 + 9 + 10 + 18);
    const view = new DataView(msg.buffer);
    msg[0] = (2 << 3) | 1; // time_unix_nano, fixed64
    view.setBigUint64(1, BigInt(Math.round(e.timeMs)) * 1_000_000n, true);
    msg[9] = (3 << 3) | 1; // as_double
    view.setFloat64(10, e.value, true);
    msg[18] = (4 << 3) | LEN; // span_id, 8 bytes
    msg[19] = 8;
    msg.set(hexBytes(e.spanId, 8), 20);
    msg[28] = (5 << 3) | LEN; // trace_id, 16 bytes
    msg[29] = 16;
    msg.set(hexBytes(e.traceId, 16), 30);
    out.push(Uint8Array.of((8 << 3) | LEN, msg.length), msg);
  }
  return out;
}

function hexBytes(hex: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16) || 0;
  return out;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) break;
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new AgentError('E_INVALID_ARGUMENT', 'truncated protobuf varint');
}

function varint(n: number): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

function byteLength(chunks: Chunks): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

function concat(chunks: Chunks): Uint8Array {
  const out = new Uint8Array(byteLength(chunks));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** What the exporter asks of a serializer (the SDK's ISerializer for metrics). */
export interface MetricsSerializer {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): unknown;
}

/**
 * `serializer` with the exemplars added to its requests. A request it cannot rewrite (which would be a bug
 * here) goes out as the SDK wrote it, without exemplars; `onError` is told.
 */
export function withExemplars<S extends MetricsSerializer>(
  serializer: S,
  onError: (err: unknown) => void,
): S {
  return {
    ...serializer,
    serializeRequest(request: ResourceMetrics): Uint8Array | undefined {
      const bytes = serializer.serializeRequest(request);
      const exemplars = bytes === undefined ? undefined : histogramExemplars(request);
      if (bytes === undefined || exemplars === undefined) return bytes;
      try {
        return addExemplars(bytes, exemplars);
      } catch (err) {
        onError(err);
        return bytes;
      }
    },
  };
}
