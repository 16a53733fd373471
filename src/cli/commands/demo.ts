/**
 * `perf-monitor demo`: the agent on its configuration plus a synthetic application (src/demo/workload.ts)
 * recording every application metric, so a dashboard has something to show within a minute. An alert
 * (values past the default rules' thresholds) and an anomaly (a latency and load spike) can be triggered
 * at a set time (--alert-at, --spike-at), by signal (SIGUSR2: spike) or, on a terminal, by key (a, s).
 */
import { PerformanceMonitorAgent } from '../../agent/agent.js';
import type { Env } from '../../config/load.js';
import { DemoNeo4jQueries, driverRunner } from '../../demo/neo4j-queries.js';
import { DemoWorkload } from '../../demo/workload.js';
import { SystemClock } from '../../lib/clock.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { parseDurationMs } from '../../lib/duration.js';
import { AgentError } from '../../lib/errors.js';
import type { CliIo } from '../io.js';
import { untilStopped } from './run.js';

export interface DemoOptions {
  /** When to trigger the spike, e.g. `60s`. */
  spikeAt?: string;
  /** When to trigger the alert, e.g. `2m`. */
  alertAt?: string;
  /** Time between workload rounds, e.g. `250ms`. */
  tick?: string;
}

export interface DemoSignals {
  on(signal: 'SIGTERM' | 'SIGINT' | 'SIGUSR2', handler: () => void): void;
}

export interface DemoKeys {
  /** Calls `handler` with each key pressed (a terminal in raw mode); returns a function that stops. */
  onKey(handler: (key: string) => void): () => void;
}

function durationOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    throw new AgentError('E_USAGE', `--${name}: "${value}" is not a duration (examples: 90s, 2m, 500ms)`);
  }
  return ms;
}

/** Keys from a terminal stdin; nothing when stdin is not a terminal. */
export const terminalKeys: DemoKeys = {
  onKey(handler) {
    const stdin = process.stdin;
    if (!stdin.isTTY) return () => undefined;
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const listener = (key: string): void => handler(key);
    stdin.on('data', listener);
    stdin.resume();
    return () => {
      stdin.off('data', listener);
      stdin.setRawMode(false);
      stdin.pause();
    };
  },
};

/** Runs the agent and the workload until SIGTERM or SIGINT (or Ctrl-C / q on a terminal). */
export async function demoCommand(
  file: string,
  env: Env,
  options: DemoOptions,
  signals: DemoSignals,
  keys: DemoKeys,
  io: CliIo,
  clock: Clock = new SystemClock(),
): Promise<number> {
  const spikeAtMs = durationOption('spike-at', options.spikeAt);
  const alertAtMs = durationOption('alert-at', options.alertAt);
  const tickMs = durationOption('tick', options.tick) ?? 250;
  if (tickMs < 10) throw new AgentError('E_USAGE', `--tick: ${options.tick} is too short (at least 10ms)`);

  // The demo is the application: its neo4j-driver queries are recorded like a preloaded application's.
  const agent = new PerformanceMonitorAgent({ configPath: file, env, clock, instrumentNeo4jDriver: true });
  await agent.start();
  const workload = new DemoWorkload({ recorder: agent.getApplicationCollector(), clock, tickMs });
  workload.start();
  const pm = agent.config?.performance_monitor;
  let neo4jQueries: DemoNeo4jQueries | undefined;
  if (pm?.enabled_collectors.includes('neo4j') === true) {
    const n = pm.neo4j_metrics;
    neo4jQueries = new DemoNeo4jQueries({
      ...driverRunner({ uri: n.uri, user: n.user, password: n.password ?? '', database: n.database }),
      clock,
      logger: agent.logger,
    });
    neo4jQueries.start();
    io.out(`perf-monitor demo: read-only Cypher queries against ${n.uri} (database ${n.database})`);
  }
  const where = agent.url === undefined ? 'no HTTP endpoint configured' : `${agent.url}/metrics`;
  io.out(`perf-monitor demo: agent and synthetic workload running; metrics at ${where}`);
  io.out(
    '  spike (anomaly): SIGUSR2 or key s; alert (past the default rule thresholds): key a; stop: Ctrl-C',
  );

  const spike = (why: string): void => {
    workload.triggerSpike();
    io.out(`perf-monitor demo: spike started (${why})`);
  };
  const alert = (why: string): void => {
    workload.triggerAlert();
    io.out(
      `perf-monitor demo: alert values started (${why}); the default rules fire after their 5 min duration`,
    );
  };
  const timers: TimerHandle[] = [];
  if (spikeAtMs !== undefined)
    timers.push(clock.setTimeout(() => spike(`--spike-at ${options.spikeAt}`), spikeAtMs));
  if (alertAtMs !== undefined)
    timers.push(clock.setTimeout(() => alert(`--alert-at ${options.alertAt}`), alertAtMs));

  let stopKeys = (): void => undefined;
  const { stop, exitCode } = untilStopped(signals, agent.logger, io, () => {
    stopKeys();
    for (const t of timers) t.cancel();
    return workload
      .shutdown()
      .then(() => neo4jQueries?.shutdown())
      .then(() => agent.stop());
  });
  stopKeys = keys.onKey((key) => {
    if (key === 's') spike('key s');
    else if (key === 'a') alert('key a');
    else if (key === 'q' || key === '\u0003') stop('key');
  });
  signals.on('SIGUSR2', () => spike('SIGUSR2'));
  return exitCode;
}
