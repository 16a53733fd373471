/**
 * Cost of one system collection cycle, side by side in one run:
 *
 *   (a) our six system probes, all collected concurrently once per cycle (SYSTEM_PROBES create + collect),
 *   (b) the full agent cycle in-process (probes + SDK collect + Prometheus serialization), timed through
 *       the public API only: a collection subscriber (agent.onCollection) marks process.cpuUsage() and
 *       the event-loop utilization at every cycle, and the agent's own
 *       monitor_collection_duration_seconds gives each cycle's wall time,
 *   (c) @opentelemetry/host-metrics 0.39 (one MetricReader.collect() per cycle; its network part runs
 *       `ip route` and a `cat` shell as child processes, whose CPU is counted from cutime/cstime),
 *   (d) prometheus-node-exporter: CPU per scrape from /proc/PID/stat, scraped every 100 ms,
 *   (e) the agent as a process (`perf-monitor run`, 100 ms interval), scraped every 100 ms in the same
 *       loop as (d): CPU per collection + scrape from /proc/PID/stat, measured exactly like (d),
 *   (d') node_exporter scraped back to back (warm), for comparison with published figures.
 *
 * In-process cycles are spaced like a real interval (each variant every 520 ms); variants alternate in
 * rounds. This process is pinned to CPU 0 and the servers to CPU 1 when taskset exists. The event-loop
 * block is bounded two ways: the event loop's active time per cycle (performance.eventLoopUtilization,
 * an upper bound of the longest synchronous stretch), and perf_hooks.monitorEventLoopDelay while each
 * in-process variant collects repeatedly, next to an idle baseline (unpinned, servers stopped).
 *
 *   npm run build && node test/bench/system-collection.js
 *
 * Ends with the headline lines probes_cpu_ms_per_cycle, node_exporter_cpu_ms_per_scrape,
 * probes_cpu_ratio_vs_node_exporter (target ≤ 0.2), agent_cycle_cpu_ratio_vs_node_exporter and longest_block_p90_ms.
 */
/* global AbortController */
import console from 'node:console';
import fs from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setImmediate, setTimeout } from 'node:timers';
import {
  DEFAULT_CONFIG,
  childrenCpuSeconds,
  countSamples,
  fmt,
  httpGet,
  installSafetyNets,
  makeTempDir,
  median,
  pinSelf,
  printMachine,
  printTable,
  procCpuSeconds,
  quantile,
  sampleValue,
  serverCpu,
  sleep,
  startAgentProcess,
  startNodeExporter,
  sum,
  unpinSelf,
} from './common.js';

const ROUNDS = 4;
/** (a)/(c) cycles per round; they alternate a, c, a, c … GAP_MS apart. */
const PAIRS_PER_ROUND = 12;
const WARMUP_PAIRS = 3;
/**
 * host-metrics re-reads network counters only when its cache is 500 ms old, so each variant's cycles are
 * 2 × GAP_MS = 520 ms apart (as with any real interval ≥ 1 s, where the cache never hits).
 */
const GAP_MS = 260;
/** (b): the in-process agent's collection interval, and the cycles skipped / measured per round. */
const AGENT_INTERVAL = '500ms';
const AGENT_WARMUP_CYCLES = 2;
const AGENT_PERIODS = 8;
/** (d)/(e): both scraped every 100 ms (the agent's minimum interval); 4 × 100 scrapes each. */
const SCRAPE_EVERY_MS = 100;
const SCRAPES_PER_ROUND = 100;
/** (d'): node_exporter scraped back to back. */
const NE_BURST_PER_ROUND = 50;
/** Event-loop delay phases: ELD_ROUNDS × (idle, a, b, c), ELD_MS each; (a) every ELD_A_GAP_MS. */
const ELD_ROUNDS = 3;
const ELD_MS = 1500;
const ELD_A_GAP_MS = 20;
const COLLECTIONS_METRIC = 'multi_agent_system_monitor_collections_total';

installSafetyNets(175_000);

async function loadDist() {
  try {
    return {
      agent: await import('../../dist/src/agent/agent.js'),
      load: await import('../../dist/src/agent/load-config.js'),
      registry: await import('../../dist/src/probes/system/registry.js'),
      statfs: await import('../../dist/src/probes/system/statfs.js'),
      clock: await import('../../dist/src/lib/clock.js'),
      logger: await import('../../dist/src/lib/logger.js'),
    };
  } catch (err) {
    throw new Error(`cannot load dist/ — run \`npm run build\` first (${err.message})`, { cause: err });
  }
}

