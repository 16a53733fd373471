import { loadConfigFile } from '../../config/load.js';
import type { Env } from '../../config/load.js';
import { ConfigError, formatConfigIssue } from '../../lib/errors.js';
import type { CliIo } from '../io.js';

/** Checks a configuration file; prints every issue. Exit code 0 when valid, 2 when not. */
export async function validateCommand(file: string, env: Env, io: CliIo): Promise<number> {
  try {
    const { config } = await loadConfigFile(file, env);
    const pm = config.performance_monitor;
    io.out(
      `${file}: valid (${pm.enabled_collectors.join(', ')} collectors, every ${pm.collection_interval.text}, ` +
        `${pm.alerting.rules.length} alert rule(s))`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) io.err(formatConfigIssue(issue));
    // A file that cannot be read is one problem, said in one line.
    if (err.code !== 'E_CONFIG_READ') io.err(`${file}: ${err.issues.length} problem(s)`);
    return 2;
  }
}
