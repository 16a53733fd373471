/**
 * Cost of one Neo4j collection (every catalog query the collector sends, over a real Bolt connection)
 * on a real Neo4j Community 5.26 holding 100k nodes and 500k relationships, against a peer that answers
 * the same counts by scanning the graph (MATCH (n) RETURN labels(n), count(*) and the same for
 * relationships), measured in the same run:
 *
 *   (a) the collector (Neo4jCollector.collectNow(), wall time) on a tiny graph with the same labels and types,
 *   (b) the same on 100k nodes / 500k relationships — (b)/(a) near 1 means no query grows with the graph,
 *   (c) the graph-scan peer on the loaded graph, and (c)/(b),
 *   (d) the server-health reads (JVM beans through dbms.queryJmx, the page cache setting) alone, and the
 *       collection without them, to say what they add,
 *   plus the plan of every Cypher count query the collector sends (EXPLAIN): each must be answered by
 *   NodeCountFromCountStore / RelationshipCountFromCountStore, with no scan or expand operator.
 *
 * Needs the test Neo4j (bash test/services/fetch-neo4j.sh) and Java 17.
 *
 *   npm run build && node test/bench/neo4j-collection.js
 *
 * Ends with headline key=value lines (test/bench/update-summary.js).
 */
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import neo4j from 'neo4j-driver';
import {
  DIST,
  REPO_ROOT,
  fmt,
  freePort,
  installSafetyNets,
  makeTempDir,
  median,
  printMachine,
  printTable,
  quantile,
  spawnChild,
} from './common.js';

const LIMIT_MS = Number(process.env.BENCH_LIMIT_MS ?? 170_000);
const NODES = 100_000;
const RELATIONSHIPS = 500_000;
const LABELS = ['Camera', 'Zone', 'Sensor', 'Gateway'];
const TYPES = ['LINKS', 'WATCHES', 'FEEDS', 'BACKS_UP', 'NEAR'];
const ROUNDS = 30;
const TARGET_MS = 20;
const PASSWORD = 'bench-password';

installSafetyNets(LIMIT_MS);
printMachine('Neo4j collection cost (real Neo4j Community 5.26, 100k nodes / 500k relationships)');

const { Neo4jCollector } = await import(path.join(DIST, 'probes', 'neo4j', 'collector.js'));
const { COLLECTED_METRICS, Q, SOURCE_DEFINITIONS } = await import(
  path.join(DIST, 'probes', 'neo4j', 'sources.js')
);
const { countStoreQuery } = await import(path.join(DIST, 'probes', 'neo4j', 'answers.js'));
const { SystemClock } = await import(path.join(DIST, 'lib', 'clock.js'));
const { silentLogger } = await import(path.join(DIST, 'lib', 'logger.js'));

