import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { diag } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Env } from '../../../src/config/load.js';
import { duration } from '../../../src/config/schema.js';
import type { OtlpConfig } from '../../../src/config/schema.js';
import { OtlpPush, routeOtelDiagnostics } from '../../../src/export/otlp.js';
import { resolveOtlpSettings } from '../../../src/export/otlp-settings.js';
import type { OtlpSettings } from '../../../src/export/otlp-settings.js';
import { ManualClock, settle } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { createTestMeter } from './helpers.js';
import type { TestMeter } from './helpers.js';

function cfg(partial: Partial<OtlpConfig> = {}): OtlpConfig {
  return { headers: {}, histograms: 'explicit', ...partial };
}

describe('resolveOtlpSettings', () => {
  it.each<[string, OtlpConfig, Env]>([
    ['no endpoint anywhere', cfg(), {}],
    [
      'only empty endpoint variables',
      cfg(),
      { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '' },
    ],
    [
      'enabled: false with a config endpoint',
      cfg({ enabled: false, endpoint: 'http://c:4318/v1/metrics' }),
      {},
    ],
    [
      'enabled: false with an env endpoint',
      cfg({ enabled: false }),
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' },
    ],
  ])('should be off with %s', (_what, config, env) => {
    expect(resolveOtlpSettings(config, env)).toBeUndefined();
  });

  it.each<[string, OtlpConfig, Env, string]>([
    [
      'the config endpoint over both variables',
      cfg({ endpoint: 'http://cfg:4318/custom' }),
      {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4318/x',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318',
      },
      'http://cfg:4318/custom',
    ],
    [
      'the metrics endpoint as-is over the base endpoint',
      cfg(),
      {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4318/x',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318',
      },
      'http://m:4318/x',
    ],
    [
      'the base endpoint plus /v1/metrics',
      cfg(),
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' },
      'http://b:4318/v1/metrics',
    ],
    [
      'the base endpoint with a trailing slash',
      cfg(),
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318/' },
      'http://b:4318/v1/metrics',
    ],
    [
      'the base endpoint with slashes',
      cfg(),
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318//' },
      'http://b:4318/v1/metrics',
    ],
    [
      'the base endpoint with a path',
      cfg(),
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://b/otlp/' },
      'https://b/otlp/v1/metrics',
    ],
    [
      'the base endpoint when the metrics one is empty',
      cfg(),
      { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' },
      'http://b:4318/v1/metrics',
    ],
    [
      'the env endpoint when enabled: true has none of its own',
      cfg({ enabled: true }),
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' },
      'http://b:4318/v1/metrics',
    ],
  ])('should use %s', (_what, config, env, endpoint) => {
    expect(resolveOtlpSettings(config, env)?.endpoint).toBe(endpoint);
  });

  const ENDPOINT: Env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' };

  it('should default to gzip, a 10 s timeout, no headers, no export interval and explicit histograms', () => {
    expect(resolveOtlpSettings(cfg(), ENDPOINT)).toEqual({
      endpoint: 'http://b:4318/v1/metrics',
      headers: {},
      timeoutMs: 10_000,
      compression: 'gzip',
      exportIntervalMs: undefined,
      naming: 'prometheus',
      histograms: 'explicit',
    });
  });

  it('should take the naming from the config, prometheus by default', () => {
    expect(resolveOtlpSettings(cfg({ naming: 'semconv' }), ENDPOINT)?.naming).toBe('semconv');
    expect(resolveOtlpSettings(cfg({ naming: 'prometheus' }), ENDPOINT)?.naming).toBe('prometheus');
  });

  it('should merge headers: base variable < metrics variable < config, percent-decoded', () => {
    const settings = resolveOtlpSettings(cfg({ headers: { c: 'config' } }), {
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: 'a=base,b=base,c=base,authorization=Bearer%20abc%3D%3D',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=metrics, c = metrics ',
    });
    expect(settings?.headers).toEqual({
      a: 'base',
      b: 'metrics',
      c: 'config',
      authorization: 'Bearer abc==',
    });
  });

  it.each<[string, OtlpConfig, Env, number]>([
    [
      'the config timeout first',
      cfg({ timeout: duration(2500) }),
      { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000', OTEL_EXPORTER_OTLP_TIMEOUT: '4000' },
      2500,
    ],
    [
      'the metrics timeout variable second',
      cfg(),
      { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000', OTEL_EXPORTER_OTLP_TIMEOUT: '4000' },
      3000,
    ],
    ['the timeout variable third', cfg(), { OTEL_EXPORTER_OTLP_TIMEOUT: ' 4000 ' }, 4000],
    [
      'the next source for invalid values',
      cfg(),
      { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'soon', OTEL_EXPORTER_OTLP_TIMEOUT: '0' },
      10_000,
    ],
    ['10 s for a negative value', cfg(), { OTEL_EXPORTER_OTLP_TIMEOUT: '-5' }, 10_000],
  ])('should take %s', (_what, config, env, timeoutMs) => {
    expect(resolveOtlpSettings(config, { ...ENDPOINT, ...env })?.timeoutMs).toBe(timeoutMs);
  });

  it.each<[string, OtlpConfig, Env, 'gzip' | 'none']>([
    ['none from the base variable', cfg(), { OTEL_EXPORTER_OTLP_COMPRESSION: 'none' }, 'none'],
    ['gzip from the base variable', cfg(), { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, 'gzip'],
    [
      'the metrics variable over the base one',
      cfg(),
      { OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: ' none ', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
      'none',
    ],
    [
      'the config over the variables',
      cfg({ compression: 'gzip' }),
      { OTEL_EXPORTER_OTLP_COMPRESSION: 'none' },
      'gzip',
    ],
    ['none from the config', cfg({ compression: 'none' }), {}, 'none'],
  ])('should take compression %s', (_what, config, env, compression) => {
    expect(resolveOtlpSettings(config, { ...ENDPOINT, ...env })?.compression).toBe(compression);
  });

  it('should take the export interval from the config', () => {
    expect(resolveOtlpSettings(cfg({ export_interval: duration(60_000) }), ENDPOINT)?.exportIntervalMs).toBe(
      60_000,
    );
  });
});

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An OTLP/HTTP receiver on 127.0.0.1:0 that records requests and answers with `status`. */
class FakeReceiver {
  readonly requests: Received[] = [];
  /** `received N` / `answered N`, in the order they happened. */
  readonly events: string[] = [];
  status = 200;
  private readonly _server: http.Server;
  private _holdNext = false;
  private _held: (() => void) | undefined;
  private readonly _waiters: { count: number; resolve: () => void }[] = [];

  constructor() {
    this._server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const n = this.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
        });
        this.events.push(`received ${n}`);
        const status = this.status;
        const answer = (): void => {
          res.writeHead(status, { 'Content-Type': 'application/x-protobuf' });
          res.end(() => this.events.push(`answered ${n}`));
        };
        if (this._holdNext) {
          this._holdNext = false;
          this._held = answer;
        } else {
          answer();
        }
        for (const w of this._waiters.filter((x) => x.count <= this.requests.length)) {
          this._waiters.splice(this._waiters.indexOf(w), 1);
          w.resolve();
        }
      });
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this._server.address() as AddressInfo).port}/v1/metrics`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this._server.listen(0, '127.0.0.1', resolve));
  }

  /** Keeps the next request unanswered until release(). */
  holdNext(): void {
    this._holdNext = true;
  }

  release(): void {
    const answer = this._held;
    this._held = undefined;
    answer?.();
  }

  /** Resolves once `count` requests have arrived. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this._waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    this.release();
    const closed = new Promise<void>((resolve) => this._server.close(() => resolve()));
    this._server.closeAllConnections();
    await closed;
  }
}

/** The export in flight, if any (OtlpPush exposes no completion signal; offer() never waits). */
function inFlight(push: OtlpPush): Promise<void> | undefined {
  return (push as unknown as { _inFlight: Promise<void> | undefined })._inFlight;
}

async function exported(push: OtlpPush): Promise<void> {
  await inFlight(push);
}

describe('routeOtelDiagnostics', () => {
  afterEach(() => diag.disable());

  it("should write the SDK's warnings and errors as prefixed lines and drop the rest", () => {
    const lines: string[] = [];
    routeOtelDiagnostics((line) => lines.push(line));
    diag.error('export failed');
    diag.warn('dropped a view');
    diag.info('started');
    diag.debug('details');
    expect(lines).toEqual(['opentelemetry: export failed', 'opentelemetry: dropped a view']);
  });
});

describe('OtlpPush', () => {
  let receiver: FakeReceiver;
  let meter: TestMeter;
  let clock: ManualClock;
  let logger: MemoryLogger;
  const pushes: OtlpPush[] = [];

  beforeEach(async () => {
    receiver = new FakeReceiver();
    await receiver.start();
    meter = createTestMeter();
    meter.provider.getMeter('perf-monitor-agent').createCounter('multi_agent_system_ticks_total').add(1);
    clock = new ManualClock();
    logger = new MemoryLogger();
  });

  afterEach(async () => {
    receiver.release();
    await Promise.all(pushes.splice(0).map((p) => p.shutdown()));
    await receiver.close();
    await meter.provider.shutdown();
  });

  function makePush(
    settings: Partial<OtlpSettings> = {},
    transform?: (rm: ResourceMetrics) => ResourceMetrics,
  ): OtlpPush {
    const push = new OtlpPush(
      {
        endpoint: receiver.endpoint,
        headers: {},
        timeoutMs: 5000,
        compression: 'gzip',
        exportIntervalMs: undefined,
        ...settings,
      },
      clock,
      logger,
      transform,
    );
    pushes.push(push);
    return push;
  }

  function collect(): Promise<ResourceMetrics> {
    return meter.collect();
  }

  it('should POST gzipped protobuf with the configured headers and count the export', async () => {
    const push = makePush({ headers: { 'x-api-key': 'k1', 'x-tenant': 'acme' } });
    expect(push.endpoint).toBe(receiver.endpoint);
    push.offer(await collect());
    await exported(push);
    expect(push.stats).toEqual({ exports: 1, failures: 0, skipped: 0 });
    expect(receiver.requests).toHaveLength(1);
    const [req] = receiver.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/metrics');
    expect(req?.headers['content-type']).toBe('application/x-protobuf');
    expect(req?.headers['content-encoding']).toBe('gzip');
    expect(req?.headers['x-api-key']).toBe('k1');
    expect(req?.headers['x-tenant']).toBe('acme');
    const body = gunzipSync(req!.body);
    // ExportMetricsServiceRequest: field 1 (resource_metrics), length-delimited.
    expect(body.length).toBeGreaterThan(0);
    expect(body[0]).toBe(0x0a);
    expect(body.toString('latin1')).toContain('multi_agent_system_ticks_total');
    expect(logger.records).toEqual([]);
  });

  it('should send uncompressed protobuf with compression none', async () => {
    const push = makePush({ compression: 'none' });
    push.offer(await collect());
    await exported(push);
    const req = receiver.requests[0];
    expect(req?.headers['content-encoding']).toBeUndefined();
    expect(req?.headers['content-type']).toBe('application/x-protobuf');
    expect(req?.body[0]).toBe(0x0a);
    expect(req?.body.toString('latin1')).toContain('multi_agent_system_ticks_total');
  });

  it('should send the transformed collection when a transform is given (semconv naming)', async () => {
    const seen: ResourceMetrics[] = [];
    const push = makePush({ compression: 'none' }, (rm) => {
      seen.push(rm);
      const [sm] = rm.scopeMetrics;
      const metrics = sm!.metrics.map((m) => ({
        ...m,
        descriptor: { ...m.descriptor, name: 'renamed.ticks' },
      }));
      return { resource: rm.resource, scopeMetrics: [{ scope: sm!.scope, metrics }] };
    });
    const rm = await collect();
    push.offer(rm);
    await exported(push);
    expect(seen).toEqual([rm]);
    const body = receiver.requests[0]!.body.toString('latin1');
    expect(body).toContain('renamed.ticks');
    expect(body).not.toContain('multi_agent_system_ticks_total');
    expect(push.stats).toEqual({ exports: 1, failures: 0, skipped: 0 });
  });

  it('should count a transform that throws as a failed export, warn once and send nothing', async () => {
    const push = makePush({}, () => {
      throw new Error('bad mapping');
    });
    for (let i = 0; i < 2; i++) {
      push.offer(await collect());
      await exported(push);
    }
    expect(receiver.requests).toHaveLength(0);
    expect(push.stats).toMatchObject({ exports: 2, failures: 2 });
    expect(push.stats.lastError).toContain('bad mapping');
    expect(logger.find('warn', 'OTLP export failed')).toHaveLength(1);
  });

  it('should count failures, warn once per outage, and log the recovery', async () => {
    const push = makePush();
    receiver.status = 400;
    for (let i = 0; i < 3; i++) {
      push.offer(await collect());
      await exported(push);
    }
    expect(push.stats).toMatchObject({ exports: 3, failures: 3, skipped: 0 });
    expect(push.stats.lastError).toEqual(expect.any(String));
    expect(logger.find('warn')).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'OTLP export failed',
        fields: { endpoint: receiver.endpoint, error: push.stats.lastError },
      }),
    ]);

    receiver.status = 200;
    push.offer(await collect());
    await exported(push);
    expect(push.stats).toMatchObject({ exports: 4, failures: 3 });
    expect(logger.find('info', 'OTLP export recovered')).toEqual([
      expect.objectContaining({ fields: { endpoint: receiver.endpoint } }),
    ]);
    // No second recovery message while things keep working.
    push.offer(await collect());
    await exported(push);
    expect(logger.find('info', 'recovered')).toHaveLength(1);

    // A new outage warns again.
    receiver.status = 400;
    push.offer(await collect());
    await exported(push);
    expect(logger.find('warn', 'OTLP export failed')).toHaveLength(2);
    expect(push.stats.failures).toBe(4);
  });

  it('should skip, not queue, offers while an export is in flight', async () => {
    const push = makePush();
    receiver.holdNext();
    push.offer(await collect());
    await receiver.received(1);
    expect(inFlight(push)).toBeInstanceOf(Promise);
    push.offer(await collect());
    push.offer(await collect());
    expect(push.stats).toEqual({ exports: 1, failures: 0, skipped: 2 });
    receiver.release();
    await exported(push);
    expect(inFlight(push)).toBeUndefined();
    expect(receiver.requests).toHaveLength(1);
    // The next offer after the export finished goes out again.
    push.offer(await collect());
    await exported(push);
    expect(receiver.requests).toHaveLength(2);
    expect(push.stats).toEqual({ exports: 2, failures: 0, skipped: 2 });
  });

  it('should ignore offers inside export_interval unless forced', async () => {
    const push = makePush({ exportIntervalMs: 1000 });
    push.offer(await collect());
    await exported(push);
    await clock.advance(999);
    push.offer(await collect());
    expect(inFlight(push)).toBeUndefined();
    expect(push.stats).toEqual({ exports: 1, failures: 0, skipped: 0 });
    await clock.advance(1);
    push.offer(await collect());
    await exported(push);
    expect(push.stats.exports).toBe(2);
    // The interval counts from the last export started.
    await clock.advance(500);
    push.offer(await collect());
    expect(push.stats.exports).toBe(2);
    push.offer(await collect(), true);
    await exported(push);
    expect(push.stats).toEqual({ exports: 3, failures: 0, skipped: 0 });
    expect(receiver.requests).toHaveLength(3);
  });

  it('should export the final batch after the one in flight on shutdown', async () => {
    const push = makePush();
    receiver.holdNext();
    push.offer(await collect());
    await receiver.received(1);
    const last = await collect();
    const done = push.shutdown(last);
    await settle();
    expect(receiver.requests).toHaveLength(1);
    receiver.release();
    await done;
    expect(receiver.events).toEqual(['received 1', 'answered 1', 'received 2', 'answered 2']);
    expect(push.stats).toEqual({ exports: 2, failures: 0, skipped: 0 });
  });

  it('should be safe to shut down twice and ignore offers afterwards', async () => {
    const push = makePush();
    await push.shutdown(await collect());
    await push.shutdown(await collect());
    expect(receiver.requests).toHaveLength(1);
    push.offer(await collect());
    expect(inFlight(push)).toBeUndefined();
    expect(push.stats).toEqual({ exports: 1, failures: 0, skipped: 0 });
  });

  it('should send nothing when shut down with no final batch and nothing in flight', async () => {
    const push = makePush();
    await push.shutdown();
    expect(receiver.requests).toEqual([]);
    expect(push.stats.exports).toBe(0);
  });
});
