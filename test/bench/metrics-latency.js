/**
 * `/metrics` latency for 10,000 series, in the same run:
 *
 *   (a) ours: PrometheusSnapshot + serveMetrics (dist/src/export/prometheus.js) behind a node:http server,
 *       fed by a CollectionReader (dist/src/analysis/collection-reader.js) over a MeterProvider with one
 *       counter of 10,000 attribute sets (3 attributes each); a scrape writes the cached snapshot,
 *   (b) prom-client 15.1.3: a Registry with a Counter of 10,000 label sets, served by
 *       `await register.metrics()` on a node:http server (rendered on every request).
 *
 * Each server is a child process of this script (`--serve ours|prom`), pinned to CPU 1; the client
 * (this process) is pinned to CPU 0 and sends sequential keep-alive GETs over loopback, alternating the
 * servers in rounds. Client-side latency = request start → last body byte. The servers also report the
 * one-time costs: our collect + serialization per collection (where the work moved: the first scrape of a
 * collection serializes it, later ones write the cached text) and prom-client's render.
 *
 *   npm run build && node test/bench/metrics-latency.js [--ours-node-flags="--lite-mode"]
 *
 * Ends with the headline lines metrics_p50_ms (ours, cached snapshot), prom_client_p50_ms and
 * speedup_vs_prom_client (target ≥ 20).
 *
 * `--ours-node-flags` starts our server with those node flags (as the daemon's `npm start` runs it).
 */
import { Buffer } from 'node:buffer';
import console from 'node:console';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setInterval, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import {
  CLK_TCK,
  countSamples,
  fmt,
  httpGet,
  installSafetyNets,
  median,
  pinSelf,
  printMachine,
  printTable,
  procCpuSeconds,
  quantile,
  serverCpu,
  spawnChild,
} from './common.js';

const SERIES = 10_000;
const WARMUP = 30;
const ROUNDS = 3;
const PER_ROUND = 100;
const ONE_TIME_RUNS = 15;
const ONE_TIME_WARMUP = 3;

/** Three labels; the 10,000 combinations are distinct (i = 1000·code + 10·route + service). */
function labelsOf(i) {
  return {
    service: `svc-${i % 10}`,
    route: `/api/v1/resource-${Math.floor(i / 10) % 100}`,
    code: String(200 + Math.floor(i / 1000)),
  };
}

