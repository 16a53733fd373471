/**
 * Idle footprint at a 1 s collection interval: the agent (`node dist/src/cli/main.js run -c FILE`, a copy
 * of the default config with `collection_interval: 1s` and a free loopback port) next to
 * prometheus-node-exporter with the collectors that cover our catalog. Both warm up for WARMUP_S, then
 * for MEASURE_S each is scraped once per second (gzip, as Prometheus does) while RSS (/proc/PID/status
 * VmRSS, and RssAnon: the private memory, without the mapped node binary and libraries) and CPU are sampled
 * once per second. CPU is the threads' run time from /proc/PID/task/TID/schedstat (nanoseconds); the ticks of
 * /proc/PID/stat (utime + stime, 1/CLK_TCK s) are shown beside it, and used where the kernel keeps no schedstat. The library's own cost is the RSS of a fresh
 * `node` that only imports dist/src/index.js, after a GC, next to a bare `node`'s.
 *
 * The agent runs with `npm start`'s node flags and environment (NPM_START_FLAGS, NPM_START_ENV) on the default config
 * (trend analysis on, history in a temp dir); next to it, the same with trend analysis off, the same with only the
 * system collector (node_exporter's part of the work), and as `npm start` ran it before (1 MB semi-space only).
 *
 * Ends with the headline lines cpu_ratio_vs_node_exporter, agent_rss_mb, agent_rss_anon_mb (medians),
 * library_import_rss_mb, node_exporter_rss_mb (the default config: trend analysis on), and for the same agent with
 * trend analysis off cpu_ratio_no_trends_vs_node_exporter, agent_no_trends_rss_mb and agent_no_trends_rss_anon_mb,
 * and for the agent doing node_exporter's part only (the system collector; no alerting, trend analysis or metrics of
 * its own runtime) cpu_ratio_system_only_vs_node_exporter (read by test/bench/update-summary.js).
 *
 * Both servers are pinned to CPU 1 and this process (the scraper) to CPU 0 when taskset exists.
 *
 *   npm run build && node test/bench/idle-footprint.js
 */
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import {
  CLK_TCK,
  DIST,
  REPO_ROOT,
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
  removeTempDir,
  rssMb,
  sampleValue,
  schedCpuSeconds,
  serverCpu,
  sleep,
  startAgentProcess,
  startNodeExporter,
} from './common.js';

const WARMUP_S = 10;
const MEASURE_S = 60;
/** CPU is also reported per window, to show its spread. */
const WINDOW_S = 10;
/** `npm start`'s node flags and environment (package.json): a 1 MB young generation, V8's lite mode, two malloc arenas. */
const NPM_START_FLAGS = ['--max-semi-space-size=1', '--lite-mode'];
const NPM_START_ENV = { MALLOC_ARENA_MAX: '2' };

installSafetyNets(150_000);
if (!fs.existsSync(path.join(DIST, 'cli', 'main.js')))
  throw new Error('dist/src/cli/main.js is missing — run `npm run build` first');

printMachine('idle footprint at a 1 s collection interval');
const srvCpu = serverCpu();
const selfCpu = pinSelf(0);
console.log(
  selfCpu === undefined
    ? 'pinning: none (taskset missing or one CPU)'
    : `pinning: scraper on CPU ${selfCpu}; agent and node_exporter on CPU ${srvCpu}`,
);

/**
 * RSS of a fresh Node process that only runs `code` (an ES module body), after a full GC and 300 ms;
 * median of 3.
 */
async function baselineRss(code) {
  const values = [];
  for (let i = 0; i < 3; i++) {
    const script = `${code}; globalThis.gc(); await new Promise((r) => setTimeout(r, 300)); const s = (await import('node:fs')).readFileSync('/proc/self/status', 'utf8'); console.log(/VmRSS:\\s+(\\d+)/.exec(s)[1]);`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    values.push(Number(out.trim()) / 1024);
  }
  return median(values);
}

