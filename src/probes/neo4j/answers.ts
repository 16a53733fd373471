/**
 * Pure readers of Neo4j's answers: rows in, metric points out. Each is tested on answers recorded from a
 * real Community 5.26 server, and (Enterprise-only) on answers shaped from Neo4j's documentation.
 */
import type { MetricPoint } from '../../model/metric.js';
import { bucketCountsQuantile, sampleQuantile } from '../../model/quantile.js';
import type { Row } from './client.js';
import { AGENT_USER_AGENT_PREFIX } from './client.js';

/** `CALL dbms.components()`: name, version and edition of the server. */
export interface ServerInfo {
  version: string;
  edition: string;
}

export function parseComponents(rows: readonly Row[]): ServerInfo {
  const kernel = rows.find((r) => r.name === 'Neo4j Kernel') ?? rows[0];
  const versions = kernel?.versions;
  return {
    version: Array.isArray(versions) && typeof versions[0] === 'string' ? versions[0] : 'unknown',
    edition: typeof kernel?.edition === 'string' ? kernel.edition : 'unknown',
  };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** What one column of countStoreQuery()'s single row holds. */
export interface CountColumn {
  column: string;
  metric: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * One query for every count, one row with a column per count: all nodes, all relationships, then each
 * label and relationship type. Each count is a subquery that returns nothing but `count()`, which the
 * planner answers from the count store (NodeCountFromCountStore, RelationshipCountFromCountStore); a
 * constant beside the count (a UNION of `RETURN 'label' AS kind, count(n)`) would make it scan.
 */
export function countStoreQuery(
  labels: readonly string[],
  types: readonly string[],
): { query: string; columns: CountColumn[] } {
  const columns: CountColumn[] = [
    { column: 'c0', metric: 'neo4j_node_count', labels: {} },
    { column: 'c1', metric: 'neo4j_relationship_count', labels: {} },
  ];
  const calls = [
    'CALL { MATCH (n) RETURN count(n) AS c0 }',
    'CALL { MATCH ()-[r]->() RETURN count(r) AS c1 }',
  ];
  for (const l of labels) {
    const c = `c${columns.length}`;
    columns.push({ column: c, metric: 'neo4j_label_count', labels: { label: l } });
    calls.push(`CALL { MATCH (n:${quoteName(l)}) RETURN count(n) AS ${c} }`);
  }
  for (const t of types) {
    const c = `c${columns.length}`;
    columns.push({ column: c, metric: 'neo4j_relationship_type_count', labels: { type: t } });
    calls.push(`CALL { MATCH ()-[r:${quoteName(t)}]->() RETURN count(r) AS ${c} }`);
  }
  return { query: `${calls.join(' ')} RETURN ${columns.map((c) => c.column).join(', ')}`, columns };
}

/** The row of countStoreQuery() as points. */
export function countStorePoints(rows: readonly Row[], columns: readonly CountColumn[]): MetricPoint[] {
  const row = rows[0];
  if (row === undefined) return [];
  const points: MetricPoint[] = [];
  for (const c of columns) {
    const count = num(row[c.column]);
    if (count !== undefined) points.push({ metric: c.metric, labels: c.labels, value: count });
  }
  return points;
}

/** Names a label or relationship type in Cypher: backquoted, backquotes doubled. */
export function quoteName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

export interface ConnectionCounts {
  /** Bolt connections of every client but the agent. */
  total: number;
  /** Of those, the ones with no transaction open. */
  idle: number;
  /** Transactions open on the monitored database, the agent's own left out. */
  active: number;
}

/**
 * From `CALL dbms.listConnections()` and `SHOW TRANSACTIONS`: the agent's own connections (recognised by
 * their Bolt user agent) and their transactions are left out, so the numbers describe the applications.
 */
export function connectionCounts(
  connections: readonly Row[],
  transactions: readonly Row[],
  database: string,
): ConnectionCounts {
  const own = new Set<unknown>();
  const others = new Set<unknown>();
  for (const c of connections) {
    if (c.connector !== undefined && c.connector !== 'bolt') continue;
    const ua = typeof c.userAgent === 'string' ? c.userAgent : '';
    (ua.startsWith(AGENT_USER_AGENT_PREFIX) ? own : others).add(c.connectionId);
  }
  const busy = new Set<unknown>();
  let active = 0;
  for (const t of transactions) {
    if (own.has(t.connectionId)) continue;
    busy.add(t.connectionId);
    if (t.database === database) active++;
  }
  let idle = 0;
  for (const id of others) if (!busy.has(id)) idle++;
  return { total: others.size, idle, active };
}

const QUANTILE_METRICS = [
  ['neo4j_query_duration_p50', 50],
  ['neo4j_query_duration_p95', 95],
  ['neo4j_query_duration_p99', 99],
] as const;

/**
 * p50/p95/p99 points (milliseconds) of a set of durations in milliseconds, the sample quantile of
 * quantile_over_time (model/quantile); none for an empty set.
 */
export function quantilePoints(durationsMs: readonly number[]): MetricPoint[] {
  if (durationsMs.length === 0) return [];
  const scratch = { buf: new Float64Array(durationsMs.length) };
  return QUANTILE_METRICS.map(([metric, p]) => ({
    metric,
    labels: {},
    value: sampleQuantile(p / 100, durationsMs, 0, durationsMs.length, scratch),
  }));
}

/**
 * `CALL db.stats.retrieve('QUERIES') YIELD data RETURN data.query AS query, data.invocations AS
 * invocations`: the durations (compile + execution, in ms) of the invocations that started after
 * `sinceMs`, leaving out `ignore` (the agent's own queries). Also returns the latest start seen.
 */
export function queryInvocationDurations(
  rows: readonly Row[],
  sinceMs: number,
  ignore: ReadonlySet<string>,
): { durationsMs: number[]; latestStartMs: number } {
  const durationsMs: number[] = [];
  let latestStartMs = sinceMs;
  for (const row of rows) {
    if (typeof row.query !== 'string' || ignore.has(row.query.trim())) continue;
    const invocations = Array.isArray(row.invocations) ? (row.invocations as Row[]) : [];
    for (const inv of invocations) {
      const start = num(inv.startTimestampMillis);
      if (start === undefined || start <= sinceMs) continue;
      const us = (num(inv.elapsedCompileTimeInUs) ?? 0) + (num(inv.elapsedExecutionTimeInUs) ?? 0);
      durationsMs.push(us / 1000);
      if (start > latestStartMs) latestStartMs = start;
    }
  }
  return { durationsMs, latestStartMs };
}

/** A histogram as the agent's samples carry it: per-bucket (not cumulative) counts. */
export interface BucketCounts {
  /** Upper bounds in seconds, ascending; one more count than bounds (+Inf). */
  boundaries: readonly number[];
  counts: readonly number[];
}

/** The difference of two cumulative histograms of the same buckets (`after - before`), or `after` itself after a reset. */
export function histogramDelta(before: BucketCounts | undefined, after: BucketCounts): BucketCounts {
  if (
    before === undefined ||
    before.boundaries.length !== after.boundaries.length ||
    before.boundaries.some((b, i) => b !== after.boundaries[i])
  )
    return after;
  const counts = after.counts.map((c, i) => c - (before.counts[i] ?? 0));
  return counts.some((c) => c < 0) ? after : { boundaries: after.boundaries, counts };
}

/** p50/p95/p99 points in milliseconds of a histogram in seconds (histogram_quantile); none when it is empty. */
export function histogramQuantilePoints(h: BucketCounts): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const [metric, p] of QUANTILE_METRICS) {
    const v = bucketCountsQuantile(p / 100, h);
    if (!Number.isNaN(v)) points.push({ metric, labels: {}, value: v * 1000 });
  }
  return points;
}