const dist = await loadDist();
const { HostMetrics } = await import('@opentelemetry/host-metrics');
const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');

/** A pull reader: collect() on demand, nothing exported. */
class PullReader extends MetricReader {
  async onShutdown() {}
  async onForceFlush() {}
}

// ---------------------------------------------------------------- variants

/** (a) our probes, built as the agent builds them (default filters). */
async function makeOurProbes() {
  const ctx = {
    clock: new dist.clock.SystemClock(),
    logger: dist.logger.silentLogger,
    paths: { proc: '/proc', sys: '/sys', rootfs: '/' },
    statfs: dist.statfs.nodeStatFs,
    statfsSync: dist.statfs.nodeStatFsSync,
  };
  const probes = dist.registry.SYSTEM_PROBES.map((d) => d.create(ctx, {}));
  await Promise.all(probes.map((p) => p.start()));
  let last = [];
  const collect = async () => {
    const controller = new AbortController();
    last = await Promise.all(probes.map((p) => p.collect(controller.signal)));
  };
  return {
    collect,
    points: () => sum(last.map((s) => s.points.length)),
    states: () => probes.map((p, i) => `${p.name}:${last[i]?.status ?? '?'}`).join(' '),
    shutdown: () => Promise.all(probes.map((p) => p.shutdown())),
  };
}

/** (c) host-metrics with every metric group, read by one pull reader. */
function makeHostMetrics() {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  new HostMetrics({ meterProvider: provider, name: 'bench-host-metrics' }).start();
  let points = 0;
  return {
    collect: async () => {
      const { resourceMetrics } = await reader.collect();
      let n = 0;
      for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
      points = n;
    },
    points: () => points,
    shutdown: () => provider.shutdown(),
  };
}

/**
 * One cycle: CPU of this process (process.cpuUsage: all threads, libuv's pool included), CPU of the
 * child processes it waited for, and wall time.
 */
async function timed(fn) {
  const ch0 = childrenCpuSeconds();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, childMs: (childrenCpuSeconds() - ch0) * 1000, wallMs };
}

function collectionDurationMs(resourceMetrics) {
  for (const sm of resourceMetrics.scopeMetrics)
    for (const m of sm.metrics)
      if (m.descriptor.name.endsWith('monitor_collection_duration_seconds'))
        return (m.dataPoints[0]?.value ?? NaN) * 1000;
  return NaN;
}

function agentConfig(configText, interval) {
  return dist.load.parseConfigText(configText, DEFAULT_CONFIG, {
    PERF_MONITOR_INTERVAL: interval,
    PERF_MONITOR_PORT: '0',
  });
}

/**
 * (b) one round: a fresh in-process agent (HTTP endpoint on a free loopback port, not scraped). CPU
 * per cycle period (between two subscriber calls: one whole cycle, plus the idle timer work around
 * it), and the wall time of each cycle from the agent's self-metric.
 */
async function agentRound(configText, out) {
  const agent = dist.agent.createAgent(agentConfig(configText, AGENT_INTERVAL), {
    logger: dist.logger.silentLogger,
    env: {},
  });
  const marks = [];
  const needed = AGENT_WARMUP_CYCLES + AGENT_PERIODS + 1;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  agent.onCollection('bench', (batch) => {
    const c = process.cpuUsage();
    marks.push({
      cpuMs: (c.user + c.system) / 1000,
      prevCycleMs: collectionDurationMs(batch.resourceMetrics),
    });
    if (marks.length === needed) done();
  });
  await agent.start();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the in-process agent stopped collecting')), needed * 2000);
  });
  await Promise.race([finished, timeout]);
  clearTimeout(timer);
  const summary = agent.getMetricsSummary();
  await agent.stop();
  for (let i = AGENT_WARMUP_CYCLES; i + 1 < marks.length; i++) {
    out.cpuMs.push(marks[i + 1].cpuMs - marks[i].cpuMs);
    out.wallMs.push(marks[i + 1].prevCycleMs);
  }
  out.series = sum(Object.values(summary.metrics).map((v) => v.length));
}

/**
 * (d) + (e): every 100 ms, one gzip scrape of node_exporter and one of the agent process (resumed for
 * this round), as a Prometheus scraping both would do. CPU of each from /proc/PID/stat.
 */
