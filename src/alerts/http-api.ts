/**
 * GET /api/v1/alerts: the pending and firing alerts, in the shape of Prometheus' own /api/v1/alerts answer
 * (`{status, data: {alerts: [{labels, annotations, state, activeAt, value}]}}`, value as Go's %e text).
 */
import type { Route } from '../model/route.js';
import type { RuleEngine } from './engine.js';
import { formatGoExp } from './template.js';

export interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

function alertsApiBody(engine: RuleEngine | undefined): {
  status: 'success';
  data: { alerts: ApiAlert[] };
} {
  const alerts = (engine?.activeAlerts() ?? []).map((a): ApiAlert => ({
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    state: a.state as 'pending' | 'firing',
    activeAt: new Date(a.activeAtMs).toISOString(),
    ...(a.keepFiringSinceMs === undefined
      ? {}
      : { keepFiringSince: new Date(a.keepFiringSinceMs).toISOString() }),
    value: formatGoExp(a.value),
  }));
  return { status: 'success', data: { alerts } };
}

/** The route; `engine` is read on every request so that it follows reloads. */
export function alertsRoute(engine: () => RuleEngine | undefined): Route {
  return {
    path: '/api/v1/alerts',
    description: 'pending and firing alerts (JSON, as Prometheus /api/v1/alerts)',
    handler: (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify(alertsApiBody(engine()))}\n`);
    },
  };
}
