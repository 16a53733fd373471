/**
 * The agent's own health and cost, reported with every collection: build info, probe durations and success,
 * source resets, collection duration and count, scrapes, internal errors and the OTLP push. Components add
 * theirs (notifications, trends, alerting) through Component.selfMetrics.
 */
import type { CollectionReader } from '../analysis/collection-reader.js';
import type { OtlpPush } from '../export/otlp.js';
import { guardedFailures } from '../lib/guard.js';
import type { MetricPoint } from '../model/metric.js';
import type { ProbeRunner } from '../probes/probe-runner.js';
import type { AgentContext } from './context.js';

/** The parts of a pipeline whose health and cost are reported. */
export interface Measured {
  readonly runner: ProbeRunner;
  readonly reader: CollectionReader;
  readonly otlp: OtlpPush | undefined;
}

export function* selfPoints(p: Measured, ctx: AgentContext, scrapes: number): IterableIterator<MetricPoint> {
  yield* ctx.application.selfPoints();
  yield {
    metric: 'monitor_build_info',
    labels: { agent_version: ctx.version(), node_version: process.version },
    value: 1,
  };
  for (const s of p.runner.statuses()) {
    if (s.state === 'pending' || s.state === 'unavailable') continue;
    yield {
      metric: 'monitor_probe_duration_seconds',
      labels: { probe: s.name },
      value: s.durationMs / 1000,
    };
    yield { metric: 'monitor_probe_success', labels: { probe: s.name }, value: s.state === 'ok' ? 1 : 0 };
  }
  for (const probe of p.runner.probes()) {
    const resets = (probe as { counterResets?: unknown }).counterResets;
    if (typeof resets === 'number')
      yield { metric: 'monitor_source_resets', labels: { probe: probe.name }, value: resets };
  }
  const stats = p.reader.stats;
  if (stats.cycles > 0)
    yield { metric: 'monitor_collection_duration_seconds', labels: {}, value: stats.lastCycleMs / 1000 };
  yield { metric: 'monitor_collections', labels: {}, value: stats.cycles };
  yield { metric: 'monitor_scrapes', labels: {}, value: scrapes };
  for (const [where, n] of guardedFailures())
    yield { metric: 'monitor_internal_errors', labels: { where }, value: n };
  if (p.otlp !== undefined) {
    yield { metric: 'monitor_otlp_exports', labels: {}, value: p.otlp.stats.exports };
    yield { metric: 'monitor_otlp_export_failures', labels: {}, value: p.otlp.stats.failures };
  }
}
