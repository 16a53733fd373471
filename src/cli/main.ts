#!/usr/bin/env node
/**
 * The perf-monitor executable. The only place that calls process.exit; signal handlers are installed by
 * the `run` command through the hook main() is given.
 *
 * It checks the Node.js version before it loads anything else: on an older Node.js than package.json's
 * `engines.node` the command line would fail on a missing built-in (`node:sqlite`) with a stack trace, so
 * it prints one line naming the Node.js it needs and the one it found, and exits with code 2. Only
 * lib/node-version.ts is imported statically; the command line itself is loaded after the check.
 */
import { unsupportedNode } from '../lib/node-version.js';

/** Exits once stdout and stderr have drained: on a pipe they are asynchronous and exit() would cut them. */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

async function run(): Promise<number> {
  const problem = unsupportedNode();
  if (problem !== undefined) {
    process.stderr.write(`perf-monitor: ${problem}\n`);
    return 2;
  }
  const [{ main }, { errorMessage }] = await Promise.all([import('./cli.js'), import('../lib/errors.js')]);
  return main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`perf-monitor: ${errorMessage(err)}\n`);
    return 1;
  });
}

run().then(exitAfterFlush, (err: unknown) => {
  // Only a failure to load the command line itself (a broken installation) gets here.
  process.stderr.write(`perf-monitor: ${err instanceof Error ? err.message : String(err)}\n`);
  exitAfterFlush(1);
});
