/**
 * How the metrics are grouped for people: the rows of the Grafana dashboard (grafana/generate-dashboard.ts
 * takes its row titles from here and checks that every panel queries metrics of its row) and the chart
 * groups of the status page. A catalog metric not named in a group falls into the group of its catalog
 * group (`fallback`), so a new metric is always drawn somewhere.
 */
import { CATALOG } from './catalog.js';
import type { MetricGroup } from './catalog.js';

export interface DashboardGroup {
  /** The row title on the dashboard and the heading on the status page. */
  title: string;
  /** Catalog names (config form) of the metrics shown in the group. */
  metrics: readonly string[];
  /** Catalog groups whose other metrics fall in here. */
  fallback?: readonly MetricGroup[];
}

export const DASHBOARD_GROUPS: readonly DashboardGroup[] = [
  {
    title: 'System Resources',
    metrics: [
      'cpu_percent',
      'memory_percent',
      'swap_percent',
      'disk_usage_percent',
      'disk_io_read_bytes',
      'disk_io_write_bytes',
      'network_bytes_sent',
      'network_bytes_recv',
      'network_packets_sent',
      'network_packets_recv',
      'network_errors_in',
      'network_errors_out',
      'cpu_count',
    ],
    fallback: ['system', 'container'],
  },
  {
    title: 'Agent Performance',
    metrics: ['agent_execution_time', 'agent_execution_count', 'agent_error_count'],
    fallback: ['application'],
  },
  {
    title: 'API Performance',
    metrics: [
      'api_request_duration',
      'api_request_count',
      'api_error_count',
      'http_client_request_duration',
      'http_client_request_errors',
    ],
  },
  {
    title: 'Queue Performance',
    metrics: ['queue_length', 'queue_items_processed', 'queue_processing_time'],
  },
  {
    title: 'Neo4j Performance',
    metrics: [
      'neo4j_query_duration_p50',
      'neo4j_query_duration_p95',
      'neo4j_query_duration_p99',
      'neo4j_query_duration',
      'neo4j_transactions_committed',
      'neo4j_transactions_rolled_back',
      'neo4j_connection_pool_total',
      'neo4j_connection_pool_idle',
      'neo4j_node_count',
      'neo4j_relationship_count',
      'neo4j_up',
      'neo4j_database_size_bytes',
      'neo4j_transactions_active',
    ],
    fallback: ['neo4j'],
  },
  { title: 'Entity Processing', metrics: ['entities_processed_total', 'entities_processing_time'] },
  { title: 'Cache Performance', metrics: ['cache_hits', 'cache_misses', 'cache_size'] },
  {
    title: 'Alerts & Anomalies',
    metrics: ['alerts', 'anomaly_flag', 'anomaly_score', 'forecast_seconds_to_threshold'],
  },
  {
    title: 'Agent Health',
    metrics: [
      'monitor_collection_duration_seconds',
      'monitor_probe_duration_seconds',
      'monitor_probe_success',
      'monitor_otlp_exports',
      'monitor_otlp_export_failures',
      'monitor_application_dropped_measurements',
      'monitor_application_overflow_measurements',
      'monitor_source_resets',
      'monitor_rule_evaluation_duration_seconds',
      'monitor_notifications_failed',
      'nodejs_eventloop_delay_p99_seconds',
      'nodejs_heap_used_bytes',
    ],
    fallback: ['self', 'runtime'],
  },
];

/** The group title of a catalog metric (config name); undefined for a name the catalog does not know. */
export function dashboardGroupOf(metric: string): string | undefined {
  for (const g of DASHBOARD_GROUPS) if (g.metrics.includes(metric)) return g.title;
  const entry = CATALOG.find((e) => e.name === metric);
  if (entry === undefined) return undefined;
  return DASHBOARD_GROUPS.find((g) => g.fallback?.includes(entry.group))?.title;
}

/** Every catalog metric, grouped as the dashboard groups them, in dashboard order. */
export function catalogByDashboardGroup(): { title: string; metrics: string[] }[] {
  const out = DASHBOARD_GROUPS.map((g) => ({ title: g.title, metrics: [...g.metrics] }));
  for (const e of CATALOG) {
    if (out.some((g) => g.metrics.includes(e.name))) continue;
    const title = dashboardGroupOf(e.name);
    out.find((g) => g.title === title)?.metrics.push(e.name);
  }
  return out;
}
