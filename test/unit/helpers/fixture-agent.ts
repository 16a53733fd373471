/**
 * An agent on a fixture host: /proc and /sys from test/fixtures/host/<tree>, statfs from the tree's
 * statfs.json, a ManualClock and a MemoryLogger, the HTTP endpoint on a free loopback port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceMonitorAgent } from '../../../src/agent/agent.js';
import type { AgentOptions } from '../../../src/agent/agent.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import type { AgentConfig } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import type { FsStats, StatFs } from '../../../src/probes/probe.js';

export const HOST_FIXTURES = fileURLToPath(new URL('../../fixtures/host/', import.meta.url));

export function fixtureStatFs(tree: string): StatFs {
  const file = path.join(HOST_FIXTURES, tree, 'statfs.json');
  const table = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, FsStats>)
    : {};
  return (p) => {
    const stats = table[p];
    return stats === undefined
      ? Promise.reject(Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' }))
      : Promise.resolve(stats);
  };
}

/** YAML for an agent on the fixture tree; `extra` is appended under performance_monitor. */
export function fixtureConfigText(tree: string, extra = ''): string {
  const root = path.join(HOST_FIXTURES, tree);
  return `
performance_monitor:
  collection_interval: 15s
  enabled_collectors: [system, application]
  system:
    proc_path: ${JSON.stringify(path.join(root, 'proc'))}
    sys_path: ${JSON.stringify(path.join(root, 'sys'))}
    rootfs_path: /
  prometheus:
    host: 127.0.0.1
    port: 0
    default_labels:
      environment: test
      instance: fixture-host
${extra}
`;
}

export function fixtureConfig(tree: string, extra = ''): AgentConfig {
  return parseConfigText(fixtureConfigText(tree, extra), `${tree}.yaml`, {});
}

export interface FixtureAgent {
  agent: PerformanceMonitorAgent;
  clock: ManualClock;
  logger: MemoryLogger;
}

export function fixtureAgent(
  tree: string,
  opts: Partial<AgentOptions> & { extra?: string } = {},
): FixtureAgent {
  const clock = new ManualClock(Date.UTC(2026, 10, 1, 12, 0, 0));
  const logger = new MemoryLogger();
  const { extra, ...rest } = opts;
  const agent = new PerformanceMonitorAgent({
    config: opts.config ?? fixtureConfig(tree, extra),
    clock,
    logger,
    env: {},
    hostname: 'fixture-host',
    statfs: fixtureStatFs(tree),
    // Runtime metrics describe the test process itself, which no golden file can hold.
    runtimeMetrics: false,
    ...rest,
  });
  return { agent, clock, logger };
}

export async function scrape(
  agent: PerformanceMonitorAgent,
  urlPath = '/metrics',
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${agent.url!}${urlPath}`);
  return { status: res.status, text: await res.text() };
}

let waiters = 0;

/**
 * Advances the manual clock by `ms` and resolves once the collection that this triggers has been handed
 * to subscribers (probes read real fixture files, which takes real I/O time).
 */
export async function advanceAndCollect(fx: FixtureAgent, ms: number): Promise<void> {
  const next = new Promise<void>((resolve) => {
    const off = fx.agent.onCollection(`advance-${waiters++}`, () => {
      off();
      resolve();
    });
  });
  await fx.clock.advance(ms);
  await next;
}
