import v8 from 'node:v8';
import { PerformanceMonitorAgent } from '../../agent/agent.js';
import type { Env } from '../../config/load.js';
import { ConfigError, errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { CliIo } from '../io.js';
import { problemLines } from '../problems.js';

export interface RunSignals {
  /** Registers a handler for a process signal (main.ts passes process.on). */
  on(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: () => void): void;
}

/**
 * The V8 flags the daemon sets for itself: `--optimize-for-size`, unless the node command line or NODE_OPTIONS
 * already say `--optimize-for-size` or `--no-optimize-for-size`. With it V8 sizes the heap for memory rather
 * than speed and gives freed pages back: at a 100 ms interval the agent's resident memory stays near its idle
 * size (3-minute soak.js: 98.7 MB, flat) instead of climbing as garbage promoted from the small young
 * generation piles up (133.2 MB after 3 minutes, +518 MB/h), for 11 % more CPU there (7.8 against 7.0 % of a
 * core) and about 0.2 % of a core more at a 1 s interval (1.38 against 1.20 %, and 1.65 against 1.22 %, with
 * 2–4 MB less RSS). Only the daemon: the preload never changes the host's V8.
 *
 * `--lite-mode` (no optimizing compiler: about 12 MB less RSS and 3–4 MB less RssAnon at a 1 s interval,
 * idle-footprint.js) is not set here: V8 reads it only at start, set from here it changed nothing measurable
 * (76.4 against 77.0 MB). It is on the node command line of `npm start` and of the systemd unit.
 */
export function daemonV8Flags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return given.some((a) => /^--(no-)?optimize[-_]for[-_]size(=|$)/.test(a)) ? [] : ['--optimize-for-size'];
}

/**
 * Runs the agent until SIGTERM or SIGINT. SIGHUP reloads the configuration file; a file that does not
 * validate is reported and the running configuration stays. Resolves with the exit code.
 */
export async function runCommand(file: string, env: Env, signals: RunSignals, io: CliIo): Promise<number> {
  for (const flag of daemonV8Flags(process.execArgv, env.NODE_OPTIONS)) v8.setFlagsFromString(flag);
  // The OpenTelemetry SDK's own warnings go to stderr; set when an OTLP push loads the SDK (not before: the
  // OpenTelemetry API alone is 2 MB of a process's memory).
  const agent = new PerformanceMonitorAgent({
    configPath: file,
    env,
    otelDiagnostics: (line) => io.err(line),
  });
  // Start errors (bad config, port in use) are reported by main.ts as one line with their exit code.
  await agent.start();
  const { exitCode } = untilStopped(signals, agent.logger, io, () => agent.stop());
  signals.on('SIGHUP', () => {
    agent.logger.info('reloading configuration', { config: file });
    agent.reload().catch((err: unknown) => {
      if (err instanceof ConfigError) {
        for (const problem of problemLines(err.issues))
          agent.logger.error('configuration not reloaded', { problem });
      } else {
        agent.logger.error('configuration not reloaded', { error: errorMessage(err) });
      }
      agent.logger.warn('keeping the running configuration');
    });
  });
  return exitCode;
}

/**
 * Keeps the process alive (when no HTTP endpoint is configured nothing else does; every other timer is
 * unref'd) until SIGTERM, SIGINT or the returned stop(): then, once, logs `stopping` and runs `shutdown`;
 * `exitCode` resolves with exitCodeOfStop's code.
 */
export function untilStopped(
  signals: { on(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void },
  logger: Logger,
  io: CliIo,
  shutdown: () => Promise<unknown>,
): { stop: (why: string) => void; exitCode: Promise<number> } {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let resolve: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((r) => {
    resolve = r;
  });
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal: why });
    void exitCodeOfStop(shutdown(), keepAlive, io).then(resolve);
  };
  signals.on('SIGTERM', () => stop('SIGTERM'));
  signals.on('SIGINT', () => stop('SIGINT'));
  return { stop, exitCode };
}

/**
 * The exit code once `stopped` settles: 0, or 1 with one line on stderr. Either way the keep-alive timer
 * is cleared so the process can end.
 */
function exitCodeOfStop(
  stopped: Promise<unknown>,
  keepAlive: ReturnType<typeof setInterval>,
  io: CliIo,
): Promise<number> {
  return stopped.then(
    () => {
      clearInterval(keepAlive);
      return 0;
    },
    (err: unknown) => {
      io.err(`perf-monitor: stop incomplete: ${errorMessage(err)}`);
      clearInterval(keepAlive);
      return 1;
    },
  );
}
