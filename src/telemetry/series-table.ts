/**
 * Series tables for metrics recorded on a hot path (the application API, HTTP requests, GC pauses). A
 * table keeps one entry per label set in nested Maps, one level per label, so a record is a Map lookup per
 * label (the label strings' hashes are cached by V8) and a few additions; no key string is built. The tables are read once per collection by
 * an OTel MetricProducer (SeriesProducer) that the CollectionReader merges with the SDK's own output, so
 * Prometheus, OTLP and every subscriber see these metrics like any other.
 *
 * Cardinality is bounded per table: past `limit` label sets, new sets are recorded into one overflow
 * series whose label values are all OVERFLOW_LABEL_VALUE, and the table counts them.
 */
import type { HrTime } from '@opentelemetry/api';
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { AgentConfig } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import {
  CUMULATIVE,
  DOUBLE_VALUE,
  GAUGE_POINTS,
  HISTOGRAM_POINTS,
  SUM_POINTS,
  hrTime,
} from '../model/otel-constants.js';
import type { Exemplar, MetricKind } from '../model/metric.js';
import { activeSampledSpan } from './exemplars.js';
import {
  newExponentialState,
  recordExponential,
  snapshotExponential,
} from '../model/exponential-histogram.js';
import type { ExponentialState } from '../model/exponential-histogram.js';

/** Whether histograms keep exponential buckets: for Prometheus' native histograms or OTLP's exponential ones. */
export function exponentialHistogramsOn(config: AgentConfig): boolean {
  const pm = config.performance_monitor;
  return pm.prometheus.native_histograms || pm.otlp.histograms === 'exponential';
}

/** The value of every label of the overflow series. */
export const OVERFLOW_LABEL_VALUE = '__overflow__';

export interface SeriesTableOptions {
  /** The exported instrument name (prefix and `_total` included). */
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  labelNames: readonly string[];
  /** Histogram bucket upper bounds, strictly increasing. */
  boundaries?: readonly number[];
  /** Distinct label sets kept before the overflow series takes over. */
  limit: number;
  /** Histograms: also keep exponential (native) buckets (see exponential-histogram.ts). */
  exponential?: boolean;
  /** Histogram: keep an exemplar per bucket (the first measurement of each collection interval made in a sampled span). */
  exemplars?: boolean;
}

/** An exemplar and the collection interval it was taken in. */
interface HeldExemplar extends Exemplar {
  epoch: number;
}

export interface Series {
  readonly labels: readonly string[];
  /**
   * The labels as the attributes of its data points, made on the first collection and handed out again after:
   * the same object every time, so that the exposition's label text cache (prometheus-text.ts) finds it.
   */
  attributes?: Readonly<Record<string, string>>;
  /** Counter total or gauge value; histogram: unused. */
  value: number;
  /** Histogram: per-bucket counts (not cumulative), boundaries.length + 1 of them. */
  readonly counts: number[] | undefined;
  sum: number;
  count: number;
  min: number;
  max: number;
  /** Histogram with exemplars on: per bucket, the exemplar kept (made on the first one). */
  exemplars: (HeldExemplar | undefined)[] | undefined;
  /** Histogram with exponential buckets on: their state (allocated once, with the series). */
  readonly exp: ExponentialState | undefined;
}

function newSeries(labels: readonly string[], buckets: number, exponential: boolean): Series {
  return {
    labels,
    value: 0,
    counts: buckets > 0 ? new Array<number>(buckets).fill(0) : undefined,
    sum: 0,
    count: 0,
    min: Infinity,
    max: -Infinity,
    exemplars: undefined,
    exp: exponential && buckets > 0 ? newExponentialState() : undefined,
  };
}

export class SeriesTable {
  readonly opts: SeriesTableOptions;
  readonly boundaries: readonly number[];
  /** Label values → series, one Map level per label (no key strings built on the hot path). */
  private readonly _root = new Map<string, unknown>();
  private readonly _depth: number;
  private _single: Series | undefined;
  private _count = 0;
  private _overflow: Series | undefined;
  /** Measurements that went to the overflow series. */
  overflowed = 0;
  private readonly _exemplars: boolean;
  /** The collection interval: counts the collections (toMetricData) made so far. */
  private _epoch = 0;

