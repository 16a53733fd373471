/**
 * The configuration loader of the product: the schema with the checks of every layer above the configuration
 * (the alert rules' expressions and the maintenance windows' matchers, src/alerts/config-checks.ts). Every
 * entry point loads through here (the CLI's commands, the worker of loadConfigIsolated), so none validates
 * less than another. Importing it loads the YAML parser and the schema library: the agent itself reads a
 * file through loadConfigIsolated (./load-isolated.ts), in a worker.
 */
import { ALERT_CONFIG_CHECKS } from '../alerts/config-checks.js';
import { configLoader } from '../config/load.js';
import type { Env, LoadedConfig } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';

const loader = configLoader(ALERT_CONFIG_CHECKS);

/** Reads and validates a configuration file. Throws ConfigError listing every issue. */
export function loadConfigFile(file: string, env: Env = process.env): Promise<LoadedConfig> {
  return loader.loadConfigFile(file, env);
}

/** Parses and validates configuration text; `file` is used in messages only. */
export function parseConfigText(text: string, file: string, env: Env = process.env): AgentConfig {
  return loader.parseConfigText(text, file, env);
}
