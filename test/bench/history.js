/**
 * Trend history: bytes per sample on disk (the file as it lies on disk, SQLite pages included, divided by the
 * samples stored; raw), bytes per rollup row (the pages of the rollup tables, 1-minute and 1-hour rows, on
 * real and synthetic data), the projected size of 7 days of the full default catalog at a 10 s interval as
 * raw samples and with the default tiers, the append time per collection, the hourly maintenance and its
 * longest slice, the status page's chart reads (1 h, 24 h, 7 d), 7-day window query time, and online anomaly
 * detection cost per series per cycle. Each figure is printed next to a peer measured in the same run:
 *
 *   store:     the naive layout, one SQLite row per sample (series_id, t, value) WITHOUT ROWID; Prometheus'
 *              documented 1-2 bytes per sample and Gorilla's reported 1.37 are printed for reference;
 *   detection: recomputing the baseline from the window on every update (sort for median/quartiles).
 *
 * Part A captures real collections from an in-process agent on this host (default config, 100 ms interval,
 * some application traffic recorded so the application histograms and counters have series), re-stamped
 * on a 10 s grid with ±5 ms jitter and written REPEAT times over (the counters restart at each pass), so that
 * the file holds hours of collections rather than minutes; then the file is rolled up. Part B writes 7 days × 20 synthetic series (noisy
 * gauges, random walks, counters, constants) to time 7-day windows. Ends with headline key=value lines.
 *
 *   npm run build && node test/bench/history.js
 */
import console from 'node:console';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearInterval, setInterval } from 'node:timers';
import { DatabaseSync } from 'node:sqlite';
import {
  DEFAULT_CONFIG,
  DIST,
  fmt,
  freePort,
  installSafetyNets,
  makeTempDir,
  median,
  printMachine,
  printTable,
  removeTempDir,
  sleep,
} from './common.js';

const { PerformanceMonitorAgent } = await import(path.join(DIST, 'agent', 'agent.js'));
const { parseConfigText } = await import(path.join(DIST, 'agent', 'load-config.js'));
const { SqliteHistoryStore } = await import(path.join(DIST, 'trends', 'history-store.js'));
const { computeStatistics } = await import(path.join(DIST, 'trends', 'stats.js'));
const { SeriesDetector } = await import(path.join(DIST, 'trends', 'anomaly.js'));
const { chartWindows } = await import(path.join(DIST, 'trends', 'chart-query.js'));
const { catalogByDashboardGroup } = await import(path.join(DIST, 'catalog', 'dashboard-groups.js'));

installSafetyNets(400_000);
printMachine('trend history: storage, windows, anomaly detection');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INTERVAL = 10_000;
const CYCLES_7D = (7 * DAY) / INTERVAL;
const dir = makeTempDir('history-bench');

function storeAt(file, nowMs, rawRetentionMs = 8 * DAY) {
  return new SqliteHistoryStore({
    path: file,
    rawRetentionMs,
    rollup1mRetentionMs: 14 * DAY,
    retentionMs: 30 * DAY,
    nowMs: () => nowMs,
  });
}

/** The peer: one row per sample. */
function naiveStore(file) {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL');
  db.exec(
    'CREATE TABLE samples (series_id INTEGER NOT NULL, t INTEGER NOT NULL, v REAL, PRIMARY KEY (series_id, t)) WITHOUT ROWID',
  );
  const ids = new Map();
  const ins = db.prepare('INSERT OR IGNORE INTO samples VALUES (?, ?, ?)');
  const idOf = (key) => {
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size + 1));
    return id;
  };
  return {
    db,
    append(samples) {
      db.exec('BEGIN');
      for (const s of samples) {
        const key = `${s.metric}${JSON.stringify(s.labels)}`;
        if (s.histogram) {
          let cum = 0;
          s.histogram.counts.forEach((c, i) => {
            cum += c;
            ins.run(idOf(`${key}le${i}`), s.timestampMs, cum);
          });
          ins.run(idOf(`${key}sum`), s.timestampMs, s.histogram.sum);
          ins.run(idOf(`${key}count`), s.timestampMs, s.histogram.count);
        } else ins.run(idOf(key), s.timestampMs, s.value);
      }
      db.exec('COMMIT');
    },
    idOf,
  };
}

