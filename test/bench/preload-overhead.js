/**
 * Preload overhead: server CPU per request of a trivial HTTP server (test/fixtures/apps/trivial-server.cjs)
 * under autocannon on loopback, without any agent, with `--require perf-monitor-agent/register` (the
 * packaged default config: system and application collectors, 15 s interval) and with
 * @opentelemetry/instrumentation-http (a private MeterProvider, no tracer). The server is pinned to CPU 1,
 * autocannon to CPU 0; rounds alternate the variants; server CPU comes from /proc over the measured window.
 * Target: the preload adds at most a fifth of what instrumentation-http adds.
 *
 *   npm run build && node test/bench/preload-overhead.js
 */
import console from 'node:console';
import path from 'node:path';
import process from 'node:process';
import autocannon from 'autocannon';
import {
  REPO_ROOT,
  fmt,
  freePort,
  installSafetyNets,
  median,
  pinSelf,
  printMachine,
  printTable,
  procCpuSeconds,
  serverCpu,
  sleep,
  spawnChild,
  waitForHttp,
} from './common.js';

installSafetyNets(150_000);
pinSelf(0);
printMachine('preload overhead: trivial HTTP server under autocannon');

const APPS = path.join(REPO_ROOT, 'test', 'fixtures', 'apps');
const ROUNDS = 5;
const WARMUP_S = 1;
const MEASURE_S = 3;
const CONNECTIONS = 10;

const variants = [
  ['no agent', [], false],
  ['perf-monitor-agent preload', ['--require', 'perf-monitor-agent/register'], true],
  ['instrumentation-http 0.301', ['--require', path.join(APPS, 'otel-http-preload.cjs')], false],
];

function load(port, seconds) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: seconds },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function measure(args, agent) {
  const agentPort = await freePort();
  const server = spawnChild(process.execPath, [...args, path.join(APPS, 'trivial-server.cjs')], {
    cpu: serverCpu(),
    stdout: 'pipe',
    name: 'trivial-server',
    env: { ...process.env, PERF_MONITOR_PORT: String(agentPort) },
  });
  try {
    const line = await server.nextLine(30_000);
    const port = Number(/listening (\d+)/.exec(line)[1]);
    // The agent's start (config load, first collection) is not part of the cost per request.
    if (agent) await waitForHttp(agentPort, '/-/ready', { timeoutMs: 30_000, proc: server });
    await sleep(500);
    await load(port, WARMUP_S);
    const cpu0 = procCpuSeconds(server.pid);
    const result = await load(port, MEASURE_S);
    const cpu1 = procCpuSeconds(server.pid);
    return { usPerRequest: ((cpu1 - cpu0) * 1e6) / result.requests.total, rps: result.requests.average };
  } finally {
    server.child.kill('SIGKILL');
    await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once('exit', r)));
  }
}

const results = new Map(variants.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, args, agent] of variants) results.get(name).push(await measure(args, agent));
}
const med = (name, key) => median(results.get(name).map((x) => x[key]));
const base = med('no agent', 'usPerRequest');
printTable(
  ['variant', 'server CPU µs / request (median of 5)', 'added µs', 'requests/s'],
  variants.map(([name]) => [
    name,
    fmt(med(name, 'usPerRequest'), 2),
    name === 'no agent' ? '–' : fmt(med(name, 'usPerRequest') - base, 2),
    fmt(med(name, 'rps'), 0),
  ]),
);
const ours = med('perf-monitor-agent preload', 'usPerRequest') - base;
const peer = med('instrumentation-http 0.301', 'usPerRequest') - base;
const share = ours / peer;
console.log(
  `\nadded cost: preload ${fmt(ours, 2)} µs vs instrumentation-http ${fmt(peer, 2)} µs per request = ${fmt(share, 2)} of it (target ≤ 0.20) — ${share <= 0.2 ? 'met' : 'MISSED'}`,
);
process.exit(0);
