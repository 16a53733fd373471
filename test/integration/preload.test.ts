/**
 * The preload in real applications: CommonJS (`--require`) and ESM (`--import`) HTTP servers, a worker
 * thread pool, a job that ends by itself while pushing OTLP to a real OpenTelemetry Collector, and
 * SIGTERM. Each application is a separate Node.js process started from test/fixtures/apps with the
 * built package (dist/), which it imports by its own name.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import { httpProbe, startServer } from '../services/process.js';
import {
  NODE,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  tempDir,
  waitFor,
} from './agent-harness.js';
import {
  APPS,
  P,
  afterCollections,
  exitOf,
  get,
  scrapeUntil,
  startApp,
  writeConfig,
} from './preload-apps.js';
import type { RunningApp } from './preload-apps.js';

const built = builtCliAvailable();

describeService('built package (dist/)', built, () => {
  let running: RunningApp | undefined;
  afterEach(async () => {
    await running?.handle.stop('SIGKILL');
    running = undefined;
  });

  describe.each([
    ['CommonJS', '--require', 'http-app.cjs'],
    ['ESM', '--import', 'http-app.mjs'],
  ] as const)('a %s application', (_kind, flag, script) => {
    it('should have its HTTP requests and API measurements on /metrics, with exact counts and buckets', async () => {
      running = await startApp(flag, script);
      const { appPort, agentUrl } = running;
      for (const p of ['/users/1', '/users/22', '/users/333']) expect(await get(appPort, p)).toBe(200);
      expect(await get(appPort, '/fail')).toBe(500);
      expect(await get(appPort, '/entity')).toBe(200);
      expect(await get(appPort, '/entity')).toBe(200);
      const users = ['endpoint="/users/:num"', 'method="GET"', 'status="200"'];
      const text = await scrapeUntil(agentUrl, 3, `${P}api_request_count_total`, ...users);
      expect(seriesValue(text, `${P}api_request_duration_count`, ...users)).toBe(3);
      expect(seriesValue(text, `${P}api_request_duration_bucket`, ...users, 'le="+Inf"')).toBe(3);
      expect(
        seriesValue(text, `${P}api_error_count_total`, 'endpoint="/fail"', 'error_type="http_500"'),
      ).toBe(1);
      expect(seriesValue(text, `${P}api_request_count_total`, 'endpoint="/fail"', 'status="500"')).toBe(1);
      const entity = ['entity_type="user"', 'operation="create"'];
      expect(seriesValue(text, `${P}entities_processed_total`, ...entity)).toBe(2);
      expect(seriesValue(text, `${P}entities_processing_time_bucket`, ...entity, 'le="0.25"')).toBe(0);
      expect(seriesValue(text, `${P}entities_processing_time_bucket`, ...entity, 'le="0.5"')).toBe(2);
      expect(seriesValue(text, `${P}entities_processing_time_sum`, ...entity)).toBeCloseTo(0.6);
      // The agent's own endpoint is not an application request.
      expect(text).not.toContain('endpoint="/metrics"');
      expect(text).not.toContain('endpoint="/-/ready"');
      expect(seriesValue(text, `${P}nodejs_heap_used_bytes`)).toBeGreaterThan(0);
      expect(seriesValue(text, `${P}nodejs_eventloop_utilization`)).toBeLessThanOrEqual(1);
      // Closing its server ends the application normally: the preload keeps nothing alive.
      expect(await get(appPort, '/exit')).toBe(200);
      expect(await running.exited).toEqual({ code: 0, signal: null });
      expect(running.handle.output()).toContain('agent stopped');
    });
  });

  it("should label an Express application's requests with their routes", async () => {
    running = await startApp('--require', 'express-app.cjs');
    const { appPort, agentUrl } = running;
    for (const id of ['1', '22', 'abc']) expect(await get(appPort, `/api/users/${id}`)).toBe(200);
    const post = await fetch(`http://127.0.0.1:${appPort}/api/users/7/orders`, { method: 'POST' });
    expect(post.status).toBe(201);
    expect(await get(appPort, '/health')).toBe(200);
    expect(await get(appPort, '/nowhere/5')).toBe(404);
    const text = await scrapeUntil(agentUrl, 3, `${P}api_request_count_total`, 'endpoint="/api/users/:id"');
    expect(
      seriesValue(
        text,
        `${P}api_request_count_total`,
        'endpoint="/api/users/:id/orders"',
        'method="POST"',
        'status="201"',
      ),
    ).toBe(1);
    expect(seriesValue(text, `${P}api_request_count_total`, 'endpoint="/health"')).toBe(1);
    // No route matched: Express's 404 is labelled unmatched, not with its path.
    expect(seriesValue(text, `${P}api_request_count_total`, 'endpoint="unmatched"', 'status="404"')).toBe(1);
    expect(text).not.toContain('/nowhere');
  });

  it('should end an application on SIGTERM as if no agent were loaded', async () => {
    running = await startApp('--require', 'http-app.cjs');
    expect(await get(running.appPort, '/users/1')).toBe(200);
    running.handle.process.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('should bring the measurements of a worker thread pool to the main thread, once each', async () => {
    running = await startApp('--import', 'worker-pool.mjs');
    const { appPort, agentUrl } = running;
    expect(await get(appPort, '/run?tasks=1000')).toBe(200);
    const job = ['entity_type="job"', 'operation="compute"'];
    await scrapeUntil(agentUrl, 1000, `${P}entities_processed_total`, ...job);
    expect(await get(appPort, '/run?tasks=500')).toBe(200);
    await scrapeUntil(agentUrl, 1500, `${P}entities_processed_total`, ...job);
    // Two more collections later nothing was counted twice.
    const later = await afterCollections(agentUrl, 2);
    expect(seriesValue(later, `${P}entities_processed_total`, ...job)).toBe(1500);
    expect(seriesValue(later, `${P}entities_processing_time_bucket`, ...job, 'le="0.025"')).toBe(1500);
    expect(seriesValue(later, `${P}entities_processing_time_bucket`, ...job, 'le="0.01"')).toBe(0);
    const queues = later
      .split('\n')
      .filter((l) => l.startsWith(`${P}queue_items_processed_total{`))
      .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
    expect(queues).toHaveLength(4); // one queue per worker thread
    expect(queues.reduce((a, b) => a + b, 0)).toBe(1500);
    // The HTTP requests of the main thread are recorded there, once.
    expect(seriesValue(later, `${P}api_request_count_total`, 'endpoint="/run"')).toBe(2);
  });

  it("should record the latency of an ESM application's neo4j-driver queries", async () => {
    // No Neo4j server here: the connection is dropped at once, and the failing query still goes through the
    // driver's real Session and Result code; successful queries against a real server are covered by the unit
    // tests' stand-in, and against the Neo4j test server by dashboard-queries.test.ts (a preloaded application).
    // The Bolt port is held for the whole test by the server that drops the connections: a port from
    // freePort() is free again at once, and the application's or the agent's listen(0) could be handed it.
    const dropper = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = dropper.address() as net.AddressInfo;
      running = await startApp('--import', 'neo4j-app.mjs', { NEO4J_URI: `bolt://127.0.0.1:${port}` });
      const res = await fetch(`http://127.0.0.1:${running.appPort}/query`);
      expect(await res.text()).not.toBe('ok');
      const text = await scrapeUntil(
        running.agentUrl,
        1,
        `${P}neo4j_query_duration_count`,
        'database="default"',
        'query_kind="read"',
      );
      expect(seriesValue(text, `${P}neo4j_query_duration_bucket`, 'query_kind="read"', 'le="+Inf"')).toBe(1);
    } finally {
      dropper.close();
    }
  });

  it('should give the primary and every cluster worker an endpoint of its own, without EADDRINUSE', async () => {
    const base = await freePort();
    const appPort = await freePort();
    running = await startApp('--require', 'cluster-app.cjs', {
      PERF_MONITOR_PORT: String(base),
      APP_PORT: String(appPort),
    });
    const endpoints = [base, base + 1, base + 2].map((p) => `http://127.0.0.1:${p}`);
    for (const url of endpoints.slice(1)) {
      const ready = httpProbe(`${url}/-/ready`, 200);
      await waitFor(`${url}/-/ready`, async () => ((await ready().catch(() => false)) ? true : undefined));
    }
    for (let i = 0; i < 20; i++) expect(await get(appPort, `/orders/${i}`)).toBe(200);
    const counts = await waitFor('20 requests over the workers', async () => {
      const values = await Promise.all(
        endpoints.map(async (url) => {
          const { text } = await getText(`${url}/metrics`);
          return seriesValue(text, `${P}api_request_count_total`, 'endpoint="/orders/:num"') ?? 0;
        }),
      );
      return values[1]! + values[2]! === 20 ? values : undefined;
    });
    expect(counts[0]).toBe(0); // the primary serves no requests
    expect(running.handle.output()).not.toContain('EADDRINUSE');
    expect(running.handle.output()).not.toContain('not started');
  });
});

const collector = await collectorBinary();

describeService('OpenTelemetry Collector', collector, () => {
  it('should push the last measurements of an application that ends by itself', async () => {
    const otel = await startCollector({
      translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
      prometheusExporter: { without_scope_info: true, resource_to_telemetry_conversion: { enabled: true } },
    });
    const dir = tempDir('preload-otlp');
    try {
      const port = await freePort();
      // One collection at start (before the job records anything) and none after for a minute: what
      // reaches the Collector afterwards can only come from the final push on beforeExit.
      const config = writeConfig(dir, `  otlp:\n    endpoint: ${otel.otlpHttpUrl}\n    timeout: 5s\n`);
      const handle = await startServer(NODE, ['--import', 'perf-monitor-agent/register', 'short-job.mjs'], {
        cwd: APPS,
        env: { PERF_MONITOR_CONFIG: config, PERF_MONITOR_PORT: String(port), PERF_MONITOR_INTERVAL: '60s' },
        ready: /recorded/,
        timeoutMs: 30_000,
      });
      expect(await exitOf(handle.process)).toEqual({ code: 0, signal: null });
      expect(handle.output()).toContain('agent stopped');
      const text = await waitFor('the final batch at the Collector', async () => {
        const { text: t } = await getText(otel.prometheusUrl);
        return seriesValue(t, `${P}entities_processed_total`, 'entity_type="batch"') === undefined
          ? undefined
          : t;
      });
      expect(
        seriesValue(text, `${P}entities_processed_total`, 'entity_type="batch"', 'environment="preload"'),
      ).toBe(5);
      expect(seriesValue(text, `${P}queue_length`, 'queue_name="final"')).toBe(42);
    } finally {
      await otel.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
