/**
 * Trend analysis as a component: the history store, anomaly detection and forecasts, their HTTP routes and
 * the inputs of the status page. A reload that changes `trend_analysis` starts a new service on the stored
 * history before the old one stops (a store that cannot open fails the reload and leaves the old one).
 */
import type { CollectionBatch } from '../analysis/collection-reader.js';
import { knownMetricNames } from '../catalog/known-metrics.js';
import type { AgentConfig } from '../config/schema.js';
import type { MetricPoint } from '../model/metric.js';
import type { Route } from '../model/route.js';
import { TrendService } from '../trends/trend-service.js';
import type { Component } from './component.js';
import type { AgentContext } from './context.js';
import { historyPath, stateLocation } from './paths.js';

export class TrendsComponent implements Component {
  readonly name = 'trends';
  readonly service: TrendService;

  constructor(config: AgentConfig, ctx: AgentContext) {
    this.service = new TrendService({
      config: config.trend_analysis,
      intervalMs: config.performance_monitor.collection_interval.ms,
      metricPrefix: config.performance_monitor.prometheus.metric_prefix,
      clock: ctx.clock,
      logger: ctx.logger().child({ component: 'trends' }),
      knownMetrics: knownMetricNames(config),
      historyPath: historyPath(config, stateLocation(ctx)),
    });
  }

  start(): Promise<void> {
    return this.service.start();
  }

  shutdown(): Promise<void> {
    return this.service.shutdown();
  }

  selfMetrics(): Iterable<MetricPoint> {
    return this.service.points();
  }

  routes(): readonly Route[] {
    return this.service.routes();
  }

  onCollection(batch: CollectionBatch): void {
    this.service.onCollection(batch);
  }
}
