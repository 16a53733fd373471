/**
 * Where each catalog metric comes from, per edition. A source reads one thing from the server (or the
 * store files) and gives points; a source the server cannot serve throws Unavailable with the reason,
 * which `perf-monitor neo4j check` prints. No source scans the graph: counts come from the count store.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../../lib/errors.js';
import type { MetricPoint } from '../../model/metric.js';
import { CounterRound, CounterTracker } from '../counter-tracker.js';
import {
  connectionCounts,
  enterpriseJmxPoints,
  enterprisePageCachePoints,
  jvmReading,
  parseByteSize,
  countStorePoints,
  countStoreQuery,
  histogramDelta,
  histogramQuantilePoints,
  queryInvocationDurations,
  quantilePoints,
} from './answers.js';
import type { BucketCounts, CountColumn, ServerInfo } from './answers.js';
import type { Row } from './client.js';

/** The source cannot serve its metrics on this server; `reason` says why (edition, setting, host). */
export class Unavailable extends AgentError {
  constructor(reason: string) {
    super('E_PROBE_READ', reason);
  }
}

export const Q = {
  components: 'CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition',
  /** Is the server still there (asked after a query failed, to tell an outage from a bad query). */
  ping: 'RETURN 1 AS ok',
  tokens:
    "CALL db.labels() YIELD label RETURN 'label' AS kind, label AS name UNION ALL CALL db.relationshipTypes() YIELD relationshipType RETURN 'type' AS kind, relationshipType AS name",
  transactions: 'SHOW TRANSACTIONS YIELD database, connectionId RETURN database, connectionId',
  connections:
    'CALL dbms.listConnections() YIELD connectionId, connector, userAgent RETURN connectionId, connector, userAgent',
  queryStatsStatus: 'CALL db.stats.status() YIELD section, status RETURN section, status',
  queryStats:
    "CALL db.stats.retrieve('QUERIES') YIELD data RETURN data.query AS query, data.invocations AS invocations",
  storeDirs:
    "CALL dbms.listConfig('server.directories') YIELD name, value WHERE name IN ['server.directories.data', 'server.directories.transaction.logs.root'] RETURN name, value",
  enterpriseJmx: "CALL dbms.queryJmx('neo4j.metrics:*') YIELD name, attributes RETURN name, attributes",
  /**
   * The JVM's own management beans, which every edition serves: one round trip, one row per bean, only the
   * attributes read (a GarbageCollector bean's LastGcInfo alone is kilobytes). UNION ALL rather than
   * OPTIONAL CALL, so a bean a JVM lacks costs its rows only, on 4.4 as on 5.
   */
  jvm:
    "CALL dbms.queryJmx('java.lang:type=Memory') YIELD name, attributes " +
    'RETURN name, {heap: attributes.HeapMemoryUsage.value.properties, nonHeap: attributes.NonHeapMemoryUsage.value.properties} AS v ' +
    "UNION ALL CALL dbms.queryJmx('java.lang:type=GarbageCollector,*') YIELD name, attributes " +
    'RETURN name, {count: attributes.CollectionCount.value, timeMs: attributes.CollectionTime.value} AS v ' +
    "UNION ALL CALL dbms.queryJmx('java.lang:type=Threading') YIELD name, attributes " +
    'RETURN name, {threads: attributes.ThreadCount.value} AS v ' +
    "UNION ALL CALL dbms.queryJmx('java.lang:type=OperatingSystem') YIELD name, attributes " +
    'RETURN name, {cpu: attributes.ProcessCpuLoad.value, openFds: attributes.OpenFileDescriptorCount.value, maxFds: attributes.MaxFileDescriptorCount.value} AS v ' +
    "UNION ALL CALL dbms.queryJmx('java.lang:type=Runtime') YIELD name, attributes " +
    'RETURN name, {startTime: attributes.StartTime.value} AS v',
  /** The configured page cache size (5.x name, then 4.4's); unset means Neo4j sized it at start-up. */
  pageCacheSetting:
    "CALL dbms.listConfig('memory.pagecache.size') YIELD name, value WHERE name IN ['server.memory.pagecache.size', 'dbms.memory.pagecache.size'] RETURN name, value",
} as const;

export interface SourceContext {
  run(query: string, params?: Record<string, unknown>): Promise<Row[]>;
  database: string;
  info: ServerInfo;
  /** The connection URI's host is this machine, so the store files may be readable here. */
  localServer: boolean;
  nowMs: number;
}