/** Bytes of the pages of a table and its indexes (SQLite's dbstat), after a checkpoint. */
function tableBytes(file, table) {
  const db = new DatabaseSync(file, { readOnly: true });
  const row = db
    .prepare(
      "SELECT coalesce(sum(pgsize), 0) AS b FROM dbstat WHERE name = ? OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?)",
    )
    .get(table, table);
  db.close();
  return row.b;
}

/** The size of the file on disk after folding the write-ahead log into it. */
function fileBytes(db, file) {
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  return fs.statSync(file).size;
}

// ---------------------------------------------------------------- A: real collections, default catalog
const CAPTURE_CYCLES = 600;
const REPEAT = 4;
const port = await freePort();
const configText = fs
  .readFileSync(DEFAULT_CONFIG, 'utf8')
  .replace('${PERF_MONITOR_INTERVAL:-15s}', '100ms')
  .replace('${PERF_MONITOR_PORT:-9091}', String(port))
  .replace("'${PERF_MONITOR_HOST:-127.0.0.1}'", "'127.0.0.1'")
  // the agent under capture keeps no history of its own (the store below is the one measured)
  .replace(/^trend_analysis:\n {2}enabled: true/m, 'trend_analysis:\n  enabled: false');
const agent = new PerformanceMonitorAgent({
  config: parseConfigText(configText, 'bench.yaml', {}),
  env: {},
  logger: {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child() {
      return this;
    },
  },
});
const captured = [];
agent.onCollection('bench', (batch) => {
  if (captured.length < CAPTURE_CYCLES) captured.push(batch.samples);
});
await agent.start();
const app = agent.getApplicationCollector();
let k = 0;
const traffic = setInterval(() => {
  k++;
  for (const ep of ['/orders', '/users', '/search'])
    app.recordApiRequest(ep, 'GET', 0.005 + ((k * 7919) % 1000) / 2000, k % 50 === 0 ? 'error' : 'success');
  app.setQueueLength('jobs', k % 37);
  app.recordCacheHit('main');
  if (k % 3 === 0) app.recordCacheMiss('main');
  app.recordAgentExecution('planner', 0.01 + (k % 13) / 100);
}, 10);
while (captured.length < CAPTURE_CYCLES) await sleep(200);
clearInterval(traffic);
await agent.stop();

const T0 = Date.UTC(2026, 10, 1);
const restamp = (cycle, i) => T0 + (cycle * captured.length + i) * INTERVAL + ((i * 7) % 11) - 5;
const perCycleSamples = captured[captured.length - 1].length;
const realFile = path.join(dir, 'real.db');
const naiveRealFile = path.join(dir, 'real-naive.db');
const store = storeAt(realFile, T0 + 30 * DAY);
store.open();
const naive = naiveStore(naiveRealFile);
let appendMs = 0;
const appendTimes = [];
let onePass;
for (let rep = 0; rep < REPEAT; rep++) {
  captured.forEach((samples, i) => {
    const t = restamp(rep, i);
    const batch = samples.map((s) => ({ ...s, timestampMs: t }));
    const a = performance.now();
    store.append(batch);
    const took = performance.now() - a;
    appendMs += took;
    appendTimes.push(took);
    naive.append(batch);
  });
  if (rep === 0) {
    store.checkpoint();
    onePass = { bytes: fs.statSync(realFile).size, samples: store.footprint().rawSamples };
  }
}
store.checkpoint();
const realFp = store.footprint();
const realBytes = fs.statSync(realFile).size;
const naiveRealBytes = fileBytes(naive.db, naiveRealFile);
const collections = captured.length * REPEAT;
const storedSeries = realFp.rawSamples / collections;
console.log(
  `\nA. ${captured.length} real collections of the default catalog on this host, written ${REPEAT} times over ` +
    `(${collections} collections, ${fmt((collections * INTERVAL) / HOUR, 1)} h at 10 s): ${perCycleSamples} series per collection ` +
    `(${fmt(storedSeries, 0)} stored series with histogram buckets)`,
);
const bpsReal = realBytes / realFp.rawSamples;
const bpsNaive = naiveRealBytes / realFp.rawSamples;
const bpsOnePass = onePass.bytes / onePass.samples;
printTable(
  ['layout', 'samples', 'file bytes', 'bytes/sample', 'vs naive'],
  [
    ['this store', realFp.rawSamples, realBytes, fmt(bpsReal, 2), fmt(bpsReal / bpsNaive, 3)],
    [
      `this store, first pass only (${captured.length} collections)`,
      onePass.samples,
      onePass.bytes,
      fmt(bpsOnePass, 2),
      '',
    ],
    ['one row per sample (peer)', realFp.rawSamples, naiveRealBytes, fmt(bpsNaive, 2), '1'],
    ['Gorilla (paper, reported)', '', '', '1.37', ''],
    ['Prometheus TSDB (documented)', '', '', '1-2', ''],
  ],
);
console.log(
  `the first pass carries the fixed cost of the series table and the open block; free pages in the file: ${realFp.freeBytes} bytes`,
);
const appendP99 = appendTimes.sort((a, b) => a - b)[Math.floor(appendTimes.length * 0.99)];
console.log(
  `append: ${fmt((appendMs / collections) * 1000, 0)} µs per collection on average, p99 ${fmt(appendP99, 2)} ms ` +
    `(${fmt(storedSeries, 0)} series, one transaction; target: well under the 100 ms of the shortest interval)`,
);
store.close();
naive.db.close();

