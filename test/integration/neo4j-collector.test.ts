/**
 * The Neo4j collector against a real Neo4j Community 5.26: every metric Community can give matches what
 * the test did to the graph; what it cannot give (transaction totals) is absent; `neo4j check` says so;
 * bad configured queries and bad credentials give one log line and a self-metric each.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Driver, Session, Transaction } from 'neo4j-driver';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { neo4jCheckCommand } from '../../src/cli/commands/neo4j-check.js';
import { SystemClock } from '../../src/lib/clock.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { Neo4jCollector } from '../../src/probes/neo4j/collector.js';
import type { Neo4jSettings } from '../../src/probes/neo4j/collector.js';
import { neo4jSettings } from '../../src/probes/neo4j/settings.js';
import { COLLECTED_METRICS } from '../../src/probes/neo4j/sources.js';
import { serviceGate } from '../services/availability.js';
import { neo4jAvailable, startNeo4j } from '../services/neo4j.js';
import type { Neo4jServer } from '../services/neo4j.js';
import { freePort, getText, seriesValue, tempDir, waitFor } from './agent-harness.js';
import {
  GRAPH,
  buildGraph,
  neo4jAgentConfig,
  startNeo4jAgent,
  storeBytes,
  testDriver,
} from './neo4j-helpers.js';
import fs from 'node:fs';
import path from 'node:path';

const P = 'multi_agent_system_';
const gate = await serviceGate('Neo4j', neo4jAvailable);

function settingsFor(server: Neo4jServer, over: Partial<Neo4jSettings> = {}): Neo4jSettings {
  return {
    uri: server.boltUrl,
    user: server.user,
    password: server.password ?? undefined,
    database: 'neo4j',
    maxConnectionPoolSize: 5,
    connectionTimeoutMs: 2000,
    queryTimeoutMs: 3000,
    intervalMs: 60_000,
    queryStatsIntervalMs: 0,
    enabledMetrics: new Set(COLLECTED_METRICS),
    customQueries: [],
    ...over,
  };
}

gate.describe('Neo4j collector (real Neo4j Community 5.26)', () => {
  let server: Neo4jServer;
  let setup: Driver;
  let agent: PerformanceMonitorAgent;
  let agentLog: MemoryLogger;
  let url: string;
  // Held open while the connection and transaction numbers are checked.
  let busyDriver: Driver | undefined;
  let idleDriver: Driver | undefined;
  const openSessions: Session[] = [];
  const openTxs: Transaction[] = [];

  async function scrape(): Promise<string> {
    const { status, text } = await getText(url);
    expect(status).toBe(200);
    return text;
  }

  /** Waits until the series has `want` (the agent reads Neo4j every second). */
  async function expectSeries(name: string, want: number, ...mustContain: string[]): Promise<void> {
    let last: number | undefined;
    await waitFor(
      `${name}{${mustContain.join(',')}} = ${want} (last seen ${String(last)})`,
      async () => {
        last = seriesValue(await scrape(), `${P}${name}`, ...mustContain);
        return last === want ? true : undefined;
      },
      15_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last value ${String(last)}`);
    });
  }

  beforeAll(async () => {
    server = await startNeo4j();
    setup = testDriver(server);
    await buildGraph(setup);
    const s = setup.session({ database: 'system' });
    await s.run("CREATE USER reader IF NOT EXISTS SET PASSWORD 'reader-password' CHANGE NOT REQUIRED");
    await s.close();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    ({ agent, logger: agentLog } = await startNeo4jAgent({
      port,
      uri: server.boltUrl,
      user: server.user,
      password: server.password!,
      queries: [
        '      - { name: cameras_in_zone_zero, type: gauge, query: "MATCH (:Camera)-[:LOCATED_IN]->(:Zone {id: 0}) RETURN count(*) AS value" }',
        '      - name: buildings_by_zone_count',
        '        type: gauge',
        '        labels: [building]',
        '        query: "MATCH (z:Zone)-[:PART_OF]->(b:Building) WHERE b.id < 3 RETURN toString(b.id) AS building, count(z) AS zones"',
        '      - { name: broken_cypher, type: gauge, query: "MATCH (n RETURN n" }',
        '      - { name: text_result, type: gauge, query: "RETURN \'twelve\' AS value" }',
      ].join('\n'),
    }));
  });

  afterAll(async () => {
    for (const tx of openTxs) await tx.rollback().catch(() => undefined);
    for (const s of openSessions) await s.close().catch(() => undefined);
    await busyDriver?.close();
    await idleDriver?.close();
    await agent?.stop();
    await setup?.close();
    await server?.stop();
  });

  it('should report node, relationship, label and type counts from the count store', async () => {
    await expectSeries('neo4j_up', 1);
    await expectSeries('neo4j_nodes', GRAPH.nodes);
    await expectSeries('neo4j_relationships', GRAPH.relationships);
    for (const [label, n] of Object.entries(GRAPH.labels))
      await expectSeries('neo4j_label_nodes', n, `label="${label}"`);
    for (const [type, n] of Object.entries(GRAPH.types))
      await expectSeries('neo4j_relationship_type_relationships', n, `type="${type}"`);
    // The rolled-back transaction left its label and type tokens behind but no nodes or relationships.
    const text = await scrape();
    expect(seriesValue(text, `${P}neo4j_label_nodes`, 'label="Ghost"') ?? 0).toBe(0);
    expect(seriesValue(text, `${P}neo4j_relationship_type_relationships`, 'type="HAUNTS"') ?? 0).toBe(0);
  });

  it('should follow the graph as it changes', async () => {
    const s = setup.session({ database: 'neo4j' });
    await s.run('UNWIND range(1, 66) AS i CREATE (:Camera {id: 10000 + i})');
    await s.close();
    await expectSeries('neo4j_label_nodes', GRAPH.labels.Camera + 66, 'label="Camera"');
    await expectSeries('neo4j_nodes', GRAPH.nodes + 66);
    const d = setup.session({ database: 'neo4j' });
    await d.run('MATCH (c:Camera) WHERE c.id > 10000 DELETE c');
    await d.close();
    await expectSeries('neo4j_label_nodes', GRAPH.labels.Camera, 'label="Camera"');
  });

  it('should count open transactions and the connections of other clients, busy and idle', async () => {
    // The setup driver's pooled connections would count too: close it for this test.
    await setup.close();
    await expectSeries('neo4j_connection_pool_size', 0);
    busyDriver = testDriver(server);
    for (let i = 0; i < 3; i++) {
      const session = busyDriver.session({ database: 'neo4j' });
      const tx = session.beginTransaction();
      await tx.run('MATCH (c:Camera {id: $id}) SET c.seen = true', { id: i });
      openSessions.push(session);
      openTxs.push(tx);
    }
    idleDriver = testDriver(server);
    // Two sessions at once take two connections, which stay in the pool, idle, when the sessions close.
    const a = idleDriver.session({ database: 'neo4j' });
    const b = idleDriver.session({ database: 'neo4j' });
    await Promise.all([a.run('RETURN 1'), b.run('RETURN 2')]);
    await Promise.all([a.close(), b.close()]);

    await expectSeries('neo4j_transactions_active', 3);
    await expectSeries('neo4j_connection_pool_size', 5);
    await expectSeries('neo4j_connection_pool_idle', 2);

    // One committed, one rolled back: both leave the active count.
    await openTxs.pop()!.commit();
    await openTxs.pop()!.rollback();
    await expectSeries('neo4j_transactions_active', 1);
    await expectSeries('neo4j_connection_pool_idle', 4);
    setup = testDriver(server);
  });

  it('should leave what Community cannot give absent, not zero', async () => {
    const text = await scrape();
    expect(text).not.toContain(`${P}neo4j_transactions_committed_total`);
    expect(text).not.toContain(`${P}neo4j_transactions_rolled_back_total`);
    expect(text).not.toContain(`${P}neo4j_page_cache_hits_total`);
  });

  it('should report the server’s heap, GC, threads, CPU, descriptors, page cache size and version on Community', async () => {
    await waitFor(
      'JVM series',
      async () =>
        seriesValue(await scrape(), `${P}neo4j_jvm_heap_used_bytes`) !== undefined ? true : undefined,
      15_000,
      200,
    );
    const text = await scrape();
    const v = (name: string, ...labels: string[]): number => {
      const x = seriesValue(text, `${P}${name}`, ...labels);
      expect(x, name).toBeDefined();
      return x!;
    };
    const used = v('neo4j_jvm_heap_used_bytes');
    const committed = v('neo4j_jvm_heap_committed_bytes');
    const max = v('neo4j_jvm_heap_max_bytes');
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(committed);
    expect(committed).toBeLessThanOrEqual(max);
    expect(v('neo4j_jvm_heap_used_ratio')).toBeCloseTo(used / max, 6);
    expect(v('neo4j_jvm_nonheap_used_bytes')).toBeGreaterThan(0);
    expect(v('neo4j_jvm_threads')).toBeGreaterThan(5);
    const cpu = v('neo4j_process_cpu_utilization');
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
    const openFds = v('neo4j_process_open_fds');
    expect(openFds).toBeGreaterThan(10);
    expect(openFds).toBeLessThan(v('neo4j_process_max_fds'));
    // The harness's launcher sets a 128 MiB page cache.
    expect(v('neo4j_page_cache_size_bytes')).toBe(128 * 1024 * 1024);
    expect(v('neo4j_server_info', 'edition="community"', 'neo4j_version="5.26.')).toBe(1);
    expect(v('neo4j_jvm_gc_collections_total', 'gc="G1 Young Generation"')).toBeGreaterThanOrEqual(0);
    expect(v('neo4j_jvm_gc_time_seconds_total', 'gc="G1 Old Generation"')).toBeGreaterThanOrEqual(0);
  });

  it('should count GC collections and time that never decrease across a workload that allocates', async () => {
    const young = 'gc="G1 Young Generation"';
    const totals = async (): Promise<[number, number]> => {
      const text = await scrape();
      return [
        seriesValue(text, `${P}neo4j_jvm_gc_collections_total`, young)!,
        seriesValue(text, `${P}neo4j_jvm_gc_time_seconds_total`, young)!,
      ];
    };
    const seen: [number, number][] = [await totals()];
    const s = setup.session();
    try {
      for (let i = 0; i < 6; i++) {
        // About 100 MB of short-lived strings: young collections on a heap of a few hundred MB.
        await s.run('UNWIND range(1, 1000000) AS i WITH collect(toString(i)) AS xs RETURN size(xs)');
        seen.push(await totals());
      }
    } finally {
      await s.close();
    }
    const [before] = seen;
    await waitFor(
      'more young collections than before the workload',
      async () => {
        const now = await totals();
        seen.push(now);
        return now[0] > before![0] ? true : undefined;
      },
      15_000,
      500,
    );
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
      expect(seen[i]![1]).toBeGreaterThanOrEqual(seen[i - 1]![1]);
    }
  });

  it('should report the size of the store and transaction log files', async () => {
    const collector = new Neo4jCollector({
      settings: settingsFor(server),
      clock: new SystemClock(),
      logger: new MemoryLogger(),
      agentVersion: 'test',
    });
    try {
      // Checkpoints may change the files between the two reads: retry until both see the same state.
      await waitFor(
        'collector size = find(1) size',
        async () => {
          await collector.collectNow();
          const before = await storeBytes(server);
          const got = (await collector.collect()).points.find(
            (p) => p.metric === 'neo4j_database_size_bytes',
          );
          const after = await storeBytes(server);
          return got !== undefined && before === after && got.value === after ? true : undefined;
        },
        20_000,
        500,
      );
      expect(await storeBytes(server)).toBeGreaterThan(1024 * 1024);
    } finally {
      await collector.shutdown();
    }
  });

  it('should compute query duration percentiles from the server’s query statistics', async () => {
    const s = setup.session({ database: 'neo4j' });
    // Idempotent: the server may already be collecting.
    await s.run("CALL db.stats.collect('QUERIES')").catch(() => undefined);
    // The agent's configured queries run meanwhile: as the agent does, this collector leaves them out.
    const collector = new Neo4jCollector({
      settings: settingsFor(server, { customQueries: neo4jSettings(agent.config!, []).customQueries }),
      clock: new SystemClock(),
      logger: new MemoryLogger(),
      agentVersion: 'test',
    });
    try {
      // Planned once before the window opens, so no invocation inside it carries the planning time.
      await s.run('MATCH (c:Camera {id: $id}) RETURN c.id AS id', { id: -1 });
      await collector.collectNow(); // starts the window
      const fast: number[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await s.run('MATCH (c:Camera {id: $id}) RETURN c.id AS id', { id: i });
        fast.push(Number(r.summary.resultAvailableAfter) + Number(r.summary.resultConsumedAfter));
      }
      const slow = await s.run('UNWIND range(1, 3000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*) AS n');
      const slowMs = Number(slow.summary.resultAvailableAfter) + Number(slow.summary.resultConsumedAfter);
      await collector.collectNow();
      expect(collector.producedBy().get('neo4j_query_duration_p99')).toBe('query_durations');
      const points = (await collector.collect()).points;
      const q = (m: string): number => points.find((p) => p.metric === m)!.value;
      fast.sort((x, y) => x - y);
      const fastMedian = fast[14]!;
      // 31 invocations: p50 and p95 fall on fast queries, p99 mostly on the slow one (rank 29.7 of 0..30). The server counts compile
      // and execution time, which the driver's summary timings (rounded to milliseconds, started after
      // parsing) leave out, so on a loaded machine the server's figures sit a few milliseconds above the
      // client's: the fast percentiles are checked against the slow query, not against a fixed slack.
      console.log(
        `query durations (ms): client fast median ${fastMedian}, slow ${slowMs}; server p50 ${q('neo4j_query_duration_p50')}, p95 ${q('neo4j_query_duration_p95')}, p99 ${q('neo4j_query_duration_p99')}`,
      );
      expect(slowMs).toBeGreaterThan(10 * (fastMedian + 1));
      expect(q('neo4j_query_duration_p50')).toBeLessThanOrEqual(q('neo4j_query_duration_p95'));
      expect(q('neo4j_query_duration_p50')).toBeLessThan(slowMs * 0.25);
      expect(q('neo4j_query_duration_p99')).toBeGreaterThanOrEqual(slowMs * 0.5);
      expect(q('neo4j_query_duration_p99')).toBeLessThanOrEqual(slowMs * 1.1 + 10);
      expect(q('neo4j_query_duration_p99')).toBeGreaterThan(q('neo4j_query_duration_p95'));
    } finally {
      await collector.shutdown();
      await s.close();
    }
  });

  it('should export configured single-value and multi-label queries', async () => {
    await expectSeries('cameras_in_zone_zero', 5);
    // Zones i with i % 25 = building id: 12 zones per building.
    for (const b of ['0', '1', '2']) await expectSeries('buildings_by_zone_count', 12, `building="${b}"`);
  });

  it('should count a configured query with invalid Cypher or a string result, log it once and go on', async () => {
    await waitFor(
      'failures counted over several cycles',
      async () => {
        const text = await scrape();
        const broken = seriesValue(text, `${P}monitor_neo4j_query_failures_total`, 'query="broken_cypher"');
        const textual = seriesValue(text, `${P}monitor_neo4j_query_failures_total`, 'query="text_result"');
        return (broken ?? 0) >= 3 && (textual ?? 0) >= 3 ? true : undefined;
      },
      15_000,
      200,
    );
    const broken = agentLog
      .find('warn', 'Neo4j query failed')
      .filter((r) => r.fields.query === 'broken_cypher');
    const textual = agentLog
      .find('warn', 'Neo4j query failed')
      .filter((r) => r.fields.query === 'text_result');
    expect(broken).toHaveLength(1);
    expect(String(broken[0]!.fields.error)).toContain('SyntaxError');
    expect(textual).toHaveLength(1);
    expect(String(textual[0]!.fields.error)).toContain('"twelve", expected a number');
    // The other metrics go on.
    await expectSeries('neo4j_up', 1);
    await expectSeries('neo4j_nodes', GRAPH.nodes);
  });

  it('should print each metric’s source or why Community lacks it (neo4j check)', async () => {
    const dir = tempDir('neo4j-check');
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(
      file,
      neo4jAgentConfig({ port: 0, uri: server.boltUrl, user: server.user, password: server.password! }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const code = await neo4jCheckCommand(file, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
    const text = out.join('\n');
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toMatch(
      /^Neo4j 5\.26\.\d+ community edition at bolt:\/\/127\.0\.0\.1:\d+ as neo4j, database neo4j/,
    );
    expect(text).toMatch(/neo4j_node_count\s+ok\s+count store: one query of count/);
    expect(text).toMatch(/neo4j_transactions_active\s+ok\s+SHOW TRANSACTIONS/);
    expect(text).toMatch(/neo4j_database_size_bytes\s+ok\s+sizes of the store/);
    expect(text).toMatch(
      /neo4j_transactions_committed\s+unavailable\s+community edition 5\.26\.\d+ has no transaction counters/,
    );
    expect(text).toMatch(/neo4j_transactions_rolled_back\s+unavailable\s+community edition/);
    expect(text).not.toContain(server.password!);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should give one line and exit 1 when the password is wrong or nothing listens, never the password', async () => {
    const dir = tempDir('neo4j-check');
    const cases = [
      { uri: server.boltUrl, user: 'reader', password: 'not-the-password', want: /Unauthorized/ },
      {
        uri: `bolt://127.0.0.1:${await freePort()}`,
        user: 'neo4j',
        password: 'whatever-pass',
        want: /ECONNREFUSED|ServiceUnavailable/,
      },
    ];
    for (const c of cases) {
      const file = path.join(dir, 'agent.yaml');
      fs.writeFileSync(file, neo4jAgentConfig({ port: 0, ...c }));
      const out: string[] = [];
      const err: string[] = [];
      const code = await neo4jCheckCommand(file, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
      expect(code).toBe(1);
      expect(out).toEqual([]);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(
        /^perf-monitor neo4j check: cannot connect to bolt:\/\/127\.0\.0\.1:\d+ as \w+: /,
      );
      expect(err[0]).toMatch(c.want);
      expect(err[0]).not.toContain(c.password);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should keep running with a wrong password: neo4j_up 0, one error line, connect failures counted', async () => {
    const port = await freePort();
    const { agent: bad, logger } = await startNeo4jAgent({
      port,
      uri: server.boltUrl,
      user: 'reader',
      password: 'wrong-password',
    });
    try {
      const badUrl = `http://127.0.0.1:${port}/metrics`;
      await waitFor(
        'three failed connection attempts',
        async () => {
          const text = (await getText(badUrl)).text;
          const failures = seriesValue(text, `${P}monitor_neo4j_query_failures_total`, 'query="connect"');
          return (failures ?? 0) >= 3 && seriesValue(text, `${P}neo4j_up`) === 0 ? text : undefined;
        },
        20_000,
        200,
      ).then((text) => {
        expect(seriesValue(text, `${P}cpu_percent`)).toBeDefined();
        expect(text).not.toContain(`${P}neo4j_nodes`);
      });
      const lines = logger.records.filter((r) => r.fields.probe === 'neo4j' && r.level !== 'debug');
      expect(lines.map((r) => r.msg)).toEqual([
        'Neo4j refused the credentials; check neo4j_metrics.user and password',
      ]);
      expect(JSON.stringify(logger.records)).not.toContain('wrong-password');
    } finally {
      await bad.stop();
    }
  });
});
