import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/lib/clock.js';
import { guardedFailures } from '../../../../src/lib/guard.js';
import { MemoryLogger } from '../../../../src/lib/logger.js';
import type { Neo4jClient, Row, RunOptions } from '../../../../src/probes/neo4j/client.js';
import {
  Neo4jCollector,
  backoffMs,
  boltAddress,
  isLocalUri,
} from '../../../../src/probes/neo4j/collector.js';
import type { Neo4jSettings } from '../../../../src/probes/neo4j/collector.js';
import { COLLECTED_METRICS, Q } from '../../../../src/probes/neo4j/sources.js';
import { countStoreQuery } from '../../../../src/probes/neo4j/answers.js';
import type { MetricPoint } from '../../../../src/model/metric.js';

type Answers = Record<string, Row[]>;
const load = (name: string): Answers =>
  JSON.parse(fs.readFileSync(new URL(`../../../fixtures/neo4j/${name}`, import.meta.url), 'utf8')) as Answers;
const community = load('community-5.26.json');
// Shaped from Enterprise documentation, not recorded from a server.
const enterpriseDocs = load('enterprise-5.26-from-docs.json');

/** Answers by query text; throws what `fail` says for a query, or everything when `down`. */
class FakeClient implements Neo4jClient {
  down: { code: string; message: string } | undefined;
  calls: string[] = [];
  closed = 0;
  /** What close() rejects with, if anything. */
  closeFails: Error | undefined;
  constructor(
    readonly answers: Map<string, Row[]>,
    readonly fail: Map<string, { code: string; message: string }>,
  ) {}
  run(query: string, _params: Record<string, unknown>, _opts: RunOptions): Promise<Row[]> {
    this.calls.push(query);
    if (this.down !== undefined)
      return Promise.reject(Object.assign(new Error(this.down.message), this.down));
    const f = this.fail.get(query);
    if (f !== undefined) return Promise.reject(Object.assign(new Error(f.message), f));
    const rows = this.answers.get(query);
    if (rows === undefined) return Promise.reject(new Error(`no answer recorded for ${query}`));
    return Promise.resolve(rows);
  }
  close(): Promise<void> {
    this.closed++;
    return this.closeFails === undefined ? Promise.resolve() : Promise.reject(this.closeFails);
  }
}

function communityAnswers(): Map<string, Row[]> {
  return new Map<string, Row[]>([
    [Q.components, community.components!],
    [Q.ping, [{ ok: 1 }]],
    [Q.tokens, community.tokens!],
    [countStoreQuery(['Camera', 'Zone', 'Area'], ['SEES']).query, community.counts!],
    [Q.connections, community.connections!],
    [Q.transactions, community.transactions!],
    [Q.queryStatsStatus, community.queryStatsStatus!],
    [Q.queryStats, community.queryStats!],
    [Q.storeDirs, community.storeDirs!],
    [Q.jvm, community.jvm!],
    [Q.pageCacheSetting, community.pageCacheSetting!],
  ]);
}

function settings(over: Partial<Neo4jSettings> = {}): Neo4jSettings {
  return {
    uri: 'bolt://db.example:7687',
    user: 'neo4j',
    password: 'secret-password',
    database: 'neo4j',
    maxConnectionPoolSize: 5,
    connectionTimeoutMs: 1000,
    queryTimeoutMs: 1000,
    intervalMs: 10_000,
    queryStatsIntervalMs: 0,
    enabledMetrics: new Set(COLLECTED_METRICS),
    customQueries: [],
    ...over,
  };
}

