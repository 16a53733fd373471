/**
 * The metric catalog, as data. Every metric the agent exports is declared here once; probes, instruments,
 * the config schema, the table in docs/metrics.md and the golden tests all read it. `name` is the name used in the
 * configuration and alert rules (the seed's name where one exists); `exportedName` is what Prometheus and
 * OTLP see after the prefix, where the seed's name breaks Prometheus naming rules.
 */
import { entry, LATENCY_BUCKETS } from './entry.js';
import type { CatalogEntry, MetricGroup } from './entry.js';
import { NEO4J_ENTRIES } from './neo4j-entries.js';

export type { CatalogEntry, MetricGroup } from './entry.js';

export const CATALOG: readonly CatalogEntry[] = [
  // System (the seed's 18)
  entry(
    'system',
    'cpu_percent',
    'gauge',
    '%',
    'Share of CPU time not idle over the last collection interval, all CPUs, in percent.',
  ),
  entry('system', 'cpu_count', 'gauge', '{cpu}', 'Number of logical CPUs online.', [], {
    exportedName: 'cpu_cores',
  }),
  entry(
    'system',
    'cpu_freq_current',
    'gauge',
    'MHz',
    'Current CPU frequency averaged over the logical CPUs, in MHz.',
  ),
  entry(
    'system',
    'memory_percent',
    'gauge',
    '%',
    'Memory in use (total minus available), in percent of total memory.',
  ),
  entry('system', 'memory_used_bytes', 'gauge', 'By', 'Memory in use: total memory minus available memory.'),
  entry(
    'system',
    'memory_available_bytes',
    'gauge',
    'By',
    'Memory available for new work without swapping (MemAvailable).',
  ),
  entry(
    'system',
    'swap_percent',
    'gauge',
    '%',
    'Swap space in use, in percent of total swap (0 without swap).',
  ),
  entry(
    'system',
    'disk_usage_percent',
    'gauge',
    '%',
    'Filesystem space in use, in percent of the space available to unprivileged users, as df shows it.',
    ['mount_point'],
  ),
  entry('system', 'disk_io_read_bytes', 'counter', 'By', 'Bytes read from the block device.', ['device']),
  entry('system', 'disk_io_write_bytes', 'counter', 'By', 'Bytes written to the block device.', ['device']),
  entry(
    'system',
    'disk_io_read_count',
    'counter',
    '{operation}',
    'Read operations completed by the block device.',
    ['device'],
  ),
  entry(
    'system',
    'disk_io_write_count',
    'counter',
    '{operation}',
    'Write operations completed by the block device.',
    ['device'],
  ),
  entry('system', 'network_bytes_sent', 'counter', 'By', 'Bytes sent by the network interface.', [
    'interface',
  ]),
  entry('system', 'network_bytes_recv', 'counter', 'By', 'Bytes received by the network interface.', [
    'interface',
  ]),
  entry('system', 'network_packets_sent', 'counter', '{packet}', 'Packets sent by the network interface.', [
    'interface',
  ]),
  entry(
    'system',
    'network_packets_recv',
    'counter',
    '{packet}',
    'Packets received by the network interface.',
    ['interface'],
  ),
  entry('system', 'network_errors_in', 'counter', '{error}', 'Receive errors on the network interface.', [
    'interface',
  ]),
  entry('system', 'network_errors_out', 'counter', '{error}', 'Transmit errors on the network interface.', [
    'interface',
  ]),
  // Container limits (cgroup v2), present only when a limit is set
  entry(
    'container',
    'cgroup_cpu_limit_cores',
    'gauge',
    '{cpu}',
    'CPU limit of the cgroup the agent runs in (cpu.max quota / period), in CPUs.',
  ),
  entry(
    'container',
    'cgroup_memory_limit_bytes',
    'gauge',
    'By',
    'Memory limit of the cgroup the agent runs in (memory.max).',
  ),
  entry(
    'container',
    'cgroup_memory_usage_bytes',
    'gauge',
    'By',
    'Memory charged to the cgroup the agent runs in (memory.current).',
  ),
  // Application (recorded through the API)
  entry(
    'application',
    'agent_execution_time',
    'histogram',
    's',
    'Duration of agent executions.',
    ['agent_name', 'status'],
    { buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60] },
  ),
  entry('application', 'agent_execution_count', 'counter', '{execution}', 'Agent executions.', [
    'agent_name',
    'status',
  ]),
  entry('application', 'agent_error_count', 'counter', '{error}', 'Agent execution errors.', [
    'agent_name',
    'error_type',
  ]),
  entry(
    'application',
    'api_request_duration',
    'histogram',
    's',
    'Duration of API requests.',
    ['endpoint', 'method', 'status'],
    { buckets: LATENCY_BUCKETS },
  ),
  entry('application', 'api_request_count', 'counter', '{request}', 'API requests.', [
    'endpoint',
    'method',
    'status',
  ]),
  entry('application', 'api_error_count', 'counter', '{error}', 'API request errors.', [
    'endpoint',
    'method',
    'error_type',
  ]),
  entry('application', 'queue_length', 'gauge', '{item}', 'Items waiting in the queue.', ['queue_name']),
  entry(
    'application',
    'queue_items_processed',
    'counter',
    '{item}',
    'Items taken from the queue and processed.',
    ['queue_name'],
  ),
  entry(
    'application',
    'queue_processing_time',
    'histogram',
    's',
    'Time to process one queue item.',
    ['queue_name'],
    { buckets: LATENCY_BUCKETS },
  ),
  entry('application', 'entities_processed_total', 'counter', '{entity}', 'Entities processed.', [
    'entity_type',
    'operation',
  ]),
  entry(
    'application',
    'entities_processing_time',
    'histogram',
    's',
    'Time to process one entity.',
    ['entity_type', 'operation'],
    { buckets: LATENCY_BUCKETS },
  ),
  entry('application', 'cache_hits', 'counter', '{hit}', 'Cache hits.', ['cache_name']),
  entry('application', 'cache_misses', 'counter', '{miss}', 'Cache misses.', ['cache_name']),
  entry('application', 'cache_size', 'gauge', '{entry}', 'Entries in the cache.', ['cache_name']),
  ...NEO4J_ENTRIES,
  // The agent's own cost and health
  entry('self', 'monitor_build_info', 'gauge', '1', 'Always 1; labels name the agent and Node.js versions.', [
    'agent_version',
    'node_version',
  ]),
  entry(
    'self',
    'monitor_probe_duration_seconds',
    'gauge',
    's',
    'Wall time the probe took in the last collection.',
    ['probe'],
  ),
  entry(
    'self',
    'monitor_probe_success',
    'gauge',
    '1',
    '1 if the probe read its source fully in the last collection, else 0.',
    ['probe'],
  ),
  entry(
    'self',
    'monitor_collection_duration_seconds',
    'gauge',
    's',
    'Wall time of the last collection cycle: probes, collect and serialization.',
  ),
  entry('self', 'monitor_collections', 'counter', '{collection}', 'Collection cycles run.'),
  entry('self', 'monitor_scrapes', 'counter', '{scrape}', 'Requests served on /metrics.'),
  entry('self', 'monitor_otlp_exports', 'counter', '{export}', 'OTLP exports attempted.'),
  entry(
    'self',
    'monitor_otlp_export_failures',
    'counter',
    '{export}',
    'OTLP exports that failed after retries.',
  ),
  entry(
    'self',
    'monitor_source_resets',
    'counter',
    '{reset}',
    'Host counters that went backwards (device re-added, counter wrapped) and were absorbed.',
    ['probe'],
  ),
  entry(
    'self',
    'monitor_application_dropped_measurements',
    'counter',
    '{measurement}',
    'Application measurements dropped as invalid (reason: invalid_value, wrong_label_count, label_too_long).',
    ['metric', 'reason'],
  ),
  entry(
    'self',
    'monitor_application_overflow_measurements',
    'counter',
    '{measurement}',
    'Application measurements recorded into the overflow series because the metric reached its cardinality limit.',
    ['metric'],
  ),
  entry(
    'self',
    'monitor_internal_errors',
    'counter',
    '{error}',
    "Errors thrown in the agent's own timers, listeners and background tasks, caught before they could reach the process (where: the place).",
    ['where'],
  ),
  // Node.js runtime of the process the agent runs in (the application's, when preloaded)
  entry(
    'runtime',
    'nodejs_eventloop_delay_p50_seconds',
    'gauge',
    's',
    'Median event-loop delay since the previous collection.',
  ),
  entry(
    'runtime',
    'nodejs_eventloop_delay_p99_seconds',
    'gauge',
    's',
    '99th percentile of event-loop delay since the previous collection.',
  ),
  entry(
    'runtime',
    'nodejs_eventloop_utilization',
    'gauge',
    '1',
    'Share of time the event loop was busy since the previous collection (0..1).',
  ),
  entry(
    'runtime',
    'nodejs_gc_duration_seconds',
    'histogram',
    's',
    'Garbage collection pauses by kind (minor, major, incremental, weakcb).',
    ['kind'],
    { buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] },
  ),
  entry('runtime', 'nodejs_heap_used_bytes', 'gauge', 'By', 'V8 heap in use.'),
  entry('runtime', 'nodejs_heap_total_bytes', 'gauge', 'By', 'V8 heap allocated.'),
  // Alert notifications (issue 5, notification side)
  entry(
    'self',
    'monitor_notifications_sent',
    'counter',
    '{notification}',
    'Notifications the channel accepted.',
    ['channel'],
  ),
  entry(
    'self',
    'monitor_notifications_failed',
    'counter',
    '{attempt}',
    'Delivery attempts that failed (each retry counts; a rejected notification is dropped after one).',
    ['channel'],
  ),
  entry(
    'self',
    'monitor_outbox_pending',
    'gauge',
    '{notification}',
    'Notifications waiting in the persisted outbox for the channel.',
    ['channel'],
  ),
  entry(
    'self',
    'monitor_outbox_dropped',
    'counter',
    '{notification}',
    'Notifications dropped because the outbox of the channel was full (oldest resolutions first).',
    ['channel'],
  ),
  // Trend analysis: one series per monitored series, labelled with its metric name and its own labels.
  entry(
    'self',
    'anomaly_score',
    'gauge',
    '1',
    "How unusual the monitored series' latest value is, in spread units of the configured detector (0 = normal); plus the series' own labels.",
    ['metric'],
  ),
  entry(
    'self',
    'anomaly_flag',
    'gauge',
    '1',
    "1 while the monitored series' latest value is anomalous (score above the sensitivity), else 0; plus the series' own labels.",
    ['metric'],
  ),
  entry(
    'self',
    'forecast_seconds_to_threshold',
    'gauge',
    's',
    "Seconds until a linear fit of the series over its forecast window reaches the configured threshold (+Inf if never); plus the series' own labels.",
    ['metric'],
  ),
  entry(
    'self',
    'monitor_neo4j_query_failures',
    'counter',
    '{failure}',
    'Neo4j reads that failed: a catalog source, a configured query (by name), or the connection (connect).',
    ['query'],
  ),
  // Alert rule engine
  entry(
    'self',
    'alerts',
    'gauge',
    '1',
    "1 for each pending or firing alert, as Prometheus' ALERTS; the other labels are the alerted series' own.",
    ['alertname', 'alertstate', 'severity'],
  ),
  entry(
    'self',
    'monitor_rule_evaluation_duration_seconds',
    'gauge',
    's',
    'Wall time of the last evaluation of all alert rules.',
  ),
  entry(
    'self',
    'monitor_rule_evaluation_failures',
    'counter',
    '{evaluation}',
    'Alert rule evaluations that failed (the rule is skipped; the others go on).',
    ['rule'],
  ),
  // Outgoing HTTP of the application (fetch/undici and http.request, recorded by the preload; the agent's own
  // requests are not counted)
  entry(
    'application',
    'http_client_request_duration',
    'histogram',
    's',
    "Outgoing HTTP requests of the application, from the request's start until its response headers (status) or its failure (status error).",
    ['server_address', 'method', 'status'],
    { buckets: LATENCY_BUCKETS },
  ),
  entry(
    'application',
    'http_client_request_errors',
    'counter',
    '{error}',
    'Outgoing HTTP requests of the application that failed before a response (error_type: connection_refused, timeout, connection_reset, dns, tls, aborted, other).',
    ['server_address', 'method', 'error_type'],
  ),
  // The process the agent runs in (the daemon's, or the application's under the preload), in the Prometheus
  // client conventions, from /proc/self
  entry(
    'runtime',
    'process_cpu_seconds_total',
    'counter',
    's',
    'User and system CPU time spent by the process.',
  ),
  entry('runtime', 'process_resident_memory_bytes', 'gauge', 'By', 'Resident memory of the process (VmRSS).'),
  entry('runtime', 'process_virtual_memory_bytes', 'gauge', 'By', 'Virtual memory of the process (VmSize).'),
  entry('runtime', 'process_heap_bytes', 'gauge', 'By', 'Data segment of the process, its heap (VmData).'),
  entry('runtime', 'process_open_fds', 'gauge', '{file}', 'File descriptors the process has open.'),
  entry(
    'runtime',
    'process_max_fds',
    'gauge',
    '{file}',
    'Most file descriptors the process may open (soft limit; absent when unlimited).',
  ),
  entry(
    'runtime',
    'process_start_time_seconds',
    'gauge',
    's',
    'Start time of the process, in seconds since the Unix epoch.',
  ),
];

const BY_NAME = new Map(CATALOG.map((e) => [e.name, e]));

/** The catalog entry for a config name, or undefined. */
export function catalogEntry(name: string): CatalogEntry | undefined {
  return BY_NAME.get(name);
}

/** Catalog entries of one group. */
export function catalogGroup(group: MetricGroup): CatalogEntry[] {
  return CATALOG.filter((e) => e.group === group);
}

/**
 * The exported instrument name of a metric under the configured prefix. Counters end in `_total` already
 * in OTLP, so that the names are the same whether Prometheus scrapes the agent or an OpenTelemetry
 * Collector that received them over OTLP (with suffixes off, see otel-collector/config.yaml).
 */
export function instrumentName(prefix: string, entry: Pick<CatalogEntry, 'exportedName' | 'kind'>): string {
  const base = prefix === '' ? entry.exportedName : `${prefix}_${entry.exportedName}`;
  return entry.kind === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
}
