import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { historyPath, stateDir, stateFilePath, storePath } from '../../../src/agent/paths.js';
import type { StateLocation } from '../../../src/agent/paths.js';
import { parseConfigText } from '../../../src/agent/load-config.js';

const BASE = path.resolve('/srv/app');

function config(text = '') {
  return parseConfigText(text, 'paths.yaml', {});
}

function loc(env: Record<string, string> = {}, embedded = false): StateLocation {
  return { baseDir: BASE, env, embedded };
}

const ALL = {
  STATE_DIRECTORY: '/var/lib/perf-monitor',
  XDG_STATE_HOME: '/home/u/.xdg-state',
  HOME: '/home/u',
};

describe('state directory', () => {
  it('should follow $STATE_DIRECTORY, then $XDG_STATE_HOME, then $HOME, then data/ under the working directory', () => {
    const c = config();
    expect(stateDir(c, loc(ALL))).toEqual({ dir: '/var/lib/perf-monitor', source: '$STATE_DIRECTORY' });
    const { STATE_DIRECTORY: _s, ...noSystemd } = ALL;
    expect(stateDir(c, loc(noSystemd)).dir).toBe('/home/u/.xdg-state/perf-monitor');
    expect(stateDir(c, loc({ HOME: '/home/u' })).dir).toBe('/home/u/.local/state/perf-monitor');
    expect(stateDir(c, loc({})).dir).toBe(path.join(BASE, 'data'));
  });

  it('should take the first of several systemd state directories and ignore relative or empty values', () => {
    const c = config();
    expect(stateDir(c, loc({ STATE_DIRECTORY: '/var/lib/a:/var/lib/b' })).dir).toBe('/var/lib/a');
    expect(stateDir(c, loc({ STATE_DIRECTORY: 'rel', XDG_STATE_HOME: 'also-rel', HOME: '/h' })).dir).toBe(
      '/h/.local/state/perf-monitor',
    );
    expect(stateDir(c, loc({ STATE_DIRECTORY: '', XDG_STATE_HOME: '', HOME: '' })).dir).toBe(
      path.join(BASE, 'data'),
    );
  });

  it('should let performance_monitor.state_dir win over the environment, relative to the working directory', () => {
    expect(stateDir(config('performance_monitor:\n  state_dir: /opt/state\n'), loc(ALL)).dir).toBe(
      '/opt/state',
    );
    expect(stateDir(config('performance_monitor:\n  state_dir: st\n'), loc(ALL)).dir).toBe(
      path.join(BASE, 'st'),
    );
    expect(stateDir(config('performance_monitor:\n  state_dir: st\n'), loc({}, true)).dir).toBe(
      path.join(BASE, 'st'),
    );
  });

  it('should keep an application (the preload) in data/ under its working directory', () => {
    expect(stateDir(config(), loc(ALL, true)).dir).toBe(path.join(BASE, 'data'));
  });
});

describe('state files', () => {
  it('should put the alert state, the outbox and the history into the state directory by default', () => {
    const c = config();
    expect(stateFilePath(c, loc(ALL))).toBe('/var/lib/perf-monitor/alert_state.json');
    expect(storePath(c, loc(ALL))).toBe('/var/lib/perf-monitor/notifications.db');
    expect(historyPath(c, loc(ALL))).toBe('/var/lib/perf-monitor/metrics_history.db');
  });

  it('should keep paths the configuration sets: absolute as they are, relative from the working directory', () => {
    const c = config(`performance_monitor:
  state_dir: /opt/state
  alerting:
    state_file: /x/alerts.json
    notifications: {store_path: rel/outbox.db}
trend_analysis:
  storage: {path: data/metrics_history}
`);
    expect(stateFilePath(c, loc(ALL))).toBe('/x/alerts.json');
    expect(storePath(c, loc(ALL))).toBe(path.join(BASE, 'rel/outbox.db'));
    expect(historyPath(c, loc(ALL))).toBe(path.join(BASE, 'data/metrics_history'));
  });

  it("should turn alert state persistence off with state_file: '' and keep an in-memory outbox", () => {
    const c = config(
      `performance_monitor:\n  alerting:\n    state_file: ''\n    notifications: {store_path: ':memory:'}\n`,
    );
    expect(stateFilePath(c, loc(ALL))).toBeUndefined();
    expect(storePath(c, loc(ALL))).toBe(':memory:');
  });
});
