/**
 * Builds grafana/dashboards/performance-monitor.json: the panels as a short table, the layout, the
 * variables and the thresholds (read from the default alert rules in config/performance_monitor_config.yaml)
 * are filled in here. Typed against Grafana's published dashboard schema (@grafana/schema).
 *
 *   npm run dashboard        # rewrites the JSON; a unit test fails when the committed file differs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BigValueColorMode,
  BigValueGraphMode,
  DashboardCursorSync,
  FieldColorModeId,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  SortOrder,
  ThresholdsMode,
  TooltipDisplayMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/schema';
import type { Dashboard, GraphFieldConfig, Panel, RowPanel, Threshold, VariableModel } from '@grafana/schema';
import { parse } from 'yaml';
import { CATALOG } from '../src/catalog/catalog.js';
import { DASHBOARD_GROUPS, dashboardGroupOf } from '../src/catalog/dashboard-groups.js';

export const DASHBOARD_PATH = fileURLToPath(
  new URL('./dashboards/performance-monitor.json', import.meta.url),
);
const DEFAULT_CONFIG_PATH = fileURLToPath(
  new URL('../config/performance_monitor_config.yaml', import.meta.url),
);

/** The agent's metric prefix (prometheus.metric_prefix). */
export const PREFIX = 'multi_agent_system';
/** Every query selects these: the environment and instance variables. */
export const SELECTOR = 'environment=~"$environment", agent_instance=~"$instance"';
/** The datasource every panel and variable uses: the `datasource` variable. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export interface RuleThreshold {
  name: string;
  threshold: number;
  severity: string;
}

interface Query {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  type: 'timeseries' | 'stat';
  unit: string;
  queries: Query[];
  description: string;
  /** Alert rules (config names) whose thresholds the panel draws. */
  rules?: string[];
  /** Width in grid columns (of 24). Default 8 for graphs, 4 for stats. */
  w?: number;
}

interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

/** `multi_agent_system_<name>{environment=~..., agent_instance=~...[, extra]}` */
function m(name: string, extra = ''): string {
  return `${PREFIX}_${name}{${SELECTOR}${extra === '' ? '' : `, ${extra}`}}`;
}
function rate(name: string, extra = ''): string {
  return `rate(${m(name, extra)}[$__rate_interval])`;
}
function p95(histogram: string, by: string): string {
  return `histogram_quantile(0.95, sum by (le, ${by}) (${rate(`${histogram}_bucket`)}))`;
}
function q(expr: string, legend: string): Query {
  return { expr, legend };
}
function graph(
  title: string,
  unit: string,
  description: string,
  queries: Query[],
  rules?: string[],
): PanelSpec {
  return { title, type: 'timeseries', unit, description, queries, ...(rules ? { rules } : {}) };
}
function stat(title: string, unit: string, description: string, expr: string): PanelSpec {
  return { title, type: 'stat', unit, description, queries: [q(expr, '')] };
}

/** A row title: one of the shared groups (src/catalog/dashboard-groups.ts), which the status page draws too. */
function groupTitle(title: string): string {
  if (!DASHBOARD_GROUPS.some((g) => g.title === title)) throw new Error(`no dashboard group ${title}`);
  return title;
}

/** The catalog name of a series the queries read (`…_total`, `…_bucket`, `…_sum`, `…_count` removed). */
function catalogName(series: string): string | undefined {
  for (const name of [series, series.replace(/_(total|bucket|sum|count)$/, '')]) {
    const e = CATALOG.find((c) => c.exportedName === name || c.name === name);
    if (e !== undefined) return e.name;
  }
  return undefined;
}

/** Throws when a panel queries a metric that the shared groups put in another row. */
export function checkRowGroups(rows: readonly RowSpec[]): void {
  for (const r of rows)
    for (const p of r.panels)
      for (const query of p.queries)
        for (const [, series] of query.expr.matchAll(new RegExp(`${PREFIX}_(\\w+)`, 'g'))) {
          const name = catalogName(series!);
          const group = name === undefined ? undefined : dashboardGroupOf(name);
          if (group !== r.title)
            throw new Error(`panel ${p.title} of row ${r.title} queries ${series}, of group ${group}`);
        }
}

