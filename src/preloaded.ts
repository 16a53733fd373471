/**
 * The agent started by the preload, shared with the application that imports the package. It lives on
 * globalThis under a registered symbol so that the preload and the application find the same agent even
 * when they load the package through different module systems (require and import).
 */
import type { PerformanceMonitorAgent } from './agent.js';
import type { ApplicationMetrics } from './telemetry/application-metrics.js';

const SLOT = Symbol.for('perf-monitor-agent.preloaded');

type Slot = { [SLOT]?: PerformanceMonitorAgent };

export function setPreloadedAgent(agent: PerformanceMonitorAgent): void {
  (globalThis as Slot)[SLOT] = agent;
}

/** The agent started with `--require perf-monitor-agent/register`, if any. */
export function getPreloadedAgent(): PerformanceMonitorAgent | undefined {
  return (globalThis as Slot)[SLOT];
}

/**
 * The application metrics API of the preloaded agent, or undefined when the process was not started
 * with the preload.
 */
export function getApplicationMetrics(): ApplicationMetrics | undefined {
  return getPreloadedAgent()?.getApplicationCollector();
}
