import { loadConfigFile } from '../../agent/load-config.js';
import type { Env } from '../../config/load.js';
import { AgentError, errorMessage } from '../../lib/errors.js';
import type { CliIo } from '../io.js';

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
  value: string;
}

/**
 * `alerts`: lists the pending and firing alerts of a running agent (GET /api/v1/alerts). The URL is --url,
 * or the endpoint the configuration file names.
 */
export async function alertsCommand(
  file: string,
  env: Env,
  url: string | undefined,
  json: boolean,
  io: CliIo,
): Promise<number> {
  let base = url;
  if (base === undefined) {
    const prom = (await loadConfigFile(file, env)).config.performance_monitor.prometheus;
    const host = prom.host === '0.0.0.0' || prom.host === '::' ? '127.0.0.1' : prom.host;
    base = `${prom.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${prom.port}`;
  }
  const target = `${base.replace(/\/+$/, '')}/api/v1/alerts`;
  let body: { status?: string; data?: { alerts?: ApiAlert[] } };
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new AgentError('E_AGENT_API', `HTTP ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new AgentError('E_AGENT_API', `cannot read ${target}: ${errorMessage(err)}`, { cause: err });
  }
  const alerts = body.data?.alerts ?? [];
  if (json) {
    io.out(JSON.stringify(alerts, null, 2));
    return 0;
  }
  if (alerts.length === 0) {
    io.out('no active alerts');
    return 0;
  }
  for (const a of alerts) {
    const { alertname, ...rest } = a.labels;
    const labels = Object.entries(rest)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ');
    const summary = a.annotations.summary === undefined ? '' : `  ${a.annotations.summary}`;
    io.out(
      `${a.state.padEnd(8)} ${alertname ?? ''} {${labels}} since ${a.activeAt} value ${a.value}${summary}`,
    );
  }
  return 0;
}
