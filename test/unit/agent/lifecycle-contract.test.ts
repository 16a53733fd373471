/**
 * One lifecycle contract over every component: started twice and shut down twice it runs once and stops
 * once; shut down without a start it resolves; a start that fails leaves nothing running; a reload to the same
 * configuration changes nothing. "Nothing running" is measured, not assumed: the process's active handles
 * (servers, sockets, timers, file watchers) after the test are those before it.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertingComponent, NotificationsComponent } from '../../../src/agent/alerting.js';
import { Assembly } from '../../../src/agent/assembly.js';
import type { Component } from '../../../src/agent/component.js';
import type { AgentContext } from '../../../src/agent/context.js';
import { Endpoint } from '../../../src/agent/endpoint.js';
import type { EndpointSources } from '../../../src/agent/endpoint.js';
import { InAppSources } from '../../../src/agent/in-app.js';
import { Pipeline } from '../../../src/agent/pipeline.js';
import { PipelineSlot } from '../../../src/agent/slot.js';
import { TrendsComponent } from '../../../src/agent/trends.js';
import { createAlertDispatcher } from '../../../src/alerts/create-dispatcher.js';
import { RuleEngine } from '../../../src/alerts/engine.js';
import { AlertmanagerNotifier } from '../../../src/alerts/notifiers/alertmanager.js';
import { KafkaNotifier } from '../../../src/alerts/notifiers/kafka.js';
import { LogNotifier } from '../../../src/alerts/notifiers/log.js';
import { WebhookNotifier } from '../../../src/alerts/notifiers/webhook.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import type { AgentConfig } from '../../../src/config/schema.js';
import { HttpServer } from '../../../src/export/http-server.js';
import { OtlpPush } from '../../../src/export/otlp.js';
import { resolveOtlpSettings } from '../../../src/export/otlp-settings.js';
import { SystemClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { Neo4jCollector } from '../../../src/probes/neo4j/collector.js';
import { neo4jSettings } from '../../../src/probes/neo4j/settings.js';
import { ProbeRunner } from '../../../src/probes/probe-runner.js';
import { RuntimeProbe } from '../../../src/probes/runtime/runtime.js';
import { TrendService } from '../../../src/trends/trend-service.js';
import { ApplicationMetrics } from '../../../src/telemetry/application-metrics.js';
import { fixtureConfigText, fixtureStatFs } from '../helpers/fixture-agent.js';

/** What keeps a process alive or does work in the background, by kind, with counts. */
function activeHandles(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

/** Waits for handles that close asynchronously (sockets, file handles) to be released. */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Kinds of handle whose count grew since `before`. */
function leaked(before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of activeHandles()) if (n > (before.get(k) ?? 0)) out[k] = n - (before.get(k) ?? 0);
  return out;
}

let dir: string;
let logger: MemoryLogger;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-'));
  logger = new MemoryLogger();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function config(extra = '', top = ''): AgentConfig {
  return parseConfigText(`${fixtureConfigText('linux-vm', extra)}${top}`, 'lifecycle.yaml', {});
}

const ALERTING = (stateFile: string, storePath: string): string => `
  alerting:
    state_file: ${JSON.stringify(stateFile)}
    notifications:
      store_path: ${JSON.stringify(storePath)}
      channels:
        - type: log
    rules:
      - name: high_cpu
        metric: cpu_percent
        condition: '>'
        threshold: 85
        duration: 60
        severity: warning
        message: cpu high
`;

const OTLP = '  otlp:\n    endpoint: http://127.0.0.1:1/v1/metrics\n';

const TRENDS = (storePath: string): string => `
trend_analysis:
  enabled: true
  storage:
    backend: sqlite
    path: ${JSON.stringify(storePath)}
  anomaly_detection:
    enabled: true
`;

function context(): AgentContext {
  return {
    opts: { statfs: fixtureStatFs('linux-vm'), runtimeMetrics: false },
    clock: new SystemClock(),
    env: {},
    hostname: 'lifecycle-host',
    logger: () => logger,
    version: () => '0.0.0-test',
    baseDir: () => dir,
    application: new ApplicationMetrics(),
  };
}

function endpointSources(): EndpointSources {
  return {
    payload: () => undefined,
    countScrape: () => undefined,
    health: () => ({ ok: true, state: 'running' }),
    ready: () => true,
    componentRoutes: () => [],
    alerting: () => undefined,
    silences: () => undefined,
    activeAlerts: () => [],
    trends: () => undefined,
    summary: () => ({
      collectedAtMs: undefined,
      collectionIntervalMs: 0,
      metrics: {},
      probes: [],
      scrapes: 0,
    }),
    extraRoutes: [],
  };
}

