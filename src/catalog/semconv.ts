/**
 * The OTLP names of the catalog under `otlp.naming: semconv`, as data: for every catalog metric either its
 * OpenTelemetry semantic convention (name, unit, instrument, attribute names, a value factor such as percent →
 * ratio) or a name of ours under OWN_NAMESPACE. The names, units, instruments and attributes were checked
 * against the semantic-conventions model files as `@opentelemetry/semantic-conventions` SEMCONV_PACKAGE ships
 * them (a test compares the names with that package's exports). The conversion is export/otlp-semconv.ts; the
 * table in docs/metrics.md is rendered from this module (markdown.ts).
 */
import { CATALOG } from './catalog.js';
import type { CatalogEntry } from './catalog.js';

/** The package version the conventions were checked against. */
export const SEMCONV_PACKAGE = '@opentelemetry/semantic-conventions 1.45.0';

/** Namespace of the metrics no convention covers: the seed's domain metrics and the agent's own. */
export const OWN_NAMESPACE = 'perf_monitor';

/** OTel instrument kinds: an updowncounter is exported as a non-monotonic cumulative sum. */
export type SemconvInstrument = 'gauge' | 'updowncounter' | 'counter' | 'histogram';

export interface SemconvMapping {
  /** OTLP metric name (several catalog metrics may share one, told apart by `constant`). */
  name: string;
  unit: string;
  instrument: SemconvInstrument;
  /** Our label → its attribute name; labels not listed keep their name. */
  attributes: Readonly<Record<string, string>>;
  /** Attributes every point of this metric gets, e.g. the direction of a merged read/write pair. */
  constant: Readonly<Record<string, string>>;
  /** Factor applied to every value: 0.01 for percent → ratio, 1e6 for MHz → Hz, 0.001 for ms → s. */
  scale: number;
  /** True when `name` is an OpenTelemetry semantic convention, false when it is ours (OWN_NAMESPACE). */
  convention: boolean;
  /** How the value differs from the convention's definition, for the docs table. */
  note?: string;
}

/** Attributes the conventions type as integers: a label of digits is exported as a number. */
export const INT_ATTRIBUTES: ReadonlySet<string> = new Set(['http.response.status_code', 'server.port']);

/**
 * Our resource labels (identity.ts) that repeat a convention's resource attribute; with semconv naming only the
 * convention's attribute is sent.
 */
export const RESOURCE_LABEL_ATTRIBUTES: Readonly<Record<string, string>> = {
  agent_instance: 'service.instance.id',
  version: 'service.version',
  environment: 'deployment.environment.name',
};

type Options = Partial<Pick<SemconvMapping, 'attributes' | 'constant' | 'scale' | 'note'>>;

function sc(name: string, unit: string, instrument: SemconvInstrument, opts: Options = {}): Spec {
  return { name, unit, instrument, convention: true, ...opts };
}

/** A metric of ours: `perf_monitor.<suffix>`, the catalog's unit and kind unless given. */
function own(suffix: string, opts: Options & { unit?: string } = {}): Spec {
  return { own: suffix, ...opts };
}

type Spec =
  | (Omit<SemconvMapping, 'attributes' | 'constant' | 'scale'> & Options)
  | (Options & { own: string; unit?: string });

const DEVICE = { device: 'system.device.name' };
const INTERFACE = { interface: 'network.interface.name' };
const READ = { 'disk.io.direction': 'read' };
const WRITE = { 'disk.io.direction': 'write' };
const TRANSMIT = { 'network.io.direction': 'transmit' };
const RECEIVE = { 'network.io.direction': 'receive' };
const HTTP_SERVER = {
  endpoint: 'http.route',
  method: 'http.request.method',
  status: 'http.response.status_code',
  error_type: 'error.type',
};
const WHOLE_HEAP = 'whole heap: without `v8js.heap.space.name` (the probe reads the totals)';

