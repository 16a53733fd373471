/**
 * Preload entry: `node --require perf-monitor-agent/register app.js` (or `--import`) starts the agent
 * inside the application. Configuration from PERF_MONITOR_CONFIG (else the packaged default, whose port
 * follows PERF_MONITOR_PORT). It never throws into the application, installs no signal handler (that
 * would stop the application from exiting on SIGTERM), does not keep the process alive, and stops — with
 * a final OTLP push — when the application's event loop empties (`beforeExit`).
 */
import { PerformanceMonitorAgent } from './agent.js';
import { errorMessage } from './lib/errors.js';
import { setPreloadedAgent } from './preloaded.js';

function startPreload(): void {
  const agent = new PerformanceMonitorAgent({ configPath: process.env.PERF_MONITOR_CONFIG, embedded: true });
  setPreloadedAgent(agent);
  agent.start().catch((err: unknown) => {
    process.stderr.write(`perf-monitor-agent: not started: ${errorMessage(err)}\n`);
  });
  process.once('beforeExit', () => {
    agent.stop().catch((err: unknown) => {
      process.stderr.write(`perf-monitor-agent: stop incomplete: ${errorMessage(err)}\n`);
    });
  });
}

try {
  startPreload();
} catch (err) {
  process.stderr.write(`perf-monitor-agent: not started: ${errorMessage(err)}\n`);
}
