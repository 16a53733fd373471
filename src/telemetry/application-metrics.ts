/**
 * The application metrics API: what an application records about its own work (agent executions, API
 * requests, queues, entity processing, caches), with the seed's method names in camelCase, plus custom
 * metrics declared in the config. Buckets and labels come from the config; a disabled metric costs one
 * property read. Measurements go into series tables (series-table.ts) that a MetricProducer hands to the
 * agent's CollectionReader at each collection — the same names, buckets and pipeline as OTel instruments,
 * at a tenth of their recording cost (docs/design.md; docs/benchmarks.md).
 *
 * Bad input never throws: a negative or non-finite value, a missing label value or a wrong number of
 * label values, an over-long label value is dropped and counted by metric and
 * reason, with one warning per minute at most. Until bound to a config, it records nothing.
 */
import { catalogEntry, catalogGroup, instrumentName } from '../catalog/catalog.js';
import type { AgentConfig } from '../config/schema.js';
import { SystemClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import type { MetricKind, MetricPoint } from '../model/metric.js';
import { silentLogger } from '../lib/logger.js';
import type { Logger } from '../lib/logger.js';
import { ApplicationRecorderBase } from './application-recorder.js';
import type { HttpClientRecorder, Status } from './application-recorder.js';
import { SeriesTable, exponentialHistogramsOn } from './series-table.js';
import { CALL_STRIDE, replayBatch } from './worker-bridge.js';
import type { Series } from './series-table.js';

/** Default number of distinct label sets per metric before the overflow series takes over. */
const DEFAULT_CARDINALITY_LIMIT = 2000;
/** Longest label value accepted, in UTF-16 code units. */
const MAX_LABEL_LENGTH = 256;
/** Calls kept before the first bind at most. */
const MAX_PENDING_CALLS = 10_000;
/** Minimum time between two warnings about dropped measurements. */
export const DROP_WARNING_INTERVAL_MS = 60_000;

export type DropReason = 'invalid_value' | 'wrong_label_count' | 'label_too_long';

/** A metric bound to its table: `pick[i]` is the index, among the method's labels, of configured label i. */
interface Bound {
  readonly name: string;
  readonly table: SeriesTable;
  readonly pick: readonly number[];
  /** The configured labels are the method's, in its order. */
  readonly identity: boolean;
}

type LabelValue = string | undefined;

/** A label value as text: strings as they are, numbers and booleans printed, anything else missing. */
function text(v: unknown): LabelValue {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function at(i: number, v0: string, v1: string, v2: string): string {
  return i === 0 ? v0 : i === 1 ? v1 : i === 2 ? v2 : '';
}

/** Status codes as text, made once each. */
const STATUS_TEXT: string[] = [];

function statusText(s: unknown): LabelValue {
  if (typeof s === 'string') return s;
  if (typeof s === 'number' && Number.isInteger(s) && s >= 0 && s < 1000)
    return (STATUS_TEXT[s] ??= String(s));
  return text(s);
}

export interface ApplicationBindOptions {
  clock?: Clock;
  logger?: Logger;
}

export class ApplicationMetrics extends ApplicationRecorderBase implements HttpClientRecorder {
  protected _timeClock: Clock = new SystemClock();
  private _logger: Logger = silentLogger;
  private _tables: SeriesTable[] = [];
  private _custom = new Map<string, Bound>();
  private _limit = DEFAULT_CARDINALITY_LIMIT;
  private _exemplars = false;
  private _exponential = false;
  private _agentTime: Bound | undefined;
  private _agentCount: Bound | undefined;
  private _agentErrors: Bound | undefined;
  private _apiDuration: Bound | undefined;
  private _apiCount: Bound | undefined;
  private _apiErrors: Bound | undefined;
  private _queueLength: Bound | undefined;
  private _queueItems: Bound | undefined;
  private _queueTime: Bound | undefined;
  private _entities: Bound | undefined;
  private _entityTime: Bound | undefined;
  private _cacheHits: Bound | undefined;
  private _cacheMisses: Bound | undefined;
  private _cacheSize: Bound | undefined;
  private _clientDuration: Bound | undefined;
  private _clientErrors: Bound | undefined;
  /** Calls made before the first bind, replayed by it; undefined once bound. */
  private _pending: unknown[] | undefined = [];
  private _pendingLost = 0;
  private readonly _drops = new Map<string, { metric: string; reason: DropReason; count: number }>();
  private _dropsSinceWarning = 0;
  private _nextWarningMs = 0;

  /**
   * Builds the tables as `config` says. Called again when the agent reloads its config: the object the
   * application holds stays the same and records into the new tables (which start empty).
   */
  bind(config: AgentConfig, opts: ApplicationBindOptions = {}): void {
    this._timeClock = opts.clock ?? this._timeClock;
    this._logger = opts.logger ?? this._logger;
    this._tables = [];
    this._custom = new Map();
    const pm = config.performance_monitor;
    this._limit = pm.application_cardinality_limit;
    this._exemplars = pm.exemplars.enabled;
    this._exponential = exponentialHistogramsOn(config);
    const enabled = pm.enabled_collectors.includes('application');
    const settings = new Map(pm.application_metrics.map((m) => [m.name, m]));
    const prefix = pm.prometheus.metric_prefix;
    const bound = new Map<string, Bound>();
    if (enabled) {
      for (const entry of catalogGroup('application')) {
        const cfg = settings.get(entry.name);
        if (cfg?.enabled === false) continue;
        bound.set(
          entry.name,
          this._table(
            entry.name,
            instrumentName(prefix, entry),
            cfg?.description ?? entry.description,
            entry.unit,
            entry.kind,
            entry.labels,
            cfg?.labels ?? entry.labels,
            cfg?.buckets ?? entry.buckets,
          ),
        );
      }
      for (const m of pm.application_metrics) {
        if (catalogEntry(m.name) !== undefined || !m.enabled || m.type === undefined) continue;
        const labels = m.labels ?? [];
        this._custom.set(
          m.name,
          this._table(
            m.name,
            instrumentName(prefix, { exportedName: m.name, kind: m.type }),
            m.description ?? `Application metric ${m.name}.`,
            m.type === 'histogram' ? 's' : '1',
            m.type,
            labels,
            labels,
            m.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          ),
        );
      }
    }
    this._agentTime = bound.get('agent_execution_time');
    this._agentCount = bound.get('agent_execution_count');
    this._agentErrors = bound.get('agent_error_count');
    this._apiDuration = bound.get('api_request_duration');
    this._apiCount = bound.get('api_request_count');
    this._apiErrors = bound.get('api_error_count');
    this._queueLength = bound.get('queue_length');
    this._queueItems = bound.get('queue_items_processed');
    this._queueTime = bound.get('queue_processing_time');
    this._entities = bound.get('entities_processed_total');
    this._entityTime = bound.get('entities_processing_time');
    this._cacheHits = bound.get('cache_hits');
    this._cacheMisses = bound.get('cache_misses');
    this._cacheSize = bound.get('cache_size');
    this._clientDuration = bound.get('http_client_request_duration');
    this._clientErrors = bound.get('http_client_request_errors');
    const pending = this._pending;
    this._pending = undefined;
    if (pending !== undefined && pending.length > 0) replayBatch(pending, this);
    if (this._pendingLost > 0) {
      this._logger.warn('application measurements made before the agent started were dropped', {
        dropped: this._pendingLost,
      });
    }
  }

  /** The tables, read by the agent's MetricProducer at each collection. */
  tables(): readonly SeriesTable[] {
    return this._tables;
  }

  /** Measurements dropped because they were invalid, all metrics and reasons together. */
  get droppedMeasurements(): number {
    let n = 0;
    for (const d of this._drops.values()) n += d.count;
    return n;
  }

  /**
   * The self-metrics: drops by metric and reason, overflow measurements by metric. The overflow counter
   * of every enabled application metric is exported from the start, at 0 until the first overflow (the
   * label sets are known, so rates and alerts on it work before anything overflows).
   */
  *selfPoints(): IterableIterator<MetricPoint> {
    for (const d of this._drops.values()) {
      yield {
        metric: 'monitor_application_dropped_measurements',
        labels: { metric: d.metric, reason: d.reason },
        value: d.count,
      };
    }
    for (const b of this._allBound()) {
      yield {
        metric: 'monitor_application_overflow_measurements',
        labels: { metric: b.name },
        value: b.table.overflowed,
      };
    }
  }

  recordAgentExecution(agentName: string, durationSeconds: number, status: Status = 'success'): void {
    const h = this._agentTime;
    const c = this._agentCount;
    if (h === undefined && c === undefined) return this._queue(0, agentName, durationSeconds, status);
    const a = text(agentName);
    const s = statusText(status);
    if (!(durationSeconds >= 0 && durationSeconds !== Infinity)) {
      this._drop((h ?? c)!, 'invalid_value');
      return;
    }
    this._observeAndCount(h, c, a, s, '', durationSeconds);
  }

  recordAgentError(agentName: string, errorType: string): void {
    const c = this._agentErrors;
    if (c === undefined) return this._queue(1, agentName, errorType);
    const series = this._series(c, text(agentName), text(errorType), '');
    if (series !== undefined) series.value++;
  }

  recordApiRequest(endpoint: string, method: string, durationSeconds: number, status: Status): void {
    const h = this._apiDuration;
    const c = this._apiCount;
    if (h === undefined && c === undefined) return this._queue(2, endpoint, method, durationSeconds, status);
    if (!(durationSeconds >= 0 && durationSeconds !== Infinity)) {
      this._drop((h ?? c)!, 'invalid_value');
      return;
    }
    const e = typeof endpoint === 'string' ? endpoint : text(endpoint);
    const m = typeof method === 'string' ? method : text(method);
    const s = statusText(status);
    this._observeAndCount(h, c, e, m, s, durationSeconds);
  }

  recordApiError(endpoint: string, method: string, errorType: string): void {
    const c = this._apiErrors;
    if (c === undefined) return this._queue(3, endpoint, method, errorType);
    const series = this._series(c, text(endpoint), text(method), text(errorType));
    if (series !== undefined) series.value++;
  }

  setQueueLength(queueName: string, length: number): void {
    if (this._queueLength === undefined) return this._queue(4, queueName, length);
    this._set(this._queueLength, length, text(queueName), '');
  }

  recordQueueProcessing(queueName: string, durationSeconds: number, items = 1): void {
    const h = this._queueTime;
    const c = this._queueItems;
    if (h === undefined && c === undefined) return this._queue(5, queueName, durationSeconds, items);
    if (!(durationSeconds >= 0 && durationSeconds !== Infinity) || !(items >= 0 && items !== Infinity)) {
      this._drop((h ?? c)!, 'invalid_value');
      return;
    }
    const q = text(queueName);
    this._observeAndCount(h, c, q, '', '', durationSeconds, items);
  }

  recordEntityProcessing(entityType: string, operation: string, durationSeconds: number): void {
    const h = this._entityTime;
    const c = this._entities;
    if (h === undefined && c === undefined) return this._queue(6, entityType, operation, durationSeconds);
    if (!(durationSeconds >= 0 && durationSeconds !== Infinity)) {
      this._drop((h ?? c)!, 'invalid_value');
      return;
    }
    const t = text(entityType);
    const o = text(operation);
    this._observeAndCount(h, c, t, o, '', durationSeconds);
  }

  recordCacheHit(cacheName: string): void {
    const c = this._cacheHits;
    if (c === undefined) return this._queue(7, cacheName);
    const series = this._series(c, text(cacheName), '', '');
    if (series !== undefined) series.value++;
  }

  recordCacheMiss(cacheName: string): void {
    const c = this._cacheMisses;
    if (c === undefined) return this._queue(8, cacheName);
    const series = this._series(c, text(cacheName), '', '');
    if (series !== undefined) series.value++;
  }

  setCacheSize(cacheName: string, size: number): void {
    if (this._cacheSize === undefined) return this._queue(9, cacheName, size);
    this._set(this._cacheSize, size, text(cacheName), '');
  }

  recordHttpClientRequest(
    serverAddress: string,
    method: string,
    durationSeconds: number,
    status: Status,
  ): void {
    const h = this._clientDuration;
    if (h === undefined) return this._queue(11, serverAddress, method, durationSeconds, status);
    if (!(durationSeconds >= 0 && durationSeconds !== Infinity)) {
      this._drop(h, 'invalid_value');
      return;
    }
    this._observeAndCount(
      h,
      undefined,
      text(serverAddress),
      text(method),
      statusText(status),
      durationSeconds,
    );
  }

  recordHttpClientError(serverAddress: string, method: string, errorType: string): void {
    const c = this._clientErrors;
    if (c === undefined) return this._queue(12, serverAddress, method, errorType);
    const series = this._series(c, text(serverAddress), text(method), text(errorType));
    if (series !== undefined) series.value++;
  }

  record(name: string, value: number, labelValues: readonly string[] = []): void {
    const b = this._custom.get(name);
    if (b === undefined) return this._queue(10, name, value, labelValues);
    const kind = b.table.opts.kind;
    if (!Number.isFinite(value) || (kind !== 'gauge' && value < 0)) {
      this._drop(b, 'invalid_value');
      return;
    }
    if (!Array.isArray(labelValues) || labelValues.length !== b.pick.length) {
      this._drop(b, 'wrong_label_count');
      return;
    }
    const values = labelValues.map(text);
    if (values.some((v) => v === undefined)) {
      this._drop(b, 'wrong_label_count');
      return;
    }
    let series = b.table.get(values as string[]);
    if (series === undefined) {
      const reason = invalidLabels(values as string[]);
      if (reason !== undefined) {
        this._drop(b, reason);
        return;
      }
      series = b.table.create(values as string[]);
    }
    if (kind === 'histogram') b.table.observe(series, value);
    else if (kind === 'counter') series.value += value;
    else series.value = value;
  }

  /**
   * Before the first bind (the preload's agent loads its config asynchronously), keeps the call to replay
   * it once bound; afterwards a metric is disabled and the call costs nothing more.
   */
  private _queue(method: number, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    const pending = this._pending;
    if (pending === undefined) return;
    if (pending.length >= MAX_PENDING_CALLS * CALL_STRIDE) this._pendingLost++;
    else pending.push(method, a, b, c, d);
  }

  private _table(
    name: string,
    exported: string,
    description: string,
    unit: string,
    kind: MetricKind,
    methodLabels: readonly string[],
    labels: readonly string[],
    buckets: readonly number[] | undefined,
  ): Bound {
    const table = new SeriesTable({
      name: exported,
      description,
      unit,
      kind,
      labelNames: labels,
      boundaries: buckets,
      limit: this._limit,
      exemplars: this._exemplars,
      exponential: this._exponential,
    });
    this._tables.push(table);
    const pick = labels.map((l) => methodLabels.indexOf(l));
    return { name, table, pick, identity: pick.every((p, i) => p === i) };
  }

  private *_allBound(): IterableIterator<Bound> {
    for (const b of [
      this._agentTime,
      this._agentCount,
      this._agentErrors,
      this._apiDuration,
      this._apiCount,
      this._apiErrors,
      this._queueLength,
      this._queueItems,
      this._queueTime,
      this._entities,
      this._entityTime,
      this._cacheHits,
      this._cacheMisses,
      this._cacheSize,
      this._clientDuration,
      this._clientErrors,
    ]) {
      if (b !== undefined) yield b;
    }
    yield* this._custom.values();
  }

  private _set(b: Bound | undefined, value: number, v0: LabelValue, v1: LabelValue): void {
    if (b === undefined) return;
    if (!Number.isFinite(value)) {
      this._drop(b, 'invalid_value');
      return;
    }
    const series = this._series(b, v0, v1, '');
    if (series !== undefined) series.value = value;
  }

  /** The series of a label set, created when new; undefined (and counted) when a value is missing or bad. */
  /** A duration into histogram `h` and `increment` into counter `c`, both with the same label values. */
  private _observeAndCount(
    h: Bound | undefined,
    c: Bound | undefined,
    v0: LabelValue,
    v1: LabelValue,
    v2: LabelValue,
    durationSeconds: number,
    increment = 1,
  ): void {
    if (h !== undefined) {
      const series = this._series(h, v0, v1, v2);
      if (series === undefined) return;
      h.table.observe(series, durationSeconds);
    }
    if (c !== undefined) {
      const series = this._series(c, v0, v1, v2);
      if (series !== undefined) series.value += increment;
    }
  }

  private _series(b: Bound, v0: LabelValue, v1: LabelValue, v2: LabelValue): Series | undefined {
    if (v0 === undefined || v1 === undefined || v2 === undefined) {
      this._drop(b, 'wrong_label_count');
      return undefined;
    }
    const p = b.pick;
    const series = b.identity
      ? b.table.get3(v0, v1, v2)
      : b.table.get3(at(p[0] ?? -1, v0, v1, v2), at(p[1] ?? -1, v0, v1, v2), at(p[2] ?? -1, v0, v1, v2));
    if (series !== undefined) return series;
    const values = p.map((i) => at(i, v0, v1, v2));
    const reason = invalidLabels(values);
    if (reason !== undefined) {
      this._drop(b, reason);
      return undefined;
    }
    return b.table.create(values);
  }

  private _drop(b: Bound, reason: DropReason): void {
    const k = `${b.name}|${reason}`;
    let d = this._drops.get(k);
    if (d === undefined) {
      d = { metric: b.name, reason, count: 0 };
      this._drops.set(k, d);
    }
    d.count++;
    this._dropsSinceWarning++;
    const now = this._timeClock.monotonicMs();
    if (now >= this._nextWarningMs) {
      this._nextWarningMs = now + DROP_WARNING_INTERVAL_MS;
      this._logger.warn('application measurements dropped (see monitor_application_dropped_measurements)', {
        metric: b.name,
        reason,
        dropped: this._dropsSinceWarning,
      });
      this._dropsSinceWarning = 0;
    }
  }
}

function invalidLabels(values: readonly string[]): DropReason | undefined {
  for (const v of values) {
    if (v.length > MAX_LABEL_LENGTH) return 'label_too_long';
  }
  return undefined;
}
