#!/usr/bin/env node
/**
 * The perf-monitor executable. The only place that calls process.exit; signal handlers are installed by
 * the `run` command through the hook main() is given.
 */
import { errorMessage } from '../lib/errors.js';
import { main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`perf-monitor: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
