/**
 * Starting the applications of test/fixtures/apps under the built preload (dist/), each a separate Node.js
 * process that imports the package by its own name, and reading what its agent serves.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { httpProbe, startServer } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';
import { NODE, REPO_ROOT, freePort, getText, seriesValue, tempDir, waitFor } from './agent-harness.js';

export const APPS = path.join(REPO_ROOT, 'test', 'fixtures', 'apps');
/** The metric name prefix of the preload's configs. */
export const P = 'multi_agent_system_';

export interface RunningApp {
  handle: ServerHandle;
  appPort: number;
  agentUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** The preload's config in `dir`: application collectors, port ${PERF_MONITOR_PORT}; `extra` under performance_monitor. */
export function writeConfig(dir: string, extra = ''): string {
  const file = path.join(dir, 'agent.yaml');
  fs.writeFileSync(
    file,
    `performance_monitor:
  collection_interval: \${PERF_MONITOR_INTERVAL:-500ms}
  enabled_collectors: [application]
  prometheus:
    host: 127.0.0.1
    port: \${PERF_MONITOR_PORT}
    default_labels:
      environment: preload
${extra}
logging:
  level: info
`,
  );
  return file;
}

/**
 * Starts `node <flag> perf-monitor-agent/register <script>` in the fixtures folder, waits until its agent is
 * ready and the application printed `listening <port>`. `configExtra`: YAML lines under performance_monitor.
 */
export async function startApp(
  flag: '--require' | '--import',
  script: string,
  env: NodeJS.ProcessEnv = {},
  configExtra = '',
): Promise<RunningApp> {
  const dir = tempDir('preload');
  const port = env.PERF_MONITOR_PORT === undefined ? await freePort() : Number(env.PERF_MONITOR_PORT);
  const handle = await startServer(NODE, [flag, 'perf-monitor-agent/register', script], {
    cwd: APPS,
    env: { PERF_MONITOR_CONFIG: writeConfig(dir, configExtra), PERF_MONITOR_PORT: String(port), ...env },
    ready: httpProbe(`http://127.0.0.1:${port}/-/ready`, 200),
    timeoutMs: 30_000,
  });
  const appPort = await waitFor('the application port', () => {
    const m = /listening (\d+)/.exec(handle.output());
    return Promise.resolve(m === null ? undefined : Number(m[1]));
  });
  return { handle, appPort, agentUrl: `http://127.0.0.1:${port}`, exited: exitOf(handle.process) };
}

export async function get(port: number, p: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  await res.text();
  return res.status;
}

/** Scrapes until `name` (a series containing `parts`) reaches `value`; returns the exposition. */
export async function scrapeUntil(
  url: string,
  value: number,
  name: string,
  ...parts: string[]
): Promise<string> {
  return waitFor(`${name} ${parts.join(',')} = ${value}`, async () => {
    const { text } = await getText(`${url}/metrics`);
    return seriesValue(text, name, ...parts) === value ? text : undefined;
  });
}

/** Waits until the agent at `url` has collected `more` more times than now; returns the exposition then. */
export async function afterCollections(url: string, more: number): Promise<string> {
  const collections = (text: string): number => seriesValue(text, `${P}monitor_collections_total`) ?? 0;
  const from = collections((await getText(`${url}/metrics`)).text);
  return waitFor(`${more} more collections`, async () => {
    const { text } = await getText(`${url}/metrics`);
    return collections(text) >= from + more ? text : undefined;
  });
}
