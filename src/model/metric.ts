/**
 * The shapes every layer shares: a metric point as a probe or a component reports it, and a sample as alerting
 * and trends see a collection. This module imports nothing of the agent; everything above it may use it.
 */

/** Label names to values. */
export type Labels = Readonly<Record<string, string>>;

/** The three kinds of metric the agent knows: one name for one union, from the catalog to the history store. */
export type MetricKind = 'gauge' | 'counter' | 'histogram';

/** One value of one catalog metric. Counters carry their cumulative total, never a rate. */
export interface MetricPoint {
  /** Catalog name, e.g. `cpu_percent`. */
  metric: string;
  labels: Labels;
  value: number;
}

/**
 * A measurement kept with the span that was active when it was made: the trace behind one bucket of a
 * histogram (an OpenMetrics exemplar, an OTLP exemplar).
 */
export interface Exemplar {
  value: number;
  /** Wall-clock time of the measurement, in milliseconds since the epoch. */
  timeMs: number;
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
}

export interface HistogramValue {
  /** Upper bounds, ascending; the last bucket (+Inf) has no bound. */
  boundaries: readonly number[];
  /** Per-bucket counts (not cumulative), `boundaries.length + 1` of them. */
  counts: readonly number[];
  sum: number;
  count: number;
  /** Per bucket (index as `counts`), the latest exemplar kept for it, when exemplars are on. */
  exemplars?: readonly (Exemplar | undefined)[];
  /** Exponential (native) buckets, when `prometheus.native_histograms` or exponential OTLP histograms are on. */
  exponential?: ExponentialHistogramValue;
}

/** Base-2 exponential buckets in the OTel shape (see exponential-histogram.ts for the index convention). */
export interface ExponentialHistogramValue {
  scale: number;
  zeroCount: number;
  positive: { offset: number; bucketCounts: number[] };
  negative: { offset: number; bucketCounts: number[] };
}

/**
 * One series of one collection, names as in the config (`cpu_percent`), labels as strings. Histograms carry
 * their buckets, sum and count so that quantiles can be estimated as Prometheus' histogram_quantile does.
 */
export interface Sample {
  /** Config/catalog name, without the export prefix. */
  metric: string;
  labels: Labels;
  /** Gauge value, counter total, or for histograms the observation count. */
  value: number;
  timestampMs: number;
  kind: MetricKind;
  histogram?: HistogramValue;
  /** seriesKey(metric, labels), when the collection attached it (model/labels.ts sampleKey). */
  key?: string;
}