  constructor(opts: SeriesTableOptions) {
    this.opts = opts;
    this.boundaries = opts.kind === 'histogram' ? [...(opts.boundaries ?? [])] : [];
    this._depth = opts.labelNames.length;
    this._exemplars = opts.kind === 'histogram' && opts.exemplars === true;
  }

  /** Number of series held, the overflow series included. */
  get size(): number {
    return this._count + (this._overflow === undefined ? 0 : 1);
  }

  /**
   * The series of a label set of up to three labels (values in label order; unused ones ignored), or
   * undefined when it does not exist yet (the caller then validates and calls create()).
   */
  get3(k0: string, k1: string, k2: string): Series | undefined {
    const d = this._depth;
    if (d === 0) return this._single;
    let n = this._root.get(k0);
    if (d === 1 || n === undefined) return n as Series | undefined;
    n = (n as Map<string, unknown>).get(k1);
    if (d === 2 || n === undefined) return n as Series | undefined;
    return (n as Map<string, unknown>).get(k2) as Series | undefined;
  }

  /** The same for any number of labels. */
  get(values: readonly string[]): Series | undefined {
    if (this._depth === 0) return this._single;
    let n: unknown = this._root;
    for (let i = 0; i < this._depth; i++) {
      n = (n as Map<string, unknown>).get(values[i]!);
      if (n === undefined) return undefined;
    }
    return n as Series;
  }

  /**
   * Creates the series for already validated label values (or returns the existing one), or returns the
   * overflow series when the table is full.
   */
  create(values: readonly string[]): Series {
    const existing = this.get(values);
    if (existing !== undefined) return existing;
    const buckets = this.opts.kind === 'histogram' ? this.boundaries.length + 1 : 0;
    const exponential = this.opts.exponential === true;
    if (this._count >= this.opts.limit) {
      this.overflowed++;
      this._overflow ??= newSeries(
        this.opts.labelNames.map(() => OVERFLOW_LABEL_VALUE),
        buckets,
        exponential,
      );
      return this._overflow;
    }
    const s = newSeries([...values], buckets, exponential);
    this._count++;
    if (this._depth === 0) {
      this._single = s;
      return s;
    }
    let node = this._root;
    for (let i = 0; i < this._depth - 1; i++) {
      let next = node.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(values[i]!, next);
      }
      node = next;
    }
    node.set(values[this._depth - 1]!, s);
    return s;
  }

  /** Adds one observation to a histogram series. */
  observe(s: Series, value: number): void {
    const b = this.boundaries;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    s.counts![i]!++;
    s.sum += value;
    s.count++;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    if (s.exp !== undefined) recordExponential(s.exp, value);
    if (this._exemplars) this._exemplar(s, i, value);
  }

  /**
   * Keeps `value` as bucket `i`'s exemplar when the bucket has none from this interval and a sampled span is
   * active. One per bucket per series: bounded with the series; a bucket already served this interval costs a
   * comparison, without looking up the span.
   */
  private _exemplar(s: Series, i: number, value: number): void {
    const held = s.exemplars?.[i];
    if (held !== undefined && held.epoch === this._epoch) return;
    const sc = activeSampledSpan();
    if (sc === undefined) return;
    const timeMs = Date.now();
    if (held !== undefined) {
      held.value = value;
      held.timeMs = timeMs;
      held.traceId = sc.traceId;
      held.spanId = sc.spanId;
      held.epoch = this._epoch;
      return;
    }
    const all = (s.exemplars ??= new Array<HeldExemplar | undefined>(s.counts!.length).fill(undefined));
    all[i] = { value, timeMs, traceId: sc.traceId, spanId: sc.spanId, epoch: this._epoch };
  }

  series(): IterableIterator<Series> {
    return this._allSeries();
  }

  private *_allSeries(): IterableIterator<Series> {
    if (this._single !== undefined) yield this._single;
    if (this._depth > 0) yield* walk(this._root, this._depth);
    if (this._overflow !== undefined) yield this._overflow;
  }

  /** The table as OTel MetricData (cumulative), or undefined when it holds no series. */
  toMetricData(startTime: HrTime, endTime: HrTime): MetricData | undefined {
    if (this.size === 0) return undefined;
    const { name, description, unit, kind, labelNames } = this.opts;
    const descriptor = { name, description, unit, valueType: DOUBLE_VALUE };
    const attributes = (s: Series): Readonly<Record<string, string>> => {
      if (s.attributes !== undefined) return s.attributes;
      const out: Record<string, string> = {};
      labelNames.forEach((l, i) => (out[l] = s.labels[i]!));
      s.attributes = out;
      return out;
    };
    if (kind === 'histogram') {
      this._epoch++;
      return {
        descriptor,
        aggregationTemporality: CUMULATIVE,
        dataPointType: HISTOGRAM_POINTS,
        dataPoints: [...this.series()].map((s) => ({
          attributes: attributes(s),
          startTime,
          endTime,
          value: {
            buckets: { boundaries: [...this.boundaries], counts: [...s.counts!] },
            sum: s.sum,
            count: s.count,
            min: s.count > 0 ? s.min : undefined,
            max: s.count > 0 ? s.max : undefined,
            ...(s.exemplars === undefined ? {} : { exemplars: s.exemplars.map(copyExemplar) }),
            // Read by the Prometheus protobuf writer and the OTLP conversion (exponentialOf).
            ...(s.exp === undefined ? {} : { exponential: snapshotExponential(s.exp) }),
          },
        })),
      };
    }
    const dataPoints = [...this.series()].map((s) => ({
      attributes: attributes(s),
      startTime,
      endTime,
      value: s.value,
    }));
    return kind === 'counter'
      ? {
          descriptor,
          aggregationTemporality: CUMULATIVE,
          dataPointType: SUM_POINTS,
          isMonotonic: true,
          dataPoints,
        }
      : {
          descriptor,
          aggregationTemporality: CUMULATIVE,
          dataPointType: GAUGE_POINTS,
          dataPoints,
        };
  }
}