// The same file rolled up hour by hour, as the agent's hourly maintenance does (each run re-encodes the open
// rollup blocks): the rollup tables' own pages per row, and the time of each maintenance.
const lastT = restamp(REPEAT - 1, captured.length - 1);
const hourlyMs = [];
const sliceMsAll = [];
/** The agent's budget per collection (src/trends/trend-service.ts). */
const MAINTENANCE_SLICE_MS = 20;
let realTier;
for (let h = Math.floor(T0 / HOUR) + 1; h * HOUR <= lastT + HOUR; h++) {
  realTier = storeAt(realFile, h * HOUR);
  realTier.open();
  // As the agent runs it: slices of MAINTENANCE_SLICE_MS, one per collection; the pass's time is their sum.
  let passMs = 0;
  for (;;) {
    const a = performance.now();
    const done = realTier.maintainSlice(MAINTENANCE_SLICE_MS, () => performance.now());
    const sliceMs = performance.now() - a;
    passMs += sliceMs;
    sliceMsAll.push(sliceMs);
    if (done !== undefined) break;
  }
  hourlyMs.push(passMs);
  if (h * HOUR <= lastT) realTier.close();
}
// The status page's charts (`/?window=…`): every catalog metric of the dashboard groups, read as the agent's
// endpoint reads them (src/agent/endpoint.ts: 8 lines per metric, 120 points per line), on the agent's loop.
const CHART_WINDOWS = [
  ['1h', HOUR, 'raw'],
  ['24h', DAY, '1m'],
  ['7d', 7 * DAY, '1h'],
];
const chartMetrics = catalogByDashboardGroup().flatMap((g) => g.metrics);
const chartMs = {};
const chartLines = {};
const chartLongestMs = {};
for (const [name, ms, resolution] of CHART_WINDOWS) {
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const a = performance.now();
    const lines = await chartWindows(
      realTier,
      chartMetrics,
      { fromMs: lastT - ms, toMs: lastT, resolution },
      {
        maxPoints: 120,
        maxSeries: 8,
      },
    );
    runs.push(performance.now() - a);
    chartLines[name] = lines.length;
  }
  chartMs[name] = median(runs);
  // The longest the loop waits: the page yields between metrics, so one metric's read.
  let longest = 0;
  for (const metric of chartMetrics) {
    const a = performance.now();
    await chartWindows(
      realTier,
      [metric],
      { fromMs: lastT - ms, toMs: lastT, resolution },
      { maxPoints: 120, maxSeries: 8 },
    );
    longest = Math.max(longest, performance.now() - a);
  }
  chartLongestMs[name] = longest;
}
console.log(
  `status page charts (${chartMetrics.length} catalog metrics, the agent's limits, median of 5): ` +
    CHART_WINDOWS.map(
      ([n, , res]) => `${n} (${res}) ${fmt(chartMs[n], 1)} ms for ${chartLines[n]} lines`,
    ).join(', ') +
    `; the 1 h window reads raw samples, ${fmt(HOUR / INTERVAL, 0)} per series at this file's ${INTERVAL / 1000} s ` +
    `interval (the default 15 s: 240; 1 s: 3,600, about ten times the work)`,
);
realTier.checkpoint();
const realTierFp = realTier.footprint();
realTier.close();
const real1m = tableBytes(realFile, 'rollup_1m') / realTierFp.rollup1m;
const real1h = tableBytes(realFile, 'rollup_1h') / realTierFp.rollup1h;
console.log(
  `rolled up: ${realTierFp.rollup1m} 1-min rows, ${fmt(real1m, 2)} bytes each; ${realTierFp.rollup1h} 1-h rows, ` +
    `${fmt(real1h, 2)} bytes each (the pages of the rollup tables and their indexes, per row; 6 raw samples of ` +
    `a 1-min row cost ${fmt(6 * bpsReal, 2)}); hourly maintenance of the ${fmt(storedSeries, 0)} series: median ` +
    `${fmt(median(hourlyMs), 0)} ms, max ${fmt(Math.max(...hourlyMs), 0)} ms (${hourlyMs.length} runs), in ` +
    `${sliceMsAll.length} slices of ${MAINTENANCE_SLICE_MS} ms budget: the longest held the loop ` +
    `${fmt(Math.max(...sliceMsAll), 1)} ms`,
);

