/**
 * Which catalog entries a configuration exports. (The points of those entries are turned into MetricData by
 * point-producer.ts; a collection reads the probes' cached snapshots, never a probe.)
 */
import { CATALOG } from '../catalog/catalog.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { AgentConfig } from '../config/schema.js';

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
