/**
 * The probes' and components' points as OTel MetricData, produced directly at each collection instead of
 * through observable instruments: the SDK's per-collection work for asynchronous instruments (attribute hashing,
 * accumulation maps, delta/cumulative bookkeeping) was the largest allocator of an idle cycle. The result is what
 * the SDK produced: one metric per catalog entry in the order given, gauges with this collection's points only,
 * counters cumulative as their sources report them — a series keeps its last total when its source stops
 * reporting it (a test compares the two, point-producer.test.ts), unless its catalog entry says
 * `absentWhenUnreported` (a remote server's counters: absent while it is down, not frozen).
 */
import type { HrTime } from '@opentelemetry/api';
import type { CollectionResult, DataPoint, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { instrumentName } from '../catalog/catalog.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { Clock } from '../lib/clock.js';
import { seriesKey } from '../model/labels.js';
import type { Labels, MetricPoint } from '../model/metric.js';
import {
  CUMULATIVE,
  DELTA,
  DOUBLE_VALUE,
  GAUGE_POINTS,
  SUM_POINTS,
  hrTime,
} from '../model/otel-constants.js';

/** A source of points, read at every collection. */
export type PointSource = () => Iterable<MetricPoint>;

/** Series kept per metric, as the SDK's default cardinality limit; points of further series are dropped. */
export const SERIES_PER_METRIC = 10_000;

interface CounterSeries {
  labels: Labels;
  /** The total the source reported last. */
  total: number;
}

interface Instrument {
  entry: CatalogEntry;
  descriptor: MetricData['descriptor'];
  /** Counters: every series seen, in first-seen order. */
  counters?: Map<string, CounterSeries>;
  /** Gauges: this collection's points. */
  gauges?: Map<string, GaugeSeries>;
  /**
   * Gauges: the previous collection's points. A series reported again keeps its entry and its labels object,
   * so that its data point's attributes are the same object collection after collection (the exposition
   * caches label text by that object, prometheus.ts) and no entry is allocated per series per collection.
   */
  previous?: Map<string, GaugeSeries>;
}

interface GaugeSeries {
  labels: Labels;
  value: number;
}

export class PointProducer implements MetricProducer {
  private readonly _clock: Clock;
  private readonly _scope: { name: string; version?: string };
  private readonly _byMetric = new Map<string, Instrument>();
  /**
   * The same instruments in export order, walked with indexed loops (as the sources' arrays and the series maps
   * with forEach): in V8's interpreter and baseline code every step of a for-of allocates an iterator result,
   * and these loops run over every metric and series of every collection.
   */
  private readonly _instruments: Instrument[] = [];
  private readonly _sources: readonly PointSource[];
  private readonly _startTime: HrTime;
  private _lastTime: HrTime;

  constructor(opts: {
    clock: Clock;
    scope: { name: string; version?: string };
    prefix: string;
    /** The catalog entries to export, in the order they are exported; histograms are not points. */
    entries: readonly CatalogEntry[];
    sources: readonly PointSource[];
  }) {
    this._clock = opts.clock;
    this._scope = opts.scope;
    this._sources = opts.sources;
    for (const entry of opts.entries) {
      if (entry.kind === 'histogram' || this._byMetric.has(entry.name)) continue;
      const descriptor = {
        name: instrumentName(opts.prefix, entry),
        description: entry.description,
        unit: entry.unit,
        valueType: DOUBLE_VALUE,
      };
      const instrument: Instrument =
        entry.kind === 'counter' ? { entry, descriptor, counters: new Map() } : { entry, descriptor };
      this._byMetric.set(entry.name, instrument);
      this._instruments.push(instrument);
    }
    this._startTime = hrTime(opts.clock.nowMs());
    this._lastTime = this._startTime;
  }

  collect(): Promise<CollectionResult> {
    const endTime = hrTime(this._clock.nowMs());
    const instruments = this._instruments;
    for (let i = 0; i < instruments.length; i++) {
      const instrument = instruments[i]!;
      instrument.previous = instrument.gauges;
      instrument.gauges = undefined;
      if (instrument.entry.absentWhenUnreported === true) instrument.counters?.clear();
    }
    for (let s = 0; s < this._sources.length; s++) {
      const points = this._sources[s]!();
      if (Array.isArray(points)) {
        // Indexed: a for-of step allocates an iterator result in V8's interpreter and baseline code.
        const list = points as readonly MetricPoint[];
        for (let i = 0; i < list.length; i++) this._record(list[i]!);
      } else {
        for (const point of points) this._record(point);
      }
    }
    for (let i = 0; i < instruments.length; i++) instruments[i]!.previous = undefined;
    const metrics: MetricData[] = [];
    for (let i = 0; i < instruments.length; i++) {
      const data = this._metricData(instruments[i]!, endTime);
      if (data !== undefined) metrics.push(data);
    }
    this._lastTime = endTime;
    return Promise.resolve({
      resourceMetrics: {
        // Replaced by the reader with the MeterProvider's resource; only scopeMetrics are merged.
        resource: undefined as never,
        scopeMetrics: metrics.length === 0 ? [] : [{ scope: this._scope, metrics }],
      },
      errors: [],
    });
  }

  private _record(point: MetricPoint): void {
    const instrument = this._byMetric.get(point.metric);
    if (instrument !== undefined) record(instrument, point);
  }

  private _metricData(instrument: Instrument, endTime: HrTime): MetricData | undefined {
    const { descriptor, counters, gauges } = instrument;
    if (counters !== undefined) {
      if (counters.size === 0) return undefined;
      const dataPoints: DataPoint<number>[] = [];
      const startTime = this._startTime;
      counters.forEach((s) => {
        dataPoints.push({ attributes: s.labels, startTime, endTime, value: s.total });
      });
      return {
        descriptor,
        aggregationTemporality: CUMULATIVE,
        dataPointType: SUM_POINTS,
        isMonotonic: true,
        dataPoints,
      };
    }
    if (gauges === undefined || gauges.size === 0) return undefined;
    const dataPoints: DataPoint<number>[] = [];
    const startTime = this._lastTime;
    gauges.forEach((g) => {
      dataPoints.push({ attributes: g.labels, startTime, endTime, value: g.value });
    });
    return { descriptor, aggregationTemporality: DELTA, dataPointType: GAUGE_POINTS, dataPoints };
  }
}

function record(instrument: Instrument, point: MetricPoint): void {
  const key = seriesKey('', point.labels);
  if (instrument.counters !== undefined) {
    const s = instrument.counters.get(key);
    if (s !== undefined) s.total = point.value;
    else if (instrument.counters.size < SERIES_PER_METRIC)
      instrument.counters.set(key, { labels: point.labels, total: point.value });
    return;
  }
  instrument.gauges ??= new Map();
  const g = instrument.gauges.get(key);
  if (g !== undefined) g.value = point.value;
  else if (instrument.gauges.size < SERIES_PER_METRIC) {
    const kept = instrument.previous?.get(key);
    if (kept === undefined) instrument.gauges.set(key, { labels: point.labels, value: point.value });
    else {
      kept.value = point.value;
      instrument.gauges.set(key, kept);
    }
  }
}
