import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import {
  CUMULATIVE,
  DOUBLE_VALUE,
  EXPONENTIAL_HISTOGRAM_POINTS,
  GAUGE_POINTS,
  HISTOGRAM_POINTS,
  SUM_POINTS,
} from '../../../src/model/otel-constants.js';

describe('OpenTelemetry constants of the series tables', () => {
  it("should be the SDK's enum values", () => {
    expect(DOUBLE_VALUE).toBe(ValueType.DOUBLE);
    expect(CUMULATIVE).toBe(AggregationTemporality.CUMULATIVE);
    expect(HISTOGRAM_POINTS).toBe(DataPointType.HISTOGRAM);
    expect(EXPONENTIAL_HISTOGRAM_POINTS).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
    expect(GAUGE_POINTS).toBe(DataPointType.GAUGE);
    expect(SUM_POINTS).toBe(DataPointType.SUM);
  });
});
