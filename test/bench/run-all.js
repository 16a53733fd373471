/**
 * Runs the benchmarks in sequence, each in its own Node process (so one's threads, heap and
 * children never disturb the next), and exits non-zero if any fails.
 *
 *   npm run build && node test/bench/run-all.js
 */
import { spawn } from 'node:child_process';
import console from 'node:console';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHMARKS = [
  'system-collection.js',
  'metrics-latency.js',
  'idle-footprint.js',
  'record-cost.js',
  'preload-overhead.js',
  'history.js',
  'alert-rules.js',
  'auth-flood.js',
];
/** Each benchmark stops itself well before this; it is the last resort. */
const LIMIT_MS = 200_000;

if (!fs.existsSync(path.join(here, '..', '..', 'dist', 'src', 'agent.js'))) {
  console.error('dist/ is missing — run `npm run build` first');
  process.exit(2);
}

let current;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // The child cleans up its own servers on SIGTERM/SIGINT.
    if (current !== undefined && current.exitCode === null) current.kill('SIGTERM');
    process.exit(130);
  });
}

function run(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    current = spawn(process.execPath, [path.join(here, file)], { stdio: 'inherit' });
    const timer = setTimeout(() => {
      console.error(`${file} exceeded ${LIMIT_MS / 1000} s; killing it`);
      current.kill('SIGTERM');
    }, LIMIT_MS);
    current.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ file, code: code ?? 1, signal, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

const results = [];
for (const file of BENCHMARKS) {
  console.log(`\n======== ${file} ========\n`);
  results.push(await run(file));
}
console.log('\n======== summary ========');
for (const r of results)
  console.log(
    `${r.code === 0 ? 'ok    ' : 'FAILED'} ${r.file} (${r.seconds} s)${r.signal ? ` signal ${r.signal}` : ''}`,
  );
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
