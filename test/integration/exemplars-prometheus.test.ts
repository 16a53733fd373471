/**
 * Exemplars end to end: an application records API requests inside sampled OpenTelemetry spans (its own
 * context manager, no tracing SDK), the agent serves OpenMetrics to the real Prometheus (Debian's 2.42, started
 * with `--enable-feature=exemplar-storage`), and /api/v1/query_exemplars returns the span's trace id. The
 * series Prometheus stores from the OpenMetrics scrape are those of the text format: no `_created` series.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { allAvailable, describeService } from '../services/availability.js';
import { prometheusAvailable, startPrometheus } from '../services/prometheus.js';
import type { PrometheusServer } from '../services/prometheus.js';
import { inSpan, installContextManager } from '../unit/helpers/otel-context.js';
import { freePort, getText, startInProcessAgent } from './agent-harness.js';

const availability = allAvailable(await prometheusAvailable());

const TRACE_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SPAN_ID = '1a2b3c4d5e6f7081';
const HISTOGRAM = 'multi_agent_system_api_request_duration';

interface ExemplarResult {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

describeService('Prometheus', availability, () => {
  let agent: PerformanceMonitorAgent;
  let prometheus: PrometheusServer;
  let uninstall: () => void;
  let timer: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    uninstall = installContextManager();
    const port = await freePort();
    ({ agent } = await startInProcessAgent({ port, interval: '1s' }));
    const app = agent.getApplicationCollector();
    const record = (): void =>
      inSpan(TRACE_ID, SPAN_ID, () => app.recordApiRequest('/checkout', 'POST', 0.2, 200));
    record();
    timer = setInterval(record, 250);
    prometheus = await startPrometheus({
      targets: [`127.0.0.1:${port}`],
      scrapeIntervalSeconds: 1,
      extraArgs: ['--enable-feature=exemplar-storage'],
    });
  });

  afterAll(async () => {
    if (timer !== undefined) clearInterval(timer);
    await prometheus?.stop();
    await agent?.stop();
    uninstall?.();
  });

  it('should return the trace id of a histogram measurement from /api/v1/query_exemplars', async () => {
    const deadline = Date.now() + 30_000;
    let found: ExemplarResult[] = [];
    while (Date.now() < deadline) {
      const now = Date.now() / 1000;
      const q = new URLSearchParams({
        query: `${HISTOGRAM}_bucket`,
        start: `${now - 120}`,
        end: `${now + 5}`,
      });
      const res = await fetch(`${prometheus.url}/api/v1/query_exemplars?${q.toString()}`);
      const body = (await res.json()) as { status: string; data: ExemplarResult[] };
      expect(body.status).toBe('success');
      found = body.data;
      if (found.some((r) => r.exemplars.length > 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const withExemplars = found.filter((r) => r.exemplars.length > 0);
    expect(withExemplars.length).toBeGreaterThan(0);
    const [series] = withExemplars;
    expect(series!.seriesLabels).toMatchObject({ endpoint: '/checkout', method: 'POST', le: '0.25' });
    expect(series!.exemplars[0]!.labels).toEqual({ trace_id: TRACE_ID, span_id: SPAN_ID });
    expect(Number(series!.exemplars[0]!.value)).toBe(0.2);
  });

  it('should store the same series from the OpenMetrics scrape as from the text format, without _created', async () => {
    const count = await prometheus.waitFor(`${HISTOGRAM}_count{endpoint="/checkout"}`, (v) => v.length === 1);
    expect(Number(count[0]!.value[1])).toBeGreaterThan(0);
    await prometheus.waitFor(
      'multi_agent_system_api_request_count_total{endpoint="/checkout"}',
      (v) => v.length === 1,
    );
    const names = await prometheus.query('count by (__name__) ({__name__=~"multi_agent_system_.+"})');
    const stored = names.map((s) => s.metric.__name__!);
    expect(stored.filter((n) => n.endsWith('_created'))).toEqual([]);
    // Every stored name is one the text format exposes (the bucket, count and sum of each histogram included).
    const { text } = await getText(`${agent.url!}/metrics`);
    const exposed = new Set(
      text
        .split('\n')
        .filter((l) => !l.startsWith('#') && l !== '')
        .map((l) => l.split(/[{ ]/)[0]),
    );
    for (const n of stored) expect(exposed, n).toContain(n);
    expect(stored).toEqual(
      expect.arrayContaining([`${HISTOGRAM}_bucket`, `${HISTOGRAM}_sum`, `${HISTOGRAM}_count`]),
    );
  });

  it('should show that the scrape used OpenMetrics', async () => {
    const targets = await prometheus.targetsHealth();
    expect(targets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
    const res = await fetch(`${agent.url!}/metrics`, {
      headers: { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' },
    });
    expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
    expect(await res.text()).toContain(`trace_id="${TRACE_ID}"`);
  });
});
