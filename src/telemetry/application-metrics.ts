/**
 * The application metrics API: what an application records about its own work (agent executions, API
 * requests, queues, entity processing, caches), with the seed's method names in camelCase. Each method
 * records through OpenTelemetry instruments whose buckets and labels come from the config; a metric
 * disabled in the config records nothing. Bad input (a negative or non-finite duration) is dropped and
 * counted, never thrown into the caller. Until it is bound to a meter, it records nothing.
 */
import type { Attributes, Counter, Gauge, Histogram, Meter } from '@opentelemetry/api';
import { catalogGroup } from '../catalog/catalog.js';
import type { AgentConfig } from '../config/schema.js';
import { instrumentName } from './instruments.js';

interface Instrument<T> {
  instrument: T;
  /** Label names kept, in the order the config lists them. */
  labels: readonly string[];
}

type Status = string | number;

function durationOk(v: number): boolean {
  return Number.isFinite(v) && v >= 0;
}

export class ApplicationMetrics {
  private readonly _histograms = new Map<string, Instrument<Histogram>>();
  private readonly _counters = new Map<string, Instrument<Counter>>();
  private readonly _gauges = new Map<string, Instrument<Gauge>>();
  private _dropped = 0;

  /**
   * Creates the instruments on `meter` as `config` says. Called again when the agent reloads its config:
   * the object the application holds stays the same and records into the new instruments.
   */
  bind(meter: Meter, config: AgentConfig): void {
    this._histograms.clear();
    this._counters.clear();
    this._gauges.clear();
    const pm = config.performance_monitor;
    if (!pm.enabled_collectors.includes('application')) return;
    const settings = new Map(pm.application_metrics.map((m) => [m.name, m]));
    const prefix = pm.prometheus.metric_prefix;
    for (const entry of catalogGroup('application')) {
      const name = entry.name;
      const cfg = settings.get(name);
      if (cfg?.enabled === false) continue;
      const labels = cfg?.labels ?? entry.labels;
      const opts = { description: cfg?.description ?? entry.description, unit: entry.unit };
      const exported = instrumentName(prefix, entry);
      if (entry.kind === 'histogram') {
        const boundaries = [...(cfg?.buckets ?? entry.buckets ?? [])];
        this._histograms.set(name, {
          instrument: meter.createHistogram(exported, {
            ...opts,
            advice: { explicitBucketBoundaries: boundaries },
          }),
          labels,
        });
      } else if (entry.kind === 'counter') {
        this._counters.set(name, { instrument: meter.createCounter(exported, opts), labels });
      } else {
        this._gauges.set(name, { instrument: meter.createGauge(exported, opts), labels });
      }
    }
  }

  /** Measurements dropped because they were invalid (negative or non-finite values). */
  get droppedMeasurements(): number {
    return this._dropped;
  }

  recordAgentExecution(agentName: string, durationSeconds: number, status: Status = 'success'): void {
    const labels = { agent_name: agentName, status: String(status) };
    if (this._observe('agent_execution_time', durationSeconds, labels))
      this._add('agent_execution_count', 1, labels);
  }

  recordAgentError(agentName: string, errorType: string): void {
    this._add('agent_error_count', 1, { agent_name: agentName, error_type: errorType });
  }

  recordApiRequest(endpoint: string, method: string, durationSeconds: number, status: Status): void {
    const labels = { endpoint, method, status: String(status) };
    if (this._observe('api_request_duration', durationSeconds, labels))
      this._add('api_request_count', 1, labels);
  }

  recordApiError(endpoint: string, method: string, errorType: string): void {
    this._add('api_error_count', 1, { endpoint, method, error_type: errorType });
  }

  setQueueLength(queueName: string, length: number): void {
    this._set('queue_length', length, { queue_name: queueName });
  }

  recordQueueProcessing(queueName: string, durationSeconds: number, items = 1): void {
    const labels = { queue_name: queueName };
    if (this._observe('queue_processing_time', durationSeconds, labels))
      this._add('queue_items_processed', items, labels);
  }

  recordEntityProcessing(entityType: string, operation: string, durationSeconds: number): void {
    const labels = { entity_type: entityType, operation };
    if (this._observe('entities_processing_time', durationSeconds, labels))
      this._add('entities_processed_total', 1, labels);
  }

  recordCacheHit(cacheName: string): void {
    this._add('cache_hits', 1, { cache_name: cacheName });
  }

  recordCacheMiss(cacheName: string): void {
    this._add('cache_misses', 1, { cache_name: cacheName });
  }

  setCacheSize(cacheName: string, size: number): void {
    this._set('cache_size', size, { cache_name: cacheName });
  }

  private _observe(name: string, value: number, labels: Record<string, string>): boolean {
    const h = this._histograms.get(name);
    if (h === undefined) return true;
    if (!durationOk(value)) {
      this._dropped++;
      return false;
    }
    h.instrument.record(value, pick(labels, h.labels));
    return true;
  }

  private _add(name: string, value: number, labels: Record<string, string>): void {
    const c = this._counters.get(name);
    if (c === undefined) return;
    if (!durationOk(value)) {
      this._dropped++;
      return;
    }
    c.instrument.add(value, pick(labels, c.labels));
  }

  private _set(name: string, value: number, labels: Record<string, string>): void {
    const g = this._gauges.get(name);
    if (g === undefined) return;
    if (!Number.isFinite(value)) {
      this._dropped++;
      return;
    }
    g.instrument.record(value, pick(labels, g.labels));
  }
}

/** The configured subset of the labels; a configured label the method does not know is recorded empty. */
function pick(labels: Record<string, string>, keep: readonly string[]): Attributes {
  const out: Attributes = {};
  for (const k of keep) out[k] = labels[k] ?? '';
  return out;
}