export interface SourceDefinition {
  /** Stable id: the `query` label of monitor_neo4j_query_failures when it fails. */
  id: string;
  metrics: readonly string[];
}

export const SOURCE_DEFINITIONS: readonly SourceDefinition[] = [
  {
    id: 'counts',
    metrics: [
      'neo4j_node_count',
      'neo4j_relationship_count',
      'neo4j_label_count',
      'neo4j_relationship_type_count',
    ],
  },
  {
    id: 'connections',
    metrics: ['neo4j_transactions_active', 'neo4j_connection_pool_total', 'neo4j_connection_pool_idle'],
  },
  {
    id: 'query_durations',
    metrics: ['neo4j_query_duration_p50', 'neo4j_query_duration_p95', 'neo4j_query_duration_p99'],
  },
  {
    id: 'enterprise_metrics',
    metrics: [
      'neo4j_transactions_committed',
      'neo4j_transactions_rolled_back',
      'neo4j_database_size_bytes',
      'neo4j_page_cache_hits',
      'neo4j_page_cache_faults',
      'neo4j_page_cache_evictions',
    ],
  },
  { id: 'store_files', metrics: ['neo4j_database_size_bytes'] },
  {
    id: 'jvm',
    metrics: [
      'neo4j_jvm_heap_used_bytes',
      'neo4j_jvm_heap_committed_bytes',
      'neo4j_jvm_heap_max_bytes',
      'neo4j_jvm_heap_used_ratio',
      'neo4j_jvm_nonheap_used_bytes',
      'neo4j_jvm_gc_collections',
      'neo4j_jvm_gc_time_seconds',
      'neo4j_jvm_threads',
      'neo4j_process_cpu_utilization',
      'neo4j_process_open_fds',
      'neo4j_process_max_fds',
    ],
  },
  { id: 'page_cache_setting', metrics: ['neo4j_page_cache_size_bytes'] },
  { id: 'server_info', metrics: ['neo4j_server_info'] },
];

/** Every catalog metric some source can produce: what the collector collects when all are enabled. */
export const COLLECTED_METRICS: readonly string[] = [
  ...new Set(SOURCE_DEFINITIONS.flatMap((d) => d.metrics)),
];

export interface SourceResult {
  points: MetricPoint[];
  /** How the points were read, for `neo4j check`. */
  how: string;
}

/** Size in bytes of the regular files under `dir` (symlinks not followed); 0 when it does not exist. */
async function directoryBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let total = 0;
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    if (e.isDirectory()) total += await directoryBytes(path);
    else if (e.isFile()) total += (await lstat(path)).size;
  }
  return total;
}

export interface QueryDurationFeed {
  /** The preload's cumulative `neo4j_query_duration` histogram (seconds) for the database, if any. */
  (): BucketCounts | undefined;
}

/** The readers, with the little state some keep between collections. */
export class Neo4jSources {
  private _queryStatsSinceMs: number | undefined;
  private _countQuery: { key: string; query: string; columns: CountColumn[] } | undefined;
  private _queryStatsReadMs: number | undefined;
  private _queryStatsLast: SourceResult | undefined;
  private _lastHistogram: BucketCounts | undefined;
  private _storeDirs: string[] | undefined;
  private _pageCacheBytes: number | Unavailable | undefined;
  /** The GC totals made monotonic; kept across reconnects, so a restart of the server is a reset, not a drop. */
  private readonly _gcTotals = new CounterTracker();
  private _jvmStartMs: number | undefined;
  private readonly _ownQueries: Set<string>;

  constructor(
    private readonly _feed: QueryDurationFeed | undefined,
    private readonly _queryStatsIntervalMs: number,
    ownQueries: Iterable<string>,
  ) {
    this._ownQueries = new Set([...Object.values(Q), ...ownQueries]);
  }

  /** Forgets what was learnt about the server (after a reconnect it may be another one). */
  reset(): void {
    this._countQuery = undefined;
    this._queryStatsReadMs = undefined;
    this._queryStatsLast = undefined;
    this._storeDirs = undefined;
    this._pageCacheBytes = undefined;
  }