export const ROWS: readonly RowSpec[] = [
  {
    title: groupTitle('System Resources'),
    panels: [
      graph(
        'CPU Usage',
        'percent',
        'Share of CPU time not idle, all CPUs.',
        [q(m('cpu_percent'), '{{agent_instance}}')],
        ['high_cpu_usage', 'critical_cpu_usage'],
      ),
      graph(
        'Memory Usage',
        'percent',
        'Memory in use (total minus available).',
        [q(m('memory_percent'), '{{agent_instance}}')],
        ['high_memory_usage', 'critical_memory_usage'],
      ),
      graph(
        'Swap Usage',
        'percent',
        'Swap space in use.',
        [q(m('swap_percent'), '{{agent_instance}}')],
        ['high_swap_usage'],
      ),
      graph(
        'Disk Usage',
        'percent',
        'Filesystem space in use, by mount point.',
        [q(m('disk_usage_percent'), '{{agent_instance}} {{mount_point}}')],
        ['high_disk_usage'],
      ),
      graph('Disk I/O', 'Bps', 'Bytes read and written per second, all block devices.', [
        q(`sum by (agent_instance) (${rate('disk_io_read_bytes_total')})`, '{{agent_instance}} read'),
        q(`sum by (agent_instance) (${rate('disk_io_write_bytes_total')})`, '{{agent_instance}} write'),
      ]),
      graph('Network Traffic', 'Bps', 'Bytes sent and received per second, by interface.', [
        q(
          `sum by (agent_instance, interface) (${rate('network_bytes_sent_total')})`,
          '{{agent_instance}} {{interface}} sent',
        ),
        q(
          `sum by (agent_instance, interface) (${rate('network_bytes_recv_total')})`,
          '{{agent_instance}} {{interface}} received',
        ),
      ]),
      graph('Network Packets', 'pps', 'Packets sent and received per second, all interfaces.', [
        q(`sum by (agent_instance) (${rate('network_packets_sent_total')})`, '{{agent_instance}} sent'),
        q(`sum by (agent_instance) (${rate('network_packets_recv_total')})`, '{{agent_instance}} received'),
      ]),
      graph('Network Errors', 'pps', 'Receive and transmit errors per second, all interfaces.', [
        q(`sum by (agent_instance) (${rate('network_errors_in_total')})`, '{{agent_instance}} in'),
        q(`sum by (agent_instance) (${rate('network_errors_out_total')})`, '{{agent_instance}} out'),
      ]),
      stat('CPU Cores', 'short', 'Logical CPUs online, all selected hosts.', `sum(${m('cpu_cores')})`),
    ],
  },
  {
    title: groupTitle('Agent Performance'),
    panels: [
      graph('Agent Execution Time (mean)', 's', 'Mean execution time by agent.', [
        q(
          `sum by (agent_name) (${rate('agent_execution_time_sum')}) / sum by (agent_name) (${rate('agent_execution_time_count')})`,
          '{{agent_name}}',
        ),
      ]),
      graph('Agent Executions by Status', 'ops', 'Executions per second by agent and status.', [
        q(
          `sum by (agent_name, status) (${rate('agent_execution_count_total')})`,
          '{{agent_name}} {{status}}',
        ),
      ]),
      graph(
        'Agent Errors',
        'ops',
        'Agent errors per second by agent and error type.',
        [
          q(
            `sum by (agent_name, error_type) (${rate('agent_error_count_total')})`,
            '{{agent_name}} {{error_type}}',
          ),
        ],
        ['high_agent_error_rate'],
      ),
      stat(
        'Total Agent Executions',
        'short',
        'Executions counted since the agents started.',
        `sum(${m('agent_execution_count_total')})`,
      ),
    ],
  },
  {
    title: groupTitle('API Performance'),
    panels: [
      graph(
        'API Request Duration P95',
        's',
        '95th percentile of request duration by endpoint.',
        [q(p95('api_request_duration', 'endpoint'), '{{endpoint}}')],
        ['slow_api_requests'],
      ),
      graph('API Request Rate', 'reqps', 'Requests per second by endpoint and method.', [
        q(`sum by (endpoint, method) (${rate('api_request_count_total')})`, '{{method}} {{endpoint}}'),
      ]),
      graph(
        'API Errors',
        'reqps',
        'Failed requests per second by endpoint and error type.',
        [
          q(
            `sum by (endpoint, error_type) (${rate('api_error_count_total')})`,
            '{{endpoint}} {{error_type}}',
          ),
        ],
        ['high_api_error_rate'],
      ),
      stat(
        'Total API Requests',
        'short',
        'Requests counted since the agents started.',
        `sum(${m('api_request_count_total')})`,
      ),
      stat(
        'Total API Errors',
        'short',
        'Request errors counted since the agents started.',
        `sum(${m('api_error_count_total')})`,
      ),
      graph(
        'Outgoing HTTP Request Rate',
        'reqps',
        "The application's outgoing requests per second by server and status (status error: failed before a response).",
        [
          q(
            `sum by (server_address, status) (${rate('http_client_request_duration_count')})`,
            '{{server_address}} {{status}}',
          ),
        ],
      ),
      graph(
        'Outgoing HTTP Duration P95',
        's',
        "95th percentile of the application's outgoing request time to response headers, by server.",
        [q(p95('http_client_request_duration', 'server_address'), '{{server_address}}')],
      ),
      graph(
        'Outgoing HTTP Failures',
        'reqps',
        'Outgoing requests that failed per second, by server and error type.',
        [
          q(
            `sum by (server_address, error_type) (${rate('http_client_request_errors_total')})`,
            '{{server_address}} {{error_type}}',
          ),
        ],
      ),
    ],
  },
  {
    title: groupTitle('Queue Performance'),
    panels: [
      graph(
        'Queue Length',
        'short',
        'Items waiting, by queue.',
        [q(m('queue_length'), '{{agent_instance}} {{queue_name}}')],
        ['queue_backlog'],
      ),
      graph('Queue Processing Rate', 'ops', 'Items processed per second, by queue.', [
        q(`sum by (queue_name) (${rate('queue_items_processed_total')})`, '{{queue_name}}'),
      ]),
      graph('Queue Processing Duration P95', 's', '95th percentile of the time to process one item.', [
        q(p95('queue_processing_time', 'queue_name'), '{{queue_name}}'),
      ]),
      stat(
        'Total Items Processed',
        'short',
        'Items processed since the agents started.',
        `sum(${m('queue_items_processed_total')})`,
      ),
    ],
  },
  {
    title: groupTitle('Neo4j Performance'),
    panels: [
      graph(
        'Neo4j Query Duration',
        'ms',
        'Query duration percentiles reported by the server.',
        [
          q(m('neo4j_query_duration_p50'), '{{agent_instance}} p50'),
          q(m('neo4j_query_duration_p95'), '{{agent_instance}} p95'),
          q(m('neo4j_query_duration_p99'), '{{agent_instance}} p99'),
        ],
        ['slow_neo4j_queries'],
      ),
      graph(
        'Driver Query Duration P95',
        's',
        '95th percentile of query time seen by the application driver.',
        [q(p95('neo4j_query_duration', 'query_kind'), '{{query_kind}}')],
      ),
      graph(
        'Neo4j Transactions',
        'ops',
        "Transactions committed and rolled back per second (server counters: Enterprise only); queries per second by kind as the application's driver sees them (any edition).",
        [
          q(
            `sum by (agent_instance) (${rate('neo4j_transactions_committed_total')})`,
            '{{agent_instance}} committed',
          ),
          q(
            `sum by (agent_instance) (${rate('neo4j_transactions_rolled_back_total')})`,
            '{{agent_instance}} rolled back',
          ),
          q(`sum by (query_kind) (${rate('neo4j_query_duration_count')})`, 'driver {{query_kind}}'),
        ],
      ),
      graph('Neo4j Connection Pool', 'short', 'Connections open and idle.', [
        q(m('neo4j_connection_pool_size'), '{{agent_instance}} open'),
        q(m('neo4j_connection_pool_idle'), '{{agent_instance}} idle'),
      ]),
      graph('Node Count', 'short', 'Nodes in the graph.', [q(m('neo4j_nodes'), '{{agent_instance}}')]),
      graph('Relationship Count', 'short', 'Relationships in the graph.', [
        q(m('neo4j_relationships'), '{{agent_instance}}'),
      ]),
      stat(
        'Neo4j Up',
        'bool_yes_no',
        '1 when the last collection reached the server.',
        `min(${m('neo4j_up')})`,
      ),
      stat('Database Size', 'bytes', 'Size of the database store.', `sum(${m('neo4j_database_size_bytes')})`),
      stat(
        'Active Transactions',
        'short',
        'Transactions running now.',
        `sum(${m('neo4j_transactions_active')})`,
      ),
      graph(
        'Neo4j Heap',
        'bytes',
        'Java heap of the Neo4j server: in use, reserved from the OS, and its maximum (JVM beans, any edition).',
        [
          q(m('neo4j_jvm_heap_used_bytes'), '{{agent_instance}} used'),
          q(m('neo4j_jvm_heap_committed_bytes'), '{{agent_instance}} committed'),
          q(m('neo4j_jvm_heap_max_bytes'), '{{agent_instance}} max'),
        ],
      ),
      graph(
        'Neo4j Heap Used',
        'percentunit',
        'Heap in use over its maximum.',
        [q(m('neo4j_jvm_heap_used_ratio'), '{{agent_instance}}')],
        ['neo4j_heap_pressure'],
      ),
      graph(
        'Neo4j GC Time',
        'percentunit',
        'Share of wall time the Neo4j server spent in garbage collection, by collector.',
        [
          q(
            `sum by (agent_instance, gc) (${rate('neo4j_jvm_gc_time_seconds_total')})`,
            '{{agent_instance}} {{gc}}',
          ),
        ],
        ['neo4j_gc_overhead'],
      ),
      graph('Neo4j Threads', 'short', "Live threads of the Neo4j server's JVM.", [
        q(m('neo4j_jvm_threads'), '{{agent_instance}}'),
      ]),
      graph(
        'Neo4j Process CPU',
        'percentunit',
        'CPU used by the Neo4j server process, over all CPUs of its host.',
        [q(m('neo4j_process_cpu_utilization'), '{{agent_instance}}')],
      ),
      stat(
        'Neo4j Open Files',
        'percentunit',
        'File descriptors open over the most the server may open (highest of the servers).',
        `max(${m('neo4j_process_open_fds')} / ${m('neo4j_process_max_fds')})`,
      ),
    ],
  },
  {
    title: groupTitle('Entity Processing'),
    panels: [
      graph('Entities Processed', 'ops', 'Entities processed per second by type and operation.', [
        q(
          `sum by (entity_type, operation) (${rate('entities_processed_total')})`,
          '{{entity_type}} {{operation}}',
        ),
      ]),
      graph('Entity Processing Duration P95', 's', '95th percentile of the time to process one entity.', [
        q(p95('entities_processing_time', 'entity_type'), '{{entity_type}}'),
      ]),
      stat(
        'Total Entities Processed',
        'short',
        'Entities processed since the agents started.',
        `sum(${m('entities_processed_total')})`,
      ),
    ],
  },
  {
    title: groupTitle('Cache Performance'),
    panels: [
      graph('Cache Hit Rate', 'percentunit', 'Hits out of all lookups, by cache.', [
        q(
          `sum by (cache_name) (${rate('cache_hits_total')}) / (sum by (cache_name) (${rate('cache_hits_total')}) + sum by (cache_name) (${rate('cache_misses_total')}))`,
          '{{cache_name}}',
        ),
      ]),
      graph('Cache Size', 'short', 'Entries in the cache.', [
        q(m('cache_size'), '{{agent_instance}} {{cache_name}}'),
      ]),
      graph('Cache Lookups', 'ops', 'Hits and misses per second.', [
        q(`sum by (cache_name) (${rate('cache_hits_total')})`, '{{cache_name}} hits'),
        q(`sum by (cache_name) (${rate('cache_misses_total')})`, '{{cache_name}} misses'),
      ]),
    ],
  },
  {
    title: groupTitle('Alerts & Anomalies'),
    panels: [
      stat(
        'Alerts by State',
        'short',
        "Alerts pending and firing (the agent's rule engine).",
        `sum by (alertstate) (${m('alerts')})`,
      ),
      graph('Alerts', 'short', 'Each alert by rule, severity and state.', [
        q(
          `sum by (alertname, severity, alertstate) (${m('alerts')})`,
          '{{alertname}} {{severity}} {{alertstate}}',
        ),
      ]),
      graph(
        'Anomaly Flags',
        'bool_yes_no',
        '1 while a monitored metric is flagged anomalous (trend_analysis.anomaly_detection; on in the default configuration).',
        [q(`max by (metric) (${m('anomaly_flag')})`, '{{metric}}')],
      ),
      graph(
        'Anomaly Score',
        'short',
        'How far each metric is from its usual values, in standard deviations (the adaptive detector: level, shifts, drift, variance, flat lines, daily profile); flagged above the sensitivity, 4 by default.',
        [q(`max by (metric) (${m('anomaly_score')})`, '{{metric}}')],
      ),
      graph(
        'Time to Threshold (forecast)',
        's',
        'Forecast time until a metric crosses its threshold (trend_analysis.forecasts; disk usage reaching 100 % in the default configuration).',
        [q(`min by (metric) (${m('forecast_seconds_to_threshold')})`, '{{metric}}')],
      ),
    ],
  },
  {
    title: groupTitle('Agent Health'),
    panels: [
      graph('Collection Duration', 's', 'Wall time of the last collection cycle.', [
        q(m('monitor_collection_duration_seconds'), '{{agent_instance}}'),
      ]),
      graph('Probe Duration', 's', 'Wall time of each probe in the last collection.', [
        q(m('monitor_probe_duration_seconds'), '{{agent_instance}} {{probe}}'),
      ]),
      stat(
        'Probes Failing',
        'short',
        'Probes that did not read their source fully in the last collection.',
        `count(${m('monitor_probe_success')} == 0) or vector(0)`,
      ),
      graph('OTLP Exports', 'ops', 'OTLP exports attempted and failed per second.', [
        q(`sum by (agent_instance) (${rate('monitor_otlp_exports_total')})`, '{{agent_instance}} exports'),
        q(
          `sum by (agent_instance) (${rate('monitor_otlp_export_failures_total')})`,
          '{{agent_instance}} failures',
        ),
      ]),
      graph(
        'Dropped and Overflow Measurements',
        'ops',
        'Application measurements dropped (invalid) or over the series limit.',
        [
          q(
            `sum by (metric, reason) (${rate('monitor_application_dropped_measurements_total')})`,
            'dropped {{metric}} {{reason}}',
          ),
          q(
            `sum by (metric) (${rate('monitor_application_overflow_measurements_total')})`,
            'overflow {{metric}}',
          ),
        ],
      ),
      graph('Source Resets', 'ops', 'Host counters that went backwards and were absorbed.', [
        q(
          `sum by (agent_instance, probe) (${rate('monitor_source_resets_total')})`,
          '{{agent_instance}} {{probe}}',
        ),
      ]),
      graph('Rule Evaluation', 's', 'Time of the last alert rule evaluation round.', [
        q(m('monitor_rule_evaluation_duration_seconds'), '{{agent_instance}}'),
      ]),
      graph('Notifications Failed', 'ops', 'Alert notifications that failed, by channel.', [
        q(`sum by (channel) (${rate('monitor_notifications_failed_total')})`, '{{channel}}'),
      ]),
      graph(
        'Event Loop Delay P99',
        's',
        '99th percentile of the event loop delay of the monitored Node.js process.',
        [q(m('nodejs_eventloop_delay_p99_seconds'), '{{agent_instance}}')],
      ),
      graph('Heap Used', 'bytes', 'V8 heap in use by the monitored Node.js process.', [
        q(m('nodejs_heap_used_bytes'), '{{agent_instance}}'),
      ]),
      graph('Process CPU', 'percentunit', 'CPU time of the monitored process per second (1 = one core).', [
        q(`sum by (agent_instance) (${rate('process_cpu_seconds_total')})`, '{{agent_instance}}'),
      ]),
      graph('Process Memory', 'bytes', 'Resident and virtual memory of the monitored process.', [
        q(m('process_resident_memory_bytes'), '{{agent_instance}} resident'),
        q(m('process_virtual_memory_bytes'), '{{agent_instance}} virtual'),
      ]),
      graph('Open File Descriptors', 'short', 'Descriptors open, and the limit, of the monitored process.', [
        q(m('process_open_fds'), '{{agent_instance}} open'),
        q(m('process_max_fds'), '{{agent_instance}} limit'),
      ]),
    ],
  },
];

