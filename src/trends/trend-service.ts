/**
 * Trend analysis as one long-lived part: it receives every collection, appends it to the history store,
 * scores the monitored series for anomalies and updates the forecasts, reports anomaly_score,
 * anomaly_flag and forecast_seconds_to_threshold as metric points (exported with the next collection),
 * and answers window statistics from the store or from Prometheus. The agent wires it; the HTTP server
 * only sees the routes it hands over.
 */
import type { CollectionBatch } from '../analysis/collection-reader.js';
import { CATALOG } from '../catalog/catalog.js';
import { sampleKey, seriesKey } from '../model/labels.js';
import type { Sample, MetricPoint } from '../model/metric.js';
import type { TrendAnalysisConfig } from '../config/schema.js';
import type { Route } from '../model/route.js';
import type { Clock } from '../lib/clock.js';
import { parseDurationMs } from '../lib/duration.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { SeriesDetector } from './anomaly.js';
import type { AnomalyResult, DetectorSettings } from './anomaly.js';
import { SeriesForecasts } from './series-forecasts.js';
import type { ForecastState } from './series-forecasts.js';
import { SqliteHistoryStore } from './history-store.js';
import { historyUnavailable } from './history/schema.js';
import { counterRate } from './history/rollup.js';
import type { HistoryReader, Resolution, SeriesWindow } from './history/types.js';
import { PrometheusHistory } from './prometheus-history.js';
import { trendRoutes } from './http-api.js';
import { checkMetricName } from './metric-query.js';
import { chartWindows, rates } from './chart-query.js';
import type { ChartWindow } from './chart-query.js';
import { computeStatistics } from './stats.js';
import type { TrendStatistics } from './stats.js';
import { detectInWindow } from './detect-window.js';
import type { DetectedAnomaly } from './detect-window.js';

export type { DetectedAnomaly };

export interface TrendServiceOptions {
  config: TrendAnalysisConfig;
  /** performance_monitor.collection_interval in ms (warm-up length, API defaults). */
  intervalMs: number;
  /** performance_monitor.prometheus.metric_prefix, for the Prometheus backend. */
  metricPrefix: string;
  clock: Clock;
  logger: Logger;
  /** Tests inject a fetch for the Prometheus backend. */
  fetch?: typeof fetch;
  /**
   * The metric names a query may ask for (the configuration's knownMetricNames); a query for any other
   * name is refused with E_USAGE. Default: the catalog's metrics.
   */
  knownMetrics?: ReadonlySet<string>;
  /**
   * The history file, resolved (the agent puts it in its state directory, agent/paths.ts). Default:
   * `storage.path`, else data/metrics_history.db under the working directory.
   */
  historyPath?: string;
}

/** The online state of one monitored series. */
export interface AnomalyState {
  metric: string;
  labels: Readonly<Record<string, string>>;
  /**
   * The value scored: the sample for gauges, the per-second rate for counters, the mean of the observations
   * since the previous collection for histograms (e.g. mean request latency).
   */
  value: number;
  timestampMs: number;
  score: number;
  flag: boolean;
  expected?: [number, number];
  baselineSize: number;
}

interface Monitored {
  detector: SeriesDetector;
  lastT: number;
  /** The last value; for histograms the observation count. */
  lastV: number;
  /** Histograms: the last sum of observations. */
  lastSum: number;
  state: AnomalyState | undefined;
  /** The exported points' labels (the series' labels and `metric`), built once. */
  pointLabels?: Readonly<Record<string, string>>;
}

/** The reader of a service whose history could not open: every window is empty. */
const NO_HISTORY: HistoryReader = { query: () => Promise.resolve([]) };

export { rates };
export type { ForecastState };

/** Flagged values kept for the status page's markers. */
const MAX_FLAGGED = 512;

/** A monitored or forecast series not collected for this long (a removed mount, interface) is forgotten. */
const GONE_MS = 3_600_000;
/** Time per collection for the history's maintenance (a whole pass would hold the loop ≈ 0.5 s). */
const MAINTENANCE_SLICE_MS = 20;

/** Parses a window such as `1h`, `24h`, `7d` or `90m`; undefined when it is not one. */
export function parseWindowMs(text: string): number | undefined {
  const ms = parseDurationMs(text);
  return ms === undefined || ms <= 0 ? undefined : ms;
}

