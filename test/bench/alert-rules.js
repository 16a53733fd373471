/**
 * Alert rule evaluation cost: 1,000 and 10,000 rules over 1,000 series (500 gauges, 500 counters) holding
 * one hour of 15 s samples, rules mixing 1 h windows (mean, max, min, p95, rate, increase) and instant
 * thresholds, each rule on one series through a label matcher (10 rules per series at 10,000). Measures the
 * engine's evaluate() per cycle (median and p95 of 40 cycles after one hour of warm-up), ingest per cycle,
 * and the heap the one-hour series windows take.
 *
 * Side by side: a real Prometheus (Debian's package) loaded with the same hour of data (promtool tsdb
 * create-blocks-from openmetrics) evaluates the `rules export` of the same rules as one group every 15 s;
 * its prometheus_rule_group_last_duration_seconds is the peer figure. Target: 10,000 rules < 10 ms/cycle.
 *
 *   npm run build && node test/bench/alert-rules.js
 */
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  DIST,
  fmt,
  freePort,
  hasCommand,
  httpGet,
  installSafetyNets,
  makeTempDir,
  median,
  printMachine,
  printTable,
  quantile,
  sleep,
  spawnChild,
  waitForHttp,
} from './common.js';

const { RuleEngine } = await import(path.join(DIST, 'alerts', 'engine.js'));
const { compileRules } = await import(path.join(DIST, 'alerts', 'rules.js'));
const { renderPrometheusRules } = await import(path.join(DIST, 'alerts', 'prometheus-rules.js'));
const { parseConfigText } = await import(path.join(DIST, 'config', 'load.js'));
const { SystemClock } = await import(path.join(DIST, 'lib', 'clock.js'));
const { silentLogger } = await import(path.join(DIST, 'lib', 'logger.js'));

installSafetyNets(170_000);
printMachine('alert rule evaluation: 1,000 and 10,000 rules over 1,000 series with 1 h windows');

const SERIES = 1000;
const STEP_MS = 15_000;
const HOUR_POINTS = 240;
const MEASURED = 40;
const KINDS_GAUGE = [
  ['mean_1h', 55],
  ['max_1h', 88],
  ['min_1h', 12],
  ['p95_1h', 85],
  [undefined, 80],
];
const KINDS_COUNTER = [
  ['rate_1h', 0.33],
  ['increase_1h', 1200],
];

/** Deterministic pseudo-random numbers. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function configText(nRules) {
  const lines = [
    'performance_monitor:',
    '  collection_interval: 15s',
    '  application_metrics:',
    '    - {name: bench_gauge, type: gauge, labels: [series]}',
    '    - {name: bench_requests, type: counter, labels: [series]}',
    '  alerting:',
    '    rules:',
  ];
  for (let i = 0; i < nRules; i++) {
    const series = i % SERIES;
    const gaugeSeries = series < SERIES / 2;
    const kinds = gaugeSeries ? KINDS_GAUGE : KINDS_COUNTER;
    const [agg, threshold] = kinds[Math.floor(i / SERIES) % kinds.length];
    lines.push(
      `      - {name: r${i}, metric: ${gaugeSeries ? 'bench_gauge' : 'bench_requests'}, ` +
        `labels: {series: "s${series}"}, condition: ">", threshold: ${threshold + (i % 7)}, duration: 1m` +
        `${agg === undefined ? '' : `, aggregation: ${agg}`}}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The hour of data: gauges wander 0..100, counters grow ~0.33/s and some reset once. */
