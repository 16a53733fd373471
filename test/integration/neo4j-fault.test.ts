/**
 * Neo4j killed with SIGKILL while the agent runs: the agent keeps serving its system metrics, neo4j_up
 * drops to 0 within one Neo4j interval (seen on /metrics at the next collection), nothing is rejected
 * unhandled, one warning is logged; when Neo4j is back on the same port and data, the values return
 * within two Neo4j intervals and one info line says so.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import type { MemoryLogger } from '../../src/lib/logger.js';
import { serviceGate } from '../services/availability.js';
import { neo4jAvailable, startNeo4j } from '../services/neo4j.js';
import type { Neo4jServer } from '../services/neo4j.js';
import { freePort, getText, seriesValue, waitFor } from './agent-harness.js';
import { GRAPH, buildGraph, startNeo4jAgent, testDriver } from './neo4j-helpers.js';

const P = 'multi_agent_system_';
const READER_INTERVAL_MS = 1000;
const NEO4J_INTERVAL_MS = 2000;
const gate = await serviceGate('Neo4j', neo4jAvailable);

gate.describe('Neo4j collector when Neo4j dies and comes back (real Neo4j Community 5.26)', () => {
  let server: Neo4jServer;
  let agent: PerformanceMonitorAgent;
  let logger: MemoryLogger;
  let url: string;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };

  async function scrape(): Promise<string> {
    const { status, text } = await getText(url);
    expect(status).toBe(200);
    return text;
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    server = await startNeo4j();
    const driver = testDriver(server);
    await buildGraph(driver);
    await driver.close();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    ({ agent, logger } = await startNeo4jAgent({
      port,
      uri: server.boltUrl,
      user: server.user,
      password: server.password!,
      interval: `${READER_INTERVAL_MS}ms`,
      neo4jInterval: `${NEO4J_INTERVAL_MS}ms`,
    }));
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await agent?.stop();
    await server?.stop();
  });

  it('should drop neo4j_up within one interval, keep serving system metrics, and recover within two', async () => {
    await waitFor(
      'first Neo4j values',
      async () => ((seriesValue(await scrape(), `${P}neo4j_nodes`) ?? 0) === GRAPH.nodes ? true : undefined),
      20_000,
      200,
    );

    // The JVM's series are there before the kill; their GC totals must not go down across the restart.
    const young = 'gc="G1 Young Generation"';
    await waitFor(
      'JVM series',
      async () =>
        seriesValue(await scrape(), `${P}neo4j_jvm_gc_collections_total`, young) !== undefined
          ? true
          : undefined,
      20_000,
      200,
    );
    const before = await scrape();
    const gcBefore = seriesValue(before, `${P}neo4j_jvm_gc_collections_total`, young)!;
    const gcTimeBefore = seriesValue(before, `${P}neo4j_jvm_gc_time_seconds_total`, young)!;

    const killedAt = Date.now();
    await server.kill();
    await waitFor(
      'neo4j_up 0',
      async () => (seriesValue(await scrape(), `${P}neo4j_up`) === 0 ? true : undefined),
      15_000,
      100,
    );
    const downAfterMs = Date.now() - killedAt;
    // One Neo4j interval to notice, plus at most one reader interval until the next /metrics snapshot.
    expect(downAfterMs).toBeLessThanOrEqual(NEO4J_INTERVAL_MS + READER_INTERVAL_MS + 500);

    // While Neo4j is away: system metrics keep coming, Neo4j values are absent, the age grows.
    const collectionsBefore = seriesValue(await scrape(), `${P}monitor_collections_total`)!;
    await new Promise((r) => setTimeout(r, 2 * NEO4J_INTERVAL_MS));
    const down = await scrape();
    expect(seriesValue(down, `${P}monitor_collections_total`)!).toBeGreaterThan(collectionsBefore);
    expect(seriesValue(down, `${P}cpu_percent`)).toBeDefined();
    expect(seriesValue(down, `${P}memory_used_bytes`)).toBeGreaterThan(0);
    expect(down).not.toContain(`${P}neo4j_nodes`);
    // The server's own series go with it: gauges and counters alike are absent, not frozen.
    for (const name of [
      'neo4j_jvm_heap_used_bytes',
      'neo4j_jvm_threads',
      'neo4j_jvm_gc_collections_total',
      'neo4j_jvm_gc_time_seconds_total',
      'neo4j_server_info',
    ])
      expect(down, name).not.toContain(`${P}${name}`);
    expect(seriesValue(down, `${P}neo4j_snapshot_age_seconds`)!).toBeGreaterThanOrEqual(
      (2 * NEO4J_INTERVAL_MS) / 1000,
    );
    expect(
      seriesValue(down, `${P}monitor_neo4j_query_failures_total`, 'query="connect"')!,
    ).toBeGreaterThanOrEqual(2);

    await server.restart();
    const backAt = Date.now();
    await waitFor(
      'Neo4j values again',
      async () => {
        const text = await scrape();
        return seriesValue(text, `${P}neo4j_up`) === 1 && seriesValue(text, `${P}neo4j_nodes`) === GRAPH.nodes
          ? true
          : undefined;
      },
      20_000,
      100,
    );
    const upAfterMs = Date.now() - backAt;
    // A new JVM counts its collections from zero: the exported totals add them to the old ones.
    await waitFor(
      'JVM series again',
      async () => {
        const text = await scrape();
        return seriesValue(text, `${P}neo4j_jvm_heap_used_bytes`) !== undefined &&
          seriesValue(text, `${P}neo4j_jvm_gc_collections_total`, young) !== undefined
          ? text
          : undefined;
      },
      20_000,
      100,
    ).then((text) => {
      expect(seriesValue(text, `${P}neo4j_jvm_gc_collections_total`, young)!).toBeGreaterThanOrEqual(
        gcBefore,
      );
      expect(seriesValue(text, `${P}neo4j_jvm_gc_time_seconds_total`, young)!).toBeGreaterThanOrEqual(
        gcTimeBefore,
      );
    });
    expect(upAfterMs).toBeLessThanOrEqual(2 * NEO4J_INTERVAL_MS + READER_INTERVAL_MS + 500);

    // The connection's transitions, each logged once. (A single query that times out on a loaded machine logs a
    // pair of its own, "query failed" / "query succeeds again"; that is not a connection event.)
    const neo4jLines = logger.records.filter(
      (r) => r.fields.probe === 'neo4j' && r.level !== 'debug' && !/^Neo4j query /.test(r.msg),
    );
    expect(neo4jLines.map((r) => `${r.level} ${r.msg}`)).toEqual([
      'info Neo4j connected',
      'warn Neo4j not reachable; its metrics are absent until it answers',
      'info Neo4j reachable again; collecting',
    ]);
    expect(rejections).toEqual([]);
  });
});