async function scrapeRound(ne, ap, res) {
  ap.proc.resume();
  const neAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const apAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await sleep(300);
    await httpGet(ne.port, '/metrics', { agent: neAgent, gzip: true });
    const first = await httpGet(ap.port, '/metrics', { agent: apAgent, gzip: true });
    const c0 = sampleValue(first.body.toString('utf8'), COLLECTIONS_METRIC);
    const ne0 = procCpuSeconds(ne.proc.pid);
    const ap0 = procCpuSeconds(ap.proc.pid);
    let next = performance.now();
    let last = first;
    for (let i = 0; i < SCRAPES_PER_ROUND; i++) {
      next += SCRAPE_EVERY_MS;
      await sleep(Math.max(0, next - performance.now()));
      const n = await httpGet(ne.port, '/metrics', { agent: neAgent, gzip: true });
      res.d.latencyMs.push(n.ms);
      if (res.d.samples === 0) res.d.samples = countSamples(n.body.toString('utf8'));
      last = await httpGet(ap.port, '/metrics', { agent: apAgent, gzip: true });
      res.e.latencyMs.push(last.ms);
    }
    const ne1 = procCpuSeconds(ne.proc.pid);
    const ap1 = procCpuSeconds(ap.proc.pid);
    const text = last.body.toString('utf8');
    const c1 = sampleValue(text, COLLECTIONS_METRIC);
    res.e.samples = countSamples(text);
    res.d.cpuSeconds += ne1 - ne0;
    res.d.scrapes += SCRAPES_PER_ROUND;
    res.d.perRound.push(((ne1 - ne0) * 1000) / SCRAPES_PER_ROUND);
    res.e.cpuSeconds += ap1 - ap0;
    res.e.collections += c1 - c0;
    res.e.scrapes += SCRAPES_PER_ROUND;
    res.e.perRound.push(((ap1 - ap0) * 1000) / (c1 - c0));
  } finally {
    neAgent.destroy();
    apAgent.destroy();
    ap.proc.pause();
  }
}

/** (d') node_exporter scraped back to back. */
async function nodeExporterBurst(ne, out) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await httpGet(ne.port, '/metrics', { agent, gzip: true });
    const s0 = procCpuSeconds(ne.proc.pid);
    for (let i = 0; i < NE_BURST_PER_ROUND; i++) {
      const r = await httpGet(ne.port, '/metrics', { agent, gzip: true });
      out.latencyMs.push(r.ms);
    }
    const s1 = procCpuSeconds(ne.proc.pid);
    out.cpuSeconds += s1 - s0;
    out.scrapes += NE_BURST_PER_ROUND;
    out.perRound.push(((s1 - s0) * 1000) / NE_BURST_PER_ROUND);
  } finally {
    agent.destroy();
  }
}

/**
 * Runs `body` for `ms` while measuring how long the event loop is held, two ways at once (per cycle of
 * the body, and per phase):
 * - stretches: a setImmediate chain turns once per loop iteration, so the time between two of its
 *   callbacks is one uninterrupted run of other callbacks (I/O completions, timers, their microtasks,
 *   GC pauses). A stretch's length is bounded by its wall time (which adds preemption on a shared
 *   machine) and by the process's CPU time over it (which adds what other threads did meanwhile);
 *   the smaller of the two is kept. (Per-thread CPU is not usable: it moves in 4 ms ticks here.)
 * - perf_hooks.monitorEventLoopDelay at 1 ms resolution: a block of B ms shows as about B + 1 ms.
 */
async function loopHold(ms, body) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const perCycle = [];
  let longest = 0;
  let spinning = true;
  let lastCpu = process.cpuUsage();
  let lastWall = performance.now();
  const spin = () => {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const bound = Math.min(wall - lastWall, (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000);
    if (bound > longest) longest = bound;
    lastCpu = cpu;
    lastWall = wall;
    if (spinning) setImmediate(spin);
  };
  h.enable();
  setImmediate(spin);
  const until = performance.now() + ms;
  // The body calls cycleDone() after each cycle: the longest stretch since the previous call is kept.
  const cycleDone = () => {
    perCycle.push(longest);
    longest = 0;
  };
  await body(until, cycleDone);
  spinning = false;
  h.disable();
  return { eldMaxMs: h.max / 1e6, eldP999Ms: h.percentile(99.9) / 1e6, perCycle };
}

// ---------------------------------------------------------------- run

const machine = printMachine('system collection cost per cycle');
const srvCpu = serverCpu();
const selfCpu = pinSelf(0);
console.log(
  selfCpu === undefined
    ? 'pinning: none (taskset missing or one CPU)'
    : `pinning: this process (probes, host-metrics, in-process agent, HTTP client) on CPU ${selfCpu}; ` +
        `node_exporter and the agent process on CPU ${srvCpu}`,
);

