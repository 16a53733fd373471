/**
 * OTLP endpoint down for a long stretch: the real executable collects every 200 ms and pushes to a loopback
 * port where first nothing listens, then a server accepts requests and never answers, then one answers 503.
 * The exporter never has more than one export in flight (the endpoint never sees more than one request
 * open at a time) and queues nothing (most collections are never exported), collections go on at their
 * pace, the failure is logged once, and pushes resume when a real OpenTelemetry Collector comes up on that
 * port.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { allAvailable, describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import type { ServerHandle } from '../services/process.js';
import {
  agentConfigText,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';

const INTERVAL_MS = 200;
const PHASE_MS = 6_000;

/** An OTLP endpoint that misbehaves: it holds every request open (`hang`) or answers 503. */
class BadEndpoint {
  requests = 0;
  open = 0;
  maxOpen = 0;
  private readonly _sockets = new Set<Socket>();
  private readonly _server: http.Server;

  constructor(mode: 'hang' | '503') {
    this._server = http.createServer((req, res) => {
      this.requests++;
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.open--;
      };
      req.on('close', finish);
      res.on('close', finish);
      req.resume();
      if (mode === '503') {
        req.on('end', () => {
          res.writeHead(503, { 'Content-Type': 'text/plain' });
          res.end('unavailable\n');
        });
      }
    });
    this._server.on('connection', (s) => {
      this._sockets.add(s);
      s.on('close', () => this._sockets.delete(s));
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this._server.once('error', reject);
      this._server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this._server.close(() => resolve()));
    for (const s of this._sockets) s.destroy();
    await closed;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeService(
  'perf-monitor executable and OpenTelemetry Collector',
  allAvailable(builtCliAvailable(), await collectorBinary()),
  () => {
    let handle: ServerHandle | undefined;
    let endpoint: BadEndpoint | undefined;
    let collector: CollectorServer | undefined;
    afterAll(async () => {
      await handle?.stop();
      await endpoint?.close();
      await collector?.stop();
    });

    it('should keep one export in flight at most while the endpoint is down, and push again when it is back', async () => {
      const otlpPort = await freePort();
      const port = await freePort();
      const file = path.join(tempDir('otlp-down'), 'agent.yaml');
      fs.writeFileSync(
        file,
        agentConfigText({
          port,
          interval: `${INTERVAL_MS}ms`,
          otlpEndpoint: `http://127.0.0.1:${otlpPort}/v1/metrics`,
        }).replace('level: debug', 'level: info'),
      );
      handle = await startCliAgent(file, port);
      const h = handle;
      const metrics = async (): Promise<string> => (await getText(`http://127.0.0.1:${port}/metrics`)).text;
      const collections = async (): Promise<number> =>
        seriesValue(await metrics(), 'multi_agent_system_monitor_collections_total') ?? 0;

      // Nothing listens: connections are refused.
      await sleep(PHASE_MS / 2);
      const c0 = await collections();

      // A server that takes requests and never answers; then one that answers 503.
      for (const mode of ['hang', '503'] as const) {
        endpoint = new BadEndpoint(mode);
        await endpoint.listen(otlpPort);
        await sleep(PHASE_MS);
        expect(endpoint.requests, mode).toBeGreaterThan(0);
        expect(endpoint.maxOpen, mode).toBe(1);
        await endpoint.close();
        endpoint = undefined;
      }
      const c1 = await collections();
      // Collections went on at their pace, whatever the exporter was waiting for.
      expect(c1 - c0).toBeGreaterThan((2 * PHASE_MS) / INTERVAL_MS / 2);
      const text = await metrics();
      const exports = seriesValue(text, 'multi_agent_system_monitor_otlp_exports_total') ?? 0;
      const failures = seriesValue(text, 'multi_agent_system_monitor_otlp_export_failures_total') ?? 0;
      // Most collections were not exported (one export at a time, no queue); every export failed.
      expect(exports).toBeLessThan(c1 / 2);
      expect(failures).toBeGreaterThanOrEqual(exports - 1);
      expect(h.output().match(/OTLP export failed/g)).toHaveLength(1);
      collector = await startCollector({
        otlpHttpPort: otlpPort,
        translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
        prometheusExporter: { without_scope_info: true },
      });
      const c = collector;
      await waitFor('pushes to resume', async () => {
        const pushed = seriesValue(
          (await getText(c.prometheusUrl)).text,
          'multi_agent_system_monitor_collections_total',
        );
        return pushed !== undefined && pushed > c1 ? true : undefined;
      });
      await waitFor('the recovery to be logged', () =>
        Promise.resolve(h.output().includes('OTLP export recovered') ? true : undefined),
      );
      expect(h.process.exitCode).toBeNull();
    });
  },
  'OTLP endpoint down for a long stretch',
);
