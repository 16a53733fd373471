/**
 * Every query of grafana/dashboards/performance-monitor.json, run against a real Prometheus that scrapes
 * `perf-monitor demo` (the real executable: agent plus synthetic workload, a spike and an alert triggered),
 * which also pushes OTLP to the real Collector on the shipped config. The demo's agent also collects from
 * the real Neo4j test server, evaluates the default alert rules (the alert trigger makes them pending),
 * sends notifications, detects anomalies and forecasts, and runs read-only Cypher through neo4j-driver
 * (recorded by its driver hook); a small application started with the preload does the same against the
 * same Neo4j (the driver query panel, with two instances) and makes outgoing HTTP requests (the outgoing
 * HTTP panels). Every query must
 * parse and return data; the table of panel, query and series count is printed (there is no Grafana here
 * to render it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { Dashboard, Panel } from '@grafana/schema';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildDashboard } from '../../grafana/generate-dashboard.js';
import { allAvailable, describeService } from '../services/availability.js';
import { collectorBinary, startShippedCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import { prometheusAvailable, startPrometheus } from '../services/prometheus.js';
import type { PrometheusServer } from '../services/prometheus.js';
import { httpProbe, startServer } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';
import { neo4jAvailable, startNeo4j } from '../services/neo4j.js';
import type { Neo4jServer } from '../services/neo4j.js';
import {
  agentConfigText,
  builtCliAvailable,
  CLI,
  freePort,
  NODE,
  REPO_ROOT,
  tempDir,
  waitFor,
} from './agent-harness.js';
import { buildGraph, testDriver } from './neo4j-helpers.js';

const availability = allAvailable(
  builtCliAvailable(),
  await collectorBinary(),
  await prometheusAvailable(),
  await neo4jAvailable(),
);

/** The default config's alert rules, as YAML list items under performance_monitor.alerting.rules. */
function defaultRulesYaml(): string {
  const text = readFileSync(path.join(REPO_ROOT, 'config', 'performance_monitor_config.yaml'), 'utf8');
  const rules = (parse(text) as { performance_monitor: { alerting: { rules: unknown[] } } })
    .performance_monitor.alerting.rules;
  return stringify(rules)
    .trimEnd()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

/** Everything the dashboard shows besides system and application metrics, for the demo's agent. */
function demoExtra(dir: string, neo4j: Neo4jServer): string {
  return `  neo4j_metrics:
    uri: ${JSON.stringify(neo4j.boltUrl)}
    user: ${JSON.stringify(neo4j.user)}
    password: ${JSON.stringify(neo4j.password)}
    database: neo4j
    connection_timeout: 2s
    query_timeout: 3s
    collection_interval: 1s
    query_stats_interval: 1s
  alerting:
    enabled: true
    state_file: ${JSON.stringify(path.join(dir, 'alert_state.json'))}
    notifications:
      store_path: ${JSON.stringify(path.join(dir, 'notifications.db'))}
      group_wait: 1s
      channels:
        - { type: log, level: warning, enabled: true }
    rules:
${defaultRulesYaml()}
trend_analysis:
  enabled: true
  storage:
    path: ${JSON.stringify(path.join(dir, 'history'))}
  anomaly_detection:
    enabled: true
    min_samples: 5
    window_samples: 30
  forecasts:
    - { metric: disk_usage_percent, threshold: 100, window: 1m }
    - { metric: queue_length, threshold: 1000, window: 1m }
`;
}

const dashboard: Dashboard = buildDashboard();
const panels = (dashboard.panels ?? []).filter((p): p is Panel => p.type !== 'row');

/**
 * Server counters Neo4j Community does not have (docs/neo4j.md: Enterprise metrics only). On a
 * Community server a query of these alone may return nothing, as long as its panel shows data otherwise.
 */
const ENTERPRISE_ONLY = [
  'multi_agent_system_neo4j_transactions_committed_total',
  'multi_agent_system_neo4j_transactions_rolled_back_total',
];
function enterpriseOnly(expr: string): boolean {
  const names = [...expr.matchAll(/multi_agent_system_[a-z0-9_]+/g)].map((m) => m[0]);
  return names.length > 0 && names.every((n) => ENTERPRISE_ONLY.includes(n));
}

interface QueryResult {
  expr: string;
  series: number;
  error?: string;
}

/** What Grafana substitutes: All for both variables, a rate window of a few scrape intervals. */
function substitute(expr: string): string {
  return expr
    .replaceAll('$environment', '.*')
    .replaceAll('$instance', '.*')
    .replaceAll('$__rate_interval', '10s');
}

describeService('Prometheus, OpenTelemetry Collector and perf-monitor demo', availability, () => {
  let collector: CollectorServer;
  let prometheus: PrometheusServer;
  let demo: ServerHandle;
  let neo4j: Neo4jServer;
  let app: ServerHandle;
  const results = new Map<number, QueryResult[]>();
  let stopQueries = (): void => undefined;
  let edition = 'unknown';

  beforeAll(async () => {
    neo4j = await startNeo4j();
    const driver = testDriver(neo4j);
    try {
      await buildGraph(driver);
      // The server's query statistics (the Neo4j Query Duration panel) are collected once asked for.
      await driver.executeQuery("CALL db.stats.collect('QUERIES')", {}, { database: 'neo4j' });
      const { records } = await driver.executeQuery('CALL dbms.components() YIELD edition RETURN edition');
      edition = String(records[0]?.get('edition'));
    } finally {
      await driver.close();
    }
    collector = await startShippedCollector();
    const port = await freePort();
    const dir = tempDir('dashboard');
    const file = path.join(dir, 'demo.yaml');
    writeFileSync(
      file,
      agentConfigText({
        port,
        interval: '1s',
        otlpEndpoint: collector.otlpHttpUrl,
        labels: { environment: 'demo', instance: 'demo-host' },
        extra: demoExtra(dir, neo4j),
      }).replace(
        'enabled_collectors: [system, application]',
        'enabled_collectors: [system, application, neo4j]',
      ),
    );
    // An application with the preload: its neo4j-driver queries are the Driver Query Duration panel.
    const appAgentPort = await freePort();
    const appConfig = path.join(dir, 'app.yaml');
    writeFileSync(
      appConfig,
      `performance_monitor:
  collection_interval: 1s
  enabled_collectors: [application]
  prometheus:
    host: 127.0.0.1
    port: ${appAgentPort}
    default_labels:
      environment: demo
      instance: demo-app
`,
    );
    app = await startServer(NODE, ['--import', 'perf-monitor-agent/register', 'neo4j-app.mjs'], {
      cwd: path.join(REPO_ROOT, 'test', 'fixtures', 'apps'),
      env: { PERF_MONITOR_CONFIG: appConfig, NEO4J_URI: neo4j.boltUrl, NEO4J_PASSWORD: neo4j.password ?? '' },
      ready: httpProbe(`http://127.0.0.1:${appAgentPort}/-/ready`, 200),
      timeoutMs: 30_000,
    });
    const appPort = await waitFor('the application port', () => {
      const m = /listening (\d+)/.exec(app.output());
      return Promise.resolve(m === null ? undefined : Number(m[1]));
    });
    // A few queries now and one per second while Prometheus scrapes (rates need two scrapes).
    // Each also makes the application's outgoing requests (one answered, one refused): the Outgoing HTTP panels.
    const query = async (): Promise<void> => {
      const res = await fetch(`http://127.0.0.1:${appPort}/query`);
      expect(await res.text()).toBe('ok');
      const out = await fetch(`http://127.0.0.1:${appPort}/outgoing`);
      expect(await out.text()).toBe('ok');
    };
    for (let i = 0; i < 5; i++) await query();
    const queries = setInterval(() => void query().catch(() => undefined), 1000);
    queries.unref();
    stopQueries = () => clearInterval(queries);
    demo = await startServer(
      NODE,
      [CLI, 'demo', '-c', file, '--tick', '100ms', '--spike-at', '2s', '--alert-at', '6s'],
      {
        ready: httpProbe(`http://127.0.0.1:${port}/-/ready`, 200),
        timeoutMs: 30_000,
      },
    );
    prometheus = await startPrometheus({
      targets: [`127.0.0.1:${port}`, `127.0.0.1:${appAgentPort}`],
      scrapeIntervalSeconds: 1,
    });
    // Rates need two scrapes after the first error and the alert values; wait for the slowest to appear.
    await prometheus.waitFor(
      'rate(multi_agent_system_agent_error_count_total[10s]) > 0',
      (v) => v.length > 0,
      60_000,
    );
    await prometheus.waitFor('multi_agent_system_queue_length > 1000', (v) => v.length > 0, 60_000);
    // The last to appear: pending alerts (evaluated after the alert values), anomaly scores (after
    // min_samples), the server's query statistics and the driver queries' rate.
    for (const expr of [
      'multi_agent_system_anomaly_score',
      'multi_agent_system_neo4j_query_duration_p95',
      'rate(multi_agent_system_neo4j_query_duration_count[10s]) > 0',
      // The demo's own read-only Cypher, through its neo4j-driver, recorded by its agent.
      'multi_agent_system_neo4j_query_duration_count{agent_instance="demo-host", query_kind="read"} > 0',
      // The demo's alert values, not a host alert that comes and goes (CPU on a busy machine): the
      // queue_backlog rule holds them pending for its 5 min duration.
      'multi_agent_system_alerts{alertname="queue_backlog", alertstate="pending", agent_instance="demo-host"}',
    ])
      await prometheus.waitFor(expr, (v) => v.length > 0, 60_000);
    // The last series waited for may be a single scrape old: a few more scrapes, so the window's last
    // steps hold it.
    await new Promise((r) => setTimeout(r, 4000));
    const end = Math.floor(Date.now() / 1000);
    const lines: string[] = [];
    for (const p of panels) {
      const out: QueryResult[] = [];
      for (const t of (p.targets ?? []) as { expr: string }[]) {
        try {
          const series = await prometheus.queryRange(substitute(t.expr), {
            startS: end - 30,
            endS: end,
            stepS: 2,
          });
          out.push({ expr: t.expr, series: series.filter((s) => s.values.length > 0).length });
        } catch (err) {
          out.push({ expr: t.expr, series: 0, error: String(err) });
        }
      }
      results.set(p.id!, out);
      for (const r of out)
        lines.push(
          `${(p.title ?? '').padEnd(36)} ${String(r.series).padStart(4)}  ${r.expr}${r.error ? `  ERROR ${r.error}` : ''}${r.series === 0 && enterpriseOnly(r.expr) ? `  (absent: Neo4j ${edition} has no such counter)` : ''}`,
        );
    }
    console.log(`panel                                series  query\n${lines.join('\n')}`);
  });

  afterAll(async () => {
    stopQueries();
    await prometheus?.stop();
    await app?.stop();
    await demo?.stop();
    await collector?.stop();
    await neo4j?.stop();
  }, 60_000);

  it('should start a spike on SIGUSR2 and report the --spike-at and --alert-at triggers', async () => {
    demo.process.kill('SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (!demo.output().includes('spike started (SIGUSR2)') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(demo.output()).toContain('spike started (--spike-at 2s)');
    expect(demo.output()).toContain('alert values started (--alert-at 6s)');
    expect(demo.output()).toContain('spike started (SIGUSR2)');
    expect(demo.output()).toContain(`read-only Cypher queries against ${neo4j.boltUrl}`);
  });

  it.each(panels.map((p) => [`${p.title ?? ''} (panel ${p.id})`, p.id!] as const))(
    'should return data for every query of panel %s',
    (_title, id) => {
      const out = results.get(id) ?? [];
      expect(out.length).toBeGreaterThan(0);
      for (const r of out) {
        expect(r.error, r.expr).toBeUndefined();
        if (r.series === 0 && edition === 'community' && enterpriseOnly(r.expr)) {
          expect(out.some((o) => o.series > 0 && !enterpriseOnly(o.expr))).toBe(true);
          continue;
        }
        expect(r.series, `no series for ${r.expr}`).toBeGreaterThan(0);
      }
    },
  );
});
