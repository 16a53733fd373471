/**
 * The preload's outgoing-HTTP and process metrics in a real application (test/fixtures/apps/outgoing-app.mjs,
 * a separate Node.js process with the built package): fetch and http.request to a local server, a refused
 * connection, a timeout, a worker thread's fetch, and the agent's own OTLP pushes to a local receiver, which
 * must not be counted.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

describeService('outgoing HTTP under the preload (built package)', builtCliAvailable(), () => {
  let app: ServerHandle | undefined;
  let receiver: http.Server | undefined;
  afterEach(async () => {
    await app?.stop('SIGKILL');
    receiver?.closeAllConnections();
    receiver?.close();
  });

  it("should record the application's and its worker thread's requests by server, method, status and failure, and not the agent's OTLP pushes", async () => {
    // The OTLP receiver: answers every push with 200 and keeps the User-Agent it came with.
    const agents: string[] = [];
    receiver = http.createServer((req, res) => {
      agents.push(req.headers['user-agent'] ?? '');
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const otlpPort = (receiver.address() as AddressInfo).port;

    const dir = tempDir('preload-outgoing');
    const config = path.join(dir, 'agent.yaml');
    const port = await freePort();
    fs.writeFileSync(
      config,
      `performance_monitor:
  collection_interval: 500ms
  enabled_collectors: [application]
  prometheus:
    host: 127.0.0.1
    port: ${port}
    default_labels:
      environment: preload
  otlp:
    endpoint: http://127.0.0.1:${otlpPort}/v1/metrics
`,
    );
    app = await startServer(NODE, ['--import', 'perf-monitor-agent/register', 'outgoing-app.mjs'], {
      cwd: APPS,
      env: { PERF_MONITOR_CONFIG: config },
      ready: httpProbe(`http://127.0.0.1:${port}/-/ready`, 200),
      timeoutMs: 30_000,
    });
    const [appPort, refused] = await waitFor('the application ports', () => {
      const m = /listening (\d+) refused (\d+)/.exec(app!.output());
      return Promise.resolve(m === null ? undefined : [Number(m[1]), Number(m[2])]);
    });
    const run = await fetch(`http://127.0.0.1:${appPort}/run`);
    expect(await run.text()).toBe('done');

    const own = `server_address="127.0.0.1:${appPort}"`;
    const ok = [own, 'method="GET"', 'status="200"'];
    // fetch /ok and http.get /ok in the main thread, fetch /ok in the worker thread.
    const text = await waitFor('three answered GETs', async () => {
      const { text } = await getText(`http://127.0.0.1:${port}/metrics`);
      return seriesValue(text, `${P}http_client_request_duration_count`, ...ok) === 3 ? text : undefined;
    });
    expect(seriesValue(text, `${P}http_client_request_duration_bucket`, ...ok, 'le="+Inf"')).toBe(3);
    const missing = [own, 'method="POST"', 'status="404"'];
    expect(seriesValue(text, `${P}http_client_request_duration_count`, ...missing)).toBe(1);
    const closed = `server_address="127.0.0.1:${refused}"`;
    expect(
      seriesValue(text, `${P}http_client_request_errors_total`, closed, 'error_type="connection_refused"'),
    ).toBe(2);
    expect(seriesValue(text, `${P}http_client_request_duration_count`, closed, 'status="error"')).toBe(2);
    expect(seriesValue(text, `${P}http_client_request_errors_total`, own, 'error_type="timeout"')).toBe(1);
    // Never a path or a query in a label.
    expect(text).not.toMatch(/server_address="[^"]*\//);

    // The agent pushed to the receiver with its own User-Agent, and none of it is an application request.
    await waitFor('two OTLP pushes', () => Promise.resolve(agents.length >= 2 ? true : undefined));
    expect(agents.every((a) => a.startsWith('perf-monitor-agent '))).toBe(true);
    const later = (await getText(`http://127.0.0.1:${port}/metrics`)).text;
    expect(later).not.toContain(`server_address="127.0.0.1:${otlpPort}"`);

    // The process metrics of the application's process.
    expect(seriesValue(later, `${P}process_resident_memory_bytes`)).toBeGreaterThan(10 * 1024 * 1024);
    expect(seriesValue(later, `${P}process_open_fds`)).toBeGreaterThanOrEqual(3);
    expect(seriesValue(later, `${P}process_cpu_seconds_total`)).toBeGreaterThan(0);
    const start = seriesValue(later, `${P}process_start_time_seconds`)!;
    expect(Math.abs(start - Date.now() / 1000)).toBeLessThan(600);
  });
});
