/**
 * Preload footprint: how much memory monitoring adds to a small HTTP application, with our preload and with
 * what an application would use instead.
 *
 *   npm run build && node test/bench/preload-footprint.js | tee test/bench/results/preload-footprint.txt
 *   node test/bench/preload-footprint.js --runs 1 --seconds 5     # a try-out, not a headline
 *
 * The application (test/fixtures/apps/footprint-app.cjs, a node:http server answering `/`, `/health`,
 * `/users/<id>` and `/api/items?page=<n>`) runs four ways:
 *
 * - bare: nothing else loaded;
 * - prom-client: `collectDefaultMetrics()` and a `/metrics` route in the application;
 * - OpenTelemetry SDK: a MeterProvider read by @opentelemetry/exporter-prometheus (its own port) and
 *   @opentelemetry/instrumentation-http recording the server's requests;
 * - perf-monitor-agent preload: `node --require dist/src/register.js app`, default configuration (no
 *   PERF_MONITOR_CONFIG), PERF_MONITOR_PORT on a free port.
 *
 * Each process runs in a fresh temp dir as its working directory, pinned to CPU 1 (this script on CPU 0).
 * Once it is ready (the preload's `/-/ready`, the peers' `/metrics`), the same light load drives it: a
 * request every 10 ms over keep-alive, the four routes in turn, with a gzip scrape of its metrics endpoint
 * at the start and every 5 s (the bare application has none); WARMUP_S of it first, then SECONDS. At the end of the load
 * VmRSS, RssAnon and RssFile are read from /proc/PID/status. Rounds alternate the variants; medians of RUNS.
 *
 * Ends with headline key=value lines (read by test/bench/update-summary.js).
 */
import console from 'node:console';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { parseArgs } from 'node:util';
import {
  DIST,
  REPO_ROOT,
  fmt,
  freePort,
  httpGet,
  installSafetyNets,
  makeTempDir,
  median,
  pinSelf,
  printMachine,
  printTable,
  procMemoryMb,
  removeTempDir,
  serverCpu,
  sleep,
  spawnChild,
  waitForHttp,
} from './common.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
  },
});
const RUNS = Number(opts.runs);
const SECONDS = Number(opts.seconds);
const WARMUP_S = 3;
const REQUEST_EVERY_MS = 10;
const SCRAPE_EVERY_MS = 5000;
const ROUTES = ['/', '/users/17', '/api/items?page=3', '/health', '/users/42'];
const tryOut = RUNS < 3 || SECONDS < 20;

const extra = process.argv.slice(2).join(' ');
console.log(`$ npm run build && node test/bench/preload-footprint.js${extra ? ` ${extra}` : ''}`);
if (tryOut) console.log('# TRY-OUT: fewer runs or a shorter load than the headline run (3 × 20 s)');
installSafetyNets((RUNS * 4 * (SECONDS + WARMUP_S + 15) + 60) * 1000);
pinSelf(0);
printMachine('preload footprint: RSS of a small HTTP application under light load');
console.log(
  `${RUNS} runs per variant, alternating; ${WARMUP_S} s warm-up + ${SECONDS} s load: one request every ${REQUEST_EVERY_MS} ms, a metrics scrape every ${SCRAPE_EVERY_MS / 1000} s`,
);

const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'apps', 'footprint-app.cjs');

/** name, node arguments before the app, FOOTPRINT_PEER, where its metrics are served ('agent' | 'app' | 'exporter' | undefined). */
const VARIANTS = [
  { name: 'bare application', args: [], peer: '', metrics: undefined },
  { name: 'prom-client collectDefaultMetrics', args: [], peer: 'prom-client', metrics: 'app' },
  { name: 'OpenTelemetry SDK + exporter-prometheus', args: [], peer: 'otel-sdk', metrics: 'exporter' },
  {
    name: 'perf-monitor-agent preload',
    args: ['--require', path.join(DIST, 'register.js')],
    peer: '',
    metrics: 'agent',
  },
];

function childEnv(extraEnv) {
  const env = { ...process.env };
  // The application's behaviour must not depend on the caller's environment.
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || k.startsWith('PERF_MONITOR_')) delete env[k];
  delete env.NODE_OPTIONS;
  return { ...env, ...extraEnv };
}

