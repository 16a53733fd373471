/**
 * Test doubles for the export layer: a one-shot HTTP(S) client that returns the raw body, a pull-only
 * MetricReader to get real ResourceMetrics out of the SDK, and the TLS fixture paths.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Exemplar } from '../../../src/model/metric.js';

export const TLS_DIR = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));

/** Path of a file in test/fixtures/tls. */
export function tlsFile(name: string): string {
  return path.join(TLS_DIR, name);
}

/** Contents of a file in test/fixtures/tls. */
export function tlsFixture(name: string): Buffer {
  return fs.readFileSync(tlsFile(name));
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface SendOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** Client TLS settings for https URLs (trusted CA, client certificate, protocol bounds). */
  tls?: Pick<https.RequestOptions, 'ca' | 'cert' | 'key' | 'maxVersion'>;
  /** Defaults to no agent: one connection per request, closed afterwards. */
  agent?: http.Agent | false;
}

/** One request; resolves with the status, headers and undecoded body. */
export function send(url: string, opts: SendOptions = {}): Promise<Reply> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false, ...opts.tls },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** A MetricReader that only collects when the test calls collect(). */
export class PullReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }

  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export const IDENTITY_ATTRIBUTES = {
  environment: 'test',
  agent_instance: 'host-1',
  version: '1.2.3',
  'service.name': 'checkout',
} as const;

export interface TestMeter {
  provider: MeterProvider;
  reader: PullReader;
  /** Collects once and returns the ResourceMetrics, failing on collection errors. */
  collect(): Promise<ResourceMetrics>;
}

/** A MeterProvider over IDENTITY_ATTRIBUTES with a PullReader; shut it down in afterEach. */
export function createTestMeter(attributes: Record<string, string> = IDENTITY_ATTRIBUTES): TestMeter {
  const reader = new PullReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes(attributes), readers: [reader] });
  return {
    provider,
    reader,
    collect: async () => {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'collection failed');
      return resourceMetrics;
    },
  };
}

/** An exemplar as the series tables keep one, for the exposition tests. */
export const TEST_EXEMPLAR: Exemplar = {
  value: 0.3,
  timeMs: 1_700_000_000_123,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
};