function cpuMsSince(c0) {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

/** Times `fn` `runs` times after `warmup` runs: median wall and CPU in ms. */
async function timeRuns(fn, runs = ONE_TIME_RUNS, warmup = ONE_TIME_WARMUP) {
  for (let i = 0; i < warmup; i++) await fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    cpu.push(cpuMsSince(c0));
  }
  return {
    wallMs: median(wall),
    cpuMs: median(cpu),
    wallMinMs: Math.min(...wall),
    wallMaxMs: Math.max(...wall),
  };
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

// ---------------------------------------------------------------- servers (child processes)

async function serveOurs() {
  let dist;
  try {
    dist = {
      reader: await import('../../dist/src/analysis/collection-reader.js'),
      prometheus: await import('../../dist/src/export/prometheus.js'),
      clock: await import('../../dist/src/lib/clock.js'),
      logger: await import('../../dist/src/lib/logger.js'),
    };
  } catch (err) {
    throw new Error(`cannot load dist/ — run \`npm run build\` first (${err.message})`, { cause: err });
  }
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');

  // The SDK's counter feeds our CollectionReader as one of its metric producers.
  class SdkReader extends MetricReader {
    async onShutdown() {}
    async onForceFlush() {}
  }
  // Above the series count, so no series falls into the SDK's overflow series.
  const sdkReader = new SdkReader({ cardinalitySelector: () => 2 * SERIES });
  const resource = resourceFromAttributes({ 'service.name': 'metrics-latency-bench' });
  const reader = new dist.reader.CollectionReader({
    clock: new dist.clock.SystemClock(),
    logger: dist.logger.silentLogger,
    intervalMs: 3_600_000,
    refresh: async () => {},
    nameOf: (n) => n,
    resource,
    metricProducers: [{ collect: () => sdkReader.collect() }],
  });
  const provider = new MeterProvider({ resource, readers: [sdkReader] });
  const counter = provider
    .getMeter('bench')
    .createCounter('bench_requests', { description: 'Requests handled by the benchmark' });
  for (let i = 0; i < SERIES; i++) counter.add(1 + (i % 5), labelsOf(i));

  const snapshot = new dist.prometheus.PrometheusSnapshot({ constantLabels: [] });
  // One-time cost per collection: the SDK collect, then the serialization into the snapshot.
  let rm;
  const collect = await timeRuns(async () => {
    rm = (await reader.collect()).resourceMetrics;
  });
  // The snapshot serializes on the first read after an update (what the first scrape of a collection pays).
  const serialize = await timeRuns(() => {
    snapshot.update(rm, Date.now());
    return snapshot.current().body;
  });
  // The whole cycle as the agent runs it (no probes here): collect + batch + subscribers.
  reader.subscribe('prometheus', (batch) => snapshot.update(batch.resourceMetrics, batch.timestampMs));
  const cycle = await timeRuns(async () => {
    await reader.runCycle();
    return snapshot.current().body;
  });
  const gzip = await timeRuns(async () => {
    snapshot.update(rm, Date.now());
    snapshot.current().gzipped();
  });
  await reader.runCycle();
  const body = snapshot.current().body;

  const server = http.createServer((req, res) =>
    dist.prometheus.serveMetrics(req, res, snapshot.current(), () => {}),
  );
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return {
    port,
    bytes: body.length,
    samples: countSamples(body.toString('utf8')),
    oneTime: { collect, serialize, cycle, gzipPlusSerialize: gzip },
  };
}

async function serveProm() {
  const { default: client } = await import('prom-client');
  const register = new client.Registry();
  const counter = new client.Counter({
    name: 'bench_requests_total',
    help: 'Requests handled by the benchmark',
    labelNames: ['service', 'route', 'code'],
    registers: [register],
  });
  for (let i = 0; i < SERIES; i++) counter.inc(labelsOf(i), 1 + (i % 5));
  const render = await timeRuns(() => register.metrics());
  const text = await register.metrics();
  const server = http.createServer(async (_req, res) => {
    const out = await register.metrics();
    res.writeHead(200, { 'Content-Type': register.contentType, 'Content-Length': Buffer.byteLength(out) });
    res.end(out);
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return { port, bytes: Buffer.byteLength(text), samples: countSamples(text), oneTime: { render } };
}

// ---------------------------------------------------------------- client

const OURS_NODE_FLAGS = (
  process.argv.find((a) => a.startsWith('--ours-node-flags='))?.slice('--ours-node-flags='.length) ?? ''
)
  .split(/\s+/)
  .filter((f) => f !== '');

async function startServer(kind, cpu) {
  const flags = kind === 'ours' ? OURS_NODE_FLAGS : [];
  const proc = spawnChild(process.execPath, [...flags, fileURLToPath(import.meta.url), '--serve', kind], {
    cpu,
    stdout: 'pipe',
    name: `${kind} server`,
  });
  const info = JSON.parse(await proc.nextLine(60_000));
  return { ...info, proc };
}

/** `n` sequential GETs on one keep-alive connection: latencies and the server's CPU over them. */
async function batch(server, n, { gzip = false } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await httpGet(server.port, '/metrics', { agent, gzip });
    const s0 = procCpuSeconds(server.proc.pid);
    const ms = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const r = await httpGet(server.port, '/metrics', { agent, gzip });
      if (r.status !== 200) throw new Error(`${server.proc.name} answered ${r.status}`);
      ms.push(r.ms);
      bytes = r.rawBytes;
    }
    return { ms, cpuSeconds: procCpuSeconds(server.proc.pid) - s0, bytes };
  } finally {
    agent.destroy();
  }
}

async function client() {
  installSafetyNets(170_000);
  printMachine(`/metrics latency, ${SERIES} counter series`);
  if (OURS_NODE_FLAGS.length > 0) console.log(`our server: node ${OURS_NODE_FLAGS.join(' ')}`);
  const srvCpu = serverCpu();
  const selfCpu = pinSelf(0);
  console.log(
    selfCpu === undefined
      ? 'pinning: none (taskset missing or one CPU)'
      : `pinning: client on CPU ${selfCpu}; both servers on CPU ${srvCpu}`,
  );
  const ours = await startServer('ours', srvCpu);
  const prom = await startServer('prom', srvCpu);

  const variants = [
    { name: '(a) ours: cached snapshot', server: ours, gzip: false },
    { name: '(b) prom-client register.metrics()', server: prom, gzip: false },
    { name: '(a) ours, Accept-Encoding: gzip', server: ours, gzip: true },
  ];
  for (const v of variants) {
    await batch(v.server, WARMUP, { gzip: v.gzip });
    v.ms = [];
    v.cpuSeconds = 0;
    v.perRound = [];
  }
  const started = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of variants) {
      const r = await batch(v.server, PER_ROUND, { gzip: v.gzip });
      v.ms.push(...r.ms);
      v.cpuSeconds += r.cpuSeconds;
      v.bytes = r.bytes;
      v.perRound.push(median(r.ms));
    }
    console.log(
      `round ${round}/${ROUNDS} (${((performance.now() - started) / 1000).toFixed(0)} s): p50 ` +
        variants.map((v) => `${v.name.split(':')[0]} ${fmt(v.perRound.at(-1), 3)} ms`).join(', '),
    );
  }
  await ours.proc.stop();
  await prom.proc.stop();

  console.log(`\n## Client-side latency, ${ROUNDS} × ${PER_ROUND} sequential requests each (ms)\n`);
  printTable(
    [
      'variant',
      'n',
      'p50',
      'p90',
      'p99',
      'max',
      'p50 per round',
      'server CPU / request',
      'bytes on the wire',
    ],
    variants.map((v) => [
      v.name,
      v.ms.length,
      fmt(median(v.ms), 3),
      fmt(quantile(v.ms, 0.9), 3),
      fmt(quantile(v.ms, 0.99), 3),
      fmt(Math.max(...v.ms), 3),
      v.perRound.map((x) => fmt(x, 3)).join(' / '),
      `${fmt((v.cpuSeconds * 1000) / v.ms.length, 3)} (${fmt(v.cpuSeconds * CLK_TCK, 0)} ticks)`,
      v.bytes,
    ]),
  );
  console.log(
    `\nsamples in the body: ours ${ours.samples} (incl. target_info), prom-client ${prom.samples}; ` +
      `uncompressed bytes: ours ${ours.bytes}, prom-client ${prom.bytes}.`,
  );

  const o = ours.oneTime;
  console.log(
    `\n## One-time cost per collection, in the server process (median of ${ONE_TIME_RUNS} after ${ONE_TIME_WARMUP} warm-up; ms)\n`,
  );
  printTable(
    ['work', 'wall median', 'wall min–max', 'CPU median'],
    [
      ['ours: SDK collect (MetricReader.collect) of 10k series', o.collect],
      ['ours: serialization into the snapshot (update + first read)', o.serialize],
      ['ours: whole cycle (CollectionReader.runCycle: collect + serialize)', o.cycle],
      ['ours: serialization + gzip of the snapshot (first gzip scrape)', o.gzipPlusSerialize],
      ['prom-client: register.metrics() (paid on every scrape)', prom.oneTime.render],
    ].map(([name, t]) => [
      name,
      fmt(t.wallMs, 2),
      `${fmt(t.wallMinMs, 2)}–${fmt(t.wallMaxMs, 2)}`,
      fmt(t.cpuMs, 2),
    ]),
  );
  console.log('\nAll of these run synchronously on the event loop (one block per collection for ours).');

  const ratio = median(variants[1].ms) / median(variants[0].ms);
  console.log('\n## Ratio\n');
  printTable(
    ['ratio', 'value', 'target'],
    [
      [
        'prom-client p50 / ours p50 (uncompressed)',
        fmt(ratio, 1),
        `≥ 20 (${ratio >= 20 ? 'meets' : 'MISSES'})`,
      ],
      [
        'prom-client p50 / ours p50 (ours gzip)',
        fmt(median(variants[1].ms) / median(variants[2].ms), 1),
        '-',
      ],
    ],
  );
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s after warm-up`);
  // Headline figures (test/bench/update-summary.js): the target is ≥ 20× prom-client's p50.
  console.log('');
  console.log(`metrics_p50_ms=${fmt(median(variants[0].ms), 2)}`);
  console.log(`prom_client_p50_ms=${fmt(median(variants[1].ms), 2)}`);
  console.log(`speedup_vs_prom_client=${fmt(ratio, 1)}`);
  process.exit(0);
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex >= 0) {
  const kind = process.argv[serveIndex + 1];
  // A server lives until its parent stops it or goes away, and at most 3 minutes.
  setTimeout(() => process.exit(0), 180_000).unref();
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000).unref();
  process.on('SIGTERM', () => process.exit(0));
  const info = kind === 'ours' ? await serveOurs() : kind === 'prom' ? await serveProm() : undefined;
  if (info === undefined) throw new Error(`unknown server kind ${kind}`);
  process.stdout.write(`${JSON.stringify(info)}\n`);
} else {
  await client();
}
