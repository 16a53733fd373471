import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { parseConfigText } from '../../src/agent/load-config.js';
import {
  advanceAndCollect,
  fixtureAgent,
  fixtureConfig,
  fixtureConfigText,
  scrape,
} from './helpers/fixture-agent.js';

const GOLDEN = fileURLToPath(new URL('../golden/metrics-linux-vm.txt', import.meta.url));

/** Lines whose values depend on the run (timings, the Node version) are normalized. */
function stable(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/node_version="[^"]*"/, 'node_version="NODE"'))
    .map((line) =>
      /^multi_agent_system_monitor_(probe_duration_seconds|collection_duration_seconds)\{/.test(line)
        ? line.replace(/ [^ ]+$/, ' <duration>')
        : line,
    )
    .join('\n');
}

describe('PerformanceMonitorAgent', () => {
  let running: PerformanceMonitorAgent | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('should serve the golden /metrics text for the linux-vm fixture host', async () => {
    const fx = fixtureAgent('linux-vm');
    const { agent } = fx;
    running = agent;
    await agent.start();
    const app = agent.getApplicationCollector();
    app.recordApiRequest('/api/entities', 'GET', 0.12, 200);
    app.recordApiRequest('/api/entities', 'GET', 0.7, 200);
    app.recordAgentExecution('cv_agent', 3.5, 'success');
    app.recordCacheHit('entity_cache');
    app.setQueueLength('task_queue', 42);
    await advanceAndCollect(fx, 15_000);
    const { status, text } = await scrape(agent);
    expect(status).toBe(200);
    const actual = stable(text);
    if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, actual);
    expect(actual).toBe(fs.readFileSync(GOLDEN, 'utf8'));
  });

  it('should put the identity labels on every series and rename a default label called instance', async () => {
    const { agent } = fixtureAgent('linux-vm');
    running = agent;
    await agent.start();
    const { text } = await scrape(agent);
    const series = text.split('\n').filter((l) => l.startsWith('multi_agent_system_'));
    expect(series.length).toBeGreaterThan(20);
    for (const line of series) {
      expect(line).toContain('environment="test"');
      expect(line).toContain('agent_instance="fixture-host"');
      expect(line).toMatch(/version="\d+\.\d+\.\d+"/);
      expect(line).not.toMatch(/[{,]instance="/);
    }
  });

  it('should report values, probe health and scrapes in the summary', async () => {
    const fx = fixtureAgent('linux-vm');
    const { agent, clock } = fx;
    running = agent;
    await agent.start();
    await scrape(agent);
    await advanceAndCollect(fx, 15_000);
    const summary = agent.getMetricsSummary();
    expect(summary.collectedAtMs).toBe(clock.nowMs());
    expect(summary.collectionIntervalMs).toBe(15_000);
    expect(summary.metrics.cpu_count).toEqual([{ labels: {}, value: 2 }]);
    expect(summary.metrics.disk_usage_percent?.[0]?.labels).toEqual({ mount_point: '/' });
    expect(summary.probes.map((p) => [p.name, p.state])).toEqual([
      ['cpu', 'ok'],
      ['memory', 'ok'],
      ['disk_usage', 'ok'],
      ['disk_io', 'ok'],
      ['network', 'ok'],
      ['cgroup', 'unavailable'],
    ]);
    expect(summary.scrapes).toBe(1);
    expect(summary.metrics.monitor_scrapes).toEqual([{ labels: {}, value: 1 }]);
  });

  it('should collect once per interval however many scrapes arrive', async () => {
    const fx = fixtureAgent('linux-vm');
    const { agent } = fx;
    running = agent;
    await agent.start();
    for (let i = 0; i < 5; i++) await scrape(agent);
    await advanceAndCollect(fx, 15_000);
    for (let i = 0; i < 5; i++) await scrape(agent);
    await advanceAndCollect(fx, 15_000);
    expect(agent.getMetricsSummary().metrics.monitor_collections).toEqual([{ labels: {}, value: 2 }]);
  });

  it('should leave out metrics disabled in the config and report cgroup limits in a container', async () => {
    const extra = `
  system_metrics:
    - { name: swap_percent, enabled: false }
    - { name: network_errors_in, enabled: false }
`;
    const { agent } = fixtureAgent('container-limited', { extra });
    running = agent;
    await agent.start();
    const { text } = await scrape(agent);
    expect(text).not.toContain('multi_agent_system_swap_percent');
    expect(text).not.toContain('multi_agent_system_network_errors_in_total');
    expect(text).toContain('multi_agent_system_network_errors_out_total');
    expect(text).toMatch(/^multi_agent_system_cgroup_cpu_limit_cores\{[^}]*\} 1\.5$/m);
    expect(text).toMatch(/^multi_agent_system_cgroup_memory_limit_bytes\{[^}]*\} 536870912$/m);
  });

  it('should serve 503 on /-/ready before the first collection completes and 200 after', async () => {
    const { agent } = fixtureAgent('linux-vm');
    running = agent;
    await agent.start();
    expect((await scrape(agent, '/-/ready')).status).toBe(200);
    const health = await scrape(agent, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ ok: true, state: 'running' });
    const landing = await scrape(agent, '/');
    expect(landing.text).toContain('/metrics');
    expect(landing.text).toContain('disk_usage');
  });

  it('should report liveness failure when collections stop', async () => {
    const fx = fixtureAgent('linux-vm');
    const { agent, clock } = fx;
    running = agent;
    await agent.start();
    // Move wall time only: the collection timer (monotonic) does not fire.
    (clock as unknown as { _nowMs: number })._nowMs += 10 * 60_000;
    const health = await scrape(agent, '/healthz');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text)).toMatchObject({ ok: false, lastCollectionAgeSeconds: 600 });
  });

  it('should reject start when the port is taken, name the port and config key, and leave nothing running', async () => {
    const first = fixtureAgent('linux-vm');
    running = first.agent;
    await first.agent.start();
    const port = Number(new URL(first.agent.url!).port);
    const config = fixtureConfig('linux-vm').performance_monitor;
    const second = fixtureAgent('linux-vm', {
      config: {
        ...fixtureConfig('linux-vm'),
        performance_monitor: { ...config, prometheus: { ...config.prometheus, port } },
      },
    });
    await expect(second.agent.start()).rejects.toMatchObject({
      code: 'E_PORT_IN_USE',
      message: expect.stringMatching(
        new RegExp(`port ${port} .*performance_monitor\\.prometheus\\.port`),
      ) as unknown,
    });
    expect(second.agent.url).toBeUndefined();
    await second.agent.stop();
  });

  it('should be safe to stop twice and before start', async () => {
    const { agent } = fixtureAgent('linux-vm');
    await agent.stop();
    await agent.stop();
    await expect(agent.start()).rejects.toMatchObject({ code: 'E_STATE' });
    const other = fixtureAgent('linux-vm').agent;
    await other.start();
    await other.stop();
    await other.stop();
    expect(other.url).toBeUndefined();
  });

  it('should finish starting and then stop when stop() comes while start() is in progress', async () => {
    const { agent } = fixtureAgent('linux-vm');
    const started = agent.start();
    const stopped = agent.stop();
    await started;
    await stopped;
    expect(agent.url).toBeUndefined();
    expect(agent.getMetricsSummary().url).toBeUndefined();
    await expect(agent.reload()).rejects.toMatchObject({ code: 'E_STATE' });
  });

  it('should feed every subscriber the same collection', async () => {
    const fx = fixtureAgent('linux-vm');
    const { agent } = fx;
    running = agent;
    const seen: number[] = [];
    agent.onCollection('test', (batch) => {
      seen.push(batch.samples.find((s) => s.metric === 'memory_available_bytes')!.value);
    });
    await agent.start();
    await advanceAndCollect(fx, 15_000);
    // MemAvailable: 24239292 kB in the fixture
    expect(seen).toEqual([24_239_292 * 1024, 24_239_292 * 1024]);
  });
});

