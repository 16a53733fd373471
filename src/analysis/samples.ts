/**
 * The form in which alerting and trends see a collection: one Sample per series, names as in the config
 * (`cpu_percent`), labels as strings. Histograms carry their buckets, sum and count so that quantiles can
 * be estimated as Prometheus' histogram_quantile does.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { exponentialOf } from '../model/exponential-histogram.js';
import type { SeriesKeys } from '../model/labels.js';
import type { HistogramValue, MetricKind, Sample } from '../model/metric.js';
import { GAUGE_POINTS, HISTOGRAM_POINTS, SUM_POINTS } from '../model/otel-constants.js';

/** Maps an exported instrument name back to its config name. */
export type NameResolver = (instrumentName: string) => string;

/**
 * The attributes as string labels. Attributes that are all strings already (every series of this agent) are
 * returned as they are, not copied: samples are read-only, and one copy per series per collection was most of
 * what this conversion allocated.
 */
function stringLabels(attributes: Record<string, unknown>): Readonly<Record<string, string>> {
  for (const k in attributes) {
    if (typeof attributes[k] !== 'string') {
      const out: Record<string, string> = {};
      for (const [key, v] of Object.entries(attributes))
        out[key] = typeof v === 'string' ? v : JSON.stringify(v);
      return out;
    }
  }
  return attributes as Record<string, string>;
}

/** With `keys`, each sample carries its seriesKey (built once per series, not per collection). */
export function toSamples(
  rm: ResourceMetrics,
  timestampMs: number,
  nameOf: NameResolver,
  keys?: SeriesKeys,
): Sample[] {
  const out: Sample[] = [];
  // Indexed loops: under --lite-mode every for-of step allocates an iterator result, once per series here.
  for (let si = 0; si < rm.scopeMetrics.length; si++) {
    const metrics = rm.scopeMetrics[si]!.metrics;
    for (let mi = 0; mi < metrics.length; mi++) {
      const metric = metrics[mi]!;
      const name = nameOf(metric.descriptor.name);
      switch (metric.dataPointType) {
        case GAUGE_POINTS:
        case SUM_POINTS: {
          const kind: MetricKind =
            metric.dataPointType === SUM_POINTS && metric.isMonotonic ? 'counter' : 'gauge';
          const points = metric.dataPoints;
          for (let i = 0; i < points.length; i++) {
            const dp = points[i]!;
            const labels = stringLabels(dp.attributes);
            out.push({
              metric: name,
              labels,
              value: dp.value,
              timestampMs,
              kind,
              key: keys?.of(name, labels),
            });
          }
          break;
        }
        case HISTOGRAM_POINTS:
          for (let i = 0; i < metric.dataPoints.length; i++) {
            const dp = metric.dataPoints[i]!;
            const h = dp.value;
            const histogram: HistogramValue = {
              boundaries: h.buckets.boundaries,
              counts: h.buckets.counts,
              sum: h.sum ?? 0,
              count: h.count,
            };
            const exponential = exponentialOf(h);
            if (exponential !== undefined) histogram.exponential = exponential;
            const labels = stringLabels(dp.attributes);
            out.push({
              metric: name,
              labels,
              value: h.count,
              timestampMs,
              kind: 'histogram',
              histogram,
              key: keys?.of(name, labels),
            });
          }
          break;
        default:
          // ExponentialHistogram points are made only for the OTLP push (otlp.ts); samples see the explicit form.
          break;
      }
    }
  }
  return out;
}
