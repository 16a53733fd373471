/**
 * The HTTP endpoint as a component: /metrics, health and readiness, the routes of the other components
 * (looked up at request time, so a reload that rebuilds a component is seen), the alerts and silences APIs,
 * routes a program added, and the landing page with the status sections. It owns its port: a reload that
 * changes its settings stops it first and, when the new one cannot open, opens it again as it was.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RuleEngine } from '../alerts/engine.js';
import { alertsRoute } from '../alerts/http-api.js';
import type { SilenceStore } from '../alerts/silences.js';
import { silenceRoutes } from '../alerts/silences-api.js';
import type { Alert } from '../alerts/types.js';
import type { AgentConfig } from '../config/schema.js';
import { HttpServer } from '../export/http-server.js';
import { renderLandingPage } from '../export/landing-page.js';
import type { StatusPageInput } from '../export/status-page.js';
import { serveMetrics } from '../export/prometheus.js';
import type { MetricsPayload } from '../export/prometheus.js';
import { errorMessage } from '../lib/errors.js';
import type { Route } from '../model/route.js';
import type { TrendService } from '../trends/trend-service.js';
import type { Component } from './component.js';
import type { AgentContext } from './context.js';
import type { MetricsSummary } from './options.js';

/** What the endpoint serves, read at request time from the agent. */
export interface EndpointSources {
  payload(): MetricsPayload | undefined;
  countScrape(): void;
  health(): { ok: boolean; state: string; lastCollectionAgeSeconds?: number };
  ready(): boolean;
  /** Routes of the running components. */
  componentRoutes(): readonly Route[];
  alerting(): RuleEngine | undefined;
  silences(): SilenceStore | undefined;
  /** Active alerts for the status page. */
  activeAlerts(): readonly Alert[];
  trends(): TrendService | undefined;
  summary(): MetricsSummary;
  /** Routes a program added before start. */
  readonly extraRoutes: readonly Route[];
}

export class Endpoint implements Component {
  readonly name = 'http server';
  readonly server: HttpServer;

  constructor(config: AgentConfig, ctx: AgentContext, sources: EndpointSources) {
    const prom = config.performance_monitor.prometheus;
    const routes: Route[] = [
      {
        path: '/metrics',
        description: 'metrics in the Prometheus text format',
        handler: (req, res) => serveMetrics(req, res, sources.payload(), () => sources.countScrape()),
      },
      {
        path: '/healthz',
        description: 'liveness: 200 while collections keep running',
        public: true,
        handler: (_req, res) => {
          const health = sources.health();
          res.writeHead(health.ok ? 200 : 503, { 'Content-Type': 'application/json' });
          res.end(`${JSON.stringify(health)}\n`);
        },
      },
      {
        path: '/-/ready',
        description: 'readiness: 200 once the first collection is done',
        public: true,
        handler: (_req, res) => {
          const ready = sources.ready();
          res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end(ready ? 'ready\n' : 'not ready\n');
        },
      },
      ...sources.componentRoutes().map((r) => currentRoute(r, sources)),
      alertsRoute(() => sources.alerting()),
      ...silenceRoutes(() => sources.silences(), ctx.clock),
      ...sources.extraRoutes,
    ];
    routes.push({
      path: '/',
      description: 'this page',
      handler: async (_req, res) => {
        // The status page is loaded with the first request for it.
        const page = await import('../export/status-page.js');
        const html = renderLandingPage({
          version: ctx.version(),
          routes,
          summary: sources.summary(),
          sections: await statusSections(ctx, sources, page.renderStatusSections),
          style: page.STATUS_PAGE_STYLE,
        });
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(html);
      },
    });
    this.server = new HttpServer({
      host: prom.host,
      port: prom.port,
      tls:
        prom.tls === undefined
          ? undefined
          : {
              certFile: prom.tls.cert_file,
              keyFile: prom.tls.key_file,
              clientCaFile: prom.tls.client_ca_file,
              minVersion: prom.tls.min_version === 'TLS13' ? 'TLSv1.3' : 'TLSv1.2',
            },
      basicAuthUsers: prom.basic_auth_users,
      requestTimeoutMs: prom.request_timeout.ms,
      routes,
      logger: ctx.logger().child({ component: 'http' }),
      portSource: 'performance_monitor.prometheus.port',
      unref: ctx.opts.embedded === true,
    });
  }

  start(): Promise<void> {
    return this.server.start();
  }

  shutdown(): Promise<void> {
    return this.server.shutdown();
  }
}

/** A component's route, served by the component in force at request time (404 once none serves it). */
function currentRoute(r: Route, sources: EndpointSources): Route {
  return {
    ...r,
    handler: (req: IncomingMessage, res: ServerResponse) => {
      const current = sources.componentRoutes().find((c) => c.path === r.path);
      if (current !== undefined) return current.handler(req, res);
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"status":"error","error":"trend analysis is not enabled"}\n');
    },
  };
}

async function statusSections(
  ctx: AgentContext,
  sources: EndpointSources,
  renderStatusSections: (input: StatusPageInput) => string,
): Promise<string> {
  let alerts: readonly Alert[] | undefined;
  try {
    alerts = sources.activeAlerts();
  } catch (err) {
    ctx.logger().warn('active alerts provider failed', { error: errorMessage(err) });
  }
  const trends = sources.trends();
  if (trends === undefined) return renderStatusSections({ alerts });
  const toMs = ctx.clock.nowMs();
  const fromMs = toMs - 3_600_000;
  const sparklines = await trends.sparklines(trends.sparklineMetrics, fromMs, toMs).catch((err: unknown) => {
    ctx.logger().warn('status page history query failed', { error: errorMessage(err) });
    return [];
  });
  return renderStatusSections({
    alerts,
    trends: {
      anomalies: trends.anomalies(),
      forecasts: trends.forecasts(),
      sparklines,
      fromMs,
      toMs,
      anomalyDetection: trends.anomalyDetectionEnabled,
    },
  });
}