describe('PerformanceMonitorAgent.reload', () => {
  let running: PerformanceMonitorAgent | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  function configFile(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-reload-'));
    dirs.push(dir);
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(file, text);
    return file;
  }

  it('should switch to a changed file, keeping the endpoint and the application API object', async () => {
    const file = configFile(fixtureConfigText('linux-vm'));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx.agent;
    await fx.agent.start();
    const url = fx.agent.url;
    const app = fx.agent.getApplicationCollector();
    fs.writeFileSync(
      file,
      fixtureConfigText('linux-vm').replace('environment: test', 'environment: staging'),
    );
    await fx.agent.reload();
    expect(fx.agent.url).toBe(url);
    expect(fx.agent.getApplicationCollector()).toBe(app);
    app.recordCacheMiss('c1');
    await advanceAndCollect(fx, 15_000);
    const { text } = await scrape(fx.agent);
    expect(text).toContain('environment="staging"');
    expect(text).not.toContain('environment="test"');
    expect(text).toMatch(/^multi_agent_system_cache_misses_total\{cache_name="c1",[^}]*\} 1$/m);
    expect(fx.logger.find('info', 'configuration reloaded')).toHaveLength(1);
  });

  it('should keep the running configuration when the new file does not validate', async () => {
    const file = configFile(fixtureConfigText('linux-vm'));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx.agent;
    await fx.agent.start();
    fs.writeFileSync(
      file,
      fixtureConfigText('linux-vm').replace('collection_interval: 15s', 'collection_interval: often'),
    );
    await expect(fx.agent.reload()).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    expect(fx.agent.config?.performance_monitor.collection_interval.ms).toBe(15_000);
    expect((await scrape(fx.agent)).status).toBe(200);
  });

  it('should keep the running configuration when the file is empty (caught while written in place)', async () => {
    const file = configFile(fixtureConfigText('linux-vm'));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx.agent;
    await fx.agent.start();
    const url = fx.agent.url;
    fs.writeFileSync(file, '# being rewritten\n');
    await expect(fx.agent.reload()).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
      message: expect.stringContaining('the file is empty') as unknown,
    });
    expect(fx.agent.url).toBe(url);
    expect(fx.agent.config?.performance_monitor.collection_interval.ms).toBe(15_000);
    expect((await scrape(fx.agent)).status).toBe(200);
  });

  it('should move the endpoint when the port changes, and stay where it was when the new port is taken', async () => {
    const file = configFile(fixtureConfigText('linux-vm'));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx.agent;
    await fx.agent.start();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const before = fx.agent.url;
      fs.writeFileSync(file, fixtureConfigText('linux-vm').replace('port: 0', `port: ${taken}`));
      await expect(fx.agent.reload()).rejects.toMatchObject({ code: 'E_PORT_IN_USE' });
      // The old settings are back (port 0 binds a new free port) and the old pipeline still serves.
      expect(fx.agent.url).toBeDefined();
      expect(fx.agent.url).not.toBe(before);
      expect((await scrape(fx.agent)).status).toBe(200);
      expect(fx.agent.config?.performance_monitor.prometheus.port).toBe(0);
    } finally {
      blocker.close();
    }
  });

  it('should refuse to reload before start or without a file', async () => {
    const fx = fixtureAgent('linux-vm');
    await expect(fx.agent.reload()).rejects.toMatchObject({ code: 'E_STATE' });
    running = fx.agent;
    await fx.agent.start();
    await expect(fx.agent.reload()).rejects.toMatchObject({ code: 'E_STATE' });
  });
});