const configText = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
const tmp = makeTempDir('perf-monitor-bench-');
const ne = await startNodeExporter({ cpu: srvCpu });
// Started as npm start starts it (a 1 MB young-generation semi-space).
const ap = await startAgentProcess({
  intervalText: `${SCRAPE_EVERY_MS}ms`,
  cpu: srvCpu,
  dir: tmp,
  nodeFlags: ['--max-semi-space-size=1'],
});
ap.proc.pause();

const ours = await makeOurProbes();
const hm = makeHostMetrics();

const res = {
  a: { cpuMs: [], childMs: [], wallMs: [], perRound: [] },
  b: { cpuMs: [], wallMs: [], perRound: [], series: 0 },
  c: { cpuMs: [], childMs: [], wallMs: [], perRound: [] },
  d: { cpuSeconds: 0, scrapes: 0, latencyMs: [], perRound: [], samples: 0 },
  d2: { cpuSeconds: 0, scrapes: 0, latencyMs: [], perRound: [] },
  e: { cpuSeconds: 0, scrapes: 0, collections: 0, latencyMs: [], perRound: [], samples: 0 },
};

for (let i = 0; i < WARMUP_PAIRS; i++) {
  await ours.collect();
  await sleep(GAP_MS);
  await hm.collect();
  await sleep(GAP_MS);
}
console.log(`our probes: ${ours.states()}`);

const started = performance.now();
for (let round = 1; round <= ROUNDS; round++) {
  const a = [];
  const c = [];
  for (let i = 0; i < PAIRS_PER_ROUND; i++) {
    a.push(await timed(ours.collect));
    await sleep(GAP_MS);
    c.push(await timed(hm.collect));
    await sleep(GAP_MS);
  }
  for (const [key, list] of [
    ['a', a],
    ['c', c],
  ]) {
    for (const k of ['cpuMs', 'childMs', 'wallMs']) res[key][k].push(...list.map((x) => x[k]));
    res[key].perRound.push(median(list.map((x) => x.cpuMs + x.childMs)));
  }
  const b = { cpuMs: [], wallMs: [], series: 0 };
  await agentRound(configText, b);
  for (const k of ['cpuMs', 'wallMs']) res.b[k].push(...b[k]);
  res.b.perRound.push(median(b.cpuMs));
  res.b.series = b.series;
  await scrapeRound(ne, ap, res);
  await nodeExporterBurst(ne, res.d2);
  console.log(
    `round ${round}/${ROUNDS} (${((performance.now() - started) / 1000).toFixed(0)} s), CPU ms: ` +
      `a ${fmt(res.a.perRound.at(-1), 3)}, b ${fmt(res.b.perRound.at(-1), 3)}, ` +
      `c ${fmt(res.c.perRound.at(-1), 3)}, d ${fmt(res.d.perRound.at(-1), 3)}, ` +
      `e ${fmt(res.e.perRound.at(-1), 3)}, d' ${fmt(res.d2.perRound.at(-1), 3)}`,
  );
}

await ap.proc.stop();
await ne.proc.stop();

// How long the event loop is held, with the servers stopped and this process on every CPU again
// (pinned to one CPU, libuv's pool threads would preempt the main thread and show up as loop delay).
// Phases alternate, ELD_ROUNDS times each; the idle phase shows the noise of the method and machine.
unpinSelf();
const eld = { idle: [], a: [], b: [], c: [] };
for (let round = 0; round < ELD_ROUNDS; round++) {
  eld.idle.push(
    await loopHold(ELD_MS, async (until, cycleDone) => {
      while (performance.now() < until) {
        await sleep(100);
        cycleDone();
      }
    }),
  );
  eld.a.push(
    await loopHold(ELD_MS, async (until, cycleDone) => {
      while (performance.now() < until) {
        await ours.collect();
        cycleDone();
        await sleep(ELD_A_GAP_MS);
      }
    }),
  );
  const agent = dist.agent.createAgent(agentConfig(configText, '100ms'), {
    logger: dist.logger.silentLogger,
    env: {},
  });
  await agent.start();
  eld.b.push(
    await loopHold(ELD_MS, async (until, cycleDone) => {
      const off = agent.onCollection('eld', () => cycleDone());
      await sleep(until - performance.now());
      off();
    }),
  );
  await agent.stop();
  eld.c.push(
    await loopHold(ELD_MS, async (until, cycleDone) => {
      while (performance.now() < until) {
        await hm.collect();
        cycleDone();
        await sleep(GAP_MS * 2);
      }
    }),
  );
}

