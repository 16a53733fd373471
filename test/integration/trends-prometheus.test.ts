/**
 * The prometheus backend: a real Prometheus scrapes an agent that also keeps its own history; the same
 * window statistics computed from Prometheus' stored samples and from the local store agree.
 *
 * Tolerance: the agent stamps a sample with its collection time, Prometheus with its scrape time, and a
 * scrape sees the latest collection. With both at 1 s, Prometheus' samples are the agent's values up to
 * one interval late, and where the two clocks drift a scrape can see one collection twice or miss one. So
 * over the same window the two sample sets differ by at most one sample at each end plus one per drift
 * step: counts within 3, and for the collections counter (a ramp of 1 per interval) min, max, mean and
 * median within 2, rate within 10 %. Every value Prometheus holds is a value the store holds.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { parseConfigText } from '../../src/agent/load-config.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { PrometheusHistory } from '../../src/trends/prometheus-history.js';
import { computeStatistics } from '../../src/trends/stats.js';
import { describeService } from '../services/availability.js';
import { prometheusAvailable, startPrometheus } from '../services/prometheus.js';
import type { PrometheusServer } from '../services/prometheus.js';
import { agentConfigText, freePort, tempDir } from './agent-harness.js';

function agentWith(port: number, trends: string): PerformanceMonitorAgent {
  return new PerformanceMonitorAgent({
    config: parseConfigText(
      `${agentConfigText({ port, interval: '1s' })}\n${trends}`,
      'integration.yaml',
      {},
    ),
    logger: new MemoryLogger(),
    env: {},
  });
}

describeService('Prometheus', await prometheusAvailable(), () => {
  let agent: PerformanceMonitorAgent;
  let fleet: PerformanceMonitorAgent;
  let prometheus: PrometheusServer;
  let port: number;
  let traffic: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    port = await freePort();
    agent = agentWith(
      port,
      `trend_analysis:\n  enabled: true\n  storage:\n    path: ${JSON.stringify(`${tempDir('trends-prom')}/metrics_history`)}\n`,
    );
    await agent.start();
    // Requests for the histogram: 7 of 10 take 20 ms (bucket ≤ 0.025), 3 take 300 ms (bucket ≤ 0.5).
    let n = 0;
    traffic = setInterval(() => {
      agent
        .getApplicationCollector()
        .recordApiRequest('/orders', 'GET', n++ % 10 < 7 ? 0.02 : 0.3, 'success');
    }, 20);
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`], scrapeIntervalSeconds: 1 });
    fleet = agentWith(
      await freePort(),
      `trend_analysis:\n  enabled: true\n  storage:\n    backend: prometheus\n    url: ${prometheus.url}\n`,
    );
    await fleet.start();
    await prometheus.waitFor(
      'count_over_time(multi_agent_system_monitor_collections_total[60s])',
      (v) => v.length === 1 && Number(v[0]!.value[1]) >= 20,
      60_000,
    );
  });

  afterAll(async () => {
    clearInterval(traffic);
    await fleet?.stop();
    await prometheus?.stop();
    await agent?.stop();
  });

  it('should give the statistics of the local store for the same window, within the alignment tolerance', async () => {
    const toMs = Date.now() - 2000;
    const fromMs = toMs - 15_000;
    const remote = new PrometheusHistory({
      url: prometheus.url,
      prefix: 'multi_agent_system',
      timeoutMs: 5000,
    });
    const local = agent.trends!.reader;
    for (const metric of ['monitor_collections', 'cpu_percent']) {
      const [l] = await local.query(metric, {}, fromMs, toMs);
      const [p] = await remote.query(metric, {}, fromMs, toMs);
      expect(p!.labels).toMatchObject({ job: 'perf-monitor', instance: `127.0.0.1:${port}` });
      const ls = computeStatistics(l!, fromMs, toMs);
      const ps = computeStatistics(p!, fromMs, toMs);
      console.log(
        `prometheus vs store, ${metric} over 15 s: count ${ps.count}/${ls.count}, mean ${ps.mean.toFixed(3)}/${ls.mean.toFixed(3)}, ` +
          `p50 ${ps.p50.toFixed(3)}/${ls.p50.toFixed(3)}, min ${ps.min.toFixed(3)}/${ls.min.toFixed(3)}, max ${ps.max.toFixed(3)}/${ls.max.toFixed(3)}` +
          (ls.rate === undefined ? '' : `, rate ${ps.rate!.toFixed(3)}/${ls.rate.toFixed(3)}`),
      );
      expect(Math.abs(ps.count - ls.count)).toBeLessThanOrEqual(3);
      // Every value Prometheus stored is one the agent stored (a little wider window: values arrive late).
      const [wide] = await local.query(metric, {}, fromMs - 2000, toMs + 2000);
      const known = new Set(Array.from(wide!.v));
      for (const x of p!.v) expect(known.has(x)).toBe(true);
      if (metric === 'monitor_collections') {
        for (const k of ['min', 'max', 'mean', 'p50'] as const)
          expect(Math.abs(ps[k] - ls[k])).toBeLessThanOrEqual(2);
        expect(ps.rate! / ls.rate!).toBeGreaterThan(0.9);
        expect(ps.rate! / ls.rate!).toBeLessThan(1.1);
      }
    }
  });

  it('should answer getTrendStatistics from Prometheus when the backend is prometheus', async () => {
    const stats = await fleet.getTrendStatistics('monitor_collections', '15s', {
      instance: `127.0.0.1:${port}`,
    });
    expect(stats).toHaveLength(1);
    expect(stats[0]!.count).toBeGreaterThanOrEqual(12);
    expect(stats[0]!.rate).toBeGreaterThan(0.8);
    expect(stats[0]!.rate).toBeLessThan(1.2);
    expect(stats[0]!.labels.agent_instance).toBeDefined();
  });

  it('should give the same histogram percentiles from Prometheus buckets as from the stored buckets', async () => {
    const toMs = Date.now() - 2000;
    const fromMs = toMs - 15_000;
    const [l] = await agent.trends!.reader.query('api_request_duration', {}, fromMs, toMs);
    const p = await fleet.trends!.reader.query(
      'api_request_duration',
      { instance: `127.0.0.1:${port}` },
      fromMs,
      toMs,
    );
    expect(p).toHaveLength(1);
    for (const w of [l!, p[0]!]) {
      const s = computeStatistics(w, fromMs, toMs);
      expect(s.kind).toBe('histogram');
      expect(s.count).toBeGreaterThan(100);
      expect(s.p50).toBeGreaterThan(0.01);
      expect(s.p50).toBeLessThanOrEqual(0.025);
      expect(s.p95).toBeGreaterThan(0.25);
      expect(s.p95).toBeLessThanOrEqual(0.5);
      expect(s.mean).toBeGreaterThan(0.1);
      expect(s.mean).toBeLessThan(0.12);
    }
  });
});
