/**
 * Preload entry: `node --import perf-monitor-agent/register app.mjs` (and `node --require
 * dist/src/register.js`; `--require perf-monitor-agent/register` goes to register.cjs at the package root)
 * starts the agent inside the application (preload-start.ts).
 *
 * It checks the Node.js version first and imports nothing else statically: on an older Node.js than
 * package.json's `engines.node` loading the agent would fail on a missing built-in and stop the
 * application, so it writes one line on stderr instead and the application runs on, unmonitored. On a
 * supported Node.js it loads preload-start.js with require(), synchronously, so that the agent has started
 * before the application's own code runs, as it had with a static import (a dynamic import() would let the
 * application start first; a top-level await would make this module unusable with `--require`).
 */
import { createRequire } from 'node:module';
import { unsupportedNode } from './lib/node-version.js';

function say(line: string): void {
  try {
    process.stderr.write(`perf-monitor-agent: ${line}\n`);
  } catch {
    // A closed stderr: nothing more to say, and nothing to throw.
  }
}

const problem = unsupportedNode();
if (problem !== undefined) {
  say(`not started: ${problem}; the application runs without it`);
} else {
  try {
    createRequire(import.meta.url)('./preload-start.js');
  } catch (err) {
    say(`not started: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`);
  }
}
