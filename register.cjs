/**
 * The `require` entry of perf-monitor-agent/register: `node --require perf-monitor-agent/register app.js`.
 *
 * CommonJS, with only syntax and built-ins that Node.js 18 has, so that it runs on any Node.js: on one
 * older than package.json's `engines.node` the agent (ES modules that need newer built-ins) cannot load,
 * and the error would stop the application. This file checks the version first; on an older Node.js it
 * writes one line on stderr and the application runs on, unmonitored. On a supported Node.js it loads the
 * preload, dist/src/preload-start.js, with require() of an ES module: synchronously, before the
 * application's own code. dist/src/lib/node-version.js is the same check for the ES module entries.
 */
'use strict';

const process = require('node:process');

function say(line) {
  try {
    process.stderr.write('perf-monitor-agent: ' + line + '\n');
  } catch {
    // A closed stderr: nothing more to say, and nothing to throw.
  }
}

/** '22.15.0', 'v20.20.2' or '>=22.15.0' → [major, minor, patch], or undefined. */
function parse(text) {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(String(text));
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

function isAtLeast(found, minimum) {
  for (let i = 0; i < 3; i++) if (found[i] !== minimum[i]) return found[i] > minimum[i];
  return true;
}

try {
  const required = require('./package.json').engines.node;
  const minimum = parse(required);
  const found = parse(process.versions.node);
  if (minimum !== undefined && found !== undefined && !isAtLeast(found, minimum)) {
    say(
      'not started: needs Node.js ' +
        required +
        ', found v' +
        found.join('.') +
        '; the application runs without it',
    );
  } else {
    require('./dist/src/preload-start.js');
  }
} catch (err) {
  say('not started: ' + String(err instanceof Error ? err.message : err).split('\n')[0]);
}