/**
 * Enterprise only: `CALL dbms.queryJmx('neo4j.metrics:*') YIELD name, attributes`. Each metric is one
 * bean named `neo4j.metrics:name=<prefix>.database.<db>.<metric>`; counters carry `attributes.Count.value`,
 * gauges `attributes.Value.value`.
 */
export function enterpriseJmxPoints(rows: readonly Row[], database: string): MetricPoint[] {
  const wanted: ReadonlyArray<[suffix: string, metric: string, attribute: 'Count' | 'Value']> = [
    [`.database.${database}.transaction.committed`, 'neo4j_transactions_committed', 'Count'],
    [`.database.${database}.transaction.rollbacks`, 'neo4j_transactions_rolled_back', 'Count'],
    [`.database.${database}.store.size.total`, 'neo4j_database_size_bytes', 'Value'],
  ];
  const points: MetricPoint[] = [];
  for (const row of rows) {
    if (typeof row.name !== 'string') continue;
    const beanName = row.name.replace(/^[^:]*:name=/, '');
    const match = wanted.find(([suffix]) => beanName.endsWith(suffix));
    if (match === undefined) continue;
    const attributes = row.attributes as Record<string, { value?: unknown } | undefined> | undefined;
    const value = num(attributes?.[match[2]]?.value);
    if (value !== undefined) points.push({ metric: match[1], labels: {}, value });
  }
  return points;
}

