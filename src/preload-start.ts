/**
 * The preload itself, started when this module is loaded: by register.ts (`--import
 * perf-monitor-agent/register`) and by register.cjs at the package root (`--require
 * perf-monitor-agent/register`), each after its Node.js version check. Both load it with require(), so it
 * starts synchronously, before the application's own code: neither it nor anything it imports may use
 * top-level await (require() of an ES module refuses a module graph that does).
 *
 * It starts the agent inside the application. Configuration from PERF_MONITOR_CONFIG (else the packaged
 * default, whose port follows PERF_MONITOR_PORT). It records the application's HTTP server requests and
 * Node.js runtime, never throws into the application, installs no signal handler (that would stop the
 * application from exiting on SIGTERM), does not keep the process alive, and stops — with a final OTLP push
 * — when the application's event loop empties (`beforeExit`).
 *
 * In a worker thread (workers inherit the preload flags) no agent starts: the thread's measurements, its
 * HTTP server requests and its outgoing HTTP requests go to the agent of the main thread. In a cluster worker the agent listens on
 * PERF_MONITOR_PORT + the worker's id (the primary on PERF_MONITOR_PORT), so every process has its own
 * endpoint and none fails with EADDRINUSE, and pushes OTLP under a service.instance.id of its own; a port
 * that is taken anyway leaves that process without an agent and one line on stderr, never a crash.
 */
import cluster from 'node:cluster';
import { PerformanceMonitorAgent } from './agent/agent.js';
import { provideInAppProbes } from './agent/in-app.js';
import { isMainThread } from './lib/builtins.js';
import { SystemClock } from './lib/clock.js';
import { errorMessage } from './lib/errors.js';
import { guarded } from './lib/guard.js';
import {
  claimWorkerHooks,
  getPreloadedAgent,
  setPreloadedAgent,
  workerApplicationMetrics,
} from './preloaded.js';
import { HttpClientMetrics } from './probes/runtime/http-client.js';
import { HttpRequestMetrics } from './probes/runtime/http-requests.js';
import { Neo4jDriverMetrics } from './probes/runtime/neo4j-driver.js';
import { CLUSTER_WORKER_ENV } from './telemetry/identity.js';

const DEFAULT_PORT = 9091;

function report(what: string, err: unknown): void {
  try {
    process.stderr.write(`perf-monitor-agent: ${what}: ${errorMessage(err)}\n`);
  } catch {
    // A closed stderr or an error that cannot be printed: nothing more to say, and nothing to throw.
  }
}

/**
 * The environment the agent's config is expanded with: in a cluster worker, a port of its own and the
 * worker's id (an OTLP service.instance.id of its own, telemetry/identity.ts).
 */
function agentEnv(): NodeJS.ProcessEnv {
  const id = cluster.isWorker ? (cluster.worker?.id ?? 0) : 0;
  if (id === 0) return process.env;
  const base = Number(process.env.PERF_MONITOR_PORT ?? DEFAULT_PORT);
  const port = Number.isInteger(base) && base > 0 ? base + id : 0;
  return { ...process.env, PERF_MONITOR_PORT: String(port), [CLUSTER_WORKER_ENV]: String(id) };
}

function startInWorkerThread(): void {
  if (!claimWorkerHooks()) return; // two copies of the package preloaded: the first one's hooks record
  const recorder = workerApplicationMetrics();
  const clock = new SystemClock();
  const requests = new HttpRequestMetrics({ recorder, clock });
  requests.start().catch((err: unknown) => report('HTTP request metrics not started', err));
  const client = new HttpClientMetrics({ recorder, clock });
  client.start().catch((err: unknown) => report('outgoing HTTP metrics not started', err));
}

function startPreload(): void {
  if (getPreloadedAgent() !== undefined) return; // --require and --import both given
  // Imported here, statically, so that the agent hooks them before the application's code runs.
  provideInAppProbes({ HttpRequestMetrics, HttpClientMetrics, Neo4jDriverMetrics });
  const agent = new PerformanceMonitorAgent({
    configPath: process.env.PERF_MONITOR_CONFIG,
    env: agentEnv(),
    embedded: true,
  });
  setPreloadedAgent(agent);
  agent.start().catch((err: unknown) => report('not started', err));
  process.once(
    'beforeExit',
    guarded(
      () => agent.logger,
      'preload stop',
      () => agent.stop().catch((err: unknown) => report('stop incomplete', err)),
    ),
  );
}

try {
  if (isMainThread()) startPreload();
  else startInWorkerThread();
} catch (err) {
  report('not started', err);
}
