/**
 * perf-monitor-agent's public API. Everything a program may use is named here; nothing else is public.
 */
export { PerformanceMonitorAgent, createAgent } from './agent.js';
export type { AgentOptions, MetricsSummary, MetricValue } from './agent.js';
export { getApplicationMetrics, getPreloadedAgent } from './preloaded.js';
export { ApplicationMetrics } from './telemetry/application-metrics.js';
export type { ApplicationRecorder } from './telemetry/application-recorder.js';
export { OVERFLOW_LABEL_VALUE } from './telemetry/series-store.js';
export { normalizeEndpoint } from './probes/runtime/http-requests.js';
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
export { AlertDispatcher } from './alerts/dispatcher.js';
export type { AlertDispatcherOptions, ChannelStats, DispatchChannel } from './alerts/dispatcher.js';
export { createAlertDispatcher } from './alerts/create-dispatcher.js';
export { NotifyError } from './alerts/notifiers/notify-error.js';
export { SIGNATURE_HEADER, verifySignature } from './alerts/notifiers/webhook.js';
export { TrendService } from './trends/trend-service.js';
export type { AnomalyState, DetectedAnomaly, ForecastState } from './trends/trend-service.js';
export { SqliteHistoryStore } from './trends/history-store.js';
export type { HistoryReader, HistoryStore, Resolution, SeriesWindow } from './trends/history-store.js';
export { PrometheusHistory } from './trends/prometheus-history.js';
export { computeStatistics } from './trends/stats.js';
export type { TrendStatistics } from './trends/stats.js';
export { SeriesDetector } from './trends/anomaly.js';
export type { AnomalyAlgorithm, AnomalyResult, DetectorSettings } from './trends/anomaly.js';
export { linearFit, secondsToThreshold } from './trends/forecast.js';
