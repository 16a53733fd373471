/**
 * The Prometheus text snapshot: serialized once per collection (prometheus-text.ts), so a scrape is a
 * buffer write, however many series there are and however often Prometheus asks. The gzip
 * form is made on the first request that accepts it and kept until the next collection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { serializePrometheus } from './prometheus-text.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsPayload {
  body: Buffer;
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

  /** Serializes a collection; called once per cycle. */
  update(resourceMetrics: ResourceMetrics, generatedAtMs: number): void {
    const body = Buffer.from(serializePrometheus(resourceMetrics, this._constantLabels), 'utf8');
    let gz: Buffer | undefined;
    this._payload = {
      body,
      generatedAtMs,
      gzipped: () => (gz ??= gzipSync(body, { level: 6 })),
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
