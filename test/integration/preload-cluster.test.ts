/**
 * The preload's route templates, outgoing-HTTP and process metrics in a cluster and in worker threads, with
 * real child processes under the built package (dist/):
 *
 * - a cluster of two Express or Fastify workers (test/fixtures/apps/cluster-routes-app.cjs): every process has
 *   its own endpoint, which counts exactly the requests that process served (by route template) and the
 *   outgoing requests it made, and reports that process's own process_* metrics;
 * - a worker thread pool (worker-outgoing-pool.mjs) whose threads make fetch and http.request calls and serve
 *   Express and Fastify routes: everything arrives once, on the main thread's endpoint, and the process_*
 *   metrics are one set, the whole process's (the threads' CPU time included).
 *
 * Outgoing requests go to an upstream server run by this test, which counts what it received.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROCESS_METRICS } from '../../src/probes/runtime/process.js';
import { describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import { httpProbe } from '../services/process.js';
import {
  REPO_ROOT,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  tempDir,
  waitFor,
} from './agent-harness.js';
import { P, afterCollections, get, startApp } from './preload-apps.js';
import type { RunningApp } from './preload-apps.js';

const MiB = 1024 * 1024;

/** The test's upstream: GET /fetch answers 200, GET /http 202; counts what it received by path. */
interface Upstream {
  url: string;
  address: string;
  received: Map<string, number>;
  close(): void;
}

