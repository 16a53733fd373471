/**
 * Observable instruments over the probes' cached snapshots. One batch callback serves every probe-backed
 * metric: it walks the latest points and reports each through the instrument of its catalog entry, so a
 * collection reads memory only and never a probe.
 */
import type { Meter, ObservableCounter, ObservableGauge } from '@opentelemetry/api';
import { CATALOG, instrumentName } from '../catalog/catalog.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { AgentConfig } from '../config/schema.js';
import type { MetricPoint } from '../model/metric.js';

/** Catalog entries of `groups` that the configuration leaves enabled (a metric not listed is enabled). */
export function enabledEntries(
  config: AgentConfig,
  groups: readonly CatalogEntry['group'][],
): CatalogEntry[] {
  const pm = config.performance_monitor;
  const toggles = new Map<string, boolean>();
  for (const m of pm.system_metrics) toggles.set(m.name, m.enabled);
  for (const m of pm.application_metrics) toggles.set(m.name, m.enabled);
  for (const q of pm.neo4j_metrics.queries) toggles.set(q.name, q.enabled);
  return CATALOG.filter(
    (e) => groups.includes(e.group) && (e.group === 'self' || toggles.get(e.name) !== false),
  );
}

export type PointSource = () => Iterable<MetricPoint>;

/**
 * Creates one observable instrument per entry and one batch callback that reports the points of every
 * source. Points of metrics without an instrument (disabled ones) are skipped.
 */
export function registerObservables(
  meter: Meter,
  prefix: string,
  entries: readonly CatalogEntry[],
  sources: readonly PointSource[],
): void {
  const byName = new Map<string, ObservableGauge | ObservableCounter>();
  for (const e of entries) {
    if (e.kind === 'histogram') continue;
    const opts = { description: e.description, unit: e.unit };
    const name = instrumentName(prefix, e);
    byName.set(
      e.name,
      e.kind === 'counter'
        ? meter.createObservableCounter(name, opts)
        : meter.createObservableGauge(name, opts),
    );
  }
  if (byName.size === 0) return;
  meter.addBatchObservableCallback(
    (result) => {
      for (const source of sources) {
        for (const point of source()) {
          const instrument = byName.get(point.metric);
          if (instrument !== undefined) result.observe(instrument, point.value, point.labels);
        }
      }
    },
    [...byName.values()],
  );
}
