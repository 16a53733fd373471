/**
 * Soak: does the agent's memory stay flat when it collects fast for a long time?
 *
 *   npm run build && MALLOC_ARENA_MAX=2 SOAK_AGENT_NODE_FLAGS=--lite-mode \
 *     node test/bench/soak.js --minutes 40 --smaps | tee test/bench/results/soak.txt   # ≈ 41 min, the saved run
 *   node test/bench/soak.js --minutes 2                                                # a try-out, not a headline
 *
 * The agent process (`node --max-semi-space-size=1 dist/src/cli/main.js run -c FILE`; `npm start` adds
 * `--lite-mode` and MALLOC_ARENA_MAX=2, which the saved run passes as below) on a copy of the default config with a 100 ms collection interval, alerting on, trend analysis on (history
 * store, anomaly detection, forecasts) and every state file in a temp dir, is scraped 5× per second with gzip.
 * Next to it runs a small application with the agent preloaded (`node --require dist/src/register.js
 * test/fixtures/apps/record-loop.cjs`, 1 s interval) that records 10,000 measurements per second through the
 * application API; its endpoint is scraped once per second.
 *
 * Every 10 s the script reads, for the agent: VmRSS, RssAnon (private memory), RssFile and RssShmem from
 * /proc/PID/status, and process.memoryUsage() (V8 heap used, external, ArrayBuffers), which only the process
 * itself knows: both processes run with test/fixtures/memory-reporter.cjs preloaded, which writes it to a file.
 * For the application: VmRSS and V8 heap used. The slope is a least-squares line over the samples after warm-up
 * (the first third of the run is warm-up), in MB per hour. Whether memory levels off: the run in two halves,
 * each with its slope, its floor (the lowest reading: the V8 heap after a collection) and its mean. CPU of both processes over the measured time comes
 * from /proc/PID/stat. Error-level log lines of both processes are counted.
 *
 * Options: --minutes N (default 10; under 10 the output says it is a try-out), --smaps (print the agent's
 * largest anonymous mappings at the end), and for experiments, which change what is measured: --interval 100ms,
 * --scrapes-per-s 5, --no-gzip, --no-trends, --no-alerting, --no-app, --sample-s 10. Extra node flags for the
 * agent: SOAK_AGENT_NODE_FLAGS; extra environment such as MALLOC_ARENA_MAX is passed through. The first line of
 * the output is the command with these.
 *
 * Ends with headline key=value lines (read by test/bench/update-summary.js).
 */
import { spawn } from 'node:child_process';
import console from 'node:console';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  DEFAULT_CONFIG,
  DIST,
  REPO_ROOT,
  fmt,
  freePort,
  httpGet,
  installSafetyNets,
  makeTempDir,
  onCleanup,
  printMachine,
  printTable,
  procCpuSeconds,
  procMemoryMb,
  waitForHttp,
} from './common.js';

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    interval: { type: 'string', default: '100ms' },
    'scrapes-per-s': { type: 'string', default: '5' },
    'sample-s': { type: 'string', default: '10' },
    'no-gzip': { type: 'boolean', default: false },
    'no-trends': { type: 'boolean', default: false },
    'no-alerting': { type: 'boolean', default: false },
    'no-app': { type: 'boolean', default: false },
    smaps: { type: 'boolean', default: false },
  },
});

const MINUTES = Number(opts.minutes);
const SCRAPES_PER_S = Number(opts['scrapes-per-s']);
const SAMPLE_S = Number(opts['sample-s']);
if (!(MINUTES > 0 && MINUTES <= 24 * 60) || !(SCRAPES_PER_S > 0 && SCRAPES_PER_S <= 50) || !(SAMPLE_S >= 1)) {
  console.error(
    'usage: node test/bench/soak.js [--minutes 0<N≤1440] [--scrapes-per-s 0<N≤50] [--sample-s N≥1] …',
  );
  process.exit(2);
}
if (!/^\d+(ms|s)$/.test(opts.interval)) {
  console.error('--interval takes a duration such as 100ms or 1s');
  process.exit(2);
}
const HEADLINE = MINUTES >= 10;
const RECORD_RATE = 10_000;
const MB = 1024 * 1024;