/** The enabled default alert rules of a config file, by name. */
export function ruleThresholds(configPath: string = DEFAULT_CONFIG_PATH): Map<string, RuleThreshold> {
  const doc = parse(readFileSync(configPath, 'utf8')) as {
    performance_monitor: {
      alerting: { rules: { name: string; threshold: number; severity: string; enabled?: boolean }[] };
    };
  };
  const out = new Map<string, RuleThreshold>();
  for (const r of doc.performance_monitor.alerting.rules) {
    if (r.enabled === false) continue;
    out.set(r.name, { name: r.name, threshold: r.threshold, severity: r.severity });
  }
  return out;
}

const SEVERITY_COLOR: Record<string, string> = { info: 'blue', warning: 'orange', critical: 'red' };

function thresholds(spec: PanelSpec, rules: Map<string, RuleThreshold>): Threshold[] {
  const steps: Threshold[] = [{ color: 'green', value: null }];
  for (const name of spec.rules ?? []) {
    const rule = rules.get(name);
    if (rule === undefined) throw new Error(`panel "${spec.title}": no enabled default rule "${name}"`);
    steps.push({ color: SEVERITY_COLOR[rule.severity] ?? 'red', value: rule.threshold });
  }
  return steps.sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity));
}

/** The time series field config, checked against Grafana's type, as the plain record panels carry. */
function timeseriesFieldConfig(hasRules: boolean): Record<string, unknown> {
  const custom: GraphFieldConfig = {
    thresholdsStyle: { mode: hasRules ? GraphThresholdsStyleMode.Line : GraphThresholdsStyleMode.Off },
    fillOpacity: 10,
    lineWidth: 1,
  };
  return { ...custom };
}

