import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  connectionCounts,
  enterpriseJmxPoints,
  countStorePoints,
  countStoreQuery,
  histogramDelta,
  histogramQuantilePoints,
  enterprisePageCachePoints,
  jvmReading,
  parseByteSize,
  parseComponents,
  quantilePoints,
  queryInvocationDurations,
  quoteName,
} from '../../../../src/probes/neo4j/answers.js';
import type { Row } from '../../../../src/probes/neo4j/client.js';

type Answers = Record<string, Row[]>;
const load = (name: string): Answers =>
  JSON.parse(fs.readFileSync(new URL(`../../../fixtures/neo4j/${name}`, import.meta.url), 'utf8')) as Answers;
const community = load('community-5.26.json');
// Enterprise answers are shaped from the documentation, not recorded (see the fixture's _about).
const enterprise = load('enterprise-5.26-from-docs.json');

describe('parseComponents', () => {
  it('should read version and edition of a recorded Community server', () => {
    expect(parseComponents(community.components!)).toEqual({ version: '5.26.30', edition: 'community' });
  });

  it('should read an Enterprise answer (shaped from docs)', () => {
    expect(parseComponents(enterprise.components!).edition).toBe('enterprise');
  });

  it('should say unknown for an empty answer', () => {
    expect(parseComponents([])).toEqual({ version: 'unknown', edition: 'unknown' });
  });
});

describe('countStoreQuery / countStorePoints', () => {
  it('should build one row of count-only subqueries, a column per count', () => {
    const { query, columns } = countStoreQuery(['Camera', 'we`ird'], ['SEES']);
    expect(query).toBe(
      'CALL { MATCH (n) RETURN count(n) AS c0 } CALL { MATCH ()-[r]->() RETURN count(r) AS c1 } ' +
        'CALL { MATCH (n:`Camera`) RETURN count(n) AS c2 } CALL { MATCH (n:`we``ird`) RETURN count(n) AS c3 } ' +
        'CALL { MATCH ()-[r:`SEES`]->() RETURN count(r) AS c4 } RETURN c0, c1, c2, c3, c4',
    );
    expect(columns.map((c) => [c.column, c.metric, c.labels])).toEqual([
      ['c0', 'neo4j_node_count', {}],
      ['c1', 'neo4j_relationship_count', {}],
      ['c2', 'neo4j_label_count', { label: 'Camera' }],
      ['c3', 'neo4j_label_count', { label: 'we`ird' }],
      ['c4', 'neo4j_relationship_type_count', { type: 'SEES' }],
    ]);
  });

  it('should turn a recorded answer into totals, label and type counts', () => {
    const labels = community.tokens!.filter((r) => r.kind === 'label').map((r) => String(r.name));
    const types = community.tokens!.filter((r) => r.kind === 'type').map((r) => String(r.name));
    expect(countStorePoints(community.counts!, countStoreQuery(labels, types).columns)).toEqual([
      { metric: 'neo4j_node_count', labels: {}, value: 11 },
      { metric: 'neo4j_relationship_count', labels: {}, value: 5 },
      { metric: 'neo4j_label_count', labels: { label: 'Camera' }, value: 6 },
      { metric: 'neo4j_label_count', labels: { label: 'Zone' }, value: 5 },
      { metric: 'neo4j_label_count', labels: { label: 'Area' }, value: 5 },
      { metric: 'neo4j_relationship_type_count', labels: { type: 'SEES' }, value: 5 },
    ]);
  });

  it('should skip missing or non-numeric columns and an empty answer', () => {
    const { columns } = countStoreQuery(['X'], []);
    expect(countStorePoints([{ c0: 1, c2: 'x' }], columns)).toEqual([
      { metric: 'neo4j_node_count', labels: {}, value: 1 },
    ]);
    expect(countStorePoints([], columns)).toEqual([]);
  });
});

