/**
 * From one host to a fleet: five agents on the shipped default config (each with its own host name, as
 * five machines would have) push OTLP to one Collector on the shipped otel-collector/config.yaml; a real
 * Prometheus scrapes the Collector with the shipped prometheus.yml's Collector job relabeling. Queries per
 * instance see all five, each with its own values. That Prometheus also loads the alert rules exported by
 * `perf-monitor rules export`: the shipped config/prometheus/rules/perf-monitor.rules.yml (the default
 * rules, `for` of minutes) and an export of the same rules with `duration: 0` and a 1 s evaluation
 * interval; one host's queue is past the queue_backlog threshold, and only that host alerts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { loadConfigFile } from '../../src/agent/load-config.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { allAvailable, describeService } from '../services/availability.js';
import { collectorBinary, startShippedCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import { prometheusAvailable, startPrometheus } from '../services/prometheus.js';
import type { PrometheusServer, PromVector } from '../services/prometheus.js';
import { rulesExportCommand } from '../../src/cli/commands/rules.js';
import { freePort, tempDir } from './agent-harness.js';
import { shippedScrapeJob } from './series-compare.js';

const DEFAULT_CONFIG = fileURLToPath(
  new URL('../../config/performance_monitor_config.yaml', import.meta.url),
);
const SHIPPED_RULES = fileURLToPath(
  new URL('../../config/prometheus/rules/perf-monitor.rules.yml', import.meta.url),
);
/** The rules of the default config, as many as the shipped rule file holds. */
const RULE_COUNT = (readFileSync(SHIPPED_RULES, 'utf8').match(/^ {6}- alert: /gm) ?? []).length;
const FLEET = [1, 2, 3, 4, 5].map((i) => ({ i, host: `fleet-host-${i}` }));
/** The one host whose queue is past the queue_backlog rule's threshold (> 1000). */
const BACKLOGGED = 'fleet-host-3';

/**
 * The default config with every rule's duration 0 and a 1 s evaluation interval, exported by
 * `perf-monitor rules export` into dir: the default rules, firing on the first evaluation.
 */
async function exportImmediateRules(dir: string): Promise<string> {
  const text = readFileSync(DEFAULT_CONFIG, 'utf8');
  const immediate = text
    .replace(/^( {4}rules:\n)/m, '    evaluation_interval: 1s\n$1')
    .replaceAll(/^( +duration:) \d+$/gm, '$1 0');
  if (immediate === text || !immediate.includes('evaluation_interval: 1s'))
    throw new Error('the default config has no alerting.rules to rewrite');
  const file = path.join(dir, 'immediate.yaml');
  writeFileSync(file, immediate);
  const out = path.join(dir, 'immediate.rules.yml');
  const messages: string[] = [];
  const code = await rulesExportCommand(file, {}, out, {
    out: (l) => messages.push(l),
    err: (l) => messages.push(l),
  });
  if (code !== 0) throw new Error(`rules export failed: ${messages.join('\n')}`);
  return out;
}

interface RuleGroups {
  groups: { file: string; rules: { name: string; health: string; lastError?: string }[] }[];
}

const availability = allAvailable(await collectorBinary(), await prometheusAvailable());

/** agent_instance → value, from a vector with one sample per instance. */
function byInstance(v: PromVector): Record<string, number> {
  return Object.fromEntries(v.map((s) => [s.metric.agent_instance ?? '?', Number(s.value[1])]));
}