export class TrendService {
  private readonly _opts: TrendServiceOptions;
  private readonly _settings: DetectorSettings;
  private readonly _monitoredMetrics: ReadonlySet<string>;
  private readonly _knownMetrics: ReadonlySet<string>;
  private _store: SqliteHistoryStore | undefined;
  private _reader: HistoryReader;
  private readonly _monitored = new Map<string, Monitored>();
  private readonly _forecasts = new SeriesForecasts();
  private _lastMaintenanceMs: number | undefined;
  private _maintaining = false; // a maintenance pass is under way, one slice per collection
  private _lastForgetMs: number | undefined;
  /** The last flagged values (for the markers on the status page's charts), oldest overwritten first. */
  private readonly _flagged: DetectedAnomaly[] = [];
  private _flaggedNext = 0;
  private _appendFailures = 0;
  private _started = false;

  constructor(opts: TrendServiceOptions) {
    this._opts = opts;
    const c = opts.config;
    const ad = c.anomaly_detection;
    this._settings = {
      algorithm: ad.algorithm,
      sensitivity: ad.sensitivity,
      minSamples: ad.min_samples,
      windowSamples: ad.window_samples,
      seasonality: ad.seasonality,
    };
    this._monitoredMetrics = new Set(ad.enabled ? ad.metrics : []);
    this._knownMetrics = opts.knownMetrics ?? new Set(CATALOG.flatMap((e) => [e.name, e.exportedName]));
    if (c.storage.backend === 'prometheus') {
      this._reader = new PrometheusHistory({
        url: c.storage.url!,
        prefix: opts.metricPrefix,
        timeoutMs: c.storage.query_timeout.ms,
        fetch: opts.fetch,
      });
    } else {
      this._store = new SqliteHistoryStore({
        path: opts.historyPath ?? c.storage.path ?? 'data/metrics_history.db',
        rawRetentionMs: c.storage.raw_retention.ms,
        rollup1mRetentionMs: c.storage.rollup_1m_retention.ms,
        retentionMs: c.storage.retention_days * 86_400_000,
        nowMs: () => opts.clock.nowMs(),
        flushIntervalMs: c.storage.flush_interval.ms,
        monotonicMs: () => opts.clock.monotonicMs(),
      });
      this._reader = this._store;
    }
  }

  /** The local store, when the backend is the embedded one. */
  get store(): SqliteHistoryStore | undefined {
    return this._store;
  }

  get reader(): HistoryReader {
    return this._reader;
  }

  get detectorSettings(): Readonly<DetectorSettings> {
    return this._settings;
  }

  /**
   * Opens the store (E_HISTORY_STORE for a foreign or corrupt file) and warms the detectors and forecasts
   * from the stored history, so a restart does not start them from nothing.
   */
  async start(): Promise<void> {
    if (this._started) return;
    this._openStore();
    this._started = true;
    await this._warmUp().catch((err: unknown) =>
      this._opts.logger.warn('trend warm-up from history failed', { error: errorMessage(err) }),
    );
  }

  /**
   * Opens the local store. A directory that cannot take it (read-only, full, no permission) leaves the
   * service without history, said in one log line; collection, anomaly scores and forecasts go on. A foreign
   * or corrupt file still fails the start (E_HISTORY_STORE): it may be someone's data.
   */
  private _openStore(): void {
    const store = this._store;
    if (store === undefined) return;
    try {
      store.open();
    } catch (err) {
      if (!historyUnavailable(err)) throw err;
      this._opts.logger.warn('no trend history: its file cannot be created or written; collection goes on', {
        path: store.path,
        error: errorMessage(err),
      });
      this._store = undefined;
      this._reader = NO_HISTORY;
    }
  }

  shutdown(): Promise<void> {
    if (this._store !== undefined) {
      try {
        // The collections since the last flush interval (a clean stop loses none).
        this._store.flush();
      } catch (err) {
        this._opts.logger.warn('cannot write the last collections to the trend history', {
          path: this._store.path,
          error: errorMessage(err),
        });
      }
      try {
        this._store.checkpoint();
      } catch (err) {
        // Nothing is lost: the write-ahead log stays in place and the next open replays it.
        this._opts.logger.warn(
          'cannot checkpoint the trend history; its write-ahead log is replayed at the next start',
          {
            path: this._store.path,
            error: errorMessage(err),
          },
        );
      }
      this._store.close();
    }
    this._started = false;
    return Promise.resolve();
  }