function panel(
  spec: PanelSpec,
  id: number,
  gridPos: { x: number; y: number; w: number; h: number },
  rules: Map<string, RuleThreshold>,
): Panel {
  const hasRules = (spec.rules ?? []).length > 0;
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: { ...DATASOURCE },
    gridPos,
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        thresholds: { mode: ThresholdsMode.Absolute, steps: thresholds(spec, rules) },
        ...(spec.type === 'timeseries' ? { custom: timeseriesFieldConfig(hasRules) } : {}),
        color: { mode: spec.type === 'stat' ? FieldColorModeId.Thresholds : FieldColorModeId.PaletteClassic },
      },
      overrides: [],
    },
    options:
      spec.type === 'stat'
        ? {
            reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
            colorMode: BigValueColorMode.Value,
            graphMode: BigValueGraphMode.Area,
          }
        : {
            legend: { displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true },
            tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
          },
    targets: spec.queries.map((query, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: { ...DATASOURCE },
      expr: query.expr,
      legendFormat: query.legend === '' ? '__auto' : query.legend,
      range: true,
      instant: false,
    })),
  };
}

function variable(name: string, label: string, query: string): VariableModel {
  return {
    name,
    label,
    type: 'query',
    datasource: { ...DATASOURCE },
    // A string query: every Grafana version reads it (newer ones migrate it to their query object).
    query,
    refresh: VariableRefresh.onTimeRangeChanged,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: VariableSort.alphabeticalAsc,
  };
}