describe('quoteName', () => {
  it('should backquote and double embedded backquotes', () => {
    expect(quoteName('Camera')).toBe('`Camera`');
    expect(quoteName('we`ird label')).toBe('`we``ird label`');
  });
});

describe('connectionCounts', () => {
  it('should count other clients only: one busy, one idle, one transaction', () => {
    expect(connectionCounts(community.connections!, community.transactions!, 'neo4j')).toEqual({
      total: 2,
      idle: 1,
      active: 1,
    });
  });

  it('should count active transactions of the monitored database only', () => {
    const tx = [
      { database: 'neo4j', connectionId: 'a' },
      { database: 'other', connectionId: 'b' },
    ];
    const conns = [
      { connectionId: 'a', connector: 'bolt', userAgent: 'app/1' },
      { connectionId: 'b', connector: 'bolt', userAgent: 'app/1' },
    ];
    expect(connectionCounts(conns, tx, 'neo4j')).toEqual({ total: 2, idle: 0, active: 1 });
  });
});

describe('quantilePoints', () => {
  it('should interpolate between ranks as quantile_over_time does', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    const values = quantilePoints(v).map((p) => p.value);
    expect(values[0]).toBeCloseTo(50.5, 12);
    expect(values[1]).toBeCloseTo(95.05, 12);
    expect(values[2]).toBeCloseTo(99.01, 12);
    expect(quantilePoints([7]).map((p) => p.value)).toEqual([7, 7, 7]);
    const small = quantilePoints([3, 1, 2]).map((p) => p.value);
    expect(small[0]).toBe(2);
    expect(small[1]).toBeCloseTo(2.9, 12);
    expect(small[2]).toBeCloseTo(2.98, 12);
  });

  it('should give no points for no durations', () => {
    expect(quantilePoints([])).toEqual([]);
  });
});

describe('queryInvocationDurations', () => {
  it('should take compile + execution time of invocations after the window start, own queries left out', () => {
    const rows = community.queryStats!;
    const all = queryInvocationDurations(rows, 0, new Set());
    const count = rows.reduce((n, r) => n + (r.invocations as unknown[]).length, 0);
    expect(all.durationsMs).toHaveLength(count);
    expect(all.durationsMs[0]).toBeCloseTo((16071 + 4519) / 1000, 6);
    const withoutLabels = queryInvocationDurations(rows, 0, new Set(['CALL db.labels()']));
    expect(withoutLabels.durationsMs).toHaveLength(count - 1);
    const later = queryInvocationDurations(rows, all.latestStartMs, new Set());
    expect(later.durationsMs).toEqual([]);
    expect(later.latestStartMs).toBe(all.latestStartMs);
  });
});

describe('histogramQuantilePoints', () => {
  it('should give p50/p95/p99 in ms by histogram_quantile, and none for an empty histogram', () => {
    const h = { boundaries: [0.01, 0.1, 1], counts: [50, 40, 9, 1] };
    const values = histogramQuantilePoints(h).map((p) => p.value);
    expect(values[0]).toBeCloseTo(10, 9);
    expect(values[1]).toBeCloseTo((0.1 + (0.9 * (95 - 90)) / 9) * 1000, 9);
    expect(values[2]).toBeCloseTo(1000, 9);
    expect(histogramQuantilePoints({ boundaries: [1], counts: [0, 0] })).toEqual([]);
  });
});

describe('histogramDelta', () => {
  it('should take the delta of cumulative histograms, and the whole after a reset or bucket change', () => {
    const before = { boundaries: [1, 2], counts: [5, 1, 0] };
    const after = { boundaries: [1, 2], counts: [7, 4, 1] };
    expect(histogramDelta(before, after).counts).toEqual([2, 3, 1]);
    expect(histogramDelta(after, before)).toBe(before);
    expect(histogramDelta({ boundaries: [5], counts: [1, 1] }, after)).toBe(after);
    expect(histogramDelta(undefined, after)).toBe(after);
  });
});