await ours.shutdown();
await hm.shutdown();

// ---------------------------------------------------------------- report

const spread = (v, d = 3) => `${fmt(quantile(v, 0.1), d)}–${fmt(quantile(v, 0.9), d)}`;
const rounds = (v) => v.map((x) => fmt(x, 3)).join(' / ');
const aTotal = res.a.cpuMs.map((x, i) => x + res.a.childMs[i]);
const cTotal = res.c.cpuMs.map((x, i) => x + res.c.childMs[i]);
const dPerScrape = (res.d.cpuSeconds * 1000) / res.d.scrapes;
const d2PerScrape = (res.d2.cpuSeconds * 1000) / res.d2.scrapes;
const ePerCollection = (res.e.cpuSeconds * 1000) / res.e.collections;

console.log('\n## CPU and wall per cycle (ms)\n');
printTable(
  ['variant', 'n', 'CPU median', 'CPU p10–p90', 'CPU per round', 'wall median', 'wall p10–p90', 'series'],
  [
    [
      '(a) our 6 probes, concurrent',
      aTotal.length,
      fmt(median(aTotal), 3),
      spread(aTotal),
      rounds(res.a.perRound),
      fmt(median(res.a.wallMs), 3),
      spread(res.a.wallMs),
      ours.points(),
    ],
    [
      '(b) full agent cycle, in-process',
      res.b.cpuMs.length,
      fmt(median(res.b.cpuMs), 3),
      spread(res.b.cpuMs),
      rounds(res.b.perRound),
      fmt(median(res.b.wallMs), 3),
      spread(res.b.wallMs),
      res.b.series,
    ],
    [
      '(c) host-metrics 0.39 collect, incl. children',
      cTotal.length,
      fmt(median(cTotal), 3),
      spread(cTotal),
      rounds(res.c.perRound),
      fmt(median(res.c.wallMs), 3),
      spread(res.c.wallMs),
      hm.points(),
    ],
    [
      '(d) node_exporter per scrape, every 100 ms',
      res.d.scrapes,
      fmt(dPerScrape, 3),
      '(pooled)',
      rounds(res.d.perRound),
      fmt(median(res.d.latencyMs), 3),
      spread(res.d.latencyMs),
      res.d.samples,
    ],
    [
      '(e) agent process per collection + scrape',
      res.e.collections,
      fmt(ePerCollection, 3),
      '(pooled)',
      rounds(res.e.perRound),
      fmt(median(res.e.latencyMs), 3),
      spread(res.e.latencyMs),
      res.e.samples,
    ],
    [
      "(d') node_exporter per scrape, back to back",
      res.d2.scrapes,
      fmt(d2PerScrape, 3),
      '(pooled)',
      rounds(res.d2.perRound),
      fmt(median(res.d2.latencyMs), 3),
      spread(res.d2.latencyMs),
      res.d.samples,
    ],
  ],
);
console.log(
  `\nCPU of (a)-(c): process.cpuUsage() around each cycle; (c) = in-process ${fmt(median(res.c.cpuMs), 3)} ms ` +
    `(median) + child processes (ip route, cat) ${fmt(sum(res.c.childMs) / res.c.childMs.length, 3)} ms ` +
    `(mean; cutime+cstime at ${machine.clkTck} Hz); (a) children: ${fmt(sum(res.a.childMs), 1)} ms in total.`,
);
console.log(
  `(b) CPU per cycle period (whole 500 ms between two collections); wall from monitor_collection_duration_seconds.`,
);
console.log(
  `(d)/(e)/(d') CPU from /proc/PID/stat at ${machine.clkTck} Hz: ${res.d.scrapes} scrapes = ` +
    `${fmt(res.d.cpuSeconds * machine.clkTck, 0)} ticks; ${res.e.collections} collections and ` +
    `${res.e.scrapes} scrapes = ${fmt(res.e.cpuSeconds * machine.clkTck, 0)} ticks; ` +
    `${res.d2.scrapes} scrapes = ${fmt(res.d2.cpuSeconds * machine.clkTck, 0)} ticks. Their wall = client-side scrape latency.`,
);

