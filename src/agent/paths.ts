/**
 * Where a configuration puts the agent's state files. Relative paths are taken from the working directory at
 * start (`baseDir`), so that an application that changes directory later (the preload) does not move them on
 * a reload.
 */
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';

/** The alert state file of a configuration, absolute; undefined when persistence is off. */
export function stateFilePath(config: AgentConfig, baseDir: string): string | undefined {
  const file = config.performance_monitor.alerting.state_file;
  return file === '' ? undefined : path.resolve(baseDir, file);
}

/** The outbox file of a configuration: relative paths against `baseDir`. */
export function storePath(config: AgentConfig, baseDir: string): string {
  const file = config.performance_monitor.alerting.notifications.store_path;
  return file === ':memory:' ? file : path.resolve(baseDir, file);
}
