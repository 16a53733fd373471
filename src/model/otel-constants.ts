/**
 * The few OpenTelemetry enum values the agent writes into and reads from MetricData. Importing them from
 * `@opentelemetry/sdk-metrics` would load the whole SDK (about 20 MB of RSS); the agent builds and reads the
 * SDK's data shapes without it, and loads the SDK's exporter only for an OTLP push. The values are the SDK's own
 * (a unit test compares them), typed as its enums.
 */
import type { HrTime, ValueType } from '@opentelemetry/api';
import type { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';

export const DOUBLE_VALUE = 1 as ValueType.DOUBLE;
export const DELTA = 0 as AggregationTemporality.DELTA;
export const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;
export const HISTOGRAM_POINTS = 0 as DataPointType.HISTOGRAM;
export const EXPONENTIAL_HISTOGRAM_POINTS = 1 as DataPointType.EXPONENTIAL_HISTOGRAM;
export const GAUGE_POINTS = 2 as DataPointType.GAUGE;
export const SUM_POINTS = 3 as DataPointType.SUM;

/** Milliseconds since the epoch as OTel's [seconds, nanoseconds]. */
export function hrTime(ms: number): HrTime {
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
}
