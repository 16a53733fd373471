/**
 * Route templates under the preload, in real applications: one per web framework (test/fixtures/apps/
 * framework-app.cjs, and its ESM twin for Express, Fastify, Koa and Hono), each a separate Node.js process
 * started with the built package (dist/), serving GET /api/users/:id, GET /api/orgs/:org/repos/:repo
 * (mounted under /api) and GET /health. Requests with ids that the path normalizer lets through, a query string and
 * random 404 paths are sent; the agent's /metrics must show the templates, `unmatched` for the 404s, and
 * none of the ids, the query or the scanned paths.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { httpProbe, startServer } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';
import {
  NODE,
  REPO_ROOT,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  tempDir,
  waitFor,
} from './agent-harness.js';

const APPS = path.join(REPO_ROOT, 'test', 'fixtures', 'apps');
const COUNT = 'multi_agent_system_api_request_count_total';

interface Running {
  handle: ServerHandle;
  appPort: number;
  agentUrl: string;
}

async function startApp(flag: '--require' | '--import', script: string, framework: string): Promise<Running> {
  const dir = tempDir('framework-routes');
  const port = await freePort();
  const config = path.join(dir, 'agent.yaml');
  fs.writeFileSync(
    config,
    `performance_monitor:
  collection_interval: 500ms
  enabled_collectors: [application]
  prometheus:
    host: 127.0.0.1
    port: ${port}
logging:
  level: info
`,
  );
  const handle = await startServer(NODE, [flag, 'perf-monitor-agent/register', script], {
    cwd: APPS,
    env: { PERF_MONITOR_CONFIG: config, FRAMEWORK: framework },
    ready: httpProbe(`http://127.0.0.1:${port}/-/ready`, 200),
    timeoutMs: 60_000,
  });
  const appPort = await waitFor('the application port', () => {
    const m = /listening (\d+)/.exec(handle.output());
    return Promise.resolve(m === null ? undefined : Number(m[1]));
  });
  return { handle, appPort, agentUrl: `http://127.0.0.1:${port}` };
}

/** Sends the requests; returns the exposition once all of them are counted, and the random 404 paths. */
async function exercise(running: Running): Promise<{ text: string; scans: string[] }> {
  // Letters only, so that the normalizer (numbers, UUIDs, hex) cannot collapse them.
  const word = (): string => Array.from(randomBytes(10), (b) => String.fromCharCode(103 + (b % 20))).join('');
  const scans = [`/${word()}`, `/wp-admin/${word()}.php`, `/api/${word()}/${word()}`];
  const wanted: [string, number][] = [
    ['/api/users/alice', 200],
    ['/api/users/bob-smith', 200],
    ['/api/orgs/acme/repos/rocket?tab=issues', 200],
    ['/health', 200],
    ...scans.map((s): [string, number] => [s, 404]),
  ];
  for (const [p, status] of wanted) {
    const res = await fetch(`http://127.0.0.1:${running.appPort}${p}`);
    await res.text();
    expect(`${p} ${res.status}`).toBe(`${p} ${status}`);
  }
  const text = await waitFor(`${wanted.length} requests on /metrics`, async () => {
    const { text: t } = await getText(`${running.agentUrl}/metrics`);
    const total = t
      .split('\n')
      .filter((l) => l.startsWith(`${COUNT}{`))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    return total === wanted.length ? t : undefined;
  });
  return { text, scans };
}

function expectNoRaw(text: string, scans: string[]): void {
  for (const raw of ['alice', 'bob-smith', 'acme', 'rocket', 'tab=issues', ...scans])
    expect(text).not.toContain(raw);
}

const built = builtCliAvailable();

describeService('built package (dist/)', built, () => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.handle.stop('SIGKILL');
    running = undefined;
  });

  describe.each([
    ['Express 5', '--require', 'framework-app.cjs', 'express'],
    ['Express 5', '--import', 'framework-app.mjs', 'express'],
    ['Express 4', '--require', 'framework-app.cjs', 'express4'],
    ['Express 4', '--import', 'framework-app.mjs', 'express4'],
    ['Fastify 5', '--require', 'framework-app.cjs', 'fastify'],
    ['Fastify 5', '--import', 'framework-app.mjs', 'fastify'],
    ['Fastify 4', '--require', 'framework-app.cjs', 'fastify4'],
    ['Fastify 4', '--import', 'framework-app.mjs', 'fastify4'],
    ['Koa with @koa/router', '--require', 'framework-app.cjs', 'koa'],
    ['Koa with @koa/router', '--import', 'framework-app.mjs', 'koa'],
    ['Hono on @hono/node-server', '--require', 'framework-app.cjs', 'hono'],
    ['Hono on @hono/node-server', '--import', 'framework-app.mjs', 'hono'],
    ['NestJS on Express', '--require', 'framework-app.cjs', 'nest-express'],
    ['NestJS on Fastify', '--require', 'framework-app.cjs', 'nest-fastify'],
  ] as const)('%s (%s)', (_name, flag, script, framework) => {
    it('should label requests with their route templates and 404s as unmatched', async () => {
      running = await startApp(flag, script, framework);
      const { text, scans } = await exercise(running);
      const ok = ['method="GET"', 'status="200"'];
      expect(seriesValue(text, COUNT, 'endpoint="/api/users/:id"', ...ok)).toBe(2);
      expect(seriesValue(text, COUNT, 'endpoint="/api/orgs/:org/repos/:repo"', ...ok)).toBe(1);
      expect(seriesValue(text, COUNT, 'endpoint="/health"', ...ok)).toBe(1);
      expect(seriesValue(text, COUNT, 'endpoint="unmatched"', 'status="404"')).toBe(3);
      expectNoRaw(text, scans);
      expect(running.handle.output()).not.toContain('internal error caught');
    });
  });
});