function makeData(startMs, points) {
  const rand = rng(42);
  const gauges = Array.from({ length: SERIES / 2 }, () => 50);
  const counters = Array.from({ length: SERIES / 2 }, () => 0);
  const cycles = [];
  for (let p = 0; p < points; p++) {
    const t = startMs + p * STEP_MS;
    const samples = [];
    for (let i = 0; i < SERIES / 2; i++) {
      gauges[i] = Math.min(100, Math.max(0, gauges[i] + (rand() - 0.5) * 10));
      samples.push({
        metric: 'bench_gauge',
        labels: { series: `s${i}` },
        value: gauges[i],
        timestampMs: t,
        kind: 'gauge',
      });
    }
    for (let i = 0; i < SERIES / 2; i++) {
      counters[i] = i % 50 === 0 && p === points >> 1 ? 0 : counters[i] + Math.floor(rand() * 10);
      const series = `s${i + SERIES / 2}`;
      samples.push({
        metric: 'bench_requests',
        labels: { series },
        value: counters[i],
        timestampMs: t,
        kind: 'counter',
      });
    }
    cycles.push({ t, samples });
  }
  return cycles;
}

// Heap figures need a full GC before each reading; expose it when the script was started without --expose-gc.
if (globalThis.gc === undefined) {
  v8.setFlagsFromString('--expose-gc');
  globalThis.gc = vm.runInNewContext('gc');
}

function heapMb() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

function runOurs(nRules, data) {
  const config = parseConfigText(configText(nRules), 'bench.yaml', {});
  const rules = compileRules(config);
  const before = heapMb();
  const engine = new RuleEngine({ clock: new SystemClock(), logger: silentLogger, rules });
  const warm = data.slice(0, HOUR_POINTS);
  for (const [i, c] of warm.entries()) {
    engine.ingest(c.samples, c.t);
    if (i % 20 === 0 || i >= HOUR_POINTS - 20) engine.evaluate(c.t);
  }
  const engineMb = heapMb() - before;
  // Pending and firing at the end of the hour: what Prometheus, fed the same hour, shows after one evaluation.
  const activeAtHour = engine.activeAlerts().length;
  const points = engine.store.pointCount();
  const evalMs = [];
  const ingestMs = [];
  for (const c of data.slice(HOUR_POINTS)) {
    const t0 = performance.now();
    engine.ingest(c.samples, c.t);
    const t1 = performance.now();
    engine.evaluate(c.t);
    evalMs.push(performance.now() - t1);
    ingestMs.push(t1 - t0);
  }
  return {
    rules: nRules,
    evalMs,
    ingestMs,
    engineMb,
    points,
    seriesStored: engine.store.size,
    activeAtHour,
    config,
  };
}