async function startUpstream(): Promise<Upstream> {
  const received = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const p = req.url ?? '';
    received.set(p, (received.get(p) ?? 0) + 1);
    res.statusCode = p === '/http' ? 202 : 200;
    res.end('upstream');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    address: `server_address="127.0.0.1:${port}"`,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** GET on a new connection (so that the cluster's primary hands each to the next worker), parsed as JSON. */
function getJson(port: number, p: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${p}: ${res.statusCode} ${body}`));
          else resolve(JSON.parse(body) as Record<string, unknown>);
        });
      })
      .on('error', reject);
  });
}

/** The start time of process `pid` in seconds since the epoch, read here from /proc as ps(1) does. */
function startTimeOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[22 - 3]); // field 22, counted from the state (field 3)
  const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))![1]);
  return btime + startTicks / 100;
}

/** How many series of `name` the exposition holds. */
function seriesCount(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).length;
}

/** The labels of the first series of `name`, as written between its braces. */
function labelsOf(text: string, name: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  return line?.slice(name.length + 1, line.indexOf('}'));
}

/** Every process_* metric once, with the values of process `pid`. */
function expectOwnProcessMetrics(text: string, pid: number): void {
  for (const name of PROCESS_METRICS) expect(seriesCount(text, `${P}${name}`), name).toBe(1);
  expect(seriesValue(text, `${P}process_start_time_seconds`)).toBeCloseTo(startTimeOf(pid), 2);
  const rss = seriesValue(text, `${P}process_resident_memory_bytes`)!;
  expect(rss).toBeGreaterThan(10 * MiB);
  expect(seriesValue(text, `${P}process_virtual_memory_bytes`)).toBeGreaterThan(rss);
  expect(seriesValue(text, `${P}process_heap_bytes`)).toBeGreaterThan(0);
  expect(seriesValue(text, `${P}process_cpu_seconds_total`)).toBeGreaterThan(0);
  expect(seriesValue(text, `${P}process_open_fds`)).toBeGreaterThanOrEqual(3);
  expect(seriesValue(text, `${P}process_max_fds`)).toBeGreaterThanOrEqual(
    seriesValue(text, `${P}process_open_fds`)!,
  );
}

/** What one cluster worker served, by what the test asked for. */
interface Served {
  users: number;
  repos: number;
  fetch: number;
  http: number;
}

interface Cluster {
  running: RunningApp;
  appPort: number;
  /** The agent URLs of the primary, worker 1 and worker 2. */
  endpoints: string[];
  /** The pids of `primary`, `worker1` and `worker2`. */
  pids: Map<string, number>;
}

/** Starts cluster-routes-app.cjs and waits until the three agents are ready. */
async function startCluster(upstream: Upstream, framework: string, configExtra = ''): Promise<Cluster> {
  const base = await freePort();
  const appPort = await freePort();
  const running = await startApp(
    '--require',
    'cluster-routes-app.cjs',
    {
      PERF_MONITOR_PORT: String(base),
      APP_PORT: String(appPort),
      UPSTREAM: upstream.url,
      FRAMEWORK: framework,
    },
    configExtra,
  );
  const endpoints = [base, base + 1, base + 2].map((p) => `http://127.0.0.1:${p}`);
  for (const url of endpoints.slice(1)) {
    const ready = httpProbe(`${url}/-/ready`, 200);
    await waitFor(`${url}/-/ready`, async () => ((await ready().catch(() => false)) ? true : undefined));
  }
  const pids = new Map<string, number>();
  for (const m of running.handle.output().matchAll(/pid (primary|worker1|worker2) (\d+)/g))
    pids.set(m[1]!, Number(m[2]));
  expect(pids.size).toBe(3);
  return { running, appPort, endpoints, pids };
}

const built = builtCliAvailable();

describeService('the preload in a cluster and in worker threads (built package)', built, () => {
  let running: RunningApp | undefined;
  let upstream: Upstream;
  beforeEach(async () => {
    upstream = await startUpstream();
  });
  afterEach(async () => {
    await running?.handle.stop('SIGKILL');
    running = undefined;
    upstream.close();
  });

  describe.each(['express', 'fastify'])('a cluster of two %s workers', (framework) => {
    it('should give every process its own route counts, outgoing requests and process metrics', async () => {
      const cluster = await startCluster(upstream, framework);
      running = cluster.running;
      const { appPort, endpoints, pids } = cluster;

      const served: Served[] = [0, 1, 2].map(() => ({ users: 0, repos: 0, fetch: 0, http: 0 }));
      const ask = async (p: string, kind: keyof Served): Promise<void> => {
        const { worker } = await getJson(appPort, p);
        served[worker as number]![kind]++;
      };
      for (let i = 0; i < 5; i++) await ask(`/api/users/${i}`, 'users');
      for (let i = 0; i < 3; i++) await ask(`/api/orgs/o${i}/repos/r${i}`, 'repos');
      // Until each worker has made both kinds of outgoing request (the primary may hand the connections to
      // the workers in turn: the order of the kinds does not alternate with them).
      const kinds = ['fetch', 'http', 'http', 'fetch'] as const;
      for (let i = 0; i < 40; i++) {
        if (served.slice(1).every((s) => s.fetch > 0 && s.http > 0)) break;
        await ask(`/api/upstream/${kinds[i % 4]}`, kinds[i % 4]!);
      }
      expect(served.slice(1).every((s) => s.fetch > 0 && s.http > 0)).toBe(true);
      const outgoing = served.reduce((n, s) => n + s.fetch + s.http, 0);
      expect((upstream.received.get('/fetch') ?? 0) + (upstream.received.get('/http') ?? 0)).toBe(outgoing);

      const total = 8 + outgoing;
      const texts = await waitFor('every request on an endpoint', async () => {
        const all = await Promise.all(endpoints.map(async (url) => (await getText(`${url}/metrics`)).text));
        const requests = all.reduce((n, t) => {
          const count = (route: string): number =>
            seriesValue(t, `${P}api_request_count_total`, `endpoint="${route}"`) ?? 0;
          return (
            n + count('/api/users/:id') + count('/api/orgs/:org/repos/:repo') + count('/api/upstream/:kind')
          );
        }, 0);
        const calls = all.reduce((n, t) => {
          const count = (status: string): number =>
            seriesValue(t, `${P}http_client_request_duration_count`, upstream.address, status) ?? 0;
          return n + count('status="200"') + count('status="202"');
        }, 0);
        return requests >= total && calls >= outgoing ? all : undefined;
      });

      // The primary serves no request and makes none.
      const [primary] = texts;
      expect(seriesCount(primary!, `${P}api_request_count_total`)).toBe(0);
      expect(seriesCount(primary!, `${P}http_client_request_duration_count`)).toBe(0);
      expectOwnProcessMetrics(primary!, pids.get('primary')!);

      for (const id of [1, 2]) {
        const text = texts[id]!;
        const s = served[id]!;
        const requests = (route: string): number =>
          seriesValue(text, `${P}api_request_count_total`, `endpoint="${route}"`, 'status="200"') ?? 0;
        expect(requests('/api/users/:id'), `worker ${id} users`).toBe(s.users);
        expect(requests('/api/orgs/:org/repos/:repo'), `worker ${id} repos`).toBe(s.repos);
        expect(requests('/api/upstream/:kind'), `worker ${id} upstream`).toBe(s.fetch + s.http);
        // Only the route templates, never a path.
        expect(seriesCount(text, `${P}api_request_count_total`)).toBe(
          [s.users, s.repos, s.fetch + s.http].filter((n) => n > 0).length,
        );
        const calls = (status: string): number | undefined =>
          seriesValue(
            text,
            `${P}http_client_request_duration_count`,
            upstream.address,
            'method="GET"',
            status,
          );
        expect(calls('status="200"'), `worker ${id} fetch`).toBe(s.fetch);
        expect(calls('status="202"'), `worker ${id} http.request`).toBe(s.http);
        expect(seriesCount(text, `${P}http_client_request_errors_total`)).toBe(0);
        expectOwnProcessMetrics(text, pids.get(`worker${id}`)!);
        // The resource of the worker's agent is an instance of its own; the series' labels are the primary's.
        expect(text).toMatch(new RegExp(`^target_info\\{.*service_instance_id="[^"]*/worker-${id}"`, 'm'));
        expect(labelsOf(text, `${P}process_open_fds`)).toBe(labelsOf(primary!, `${P}process_open_fds`));
      }
      expect(primary).not.toMatch(/service_instance_id="[^"]*\/worker-/);
      // Worker 2 holds 64 MiB that worker 1 does not: each endpoint measures its own process.
      const rss = texts.map((t) => seriesValue(t, `${P}process_resident_memory_bytes`)!);
      expect(rss[2]! - rss[1]!).toBeGreaterThan(40 * MiB);
      expect(running.handle.output()).not.toContain('EADDRINUSE');
    });
  });

  it("should count a worker thread pool's outgoing requests and routes once, on the main thread's endpoint, with one set of process metrics", async () => {
    running = await startApp('--import', 'worker-outgoing-pool.mjs', {
      UPSTREAM: upstream.url,
      BURN_MS: '300',
    });
    const { appPort, agentUrl } = running;
    const [expressPort, fastifyPort] = await waitFor('the thread servers', () => {
      const m = /express (\d+) fastify (\d+)/.exec(running!.handle.output());
      return Promise.resolve(m === null ? undefined : [Number(m[1]), Number(m[2])]);
    });
    // The main thread makes one fetch and one http.request per run, each of the 3 pool threads `calls` of each.
    const first = await getJson(appPort, '/run?calls=4');
    expect(first.requests).toBe(2 + 3 * 2 * 4);
    const second = await getJson(appPort, '/run?calls=2');
    expect(second.requests).toBe(2 + 3 * 2 * 2);
    const each = 1 + 3 * 4 + (1 + 3 * 2); // fetches, and as many http.requests
    expect(upstream.received.get('/fetch')).toBe(each);
    expect(upstream.received.get('/http')).toBe(each);
    for (let i = 0; i < 3; i++) expect(await get(expressPort, `/items/${i}`)).toBe(200);
    for (let i = 0; i < 2; i++) expect(await get(fastifyPort, `/orders/${i}`)).toBe(200);

    const calls = (text: string, status: string): number | undefined =>
      seriesValue(text, `${P}http_client_request_duration_count`, upstream.address, 'method="GET"', status);
    await waitFor('every outgoing request on the endpoint', async () => {
      const { text } = await getText(`${agentUrl}/metrics`);
      const routes = seriesValue(text, `${P}api_request_count_total`, 'endpoint="/orders/:id"');
      return calls(text, 'status="200"') === each && calls(text, 'status="202"') === each && routes === 2
        ? true
        : undefined;
    });
    // Two collections later nothing was counted twice (the main thread's own hooks see no thread's request).
    const text = await afterCollections(agentUrl, 2);
    expect(calls(text, 'status="200"')).toBe(each);
    expect(calls(text, 'status="202"')).toBe(each);
    expect(seriesValue(text, `${P}http_client_request_duration_bucket`, upstream.address, 'le="+Inf"')).toBe(
      each,
    );
    expect(seriesCount(text, `${P}http_client_request_errors_total`)).toBe(0);
    // The threads' HTTP servers by route template, and the main thread's /run, once each.
    expect(seriesValue(text, `${P}api_request_count_total`, 'endpoint="/items/:id"', 'status="200"')).toBe(3);
    expect(seriesValue(text, `${P}api_request_count_total`, 'endpoint="/orders/:id"', 'status="200"')).toBe(
      2,
    );
    expect(seriesValue(text, `${P}api_request_count_total`, 'endpoint="/run"')).toBe(2);
    expect(seriesCount(text, `${P}api_request_count_total`)).toBe(3);

    // One set of process metrics, the process's: its start, and at least the CPU time all threads had used
    // when the second run answered (the pool threads spent 0.3 s each per run).
    expectOwnProcessMetrics(text, running.handle.process.pid!);
    expect(second.cpuSeconds).toBeGreaterThanOrEqual(2 * 3 * 0.3);
    expect(seriesValue(text, `${P}process_cpu_seconds_total`)).toBeGreaterThanOrEqual(
      (second.cpuSeconds as number) - 0.05,
    );
  });

  it("should count a worker thread's requests once when two copies of the package preload it", async () => {
    // A second copy of the built package (NODE_OPTIONS=--require it, --import this one): each copy's preload
    // runs in every thread, and a thread's hooks must still be installed once.
    const root = tempDir('preload-copy');
    const copy = path.join(root, 'perf-monitor-agent');
    fs.mkdirSync(copy);
    for (const f of ['package.json', 'register.cjs'])
      fs.copyFileSync(path.join(REPO_ROOT, f), path.join(copy, f));
    fs.cpSync(path.join(REPO_ROOT, 'dist', 'src'), path.join(copy, 'dist', 'src'), {
      recursive: true,
      filter: (f) => !f.endsWith('.map') && !f.endsWith('.d.ts'),
    });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    running = await startApp('--import', 'worker-outgoing-pool.mjs', {
      UPSTREAM: upstream.url,
      BURN_MS: '0',
      NODE_OPTIONS: `--require ${path.join(copy, 'register.cjs')}`,
    });
    const { appPort, agentUrl } = running;
    const expressPort = await waitFor('the thread server', () => {
      const m = /express (\d+)/.exec(running!.handle.output());
      return Promise.resolve(m === null ? undefined : Number(m[1]));
    });
    expect((await getJson(appPort, '/run?calls=2')).requests).toBe(2 + 3 * 2 * 2);
    for (let i = 0; i < 3; i++) expect(await get(expressPort, `/items/${i}`)).toBe(200);
    const each = 1 + 3 * 2;
    const items = ['endpoint="/items/:id"', 'status="200"'];
    await waitFor('the thread server requests', async () => {
      const { text } = await getText(`${agentUrl}/metrics`);
      return (seriesValue(text, `${P}api_request_count_total`, ...items) ?? 0) >= 3 ? true : undefined;
    });
    const text = await afterCollections(agentUrl, 2);
    expect(seriesValue(text, `${P}api_request_count_total`, ...items)).toBe(3);
    const calls = (status: string): number | undefined =>
      seriesValue(text, `${P}http_client_request_duration_count`, upstream.address, status);
    expect(calls('status="200"')).toBe(each);
    expect(calls('status="202"')).toBe(each);
    expect(running.handle.output()).not.toContain('not started');
  });
});

/** The series of `name` whose line contains every piece of `parts`, as [line, value]. */
function seriesLines(text: string, name: string, ...parts: string[]): [string, number][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && parts.every((p) => l.includes(p)))
    .map((l) => [l, Number(l.slice(l.lastIndexOf(' ') + 1))]);
}

