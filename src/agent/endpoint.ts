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
import type { ChartMarker, ChartWindowName, ChartsInput } from '../export/status-charts.js';
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
      handler: async (req, res) => {
        // The status page is loaded with the first request for it.
        const page = await import('../export/status-page.js');
        const charts = await import('../export/status-charts.js');
        const asked = new URL(req.url ?? '/', 'http://x').searchParams.get('window');
        const window = charts.CHART_WINDOWS.find((w) => w === asked) ?? '1h';
        const sections = await statusSections(ctx, sources, page.renderStatusSections);
        const chartData = await chartsInput(ctx, sources, window);
        const html = renderLandingPage({
          version: ctx.version(),
          routes,
          summary: sources.summary(),
          sections: chartData === undefined ? sections : `${sections}\n${charts.renderCharts(chartData)}`,
          style: `${page.STATUS_PAGE_STYLE}${charts.CHARTS_STYLE}`,
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

/** Window length and the history tier a chart window reads: raw for an hour, then the rollups. */
const CHART_TIERS: Record<ChartWindowName, { ms: number; resolution: 'raw' | '1m' | '1h' }> = {
  '1h': { ms: 3_600_000, resolution: 'raw' },
  '24h': { ms: 86_400_000, resolution: '1m' },
  '7d': { ms: 7 * 86_400_000, resolution: '1h' },
};
/** Bounds of one page request: points per line, lines per metric. */
const CHART_LIMITS = { maxPoints: 120, maxSeries: 8 };

/** The charts' data (undefined without trend analysis): history of every catalog metric, alert and anomaly markers. */
async function chartsInput(
  ctx: AgentContext,
  sources: EndpointSources,
  window: ChartWindowName,
): Promise<ChartsInput | undefined> {
  const trends = sources.trends();
  if (trends === undefined) return undefined;
  const tier = CHART_TIERS[window];
  const toMs = ctx.clock.nowMs();
  const fromMs = toMs - tier.ms;
  const { catalogByDashboardGroup } = await import('../catalog/dashboard-groups.js');
  const groups = catalogByDashboardGroup();
  const lines = await trends
    .charts(
      groups.flatMap((g) => g.metrics),
      { fromMs, toMs, resolution: tier.resolution },
      CHART_LIMITS,
    )
    .catch((err: unknown) => {
      ctx.logger().warn('status page chart query failed', { error: errorMessage(err) });
      return [];
    });
  const markers: ChartMarker[] = [];
  try {
    const engine = sources.alerting();
    if (engine !== undefined) {
      const metricOf = new Map(engine.rules.map((r) => [r.name, r.metric.name]));
      for (const a of engine.activeAlerts()) {
        const metric = metricOf.get(a.rule);
        if (metric === undefined) continue;
        markers.push({
          kind: 'alert',
          metric,
          labels: a.labels,
          timestampMs: Math.max(fromMs, a.firedAtMs ?? a.activeAtMs),
          state: a.state,
          text: `${a.labels.alertname ?? a.rule} ${a.state} since ${new Date(a.firedAtMs ?? a.activeAtMs).toISOString()}`,
        });
      }
    }
  } catch (err) {
    ctx.logger().warn('alert markers failed', { error: errorMessage(err) });
  }
  for (const a of trends.recentAnomalies())
    if (a.timestampMs >= fromMs)
      markers.push({
        kind: 'anomaly',
        metric: a.metric,
        labels: a.labels,
        timestampMs: a.timestampMs,
        text: `anomalous value ${a.value} (score ${a.score.toFixed(1)}) at ${new Date(a.timestampMs).toISOString()}`,
      });
  return { window, fromMs, toMs, groups, lines, markers };
}
