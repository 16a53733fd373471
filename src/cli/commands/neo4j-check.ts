/**
 * `perf-monitor neo4j check`: connects with the configuration's `neo4j_metrics` settings, runs one
 * collection and prints, per Neo4j catalog metric, where its value comes from on this server or why this
 * server (edition, version, settings) cannot give it. Exit 1 with one line when it cannot connect.
 */
import { catalogGroup } from '../../catalog/catalog.js';
import { loadConfigFile } from '../../agent/load-config.js';
import type { Env } from '../../config/load.js';
import { SystemClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import { packageInfo } from '../../lib/package-root.js';
import { Neo4jCollector, boltAddress } from '../../probes/neo4j/collector.js';
import type { Neo4jClient } from '../../probes/neo4j/client.js';
import type { Neo4jSettings } from '../../probes/neo4j/collector.js';
import { neo4jSettings } from '../../probes/neo4j/settings.js';
import { SOURCE_DEFINITIONS } from '../../probes/neo4j/sources.js';
import { enabledEntries } from '../../telemetry/instruments.js';
import type { CliIo } from '../io.js';

/** Metrics about the collection itself, not read from the server. */
const COLLECTION_METRICS = new Set(['neo4j_up', 'neo4j_snapshot_age_seconds']);

export interface Neo4jCheckOptions {
  /** Replaces the neo4j-driver client (tests). */
  createClient?: (settings: Neo4jSettings) => Neo4jClient;
}

export async function neo4jCheckCommand(
  file: string,
  env: Env,
  io: CliIo,
  opts: Neo4jCheckOptions = {},
): Promise<number> {
  const { config } = await loadConfigFile(file, env);
  const enabled = new Set(enabledEntries(config, ['neo4j']).map((e) => e.name));
  const settings = neo4jSettings(config, enabled);
  const collector = new Neo4jCollector({
    settings,
    clock: new SystemClock(),
    logger: silentLogger,
    agentVersion: packageInfo().version,
    createClient: opts.createClient,
  });
  const where = `${boltAddress(settings.uri)} as ${settings.user}`;
  try {
    await collector.collectNow();
    if (collector.up !== true) {
      io.err(`perf-monitor neo4j check: cannot connect to ${where}: ${collector.lastError ?? 'no answer'}`);
      return 1;
    }
    const info = collector.serverInfo!;
    const states = collector.sourceStates();
    const producedBy = collector.producedBy();
    io.out(
      `Neo4j ${info.version} ${info.edition} edition at ${where}, database ${settings.database} (collection took ${Math.round(collector.lastDurationMs)} ms)`,
    );
    const rows: [string, string, string][] = [];
    for (const e of catalogGroup('neo4j')) {
      if (COLLECTION_METRICS.has(e.name)) continue;
      if (!enabled.has(e.name)) {
        rows.push([e.name, 'off', 'disabled in neo4j_metrics.queries']);
        continue;
      }
      const custom = settings.customQueries.find((q) => q.name === e.name);
      if (custom !== undefined) {
        const s = states.get(e.name);
        rows.push([e.name, s?.state ?? 'failed', s?.state === 'ok' ? 'configured query' : (s?.detail ?? '')]);
        continue;
      }
      const source = producedBy.get(e.name);
      if (source !== undefined) {
        rows.push([e.name, 'ok', states.get(source)?.detail ?? source]);
        continue;
      }
      const reasons = SOURCE_DEFINITIONS.filter((d) => d.metrics.includes(e.name)).map((d) => {
        const s = states.get(d.id);
        if (s === undefined) return `${d.id}: not run`;
        if (s.state === 'ok') return `${s.detail}: no value right now`;
        return s.detail;
      });
      const anyFailed = SOURCE_DEFINITIONS.some(
        (d) => d.metrics.includes(e.name) && states.get(d.id)?.state === 'failed',
      );
      const anyOk = SOURCE_DEFINITIONS.some(
        (d) => d.metrics.includes(e.name) && states.get(d.id)?.state === 'ok',
      );
      rows.push([e.name, anyFailed ? 'failed' : anyOk ? 'empty' : 'unavailable', reasons.join('; ')]);
    }
    for (const q of settings.customQueries) {
      if (rows.some((r) => r[0] === q.name)) continue;
      const s = states.get(q.name);
      rows.push([q.name, s?.state ?? 'failed', s?.state === 'ok' ? 'configured query' : (s?.detail ?? '')]);
    }
    const width = Math.max(...rows.map((r) => r[0].length));
    for (const [name, state, detail] of rows)
      io.out(`  ${name.padEnd(width)}  ${state.padEnd(11)}  ${detail}`);
    return rows.some((r) => r[1] === 'failed') ? 1 : 0;
  } finally {
    await collector.shutdown();
  }
}
