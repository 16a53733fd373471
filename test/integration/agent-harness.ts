/**
 * Starting the agent for integration tests: in-process on the real host, or as the real `perf-monitor`
 * executable (built into dist/ by `npm test`) so that signals and exit codes are the real ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { parseConfigText } from '../../src/agent/load-config.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { freePort, httpProbe, startServer } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
/** The Node.js that runs the tests (the project's Node 24). */
export const NODE = process.execPath;

export interface AgentConfigOptions {
  port: number;
  interval?: string;
  otlpEndpoint?: string;
  /** `otlp.naming` (with otlpEndpoint); the default when omitted. */
  otlpNaming?: 'prometheus' | 'semconv';
  labels?: Record<string, string>;
  /** YAML lines appended under performance_monitor (indented by two spaces). */
  extra?: string;
  /** YAML lines appended under performance_monitor.prometheus (indented by four spaces). */
  prometheusExtra?: string;
}

export function agentConfigText(o: AgentConfigOptions): string {
  const labels = Object.entries(o.labels ?? { environment: 'integration' })
    .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  return `performance_monitor:
  collection_interval: ${o.interval ?? '1s'}
  enabled_collectors: [system, application]
  prometheus:
    host: 127.0.0.1
    port: ${o.port}
    default_labels:
${labels}
${o.prometheusExtra ?? ''}${o.otlpEndpoint === undefined ? '' : `  otlp:\n    endpoint: ${o.otlpEndpoint}\n    timeout: 2s\n`}${o.otlpNaming === undefined ? '' : `    naming: ${o.otlpNaming}\n`}${o.extra ?? ''}
logging:
  level: debug
`;
}

export async function startInProcessAgent(
  o: AgentConfigOptions,
): Promise<{ agent: PerformanceMonitorAgent; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const agent = new PerformanceMonitorAgent({
    config: parseConfigText(agentConfigText(o), 'integration.yaml', {}),
    logger,
    env: {},
  });
  await agent.start();
  return { agent, logger };
}

const createdTempDirs: string[] = [];

/** A fresh directory under the system's temp dir, removed when the test file ends (test/integration/setup.ts). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `perf-monitor-${prefix}-`));
  createdTempDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir made in this test file. */
export function removeTempDirs(): void {
  for (const dir of createdTempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function builtCliAvailable(): { ok: true } | { ok: false; reason: string } {
  return fs.existsSync(CLI)
    ? { ok: true }
    : { ok: false, reason: `${CLI} is missing: run npm run build (npm test does)` };
}

/** Runs `perf-monitor run -c file` and waits until /-/ready answers 200. */
export async function startCliAgent(
  configFile: string,
  port: number,
  env: NodeJS.ProcessEnv = {},
): Promise<ServerHandle> {
  return startServer(NODE, [CLI, 'run', '-c', configFile], {
    ready: httpProbe(`http://127.0.0.1:${port}/-/ready`, 200),
    env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '' },
    timeoutMs: 30_000,
  });
}

export async function getText(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** The value of the first series of `name` whose line contains every `mustContain` piece. */
export function seriesValue(exposition: string, name: string, ...mustContain: string[]): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!mustContain.every((p) => line.includes(p))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export { freePort };

/** Polls `fn` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
