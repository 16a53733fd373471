import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { neo4jCheckCommand } from '../../../../src/cli/commands/neo4j-check.js';
import type { Neo4jClient, Row } from '../../../../src/probes/neo4j/client.js';
import { Q } from '../../../../src/probes/neo4j/sources.js';
import { countStoreQuery } from '../../../../src/probes/neo4j/answers.js';

type Answers = Record<string, Row[]>;
const load = (name: string): Answers =>
  JSON.parse(fs.readFileSync(new URL(`../../../fixtures/neo4j/${name}`, import.meta.url), 'utf8')) as Answers;
const community = load('community-5.26.json');
// Shaped from Enterprise documentation, not recorded from a server.
const enterpriseDocs = load('enterprise-5.26-from-docs.json');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-neo4j-check-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function configFile(extra = ''): string {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(
    file,
    `performance_monitor:
  enabled_collectors: [neo4j]
  neo4j_metrics:
    uri: bolt://db.example:7687
    password: top-secret-pw
    queries:
      - { name: neo4j_relationship_type_count, enabled: false }
${extra}`,
  );
  return file;
}

function client(answers: Map<string, Row[]>, down?: { code: string; message: string }): () => Neo4jClient {
  return () => ({
    run: (query) =>
      down !== undefined
        ? Promise.reject(Object.assign(new Error(down.message), down))
        : answers.has(query)
          ? Promise.resolve(answers.get(query)!)
          : Promise.reject(
              Object.assign(new Error('There is no procedure'), {
                code: 'Neo.ClientError.Procedure.ProcedureNotFound',
              }),
            ),
    close: () => Promise.resolve(),
  });
}

async function check(file: string, createClient: () => Neo4jClient) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await neo4jCheckCommand(
    file,
    {},
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    { createClient },
  );
  return { code, out, err };
}

function answers(edition: 'community' | 'enterprise'): Map<string, Row[]> {
  const m = new Map<string, Row[]>([
    [Q.components, edition === 'community' ? community.components! : enterpriseDocs.components!],
    [Q.ping, [{ ok: 1 }]],
    [Q.tokens, community.tokens!],
    [countStoreQuery(['Camera', 'Zone', 'Area'], ['SEES']).query, community.counts!],
    [Q.connections, community.connections!],
    [Q.transactions, community.transactions!],
    [Q.queryStatsStatus, [{ section: 'QUERIES', status: 'idle' }]],
    [Q.storeDirs, community.storeDirs!],
    [Q.jvm, community.jvm!],
    [Q.pageCacheSetting, community.pageCacheSetting!],
  ]);
  if (edition === 'enterprise') m.set(Q.enterpriseJmx, enterpriseDocs.enterpriseJmx!);
  return m;
}

describe('neo4j check', () => {
  it('should print the source of each metric, or why a Community server lacks it', async () => {
    const { code, out, err } = await check(configFile(), client(answers('community')));
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toMatch(
      /^Neo4j 5\.26\.30 community edition at bolt:\/\/db\.example:7687 as neo4j, database neo4j/,
    );
    const text = out.join('\n');
    expect(text).toMatch(/neo4j_node_count\s+ok\s+count store: one query of count/);
    expect(text).toMatch(
      /neo4j_transactions_committed\s+unavailable\s+community edition 5\.26\.30 has no transaction counters/,
    );
    expect(text).toMatch(
      /neo4j_query_duration_p50\s+unavailable\s+the server is not collecting query statistics/,
    );
    expect(text).toMatch(/neo4j_database_size_bytes\s+unavailable\s+.*not on this host/);
    expect(text).toMatch(/neo4j_relationship_type_count\s+off\s+disabled in neo4j_metrics.queries/);
    // Server health from the JVM's beans and the settings, which Community serves.
    expect(text).toMatch(/neo4j_jvm_heap_used_bytes\s+ok\s+dbms\.queryJmx\('java\.lang:type=Memory/);
    expect(text).toMatch(/neo4j_jvm_gc_time_seconds\s+ok\s+dbms\.queryJmx/);
    expect(text).toMatch(/neo4j_page_cache_size_bytes\s+ok\s+server\.memory\.pagecache\.size/);
    expect(text).toMatch(/neo4j_page_cache_hits\s+unavailable\s+community edition 5\.26\.30/);
    expect(text).toMatch(/neo4j_server_info\s+ok\s+dbms\.components\(\)/);
    expect(text).not.toContain('top-secret-pw');
  });

  it('should name the Enterprise metrics as the source on Enterprise (answers shaped from docs)', async () => {
    const { code, out } = await check(configFile(), client(answers('enterprise')));
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/neo4j_transactions_committed\s+ok\s+dbms\.queryJmx\('neo4j\.metrics:\*'\)/);
    expect(text).toMatch(/neo4j_database_size_bytes\s+ok\s+dbms\.queryJmx/);
    expect(text).toMatch(/neo4j_page_cache_faults\s+ok\s+dbms\.queryJmx\('neo4j\.metrics:\*'\)/);
  });

  it('should report a failing configured query and exit 1', async () => {
    const file = configFile('      - { name: broken, type: gauge, query: "MATCH (n RETURN n" }\n');
    const { code, out } = await check(file, client(answers('community')));
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/broken\s+failed\s+Neo\.ClientError\.Procedure\.ProcedureNotFound/);
  });

  it('should print one line without the password and exit 1 when it cannot connect', async () => {
    const { code, out, err } = await check(
      configFile(),
      client(new Map(), { code: 'ServiceUnavailable', message: 'connect ECONNREFUSED' }),
    );
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      'perf-monitor neo4j check: cannot connect to bolt://db.example:7687 as neo4j: ServiceUnavailable: connect ECONNREFUSED',
    ]);
  });
});
