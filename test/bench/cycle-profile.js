/**
 * Diagnostic (not a pass/fail benchmark): where the main thread's time of one agent collection cycle
 * goes. Runs an in-process agent (default config, 100 ms interval, HTTP endpoint on a free loopback port,
 * not scraped) under the V8 sampling profiler (node:inspector, 100 µs sampling) for PROFILED_CYCLES
 * cycles after a warm-up, and prints the inclusive and self time per cycle of the functions involved.
 * Sampling only sees the main thread (libuv's pool threads doing file reads and statfs are not in it).
 *
 *   npm run build && node test/bench/cycle-profile.js
 */
import console from 'node:console';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import process from 'node:process';
import {
  DEFAULT_CONFIG,
  fmt,
  installSafetyNets,
  pinSelf,
  printMachine,
  printTable,
  sleep,
} from './common.js';

const WARMUP_CYCLES = 20;
const PROFILED_CYCLES = 200;
const INTERVAL = '100ms';

installSafetyNets(120_000);
let dist;
try {
  dist = {
    agent: await import('../../dist/src/agent/agent.js'),
    load: await import('../../dist/src/agent/load-config.js'),
    logger: await import('../../dist/src/lib/logger.js'),
  };
} catch (err) {
  throw new Error(`cannot load dist/ — run \`npm run build\` first (${err.message})`, { cause: err });
}

printMachine('main-thread profile of the agent collection cycle');
const selfCpu = pinSelf(0);
console.log(selfCpu === undefined ? 'pinning: none' : `pinning: this process on CPU ${selfCpu}`);

const config = dist.load.parseConfigText(fs.readFileSync(DEFAULT_CONFIG, 'utf8'), DEFAULT_CONFIG, {
  PERF_MONITOR_INTERVAL: INTERVAL,
  PERF_MONITOR_PORT: '0',
});
const agent = dist.agent.createAgent(config, { logger: dist.logger.silentLogger, env: {} });
let cycles = 0;
agent.onCollection('count', () => {
  cycles++;
});
await agent.start();
while (cycles < WARMUP_CYCLES) await sleep(50);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const first = cycles;
while (cycles - first < PROFILED_CYCLES) await sleep(50);
const { profile } = await session.post('Profiler.stop');
const profiled = cycles - first;
session.disconnect();
await agent.stop();

// ---------------------------------------------------------------- aggregate

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => {
  const url = n.callFrame.url;
  const m = /(?:dist\/src\/|node_modules\/)(.*)$/.exec(url);
  const where = m ? m[1] : url.replace(/^node:/, 'node:');
  return `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map();
const inclusive = new Map();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  totalUs += dt;
  const leaf = byId.get(id);
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur));
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
});
const perCycle = (us) => us / 1000 / profiled;
const idleUs = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((t, [, v]) => t + v, 0);

console.log(
  `\n${profiled} cycles profiled over ${fmt(totalUs / 1e6, 1)} s; main thread busy ` +
    `${fmt(perCycle(totalUs - idleUs), 3)} ms per cycle (everything that is not "(idle)").\n`,
);
const interesting =
  /(_cycle|refresh|_run|collect|update|serialize|_selfPoints|packageInfo|_serializeMetricData|toSamples|makeBatch|parse\w+|readOptional|gzipped|statfs|nodeStatFs) /;
console.log('## Inclusive time per cycle of the agent functions (ms)\n');
printTable(
  ['function', 'ms / cycle'],
  [...inclusive]
    .filter(([k]) => interesting.test(k) && !k.startsWith('(') && perCycle(inclusive.get(k)) >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)
    .map(([k, v]) => [k, fmt(perCycle(v), 3)]),
);
console.log('\n## Self time per cycle, top 25 (ms)\n');
printTable(
  ['function', 'ms / cycle'],
  [...self]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([k, v]) => [k, fmt(perCycle(v), 3)]),
);
process.exit(0);
