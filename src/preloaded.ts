/**
 * The agent started by the preload, shared with the application that imports the package. It lives on
 * globalThis under a registered symbol so that the preload and the application find the same agent even
 * when they load the package through different module systems (require and import). In a worker thread
 * the API object forwards to the agent of the main thread (telemetry/worker-bridge.ts).
 */
import type { PerformanceMonitorAgent } from './agent/agent.js';
import { isMainThread } from './lib/builtins.js';
import type { ApplicationRecorder } from './telemetry/application-recorder.js';
import { WorkerApplicationMetrics } from './telemetry/worker-bridge.js';

const SLOT = Symbol.for('perf-monitor-agent.preloaded');
const WORKER_SLOT = Symbol.for('perf-monitor-agent.worker-metrics');
const WORKER_HOOKS_SLOT = Symbol.for('perf-monitor-agent.worker-hooks');

type Slot = {
  [SLOT]?: PerformanceMonitorAgent;
  [WORKER_SLOT]?: WorkerApplicationMetrics;
  [WORKER_HOOKS_SLOT]?: true;
};

export function setPreloadedAgent(agent: PerformanceMonitorAgent): void {
  (globalThis as Slot)[SLOT] = agent;
}

/** The agent started with `--require perf-monitor-agent/register`, if any. */
export function getPreloadedAgent(): PerformanceMonitorAgent | undefined {
  return (globalThis as Slot)[SLOT];
}

/**
 * The application metrics API. In the main thread: the preloaded agent's, or undefined when the process
 * was not started with the preload. In a worker thread: an object that sends every measurement to the
 * agent running in the main thread (the preload, or any agent started there).
 */
export function getApplicationMetrics(): ApplicationRecorder | undefined {
  if (!isMainThread()) return workerApplicationMetrics();
  return getPreloadedAgent()?.getApplicationCollector();
}

/** The worker thread's forwarding API object (one per thread). */
export function workerApplicationMetrics(): WorkerApplicationMetrics {
  const slot = globalThis as Slot;
  slot[WORKER_SLOT] ??= new WorkerApplicationMetrics();
  return slot[WORKER_SLOT];
}

/**
 * True the first time it is called in a thread, false afterwards: a worker thread's HTTP hooks are installed
 * once even when two copies of the package preload it (NODE_OPTIONS=--require one, --import the other), which
 * would otherwise record every request of the thread twice. The main thread's guard is getPreloadedAgent().
 */
export function claimWorkerHooks(): boolean {
  const slot = globalThis as Slot;
  if (slot[WORKER_HOOKS_SLOT] === true) return false;
  slot[WORKER_HOOKS_SLOT] = true;
  return true;
}