/** Keyed by catalog name. */
const SPECS: Readonly<Record<string, Spec>> = {
  // System
  cpu_percent: sc('system.cpu.utilization', '1', 'gauge', {
    scale: 0.01,
    note: 'all CPUs and non-idle modes together, without `cpu.mode`',
  }),
  cpu_count: sc('system.cpu.logical.count', '{cpu}', 'updowncounter'),
  cpu_freq_current: sc('system.cpu.frequency', 'Hz', 'gauge', {
    scale: 1e6,
    note: 'average of the logical CPUs, without `cpu.logical_number`',
  }),
  memory_percent: sc('system.memory.utilization', '1', 'gauge', {
    scale: 0.01,
    constant: { 'system.memory.state': 'used' },
  }),
  memory_used_bytes: sc('system.memory.usage', 'By', 'updowncounter', {
    constant: { 'system.memory.state': 'used' },
  }),
  memory_available_bytes: sc('system.memory.usage', 'By', 'updowncounter', {
    constant: { 'system.memory.state': 'available' },
  }),
  swap_percent: sc('system.paging.utilization', '1', 'gauge', {
    scale: 0.01,
    constant: { 'system.paging.state': 'used' },
  }),
  disk_usage_percent: sc('system.filesystem.utilization', '1', 'gauge', {
    scale: 0.01,
    attributes: { mount_point: 'system.filesystem.mountpoint' },
    note: 'used ÷ (used + available to unprivileged users), as df shows it',
  }),
  disk_io_read_bytes: sc('system.disk.io', 'By', 'counter', { attributes: DEVICE, constant: READ }),
  disk_io_write_bytes: sc('system.disk.io', 'By', 'counter', { attributes: DEVICE, constant: WRITE }),
  disk_io_read_count: sc('system.disk.operations', '{operation}', 'counter', {
    attributes: DEVICE,
    constant: READ,
  }),
  disk_io_write_count: sc('system.disk.operations', '{operation}', 'counter', {
    attributes: DEVICE,
    constant: WRITE,
  }),
  network_bytes_sent: sc('system.network.io', 'By', 'counter', { attributes: INTERFACE, constant: TRANSMIT }),
  network_bytes_recv: sc('system.network.io', 'By', 'counter', { attributes: INTERFACE, constant: RECEIVE }),
  // The model gives system.network.packet.count the device attribute, not network.interface.name.
  network_packets_sent: sc('system.network.packet.count', '{packet}', 'counter', {
    attributes: { interface: 'system.device.name' },
    constant: TRANSMIT,
  }),
  network_packets_recv: sc('system.network.packet.count', '{packet}', 'counter', {
    attributes: { interface: 'system.device.name' },
    constant: RECEIVE,
  }),
  network_errors_in: sc('system.network.errors', '{error}', 'counter', {
    attributes: INTERFACE,
    constant: RECEIVE,
  }),
  network_errors_out: sc('system.network.errors', '{error}', 'counter', {
    attributes: INTERFACE,
    constant: TRANSMIT,
  }),
  // Container: the conventions describe a container seen from outside (container.memory.usage is a counter)
  cgroup_cpu_limit_cores: own('container.cpu.limit'),
  cgroup_memory_limit_bytes: own('container.memory.limit'),
  cgroup_memory_usage_bytes: own('container.memory.usage'),
  // Application
  agent_execution_time: own('agent.execution.duration'),
  agent_execution_count: own('agent.executions'),
  agent_error_count: own('agent.errors'),
  api_request_duration: sc('http.server.request.duration', 's', 'histogram', {
    attributes: HTTP_SERVER,
    note: '`http.route` is the framework route or the path with ids collapsed; no `url.scheme`',
  }),
  api_request_count: own('api.requests', { attributes: HTTP_SERVER }),
  api_error_count: own('api.errors', { attributes: HTTP_SERVER }),
  queue_length: own('queue.length'),
  queue_items_processed: own('queue.items_processed'),
  queue_processing_time: own('queue.processing.duration'),
  entities_processed_total: own('entities.processed'),
  entities_processing_time: own('entity.processing.duration'),
  cache_hits: own('cache.hits'),
  cache_misses: own('cache.misses'),
  cache_size: own('cache.size'),
  // Neo4j
  neo4j_query_duration_p50: own('neo4j.query.duration.p50', { unit: 's', scale: 0.001 }),
  neo4j_query_duration_p95: own('neo4j.query.duration.p95', { unit: 's', scale: 0.001 }),
  neo4j_query_duration_p99: own('neo4j.query.duration.p99', { unit: 's', scale: 0.001 }),
  neo4j_database_size_bytes: own('neo4j.database.size'),
  neo4j_transactions_active: own('neo4j.transactions.active'),
  neo4j_transactions_committed: own('neo4j.transactions.committed'),
  neo4j_transactions_rolled_back: own('neo4j.transactions.rolled_back'),
  neo4j_connection_pool_total: own('neo4j.connections.open'),
  neo4j_connection_pool_idle: own('neo4j.connections.idle'),
  neo4j_node_count: own('neo4j.nodes'),
  neo4j_relationship_count: own('neo4j.relationships'),
  neo4j_label_count: own('neo4j.label.nodes'),
  neo4j_relationship_type_count: own('neo4j.relationship_type.relationships'),
  neo4j_query_duration: sc('db.client.operation.duration', 's', 'histogram', {
    attributes: { database: 'db.namespace', query_kind: `${OWN_NAMESPACE}.neo4j.query_kind` },
    constant: { 'db.system.name': 'neo4j' },
  }),
  // The Neo4j server's JVM and process: another process than the resource's, so not jvm.* or process.*
  neo4j_jvm_heap_used_bytes: own('neo4j.jvm.memory.heap.used'),
  neo4j_jvm_heap_committed_bytes: own('neo4j.jvm.memory.heap.committed'),
  neo4j_jvm_heap_max_bytes: own('neo4j.jvm.memory.heap.limit'),
  neo4j_jvm_heap_used_ratio: own('neo4j.jvm.memory.heap.utilization'),
  neo4j_jvm_nonheap_used_bytes: own('neo4j.jvm.memory.non_heap.used'),
  neo4j_jvm_gc_collections: own('neo4j.jvm.gc.collections'),
  neo4j_jvm_gc_time_seconds: own('neo4j.jvm.gc.time'),
  neo4j_jvm_threads: own('neo4j.jvm.thread.count'),
  neo4j_process_cpu_utilization: own('neo4j.process.cpu.utilization'),
  neo4j_process_open_fds: own('neo4j.process.file_descriptor.count'),
  neo4j_process_max_fds: own('neo4j.process.file_descriptor.limit'),
  neo4j_page_cache_size_bytes: own('neo4j.page_cache.size'),
  neo4j_page_cache_hits: own('neo4j.page_cache.hits'),
  neo4j_page_cache_faults: own('neo4j.page_cache.faults'),
  neo4j_page_cache_evictions: own('neo4j.page_cache.evictions'),
  neo4j_server_info: own('neo4j.server.info'),
  neo4j_up: own('neo4j.up'),
  neo4j_snapshot_age_seconds: own('neo4j.snapshot.age'),
  // The agent itself
  monitor_build_info: own('build.info'),
  monitor_probe_duration_seconds: own('probe.duration'),
  monitor_probe_success: own('probe.success'),
  monitor_collection_duration_seconds: own('collection.duration'),
  monitor_collections: own('collections'),
  monitor_scrapes: own('scrapes'),
  monitor_otlp_exports: own('otlp.exports'),
  monitor_otlp_export_failures: own('otlp.export.failures'),
  monitor_source_resets: own('source.resets'),
  monitor_application_dropped_measurements: own('application.measurements.dropped'),
  monitor_application_overflow_measurements: own('application.measurements.overflow'),
  monitor_internal_errors: own('internal.errors'),
  monitor_notifications_sent: own('notifications.sent'),
  monitor_notifications_failed: own('notifications.failed'),
  monitor_outbox_pending: own('outbox.pending'),
  monitor_outbox_dropped: own('outbox.dropped'),
  anomaly_score: own('anomaly.score'),
  anomaly_flag: own('anomaly.flag'),
  forecast_seconds_to_threshold: own('forecast.time_to_threshold'),
  monitor_neo4j_query_failures: own('neo4j.query.failures'),
  alerts: own('alerts'),
  monitor_rule_evaluation_duration_seconds: own('rule.evaluation.duration'),
  monitor_rule_evaluation_failures: own('rule.evaluation.failures'),
  // Node.js runtime
  nodejs_eventloop_delay_p50_seconds: sc('nodejs.eventloop.delay.p50', 's', 'gauge'),
  nodejs_eventloop_delay_p99_seconds: sc('nodejs.eventloop.delay.p99', 's', 'gauge'),
  nodejs_eventloop_utilization: sc('nodejs.eventloop.utilization', '1', 'gauge'),
  nodejs_gc_duration_seconds: sc('v8js.gc.duration', 's', 'histogram', {
    attributes: { kind: 'v8js.gc.type' },
  }),
  nodejs_heap_used_bytes: sc('v8js.memory.heap.used', 'By', 'updowncounter', { note: WHOLE_HEAP }),
  nodejs_heap_total_bytes: sc('v8js.memory.heap.space.size', 'By', 'updowncounter', { note: WHOLE_HEAP }),
  // Outgoing HTTP of the application (the preload's fetch/undici and http.request hooks)
  http_client_request_duration: sc('http.client.request.duration', 's', 'histogram', {
    attributes: {
      server_address: 'server.address',
      method: 'http.request.method',
      status: 'http.response.status_code',
    },
    note: '`server.address` is host[:port]; a request that failed before a response has status `error` (its cause is in `perf_monitor.http.client.errors`)',
  }),
  http_client_request_errors: own('http.client.errors', {
    attributes: { server_address: 'server.address', method: 'http.request.method', error_type: 'error.type' },
  }),
  // The process the agent runs in
  process_cpu_seconds_total: sc('process.cpu.time', 's', 'counter', {
    note: 'user and system time together',
  }),
  process_resident_memory_bytes: sc('process.memory.usage', 'By', 'updowncounter'),
  process_virtual_memory_bytes: sc('process.memory.virtual', 'By', 'updowncounter'),
  process_heap_bytes: own('process.heap'),
  process_open_fds: sc('process.unix.file_descriptor.count', '{file_descriptor}', 'updowncounter'),
  process_max_fds: own('process.file_descriptor.limit'),
  process_start_time_seconds: own('process.start_time'),
};

