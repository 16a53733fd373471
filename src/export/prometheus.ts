/**
 * The Prometheus text snapshot: serialized at most once per collection (prometheus-text.ts), so a scrape is
 * a buffer write, however many series there are and however often Prometheus asks. Nothing is serialized for
 * a collection no scrape reads (Prometheus scraping every 15 s an agent that collects every second): the text
 * is made on the first request after the collection, the gzip form on the first request that accepts it, and
 * both are kept until the next collection. A scraper that asks for OpenMetrics (Prometheus does by default)
 * gets that format (openmetrics-text.ts, with exemplars), made and kept the same way; others get the text format.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { OPENMETRICS_CONTENT_TYPE, serializeOpenMetrics } from './openmetrics-text.js';
import { LabelTexts, serializePrometheus } from './prometheus-text.js';

/**
 * zlib level 1: a scrape's text is repetitive (metric and label names), so the fastest level already takes a
 * 21 KB body to 2.5 KB, 8 % more than level 6's 2.3 KB, in a third of the time (about 110 against 330 µs),
 * and an agent scraped every second gzips once a second.
 */
const GZIP = { level: 1 } as const;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsPayload {
  /** The text, serialized on first access. */
  readonly body: Buffer;
  generatedAtMs: number;
  gzipped(): Buffer;
  /** The OpenMetrics text, serialized on first call. */
  openMetrics(): Buffer;
  openMetricsGzipped(): Buffer;
  /** The protobuf exposition (plain, gzipped), serialized on first access; only with native histograms on. */
  protobuf?: (gzip: boolean) => Buffer;
}

/** ResourceMetrics → the protobuf exposition (prometheus-protobuf.ts, loaded only when native histograms are on). */
export type ProtobufSerializer = (rm: ResourceMetrics, constantLabels: ReadonlySet<string>) => Buffer;

/** The protobuf exposition's media type (length-delimited io.prometheus.client.MetricFamily messages). */
export const PROMETHEUS_PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

export interface PrometheusSnapshotOptions {
  /** Resource attributes that become labels on every series (the identity labels). */
  constantLabels: readonly string[];
  /** `prometheus.native_histograms`: the protobuf exposition, served to a scraper that asks for it. */
  protobuf?: ProtobufSerializer;
}

export class PrometheusSnapshot {
  private readonly _constantLabels: ReadonlySet<string>;
  private readonly _protobuf: ProtobufSerializer | undefined;
  private _payload: MetricsPayload | undefined;
  /** Series' label text, kept across collections (both text formats use the same). */
  private readonly _labelTexts = new LabelTexts();

  constructor(opts: PrometheusSnapshotOptions) {
    this._constantLabels = new Set(opts.constantLabels);
    this._protobuf = opts.protobuf;
  }

  /** Takes a collection (called once per cycle); it is serialized when a scrape first asks for it. */
  update(resourceMetrics: ResourceMetrics, generatedAtMs: number): void {
    this._payload = new Payload(
      resourceMetrics,
      generatedAtMs,
      this._constantLabels,
      this._labelTexts,
      this._protobuf,
    );
  }

  /** The latest snapshot, or undefined before the first collection. */
  current(): MetricsPayload | undefined {
    return this._payload;
  }
}

/**
 * One collection's exposition, each form made on first use. A class rather than an object literal with a `body`
 * getter: a literal's accessor, made anew at every collection, is kept in the object's hidden class in V8's old
 * generation and held the collection through the young-generation collections (collection-reader.ts, Batch).
 */
class Payload implements MetricsPayload {
  /** Set only when native histograms are on (the server checks for it). */
  readonly protobuf?: (gzip: boolean) => Buffer;
  private _body: Buffer | undefined;
  private _gz: Buffer | undefined;
  private _om: Buffer | undefined;
  private _omGz: Buffer | undefined;
  private _proto: Buffer | undefined;
  private _protoGz: Buffer | undefined;

  constructor(
    private readonly _rm: ResourceMetrics,
    public generatedAtMs: number,
    private readonly _constantLabels: ReadonlySet<string>,
    private readonly _labelTexts: LabelTexts,
    serializeProtobuf: ProtobufSerializer | undefined,
  ) {
    if (serializeProtobuf !== undefined)
      this.protobuf = (gzip) => {
        this._proto ??= serializeProtobuf(this._rm, this._constantLabels);
        if (!gzip) return this._proto;
        this._protoGz ??= gzipSync(this._proto, GZIP);
        return this._protoGz;
      };
  }

