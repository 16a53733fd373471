/**
 * GET /api/v1/trends (window statistics of a metric) and GET /api/v1/anomalies (the online anomaly state of
 * every monitored series, or a scan of a metric's history): JSON answers, with non-finite numbers written as
 * Prometheus writes them ("+Inf", "-Inf"; NaN as null). A bad query is a 400, a failing history a 502.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentError, errorMessage } from '../lib/errors.js';
import type { Labels } from '../model/metric.js';
import type { Route } from '../model/route.js';
import type { DetectorSettings } from './anomaly.js';
import { parseLabelMatchers } from './metric-query.js';

/** What the routes ask of the trend service (TrendService); the answers are only written out. */
export interface TrendQueries {
  readonly detectorSettings: Readonly<DetectorSettings>;
  getTrendStatistics(metric: string, window: string, labels: Labels): Promise<readonly unknown[]>;
  detectAnomalies(metric: string, opts: { window: string; labels: Labels }): Promise<readonly unknown[]>;
  anomalies(metric?: string): readonly unknown[];
}

function json(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? '+Inf' : '-Inf') : v))}\n`;
}

type Respond = (status: number, body: unknown) => void;

/** A GET route answering JSON; what `answer` throws is an error answer (E_USAGE: 400, else 502). */
function jsonRoute(
  path: string,
  description: string,
  answer: (q: URLSearchParams, respond: Respond) => Promise<void>,
): Route {
  return {
    path,
    description,
    handler: async (req: IncomingMessage, res: ServerResponse) => {
      const respond: Respond = (status, body) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(json(body));
      };
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      try {
        await answer(q, respond);
      } catch (err) {
        respond(err instanceof AgentError && err.code === 'E_USAGE' ? 400 : 502, {
          status: 'error',
          error: errorMessage(err),
        });
      }
    },
  };
}

export function trendRoutes(trends: TrendQueries): Route[] {
  return [
    jsonRoute(
      '/api/v1/trends',
      'window statistics: ?metric=cpu_percent&window=24h&labels=k=v',
      async (q, respond) => {
        const metric = q.get('metric');
        const window = q.get('window') ?? '1h';
        if (metric === null || metric === '')
          return respond(400, { status: 'error', error: 'metric is required' });
        const labels = parseLabelMatchers(q.get('labels') ?? undefined);
        const series = await trends.getTrendStatistics(metric, window, labels);
        respond(200, { status: 'success', metric, window, labels, series });
      },
    ),
    jsonRoute(
      '/api/v1/anomalies',
      'anomaly score and flag of every monitored series; ?metric=…&window=… scans the history',
      async (q, respond) => {
        const metric = q.get('metric') ?? undefined;
        const window = q.get('window') ?? undefined;
        const s = trends.detectorSettings;
        const detector = {
          algorithm: s.algorithm,
          sensitivity: s.sensitivity,
          min_samples: s.minSamples,
          seasonality: s.seasonality,
        };
        if (metric !== undefined && window !== undefined) {
          const labels = parseLabelMatchers(q.get('labels') ?? undefined);
          const found = await trends.detectAnomalies(metric, { window, labels });
          return respond(200, { status: 'success', detector, metric, window, anomalies: found });
        }
        respond(200, { status: 'success', detector, series: trends.anomalies(metric) });
      },
    ),
  ];
}
