/**
 * The preload in a real application whose process meets an error on one of the agent's own paths (a foreign
 * publisher's message on a diagnostics channel the agent subscribes to): the application keeps serving and
 * exits normally, the agent logs the error once, counts it in monitor_internal_errors and keeps recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
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
const P = 'multi_agent_system_';

describeService('built package (dist/)', builtCliAvailable(), () => {
  let handle: ServerHandle | undefined;
  afterEach(async () => {
    await handle?.stop('SIGKILL');
    handle = undefined;
  });

  it('should keep an application alive through errors on the agent paths, log once and count them', async () => {
    const config = path.join(tempDir('preload-guards'), 'agent.yaml');
    fs.writeFileSync(
      config,
      `performance_monitor:
  collection_interval: 500ms
  enabled_collectors: [application]
  prometheus:
    host: 127.0.0.1
    port: \${PERF_MONITOR_PORT}
logging:
  level: info
`,
    );
    const port = await freePort();
    const agentUrl = `http://127.0.0.1:${port}`;
    handle = await startServer(
      NODE,
      ['--require', 'perf-monitor-agent/register', 'foreign-channel-app.cjs'],
      {
        cwd: APPS,
        env: { PERF_MONITOR_CONFIG: config, PERF_MONITOR_PORT: String(port) },
        ready: httpProbe(`${agentUrl}/-/ready`, 200),
        timeoutMs: 30_000,
      },
    );
    const running = handle;
    const appPort = await waitFor('the application port', () => {
      const m = /listening (\d+)/.exec(running.output());
      return Promise.resolve(m === null ? undefined : Number(m[1]));
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      running.process.once('exit', (code, signal) => resolve({ code, signal })),
    );

    for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${appPort}/publish`)).status).toBe(200);
    const text = await waitFor('three counted errors', async () => {
      const { text: t } = await getText(`${agentUrl}/metrics`);
      return seriesValue(t, `${P}monitor_internal_errors_total`, 'where="http request start"') === 3
        ? t
        : undefined;
    });
    // The application's own requests are still recorded.
    expect(seriesValue(text, `${P}api_request_count_total`, 'endpoint="/publish"', 'status="200"')).toBe(3);
    expect(running.output().match(/internal error caught/g)).toHaveLength(1);

    expect((await fetch(`http://127.0.0.1:${appPort}/exit`)).status).toBe(200);
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});