// ---------------------------------------------------------------- B: 7 days, 20 series
const SERIES = 20;
function syntheticValue(kind, state, i, rnd) {
  switch (kind) {
    case 0: // a percentage gauge as the probes report it (full double precision)
      return 30 + 20 * Math.sin(i / 500) + rnd() * 5;
    case 1: // a random walk (bytes in use)
      state.v += Math.round((rnd() - 0.5) * 1e6);
      return state.v;
    case 2: // a counter
      state.v += Math.floor(rnd() * 5000);
      return state.v;
    default: // a constant (limits, core counts)
      return 8;
  }
}
let seed = 12345;
const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const NOW7 = T0 + CYCLES_7D * INTERVAL;
const s7 = storeAt(path.join(dir, 'week.db'), NOW7);
s7.open();
const n7 = naiveStore(path.join(dir, 'week-naive.db'));
const states = Array.from({ length: SERIES }, () => ({ v: 4e9 }));
const started = performance.now();
// 60 collections per append call (one transaction each) to keep the bench short; the bytes are the same.
let batch = [];
for (let i = 0; i < CYCLES_7D; i++) {
  const t = T0 + i * INTERVAL + ((i * 7) % 11) - 5;
  for (let s = 0; s < SERIES; s++) {
    const kind = s % 4;
    batch.push({
      metric: `m${kind}`,
      labels: { n: String(s) },
      value: syntheticValue(kind, states[s], i, rnd),
      timestampMs: t,
      kind: kind === 2 ? 'counter' : 'gauge',
    });
  }
  if (i % 60 === 59 || i === CYCLES_7D - 1) {
    s7.append(batch);
    n7.append(batch);
    batch = [];
  }
}
const writeS = (performance.now() - started) / 1000;
s7.checkpoint();
const fp7 = s7.footprint();
const naive7 = fileBytes(n7.db, path.join(dir, 'week-naive.db'));
console.log(
  `\nB. 7 days × ${SERIES} synthetic series at 10 s: ${fp7.rawSamples} samples (both stores written in ${fmt(writeS, 1)} s)`,
);