describeService('OpenTelemetry Collector and Prometheus (fleet of five agents)', availability, () => {
  let collector: CollectorServer;
  let prometheus: PrometheusServer;
  const agents: PerformanceMonitorAgent[] = [];

  beforeAll(async () => {
    collector = await startShippedCollector();
    for (const { i, host } of FLEET) {
      // What each host of the fleet section of docs/deployment.md sets: the shipped config plus environment variables.
      const env = {
        PERF_MONITOR_HOST: '127.0.0.1',
        PERF_MONITOR_PORT: String(await freePort()),
        PERF_MONITOR_INTERVAL: '1s',
        ENVIRONMENT: 'fleet',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: collector.otlpHttpUrl,
        // Each host has its own state directory (alert state, outbox, history), as under systemd.
        STATE_DIRECTORY: tempDir(`fleet-${host}`),
      };
      const { config } = await loadConfigFile(DEFAULT_CONFIG, env);
      const agent = new PerformanceMonitorAgent({ config, env, hostname: host, logger: new MemoryLogger() });
      await agent.start();
      agents.push(agent);
      const app = agent.getApplicationCollector();
      app.setQueueLength('orders', 100 * i);
      for (let n = 0; n < i; n++) app.recordApiRequest('/checkout', 'POST', 0.05 * i, 200);
      for (let n = 0; n < 2 * i; n++) app.recordCacheHit('catalog');
      if (host === BACKLOGGED) app.setQueueLength('ingest', 1500);
    }
    const { metric_relabel_configs } = shippedScrapeJob('perf-monitor-collector');
    prometheus = await startPrometheus({
      targets: [`127.0.0.1:${collector.prometheusPort}`],
      scrapeIntervalSeconds: 1,
      extraScrapeConfig: { metric_relabel_configs },
      ruleFiles: [SHIPPED_RULES, await exportImmediateRules(tempDir('fleet-rules'))],
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(agents.map((a) => a.stop()));
    await collector?.stop();
  });

  it('should list the five instances the dashboard instance variable offers', async () => {
    const v = await prometheus.waitFor(
      'count by (agent_instance) (multi_agent_system_monitor_build_info{environment="fleet"})',
      (r) => r.length === 5,
      60_000,
    );
    expect(Object.keys(byInstance(v)).sort()).toEqual(FLEET.map((f) => f.host));
  });

  it('should give each instance its own application values', async () => {
    const expected = (f: (i: number) => number): Record<string, number> =>
      Object.fromEntries(FLEET.map(({ i, host }) => [host, f(i)]));
    const queue = await prometheus.waitFor(
      'multi_agent_system_queue_length{environment="fleet", queue_name="orders"}',
      (r) => r.length === 5,
      30_000,
    );
    expect(byInstance(queue)).toEqual(expected((i) => 100 * i));
    const requests = await prometheus.waitFor(
      'sum by (agent_instance) (multi_agent_system_api_request_count_total{environment="fleet", endpoint="/checkout"})',
      (r) => r.length === 5,
      30_000,
    );
    expect(byInstance(requests)).toEqual(expected((i) => i));
    const hits = await prometheus.waitFor(
      'sum by (agent_instance) (multi_agent_system_cache_hits_total{environment="fleet", cache_name="catalog"})',
      (r) => r.length === 5,
      30_000,
    );
    expect(byInstance(hits)).toEqual(expected((i) => 2 * i));
    const meanLatency = await prometheus.waitFor(
      'sum by (agent_instance) (multi_agent_system_api_request_duration_sum{environment="fleet"}) / sum by (agent_instance) (multi_agent_system_api_request_duration_count{environment="fleet"})',
      (r) => r.length === 5,
      30_000,
    );
    for (const [host, value] of Object.entries(byInstance(meanLatency))) {
      const i = Number(host.slice(-1));
      expect(value).toBeCloseTo(0.05 * i, 9);
    }
  });

  it('should carry the host metrics of every instance with only the agent labels, and answer per-instance threshold queries', async () => {
    const cpu = await prometheus.waitFor(
      'multi_agent_system_cpu_percent{environment="fleet"}',
      (r) => r.length === 5,
      30_000,
    );
    for (const s of cpu) {
      expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
      expect(Number(s.value[1])).toBeLessThanOrEqual(100);
      // The Collector's own labels are dropped by the shipped relabeling: only the agent's remain.
      expect(Object.keys(s.metric).sort()).toEqual(
        ['__name__', 'agent_instance', 'environment', 'instance', 'job', 'version'].sort(),
      );
    }
    // The orders queue is > 250 on hosts 3, 4 and 5; the queue_backlog rule's condition (> 1000) holds
    // only for the backlogged host's ingest queue.
    const over = await prometheus.query(
      'multi_agent_system_queue_length{environment="fleet", queue_name="orders"} > 250',
    );
    expect(Object.keys(byInstance(over)).sort()).toEqual(['fleet-host-3', 'fleet-host-4', 'fleet-host-5']);
    const backlog = await prometheus.query('multi_agent_system_queue_length{environment="fleet"} > 1000');
    expect(backlog.map((s) => [s.metric.agent_instance, s.metric.queue_name])).toEqual([
      [BACKLOGGED, 'ingest'],
    ]);
  });

  it('should load the exported rules and evaluate every one of them without error', async () => {
    const url = `${prometheus.url}/api/v1/rules?type=alert`;
    const deadline = Date.now() + 30_000;
    let groups: RuleGroups['groups'] = [];
    // Evaluated once at least: health leaves "unknown".
    while (Date.now() < deadline) {
      groups = ((await (await fetch(url)).json()) as { data: RuleGroups }).data.groups;
      if (groups.length === 2 && groups.every((g) => g.rules.every((r) => r.health !== 'unknown'))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(groups.map((g) => path.basename(g.file)).sort()).toEqual([
      'immediate.rules.yml',
      'perf-monitor.rules.yml',
    ]);
    expect(RULE_COUNT).toBeGreaterThanOrEqual(11);
    for (const g of groups) {
      expect(g.rules).toHaveLength(RULE_COUNT);
      for (const r of g.rules) expect(r.lastError ?? '', `${g.file} ${r.name}`).toBe('');
      expect(g.rules.map((r) => r.health)).toEqual(Array(RULE_COUNT).fill('ok'));
    }
  });

  it('should alert on exactly the backlogged instance across the five (ALERTS)', async () => {
    // The rules exported with duration 0 fire on the first evaluation.
    const firing = await prometheus.waitFor(
      'ALERTS{alertname="queue_backlog", alertstate="firing", environment="fleet"}',
      (r) => r.length > 0,
      30_000,
    );
    expect(firing.map((s) => [s.metric.agent_instance, s.metric.queue_name, s.metric.severity])).toEqual([
      [BACKLOGGED, 'ingest', 'warning'],
    ]);
    // The shipped rules (for: 5m) hold the same alert pending, again for that instance only.
    const pending = await prometheus.waitFor(
      'ALERTS{alertname="queue_backlog", alertstate="pending", environment="fleet"}',
      (r) => r.length > 0,
      60_000,
    );
    expect(pending.map((s) => [s.metric.agent_instance, s.metric.queue_name])).toEqual([
      [BACKLOGGED, 'ingest'],
    ]);
    // Every instance was evaluated: the rule's expression without its threshold sees all five.
    const all = await prometheus.query(
      'count by (agent_instance) (multi_agent_system_queue_length{environment="fleet"})',
    );
    expect(Object.keys(byInstance(all)).sort()).toEqual(FLEET.map((f) => f.host));
  });
});
