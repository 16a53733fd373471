/**
 * The sample window: the recent history alert rules read, every series the agent exported, as Prometheus
 * would store it after scraping the agent. A histogram becomes its `_bucket` (one series per `le`), `_sum` and `_count` series, so
 * rules see exactly the series a PromQL expression over the exported metrics sees. A series that disappears
 * from a collection gets a staleness marker, as a Prometheus scrape writes one.
 *
 * Points are kept in plain number arrays (16 bytes per point) and pruned to the longest window any rule needs
 * plus the lookback of an instant selector.
 */
import { lowerBound, upperBound } from '../lib/sorted-search.js';
import { seriesKey } from '../model/labels.js';
import type { Labels, Sample } from '../model/metric.js';
import type { RangePoints } from './promql-functions.js';

/** How far back an instant selector looks for the latest sample (Prometheus' default lookback delta). */
export const LOOKBACK_MS = 5 * 60_000;

export interface MutableRange {
  times: readonly number[];
  values: readonly number[];
  from: number;
  to: number;
}

export class StoredSeries {
  readonly key: string;
  readonly metric: string;
  readonly labels: Labels;
  times: number[] = [];
  values: number[] = [];
  /** Times of staleness markers, ascending. */
  staleTimes: number[] = [];
  /** Index of the first point still kept. */
  start = 0;
  /** Collection round in which the series was last seen (live ingestion). */
  seenRound = 0;

  constructor(key: string, metric: string, labels: Labels) {
    this.key = key;
    this.metric = metric;
    this.labels = labels;
  }

  /** Adds a point; out-of-order points are dropped, a point at the same time replaces the last one. */
  append(t: number, v: number): void {
    const n = this.times.length;
    if (n > this.start && this.times[n - 1]! >= t) {
      if (this.times[n - 1] === t) this.values[n - 1] = v;
      return;
    }
    this.times.push(t);
    this.values.push(v);
  }

  markStale(t: number): void {
    const n = this.staleTimes.length;
    if (n > 0 && this.staleTimes[n - 1]! >= t) return;
    this.staleTimes.push(t);
  }

  /** Points in [fromMs, toMs] (both included), staleness markers excluded. */
  range(fromMs: number, toMs: number): RangePoints {
    return {
      times: this.times,
      values: this.values,
      from: lowerBound(this.times, fromMs, this.start),
      to: upperBound(this.times, toMs, this.start),
    };
  }

  /** Like range(), filling `target` instead of allocating (rule evaluation runs this for every rule). */
  rangeInto(fromMs: number, toMs: number, target: MutableRange): RangePoints {
    target.times = this.times;
    target.values = this.values;
    target.from = lowerBound(this.times, fromMs, this.start);
    target.to = upperBound(this.times, toMs, this.start);
    return target;
  }

  /** The value an instant selector sees at `t`: the latest sample in [t - lookback, t], unless it is stale. */
  instant(t: number): number | undefined {
    const i = upperBound(this.times, t, this.start) - 1;
    const lastStale = this._lastStaleAtOrBefore(t);
    if (i < this.start) return undefined;
    const ts = this.times[i]!;
    if (ts < t - LOOKBACK_MS) return undefined;
    if (lastStale !== undefined && lastStale >= ts) return undefined;
    return this.values[i];
  }

  /** Drops points before `beforeMs`. */
  prune(beforeMs: number): void {
    this.start = lowerBound(this.times, beforeMs, this.start);
    if (this.start > 64 && this.start * 2 > this.times.length) {
      this.times = this.times.slice(this.start);
      this.values = this.values.slice(this.start);
      this.start = 0;
    }
    if (this.staleTimes.length > 0 && this.staleTimes[0]! < beforeMs) {
      this.staleTimes = this.staleTimes.filter((s) => s >= beforeMs);
    }
  }

  get pointCount(): number {
    return this.times.length - this.start;
  }

  private _lastStaleAtOrBefore(t: number): number | undefined {
    const s = this.staleTimes;
    for (let i = s.length - 1; i >= 0; i--) if (s[i]! <= t) return s[i];
    return undefined;
  }
}