/**
 * Enterprise only, from the same beans: the page cache counters, global (`<prefix>.dbms.page_cache.hits` on 5,
 * `<prefix>.page_cache.hits` on 4.4 without metric namespaces).
 */
export function enterprisePageCachePoints(rows: readonly Row[]): MetricPoint[] {
  const wanted: ReadonlyArray<[suffix: string, metric: string]> = [
    ['.page_cache.hits', 'neo4j_page_cache_hits'],
    ['.page_cache.page_faults', 'neo4j_page_cache_faults'],
    ['.page_cache.evictions', 'neo4j_page_cache_evictions'],
  ];
  const points: MetricPoint[] = [];
  for (const row of rows) {
    if (typeof row.name !== 'string') continue;
    const beanName = row.name.replace(/^[^:]*:name=/, '');
    if (beanName.includes('.database.')) continue;
    const match = wanted.find(([suffix]) => beanName.endsWith(suffix));
    if (match === undefined) continue;
    const attributes = row.attributes as Record<string, { value?: unknown } | undefined> | undefined;
    const value = num(attributes?.Count?.value);
    if (value !== undefined) points.push({ metric: match[1], labels: {}, value });
  }
  return points;
}

/** A GarbageCollector bean's cumulative totals, before they are made monotonic across server restarts. */
export interface GcTotals {
  gc: string;
  collections: number;
  timeMs: number;
}

/** What `Q.jvm` answers: the gauges as points, the collectors' raw totals apart (see Neo4jSources). */
export interface JvmReading {
  points: MetricPoint[];
  gc: GcTotals[];
  /** When the JVM started (ms since the epoch): a new value means the server restarted and its totals did too. */
  startTimeMs: number | undefined;
}

/** The `name=` key of a JMX object name (`java.lang:name=G1 Young Generation,type=GarbageCollector`). */
function beanKey(objectName: string, key: string): string | undefined {
  const props = objectName.slice(objectName.indexOf(':') + 1);
  for (const part of props.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === key) return part.slice(eq + 1);
  }
  return undefined;
}

/** A non-negative finite number (the JVM answers -1 for "undefined", e.g. no max, no CPU reading yet). */
function known(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n >= 0 ? n : undefined;
}

/**
 * `Q.jvm`: one row per bean, `{name, v}` with only the attributes read. Values the JVM does not know (-1)
 * are left out rather than exported as a number; heap use over max is given where max is known.
 */
export function jvmReading(rows: readonly Row[]): JvmReading {
  const points: MetricPoint[] = [];
  const gc: GcTotals[] = [];
  let startTimeMs: number | undefined;
  const push = (metric: string, value: number | undefined, labels: Record<string, string> = {}): void => {
    if (value !== undefined) points.push({ metric, labels, value });
  };
  for (const row of rows) {
    if (typeof row.name !== 'string') continue;
    const v = (row.v ?? {}) as Record<string, unknown>;
    const type = beanKey(row.name, 'type');
    if (type === 'Memory') {
      const heap = (v.heap ?? {}) as Record<string, unknown>;
      const nonHeap = (v.nonHeap ?? {}) as Record<string, unknown>;
      const used = known(heap.used);
      const max = known(heap.max);
      push('neo4j_jvm_heap_used_bytes', used);
      push('neo4j_jvm_heap_committed_bytes', known(heap.committed));
      push('neo4j_jvm_heap_max_bytes', max);
      push(
        'neo4j_jvm_heap_used_ratio',
        used !== undefined && max !== undefined && max > 0 ? used / max : undefined,
      );
      push('neo4j_jvm_nonheap_used_bytes', known(nonHeap.used));
    } else if (type === 'GarbageCollector') {
      const name = beanKey(row.name, 'name');
      const collections = known(v.count);
      const timeMs = known(v.timeMs);
      if (name !== undefined && collections !== undefined && timeMs !== undefined)
        gc.push({ gc: name, collections, timeMs });
    } else if (type === 'Threading') {
      push('neo4j_jvm_threads', known(v.threads));
    } else if (type === 'OperatingSystem') {
      push('neo4j_process_cpu_utilization', known(v.cpu));
      push('neo4j_process_open_fds', known(v.openFds));
      push('neo4j_process_max_fds', known(v.maxFds));
    } else if (type === 'Runtime') {
      startTimeMs = known(v.startTime);
    }
  }
  return { points, gc, startTimeMs };
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * A Neo4j byte-size setting as the server prints it (`128.00MiB`) or as written in neo4j.conf (`512m`, `2g`,
 * `1073741824`), in bytes; undefined for anything else. Neo4j's units are binary (k = 1024).
 */
export function parseByteSize(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (m === null) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}