describe('ApplicationMetrics through the agent', () => {
  it('should record only enabled metrics, with configured labels and buckets, and drop bad values', async () => {
    const extra = `
  application_metrics:
    - { name: api_request_duration, labels: [endpoint, method], buckets: [0.1, 1] }
    - { name: cache_hits, enabled: false }
`;
    const fx = fixtureAgent('linux-vm', { extra });
    await fx.agent.start();
    try {
      const app = fx.agent.getApplicationCollector();
      app.recordApiRequest('/x', 'GET', 0.5, 200);
      app.recordApiRequest('/x', 'GET', -1, 200);
      app.recordApiRequest('/x', 'GET', Number.NaN, 200);
      app.recordCacheHit('c');
      app.recordQueueProcessing('q', 0.2, 3);
      expect(app.droppedMeasurements).toBe(2);
      await advanceAndCollect(fx, 15_000);
      const { text } = await scrape(fx.agent);
      expect(text).toMatch(
        /^multi_agent_system_api_request_duration_bucket\{endpoint="\/x",method="GET",[^}]*le="1"\} 1$/m,
      );
      expect(text).not.toMatch(/api_request_duration_bucket\{[^}]*le="0\.5"/);
      expect(text).not.toMatch(/api_request_duration_count\{[^}]*status=/);
      expect(text).not.toContain('multi_agent_system_cache_hits_total');
      expect(text).toMatch(/^multi_agent_system_queue_items_processed_total\{queue_name="q",[^}]*\} 3$/m);
    } finally {
      await fx.agent.stop();
    }
  });

  it('should record nothing when the application collector is not enabled', async () => {
    const text = fixtureConfigText('linux-vm').replace(
      'enabled_collectors: [system, application]',
      'enabled_collectors: [system]',
    );
    const fx = fixtureAgent('linux-vm', { config: parseConfigText(text, 'system-only.yaml', {}) });
    await fx.agent.start();
    try {
      fx.agent.getApplicationCollector().recordApiRequest('/x', 'GET', 0.5, 200);
      await advanceAndCollect(fx, 15_000);
      const metrics = (await scrape(fx.agent)).text;
      expect(metrics).not.toContain('api_request');
      expect(metrics).toContain('multi_agent_system_cpu_percent');
    } finally {
      await fx.agent.stop();
    }
  });
});