const collector = await collectorBinary();

describeService('OpenTelemetry Collector', collector, () => {
  it("should push every cluster process's metrics under a service.instance.id of its own", async () => {
    const otel = await startCollector({
      translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
      prometheusExporter: { without_scope_info: true },
    });
    const upstream = await startUpstream();
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster(
        upstream,
        'express',
        `  otlp:\n    endpoint: ${otel.otlpHttpUrl}\n    timeout: 5s\n`,
      );
      const served = [0, 0, 0];
      for (let i = 0; i < 6; i++)
        served[(await getJson(cluster.appPort, `/api/users/${i}`)).worker as number]!++;
      // The Collector's Prometheus exporter labels each resource's series with instance = service.instance.id:
      // the host name in the primary, the host name and the worker id in a worker.
      const host = os.hostname();
      const instances = [host, `${host}/worker-1`, `${host}/worker-2`];
      const text = await waitFor('every process at the Collector', async () => {
        const { text: t } = await getText(otel.prometheusUrl);
        const users = seriesLines(t, `${P}api_request_count_total`, 'endpoint="/api/users/:id"');
        const total = users.reduce((n, [, v]) => n + v, 0);
        const starts = seriesLines(t, `${P}process_start_time_seconds`);
        return total === 6 && starts.length === 3 ? t : undefined;
      });
      ['primary', 'worker1', 'worker2'].forEach((role, i) => {
        const instance = `instance="${instances[i]}"`;
        const start = seriesLines(text, `${P}process_start_time_seconds`, instance);
        expect(start, role).toHaveLength(1);
        expect(start[0]![1]).toBeCloseTo(startTimeOf(cluster!.pids.get(role)!), 2);
        const users = seriesLines(text, `${P}api_request_count_total`, 'endpoint="/api/users/:id"', instance);
        expect(
          users.reduce((n, [, v]) => n + v, 0),
          role,
        ).toBe(served[i]);
      });
    } finally {
      await cluster?.running.handle.stop('SIGKILL');
      upstream.close();
      await otel.stop();
    }
  });
});