  get body(): Buffer {
    this._body ??= Buffer.from(serializePrometheus(this._rm, this._constantLabels, this._labelTexts), 'utf8');
    return this._body;
  }

  gzipped(): Buffer {
    this._gz ??= gzipSync(this.body, GZIP);
    return this._gz;
  }

  openMetrics(): Buffer {
    this._om ??= Buffer.from(serializeOpenMetrics(this._rm, this._constantLabels, this._labelTexts), 'utf8');
    return this._om;
  }

  openMetricsGzipped(): Buffer {
    this._omGz ??= gzipSync(this.openMetrics(), GZIP);
    return this._omGz;
  }
}

/**
 * Serves the latest snapshot: 503 before the first collection, OpenMetrics when the client prefers it, gzip
 * when the client accepts it (as Prometheus does). `onServe` counts scrapes (GETs that got the metrics).
 */
export function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  payload: MetricsPayload | undefined,
  onServe: () => void,
): void {
  if (payload === undefined) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
    res.end('no collection has completed yet\n');
    return;
  }
  if (req.method !== 'HEAD') onServe();
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  const om = prefersOpenMetrics(req.headers.accept);
  let body = om
    ? gzip
      ? payload.openMetricsGzipped()
      : payload.openMetrics()
    : gzip
      ? payload.gzipped()
      : payload.body;
  const headers: Record<string, string | number> = {
    'Content-Type': om ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    Vary: 'Accept, Accept-Encoding',
  };
  // Native histograms on: the protobuf exposition for a scraper that prefers it (Prometheus' native-histograms feature).
  if (payload.protobuf !== undefined) {
    headers.Vary = 'Accept, Accept-Encoding';
    if (prefersProtobuf(req.headers.accept)) {
      body = payload.protobuf(gzip);
      headers['Content-Type'] = PROMETHEUS_PROTOBUF_CONTENT_TYPE;
      headers['Content-Length'] = body.length;
    }
  }
  if (gzip) headers['Content-Encoding'] = 'gzip';
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Longest Accept header read; a scraper's is under 200 characters. */
const MAX_ACCEPT_LENGTH = 1024;

/**
 * True when an Accept header asks for OpenMetrics (`application/openmetrics-text`, any version) with a
 * q-value above 0 and at least that of the text format (`text/plain`). No header, or a longer one than any
 * scraper sends: the text format.
 */
export function prefersOpenMetrics(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  if (text.length > MAX_ACCEPT_LENGTH) return false;
  let om = 0;
  let plain = 0;
  for (const part of text.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q >= 0 && q <= 1)) continue;
    const t = type?.trim();
    if (t === 'application/openmetrics-text') om = Math.max(om, q);
    else if (t === 'text/plain') plain = Math.max(plain, q);
  }
  return om > 0 && om >= plain;
}

/** True when an Accept-Encoding header allows gzip (`gzip`, `*`, with a q-value above 0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let star: boolean | undefined;
  for (const part of text.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return allowed;
    if (coding === '*') star = allowed;
  }
  return star === true;
}

/**
 * True when an Accept header asks for the delimited MetricFamily protobuf with a q-value above 0 and at least
 * that of any text form it also accepts (Prometheus with native histograms sends the protobuf at q=0.7 or so
 * and text at a lower q; a request for text or for anything keeps the text).
 */
export function prefersProtobuf(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  if (text.length > 4096) return false;
  let protobuf = 0;
  let other = 0;
  for (const part of text.split(',')) {
    const [type, ...params] = part
      .trim()
      .toLowerCase()
      .split(';')
      .map((p) => p.trim());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (!(weight > 0)) continue;
    if (
      type === 'application/vnd.google.protobuf' &&
      params.includes('proto=io.prometheus.client.metricfamily') &&
      params.includes('encoding=delimited')
    )
      protobuf = Math.max(protobuf, weight);
    else if (type !== undefined && type !== '') other = Math.max(other, weight);
  }
  return protobuf > 0 && protobuf >= other;
}
