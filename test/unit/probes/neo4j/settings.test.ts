import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../../src/agent/load-config.js';
import { queryDurationHistogram } from '../../../../src/probes/neo4j/query-duration-feed.js';
import { customQueryEntries, neo4jSettings } from '../../../../src/probes/neo4j/settings.js';
import type { Sample } from '../../../../src/model/metric.js';

const CONFIG = `performance_monitor:
  collection_interval: 15s
  enabled_collectors: [neo4j]
  neo4j_metrics:
    uri: neo4j+s://db.example:7687
    password: hunter2hunter2
    max_connection_pool_size: 3
    connection_timeout: 2s
    query_timeout: 4s
    queries:
      - { name: neo4j_label_count, enabled: false }
      - { name: open_orders, type: gauge, query: "MATCH (o:Order {open: true}) RETURN count(o)", timeout: 1s }
      - { name: orders_by_state, type: counter, labels: [state], query: "MATCH (o:Order) RETURN o.state AS state, count(o) AS value" }
      - { name: neo4j_node_count, query: "MATCH (n) RETURN count(n)" }
`;

describe('neo4jSettings', () => {
  it('should take connection, timeouts, interval and configured queries from the config', () => {
    const config = parseConfigText(CONFIG, 'neo4j.yaml', {});
    const s = neo4jSettings(config, ['neo4j_node_count']);
    expect(s).toMatchObject({
      uri: 'neo4j+s://db.example:7687',
      user: 'neo4j',
      password: 'hunter2hunter2',
      database: 'neo4j',
      maxConnectionPoolSize: 3,
      connectionTimeoutMs: 2000,
      queryTimeoutMs: 4000,
      intervalMs: 15_000,
    });
    expect(s.customQueries.map((q) => [q.name, q.timeoutMs, q.labels])).toEqual([
      ['open_orders', 1000, []],
      ['orders_by_state', 4000, ['state']],
      ['neo4j_node_count', 4000, []],
    ]);
  });

  it('should make an instrument for each custom query, none for a catalog name', () => {
    const config = parseConfigText(CONFIG, 'neo4j.yaml', {});
    expect(customQueryEntries(config).map((e) => [e.name, e.kind, e.labels])).toEqual([
      ['open_orders', 'gauge', []],
      ['orders_by_state', 'counter', ['state']],
    ]);
  });

  it('should reject a custom metric without a query, a histogram query and a system metric name', () => {
    const bad = `performance_monitor:
  neo4j_metrics:
    queries:
      - { name: no_query, type: gauge }
      - { name: hist, type: histogram, query: "RETURN 1" }
      - { name: cpu_percent, query: "RETURN 1" }
`;
    expect(() => parseConfigText(bad, 'bad.yaml', {})).toThrow(/needs a query/);
    try {
      parseConfigText(bad, 'bad.yaml', {});
    } catch (err) {
      const messages = (err as { issues: { message: string }[] }).issues.map((i) => i.message);
      expect(messages).toEqual(
        expect.arrayContaining([
          'a custom Neo4j metric needs a query',
          'a Neo4j query gives a gauge or a counter',
          'cpu_percent is a system metric, not a Neo4j metric',
        ]),
      );
    }
  });
});

describe('queryDurationHistogram', () => {
  const sample = (labels: Record<string, string>, counts: number[]): Sample => ({
    metric: 'neo4j_query_duration',
    labels,
    value: counts.reduce((a, b) => a + b, 0),
    timestampMs: 0,
    kind: 'histogram',
    histogram: { boundaries: [0.01, 0.1], counts, sum: 0, count: counts.reduce((a, b) => a + b, 0) },
  });

  it('should sum the query kinds of the monitored database', () => {
    const samples = [
      sample({ database: 'neo4j', query_kind: 'read' }, [1, 2, 0]),
      sample({ database: 'neo4j', query_kind: 'write' }, [0, 1, 1]),
      sample({ database: 'other', query_kind: 'read' }, [9, 9, 9]),
    ];
    expect(queryDurationHistogram(samples, 'neo4j')).toEqual({ boundaries: [0.01, 0.1], counts: [1, 3, 1] });
  });

  it('should give nothing when no application records query durations', () => {
    expect(queryDurationHistogram([], 'neo4j')).toBeUndefined();
  });
});