  private async _warmUp(): Promise<void> {
    const now = this._opts.clock.nowMs();
    const span = this._settings.windowSamples * this._opts.intervalMs + this._opts.intervalMs;
    for (const metric of this._monitoredMetrics) {
      const windows = await this._reader.query(metric, {}, now - span, now, { resolution: 'raw' });
      // Histogram windows carry no per-sample sums; their detectors start with the live collections.
      for (const w of windows.filter((x) => x.kind !== 'histogram')) {
        const key = seriesKey(w.metric, w.labels);
        for (let i = 0; i < w.t.length; i++) this._score(key, w.metric, w.labels, w.kind, w.t[i]!, w.v[i]!);
      }
    }
    for (const spec of this._opts.config.forecasts) {
      const windows = await this._reader.query(spec.metric, {}, now - spec.window.ms, now, {
        resolution: 'raw',
      });
      for (const w of windows.filter((x) => x.kind !== 'histogram')) {
        const key = seriesKey(w.metric, w.labels);
        for (let i = 0; i < w.t.length; i++)
          this._forecasts.add(spec, key, w.metric, w.labels, w.t[i]!, w.v[i]!);
      }
    }
  }

  /** Handles one collection: append to history, score, forecast, maintain on schedule. */
  onCollection(batch: CollectionBatch): void {
    if (!this._started) return;
    if (batch.clockStepMs !== undefined && batch.clockStepMs !== 0) this.shiftTime(batch.clockStepMs);
    this.ingest(batch.samples, batch.timestampMs);
  }

  /**
   * The wall clock was stepped by `deltaMs`: the last sample of each scored series and the forecast windows
   * move with it, so that rates and slopes use the time that passed. The history store keeps its times: after
   * a step back it takes samples again once the wall clock passes the last one it holds.
   */
  shiftTime(deltaMs: number): void {
    for (const m of this._monitored.values()) m.lastT += deltaMs;
    this._forecasts.shift(deltaMs);
    if (this._lastMaintenanceMs !== undefined) this._lastMaintenanceMs += deltaMs;
    if (this._lastForgetMs !== undefined) this._lastForgetMs += deltaMs;
  }