  read(id: string, ctx: SourceContext): Promise<SourceResult> {
    switch (id) {
      case 'counts':
        return this._counts(ctx);
      case 'connections':
        return this._connections(ctx);
      case 'query_durations':
        return this._queryDurations(ctx);
      case 'enterprise_metrics':
        return this._enterprise(ctx);
      case 'store_files':
        return this._storeFiles(ctx);
      case 'jvm':
        return this._jvm(ctx);
      case 'page_cache_setting':
        return this._pageCacheSetting(ctx);
      case 'server_info':
        return Promise.resolve({
          points: [
            {
              metric: 'neo4j_server_info',
              labels: { neo4j_version: ctx.info.version, edition: ctx.info.edition },
              value: 1,
            },
          ],
          how: 'dbms.components() (read once per connection)',
        });
      default:
        return Promise.reject(new AgentError('E_INVALID_ARGUMENT', `unknown source ${id}`));
    }
  }

  /**
   * The tokens and the counts in parallel, the counts with the tokens of the previous collection; asked
   * again (one more round trip) only when the tokens changed.
   */
  private async _counts(ctx: SourceContext): Promise<SourceResult> {
    const previous = this._countQuery;
    const [tokenRows, previousRows] = await Promise.all([
      ctx.run(Q.tokens),
      previous === undefined ? Promise.resolve(undefined) : ctx.run(previous.query),
    ]);
    const labels = tokenRows.filter((r) => r.kind === 'label').map((r) => String(r.name));
    const types = tokenRows.filter((r) => r.kind === 'type').map((r) => String(r.name));
    const key = JSON.stringify([labels, types]);
    let rows = previousRows;
    let current = previous;
    if (previous?.key !== key || rows === undefined) {
      current = { key, ...countStoreQuery(labels, types) };
      this._ownQueries.add(current.query);
      rows = await ctx.run(current.query);
    }
    this._countQuery = current;
    return {
      points: countStorePoints(rows, current!.columns),
      how: 'count store: one query of count(n)/count(r) subqueries per label and type (tokens from db.labels(), db.relationshipTypes())',
    };
  }

  private async _connections(ctx: SourceContext): Promise<SourceResult> {
    const [connections, transactions] = await Promise.all([ctx.run(Q.connections), ctx.run(Q.transactions)]);
    const c = connectionCounts(connections, transactions, ctx.database);
    return {
      points: [
        { metric: 'neo4j_transactions_active', labels: {}, value: c.active },
        { metric: 'neo4j_connection_pool_total', labels: {}, value: c.total },
        { metric: 'neo4j_connection_pool_idle', labels: {}, value: c.idle },
      ],
      how: 'SHOW TRANSACTIONS and dbms.listConnections() (the agent’s own left out)',
    };
  }

  private async _queryDurations(ctx: SourceContext): Promise<SourceResult> {
    const histogram = this._feed?.();
    if (histogram !== undefined) {
      const window = histogramDelta(this._lastHistogram, histogram);
      this._lastHistogram = histogram;
      return {
        points: histogramQuantilePoints(window),
        how: 'neo4j_query_duration histogram of the instrumented application (since the last collection)',
      };
    }
    if (
      this._queryStatsLast !== undefined &&
      this._queryStatsReadMs !== undefined &&
      ctx.nowMs - this._queryStatsReadMs < this._queryStatsIntervalMs
    )
      return this._queryStatsLast;
    const status = await ctx.run(Q.queryStatsStatus);
    const queries = status.find((r) => r.section === 'QUERIES');
    if (queries?.status !== 'collecting')
      throw new Unavailable(
        "the server is not collecting query statistics (db.stats.status() QUERIES is not 'collecting'; " +
          "CALL db.stats.collect('QUERIES') starts it) and no instrumented application runs in this process",
      );
    const rows = await ctx.run(Q.queryStats);
    const since = this._queryStatsSinceMs ?? 0;
    const { durationsMs, latestStartMs } = queryInvocationDurations(rows, since, this._ownQueries);
    this._queryStatsSinceMs = latestStartMs;
    this._queryStatsReadMs = ctx.nowMs;
    this._queryStatsLast = {
      points: quantilePoints(durationsMs),
      how: "db.stats.retrieve('QUERIES') invocations since its previous read (compile + execution time)",
    };
    return this._queryStatsLast;
  }

