import { loadConfigFile } from '../../agent/load-config.js';
import type { Env } from '../../config/load.js';
import { ConfigError } from '../../lib/errors.js';
import type { CliIo } from '../io.js';
import { problemLines } from '../problems.js';

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
    for (const line of problemLines(err.issues)) io.err(line);
    // A file that cannot be read is one problem, said in one line.
    if (err.code !== 'E_CONFIG_READ') io.err(`${file}: ${err.issues.length} problem(s)`);
    return 2;
  }
}
