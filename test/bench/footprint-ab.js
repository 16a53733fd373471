/**
 * Diagnostic (not a pass/fail benchmark): daemon variants side by side, to tell what one change, flag or config
 * setting costs in CPU when a whole run of idle-footprint.js cannot (its figures move by ±0.2 % of a core between
 * runs; side by side, the same conditions hit every variant). Each variant is `node <flags> <dist>/cli/main.js run`
 * on a copy of its tree's default config with a 1 s interval, a free loopback port and an edit (below). All run on
 * CPU 1 (this process on CPU 0) next to node_exporter, each scraped once a second with gzip; after a 10 s warm-up
 * CPU is read over SECONDS from /proc/PID/stat (100 Hz ticks) and from the threads' schedstat (nanoseconds), and
 * RSS / RssAnon at the end.
 *
 *   npm run build && node test/bench/footprint-ab.js VARIANTS_JSON [SECONDS]
 *
 * VARIANTS_JSON is a list of {name, config?, dist?, flags?, disable?, floor?}: `config` one of `default` (trend
 * analysis on), `trends-off`, `alerts-off` (and trends off), `system-only` (the system collector, no alerting, no
 * trends);
 * `dist` another build's dist/src (e.g. a clone at another commit, built), whose own default config is used;
 * `flags` the node flags (default: npm start's); `disable` catalog metric names turned off in the config. A variant
 * with `"floor": true` is not the agent but Node's floor for the same job: a bare `node:http` server (same flags and
 * environment) that keeps the text of the first agent variant's scrape, changes it once a second on a timer and
 * gzips each new text once (level 1, as the agent) for the scrapes that follow: what any Node.js exporter pays
 * before collecting anything. Example:
 *
 *   node test/bench/footprint-ab.js '[{"name":"now"},{"name":"before","dist":"../old-clone/dist/src"}]' 120
 */
import console from 'node:console';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import {
  DIST,
  freePort,
  httpGet,
  installSafetyNets,
  makeTempDir,
  pinSelf,
  printMachine,
  printTable,
  procCpuSeconds,
  removeTempDir,
  rssMb,
  schedCpuSeconds,
  serverCpu,
  sleep,
  spawnChild,
  startNodeExporter,
  waitForHttp,
} from './common.js';

const WARMUP_S = 10;
const NPM_START_FLAGS = ['--max-semi-space-size=1', '--lite-mode'];

/** Replaces `from` in `text` and fails loudly when the default config no longer has it. */
function edit(text, from, to) {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`the default config has no ${from}`);
  return out;
}

const EDITS = {
  default: (t) => t,
  'trends-off': (t) => edit(t, /^trend_analysis:\n {2}enabled: true$/m, 'trend_analysis:\n  enabled: false'),
  'alerts-off': (t) =>
    edit(EDITS['trends-off'](t), /^ {2}alerting:\n {4}enabled: true$/m, '  alerting:\n    enabled: false'),
  'system-only': (t) =>
    edit(
      EDITS['alerts-off'](t),
      /^ {2}enabled_collectors:\n {4}- system\n {4}- application\n/m,
      '  enabled_collectors:\n    - system\n',
    ),
};

const [variantsArg, secondsArg] = process.argv.slice(2);
if (variantsArg === undefined)
  throw new Error('usage: node test/bench/footprint-ab.js VARIANTS_JSON [SECONDS]');
const variants = JSON.parse(variantsArg);
const SECONDS = Number(secondsArg ?? 120);
if (!(SECONDS >= 10 && SECONDS <= 3600)) throw new Error('SECONDS must be 10..3600');
installSafetyNets((WARMUP_S + SECONDS + 120) * 1000);