/** The light load: a request every REQUEST_EVERY_MS, a scrape every SCRAPE_EVERY_MS; counts the answers. */
async function drive(appPort, metricsPort, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const pending = [];
  const counts = { ok: 0, failed: 0, scrapes: 0, lastFailure: '' };
  const fail = (what) => {
    counts.failed++;
    counts.lastFailure = what;
  };
  const started = performance.now();
  let nextScrape = started; // a scrape first, then every SCRAPE_EVERY_MS
  let i = 0;
  while (performance.now() - started < seconds * 1000) {
    const route = ROUTES[i++ % ROUTES.length];
    pending.push(
      httpGet(appPort, route, { agent }).then(
        (r) => (r.status === 200 ? counts.ok++ : fail(`${route}: status ${r.status}`)),
        (err) => fail(`${route}: ${err.message}`),
      ),
    );
    if (metricsPort !== undefined && performance.now() >= nextScrape) {
      nextScrape += SCRAPE_EVERY_MS;
      const r = await httpGet(metricsPort, '/metrics', { agent, gzip: true });
      if (r.status !== 200) throw new Error(`metrics scrape: status ${r.status}`);
      counts.scrapes++;
    }
    await sleep(REQUEST_EVERY_MS);
  }
  await Promise.all(pending);
  agent.destroy();
  if (counts.failed > 0) throw new Error(`${counts.failed} requests failed, the last: ${counts.lastFailure}`);
  return counts;
}

async function measure(variant) {
  const dir = makeTempDir('perf-monitor-footprint-');
  const agentPort = await freePort();
  const exporterPort = await freePort();
  const app = spawnChild(process.execPath, [...variant.args, APP], {
    cpu: serverCpu(),
    cwd: dir,
    stdout: 'pipe',
    name: variant.name,
    env: childEnv({
      FOOTPRINT_PEER: variant.peer,
      FOOTPRINT_EXPORTER_PORT: String(exporterPort),
      ...(variant.metrics === 'agent' ? { PERF_MONITOR_PORT: String(agentPort) } : {}),
    }),
  });
  try {
    const line = await app.nextLine(30_000);
    const appPort = Number(/listening (\d+)/.exec(line)?.[1]);
    if (!Number.isInteger(appPort)) throw new Error(`${variant.name} printed ${line}`);
    const metricsPort = { agent: agentPort, app: appPort, exporter: exporterPort }[variant.metrics];
    if (metricsPort !== undefined)
      await waitForHttp(metricsPort, variant.metrics === 'agent' ? '/-/ready' : '/metrics', {
        timeoutMs: 30_000,
        proc: app,
      });
    await drive(appPort, metricsPort, WARMUP_S);
    const counts = await drive(appPort, metricsPort, SECONDS);
    const mem = procMemoryMb(app.pid);
    if (app.exited) throw new Error(`${variant.name} exited during the load:\n${app.stderr}`);
    return { ...mem, requests: counts.ok, scrapes: counts.scrapes };
  } finally {
    await app.stop();
    removeTempDir(dir);
  }
}

const results = new Map(VARIANTS.map((v) => [v.name, []]));
for (let r = 0; r < RUNS; r++) {
  for (const v of VARIANTS) {
    const m = await measure(v);
    results.get(v.name).push(m);
    console.log(
      `run ${r + 1} ${v.name}: VmRSS ${fmt(m.rss, 1)} MB, RssAnon ${fmt(m.anon, 1)} MB, RssFile ${fmt(m.file, 1)} MB, ${m.requests} requests, ${m.scrapes} scrapes`,
    );
  }
}

const med = (name, key) => median(results.get(name).map((x) => x[key]));
const range = (name, key) => {
  const values = results.get(name).map((x) => x[key]);
  return `${fmt(Math.min(...values), 1)}–${fmt(Math.max(...values), 1)}`;
};
const bare = VARIANTS[0].name;
console.log('');
printTable(
  [
    'variant',
    `VmRSS MB (median of ${RUNS}; range)`,
    'RssAnon MB',
    'RssFile MB',
    'added VmRSS MB',
    'added RssAnon MB',
    'requests per run',
  ],
  VARIANTS.map(({ name }) => [
    name,
    `${fmt(med(name, 'rss'), 1)} (${range(name, 'rss')})`,
    fmt(med(name, 'anon'), 1),
    fmt(med(name, 'file'), 1),
    name === bare ? '–' : fmt(med(name, 'rss') - med(bare, 'rss'), 1),
    name === bare ? '–' : fmt(med(name, 'anon') - med(bare, 'anon'), 1),
    fmt(med(name, 'requests'), 0),
  ]),
);

const added = (i, key) => fmt(med(VARIANTS[i].name, key) - med(bare, key), 1);
console.log('');
console.log(`preload_added_rss_mb=${added(3, 'rss')}`);
console.log(`prom_client_added_rss_mb=${added(1, 'rss')}`);
console.log(`otel_sdk_added_rss_mb=${added(2, 'rss')}`);
console.log(`bare_app_rss_mb=${fmt(med(bare, 'rss'), 1)}`);
console.log(`preload_added_rss_anon_mb=${added(3, 'anon')}`);
console.log(`prom_client_added_rss_anon_mb=${added(1, 'anon')}`);
console.log(`otel_sdk_added_rss_anon_mb=${added(2, 'anon')}`);
console.log(`bare_app_rss_anon_mb=${fmt(med(bare, 'anon'), 1)}`);
process.exit(0);
