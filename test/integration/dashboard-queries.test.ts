/**
 * Every query of grafana/dashboards/performance-monitor.json, run against a real Prometheus that scrapes
 * `perf-monitor demo` (the real executable: agent plus synthetic workload, a spike and an alert triggered),
 * which also pushes OTLP to the real Collector on the shipped config. Every query must parse and return
 * data; the table of panel, query and series count is printed (there is no Grafana here to render it).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
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
import { agentConfigText, builtCliAvailable, CLI, freePort, NODE, tempDir } from './agent-harness.js';

const availability = allAvailable(builtCliAvailable(), await collectorBinary(), await prometheusAvailable());

const dashboard: Dashboard = buildDashboard();
const panels = (dashboard.panels ?? []).filter((p): p is Panel => p.type !== 'row');

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
  const results = new Map<number, QueryResult[]>();

  beforeAll(async () => {
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
      }),
    );
    demo = await startServer(
      NODE,
      [CLI, 'demo', '-c', file, '--tick', '100ms', '--spike-at', '2s', '--alert-at', '6s'],
      {
        ready: httpProbe(`http://127.0.0.1:${port}/-/ready`, 200),
        timeoutMs: 30_000,
      },
    );
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`], scrapeIntervalSeconds: 1 });
    // Rates need two scrapes after the first error and the alert values; wait for the slowest to appear.
    await prometheus.waitFor(
      'rate(multi_agent_system_agent_error_count_total[10s]) > 0',
      (v) => v.length > 0,
      60_000,
    );
    await prometheus.waitFor('multi_agent_system_queue_length > 1000', (v) => v.length > 0, 60_000);
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
          `${(p.title ?? '').padEnd(36)} ${String(r.series).padStart(4)}  ${r.expr}${r.error ? `  ERROR ${r.error}` : ''}`,
        );
    }
    console.log(`panel                                series  query\n${lines.join('\n')}`);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await demo?.stop();
    await collector?.stop();
  });

  it('should start a spike on SIGUSR2 and report the --spike-at and --alert-at triggers', async () => {
    demo.process.kill('SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (!demo.output().includes('spike started (SIGUSR2)') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(demo.output()).toContain('spike started (--spike-at 2s)');
    expect(demo.output()).toContain('alert values started (--alert-at 6s)');
    expect(demo.output()).toContain('spike started (SIGUSR2)');
  });

  it.each(panels.map((p) => [`${p.title ?? ''} (panel ${p.id})`, p.id!] as const))(
    'should return data for every query of panel %s',
    (_title, id) => {
      const out = results.get(id) ?? [];
      expect(out.length).toBeGreaterThan(0);
      for (const r of out) {
        expect(r.error, r.expr).toBeUndefined();
        expect(r.series, `no series for ${r.expr}`).toBeGreaterThan(0);
      }
    },
  );
});