async function runPrometheus(result, data) {
  if (process.env.BENCH_NO_PEER === '1') return undefined;
  if (!hasCommand('prometheus') || !hasCommand('promtool')) {
    console.log('prometheus/promtool not on PATH (apt-get install prometheus): peer skipped');
    return undefined;
  }
  const dir = makeTempDir('perf-monitor-bench-rules-');
  // One hour of the same data, ending now, as OpenMetrics for the TSDB backfill.
  const now = Date.now();
  const shift = now - data[HOUR_POINTS - 1].t;
  const om = ['# HELP multi_agent_system_bench_gauge bench', '# TYPE multi_agent_system_bench_gauge gauge'];
  const byCounter = [];
  for (const c of data.slice(0, HOUR_POINTS)) {
    const ts = ((c.t + shift) / 1000).toFixed(3);
    for (const s of c.samples) {
      if (s.kind === 'gauge')
        om.push(`multi_agent_system_bench_gauge{series="${s.labels.series}"} ${s.value} ${ts}`);
      else
        byCounter.push(
          `multi_agent_system_bench_requests_total{series="${s.labels.series}"} ${s.value} ${ts}`,
        );
    }
  }
  om.push(
    '# HELP multi_agent_system_bench_requests bench',
    '# TYPE multi_agent_system_bench_requests counter',
  );
  om.push(...byCounter, '# EOF', '');
  fs.writeFileSync(path.join(dir, 'data.om'), om.join('\n'));
  execFileSync(
    'promtool',
    ['tsdb', 'create-blocks-from', 'openmetrics', path.join(dir, 'data.om'), path.join(dir, 'data')],
    {
      stdio: 'ignore',
      timeout: 120_000,
    },
  );
  const rulesText = renderPrometheusRules(result.config);
  fs.writeFileSync(path.join(dir, 'rules.yml'), rulesText);
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: {evaluation_interval: 15s}\nrule_files: [${JSON.stringify(path.join(dir, 'rules.yml'))}]\n`,
  );
  const port = await freePort();
  const proc = spawnChild(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
    ],
    { name: 'prometheus' },
  );
  await waitForHttp(port, '/-/ready', { timeoutMs: 60_000, proc });
  const durations = [];
  let lastSeen;
  const deadline = Date.now() + 75_000;
  while (durations.length < 4 && Date.now() < deadline) {
    const text = (await httpGet(port, '/metrics')).body.toString('utf8');
    const line = text.split('\n').find((l) => l.startsWith('prometheus_rule_group_last_duration_seconds{'));
    const evals = text.split('\n').find((l) => l.startsWith('prometheus_rule_group_iterations_total{'));
    const ms = line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000;
    if (evals !== undefined && evals !== lastSeen && ms > 0) {
      lastSeen = evals;
      durations.push(ms);
    }
    await sleep(1000);
  }
  const alertsText = (await httpGet(port, '/api/v1/alerts')).body.toString('utf8');
  const promActive = JSON.parse(alertsText).data.alerts.length;
  await proc.stop();
  return { durations, promActive };
}

const data = makeData(Date.UTC(2026, 0, 1), HOUR_POINTS + MEASURED);

// Memory of the series windows alone: one hour of the 1,000 series in a store, no rules.
{
  const { SampleWindow } = await import(path.join(DIST, 'alerts', 'sample-window.js'));
  const before = heapMb();
  const store = new SampleWindow();
  for (const c of data.slice(0, HOUR_POINTS)) store.ingest(c.samples, c.t);
  const mb = heapMb() - before;
  console.log(
    `series windows alone: ${store.size} series × ${HOUR_POINTS} points = ${fmt(mb, 2)} MB heap, ` +
      `${fmt((mb * 1024 * 1024) / store.size, 0)} B per 1 h window (${fmt((mb * 1024 * 1024) / store.pointCount(), 1)} B per point)`,
  );
}
const rows = [];
for (const n of [1000, 10_000]) {
  const ours = runOurs(n, data);
  const peer = await runPrometheus(ours, data);
  const oursMs = median(ours.evalMs);
  const promMs = peer === undefined || peer.durations.length === 0 ? NaN : median(peer.durations);
  rows.push([
    n.toLocaleString('en'),
    fmt(oursMs),
    fmt(quantile(ours.evalMs, 0.95)),
    fmt(median(ours.ingestMs)),
    fmt(promMs),
    `${fmt(promMs / oursMs, 1)}×`,
    `${ours.activeAtHour} / ${peer?.promActive ?? 'n/a'}`,
  ]);
  console.log(
    `${n} rules: ${ours.seriesStored} series, ${ours.points} points held; engine heap ${fmt(ours.engineMb, 1)} MB ` +
      `(series windows + rule state)` +
      `${peer === undefined ? '' : `; Prometheus evaluations sampled: ${peer.durations.map((d) => fmt(d)).join(', ')} ms`}`,
  );
}
printTable(
  [
    'rules',
    'ours median ms/cycle',
    'ours p95 ms',
    'ingest ms/cycle',
    'Prometheus ms/eval',
    'Prometheus / ours',
    'active alerts ours / Prometheus',
  ],
  rows,
);
const ten = rows[1];
const ok = Number(ten[1]) < 10;
console.log(
  `target 10,000 rules < 10 ms per cycle: ${ok ? 'met' : 'MISSED'} (median ${ten[1]} ms; ` +
    `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`,
);
process.exit(0);
