/**
 * The Prometheus text snapshot: serialized at most once per collection (prometheus-text.ts), so a scrape is
 * a buffer write, however many series there are and however often Prometheus asks. Nothing is serialized for
 * a collection no scrape reads (Prometheus scraping every 15 s an agent that collects every second): the text
 * is made on the first request after the collection, the gzip form on the first request that accepts it, and
 * both are kept until the next collection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { serializePrometheus } from './prometheus-text.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsPayload {
  /** The text, serialized on first access. */
  readonly body: Buffer;
  generatedAtMs: number;
  gzipped(): Buffer;
}

export interface PrometheusSnapshotOptions {
  /** Resource attributes that become labels on every series (the identity labels). */
  constantLabels: readonly string[];
}

export class PrometheusSnapshot {
  private readonly _constantLabels: ReadonlySet<string>;
  private _payload: MetricsPayload | undefined;

  constructor(opts: PrometheusSnapshotOptions) {
    this._constantLabels = new Set(opts.constantLabels);
  }

  /** Takes a collection (called once per cycle); it is serialized when a scrape first asks for it. */
  update(resourceMetrics: ResourceMetrics, generatedAtMs: number): void {
    const constantLabels = this._constantLabels;
    let body: Buffer | undefined;
    let gz: Buffer | undefined;
    const text = (): Buffer =>
      (body ??= Buffer.from(serializePrometheus(resourceMetrics, constantLabels), 'utf8'));
    this._payload = {
      get body() {
        return text();
      },
      generatedAtMs,
      gzipped: () => (gz ??= gzipSync(text(), { level: 6 })),
    };
  }

  /** The latest snapshot, or undefined before the first collection. */
  current(): MetricsPayload | undefined {
    return this._payload;
  }
}

/**
 * Serves the latest snapshot: 503 before the first collection, gzip when the client accepts it (as
 * Prometheus does). `onServe` counts scrapes (GETs that got the metrics).
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
  const body = gzip ? payload.gzipped() : payload.body;
  const headers: Record<string, string | number> = {
    'Content-Type': PROMETHEUS_CONTENT_TYPE,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    Vary: 'Accept-Encoding',
  };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
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