/** A file where a directory is expected: opening a store below it fails. */
function notADirectory(): string {
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, '');
  return path.join(file, 'store.db');
}

/** `config` with its endpoint on `port`. */
function onPort(c: AgentConfig, port: number): AgentConfig {
  const pm = c.performance_monitor;
  return { ...c, performance_monitor: { ...pm, prometheus: { ...pm.prometheus, port } } };
}

/** A loopback port something else listens on. */
async function busyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

interface Part {
  start?: () => Promise<void>;
  shutdown: () => Promise<void>;
}

interface Case {
  name: string;
  /** Builds the component; `start` absent for parts that only shut down (notifiers, the OTLP push). */
  make: () => Part | Promise<Part>;
  /** Builds one whose start fails, where the component has a start that can fail. */
  failing?: () => Promise<{
    component: { start: () => Promise<void>; shutdown: () => Promise<void> };
    cleanup?: () => Promise<void>;
  }>;
}

const clock = new SystemClock();
const CASES: Case[] = [
  {
    name: 'pipeline (probes, reader, provider, snapshot)',
    make: () =>
      Pipeline.build(config(), context(), new PipelineSlot(), {
        componentPoints: () => [],
        subscribers: () => new Map(),
        scrapes: () => 0,
      }),
  },
  {
    name: 'probe runner',
    make: () =>
      new ProbeRunner({
        probes: [new RuntimeProbe({ enabled: new Set(['nodejs_eventloop_lag_seconds']) })],
        clock,
        logger,
        timeoutMs: 1000,
      }),
  },
  {
    name: 'runtime probe',
    make: () =>
      new RuntimeProbe({ enabled: new Set(['nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds']) }),
  },
  {
    name: 'neo4j collector (server unreachable)',
    make: () =>
      new Neo4jCollector({
        settings: neo4jSettings(config('  neo4j_metrics:\n    uri: bolt://127.0.0.1:1\n'), [
          'neo4j_node_count',
        ]),
        clock,
        logger,
        agentVersion: '0.0.0-test',
      }),
  },
  {
    name: 'OTLP push',
    make: () => new OtlpPush(resolveOtlpSettings(config(OTLP).performance_monitor.otlp, {})!, clock, logger),
  },
  {
    name: 'HTTP endpoint',
    make: () => new Endpoint(config(), context(), endpointSources()),
    failing: async () => {
      const busy = await busyPort();
      const taken = onPort(config(), busy.port);
      return { component: new Endpoint(taken, context(), endpointSources()), cleanup: busy.close };
    },
  },
  {
    name: 'HTTP server',
    make: () =>
      new HttpServer({
        host: '127.0.0.1',
        port: 0,
        routes: [],
        logger,
        requestTimeoutMs: 1000,
        portSource: 'port',
      }),
  },
  {
    name: 'rule engine (alerting component)',
    make: () =>
      new AlertingComponent(config(ALERTING(path.join(dir, 'state.json'), ':memory:')), context(), []),
  },
  {
    name: 'rule engine',
    make: () =>
      new RuleEngine({
        clock,
        logger,
        rules: [],
        sinks: [],
        stateStore: undefined,
        evaluationIntervalMs: undefined,
      }),
  },
  {
    name: 'notification dispatcher (notifications component)',
    make: () => new NotificationsComponent(config(ALERTING('', path.join(dir, 'outbox.db'))), context()),
    failing: () =>
      Promise.resolve({
        component: new NotificationsComponent(config(ALERTING('', notADirectory())), context()),
      }),
  },
  {
    name: 'notification dispatcher',
    make: () => createAlertDispatcher(config(ALERTING('', ':memory:')), { clock, logger }),
  },
  { name: 'log notifier', make: () => new LogNotifier({ name: 'log', logger, level: 'warn' }) },
  {
    name: 'webhook notifier',
    make: () =>
      new WebhookNotifier({
        name: 'hook',
        url: 'http://127.0.0.1:1/',
        timeoutMs: 1000,
        externalUrl: 'http://x',
      }),
  },
  {
    name: 'alertmanager notifier',
    make: () =>
      new AlertmanagerNotifier({
        name: 'am',
        url: 'http://127.0.0.1:1',
        timeoutMs: 1000,
        resendIntervalMs: 60_000,
        externalUrl: 'http://x',
        clock,
      }),
  },
  {
    name: 'kafka notifier',
    make: () =>
      new KafkaNotifier({
        name: 'kafka',
        brokers: ['127.0.0.1:1'],
        topic: 't',
        clientId: 'c',
        timeoutMs: 1000,
        externalUrl: 'http://x',
      }),
  },
  {
    name: 'trend service (trends component)',
    make: () => new TrendsComponent(config('', TRENDS(path.join(dir, 'history.db'))), context()),
    failing: () =>
      Promise.resolve({ component: new TrendsComponent(config('', TRENDS(notADirectory())), context()) }),
  },
  {
    name: 'trend service',
    make: () =>
      new TrendService({
        config: config('', TRENDS(path.join(dir, 'history2.db'))).trend_analysis,
        intervalMs: 15_000,
        metricPrefix: 'multi_agent_system',
        clock,
        logger,
        knownMetrics: new Set(['cpu_percent']),
      }),
  },
  {
    name: 'in-app sources',
    make: () =>
      new InAppSources(context(), {
        http: true,
        neo4jDriver: true,
        ownServer: () => undefined,
        neo4jTable: () => undefined,
      }),
  },
];