installSafetyNets((MINUTES * 60 + 180) * 1000);

if (!fs.existsSync(path.join(DIST, 'cli', 'main.js'))) {
  console.error('dist/ is missing — run `npm run build` first');
  process.exit(2);
}

// ---------------------------------------------------------------- processes

/** Error-level log lines: the text format's ` ERROR `, the JSON format's level, the preload's own report. */
const ERROR_LINE = /^\S+ ERROR |"level":"error"|^perf-monitor-agent: |^perf-monitor: |Uncaught|FATAL/;

/**
 * Starts a child in `cwd` with its output read line by line (error lines counted, the last 50 lines kept);
 * it is killed when this script ends.
 */
function startChild(name, args, { cwd, env }) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, errorLines: [], tail: [], stdoutLines: [], exited: false };
  child.once('exit', (code, signal) => {
    proc.exited = true;
    proc.exit = { code, signal };
  });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      partial += d;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (ERROR_LINE.test(line) && proc.errorLines.length < 1000) proc.errorLines.push(line);
        proc.tail.push(line);
        if (proc.tail.length > 50) proc.tail.shift();
        if (stream === child.stdout) {
          proc.stdoutLines.push(line);
          if (proc.stdoutLines.length > 50) proc.stdoutLines.shift();
        }
      }
      if (partial.length > 65_536) partial = partial.slice(-65_536);
    });
  }
  onCleanup(() => {
    if (!proc.exited) child.kill('SIGKILL');
  });
  return proc;
}

async function stopChild(proc, timeoutMs = 10_000) {
  if (proc.exited) return proc.exit;
  const exited = new Promise((resolve) =>
    proc.child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const result = await exited;
  clearTimeout(timer);
  return result;
}

function childEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || k.startsWith('PERF_MONITOR_')) delete env[k];
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

