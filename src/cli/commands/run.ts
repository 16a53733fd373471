import { PerformanceMonitorAgent } from '../../agent.js';
import type { Env } from '../../config/load.js';
import { ConfigError, errorMessage } from '../../lib/errors.js';
import type { CliIo } from '../io.js';
import { problemLines } from '../problems.js';

export interface RunSignals {
  /** Registers a handler for a process signal (main.ts passes process.on). */
  on(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: () => void): void;
}

/**
 * Runs the agent until SIGTERM or SIGINT. SIGHUP reloads the configuration file; a file that does not
 * validate is reported and the running configuration stays. Resolves with the exit code.
 */
export async function runCommand(file: string, env: Env, signals: RunSignals, io: CliIo): Promise<number> {
  const agent = new PerformanceMonitorAgent({ configPath: file, env });
  // Start errors (bad config, port in use) are reported by main.ts as one line with their exit code.
  await agent.start();
  // Keeps the process alive when no HTTP endpoint is configured; every other timer is unref'd.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      agent.logger.info('stopping', { signal });
      void exitCodeOfStop(agent.stop(), keepAlive, io).then(resolve);
    };
    signals.on('SIGTERM', () => stop('SIGTERM'));
    signals.on('SIGINT', () => stop('SIGINT'));
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
  });
}

/**
 * The exit code once `stopped` settles: 0, or 1 with one line on stderr. Either way the keep-alive timer
 * is cleared so the process can end.
 */
export function exitCodeOfStop(
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
