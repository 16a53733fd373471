/**
 * What every component of one agent shares: the clock, the environment, the logger in force, the package
 * version, the application metrics object (the same across reloads) and the options the agent was built with.
 */
import type { Env } from '../config/load.js';
import type { Clock } from '../lib/clock.js';
import type { AgentConfig } from '../config/schema.js';
import { ConfigError } from '../lib/errors.js';
import { createLogger, toLogLevel } from '../lib/logger.js';
import type { Logger, OwnedLogger } from '../lib/logger.js';
import type { ApplicationMetrics } from '../telemetry/application-metrics.js';
import type { AgentOptions } from './options.js';

export interface AgentContext {
  readonly opts: AgentOptions;
  readonly clock: Clock;
  readonly env: Env;
  /** Host name for the `agent_instance` label. */
  readonly hostname: string;
  /** The logger in force (it changes when a reload changes the `logging` section). */
  logger(): Logger;
  /** The package version, read once. */
  version(): string;
  /** The working directory at start: relative state files are taken from it (see paths.ts). */
  baseDir(): string;
  readonly application: ApplicationMetrics;
}

/** The logger the `logging` section of a configuration asks for (stderr, or a rotated file). */
export function configuredLogger(config: AgentConfig, clock: Clock): OwnedLogger {
  const l = config.logging;
  return createLogger({
    level: toLogLevel(l.level),
    format: l.format,
    file: l.file,
    maxBytes: l.max_bytes,
    backupCount: l.backup_count,
    stream: process.stderr,
    clock,
  });
}

/**
 * A reload that finds the file empty: most likely caught while an editor or a deployment rewrites it in place;
 * defaults would move the endpoint and drop every rule. (Starting on an empty file still means defaults.)
 */
export function emptyFileOnReload(file: string): ConfigError {
  return new ConfigError('E_CONFIG_INVALID', [
    {
      file,
      path: '',
      message:
        'the file is empty (written in place just now?); the running configuration stays (restart to run on defaults)',
    },
  ]);
}