function timeIt(fn, runs = 7) {
  const times = [];
  let out;
  for (let r = 0; r < runs; r++) {
    const a = performance.now();
    out = fn();
    times.push(performance.now() - a);
  }
  return { ms: median(times), out };
}
const from7 = NOW7 - 7 * DAY;
const rawQ = timeIt(() =>
  computeStatistics(s7.querySync('m0', { n: '0' }, from7, NOW7, { resolution: 'raw' })[0], from7, NOW7),
);
const naiveQ = timeIt(() => {
  const rows = n7.db
    .prepare('SELECT t, v FROM samples WHERE series_id = ? AND t >= ? AND t <= ? ORDER BY t')
    .all(n7.idOf('m0{"n":"0"}'), from7, NOW7);
  const w = {
    metric: 'm0',
    labels: {},
    kind: 'gauge',
    resolution: 'raw',
    t: Float64Array.from(rows, (r) => r.t),
    v: Float64Array.from(rows, (r) => r.v),
  };
  return computeStatistics(w, from7, NOW7);
});
// Roll up and drop raw older than 48 h (the default tiers), then time the same window.
const sTier = storeAt(path.join(dir, 'week.db'), NOW7, 48 * HOUR);
s7.close();
sTier.open();
const maint = timeIt(() => sTier.maintain(), 1);
sTier.checkpoint();
const fpTier = sTier.footprint();
const tierQ = timeIt(() => computeStatistics(sTier.querySync('m0', { n: '0' }, from7, NOW7)[0], from7, NOW7));
const minuteQ = timeIt(() =>
  computeStatistics(sTier.querySync('m0', { n: '0' }, from7, NOW7, { resolution: '1m' })[0], from7, NOW7),
);
const dayFrom = NOW7 - DAY;
const dayQ = timeIt(() =>
  computeStatistics(sTier.querySync('m0', { n: '0' }, dayFrom, NOW7)[0], dayFrom, NOW7),
);
const bpsRaw7 = fp7.bytes / fp7.rawSamples;
const syn1m = tableBytes(path.join(dir, 'week.db'), 'rollup_1m') / fpTier.rollup1m;
const syn1h = tableBytes(path.join(dir, 'week.db'), 'rollup_1h') / fpTier.rollup1h;
printTable(
  ['layout', 'bytes/sample', 'vs naive', '7-day window: stats ms (median of 7)'],
  [
    [
      'chunks, raw 7 d',
      fmt(bpsRaw7, 2),
      fmt(bpsRaw7 / (naive7 / fp7.rawSamples), 3),
      `${fmt(rawQ.ms, 1)} (raw, ${rawQ.out.count} samples)`,
    ],
    [
      'one row per sample (peer)',
      fmt(naive7 / fp7.rawSamples, 2),
      '1',
      `${fmt(naiveQ.ms, 1)} (${naiveQ.out.count} rows)`,
    ],
    [
      'default tiers, 7 d window (auto)',
      '',
      '',
      `${fmt(tierQ.ms, 2)} (${tierQ.out.resolution} rows, ${tierQ.out.count} samples)`,
    ],
    ['default tiers, 7 d window, 1 m rows', '', '', `${fmt(minuteQ.ms, 2)} (${minuteQ.out.resolution} rows)`],
    [
      'default tiers, 24 h window (auto)',
      '',
      '',
      `${fmt(dayQ.ms, 2)} (${dayQ.out.resolution}, ${dayQ.out.count} samples)`,
    ],
  ],
);
console.log(
  `rollups: ${fpTier.rollup1m} 1-min rows, ${fmt(syn1m, 2)} bytes each; ${fpTier.rollup1h} 1-h rows, ` +
    `${fmt(syn1h, 2)} bytes each (count, sum, sum of squares, min, max, first, last, increase; the pages of ` +
    `the rollup tables and their indexes, per row); maintenance (roll up 7 d, prune) took ${fmt(maint.ms, 0)} ms`,
);
console.log(
  `check: 7-day means agree, raw ${fmt(rawQ.out.mean, 6)}, 1m ${fmt(minuteQ.out.mean, 6)}, 1h ${fmt(tierQ.out.mean, 6)}; ` +
    `7-day window (default tiers) under 50 ms: ${tierQ.ms < 50 ? 'met' : 'MISSED'}`,
);
sTier.close();
n7.db.close();

// ---------------------------------------------------------------- projection
const rawPerSeries7d = CYCLES_7D * bpsReal;
const projRaw = storedSeries * CYCLES_7D * bpsReal;
const rows1m = 7 * 24 * 60;
const projTier = storedSeries * (((2 * DAY) / INTERVAL) * bpsReal + rows1m * real1m + 7 * 24 * real1h);
console.log(
  `\nprojection, the default catalog on this host (${fmt(storedSeries, 0)} stored series) for 7 days at 10 s: ` +
    `${fmt(projRaw / 1e6, 1)} MB as raw samples (${fmt(rawPerSeries7d / 1e3, 0)} kB per series); ` +
    `${fmt(projTier / 1e6, 1)} MB with the default tiers (48 h raw + 7 days of 1-min and 1-h rows, at the ` +
    `bytes per row measured on the real collections above); one row per sample: ` +
    `${fmt((storedSeries * CYCLES_7D * bpsNaive) / 1e6, 1)} MB`,
);
console.log(
  `default tiers cheaper than raw: ${projTier < projRaw ? 'yes' : 'NO'} (${fmt(projTier / projRaw, 2)}× the raw size)`,
);
console.log(
  `raw target ≤ 1.5 bytes/sample: ${bpsReal <= 1.5 ? 'met' : 'MISSED'} (${fmt(bpsReal, 2)} on real collections)`,
);