const INSTRUMENT_OF_KIND: Record<CatalogEntry['kind'], SemconvInstrument> = {
  gauge: 'gauge',
  counter: 'counter',
  histogram: 'histogram',
};

function resolve(entry: Pick<CatalogEntry, 'kind' | 'unit'>, spec: Spec): SemconvMapping {
  const base = { attributes: spec.attributes ?? {}, constant: spec.constant ?? {}, scale: spec.scale ?? 1 };
  const note = spec.note === undefined ? {} : { note: spec.note };
  if ('own' in spec) {
    return {
      name: `${OWN_NAMESPACE}.${spec.own}`,
      unit: spec.unit ?? entry.unit,
      instrument: INSTRUMENT_OF_KIND[entry.kind],
      convention: false,
      ...base,
      ...note,
    };
  }
  return {
    name: spec.name,
    unit: spec.unit,
    instrument: spec.instrument,
    convention: true,
    ...base,
    ...note,
  };
}

const MAPPINGS = new Map<string, SemconvMapping>();
for (const e of CATALOG) {
  const spec = SPECS[e.name];
  if (spec !== undefined) MAPPINGS.set(e.name, resolve(e, spec));
}

/**
 * The OTLP form of a catalog metric under semconv naming, or undefined for a name the catalog does not have
 * (the application's and the Neo4j queries' own metrics keep their config name).
 */
export function semconvMapping(name: string): SemconvMapping | undefined {
  return MAPPINGS.get(name);
}

/** The names the mapping lists: every catalog metric (a test checks), and names about to join the catalog. */
export function mappedNames(): readonly string[] {
  return Object.keys(SPECS);
}
