/**
 * The metric names a configuration knows: catalog names (config or exported form), its custom application
 * metrics and its Neo4j queries. Here rather than in the config schema, so that the agent can ask without
 * loading the schema library (validation runs in a worker and leaves no trace).
 */
import { CATALOG } from './catalog.js';

/** The parts of a configuration that declare metrics of their own. */
export interface MetricDeclarations {
  performance_monitor: {
    application_metrics: readonly { name: string }[];
    neo4j_metrics: { queries: readonly { name: string }[] };
  };
}

/** Names a rule's `metric` or a trend query may use. */
export function knownMetricNames(cfg: MetricDeclarations): Set<string> {
  const names = new Set<string>();
  for (const e of CATALOG) {
    names.add(e.name);
    names.add(e.exportedName);
  }
  for (const m of cfg.performance_monitor.application_metrics) names.add(m.name);
  for (const q of cfg.performance_monitor.neo4j_metrics.queries) names.add(q.name);
  return names;
}