function rssAnonMb(pid) {
  const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The floor server (see the header): argv[1] the port, argv[2] the scrape text's file. */
const FLOOR_SERVER = `
const http = require('node:http'), zlib = require('node:zlib'), fs = require('node:fs');
const text = fs.readFileSync(process.argv[2], 'utf8');
let n = 0, cur = text, gz;
setInterval(() => { cur = text + '# ' + ++n + '\\n'; gz = undefined; }, 1000);
http.createServer((req, res) => {
  if (req.url === '/-/ready') return res.end('ok');
  gz ??= zlib.gzipSync(Buffer.from(cur), { level: 1 });
  res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Encoding': 'gzip' });
  res.end(gz);
}).listen(Number(process.argv[1]), '127.0.0.1');`;

async function startFloor(v, cpu, dir, agent) {
  if (agent === undefined)
    throw new Error(`variant ${v.name}: a floor variant needs an agent variant before it`);
  const scrape = await httpGet(agent.port, '/metrics');
  if (scrape.status !== 200) throw new Error(`the agent answered ${scrape.status} for the floor's text`);
  const file = path.join(dir, `floor-${v.name}.txt`);
  fs.writeFileSync(file, scrape.body);
  const port = await freePort();
  const env = { ...process.env, MALLOC_ARENA_MAX: '2' };
  delete env.NODE_OPTIONS;
  const flags = v.flags ?? NPM_START_FLAGS;
  const proc = spawnChild(process.execPath, [...flags, '-e', FLOOR_SERVER, String(port), file], {
    cpu,
    env,
    name: v.name,
  });
  await waitForHttp(port, '/-/ready', { proc });
  return { proc, port };
}

async function startVariant(v, cpu, dir) {
  const dist = v.dist ?? DIST;
  const configFile = path.resolve(dist, '..', '..', 'config', 'performance_monitor_config.yaml');
  const port = await freePort();
  let text = EDITS[v.config ?? 'default'](fs.readFileSync(configFile, 'utf8'));
  text = edit(text, '${PERF_MONITOR_INTERVAL:-15s}', '1s');
  text = edit(text, '${PERF_MONITOR_PORT:-9091}', String(port));
  text = edit(text, "'${PERF_MONITOR_HOST:-127.0.0.1}'", "'127.0.0.1'");
  for (const name of v.disable ?? [])
    text = edit(text, new RegExp(`(- \\{ name: ${name}, type: \\w+, enabled: )true`), '$1false');
  const file = path.join(dir, `agent-${port}.yaml`);
  fs.writeFileSync(file, text);
  const env = { ...process.env, MALLOC_ARENA_MAX: '2', STATE_DIRECTORY: path.join(dir, `state-${port}`) };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || k.startsWith('PERF_MONITOR_')) delete env[k];
  delete env.NODE_OPTIONS;
  const proc = spawnChild(
    process.execPath,
    [...(v.flags ?? NPM_START_FLAGS), path.join(dist, 'cli', 'main.js'), 'run', '-c', file],
    { cpu, env, name: v.name },
  );
  await waitForHttp(port, '/-/ready', { proc });
  return { proc, port };
}

printMachine('daemon variants side by side at a 1 s interval');
const cpu = serverCpu();
pinSelf(0);
const dir = makeTempDir('perf-monitor-ab-');
const targets = [{ name: 'node_exporter', srv: await startNodeExporter({ cpu }) }];
for (const v of variants) {
  const agent = targets.find((t) => t.agent)?.srv;
  const srv = v.floor === true ? await startFloor(v, cpu, dir, agent) : await startVariant(v, cpu, dir);
  targets.push({ name: v.name, srv, agent: v.floor !== true });
}
for (const t of targets) t.http = new http.Agent({ keepAlive: true, maxSockets: 1 });
console.log(`${WARMUP_S} s warm-up, then ${SECONDS} s …`);
let next = performance.now();
for (let i = 0; i < WARMUP_S + SECONDS; i++) {
  if (i === WARMUP_S)
    for (const t of targets) {
      t.ticks0 = procCpuSeconds(t.srv.proc.pid);
      t.sched0 = schedCpuSeconds(t.srv.proc.pid);
    }
  for (const t of targets) {
    const r = await httpGet(t.srv.port, '/metrics', { agent: t.http, gzip: true });
    if (r.status !== 200) throw new Error(`${t.name} answered ${r.status}`);
  }
  next += 1000;
  await sleep(Math.max(0, next - performance.now()));
}
const rows = targets.map((t) => {
  const pid = t.srv.proc.pid;
  const ticks = ((procCpuSeconds(pid) - t.ticks0) / SECONDS) * 100;
  const sched = ((schedCpuSeconds(pid) - t.sched0) / SECONDS) * 100;
  return { name: t.name, ticks, sched, rss: rssMb(pid), anon: rssAnonMb(pid) };
});
for (const t of targets) {
  t.http.destroy();
  await t.srv.proc.stop();
}
removeTempDir(dir);
const ne = rows[0].sched;
printTable(
  ['process', 'CPU % (ticks)', 'CPU % (schedstat)', '/ node_exporter', 'RSS MB', 'RssAnon MB'],
  rows.map((r) => [
    r.name,
    r.ticks.toFixed(3),
    r.sched.toFixed(3),
    (r.sched / ne).toFixed(2),
    r.rss.toFixed(1),
    r.anon.toFixed(1),
  ]),
);
process.exit(0);
