/**
 * ResourceMetrics → the Prometheus protobuf exposition format: `io.prometheus.client.MetricFamily` messages,
 * each preceded by its length (varint), as Prometheus asks for it when its native-histograms feature is on.
 * The families, names and labels are the text format's (collectFamilies in prometheus-text.ts); histograms
 * carry the classic buckets (cumulative, as in the text) and, when the series table kept them, the native
 * ones: schema, zero threshold and count, spans and deltas (exponential-histogram.ts).
 *
 * A small writer of its own rather than protobufjs: the message is fixed and small (five message types,
 * varints, doubles, strings, packed sint64), it needs no schema parsing or object tree per scrape, and
 * protobufjs is not a dependency of the agent (the unit test decodes the output with it).
 */
import type { DataPoint, Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { exponentialOf, toPrometheusSpans } from '../model/exponential-histogram.js';
import type { BucketSpan } from '../model/exponential-histogram.js';
import { collectFamilies, sanitizeName } from './prometheus-text.js';

// Wire types and the field numbers of io.prometheus.client (metrics.proto).
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const TYPE_COUNTER = 0;
const TYPE_GAUGE = 1;
const TYPE_HISTOGRAM = 4;

/** A protobuf writer into one growing buffer; nested messages are length-prefixed when they end. */
class Writer {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;
  private readonly _starts: number[] = [];

  private _room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned integer below 2^53. */
  varint(value: number): void {
    this._room(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  uint(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  /** A zigzag-encoded signed integer (sint32/sint64), |value| below 2^52. */
  sint(field: number, value: number): void {
    this.uint(field, zigzag(value));
  }

  double(field: number, value: number): void {
    this.tag(field, FIXED64);
    this._room(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  string(field: number, value: string): void {
    const n = Buffer.byteLength(value, 'utf8');
    this.tag(field, LEN);
    this.varint(n);
    this._room(n);
    this.buf.write(value, this.pos, 'utf8');
    this.pos += n;
  }

  /** Starts a length-delimited part (a message field when `field` is given, else a delimited record). */
  begin(field?: number): void {
    if (field !== undefined) this.tag(field, LEN);
    this._starts.push(this.pos);
  }

  /** Ends the innermost part: moves its bytes to make room for its length in front of them. */
  end(): void {
    const start = this._starts.pop()!;
    const length = this.pos - start;
    const size = varintSize(length);
    this._room(size);
    this.buf.copyWithin(start + size, start, this.pos);
    const pos = this.pos + size;
    this.pos = start;
    this.varint(length);
    this.pos = pos;
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varintSize(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

type Attributes = Readonly<Record<string, unknown>>;

function labels(w: Writer, attributes: Attributes, keyCache: Map<string, string>): void {
  for (const key in attributes) {
    let k = keyCache.get(key);
    if (k === undefined) {
      k = sanitizeName(key);
      keyCache.set(key, k);
    }
    const v = attributes[key];
    w.begin(1); // Metric.label
    w.string(1, k);
    w.string(2, typeof v === 'string' ? v : JSON.stringify(v));
    w.end();
  }
}

function spans(w: Writer, field: number, list: readonly BucketSpan[]): void {
  for (const s of list) {
    w.begin(field);
    if (s.offset !== 0) w.sint(1, s.offset);
    if (s.length !== 0) w.uint(2, s.length);
    w.end();
  }
}

function deltas(w: Writer, field: number, list: readonly number[]): void {
  if (list.length === 0) return;
  w.begin(field); // packed repeated sint64
  for (const d of list) w.varint(zigzag(d));
  w.end();
}

function histogram(w: Writer, h: Histogram): void {
  w.begin(7); // Metric.histogram
  w.uint(1, h.count);
  w.double(2, h.sum ?? 0);
  const { boundaries, counts } = h.buckets;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i]!;
    w.begin(3);
    w.uint(1, cumulative);
    w.double(2, boundaries[i] ?? Infinity);
    w.end();
  }
  const e = exponentialOf(h);
  if (e !== undefined) {
    w.sint(5, e.scale); // schema
    w.double(6, 0); // zero_threshold: the zero bucket holds exact zeros
    w.uint(7, e.zeroCount);
    const negative = toPrometheusSpans(e.negative.offset, e.negative.bucketCounts);
    const positive = toPrometheusSpans(e.positive.offset, e.positive.bucketCounts);
    spans(w, 9, negative.spans);
    deltas(w, 10, negative.deltas);
    // Without any span and with a zero threshold of 0 the histogram would read as classic only: Prometheus
    // asks for a no-op span then.
    spans(
      w,
      12,
      positive.spans.length + negative.spans.length === 0 ? [{ offset: 0, length: 0 }] : positive.spans,
    );
    deltas(w, 13, positive.deltas);
  }
  w.end();
}

/**
 * Serializes a collection, as serializePrometheus does the text: the same families, labels (the constant
 * ones after each series' own), and `target_info` first.
 */
export function serializePrometheusProtobuf(
  rm: ResourceMetrics,
  constantLabels: ReadonlySet<string>,
): Buffer {
  const w = new Writer();
  const keyCache = new Map<string, string>();
  const resourceAttributes = rm.resource.attributes as Attributes;
  const constants: Record<string, unknown> = {};
  for (const key in resourceAttributes) if (constantLabels.has(key)) constants[key] = resourceAttributes[key];

  w.begin();
  w.string(1, 'target_info');
  w.string(2, 'Target metadata');
  w.uint(3, TYPE_GAUGE);
  w.begin(4);
  labels(w, resourceAttributes, keyCache);
  w.begin(2);
  w.double(1, 1);
  w.end();
  w.end();
  w.end();

  for (const family of collectFamilies(rm).values()) {
    if (family === undefined) continue;
    let any = false;
    for (const metric of family.metrics) if (metric.dataPoints.length > 0) any = true;
    if (!any) continue;
    w.begin();
    w.string(1, family.name);
    w.string(2, family.help || 'description missing');
    w.uint(
      3,
      family.type === 'histogram' ? TYPE_HISTOGRAM : family.type === 'counter' ? TYPE_COUNTER : TYPE_GAUGE,
    );
    for (const metric of family.metrics) {
      for (const dp of metric.dataPoints as DataPoint<number | Histogram>[]) {
        w.begin(4);
        labels(w, dp.attributes, keyCache);
        labels(w, constants, keyCache);
        if (family.type === 'histogram') histogram(w, dp.value as Histogram);
        else {
          w.begin(family.type === 'counter' ? 3 : 2);
          w.double(1, dp.value as number);
          w.end();
        }
        w.end();
      }
    }
    w.end();
  }
  return w.result();
}