describe('enterpriseJmxPoints (answers shaped from Enterprise docs, not recorded)', () => {
  it('should read committed, rolled back and store size of the monitored database only', () => {
    expect(enterpriseJmxPoints(enterprise.enterpriseJmx!, 'neo4j')).toEqual([
      { metric: 'neo4j_transactions_committed', labels: {}, value: 4521 },
      { metric: 'neo4j_transactions_rolled_back', labels: {}, value: 17 },
      { metric: 'neo4j_database_size_bytes', labels: {}, value: 268435456 },
    ]);
    expect(enterpriseJmxPoints(enterprise.enterpriseJmx!, 'system')).toEqual([
      { metric: 'neo4j_transactions_committed', labels: {}, value: 99 },
    ]);
  });

  it('should give nothing when metrics are off', () => {
    expect(enterpriseJmxPoints(enterprise.enterpriseJmxMetricsOff!, 'neo4j')).toEqual([]);
  });
});

describe('jvmReading', () => {
  it('should read heap, non-heap, GC totals, threads, CPU, descriptors and start time of a recorded Community server', () => {
    const r = jvmReading(community.jvm!);
    const byMetric = Object.fromEntries(r.points.map((p) => [p.metric, p.value]));
    expect(byMetric).toEqual({
      neo4j_jvm_heap_used_bytes: 63756288,
      neo4j_jvm_heap_committed_bytes: 143654912,
      neo4j_jvm_heap_max_bytes: 805306368,
      neo4j_jvm_heap_used_ratio: 63756288 / 805306368,
      neo4j_jvm_nonheap_used_bytes: 150466664,
      neo4j_jvm_threads: 38,
      neo4j_process_cpu_utilization: 0,
      neo4j_process_open_fds: 339,
      neo4j_process_max_fds: 20000,
    });
    expect(r.gc).toEqual([
      { gc: 'G1 Young Generation', collections: 24, timeMs: 253 },
      { gc: 'G1 Old Generation', collections: 0, timeMs: 0 },
    ]);
    expect(r.startTimeMs).toBe(1796342090034);
  });

  it('should leave out what the JVM does not know (-1) and beans it lacks', () => {
    const r = jvmReading([
      { name: 'java.lang:type=Memory', v: { heap: { used: 10, committed: 20, max: -1 }, nonHeap: {} } },
      { name: 'java.lang:type=OperatingSystem', v: { cpu: -1, openFds: 5 } },
      { name: 'java.lang:name=ZGC Cycles,type=GarbageCollector', v: { count: 3 } },
      { name: 42, v: {} },
    ]);
    expect(r.points.map((p) => [p.metric, p.value])).toEqual([
      ['neo4j_jvm_heap_used_bytes', 10],
      ['neo4j_jvm_heap_committed_bytes', 20],
      ['neo4j_process_open_fds', 5],
    ]);
    expect(r.gc).toEqual([]);
    expect(r.startTimeMs).toBeUndefined();
  });
});

describe('enterprisePageCachePoints (answers shaped from Enterprise docs, not recorded)', () => {
  it('should read the global hit, fault and eviction counters, not the hit ratio', () => {
    expect(enterprisePageCachePoints(enterprise.enterpriseJmx!)).toEqual([
      { metric: 'neo4j_page_cache_hits', labels: {}, value: 912345 },
      { metric: 'neo4j_page_cache_faults', labels: {}, value: 2048 },
      { metric: 'neo4j_page_cache_evictions', labels: {}, value: 512 },
    ]);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['128.00MiB', 128 * 1024 ** 2],
    ['512m', 512 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['1073741824', 1073741824],
    ['16KiB', 16384],
  ])('should read %s', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each([[null], [undefined], [''], ['lots'], ['12 parsecs'], ['1'.repeat(100)]])(
    'should give undefined for %s',
    (text) => {
      expect(parseByteSize(text)).toBeUndefined();
    },
  );
});
