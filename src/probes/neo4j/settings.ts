/**
 * The collector's settings and instruments, from the configuration's `neo4j_metrics` section.
 */
import { catalogEntry } from '../../catalog/catalog.js';
import type { CatalogEntry } from '../../catalog/catalog.js';
import type { AgentConfig } from '../../config/schema.js';
import type { Neo4jSettings } from './collector.js';
import type { CustomQuery } from './custom-queries.js';

type Neo4jQueryConfig = AgentConfig['performance_monitor']['neo4j_metrics']['queries'][number];

/** Settings of the collector; `enabledMetrics` are the catalog names the config leaves on. */
export function neo4jSettings(config: AgentConfig, enabledMetrics: Iterable<string>): Neo4jSettings {
  const pm = config.performance_monitor;
  const n = pm.neo4j_metrics;
  const queryTimeoutMs = n.query_timeout.ms;
  return {
    uri: n.uri,
    user: n.user,
    password: n.password === '' ? undefined : n.password,
    database: n.database,
    maxConnectionPoolSize: n.max_connection_pool_size,
    connectionTimeoutMs: n.connection_timeout.ms,
    queryTimeoutMs,
    intervalMs: n.collection_interval?.ms ?? pm.collection_interval.ms,
    queryStatsIntervalMs: n.query_stats_interval.ms,
    enabledMetrics: new Set(enabledMetrics),
    customQueries: n.queries
      .filter((q): q is Neo4jQueryConfig & { query: string } => q.enabled && q.query !== undefined)
      .map((q): CustomQuery => ({
        name: q.name,
        query: q.query,
        labels: q.labels ?? catalogEntry(q.name)?.labels ?? [],
        valueColumn: q.value_column,
        timeoutMs: q.timeout?.ms ?? queryTimeoutMs,
      })),
  };
}

/**
 * Instruments for the configured queries that are not catalog metrics: a gauge or counter each, named
 * like the query, under the same prefix as the catalog.
 */
export function customQueryEntries(config: AgentConfig): CatalogEntry[] {
  return config.performance_monitor.neo4j_metrics.queries
    .filter((q) => q.enabled && q.query !== undefined && catalogEntry(q.name) === undefined)
    .map((q) => ({
      name: q.name,
      exportedName: q.name,
      kind: q.type === 'counter' ? 'counter' : 'gauge',
      unit: '1',
      description: q.description ?? `Configured Neo4j query ${q.name}.`,
      labels: q.labels ?? [],
      group: 'neo4j',
    }));
}