describe.each(CASES)('lifecycle of $name', (c) => {
  it('should run once when started twice and stop once when shut down twice', async () => {
    const before = activeHandles();
    const component = await c.make();
    if (component.start !== undefined) {
      await component.start();
      await component.start();
    }
    await component.shutdown();
    await component.shutdown();
    await settled();
    expect(leaked(before)).toEqual({});
  });

  it('should resolve a shutdown without a start', async () => {
    const before = activeHandles();
    await (await c.make()).shutdown();
    await settled();
    expect(leaked(before)).toEqual({});
  });
});

describe.each(CASES.filter((c) => c.failing !== undefined))('failed start of $name', (c) => {
  it('should leave nothing running', async () => {
    const before = activeHandles();
    const { component, cleanup } = await c.failing!();
    await expect(component.start()).rejects.toThrow();
    await component.shutdown();
    await cleanup?.();
    await settled();
    expect(leaked(before)).toEqual({});
  });
});

describe('the component set', () => {
  const everything = (): AgentConfig =>
    config(
      ALERTING(path.join(dir, 'state.json'), path.join(dir, 'outbox.db')),
      TRENDS(path.join(dir, 'history.db')),
    );

  it('should leave every component in place on a reload to the same configuration', async () => {
    const parts = new Assembly(context(), { state: () => 'running', activeAlerts: () => [] });
    await parts.components.start(everything());
    const running: Component[] = parts.components.components();
    expect(running.map((c) => c.name)).toEqual([
      'trends',
      'notifications',
      'alerting',
      'http server',
      'pipeline',
    ]);
    await parts.components.reload(everything());
    const after = parts.components.components();
    expect(after).toHaveLength(running.length);
    after.forEach((c, i) => expect(c).toBe(running[i]));
    await parts.components.shutdown();
  });

  it('should replace only the component whose slice changed, and apply rule changes in place', async () => {
    const parts = new Assembly(context(), { state: () => 'running', activeAlerts: () => [] });
    await parts.components.start(everything());
    const [trends, notifications, alerting, endpoint, pipeline] = parts.components.components();
    const next = everything();
    const pm = next.performance_monitor;
    const changed: AgentConfig = {
      ...next,
      performance_monitor: {
        ...pm,
        alerting: { ...pm.alerting, rules: pm.alerting.rules.map((r) => ({ ...r, threshold: 90 })) },
      },
    };
    await parts.components.reload(changed);
    const after = parts.components.components();
    expect(after[0]).toBe(trends);
    expect(after[1]).toBe(notifications);
    expect(after[2]).toBe(alerting); // reconfigured in place
    expect(after[3]).toBe(endpoint);
    expect(after[4]).not.toBe(pipeline); // the pipeline is built from the whole configuration
    await parts.components.shutdown();
  });

  it('should stop what it started when a later component cannot start', async () => {
    const before = activeHandles();
    const busy = await busyPort();
    const taken = onPort(everything(), busy.port);
    const parts = new Assembly(context(), { state: () => 'starting', activeAlerts: () => [] });
    await expect(parts.components.start(taken)).rejects.toMatchObject({ code: 'E_PORT_IN_USE' });
    expect(parts.components.components()).toEqual([]);
    await busy.close();
    await settled();
    expect(leaked(before)).toEqual({});
  });

  it('should bring the previous endpoint back when a reload cannot open the new one', async () => {
    const parts = new Assembly(context(), { state: () => 'running', activeAlerts: () => [] });
    await parts.components.start(everything());
    const url = parts.url();
    const busy = await busyPort();
    const taken = onPort(everything(), busy.port);
    await expect(parts.components.reload(taken)).rejects.toMatchObject({ code: 'E_PORT_IN_USE' });
    expect(parts.url()).toBeDefined();
    expect(parts.url()).not.toBe(`http://127.0.0.1:${busy.port}`);
    expect(url).toBeDefined();
    await busy.close();
    await parts.components.shutdown();
  });
});