  private async _enterprise(ctx: SourceContext): Promise<SourceResult> {
    if (ctx.info.edition !== 'enterprise')
      throw new Unavailable(
        `${ctx.info.edition} edition ${ctx.info.version} has no transaction counters or store size metrics (Enterprise metrics only)`,
      );
    const rows = await ctx.run(Q.enterpriseJmx);
    const points = [...enterpriseJmxPoints(rows, ctx.database), ...enterprisePageCachePoints(rows)];
    if (points.length === 0)
      throw new Unavailable(
        'no neo4j.metrics JMX beans for this database (server.metrics.enabled and server.metrics.jmx.enabled must be true)',
      );
    return { points, how: "dbms.queryJmx('neo4j.metrics:*') (Enterprise metrics)" };
  }

  /**
   * Heap, GC, threads, CPU and file descriptors from the JVM's platform beans, which Community serves too. The
   * GC totals are made monotonic: a server that restarted (its JVM start time changed) counts from zero again.
   */
  private async _jvm(ctx: SourceContext): Promise<SourceResult> {
    const reading = jvmReading(await ctx.run(Q.jvm));
    if (reading.points.length === 0 && reading.gc.length === 0)
      throw new Unavailable("dbms.queryJmx('java.lang:*') returned none of the JVM's platform beans");
    if (reading.startTimeMs !== undefined && reading.startTimeMs !== this._jvmStartMs) {
      // Another JVM: every total it reports is new since its start.
      if (this._jvmStartMs !== undefined) this._gcTotals.retain(new Set());
      this._jvmStartMs = reading.startTimeMs;
    }
    const round = new CounterRound(this._gcTotals, 'gc');
    for (const g of reading.gc) {
      round.add('neo4j_jvm_gc_collections', g.gc, g.collections);
      round.add('neo4j_jvm_gc_time_seconds', g.gc, g.timeMs, 1 / 1000);
    }
    return {
      points: [...reading.points, ...round.finish()],
      how: "dbms.queryJmx('java.lang:type=Memory|GarbageCollector|Threading|OperatingSystem|Runtime') in one query",
    };
  }

  /** The configured page cache size, read once per connection (it changes only with a restart). */
  private async _pageCacheSetting(ctx: SourceContext): Promise<SourceResult> {
    if (this._pageCacheBytes === undefined) {
      const rows = await ctx.run(Q.pageCacheSetting);
      const row = rows.find((r) => r.name === 'server.memory.pagecache.size') ?? rows[0];
      const bytes = parseByteSize(row?.value);
      this._pageCacheBytes =
        bytes ??
        new Unavailable(
          typeof row?.value === 'string'
            ? `server.memory.pagecache.size is ${JSON.stringify(row.value.slice(0, 40))}, not a size`
            : 'server.memory.pagecache.size is not set: Neo4j sized the page cache at start-up and does not say how large',
        );
    }
    if (this._pageCacheBytes instanceof Unavailable) throw this._pageCacheBytes;
    return {
      points: [{ metric: 'neo4j_page_cache_size_bytes', labels: {}, value: this._pageCacheBytes }],
      how: 'server.memory.pagecache.size from dbms.listConfig() (read once per connection)',
    };
  }

  private async _storeFiles(ctx: SourceContext): Promise<SourceResult> {
    if (!ctx.localServer)
      throw new Unavailable(
        `${ctx.info.edition} edition has no store size metric, and the server is not on this host to read its store files`,
      );
    if (this._storeDirs === undefined) {
      const rows = await ctx.run(Q.storeDirs);
      const value = (name: string): string | undefined => {
        const v = rows.find((r) => r.name === name)?.value;
        return typeof v === 'string' ? v : undefined;
      };
      const data = value('server.directories.data');
      const txRoot =
        value('server.directories.transaction.logs.root') ?? (data && join(data, 'transactions'));
      if (data === undefined) throw new Unavailable('dbms.listConfig() does not name the data directory');
      this._storeDirs = [join(data, 'databases', ctx.database), join(txRoot!, ctx.database)];
    }
    const dirs = this._storeDirs;
    let readable = false;
    for (const d of dirs) {
      try {
        await readdir(d);
        readable = true;
      } catch {
        // Checked together below.
      }
    }
    if (!readable)
      throw new Unavailable(
        `the store directory ${dirs[0]} is not readable from this host (another machine or user)`,
      );
    let bytes = 0;
    for (const d of dirs) bytes += await directoryBytes(d);
    return {
      points: [{ metric: 'neo4j_database_size_bytes', labels: {}, value: bytes }],
      how: `sizes of the store and transaction log files (${dirs.join(', ')})`,
    };
  }
}
