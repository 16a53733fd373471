/**
 * perf-monitor-agent's public API. Everything a program may use is named here; nothing else is public.
 */
export { PerformanceMonitorAgent, createAgent } from './agent.js';
export type { AgentOptions, MetricsSummary, MetricValue } from './agent.js';
export { getApplicationMetrics, getPreloadedAgent } from './preloaded.js';
export { ApplicationMetrics } from './telemetry/application-metrics.js';
export { loadConfigIsolated as loadConfigFile } from './config/load-isolated.js';
export { defaultConfigPath } from './config/default-path.js';
export type { Env, LoadedConfig } from './config/load.js';
export type { AgentConfig, AlertRuleConfig, ApplicationMetricConfig, Duration } from './config/schema.js';
export { CATALOG, catalogEntry, catalogGroup } from './catalog/catalog.js';
export type { CatalogEntry, MetricGroup, MetricKind } from './catalog/catalog.js';
export { AgentError, ConfigError, ERROR_CODES, TimeoutError, formatConfigIssue } from './lib/errors.js';
export type { ConfigIssue, ErrorCode } from './lib/errors.js';
export { ManualClock, SystemClock } from './lib/clock.js';
export type { Clock, TimerHandle } from './lib/clock.js';
export type { LogFields, LogLevel, Logger } from './lib/logger.js';
export type { CollectionBatch, CollectionSubscriber } from './analysis/collection-reader.js';
export type { HistogramValue, Sample, SampleKind } from './analysis/samples.js';
export type { Alert, AlertSink, AlertState, EvaluationResult } from './alerts/types.js';
export type { AlertView, RuleStatus } from './alerts/engine.js';
export type { ProbeStatus } from './probes/probe-runner.js';
export type {
  FsStats,
  HostPaths,
  MetricPoint,
  Probe,
  ProbeContext,
  Snapshot,
  StatFs,
} from './probes/probe.js';