// ---------------------------------------------------------------- C: anomaly detection per series per cycle
const DET_SERIES = 1000;
const DET_CYCLES = 400;
const WARM = 400;
const values = Float64Array.from({ length: 4096 }, () => 50 + rnd() * 10);
function naiveScore(alg, window, x) {
  const n = window.length;
  if (alg === 'zscore') {
    let s = 0;
    for (const v of window) s += v;
    const m = s / n;
    let q = 0;
    for (const v of window) q += (v - m) ** 2;
    return Math.abs(x - m) / Math.sqrt(q / n);
  }
  const a = [...window].sort((p, q) => p - q);
  const at = (p) => a[Math.floor(p * (n - 1))];
  if (alg === 'iqr') return Math.max(0, (x - at(0.75)) / (at(0.75) - at(0.25)));
  const med = at(0.5);
  const dev = a.map((v) => Math.abs(v - med)).sort((p, q) => p - q);
  return Math.abs(x - med) / (1.4826 * dev[Math.floor(n / 2)]);
}
const detRows = [];
for (const alg of ['zscore', 'iqr', 'mad']) {
  const settings = {
    algorithm: alg,
    sensitivity: 2,
    minSamples: 100,
    windowSamples: 360,
    seasonality: 'none',
  };
  const dets = Array.from({ length: DET_SERIES }, () => new SeriesDetector(settings));
  for (let c = 0; c < WARM; c++)
    for (let s = 0; s < DET_SERIES; s++) dets[s].update(c, values[(c * 31 + s) & 4095]);
  const a = performance.now();
  for (let c = WARM; c < WARM + DET_CYCLES; c++)
    for (let s = 0; s < DET_SERIES; s++) dets[s].update(c, values[(c * 31 + s) & 4095]);
  const usOnline = ((performance.now() - a) * 1000) / (DET_SERIES * DET_CYCLES);
  // peer: 100 series × 100 cycles (it is slow), window of 360
  const win = Array.from({ length: 360 }, (_, i) => values[i]);
  const b = performance.now();
  let sink = 0;
  for (let c = 0; c < 100; c++)
    for (let s = 0; s < 100; s++) sink += naiveScore(alg, win, values[(c + s) & 4095]);
  const usNaive = ((performance.now() - b) * 1000) / 10_000;
  if (Number.isNaN(sink)) console.log('');
  detRows.push([alg, fmt(usOnline, 3), fmt(usNaive, 2), fmt(usNaive / usOnline, 0)]);
}
console.log(
  `\nC. online anomaly detection, ${DET_SERIES} series × ${DET_CYCLES} cycles, window 360 (min_samples 100)`,
);
printTable(['algorithm', 'µs per series per cycle', 'recompute from window (peer) µs', 'speed-up'], detRows);
console.log('target < 2 µs per series per cycle');

console.log('');
console.log(`bytes_per_sample_real=${fmt(bpsReal, 2)}`);
console.log(`bytes_per_sample_real_first_pass=${fmt(bpsOnePass, 2)}`);
console.log(`bytes_per_sample_synthetic=${fmt(bpsRaw7, 2)}`);
console.log(`bytes_per_sample_one_row_per_sample=${fmt(bpsNaive, 2)}`);
console.log(`append_us_per_collection=${fmt((appendMs / collections) * 1000, 0)}`);
console.log(`bytes_per_rollup_row_1m=${fmt(real1m, 2)}`);
console.log(`bytes_per_rollup_row_1h=${fmt(real1h, 2)}`);
console.log(`bytes_per_rollup_row_1m_synthetic=${fmt(syn1m, 2)}`);
console.log(`maintenance_hourly_ms=${fmt(median(hourlyMs), 0)}`);
console.log(`maintenance_longest_slice_ms=${fmt(Math.max(...sliceMsAll), 1)}`);
for (const [n] of CHART_WINDOWS) console.log(`status_charts_${n}_ms=${fmt(chartMs[n], 1)}`);
console.log(`status_charts_longest_metric_ms=${fmt(Math.max(...Object.values(chartLongestMs)), 1)}`);
console.log(`raw_7d_projection_mb=${fmt(projRaw / 1e6, 1)}`);
console.log(`tiers_7d_projection_mb=${fmt(projTier / 1e6, 1)}`);
console.log(`window_7d_ms=${fmt(tierQ.ms, 2)}`);
console.log(`window_7d_raw_ms=${fmt(rawQ.ms, 1)}`);

removeTempDir(dir);
process.exit(0);
