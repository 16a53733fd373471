/**
 * perf-monitor-agent's public API. Everything a program may use is named here; nothing else is public.
 */
export { PerformanceMonitorAgent, createAgent } from './agent/agent.js';
export type { AgentOptions, MetricsSummary, MetricValue } from './agent/agent.js';
export { getApplicationMetrics, getPreloadedAgent } from './preloaded.js';
export { ApplicationMetrics } from './telemetry/application-metrics.js';
export type { ApplicationRecorder } from './telemetry/application-recorder.js';
export { OVERFLOW_LABEL_VALUE } from './telemetry/series-table.js';
export { normalizeEndpoint } from './probes/runtime/http-requests.js';
export { loadConfigIsolated as loadConfigFile } from './agent/load-isolated.js';
export { defaultConfigPath } from './config/default-path.js';
export type { Env, LoadedConfig } from './config/load.js';
export type { AgentConfig, AlertRuleConfig, ApplicationMetricConfig, Duration } from './config/schema.js';
export { CATALOG, catalogEntry, catalogGroup } from './catalog/catalog.js';
export type { CatalogEntry, MetricGroup } from './catalog/catalog.js';
export { AgentError, ConfigError, ERROR_CODES, TimeoutError, formatConfigIssue } from './lib/errors.js';
export type { ConfigIssue, ErrorCode } from './lib/errors.js';
export { ManualClock, SystemClock } from './lib/clock.js';
export type { Clock, TimerHandle } from './lib/clock.js';
export type { LogFields, LogLevel, Logger } from './lib/logger.js';
export type { CollectionBatch, CollectionSubscriber } from './analysis/collection-reader.js';
export type { HistogramValue, Labels, MetricKind, MetricPoint, Sample } from './model/metric.js';
export type { Alert, AlertSink, AlertState, EvaluationResult } from './alerts/types.js';
export type { AlertView, RuleStatus } from './alerts/engine.js';
export type { ProbeStatus } from './probes/probe-runner.js';
export type { FsStats, HostPaths, Probe, ProbeContext, Snapshot, StatFs } from './probes/probe.js';
export type { AnomalyState, DetectedAnomaly, ForecastState } from './trends/trend-service.js';
export type { TrendStatistics } from './trends/stats.js';
