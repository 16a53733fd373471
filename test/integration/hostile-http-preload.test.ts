/**
 * Hostile HTTP clients against the agent preloaded into a small HTTP application
 * (`node --require perf-monitor-agent/register test/fixtures/apps/http-app.cjs`, the built package): the same
 * battery as hostile-http.test.ts, aimed at the agent's port, while the application's own endpoint is
 * requested throughout and must keep answering within a loose bound of its latency measured before the
 * attacks. The application process must still be alive at the end; it then ends by itself (exit code 0) and
 * a new one on the same state lists the same silences.
 *
 * An application that dies or whose agent stops answering during a test is restarted on a fresh state
 * directory after that test; the test "should have survived every attack in one process" lists those.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { httpProbe, startServer } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';
import { NODE, REPO_ROOT, builtCliAvailable, freePort, tempDir, waitFor } from './agent-harness.js';
import {
  LatencyMonitor,
  agentHealthy,
  hostileAgentYaml,
  hostileBattery,
  listSilences,
  request,
  storedFields,
} from './hostile-http.js';

const APPS = path.join(REPO_ROOT, 'test', 'fixtures', 'apps');
/** An application endpoint that answers 200 "ok" (see http-app.cjs). */
const APP_PATH = '/users/1';

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** http-app.cjs with the agent preloaded; its state directory is kept across `start()`s unless `fresh`. */
class PreloadedApp {
  handle: ServerHandle | undefined;
  appPort = 0;
  private _config = '';

  constructor(readonly port: number) {}

  async start(fresh = false): Promise<void> {
    if (fresh || this._config === '') {
      const dir = tempDir('hostile-http-preload');
      this._config = path.join(dir, 'agent.yaml');
      fs.writeFileSync(
        this._config,
        hostileAgentYaml({
          port: this.port,
          stateDir: dir,
          collectors: ['application'],
          ruleMetric: 'nodejs_heap_used_bytes',
        }),
      );
    }
    const handle = await startServer(NODE, ['--require', 'perf-monitor-agent/register', 'http-app.cjs'], {
      cwd: APPS,
      env: { PERF_MONITOR_CONFIG: this._config, PERF_MONITOR_PORT: String(this.port) },
      ready: httpProbe(`http://127.0.0.1:${this.port}/-/ready`, 200),
      timeoutMs: 30_000,
    });
    this.handle = handle;
    this.appPort = await waitFor('the application port', () => {
      const m = /listening (\d+)/.exec(handle.output());
      return Promise.resolve(m === null ? undefined : Number(m[1]));
    });
  }

  running(): boolean {
    const p = this.handle?.process;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }
}

describeService(
  'built package (dist/)',
  builtCliAvailable(),
  () => {
    let app: PreloadedApp;
    let agentMetrics: LatencyMonitor;
    let appEndpoint: LatencyMonitor;
    const restartedAfter: string[] = [];

    async function monitorApp(baselineMs?: number): Promise<void> {
      appEndpoint = new LatencyMonitor(`application ${APP_PATH}`, app.appPort, APP_PATH);
      appEndpoint.start();
      if (baselineMs === undefined) await appEndpoint.measureBaseline();
      else appEndpoint.baselineMs = baselineMs;
    }

    beforeAll(async () => {
      app = new PreloadedApp(await freePort());
      await app.start();
      agentMetrics = new LatencyMonitor('preloaded agent /metrics', app.port, '/metrics');
      agentMetrics.start();
      await Promise.all([agentMetrics.measureBaseline(), monitorApp()]);
    });

    afterEach(async (ctx) => {
      if (app.running() && (await agentHealthy(app.port))) return;
      restartedAfter.push(ctx.task.name);
      console.warn(
        `hostile-http-preload: the application died or its agent stopped answering in "${ctx.task.name}"`,
      );
      await appEndpoint.stop();
      await app.handle?.kill9();
      await app.start(true);
      await monitorApp(appEndpoint.baselineMs);
    });

    afterAll(async () => {
      await agentMetrics?.stop();
      await appEndpoint?.stop();
      await app?.handle?.stop('SIGKILL');
    });

    hostileBattery(() => ({
      port: app.port,
      monitors: [agentMetrics, appEndpoint],
      collectedMetric: 'nodejs_heap_used_bytes',
    }));

    it('should have survived every attack in one process', async () => {
      expect(restartedAfter).toEqual([]);
      expect(app.running()).toBe(true);
      const own = await request(app.appPort, APP_PATH);
      expect(own.status).toBe(200);
    });

    it('should end with the application (exit code 0) and list the same silences in the next one', async () => {
      const before = storedFields(await listSilences(app.port));
      expect(before.length).toBeGreaterThan(0);
      await Promise.all([agentMetrics.stop(), appEndpoint.stop()]);
      const exited = exitOf(app.handle!.process);
      // GET /exit closes the application's server: with nothing else to do, the process ends by itself.
      expect((await request(app.appPort, '/exit')).status).toBe(200);
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), 15_000).unref(),
      );
      expect(await Promise.race([exited, timeout])).toEqual({ code: 0, signal: null });
      await app.start();
      expect(storedFields(await listSilences(app.port))).toEqual(before);
      expect((await request(app.appPort, APP_PATH)).status).toBe(200);
    });
  },
  'hostile HTTP clients against the agent preloaded into an application',
);