/** A copy of the default config: interval, port, loopback, and the sections this run turns on or off. */
function writeConfig(dir, name, { interval, port, alerting, trends }) {
  let text = fs
    .readFileSync(DEFAULT_CONFIG, 'utf8')
    .replace('${PERF_MONITOR_INTERVAL:-15s}', interval)
    .replace('${PERF_MONITOR_PORT:-9091}', String(port))
    .replace("'${PERF_MONITOR_HOST:-127.0.0.1}'", "'127.0.0.1'")
    .replace('${PERF_MONITOR_LOG_LEVEL:-info}', 'info');
  const replaceOnce = (from, to) => {
    if (!text.includes(from)) throw new Error(`${DEFAULT_CONFIG} no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  };
  replaceOnce('  alerting:\n    enabled: true', `  alerting:\n    enabled: ${alerting}`);
  replaceOnce('trend_analysis:\n  enabled: true', `trend_analysis:\n  enabled: ${trends}`);
  replaceOnce('  anomaly_detection:\n    enabled: true', `  anomaly_detection:\n    enabled: ${trends}`);
  if (!text.includes(`collection_interval: ${interval}`) || !text.includes(`port: ${port}`))
    throw new Error(`could not set interval/port in a copy of ${DEFAULT_CONFIG}`);
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

// ---------------------------------------------------------------- readings

function memoryReport(file) {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    return {
      heapUsed: m.heapUsed / MB,
      heapTotal: m.heapTotal / MB,
      external: m.external / MB,
      arrayBuffers: m.arrayBuffers / MB,
      v8Physical: m.v8PhysicalSize / MB,
      v8Malloced: m.v8MallocedMemory / MB,
    };
  } catch {
    return {
      heapUsed: NaN,
      heapTotal: NaN,
      external: NaN,
      arrayBuffers: NaN,
      v8Physical: NaN,
      v8Malloced: NaN,
    };
  }
}

/** The anonymous mappings of a process with the most resident memory (for finding where memory goes). */
function largestAnonMappings(pid, n = 12) {
  const text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const maps = [];
  let cur;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        range: `${head[1]}-${head[2]}`,
        sizeMb: (parseInt(head[2], 16) - parseInt(head[1], 16)) / MB,
        name: head[3] || '(anonymous)',
        anonMb: 0,
      };
      maps.push(cur);
      continue;
    }
    const m = /^Anonymous:\s+(\d+) kB/.exec(line);
    if (m && cur) cur.anonMb = Number(m[1]) / 1024;
  }
  return maps.sort((a, b) => b.anonMb - a.anonMb).slice(0, n);
}

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

// ---------------------------------------------------------------- run

// The command, first, for test/bench/update-summary.js.
const envShown = ['MALLOC_ARENA_MAX', 'SOAK_AGENT_NODE_FLAGS']
  .filter((k) => process.env[k] !== undefined)
  .map((k) => `${k}=${JSON.stringify(process.env[k])} `)
  .join('');
console.log(
  `$ ${envShown}node test/bench/soak.js${process.argv
    .slice(2)
    .map((a) => ` ${a}`)
    .join('')}`,
);
printMachine('soak: agent memory under fast collection, scrapes and an application recording');
console.log(
  `settings: ${MINUTES} min${HEADLINE ? '' : ' — TRY-OUT, shorter than the 10-minute headline run'}; agent interval ` +
    `${opts.interval}, ${SCRAPES_PER_S} scrapes/s${opts['no-gzip'] ? '' : ' with gzip'}, alerting ` +
    `${opts['no-alerting'] ? 'off' : 'on'}, trends ${opts['no-trends'] ? 'off' : 'on'}; application ` +
    `${opts['no-app'] ? 'off' : `recording ${RECORD_RATE}/s`}; samples every ${SAMPLE_S} s` +
    `${process.env.MALLOC_ARENA_MAX ? `; MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}` : ''}` +
    `${process.env.SOAK_AGENT_NODE_FLAGS ? `; agent node flags ${process.env.SOAK_AGENT_NODE_FLAGS}` : ''}`,
);
let loadavg = '';
try {
  loadavg = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
} catch {
  // not Linux
}
console.log(`load average at start: ${loadavg} (a shared machine: other work may run beside this)`);

const dir = makeTempDir('pm-soak-');
const agentPort = await freePort();
const agentConfig = writeConfig(dir, 'agent.yaml', {
  interval: opts.interval,
  port: agentPort,
  alerting: !opts['no-alerting'],
  trends: !opts['no-trends'],
});
const reportFile = path.join(dir, 'agent-memory.json');
const agentFlags = (process.env.SOAK_AGENT_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
const agentDir = path.join(dir, 'agent');
fs.mkdirSync(agentDir);
const agent = startChild(
  'agent',
  [
    '--max-semi-space-size=1',
    ...agentFlags,
    '--require',
    path.join(REPO_ROOT, 'test', 'fixtures', 'memory-reporter.cjs'),
    path.join(DIST, 'cli', 'main.js'),
    'run',
    '-c',
    agentConfig,
  ],
  // The agent's state directory (history, alert state, outbox) is its own, not the account's.
  { cwd: agentDir, env: childEnv({ MEMORY_REPORT_FILE: reportFile, STATE_DIRECTORY: agentDir }) },
);
await waitForHttp(agentPort, '/-/ready', { timeoutMs: 30_000 }).catch((err) => {
  throw new Error(`${err.message}\nagent output:\n${agent.tail.join('\n')}`);
});

let app;
let appPort;
let appReportFile;
if (!opts['no-app']) {
  appPort = await freePort();
  const appDir = path.join(dir, 'app');
  appReportFile = path.join(dir, 'app-memory.json');
  fs.mkdirSync(appDir);
  const appConfig = writeConfig(appDir, 'app.yaml', {
    interval: '1s',
    port: appPort,
    alerting: true,
    trends: false,
  });
  app = startChild(
    'application',
    [
      '--require',
      path.join(REPO_ROOT, 'test', 'fixtures', 'memory-reporter.cjs'),
      '--require',
      path.join(DIST, 'register.js'),
      path.join(REPO_ROOT, 'test', 'fixtures', 'apps', 'record-loop.cjs'),
    ],
    {
      cwd: appDir,
      env: childEnv({
        PERF_MONITOR_CONFIG: appConfig,
        RECORD_RATE: String(RECORD_RATE),
        MEMORY_REPORT_FILE: appReportFile,
      }),
    },
  );
  await waitForHttp(appPort, '/-/ready', { timeoutMs: 30_000 });
}

// Scrapers: the agent SCRAPES_PER_S times a second, the application once a second; keep-alive, as Prometheus.
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });
const scrapes = { agent: 0, agentFailed: 0, app: 0, appFailed: 0, lastFailure: '' };
let running = true;
async function scrapeLoop(port, everyMs, okKey, failKey) {
  let next = performance.now();
  while (running) {
    try {
      const r = await httpGet(port, '/metrics', {
        agent: keepAlive,
        gzip: !opts['no-gzip'],
        timeoutMs: 5000,
      });
      if (r.status === 200) scrapes[okKey]++;
      else {
        scrapes[failKey]++;
        scrapes.lastFailure = `status ${r.status}`;
      }
    } catch (err) {
      scrapes[failKey]++;
      scrapes.lastFailure = err.message;
    }
    next += everyMs;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    else next = performance.now();
  }
}
const loops = [scrapeLoop(agentPort, 1000 / SCRAPES_PER_S, 'agent', 'agentFailed')];
if (app !== undefined) loops.push(scrapeLoop(appPort, 1000, 'app', 'appFailed'));

const collectionsOf = async () =>
  Number(
    /^multi_agent_system_monitor_collections_total(?:\{[^}]*\})? (\S+)/m.exec(
      (await httpGet(agentPort, '/metrics')).body.toString('utf8'),
    )?.[1],
  );
const collections0 = await collectionsOf();
const cpu0 = {
  agent: procCpuSeconds(agent.child.pid),
  app: app === undefined ? NaN : procCpuSeconds(app.child.pid),
};
const samples = [];
const t0 = performance.now();
const totalS = MINUTES * 60;
const nSamples = Math.floor(totalS / SAMPLE_S);
console.log(`\nsampling (every ${SAMPLE_S} s, a progress line every minute):`);
for (let i = 0; i <= nSamples; i++) {
  const due = t0 + i * SAMPLE_S * 1000;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  if (agent.exited) throw new Error(`the agent exited early:\n${agent.tail.join('\n')}`);
  if (app?.exited) throw new Error(`the application exited early:\n${app.tail.join('\n')}`);
  const s = {
    minute: (performance.now() - t0) / 60_000,
    ...procMemoryMb(agent.child.pid),
    ...memoryReport(reportFile),
    appRss: app === undefined ? NaN : procMemoryMb(app.child.pid).rss,
    appHeapUsed: app === undefined ? NaN : memoryReport(appReportFile).heapUsed,
  };
  samples.push(s);
  if (i % Math.max(1, Math.round(60 / SAMPLE_S)) === 0)
    console.log(
      `  ${fmt(s.minute, 1).padStart(6)} min  agent RSS ${fmt(s.rss, 1)} MB (anon ${fmt(s.anon, 1)}, heap used ` +
        `${fmt(s.heapUsed, 1)}, external ${fmt(s.external, 1)}, arrayBuffers ${fmt(s.arrayBuffers, 1)})  app RSS ` +
        `${fmt(s.appRss, 1)} MB (heap used ${fmt(s.appHeapUsed, 1)})  scrapes ${scrapes.agent}/${scrapes.app} failed ${scrapes.agentFailed}/${scrapes.appFailed}`,
    );
}
running = false;
await Promise.all(loops);
keepAlive.destroy();

const wallS = (performance.now() - t0) / 1000;
const cpuS = {
  agent: procCpuSeconds(agent.child.pid) - cpu0.agent,
  app: app === undefined ? NaN : procCpuSeconds(app.child.pid) - cpu0.app,
};
const collections = (await collectionsOf()) - collections0;
const agentMetrics = (await httpGet(agentPort, '/metrics')).body.toString('utf8');
const seriesCount = agentMetrics.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
let recorded = NaN;
if (app !== undefined) {
  const last = [...app.stdoutLines].reverse().find((l) => l.startsWith('recorded '));
  recorded = last === undefined ? NaN : Number(last.slice('recorded '.length));
}
const smaps = opts.smaps ? largestAnonMappings(agent.child.pid) : [];
const end = samples.at(-1);

const agentExit = await stopChild(agent);
const appExit = app === undefined ? undefined : await stopChild(app);

// ---------------------------------------------------------------- report

console.log('\n## Agent memory over time (MB)\n');
const every = Math.max(1, Math.round(60 / SAMPLE_S));
printTable(
  [
    'minute',
    'VmRSS',
    'RssAnon',
    'RssFile',
    'RssShmem',
    'heap used',
    'heap total',
    'V8 physical',
    'V8 malloced',
    'external',
    'arrayBuffers',
    'app VmRSS',
    'app heap used',
  ],
  samples
    .filter((_, i) => i % every === 0 || i === samples.length - 1)
    .map((s) => [
      fmt(s.minute, 1),
      fmt(s.rss, 1),
      fmt(s.anon, 1),
      fmt(s.file, 1),
      fmt(s.shmem, 1),
      fmt(s.heapUsed, 1),
      fmt(s.heapTotal, 1),
      fmt(s.v8Physical, 1),
      fmt(s.v8Malloced, 1),
      fmt(s.external, 1),
      fmt(s.arrayBuffers, 1),
      fmt(s.appRss, 1),
      fmt(s.appHeapUsed, 1),
    ]),
);

const warm = samples.slice(Math.floor(samples.length / 3));
const slopeOver = (part, key) => {
  const read = part.filter((s) => !Number.isNaN(s[key]));
  return slope(
    read.map((s) => s.minute / 60),
    read.map((s) => s[key]),
  );
};
const slopeOf = (key) => slopeOver(warm, key);
console.log(
  `\nslopes after warm-up (least squares over the last ${warm.length} of ${samples.length} samples, ` +
    `minute ${fmt(warm[0]?.minute, 1)} on), MB/hour: RSS ${fmt(slopeOf('rss'), 1)}, RssAnon ${fmt(slopeOf('anon'), 1)}, ` +
    `heap used ${fmt(slopeOf('heapUsed'), 1)}, external ${fmt(slopeOf('external'), 1)}, app RSS ${fmt(slopeOf('appRss'), 1)}`,
);
// Does the growth level off? The run in two halves: a memory that settles has a smaller slope in the second
// half than in the first, one that leaks keeps it. A slope over a few minutes of a saw-tooth (the V8 heap
// between collections) is mostly noise, so each half also gives its floor, the lowest reading (the heap
// after a collection), and its mean: a leak raises both from one half to the next.
const halves = [
  samples.slice(0, Math.floor(samples.length / 2)),
  samples.slice(Math.floor(samples.length / 2)),
];
const floorOf = (part, key) => Math.min(...part.map((s) => s[key]).filter((x) => !Number.isNaN(x)));
const meanOf = (part, key) => {
  const xs = part.map((s) => s[key]).filter((x) => !Number.isNaN(x));
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
printTable(
  [
    'half',
    'minutes',
    'RSS slope MB/h',
    'RssAnon slope MB/h',
    'heap used slope MB/h',
    'RSS floor',
    'RssAnon floor',
    'heap used floor',
    'RSS mean',
    'RssAnon mean',
  ],
  halves.map((h, i) => [
    i === 0 ? 'first' : 'second',
    `${fmt(h[0]?.minute, 1)}–${fmt(h.at(-1)?.minute, 1)}`,
    fmt(slopeOver(h, 'rss'), 1),
    fmt(slopeOver(h, 'anon'), 1),
    fmt(slopeOver(h, 'heapUsed'), 1),
    fmt(floorOf(h, 'rss'), 1),
    fmt(floorOf(h, 'anon'), 1),
    fmt(floorOf(h, 'heapUsed'), 1),
    fmt(meanOf(h, 'rss'), 1),
    fmt(meanOf(h, 'anon'), 1),
  ]),
);
console.log(
  `agent: ${collections} collections in the measured ${fmt(wallS / 60, 1)} min (${fmt(collections / wallS, 1)}/s), ` +
    `CPU ${fmt((100 * cpuS.agent) / wallS, 1)} % of a core (${fmt((1000 * cpuS.agent) / collections, 2)} ms per collection ` +
    `incl. its scrapes), ${seriesCount} samples per scrape, ` +
    `${scrapes.agent} scrapes (${scrapes.agentFailed} failed${scrapes.lastFailure ? `, last: ${scrapes.lastFailure}` : ''}); ` +
    `exit ${agentExit.code ?? agentExit.signal}`,
);
if (app !== undefined)
  console.log(
    `application: ${recorded} measurements recorded (${fmt(recorded / totalS, 0)}/s), CPU ` +
      `${fmt((100 * cpuS.app) / wallS, 1)} % of a core, ${scrapes.app} scrapes ` +
      `(${scrapes.appFailed} failed); exit ${appExit.code ?? appExit.signal}`,
  );
if (smaps.length > 0) {
  console.log("\nthe agent's largest anonymous mappings at the end:");
  printTable(
    ['range', 'size MB', 'anonymous MB', 'name'],
    smaps.map((m) => [m.range, fmt(m.sizeMb, 1), fmt(m.anonMb, 1), m.name]),
  );
}
const errorLines = [...agent.errorLines, ...(app?.errorLines ?? [])];
if (errorLines.length > 0) {
  console.log('\nerror lines (first 10):');
  for (const l of errorLines.slice(0, 10)) console.log(`  ${l}`);
}

console.log('\n## Headline\n');
if (!HEADLINE) console.log('# TRY-OUT: shorter than 10 minutes, not a headline run');
const head = {
  soak_minutes: fmt(end.minute, 1),
  agent_interval: opts.interval,
  agent_collections: collections,
  agent_scrapes: scrapes.agent,
  agent_rss_mb_end: fmt(end.rss, 1),
  agent_rss_mb_max: fmt(Math.max(...samples.map((s) => s.rss)), 1),
  agent_rss_anon_mb_end: fmt(end.anon, 1),
  agent_rss_slope_mb_per_hour: fmt(slopeOf('rss'), 1),
  agent_rss_anon_slope_mb_per_hour: fmt(slopeOf('anon'), 1),
  agent_rss_slope_mb_per_hour_first_half: fmt(slopeOver(halves[0], 'rss'), 1),
  agent_rss_slope_mb_per_hour_second_half: fmt(slopeOver(halves[1], 'rss'), 1),
  agent_rss_anon_slope_mb_per_hour_second_half: fmt(slopeOver(halves[1], 'anon'), 1),
  agent_rss_anon_floor_mb_first_half: fmt(floorOf(halves[0], 'anon'), 1),
  agent_rss_anon_floor_mb_second_half: fmt(floorOf(halves[1], 'anon'), 1),
  agent_rss_mean_mb_first_half: fmt(meanOf(halves[0], 'rss'), 1),
  agent_rss_mean_mb_second_half: fmt(meanOf(halves[1], 'rss'), 1),
  agent_heap_used_floor_mb_first_half: fmt(floorOf(halves[0], 'heapUsed'), 1),
  agent_heap_used_floor_mb_second_half: fmt(floorOf(halves[1], 'heapUsed'), 1),
  agent_cpu_percent: fmt((100 * cpuS.agent) / wallS, 1),
  agent_heap_used_mb_end: fmt(end.heapUsed, 1),
  agent_external_mb_end: fmt(end.external, 1),
  agent_array_buffers_mb_end: fmt(end.arrayBuffers, 1),
  app_rss_mb_end: fmt(end.appRss, 1),
  app_measurements_per_s: fmt(recorded / totalS, 0),
  error_lines: errorLines.length,
};
for (const [k, v] of Object.entries(head)) console.log(`${k}=${v}`);
process.exit(0);
