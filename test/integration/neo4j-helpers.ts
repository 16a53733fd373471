/**
 * Shared by the Neo4j integration tests: an agent configured for a test server, and the graph the tests
 * build with its ground truth.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import neo4j from 'neo4j-driver';
import type { Driver } from 'neo4j-driver';
import { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { parseConfigText } from '../../src/agent/load-config.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import type { Neo4jServer } from '../services/neo4j.js';

export interface Neo4jAgentOptions {
  port: number;
  uri: string;
  user: string;
  password: string;
  /** Reader (scrape snapshot) interval. */
  interval?: string;
  /** Neo4j collection interval. */
  neo4jInterval?: string;
  /** YAML list items under neo4j_metrics.queries, each indented by six spaces. */
  queries?: string;
}

export function neo4jAgentConfig(o: Neo4jAgentOptions): string {
  return `performance_monitor:
  collection_interval: ${o.interval ?? '1s'}
  enabled_collectors: [system, neo4j]
  neo4j_metrics:
    uri: ${JSON.stringify(o.uri)}
    user: ${JSON.stringify(o.user)}
    password: ${JSON.stringify(o.password)}
    database: neo4j
    connection_timeout: 2s
    query_timeout: 3s
    collection_interval: ${o.neo4jInterval ?? '1s'}
    queries:
${o.queries ?? '      []'}
  prometheus:
    host: 127.0.0.1
    port: ${o.port}
logging:
  level: debug
`;
}

export async function startNeo4jAgent(
  o: Neo4jAgentOptions,
): Promise<{ agent: PerformanceMonitorAgent; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const agent = new PerformanceMonitorAgent({
    config: parseConfigText(neo4jAgentConfig(o), 'neo4j-integration.yaml', {}),
    logger,
    env: {},
  });
  await agent.start();
  return { agent, logger };
}

export function testDriver(server: Neo4jServer): Driver {
  return neo4j.driver(server.boltUrl, neo4j.auth.basic(server.user, server.password ?? ''), {
    disableLosslessIntegers: true,
  });
}

/** What the test graph holds; the collector's numbers are compared with these. */
export const GRAPH = {
  labels: { Camera: 1234, Zone: 300, Building: 25, Restricted: 40 },
  types: { LOCATED_IN: 1234, PART_OF: 300, ADJACENT_TO: 299 },
  /** Restricted nodes also carry Zone, so they are not extra nodes. */
  nodes: 1234 + 300 + 25,
  relationships: 1234 + 300 + 299,
} as const;

/**
 * Builds GRAPH in a few committed transactions and one rolled back (100 :Ghost nodes that must not be
 * counted). Cameras are located in zones, zones are part of buildings, zones form a chain.
 */
export async function buildGraph(driver: Driver): Promise<void> {
  const session = driver.session({ database: 'neo4j' });
  try {
    await session.run('UNWIND range(0, 24) AS i CREATE (:Building {id: i})');
    await session.run(
      'UNWIND range(0, 299) AS i MATCH (b:Building {id: i % 25}) CREATE (:Zone {id: i})-[:PART_OF]->(b)',
    );
    await session.run('MATCH (z:Zone) WHERE z.id < 40 SET z:Restricted');
    await session.run('MATCH (a:Zone), (b:Zone) WHERE b.id = a.id + 1 CREATE (a)-[:ADJACENT_TO]->(b)');
    await session.run(
      'UNWIND range(0, 1233) AS i MATCH (z:Zone {id: i % 300}) CREATE (:Camera {id: i})-[:LOCATED_IN]->(z)',
    );
    const tx = session.beginTransaction();
    await tx.run('UNWIND range(1, 100) AS i CREATE (:Ghost {id: i})-[:HAUNTS]->(:Ghost)');
    await tx.rollback();
  } finally {
    await session.close();
  }
}

/** Bytes of the regular files of database neo4j's store and transaction logs, as find(1) lists them. */
export async function storeBytes(server: Neo4jServer): Promise<number> {
  const dirs = [
    join(server.homeDir, 'data', 'databases', 'neo4j'),
    join(server.homeDir, 'data', 'transactions', 'neo4j'),
  ];
  const { stdout } = await promisify(execFile)('find', [...dirs, '-type', 'f', '-printf', '%s\n']);
  return stdout
    .trim()
    .split('\n')
    .reduce((sum, l) => sum + Number(l), 0);
}