/** RssAnon (private resident memory: heap, stacks, malloc) of a process, in MB, from /proc/PID/status. */
function rssAnonMb(pid) {
  const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const tmp = makeTempDir('perf-monitor-idle-');
const ne = await startNodeExporter({ cpu: srvCpu });
const agent = await startAgentProcess({
  intervalText: '1s',
  cpu: srvCpu,
  dir: tmp,
  nodeFlags: NPM_START_FLAGS,
  extraEnv: NPM_START_ENV,
});
// Trend analysis off (the default config keeps history), same flags.
const agentTrends = await startAgentProcess({
  intervalText: '1s',
  cpu: srvCpu,
  dir: tmp,
  nodeFlags: NPM_START_FLAGS,
  extraEnv: NPM_START_ENV,
  name: 'agent (trends off)',
  configText: (text) => {
    const off = text.replace(/^trend_analysis:\n {2}enabled: true$/m, 'trend_analysis:\n  enabled: false');
    if (!off.includes('trend_analysis:\n  enabled: false'))
      throw new Error('could not turn trend analysis off in a copy of the default config');
    return off;
  },
});
// node_exporter's part of the work only: the system collector (the same catalog), no runtime and process metrics of
// the agent itself, no alerting, no trend analysis.
const agentSystemOnly = await startAgentProcess({
  intervalText: '1s',
  cpu: srvCpu,
  dir: tmp,
  nodeFlags: NPM_START_FLAGS,
  extraEnv: NPM_START_ENV,
  name: 'agent (system collector only)',
  configText: (text) => {
    const only = text
      .replace(/^trend_analysis:\n {2}enabled: true$/m, 'trend_analysis:\n  enabled: false')
      .replace(/^ {2}alerting:\n {4}enabled: true$/m, '  alerting:\n    enabled: false')
      .replace(
        /^ {2}enabled_collectors:\n {4}- system\n {4}- application\n/m,
        '  enabled_collectors:\n    - system\n',
      );
    if (
      !only.includes('trend_analysis:\n  enabled: false') ||
      !only.includes('  alerting:\n    enabled: false') ||
      !only.includes('  enabled_collectors:\n    - system\n    #')
    )
      throw new Error('could not reduce a copy of the default config to the system collector');
    return only;
  },
});
// What-if: as npm start ran before, without lite mode (V8's optimizing compilers on) and MALLOC_ARENA_MAX.
const agentNoLite = await startAgentProcess({
  intervalText: '1s',
  cpu: srvCpu,
  dir: tmp,
  nodeFlags: ['--max-semi-space-size=1'],
  name: 'agent (no lite mode)',
});
const targets = [
  {
    name: `perf-monitor agent (MALLOC_ARENA_MAX=2 node ${NPM_START_FLAGS.join(' ')}, as npm start)`,
    srv: agent,
  },
  { name: 'node_exporter', srv: ne },
  { name: 'same, trend analysis off', srv: agentTrends },
  { name: 'same, system collector only (no alerting, trends, runtime metrics)', srv: agentSystemOnly },
  { name: 'what-if: agent, node --max-semi-space-size=1 (npm start before)', srv: agentNoLite },
];
for (const t of targets) {
  t.http = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.rss = [];
  t.rssAnon = [];
  t.cpu = [];
  t.latency = [];
  t.startRss = rssMb(t.srv.proc.pid);
}

async function scrapeAll(record) {
  for (const t of targets) {
    const r = await httpGet(t.srv.port, '/metrics', { agent: t.http, gzip: true });
    if (r.status !== 200) throw new Error(`${t.name} answered ${r.status}`);
    if (t.srv.proc.exited) throw new Error(`${t.name} exited:\n${t.srv.proc.stderr}`);
    t.last = r.body.toString('utf8');
    if (record) {
      t.latency.push(r.ms);
      t.rss.push(rssMb(t.srv.proc.pid));
      t.rssAnon.push(rssAnonMb(t.srv.proc.pid));
      const pid = t.srv.proc.pid;
      const ticks = procCpuSeconds(pid);
      t.cpu.push({ at: performance.now(), seconds: schedCpuSeconds(pid) ?? ticks, ticks });
    }
  }
}

console.log(`warming up ${WARMUP_S} s (scraped every second) …`);
let next = performance.now();
for (let i = 0; i < WARMUP_S; i++) {
  await scrapeAll(false);
  next += 1000;
  await sleep(Math.max(0, next - performance.now()));
}
const collections0 = sampleValue(targets[0].last ?? '', 'multi_agent_system_monitor_collections_total');
console.log(`measuring ${MEASURE_S} s …`);
for (let i = 0; i <= MEASURE_S; i++) {
  await scrapeAll(true);
  next += 1000;
  if (i < MEASURE_S) await sleep(Math.max(0, next - performance.now()));
}
const agentText = targets[0].last;
const collections = sampleValue(agentText, 'multi_agent_system_monitor_collections_total') - collections0;

for (const t of targets) t.http.destroy();
await agent.proc.stop();
await agentTrends.proc.stop();
await agentSystemOnly.proc.stop();
await agentNoLite.proc.stop();
await ne.proc.stop();
removeTempDir(tmp);
const bareRss = await baselineRss('');
const importRss = await baselineRss("await import('./dist/src/index.js')");

const schedstat = schedCpuSeconds(process.pid) !== undefined;
const cpuPercent = (samples, from, to) =>
  ((samples[to].seconds - samples[from].seconds) / ((samples[to].at - samples[from].at) / 1000)) * 100;

console.log(
  `\n## Idle footprint, ${MEASURE_S} s after ${WARMUP_S} s of warm-up, one gzip scrape per second\n`,
);
printTable(
  [
    'process',
    'RSS median MB',
    'RSS max MB',
    'RssAnon median MB',
    'RSS at start → end MB',
    'CPU % of one core',
    `CPU % per ${WINDOW_S} s window`,
    'CPU ticks',
    'scrape p50 ms',
    'samples',
  ],
  targets.map((t) => {
    const last = t.cpu.length - 1;
    const windows = [];
    for (let w = 0; w + WINDOW_S <= last; w += WINDOW_S)
      windows.push(fmt(cpuPercent(t.cpu, w, w + WINDOW_S), 2));
    return [
      t.name,
      fmt(median(t.rss), 1),
      fmt(Math.max(...t.rss), 1),
      fmt(median(t.rssAnon), 1),
      `${fmt(t.startRss, 1)} → ${fmt(t.rss.at(-1), 1)}`,
      fmt(cpuPercent(t.cpu, 0, last), 3),
      windows.join(' / '),
      fmt((t.cpu[last].ticks - t.cpu[0].ticks) * CLK_TCK, 0),
      fmt(median(t.latency), 2),
      countSamples(t.last),
    ];
  }),
);
const a = targets[0];
const n = targets[1];
const aCpu = cpuPercent(a.cpu, 0, a.cpu.length - 1);
const nCpu = cpuPercent(n.cpu, 0, n.cpu.length - 1);
const tr = targets[2];
const trCpu = cpuPercent(tr.cpu, 0, tr.cpu.length - 1);
const so = targets[3];
const soCpu = cpuPercent(so.cpu, 0, so.cpu.length - 1);
console.log(
  `\nagent collections during the measurement: ${collections} (expected ≈ ${MEASURE_S}); ` +
    `RSS p90: agent ${fmt(quantile(a.rss, 0.9), 1)} MB, node_exporter ${fmt(quantile(n.rss, 0.9), 1)} MB. ` +
    `CPU from ${schedstat ? "the threads' schedstat (nanoseconds)" : `/proc/PID/stat at ${CLK_TCK} Hz`}; the ticks column is /proc/PID/stat's ` +
    `(1 tick over ${MEASURE_S} s = ${fmt(100 / CLK_TCK / MEASURE_S, 3)} %).`,
);

console.log(
  `Library import: a fresh \`node\` (${process.version}) that only imports dist/src/index.js (nothing started) ` +
    `is ${fmt(importRss, 1)} MB RSS after a GC; a bare one is ${fmt(bareRss, 1)} MB (median of 3 each).`,
);

console.log('\n## Targets\n');
printTable(
  ['check', 'value', 'target'],
  [
    [
      'agent RSS (max)',
      `${fmt(Math.max(...a.rss), 1)} MB`,
      `< 70 MB (${Math.max(...a.rss) < 70 ? 'meets' : 'MISSES'})`,
    ],
    [
      'agent RssAnon (median)',
      `${fmt(median(a.rssAnon), 1)} MB`,
      `≤ 20 MB (${median(a.rssAnon) <= 20 ? 'meets' : 'MISSES'})`,
    ],
    ['agent CPU', `${fmt(aCpu, 3)} % of a core`, `< 1 % (${aCpu < 1 ? 'meets' : 'MISSES'})`],
    ['agent / node_exporter RSS (median)', fmt(median(a.rss) / median(n.rss), 2), '-'],
    [
      'agent / node_exporter CPU',
      fmt(aCpu / nCpu, 2),
      '≤ 1.0 (' + (aCpu / nCpu <= 1 ? 'meets' : 'MISSES') + ')',
    ],
    [
      'trends off: RSS max / RssAnon median',
      `${fmt(Math.max(...tr.rss), 1)} / ${fmt(median(tr.rssAnon), 1)} MB`,
      `< 70 / ≤ 20 MB (${Math.max(...tr.rss) < 70 && median(tr.rssAnon) <= 20 ? 'meets' : 'MISSES'})`,
    ],
    [
      'trends off: agent / node_exporter CPU',
      fmt(trCpu / nCpu, 2),
      '≤ 1.0 (' + (trCpu / nCpu <= 1 ? 'meets' : 'MISSES') + ')',
    ],
    ['system collector only: agent / node_exporter CPU', fmt(soCpu / nCpu, 2), '- (the same catalog)'],
  ],
);
console.log('');
console.log(`cpu_ratio_vs_node_exporter=${fmt(aCpu / nCpu, 2)}`);
console.log(`agent_rss_mb=${fmt(median(a.rss), 1)}`);
console.log(`agent_rss_anon_mb=${fmt(median(a.rssAnon), 1)}`);
console.log(`library_import_rss_mb=${fmt(importRss, 1)}`);
console.log(`node_exporter_rss_mb=${fmt(median(n.rss), 1)}`);
console.log(`cpu_ratio_no_trends_vs_node_exporter=${fmt(trCpu / nCpu, 2)}`);
console.log(`agent_no_trends_rss_mb=${fmt(median(tr.rss), 1)}`);
console.log(`agent_no_trends_rss_anon_mb=${fmt(median(tr.rssAnon), 1)}`);
console.log(`cpu_ratio_system_only_vs_node_exporter=${fmt(soCpu / nCpu, 2)}`);
process.exit(0);
