/**
 * `otlp.histograms: exponential`: the collection as the OTLP push sends it, every histogram that carries
 * exponential buckets (series tables keep them when the option is on) turned into an ExponentialHistogram
 * metric. The explicit buckets stay for Prometheus and everything else that reads the collection; only the
 * copy handed to the exporter changes.
 */
import type { ExponentialHistogramMetricData, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { exponentialOf } from '../model/exponential-histogram.js';
import { EXPONENTIAL_HISTOGRAM_POINTS, HISTOGRAM_POINTS } from '../model/otel-constants.js';

function toExponential(metric: MetricData): MetricData {
  if (metric.dataPointType !== HISTOGRAM_POINTS) return metric;
  const points = metric.dataPoints;
  if (points.length === 0 || points.some((dp) => exponentialOf(dp.value) === undefined)) return metric;
  const exponential: ExponentialHistogramMetricData = {
    descriptor: metric.descriptor,
    aggregationTemporality: metric.aggregationTemporality,
    dataPointType: EXPONENTIAL_HISTOGRAM_POINTS,
    dataPoints: points.map((dp) => {
      const e = exponentialOf(dp.value)!;
      return {
        attributes: dp.attributes,
        startTime: dp.startTime,
        endTime: dp.endTime,
        value: {
          count: dp.value.count,
          sum: dp.value.sum,
          min: dp.value.min,
          max: dp.value.max,
          scale: e.scale,
          zeroCount: e.zeroCount,
          positive: e.positive,
          negative: e.negative,
        },
      };
    }),
  };
  return exponential;
}

/** `rm` with its histograms as ExponentialHistogram metrics where they carry exponential buckets. */
export function withExponentialHistograms(rm: ResourceMetrics): ResourceMetrics {
  return {
    resource: rm.resource,
    scopeMetrics: rm.scopeMetrics.map((scope) => ({
      scope: scope.scope,
      metrics: scope.metrics.map(toExponential),
    })),
  };
}
