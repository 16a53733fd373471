#!/usr/bin/env node
/**
 * The perf-monitor executable. The only place that calls process.exit; signal handlers are installed by
 * the `run` command through the hook main() is given.
 */
import { errorMessage } from '../lib/errors.js';
import { main } from './cli.js';

/** Exits once stdout and stderr have drained: on a pipe they are asynchronous and exit() would cut them. */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

main(process.argv.slice(2)).then(exitAfterFlush, (err: unknown) => {
  process.stderr.write(`perf-monitor: ${errorMessage(err)}\n`);
  exitAfterFlush(1);
});
