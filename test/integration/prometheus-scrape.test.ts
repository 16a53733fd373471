/**
 * A real Prometheus (Debian's package) scrapes the agent over loopback; PromQL sees the system metrics,
 * rate() works over the disk and network counters, and promtool finds nothing to lint in the output.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { allAvailable, describeService } from '../services/availability.js';
import {
  prometheusAvailable,
  promtoolAvailable,
  promtoolCheckMetrics,
  startPrometheus,
} from '../services/prometheus.js';
import type { PrometheusServer } from '../services/prometheus.js';
import { freePort, getText, startInProcessAgent } from './agent-harness.js';

const availability = allAvailable(await prometheusAvailable(), await promtoolAvailable());

describeService('Prometheus', availability, () => {
  let agent: PerformanceMonitorAgent;
  let prometheus: PrometheusServer;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    ({ agent } = await startInProcessAgent({
      port,
      interval: '1s',
      labels: { environment: 'integration', instance: 'scraped-host' },
    }));
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`], scrapeIntervalSeconds: 1 });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await agent?.stop();
  });

  it('should answer a PromQL query for cpu_percent with the agent identity labels', async () => {
    const result = await prometheus.waitFor('multi_agent_system_cpu_percent', (v) => v.length === 1, 30_000);
    const [sample] = result;
    const value = Number(sample!.value[1]);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(100);
    expect(sample!.metric).toMatchObject({
      environment: 'integration',
      agent_instance: 'scraped-host',
      instance: `127.0.0.1:${port}`,
      job: 'perf-monitor',
    });
    expect(sample!.metric.exported_instance).toBeUndefined();
  });

  it('should compute rate() over the disk and network counters', async () => {
    const disk = await prometheus.waitFor(
      'rate(multi_agent_system_disk_io_read_bytes_total[5s])',
      (v) => v.length > 0,
      30_000,
    );
    for (const s of disk) expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
    const net = await prometheus.waitFor(
      'rate(multi_agent_system_network_bytes_recv_total{interface="lo"}[5s])',
      (v) => v.length === 1,
      30_000,
    );
    // Prometheus' own scrapes cross the loopback interface, so lo receives bytes every second.
    await prometheus.waitFor(
      'rate(multi_agent_system_network_bytes_recv_total{interface="lo"}[5s]) > 0',
      (v) => v.length === 1,
      30_000,
    );
    expect(net[0]!.metric.interface).toBe('lo');
  });

  it('should report the scrape target healthy', async () => {
    const targets = await prometheus.targetsHealth();
    expect(targets.map((t) => t.health)).toEqual(['up']);
  });

  it('should produce exposition text that promtool check metrics accepts without findings', async () => {
    const { status, text } = await getText(`${agent.url!}/metrics`);
    expect(status).toBe(200);
    const lint = await promtoolCheckMetrics(text);
    expect(lint.output.trim()).toBe('');
    expect(lint.exitCode).toBe(0);
  });
});