function setup(
  s: Neo4jSettings = settings(),
  answers = communityAnswers(),
  fail = new Map<string, { code: string; message: string }>(),
) {
  const clock = new ManualClock();
  const logger = new MemoryLogger();
  const clients: FakeClient[] = [];
  let down: { code: string; message: string } | undefined;
  const collector = new Neo4jCollector({
    settings: s,
    clock,
    logger,
    agentVersion: '0.1.0',
    random: () => 1,
    createClient: () => {
      const c = new FakeClient(answers, fail);
      c.down = down;
      clients.push(c);
      return c;
    },
  });
  return {
    clock,
    logger,
    clients,
    collector,
    setDown: (d: { code: string; message: string } | undefined): void => {
      down = d;
      for (const c of clients) c.down = d;
    },
  };
}

const value = (
  points: MetricPoint[],
  metric: string,
  labels: Record<string, string> = {},
): number | undefined =>
  points.find((p) => p.metric === metric && JSON.stringify(p.labels) === JSON.stringify(labels))?.value;

const UNAVAILABLE = { code: 'ServiceUnavailable', message: 'Failed to connect to server' };

describe('Neo4jCollector', () => {
  it('should read the Community catalog from recorded answers, leaving Enterprise-only metrics absent', async () => {
    const { collector } = setup();
    await collector.collectNow();
    const snap = await collector.collect();
    expect(snap.status).toBe('ok');
    const p = snap.points;
    expect(value(p, 'neo4j_up')).toBe(1);
    expect(value(p, 'neo4j_node_count')).toBe(11);
    expect(value(p, 'neo4j_label_count', { label: 'Camera' })).toBe(6);
    expect(value(p, 'neo4j_relationship_type_count', { type: 'SEES' })).toBe(5);
    expect(value(p, 'neo4j_transactions_active')).toBe(1);
    expect(value(p, 'neo4j_connection_pool_total')).toBe(2);
    expect(value(p, 'neo4j_connection_pool_idle')).toBe(1);
    expect(value(p, 'neo4j_query_duration_p99')).toBeGreaterThan(0);
    expect(p.some((x) => x.metric === 'neo4j_transactions_committed')).toBe(false);
    expect(p.some((x) => x.metric === 'neo4j_database_size_bytes')).toBe(false);
    const states = collector.sourceStates();
    expect(states.get('enterprise_metrics')).toEqual({
      state: 'unavailable',
      detail: expect.stringContaining('community edition 5.26.30') as string,
    });
    // Not on this host: the store files cannot be read.
    expect(states.get('store_files')?.detail).toContain('not on this host');
  });

  it('should read committed, rolled back and store size from Enterprise metrics (answers shaped from docs)', async () => {
    const answers = communityAnswers();
    answers.set(Q.components, enterpriseDocs.components!);
    answers.set(Q.enterpriseJmx, enterpriseDocs.enterpriseJmx!);
    const { collector } = setup(settings({ uri: 'bolt://127.0.0.1:7687' }), answers);
    await collector.collectNow();
    const p = (await collector.collect()).points;
    expect(value(p, 'neo4j_transactions_committed')).toBe(4521);
    expect(value(p, 'neo4j_transactions_rolled_back')).toBe(17);
    // Enterprise metrics win over the store files, and the size is reported once.
    expect(p.filter((x) => x.metric === 'neo4j_database_size_bytes')).toEqual([
      { metric: 'neo4j_database_size_bytes', labels: {}, value: 268435456 },
    ]);
    expect(collector.producedBy().get('neo4j_database_size_bytes')).toBe('enterprise_metrics');
  });

  it('should read JVM health, the page cache size and the server version on Community (recorded answers)', async () => {
    const { collector } = setup();
    await collector.collectNow();
    const p = (await collector.collect()).points;
    expect(value(p, 'neo4j_jvm_heap_used_bytes')).toBe(63756288);
    expect(value(p, 'neo4j_jvm_heap_committed_bytes')).toBe(143654912);
    expect(value(p, 'neo4j_jvm_heap_max_bytes')).toBe(805306368);
    expect(value(p, 'neo4j_jvm_heap_used_ratio')).toBeCloseTo(63756288 / 805306368, 12);
    expect(value(p, 'neo4j_jvm_nonheap_used_bytes')).toBe(150466664);
    expect(value(p, 'neo4j_jvm_gc_collections', { gc: 'G1 Young Generation' })).toBe(24);
    expect(value(p, 'neo4j_jvm_gc_time_seconds', { gc: 'G1 Young Generation' })).toBeCloseTo(0.253, 12);
    expect(value(p, 'neo4j_jvm_gc_collections', { gc: 'G1 Old Generation' })).toBe(0);
    expect(value(p, 'neo4j_jvm_threads')).toBe(38);
    expect(value(p, 'neo4j_process_cpu_utilization')).toBe(0);
    expect(value(p, 'neo4j_process_open_fds')).toBe(339);
    expect(value(p, 'neo4j_process_max_fds')).toBe(20000);
    expect(value(p, 'neo4j_page_cache_size_bytes')).toBe(128 * 1024 * 1024);
    expect(value(p, 'neo4j_server_info', { neo4j_version: '5.26.30', edition: 'community' })).toBe(1);
    // Page cache counters are Enterprise metrics: absent, with the reason.
    expect(p.some((x) => x.metric === 'neo4j_page_cache_hits')).toBe(false);
    expect(collector.sourceStates().get('jvm')?.state).toBe('ok');
  });

  it('should keep GC totals monotonic: a restarted server (new JVM start time) counts from zero again', async () => {
    const answers = communityAnswers();
    const { collector, setDown } = setup(settings(), answers);
    const jvmWith = (start: number, youngCount: number, youngMs: number): Row[] =>
      community.jvm!.map((r) => {
        const name = String(r.name);
        if (name.includes('type=Runtime')) return { ...r, v: { startTime: start } };
        if (name.includes('G1 Young')) return { ...r, v: { count: youngCount, timeMs: youngMs } };
        return r;
      });
    const young = { gc: 'G1 Young Generation' };
    const read = async (): Promise<[number | undefined, number | undefined]> => {
      await collector.collectNow();
      const p = (await collector.collect()).points;
      return [value(p, 'neo4j_jvm_gc_collections', young), value(p, 'neo4j_jvm_gc_time_seconds', young)];
    };
    answers.set(Q.jvm, jvmWith(1000, 24, 250));
    expect(await read()).toEqual([24, 0.25]);
    answers.set(Q.jvm, jvmWith(1000, 30, 300));
    expect(await read()).toEqual([30, 0.3]);
    // Down: the JVM series are absent, not frozen.
    setDown(UNAVAILABLE);
    expect(await read()).toEqual([undefined, undefined]);
    // Back as a new JVM that already did more collections (40) than the old one had (30): all of them are new.
    setDown(undefined);
    answers.set(Q.jvm, jvmWith(2000, 40, 100));
    expect(await read()).toEqual([70, 0.4]);
    // The same JVM after a network blip: only what happened since.
    setDown(UNAVAILABLE);
    await read();
    setDown(undefined);
    answers.set(Q.jvm, jvmWith(2000, 45, 150));
    expect(await read()).toEqual([75, 0.45]);
  });

  it('should read the page cache counters of Enterprise metrics (answers shaped from docs)', async () => {
    const answers = communityAnswers();
    answers.set(Q.components, enterpriseDocs.components!);
    answers.set(Q.enterpriseJmx, enterpriseDocs.enterpriseJmx!);
    const { collector } = setup(settings(), answers);
    await collector.collectNow();
    const p = (await collector.collect()).points;
    expect(value(p, 'neo4j_page_cache_hits')).toBe(912345);
    expect(value(p, 'neo4j_page_cache_faults')).toBe(2048);
    expect(value(p, 'neo4j_page_cache_evictions')).toBe(512);
    expect(value(p, 'neo4j_server_info', { neo4j_version: '5.26.30', edition: 'enterprise' })).toBe(1);
  });

  it('should say why the page cache size is absent when the setting is not set', async () => {
    const answers = communityAnswers();
    answers.set(Q.pageCacheSetting, [{ name: 'server.memory.pagecache.size', value: null }]);
    const { collector } = setup(settings(), answers);
    await collector.collectNow();
    expect(collector.sourceStates().get('page_cache_setting')).toEqual({
      state: 'unavailable',
      detail: expect.stringContaining('is not set') as string,
    });
  });

  it('should say how to turn Enterprise metrics on when the beans are missing (answers shaped from docs)', async () => {
    const answers = communityAnswers();
    answers.set(Q.components, enterpriseDocs.components!);
    answers.set(Q.enterpriseJmx, enterpriseDocs.enterpriseJmxMetricsOff!);
    const { collector } = setup(settings(), answers);
    await collector.collectNow();
    expect(collector.sourceStates().get('enterprise_metrics')?.detail).toContain(
      'server.metrics.jmx.enabled',
    );
  });

  it('should ask for every count in one count-store query, asked beside the tokens once they are known', async () => {
    const answers = communityAnswers();
    const { collector, clients } = setup(settings(), answers);
    const union = countStoreQuery(['Camera', 'Zone', 'Area'], ['SEES']).query;
    await collector.collectNow();
    expect(clients[0]!.calls.filter((q) => q === union)).toHaveLength(1);
    expect(collector.sourceStates().get('counts')?.detail).toContain('count store');
    // A new label: the counts asked with the old tokens are replaced by a second query with the new ones.
    const withGone = countStoreQuery(['Camera', 'Zone', 'Area', 'Gone'], ['SEES']);
    answers.set(Q.tokens, [...community.tokens!, { kind: 'label', name: 'Gone' }]);
    answers.set(withGone.query, [{ ...community.counts![0], c5: 0, c6: 5 }]);
    const before = clients[0]!.calls.length;
    await collector.collectNow();
    const calls = clients[0]!.calls.slice(before);
    expect(calls.filter((q) => q === union)).toHaveLength(1);
    expect(calls.filter((q) => q === withGone.query)).toHaveLength(1);
    const p = (await collector.collect()).points;
    expect(value(p, 'neo4j_label_count', { label: 'Gone' })).toBe(0);
    expect(value(p, 'neo4j_relationship_type_count', { type: 'SEES' })).toBe(5);
  });

  it('should read the server’s query statistics at most once per query_stats_interval, reporting the last meanwhile', async () => {
    const { collector, clients, clock } = setup(settings({ queryStatsIntervalMs: 60_000 }));
    await collector.collectNow();
    const first = (await collector.collect()).points.filter((p) =>
      p.metric.startsWith('neo4j_query_duration'),
    );
    expect(first).toHaveLength(3);
    await clock.advance(30_000);
    await collector.collectNow();
    expect(clients[0]!.calls.filter((q) => q === Q.queryStats)).toHaveLength(1);
    const meanwhile = (await collector.collect()).points.filter((p) =>
      p.metric.startsWith('neo4j_query_duration'),
    );
    expect(meanwhile).toEqual(first);
    await clock.advance(30_000);
    await collector.collectNow();
    expect(clients[0]!.calls.filter((q) => q === Q.queryStats)).toHaveLength(2);
    // Nothing new since the previous read: no percentiles rather than old ones.
    expect((await collector.collect()).points.some((p) => p.metric.startsWith('neo4j_query_duration'))).toBe(
      false,
    );
  });

  it('should not query disabled metrics', async () => {
    const { collector, clients } = setup(settings({ enabledMetrics: new Set(['neo4j_node_count']) }));
    await collector.collectNow();
    expect(clients[0]!.calls.sort()).toEqual(
      [Q.components, Q.tokens, countStoreQuery(['Camera', 'Zone', 'Area'], ['SEES']).query].sort(),
    );
    const metrics = (await collector.collect()).points.map((p) => p.metric);
    expect(metrics).toContain('neo4j_node_count');
    expect(metrics).not.toContain('neo4j_label_count');
  });

  it('should log one warning going down, one info coming back, and back off up to the interval', async () => {
    const { collector, clock, logger, setDown, clients } = setup(settings({ intervalMs: 10_000 }));
    await collector.start();
    await clock.advance(0);
    expect(collector.up).toBe(true);
    setDown(UNAVAILABLE);
    await clock.advance(10_000);
    expect(collector.up).toBe(false);
    const snap = await collector.collect();
    expect(snap.status).toBe('unavailable');
    expect(value(snap.points, 'neo4j_up')).toBe(0);
    expect(value(snap.points, 'neo4j_node_count')).toBeUndefined();
    expect(value(snap.points, 'monitor_neo4j_query_failures', { query: 'connect' })).toBe(1);
    // Attempts at 1 s, 2 s, 4 s, 8 s, then every 10 s (random = 1: no jitter reduction).
    const attemptsBefore = clients.length;
    await clock.advance(1000 + 2000 + 4000 + 8000 + 10_000 + 10_000);
    expect(clients.length - attemptsBefore).toBe(6);
    expect(value((await collector.collect()).points, 'neo4j_snapshot_age_seconds')).toBe(45);
    setDown(undefined);
    await clock.advance(10_000);
    expect(collector.up).toBe(true);
    const lines = logger.records.filter((r) => r.level !== 'debug').map((r) => `${r.level} ${r.msg}`);
    expect(lines).toEqual([
      'info Neo4j connected',
      'warn Neo4j not reachable; its metrics are absent until it answers',
      'info Neo4j reachable again; collecting',
    ]);
    expect(JSON.stringify(logger.records)).not.toContain('secret-password');
    // Every failed attempt closed its client: no stale pooled connection survives an outage.
    expect(clients.slice(0, -1).every((c) => c.closed === 1)).toBe(true);
    await collector.shutdown();
  });

  it('should log refused credentials as an error naming the user, never the password', async () => {
    const { collector, logger, setDown } = setup();
    setDown({ code: 'Neo.ClientError.Security.Unauthorized', message: 'The client is unauthorized' });
    await collector.collectNow();
    await collector.collectNow();
    const errors = logger.find('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('refused the credentials');
    expect(errors[0]!.fields).toMatchObject({ user: 'neo4j', uri: 'bolt://db.example:7687' });
    expect(JSON.stringify(logger.records)).not.toContain('secret-password');
  });

  it('should run configured queries, count failures per query and log each failure once', async () => {
    const answers = communityAnswers();
    answers.set('RETURN 42 AS value', [{ value: 42 }]);
    answers.set('RETURN "x" AS value', [{ value: 'x' }]);
    const s = settings({
      customQueries: [
        { name: 'answer', query: 'RETURN 42 AS value', labels: [], timeoutMs: 500 },
        { name: 'texty', query: 'RETURN "x" AS value', labels: [], timeoutMs: 500 },
        { name: 'broken', query: 'MATCH (n RETURN n', labels: [], timeoutMs: 500 },
      ],
    });
    const fail = new Map([
      ['MATCH (n RETURN n', { code: 'Neo.ClientError.Statement.SyntaxError', message: 'Invalid input' }],
    ]);
    const { collector, logger } = setup(s, answers, fail);
    await collector.collectNow();
    await collector.collectNow();
    await collector.collectNow();
    const p = (await collector.collect()).points;
    expect(value(p, 'answer')).toBe(42);
    expect(value(p, 'monitor_neo4j_query_failures', { query: 'texty' })).toBe(3);
    expect(value(p, 'monitor_neo4j_query_failures', { query: 'broken' })).toBe(3);
    expect(value(p, 'neo4j_up')).toBe(1);
    const warns = logger.find('warn', 'Neo4j query failed');
    expect(warns.map((w) => [w.fields.query, w.fields.error])).toEqual([
      ['texty', 'query result column "value" is "x", expected a number'],
      ['broken', 'Neo.ClientError.Statement.SyntaxError: Invalid input'],
    ]);
  });

  it('should count a server that dies mid-collection as one outage, not as failing queries', async () => {
    const fail = new Map<string, { code: string; message: string }>();
    const { collector, logger } = setup(settings(), communityAnswers(), fail);
    await collector.collectNow();
    // The server goes away while a collection runs: one query times out without naming the connection,
    // and the check that follows finds the server gone.
    fail.set(Q.transactions, { code: 'E_TIMEOUT', message: 'no answer within 500 ms' });
    fail.set(Q.ping, { code: 'ServiceUnavailable', message: 'Connection refused' });
    await collector.collectNow();
    const p = (await collector.collect()).points;
    expect(value(p, 'neo4j_up')).toBe(0);
    expect(logger.find('warn', 'Neo4j query failed')).toEqual([]);
    expect(logger.find('warn', 'Neo4j not reachable')).toHaveLength(1);
  });

  it('should let a configured query replace a catalog metric’s built-in source', async () => {
    const answers = communityAnswers();
    answers.set('RETURN 7 AS value', [{ value: 7 }]);
    const s = settings({
      customQueries: [{ name: 'neo4j_node_count', query: 'RETURN 7 AS value', labels: [], timeoutMs: 500 }],
    });
    const { collector } = setup(s, answers);
    await collector.collectNow();
    const p = (await collector.collect()).points;
    expect(p.filter((x) => x.metric === 'neo4j_node_count')).toEqual([
      { metric: 'neo4j_node_count', labels: {}, value: 7 },
    ]);
    expect(value(p, 'neo4j_label_count', { label: 'Camera' })).toBe(6);
  });

  it('should report a client that fails to close, going down and at shutdown, and go on', async () => {
    const { collector, clock, logger, setDown, clients } = setup(settings({ intervalMs: 10_000 }));
    await collector.start();
    await clock.advance(0);
    clients[0]!.closeFails = new Error('close failed');
    setDown(UNAVAILABLE);
    await clock.advance(10_000);
    expect(collector.up).toBe(false);
    expect(guardedFailures().get('neo4j client close')).toBe(1);
    setDown(undefined);
    await clock.advance(1000);
    expect(collector.up).toBe(true);
    clients.at(-1)!.closeFails = new Error('close failed again');
    await collector.shutdown();
    expect(guardedFailures().get('neo4j client close')).toBe(2);
    expect(logger.find('error', 'internal error caught').map((r) => r.fields)).toEqual([
      { probe: 'neo4j', where: 'neo4j client close', occurrences: 1, error: 'close failed' },
    ]);
  });

  it('should be safe to shut down twice and before start', async () => {
    const { collector, clock } = setup();
    await collector.shutdown();
    await collector.shutdown();
    await collector.start();
    await clock.advance(60_000);
    expect(collector.up).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('should double from 1 s, cap at the interval and jitter down to half', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 10_000, 1))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(backoffMs(3, 10_000, 0)).toBe(2000);
    expect(backoffMs(1, 500, 1)).toBe(500);
  });
});

describe('isLocalUri / boltAddress', () => {
  it('should recognise loopback hosts', () => {
    expect(isLocalUri('bolt://127.0.0.1:7687')).toBe(true);
    expect(isLocalUri('neo4j://localhost')).toBe(true);
    expect(isLocalUri('neo4j+s://db.example:7687')).toBe(false);
    expect(isLocalUri('not a uri')).toBe(false);
  });

  it('should drop credentials and routing context from a URI', () => {
    expect(boltAddress('neo4j+s://u:p@db.example:7687?policy=x')).toBe('neo4j+s://db.example:7687');
    expect(boltAddress('::')).toBe('<unparsable URI>');
  });
});
