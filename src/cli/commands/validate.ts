import { loadConfigFile } from '../../config/load.js';
import type { Env } from '../../config/load.js';
import { ConfigError, formatConfigIssue } from '../../lib/errors.js';
import type { CliIo } from '../io.js';

/** At most this many problems are listed; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 100;

/** Checks a configuration file; prints its problems (the first 100). Exit code 0 when valid, 2 when not. */
export async function validateCommand(file: string, env: Env, io: CliIo): Promise<number> {
  try {
    const { config, empty } = await loadConfigFile(file, env);
    const pm = config.performance_monitor;
    io.out(
      `${file}: valid (${empty === true ? 'empty: every setting has its default; ' : ''}` +
        `${pm.enabled_collectors.join(', ')} collectors, every ${pm.collection_interval.text}, ` +
        `${pm.alerting.rules.length} alert rule(s))`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const shown = err.issues.slice(0, MAX_LISTED_PROBLEMS);
    for (const issue of shown) io.err(formatConfigIssue(issue));
    const rest = err.issues.length - shown.length;
    if (rest > 0) io.err(`… and ${rest} more problem(s)`);
    // A file that cannot be read is one problem, said in one line.
    if (err.code !== 'E_CONFIG_READ') io.err(`${file}: ${err.issues.length} problem(s)`);
    return 2;
  }
}