  /** The body of onCollection, for callers that hold samples rather than a batch. */
  ingest(samples: readonly Sample[], timestampMs: number): void {
    if (this._store !== undefined) {
      try {
        this._store.append(samples);
      } catch (err) {
        if (this._appendFailures++ === 0)
          this._opts.logger.error('cannot append to the trend history', {
            path: this._store.path,
            error: errorMessage(err),
          });
      }
    }
    const forecasts = this._opts.config.forecasts;
    // Indexed loops: a for-of step allocates an iterator result under --lite-mode (samples × forecasts a cycle).
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      if (s.kind === 'histogram') {
        if (this._monitoredMetrics.has(s.metric) && s.histogram !== undefined)
          this._score(sampleKey(s), s.metric, s.labels, s.kind, s.timestampMs, s.value, s.histogram.sum);
        continue;
      }
      if (this._monitoredMetrics.has(s.metric))
        this._score(sampleKey(s), s.metric, s.labels, s.kind, s.timestampMs, s.value);
      for (let j = 0; j < forecasts.length; j++) {
        const spec = forecasts[j]!;
        if (spec.metric === s.metric)
          this._forecasts.add(spec, sampleKey(s), s.metric, s.labels, s.timestampMs, s.value);
      }
    }
    this._forgetGone(timestampMs);
    this._maybeMaintain(timestampMs);
  }

  /** Forgets the monitored and forecast series not collected for GONE_MS (or a baseline's span). */
  private _forgetGone(nowMs: number): void {
    if (this._lastForgetMs !== undefined && nowMs - this._lastForgetMs < 60_000) return;
    this._lastForgetMs = nowMs;
    const before = nowMs - Math.max(GONE_MS, this._settings.windowSamples * this._opts.intervalMs);
    for (const [key, m] of this._monitored) if (m.lastT < before) this._monitored.delete(key);
    this._forecasts.forget(before);
  }

  private _maybeMaintain(nowMs: number): void {
    const store = this._store;
    if (store === undefined) return;
    const every = this._opts.config.storage.maintenance_interval.ms;
    if (!this._maintaining) {
      if (this._lastMaintenanceMs !== undefined && nowMs - this._lastMaintenanceMs < every) return;
      this._lastMaintenanceMs = nowMs;
    }
    const clock = this._opts.clock;
    try {
      this._maintaining = store.maintainSlice(MAINTENANCE_SLICE_MS, () => clock.monotonicMs()) === undefined;
    } catch (err) {
      this._maintaining = false;
      this._opts.logger.warn('trend history maintenance failed', { error: errorMessage(err) });
    }
  }

  /** `key`: the series' seriesKey. */
  private _score(
    key: string,
    metric: string,
    labels: Readonly<Record<string, string>>,
    kind: string,
    t: number,
    v: number,
    sum = NaN,
  ): void {
    let m = this._monitored.get(key);
    if (m === undefined) {
      m = {
        detector: new SeriesDetector(this._settings),
        lastT: NaN,
        lastV: NaN,
        lastSum: NaN,
        state: undefined,
      };
      this._monitored.set(key, m);
    }
    if (!(t > m.lastT) && !Number.isNaN(m.lastT)) return;
    let x = v;
    if (kind === 'histogram') {
      // The mean of the observations made since the previous collection (latency per request).
      const prevCount = m.lastV;
      const prevSum = m.lastSum;
      m.lastT = t;
      m.lastV = v;
      m.lastSum = sum;
      if (Number.isNaN(prevCount)) return;
      const reset = v < prevCount;
      const count = reset ? v : v - prevCount;
      if (count <= 0) return;
      x = (reset ? sum : sum - prevSum) / count;
    } else if (kind === 'counter') {
      const prevT = m.lastT;
      const prevV = m.lastV;
      m.lastT = t;
      m.lastV = v;
      if (Number.isNaN(prevT)) return;
      x = counterRate(prevT, prevV, t, v);
    } else {
      m.lastT = t;
      m.lastV = v;
    }
    const r: AnomalyResult = m.detector.update(t, x);
    m.state = {
      metric,
      labels,
      value: x,
      timestampMs: t,
      score: r.score,
      flag: r.flag,
      expected: r.expected,
      baselineSize: m.detector.size,
    };
    if (r.flag && r.expected !== undefined) {
      const event = { metric, labels, timestampMs: t, value: x, score: r.score, expected: r.expected };
      if (this._flagged.length < MAX_FLAGGED) this._flagged.push(event);
      else this._flagged[this._flaggedNext] = event;
      this._flaggedNext = (this._flaggedNext + 1) % MAX_FLAGGED;
    }
  }

  /** The last MAX_FLAGGED values the online detectors flagged, oldest first. */
  recentAnomalies(): DetectedAnomaly[] {
    const f = this._flagged;
    return f.length < MAX_FLAGGED
      ? [...f]
      : [...f.slice(this._flaggedNext), ...f.slice(0, this._flaggedNext)];
  }

  /** Online anomaly state of every monitored series (optionally one metric). */
  anomalies(metric?: string): AnomalyState[] {
    const out: AnomalyState[] = [];
    for (const m of this._monitored.values())
      if (m.state !== undefined && (metric === undefined || m.state.metric === metric)) out.push(m.state);
    return out;
  }

  forecasts(): ForecastState[] {
    return this._forecasts.states();
  }

  /**
   * anomaly_score, anomaly_flag and forecast_seconds_to_threshold, labelled metric + the series' labels (an
   * object built once per series, not per collection).
   */
  points(): MetricPoint[] {
    // An array, not a generator: the collection walks it with an indexed loop (no iterator results).
    const out: MetricPoint[] = [];
    this._monitored.forEach((m) => {
      const s = m.state;
      if (s === undefined) return;
      const labels = (m.pointLabels ??= { ...s.labels, metric: s.metric });
      if (!Number.isNaN(s.score)) out.push({ metric: 'anomaly_score', labels, value: s.score });
      out.push({ metric: 'anomaly_flag', labels, value: s.flag ? 1 : 0 });
    });
    this._forecasts.points(out);
    return out;
  }

  /** Window statistics of every series of `metric` matching `labels`. */
  async getTrendStatistics(
    metric: string,
    window: string | number,
    labels: Readonly<Record<string, string>> = {},
    opts: { resolution?: Resolution; toMs?: number } = {},
  ): Promise<TrendStatistics[]> {
    const windowMs = typeof window === 'number' ? window : parseWindowMs(window);
    if (windowMs === undefined)
      throw new AgentError(
        'E_USAGE',
        `bad window ${JSON.stringify(window)}: use a duration such as 1h, 24h or 7d`,
      );
    checkMetricName(metric, this._knownMetrics);
    const toMs = opts.toMs ?? this._opts.clock.nowMs();
    const fromMs = toMs - windowMs;
    const windows = await this._reader.query(metric, labels, fromMs, toMs, { resolution: opts.resolution });
    return windows.map((w) => computeStatistics(w, fromMs, toMs));
  }

  /** Series of `metric` over the window, as stored (for sparklines and the CLI). */
  history(
    metric: string,
    windowMs: number,
    labels: Readonly<Record<string, string>> = {},
  ): Promise<SeriesWindow[]> {
    const toMs = this._opts.clock.nowMs();
    return this._reader.query(metric, labels, toMs - windowMs, toMs);
  }

  /**
   * Runs the configured detector over the stored history of `metric` (default: the last window_samples
   * intervals plus min_samples of warm-up) and returns the points it flags, oldest first.
   */
  async detectAnomalies(
    metric: string,
    opts: { window?: string | number; labels?: Readonly<Record<string, string>> } = {},
  ): Promise<DetectedAnomaly[]> {
    const windowMs =
      opts.window === undefined
        ? (this._settings.windowSamples + this._settings.minSamples) * this._opts.intervalMs
        : typeof opts.window === 'number'
          ? opts.window
          : parseWindowMs(opts.window);
    if (windowMs === undefined)
      throw new AgentError(
        'E_USAGE',
        `bad window ${JSON.stringify(opts.window)}: use a duration such as 1h or 24h`,
      );
    checkMetricName(metric, this._knownMetrics);
    const toMs = this._opts.clock.nowMs();
    const windows = await this._reader.query(metric, opts.labels ?? {}, toMs - windowMs, toMs, {
      resolution: 'raw',
    });
    const out: DetectedAnomaly[] = [];
    for (const w of windows) out.push(...detectInWindow(w, this._settings));
    return out.sort((a, b) => a.timestampMs - b.timestampMs);
  }

  /** GET /api/v1/trends and GET /api/v1/anomalies. */
  routes(): Route[] {
    return trendRoutes(this);
  }

  get sparklineMetrics(): readonly string[] {
    return this._opts.config.sparkline_metrics;
  }

  get anomalyDetectionEnabled(): boolean {
    return this._opts.config.anomaly_detection.enabled;
  }

  /**
   * Chart data of each metric over [fromMs, toMs] at `resolution`: counters (and histograms' observation
   * counts) as per-second rates, at most `maxSeries` series per metric and `maxPoints` points per series.
   */
  charts(
    metrics: readonly string[],
    window: { fromMs: number; toMs: number; resolution: Resolution },
    limits: { maxPoints: number; maxSeries: number },
  ): Promise<ChartWindow[]> {
    return chartWindows(this._reader, metrics, window, limits);
  }

  /** Raw history of each metric over [fromMs, toMs], counters turned into per-second rates. */
  async sparklines(metrics: readonly string[], fromMs: number, toMs: number): Promise<SeriesWindow[]> {
    const out: SeriesWindow[] = [];
    for (const metric of metrics) {
      for (const w of await this._reader.query(metric, {}, fromMs, toMs, { resolution: 'raw' })) {
        if (w.kind === 'histogram') continue;
        out.push(w.kind === 'counter' ? { ...w, ...rates(w.t, w.v) } : w);
      }
    }
    return out;
  }
}
