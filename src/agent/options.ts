/**
 * What a program passes to the agent, and what it gets back from getMetricsSummary().
 */
import type { Env, LoadedConfig } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Alert } from '../alerts/types.js';
import type { ProbeStatus } from '../probes/probe-runner.js';
import type { StatFs } from '../probes/probe.js';

export interface AgentOptions {
  /**
   * Configuration file; when neither this nor `config` is given, the packaged default: the daemon's
   * (config/performance_monitor_config.yaml), or with `embedded` the preload's (config/preload_config.yaml).
   */
  configPath?: string;
  /** An already validated configuration (see `loadConfigFile`); `reload()` then needs `configPath`. */
  config?: AgentConfig;
  /** Environment for OTEL_* variables; defaults to process.env. */
  env?: Env;
  /** Loads and validates a file; defaults to a worker-thread load (see loadConfigIsolated). */
  loadConfig?: (file: string, env: Env) => Promise<LoadedConfig>;
  clock?: Clock;
  /** Where logs go; by default built from the config's `logging` section, writing to stderr. */
  logger?: Logger;
  /** Filesystem statistics for disk usage; tests inject a fake. */
  statfs?: StatFs;
  /** Host name for the `agent_instance` label; defaults to os.hostname(). */
  hostname?: string;
  /** Time allowed for each shutdown step. */
  shutdownTimeoutMs?: number;
  /**
   * Running inside an application (the preload): the HTTP endpoint does not keep the process alive,
   * so the application exits when its own work is done.
   */
  embedded?: boolean;
  /**
   * Record every HTTP server request of the process into the API request metrics (diagnostics_channel).
   * Defaults to `embedded`.
   */
  instrumentHttp?: boolean;
  /**
   * Record every outgoing HTTP request of the process (fetch/undici and http.request, through
   * diagnostics_channel; the agent's own requests excepted) into http_client_request_duration and
   * http_client_request_errors. Defaults to `embedded`.
   */
  instrumentHttpClient?: boolean;
  /**
   * Record the latency of the application's neo4j-driver queries (`neo4j_query_duration`). Defaults to
   * `embedded`.
   */
  instrumentNeo4jDriver?: boolean;
  /** Measure the Node.js runtime (the `runtime` metric group); default true. Tests on fixtures turn it off. */
  runtimeMetrics?: boolean;
  /**
   * Where the OpenTelemetry SDK's own warnings and errors go (its global diag logger), one line each, prefixed
   * `opentelemetry: `; set when an OTLP push loads the SDK. For a process the agent owns (the daemon): without
   * it, as in the preload, the application's diag logger is left as it is.
   */
  otelDiagnostics?: (line: string) => void;
  /** Active alerts for the status page at `/` (the rule engine's); none shown when absent. */
  activeAlerts?: () => readonly Alert[];
}

export interface MetricValue {
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricsSummary {
  /** Time of the latest collection, or undefined before the first. */
  collectedAtMs: number | undefined;
  collectionIntervalMs: number;
  /** Latest value of every series, by config name (histograms give their observation count). */
  metrics: Record<string, MetricValue[]>;
  probes: ProbeStatus[];
  otlp?: { endpoint: string; exports: number; failures: number; lastError?: string };
  scrapes: number;
  /** Where the HTTP endpoint listens, when it does. */
  url?: string;
}