console.log('\n## Event loop\n');
const holdRow = (name, list) => {
  const v = list.flatMap((e) => e.perCycle);
  return [
    name,
    v.length,
    fmt(median(v), 2),
    fmt(quantile(v, 0.9), 2),
    fmt(Math.max(...v), 2),
    v.filter((x) => x > 2).length,
    list.map((e) => fmt(e.eldMaxMs, 2)).join(' / '),
    list.map((e) => fmt(e.eldP999Ms, 2)).join(' / '),
  ];
};
printTable(
  [
    'phase',
    'cycles',
    'longest stretch per cycle: median ms',
    'p90',
    'max',
    'cycles > 2 ms',
    'ELD max ms (per phase)',
    'ELD p99.9 ms',
  ],
  [
    holdRow('idle baseline (100 ms windows)', eld.idle),
    holdRow(`(a) our probes, every ${ELD_A_GAP_MS} ms`, eld.a),
    holdRow('(b) in-process agent, 100 ms interval', eld.b),
    holdRow(`(c) host-metrics, every ${GAP_MS * 2} ms`, eld.c),
  ],
);
console.log(
  `\n${ELD_ROUNDS} alternating phases of ${ELD_MS / 1000} s each, this process unpinned, servers stopped. ` +
    'A stretch is one uninterrupted run of callbacks between two turns of a setImmediate chain, bounded ' +
    'by min(wall, process CPU) over it; each cycle (each 100 ms window when idle) gives its longest. The ' +
    'spinning chain allocates, so scavenges (~0.5 ms) land in stretches of every row. ELD = ' +
    'monitorEventLoopDelay at 1 ms resolution (block + ~1 ms + noise). ' +
    "host-metrics' execSync wait is wall without CPU, so it shows in ELD, not in the stretch bound.",
);

console.log('\n## Ratios\n');
const verdict = (ok) => (ok ? 'meets' : 'MISSES');
const ratioRow = (name, x, y, limit) => [
  name,
  fmt(x / y, 3),
  limit === undefined ? '-' : `≤ ${limit} (${verdict(x / y <= limit)})`,
];
const idleWindows = eld.idle.flatMap((e) => e.perCycle);
printTable(
  ['ratio', 'value', 'target'],
  [
    ratioRow('(a) our probes CPU / node_exporter CPU per scrape (d)', median(aTotal), dPerScrape, 0.2),
    ratioRow('(b) full agent cycle CPU / node_exporter per scrape (d)', median(res.b.cpuMs), dPerScrape, 0.2),
    ratioRow('(e) agent process per collection+scrape / node_exporter (d)', ePerCollection, dPerScrape, 0.2),
    ratioRow("(e) agent process / node_exporter back to back (d')", ePerCollection, d2PerScrape, 0.2),
    ratioRow('(a) our probes CPU / host-metrics CPU incl. children (c)', median(aTotal), median(cTotal)),
    ratioRow('(b) full agent cycle CPU / host-metrics CPU (c)', median(res.b.cpuMs), median(cTotal)),
    ratioRow('(a) our probes wall / host-metrics wall (c)', median(res.a.wallMs), median(res.c.wallMs)),
    ...[
      ['(a)', eld.a],
      ['(b)', eld.b],
    ].map(([name, list]) => {
      const v = list.flatMap((e) => e.perCycle);
      return [
        `event-loop block ${name}: longest stretch per cycle, p90 / max (idle windows: max)`,
        `${fmt(quantile(v, 0.9), 2)} / ${fmt(Math.max(...v), 2)} ms (${fmt(Math.max(...idleWindows), 2)})`,
        `≤ 2 ms: p90 ${verdict(quantile(v, 0.9) <= 2)}, max ${verdict(Math.max(...v) <= 2)}`,
      ];
    }),
  ],
);
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s after warm-up`);
// Headline figures (test/bench/update-summary.js): the target is our probes at ≤ 1/5 of node_exporter per scrape.
const allEld = [...eld.a, ...eld.b].flatMap((e) => e.perCycle);
console.log('');
console.log(`probes_cpu_ms_per_cycle=${fmt(median(aTotal), 2)}`);
console.log(`node_exporter_cpu_ms_per_scrape=${fmt(dPerScrape, 2)}`);
console.log(`probes_cpu_ratio_vs_node_exporter=${fmt(median(aTotal) / dPerScrape, 3)}`);
console.log(`agent_cycle_cpu_ratio_vs_node_exporter=${fmt(median(res.b.cpuMs) / dPerScrape, 3)}`);
console.log(`longest_block_p90_ms=${fmt(quantile(allEld, 0.9), 2)}`);
process.exit(0);
