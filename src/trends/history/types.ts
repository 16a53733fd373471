/**
 * The history contract the trends read through: a window of one series as the statistics see it, and the
 * reader both the embedded store and the Prometheus backend implement.
 */
import type { Labels, MetricKind, Sample } from '../../model/metric.js';
import type { RollupColumns } from './rollup.js';

export type Resolution = 'raw' | '1m' | '1h';

/** One series over a window, as the stats read it. */
export interface SeriesWindow {
  metric: string;
  labels: Labels;
  kind: MetricKind;
  resolution: Resolution;
  /** Sample times (raw) or bucket starts (rollups), ms. */
  t: Float64Array;
  /** Sample values (raw) or the last value of each bucket (rollups); histograms: the observation count. */
  v: Float64Array;
  /** Present for rollup resolutions. */
  rollup?: RollupColumns;
  /** Histograms: bucket increases over the window (cumulative, as `le` buckets), and the sum's increase. */
  histogram?: { le: number[]; increase: number[]; sumIncrease: number; countIncrease: number };
}

/** The arguments of a history query: series of `metric` whose labels include `labels`, in [fromMs, toMs]. */
export type HistoryQuery = [
  metric: string,
  labels: Labels,
  fromMs: number,
  toMs: number,
  opts?: { resolution?: Resolution },
];

/** Reads history; the embedded store and the Prometheus backend both do. */
export interface HistoryReader {
  /** Series of `metric` whose labels include `labels`, with their samples in [fromMs, toMs]. */
  query(...args: HistoryQuery): Promise<SeriesWindow[]>;
}

/** The history contract: append each collection, query windows, drop old data. */
export interface HistoryStore extends HistoryReader {
  append(samples: readonly Sample[]): void;
  prune(beforeMs: number): void;
}
