/**
 * Where a configuration puts the agent's state files (the alert state, the notification outbox, the trend
 * history). A path the configuration sets wins: absolute as it is, relative from the working directory at
 * start (`baseDir`), so that an application that changes directory later (the preload) does not move them
 * on a reload. A file the configuration leaves out goes into the state directory:
 *
 * 1. `performance_monitor.state_dir` when set (relative: from `baseDir`);
 * 2. in an application (the preload), `data/` under the working directory at start, as before: several
 *    applications on one host must not share one alert state or outbox;
 * 3. `$STATE_DIRECTORY` (systemd's `StateDirectory=`; the first entry when it lists several);
 * 4. `$XDG_STATE_HOME/perf-monitor` (absolute values only, as the XDG base directory specification says);
 * 5. `$HOME/.local/state/perf-monitor`;
 * 6. `data/` under the working directory when none of these is set (as before; a program that passes the agent
 *    an environment without them, such as a test, keeps its state where it runs).
 */
import path from 'node:path';
import type { Env } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import type { AgentContext } from './context.js';

/** What the state directory depends on besides the configuration. */
export interface StateLocation {
  /** The working directory at start. */
  baseDir: string;
  env: Env;
  /** Running inside an application (the preload). */
  embedded: boolean;
}

/** The state location of an agent. */
export function stateLocation(ctx: AgentContext): StateLocation {
  return { baseDir: ctx.baseDir(), env: ctx.env, embedded: ctx.opts.embedded === true };
}

export const ALERT_STATE_FILE = 'alert_state.json';
export const OUTBOX_FILE = 'notifications.db';
export const HISTORY_FILE = 'metrics_history.db';
/** The directory of the shipped systemd unit's `StateDirectory=perf-monitor`. */
export const SYSTEMD_STATE_DIR = '/var/lib/perf-monitor';

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** The state directory of a configuration (absolute), and where it came from. */
export function stateDir(config: AgentConfig, loc: StateLocation): { dir: string; source: string } {
  const configured = config.performance_monitor.state_dir;
  if (configured !== undefined)
    return { dir: path.resolve(loc.baseDir, configured), source: 'performance_monitor.state_dir' };
  const local = { dir: path.resolve(loc.baseDir, 'data'), source: 'the working directory' };
  if (loc.embedded) return local;
  const systemd = nonEmpty(loc.env.STATE_DIRECTORY)?.split(':')[0];
  if (systemd !== undefined && path.isAbsolute(systemd)) return { dir: systemd, source: '$STATE_DIRECTORY' };
  const xdg = nonEmpty(loc.env.XDG_STATE_HOME);
  if (xdg !== undefined && path.isAbsolute(xdg))
    return { dir: path.join(xdg, 'perf-monitor'), source: '$XDG_STATE_HOME' };
  const home = nonEmpty(loc.env.HOME);
  if (home !== undefined && path.isAbsolute(home))
    return { dir: path.join(home, '.local', 'state', 'perf-monitor'), source: '~/.local/state' };
  return local;
}

function inState(
  config: AgentConfig,
  loc: StateLocation,
  configured: string | undefined,
  name: string,
): string {
  return configured !== undefined
    ? path.resolve(loc.baseDir, configured)
    : path.join(stateDir(config, loc).dir, name);
}

/** The alert state file of a configuration, absolute; undefined when persistence is off (`state_file: ''`). */
export function stateFilePath(config: AgentConfig, loc: StateLocation): string | undefined {
  const file = config.performance_monitor.alerting.state_file;
  return file === '' ? undefined : inState(config, loc, file, ALERT_STATE_FILE);
}

/** The outbox file of a configuration, absolute (or `:memory:`). */
export function storePath(config: AgentConfig, loc: StateLocation): string {
  const file = config.performance_monitor.alerting.notifications.store_path;
  return file === ':memory:' ? file : inState(config, loc, file, OUTBOX_FILE);
}

/** The trend history file of a configuration, absolute. */
export function historyPath(config: AgentConfig, loc: StateLocation): string {
  return inState(config, loc, config.trend_analysis.storage.path, HISTORY_FILE);
}