/** The whole dashboard. */
export function buildDashboard(rules: Map<string, RuleThreshold> = ruleThresholds()): Dashboard {
  const panels: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  checkRowGroups(ROWS);
  for (const row of ROWS) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      panels: [],
      gridPos: { x: 0, y, w: 24, h: 1 },
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of row.panels) {
      const w = spec.w ?? (spec.type === 'stat' ? 4 : 8);
      const h = spec.type === 'stat' ? 4 : 8;
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panel(spec, id++, { x, y, w, h }, rules));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: 'perf-monitor-agent',
    title: 'Multi-Agent System Performance',
    description: 'perf-monitor-agent: hosts, application, Neo4j, alerts and the agent itself.',
    tags: ['perf-monitor', 'prometheus', 'opentelemetry'],
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    refresh: '30s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: { refresh_intervals: ['10s', '30s', '1m', '5m', '15m'] },
    timezone: 'browser',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: { selected: true, text: 'Prometheus', value: 'prometheus' },
          refresh: VariableRefresh.onDashboardLoad,
          regex: '',
        },
        variable('environment', 'Environment', `label_values(${PREFIX}_monitor_build_info, environment)`),
        variable(
          'instance',
          'Instance',
          `label_values(${PREFIX}_monitor_build_info{environment=~"$environment"}, agent_instance)`,
        ),
      ],
    },
    panels,
  };
}

/** Writes the JSON file as prettier formats it (what `npm run dashboard` does). */
export async function writeDashboard(path: string = DASHBOARD_PATH): Promise<void> {
  const { format, resolveConfig } = await import('prettier');
  const options = (await resolveConfig(path)) ?? {};
  writeFileSync(path, await format(JSON.stringify(buildDashboard()), { ...options, parser: 'json' }));
}

if (import.meta.main) await writeDashboard();