function copyExemplar(e: HeldExemplar | undefined): Exemplar | undefined {
  return e === undefined
    ? undefined
    : { value: e.value, timeMs: e.timeMs, traceId: e.traceId, spanId: e.spanId };
}

function* walk(node: Map<string, unknown>, depth: number): IterableIterator<Series> {
  for (const v of node.values()) {
    if (depth === 1) yield v as Series;
    else yield* walk(v as Map<string, unknown>, depth - 1);
  }
}

/** A source of series tables, read at every collection. */
export type TableSource = () => Iterable<SeriesTable>;

/**
 * Feeds series tables to a MetricReader (MetricReaderOptions.metricProducers): at each collect it turns
 * every table of every source into MetricData under one instrumentation scope. The resource is the
 * SDK's: the reader keeps the MeterProvider's resource and appends only the scope metrics.
 */
export class SeriesProducer implements MetricProducer {
  private readonly _clock: Clock;
  private readonly _scope: { name: string; version?: string };
  private readonly _sources: TableSource[] = [];
  private readonly _startTime: HrTime;

  constructor(clock: Clock, scope: { name: string; version?: string }) {
    this._clock = clock;
    this._scope = scope;
    this._startTime = hrTime(clock.nowMs());
  }

  addSource(source: TableSource): void {
    this._sources.push(source);
  }

  collect(): Promise<CollectionResult> {
    const endTime = hrTime(this._clock.nowMs());
    const metrics: MetricData[] = [];
    for (const source of this._sources) {
      for (const table of source()) {
        const data = table.toMetricData(this._startTime, endTime);
        if (data !== undefined) metrics.push(data);
      }
    }
    return Promise.resolve({
      resourceMetrics: {
        // Replaced by the reader with the MeterProvider's resource; only scopeMetrics are merged.
        resource: undefined as never,
        scopeMetrics: metrics.length === 0 ? [] : [{ scope: this._scope, metrics }],
      },
      errors: [],
    });
  }
}