/** The `le` text of a bucket boundary, as Prometheus writes it. */
function formatLe(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

export class SampleWindow {
  private readonly _series = new Map<string, StoredSeries>();
  private readonly _byMetric = new Map<string, StoredSeries[]>();
  /** Bumped whenever a metric gains or loses a series, so cached selections can be refreshed. */
  private readonly _versions = new Map<string, number>();
  private _round = 0;
  private _generation = 0;

  /** Changes with every change of the data (cached rule results are keyed on it). */
  get generation(): number {
    return this._generation;
  }

  get size(): number {
    return this._series.size;
  }

  /** The series of `metric`, in order of creation. */
  seriesOf(metric: string): readonly StoredSeries[] {
    return this._byMetric.get(metric) ?? [];
  }

  /** Changes whenever the series set of `metric` changes. */
  version(metric: string): number {
    return this._versions.get(metric) ?? 0;
  }

  /** Adds one point (rule tests feed input series this way). */
  append(metric: string, labels: Labels, t: number, v: number): StoredSeries {
    this._generation++;
    const s = this._get(metric, labels);
    s.append(t, v);
    return s;
  }

  markStale(metric: string, labels: Labels, t: number): void {
    this._generation++;
    this._get(metric, labels).markStale(t);
  }

  /**
   * Adds one collection. Series absent from it get a staleness marker at `t`, as a Prometheus scrape
   * would write for a series that disappeared from the target.
   */
  ingest(samples: readonly Sample[], t: number): void {
    const round = ++this._round;
    this._generation++;
    const put = (metric: string, labels: Labels, v: number, key?: string): void => {
      const s = this._get(metric, labels, key);
      s.append(t, v);
      s.seenRound = round;
    };
    // Indexed loops and forEach: under --lite-mode each for-of step allocates, and these run every collection.
    for (let k = 0; k < samples.length; k++) {
      const sample = samples[k]!;
      const h = sample.histogram;
      if (sample.kind === 'histogram' && h !== undefined) {
        let cumulative = 0;
        for (let i = 0; i < h.counts.length; i++) {
          cumulative += h.counts[i]!;
          const bound = i < h.boundaries.length ? h.boundaries[i]! : Infinity;
          put(`${sample.metric}_bucket`, { ...sample.labels, le: formatLe(bound) }, cumulative);
        }
        put(`${sample.metric}_sum`, sample.labels, h.sum);
        put(`${sample.metric}_count`, sample.labels, h.count);
      } else {
        put(sample.metric, sample.labels, sample.value, sample.key);
      }
    }
    this._series.forEach((s) => {
      if (s.seenRound === round || s.pointCount === 0) return;
      const lastStale = s.staleTimes[s.staleTimes.length - 1];
      if (lastStale === undefined || lastStale < s.times[s.times.length - 1]!) s.markStale(t);
    });
  }

  /** Drops points before `beforeMs`, and series left without points or markers. */
  prune(beforeMs: number): void {
    this._generation++;
    // forEach (deleting as it goes is allowed): under --lite-mode each for-of step allocates, every collection.
    this._series.forEach((s, key, series) => {
      s.prune(beforeMs);
      if (s.pointCount === 0 && s.staleTimes.length === 0) {
        series.delete(key);
        const list = this._byMetric.get(s.metric);
        if (list !== undefined) {
          const i = list.indexOf(s);
          if (i >= 0) list.splice(i, 1);
        }
        this._versions.set(s.metric, this.version(s.metric) + 1);
      }
    });
  }

  /** Moves every point and staleness marker by `deltaMs` (the wall clock was stepped). */
  shiftTimes(deltaMs: number): void {
    this._generation++;
    for (const s of this._series.values()) {
      for (let i = 0; i < s.times.length; i++) s.times[i]! += deltaMs;
      for (let i = 0; i < s.staleTimes.length; i++) s.staleTimes[i]! += deltaMs;
    }
  }

  /** Points held, over all series. */
  pointCount(): number {
    let n = 0;
    for (const s of this._series.values()) n += s.pointCount;
    return n;
  }

  /** `key`: seriesKey(metric, labels) when the caller has it. */
  private _get(metric: string, labels: Labels, key = seriesKey(metric, labels)): StoredSeries {
    let s = this._series.get(key);
    if (s === undefined) {
      s = new StoredSeries(key, metric, { ...labels });
      this._series.set(key, s);
      let list = this._byMetric.get(metric);
      if (list === undefined) {
        list = [];
        this._byMetric.set(metric, list);
      }
      list.push(s);
      this._versions.set(metric, this.version(metric) + 1);
    }
    return s;
  }
}
