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
