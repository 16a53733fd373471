/**
 * `perf-monitor-agent/trends`: the history store, trend statistics, anomaly detection and forecasts for
 * programs that use them directly. Apart from the main entry point so that importing the package does not load
 * them (SQLite among them).
 */
export type { AnomalyState, DetectedAnomaly, ForecastState } from './trends/trend-service.js';
export type { TrendStatistics } from './trends/stats.js';
export { TrendService } from './trends/trend-service.js';
export { SqliteHistoryStore } from './trends/history-store.js';
export type { HistoryReader, HistoryStore, Resolution, SeriesWindow } from './trends/history/types.js';
export { PrometheusHistory } from './trends/prometheus-history.js';
export { computeStatistics } from './trends/stats.js';
export { SeriesDetector } from './trends/anomaly.js';
export type { AnomalyAlgorithm, AnomalyResult, DetectorSettings } from './trends/anomaly.js';
export { linearFit, secondsToThreshold } from './trends/forecast.js';