let installDir;
try {
  installDir = execFileSync('bash', [path.join(REPO_ROOT, 'test', 'services', 'fetch-neo4j.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
} catch {
  console.error(
    'the test Neo4j is not fetched and cannot be (bash test/services/fetch-neo4j.sh needs mvn and javac)',
  );
  process.exit(2);
}

const port = await freePort();
const home = makeTempDir('perf-monitor-bench-neo4j-');
const started = performance.now();
const server = spawnChild(
  'java',
  [
    '-Xms512m',
    '-Xmx1g',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-cp',
    `${path.join(installDir, 'classes')}:${path.join(installDir, 'lib', '*')}`,
    'Neo4jLauncher',
  ],
  {
    name: 'neo4j',
    stdout: 'pipe',
    env: { ...process.env, NEO4J_HOME_DIR: home, NEO4J_BOLT_PORT: String(port), NEO4J_PASSWORD: PASSWORD },
  },
);
for (;;) {
  const line = await server.nextLine(120_000);
  if (line.includes('NEO4J_READY')) break;
}
console.log(`Neo4j ready in ${fmt((performance.now() - started) / 1000, 1)} s on 127.0.0.1:${port}`);

const uri = `bolt://127.0.0.1:${port}`;
const driver = neo4j.driver(uri, neo4j.auth.basic('neo4j', PASSWORD), { disableLosslessIntegers: true });
const run = async (query, params = {}) => {
  const s = driver.session({ database: 'neo4j' });
  try {
    return await s.run(query, params);
  } finally {
    await s.close();
  }
};

const QUERY_STATS = ['neo4j_query_duration_p50', 'neo4j_query_duration_p95', 'neo4j_query_duration_p99'];
const makeCollector = (enabled) =>
  new Neo4jCollector({
    settings: {
      uri,
      user: 'neo4j',
      password: PASSWORD,
      database: 'neo4j',
      maxConnectionPoolSize: 5,
      connectionTimeoutMs: 5000,
      queryTimeoutMs: 5000,
      intervalMs: 60_000,
      queryStatsIntervalMs: 0,
      enabledMetrics: new Set(enabled),
      customQueries: [],
    },
    clock: new SystemClock(),
    logger: silentLogger,
    agentVersion: 'bench',
  });
const HEALTH = new Set(
  SOURCE_DEFINITIONS.filter((d) => ['jvm', 'page_cache_setting', 'server_info'].includes(d.id)).flatMap(
    (d) => d.metrics,
  ),
);
const collector = makeCollector(COLLECTED_METRICS);
// The same without the query statistics (db.stats.retrieve('QUERIES')), whose cost is the procedure's own.
const withoutStats = makeCollector(COLLECTED_METRICS.filter((m) => !QUERY_STATS.includes(m)));
// ... and also without the server-health reads, to see what they add.
const withoutHealth = makeCollector(
  COLLECTED_METRICS.filter((m) => !QUERY_STATS.includes(m) && !HEALTH.has(m)),
);

async function timeCollections(rounds, c = collector) {
  const wall = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await c.collectNow();
    wall.push(performance.now() - t0);
    if (c.up !== true) throw new Error(`collection failed: ${c.lastError}`);
  }
  return wall;
}

async function timePeer(rounds) {
  const wall = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await Promise.all([
      run('MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS c'),
      run('MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS c'),
    ]);
    wall.push(performance.now() - t0);
  }
  return wall;
}

// (a) a tiny graph with the same labels and types (the collector's queries grow with the number of tokens,
// which must not differ between (a) and (b)): the cost that does not depend on the size of the graph.
await run(
  `CREATE ${LABELS.map((l, i) => `(n${i}:${l})`).join(', ')} ` +
    `CREATE ${TYPES.map((t, i) => `(n${i % LABELS.length})-[:${t}]->(n${(i + 1) % LABELS.length})`).join(', ')}`,
);
await timeCollections(5);
await timeCollections(5, withoutStats);
const empty = await timeCollections(ROUNDS);
const emptyNoStats = await timeCollections(ROUNDS, withoutStats);

await run('MATCH (n) DETACH DELETE n');

// Load: 4 × 25k nodes, then 5 relationships per node by index lookups, in batches of 10k nodes.
const loadStarted = performance.now();
await run('CREATE INDEX item_id IF NOT EXISTS FOR (n:Item) ON (n.id)');
for (const [i, label] of LABELS.entries()) {
  const from = (i * NODES) / LABELS.length;
  await run(`UNWIND range($from, $to) AS i CREATE (:Item:${label} {id: i})`, {
    from,
    to: from + NODES / LABELS.length - 1,
  });
}
await run('CALL db.awaitIndexes(60)');
const perNode = RELATIONSHIPS / NODES;
for (let from = 0; from < NODES; from += 10_000) {
  for (let k = 0; k < perNode; k++) {
    await run(
      `MATCH (a:Item) WHERE a.id >= $from AND a.id < $to
       MATCH (b:Item {id: (a.id * 7 + $k * 13 + 1) % $n})
       CREATE (a)-[:${TYPES[k]}]->(b)`,
      { from, to: from + 10_000, k, n: NODES },
    );
  }
}
const loadedCounts = await run(
  'MATCH (n) WITH count(n) AS nodes MATCH ()-[r]->() RETURN nodes, count(r) AS relationships',
);
const { nodes, relationships } = loadedCounts.records[0].toObject();
console.log(
  `loaded ${nodes} nodes (${LABELS.length} labels + Item) and ${relationships} relationships (${TYPES.length} types) in ${fmt((performance.now() - loadStarted) / 1000, 1)} s`,
);
if (nodes !== NODES || relationships !== RELATIONSHIPS) throw new Error('the graph is not the size intended');

// (b) loaded graph.
await timeCollections(5);
await timeCollections(5, withoutStats);
await timeCollections(5, withoutHealth);
const loaded = await timeCollections(ROUNDS);
// Interleaved, so that load on the machine falls on both alike.
const loadedNoStats = [];
const loadedNoHealth = [];
for (let i = 0; i < ROUNDS; i++) {
  loadedNoStats.push(...(await timeCollections(1, withoutStats)));
  loadedNoHealth.push(...(await timeCollections(1, withoutHealth)));
}
const jvmAlone = [];
for (let i = 0; i < ROUNDS; i++) {
  const t0 = performance.now();
  await run(Q.jvm);
  jvmAlone.push(performance.now() - t0);
}
const pingAlone = [];
for (let i = 0; i < ROUNDS; i++) {
  const t0 = performance.now();
  await run(Q.ping);
  pingAlone.push(performance.now() - t0);
}
const statsAlone = [];
for (let i = 0; i < 10; i++) {
  const t0 = performance.now();
  await run(Q.queryStats);
  statsAlone.push(performance.now() - t0);
}
const points = (await collector.collect()).points;
const got = (metric, labels = {}) =>
  points.find((p) => p.metric === metric && Object.entries(labels).every(([k, v]) => p.labels[k] === v))
    ?.value;
if (got('neo4j_node_count') !== NODES || got('neo4j_relationship_count') !== RELATIONSHIPS)
  throw new Error('the collector counted wrongly');
if (got('neo4j_label_count', { label: 'Camera' }) !== NODES / 4) throw new Error('wrong Camera count');
if (got('neo4j_relationship_type_count', { type: 'NEAR' }) !== NODES) throw new Error('wrong NEAR count');

// (c) the peer that scans.
await timePeer(2);
const peer = await timePeer(10);

console.log('');
const row = (name, graph, v) => [
  name,
  graph,
  v.length,
  fmt(median(v)),
  fmt(quantile(v, 0.95)),
  fmt(Math.max(...v)),
];
printTable(
  ['variant', 'graph', 'rounds', 'median ms', 'p95 ms', 'max ms'],
  [
    row('(a) collector, all catalog queries', 'tiny', empty),
    row('(b) collector, all catalog queries', '100k / 500k', loaded),
    row("(a') collector without query statistics", 'tiny', emptyNoStats),
    row("(b') collector without query statistics", '100k / 500k', loadedNoStats),
    row("(b'') collector without query statistics nor server health", '100k / 500k', loadedNoHealth),
    row('(d) server-health JVM query alone (own session)', '100k / 500k', jvmAlone),
    row('RETURN 1 alone (own session: the round-trip floor)', '100k / 500k', pingAlone),
    row("db.stats.retrieve('QUERIES') alone", '100k / 500k', statsAlone),
    row('(c) graph-scan peer (labels + types)', '100k / 500k', peer),
  ],
);
console.log(
  `\n(b)/(a) median: ${fmt(median(loaded) / median(empty))}  (near 1: no query grows with the graph)`,
);
console.log(`(b')/(a') median: ${fmt(median(loadedNoStats) / median(emptyNoStats))}`);
console.log(
  `(c)/(b') median: ${fmt(median(peer) / median(loadedNoStats))}  (what scanning would cost instead)`,
);
console.log(
  `(b')−(b'') median: ${fmt(median(loadedNoStats) - median(loadedNoHealth))} ms  (what the server-health reads add to a collection; they run in parallel with the others)`,
);
const verdict = (v) => `${median(v) < TARGET_MS ? 'MET' : 'MISSED'} (median ${fmt(median(v))} ms)`;
console.log(
  `target, one collection under ${TARGET_MS} ms wall: all catalog queries ${verdict(loaded)}; without query statistics ${verdict(loadedNoStats)}`,
);

// Plans of what the collector sends: the counts must come from the count store only.
function operators(plan, out = []) {
  out.push(plan.operatorType.replace(/@.*$/, ''));
  for (const c of plan.children ?? []) operators(c, out);
  return out;
}
const GRAPH_OPERATORS = /Scan|Expand|Seek|Filter|Aggregation/;
const tokens = (await run(Q.tokens)).records.map((r) => r.toObject());
const labels = tokens.filter((t) => t.kind === 'label').map((t) => t.name);
const types = tokens.filter((t) => t.kind === 'type').map((t) => t.name);
const counts = countStoreQuery(labels, types);
const countPlan = operators((await run(`EXPLAIN ${counts.query}`)).summary.plan);
const leaves = countPlan.filter((o) => /CountFromCountStore/.test(o));
// One count-store leaf per count (all nodes, all relationships, each label, each type), nothing that reads the graph.
const allCountStore =
  leaves.length === counts.columns.length && !countPlan.some((o) => GRAPH_OPERATORS.test(o));
const tally = new Map();
for (const o of countPlan) tally.set(o, (tally.get(o) ?? 0) + 1);
const planRows = [
  [
    `counts: ${counts.columns.length} count subqueries (${labels.length} labels, ${types.length} types)`,
    [...tally].map(([o, n]) => `${o} ×${n}`).join(', '),
    allCountStore ? 'count store' : 'SCANS',
  ],
];
const procedures = [
  Q.tokens,
  Q.transactions,
  Q.connections,
  Q.queryStatsStatus,
  Q.queryStats,
  Q.storeDirs,
  Q.jvm,
  Q.pageCacheSetting,
];
for (const q of procedures) {
  const ops = operators((await run(`EXPLAIN ${q}`)).summary.plan);
  const graph = ops.some((o) => /Scan|Expand|Seek/.test(o));
  planRows.push([
    `\`${q.slice(0, 60)}${q.length > 60 ? '…' : ''}\``,
    ops.join(' ← '),
    graph ? 'SCANS' : 'procedure / command, no graph operator',
  ]);
}
console.log('');
printTable(['query', 'plan operators (EXPLAIN)', 'answered by'], planRows);
console.log(`\nevery count answered from the count store: ${allCountStore ? 'yes' : 'NO'}`);

console.log('');
console.log(`neo4j_collection_ms=${fmt(median(loadedNoStats))}`);
console.log(`neo4j_collection_without_health_ms=${fmt(median(loadedNoHealth))}`);
console.log(`neo4j_health_added_ms=${fmt(median(loadedNoStats) - median(loadedNoHealth))}`);
console.log(`neo4j_health_query_ms=${fmt(median(jvmAlone))}`);
console.log(`neo4j_collection_with_query_stats_ms=${fmt(median(loaded))}`);
console.log(`graph_scan_peer_ms=${fmt(median(peer))}`);

await collector.shutdown();
await withoutStats.shutdown();
await withoutHealth.shutdown();
await driver.close();
await server.stop(20_000);
process.exit(allCountStore ? 0 : 1);
