/**
 * The probes a configuration enables: the host probes of the system collector, the Neo4j collector, and the
 * Node.js runtime probe, with the series tables the pipeline exports beside them (GC durations, the in-app
 * neo4j-driver query durations).
 */
import { instrumentName } from '../catalog/catalog.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { AgentConfig } from '../config/schema.js';
import type { SafeRegex } from '../lib/safe-regex.js';
import type { Sample } from '../model/metric.js';
import { neo4jSettings } from '../probes/neo4j/settings.js';
import type { Probe } from '../probes/probe.js';
import { RUNTIME_METRICS, RuntimeProbe } from '../probes/runtime/runtime.js';
import { enabledEntries } from '../telemetry/instruments.js';
import { SeriesTable, exponentialHistogramsOn } from '../telemetry/series-table.js';
import type { AgentContext } from './context.js';

/** How often the daemon samples its own event-loop delay (the preload keeps the runtime probe's 10 ms). */
export const DAEMON_EVENT_LOOP_RESOLUTION_MS = 1000;

/**
 * Every probe of `config`. GC tables the runtime probe fills are pushed to `gcTables`; `latestSamples` gives the
 * pipeline's latest collection, from which the Neo4j collector reads the application's query durations. The
 * host probes and the Neo4j collector (with its driver) are imported only when their collector is enabled.
 */
export async function buildProbes(
  config: AgentConfig,
  ctx: AgentContext,
  gcTables: SeriesTable[],
  latestSamples: () => readonly Sample[],
): Promise<Probe[]> {
  const pm = config.performance_monitor;
  const probes = await systemProbes(config, ctx);
  if (pm.enabled_collectors.includes('neo4j')) {
    const { Neo4jCollector } = await import('../probes/neo4j/collector.js');
    const { queryDurationHistogram } = await import('../probes/neo4j/query-duration-feed.js');
    const enabled = enabledEntries(config, ['neo4j']).map((e) => e.name);
    probes.push(
      new Neo4jCollector({
        settings: neo4jSettings(config, enabled),
        clock: ctx.clock,
        logger: ctx.logger(),
        agentVersion: ctx.version(),
        queryDurations: () => queryDurationHistogram(latestSamples(), pm.neo4j_metrics.database),
      }),
    );
  }
  probes.push(...runtimeProbe(config, ctx, gcTables));
  probes.push(...(await processProbe(config, ctx)));
  return probes;
}

async function systemProbes(config: AgentConfig, ctx: AgentContext): Promise<Probe[]> {
  const pm = config.performance_monitor;
  if (!pm.enabled_collectors.includes('system')) return [];
  const { SYSTEM_PROBES } = await import('../probes/system/registry.js');
  const { nodeStatFs, nodeStatFsSync } = await import('../probes/system/statfs.js');
  const { compileSafeRegex } = await import('../lib/safe-regex.js');
  const enabled = new Set(enabledEntries(config, ['system', 'container']).map((e) => e.name));
  const sys = pm.system;
  const statfs = ctx.opts.statfs;
  const probeCtx = {
    clock: ctx.clock,
    logger: ctx.logger(),
    paths: { proc: sys.proc_path, sys: sys.sys_path, rootfs: sys.rootfs_path },
    statfs: statfs ?? nodeStatFs,
    // A test's fake statfs replaces both paths.
    statfsSync: statfs === undefined ? nodeStatFsSync : undefined,
  };
  // Patterns from the configuration run on the linear-time engine (the schema has compiled them once already).
  const regex = (s: string | undefined): SafeRegex | undefined =>
    s === undefined ? undefined : compileSafeRegex(s, { anchored: false });
  const options = {
    excludeMountPoints: regex(sys.exclude_mount_points),
    excludeFsTypes: regex(sys.exclude_fs_types),
    excludeDevices: regex(sys.exclude_devices),
    excludeInterfaces: regex(sys.exclude_interfaces),
  };
  return SYSTEM_PROBES.filter((d) => d.metrics.some((m) => enabled.has(m))).map((d) =>
    d.create(probeCtx, options),
  );
}

/** The Node.js runtime probe when the application collector is on and a runtime metric is enabled. */
function runtimeProbe(config: AgentConfig, ctx: AgentContext, gcTables: SeriesTable[]): Probe[] {
  const pm = config.performance_monitor;
  if (!pm.enabled_collectors.includes('application') || ctx.opts.runtimeMetrics === false) return [];
  const names: readonly string[] = RUNTIME_METRICS;
  const entries = enabledEntries(config, ['runtime']).filter((e) => names.includes(e.name));
  if (entries.length === 0) return [];
  const gc = entries.find((e) => e.name === 'nodejs_gc_duration_seconds');
  const gcTable = gc === undefined ? undefined : histogramTable(config, gc, 16);
  if (gcTable !== undefined) gcTables.push(gcTable);
  return [
    new RuntimeProbe({
      enabled: new Set(entries.map((e) => e.name)),
      gcTable,
      // The daemon samples its own event loop once a second: each sample wakes the process, and a wakeup of an
      // idle process costs about 0.1 ms of CPU here (10 ms woke it a hundred times a second, about 0.75 % of a
      // core; 100 ms still took 0.13 % of a core, a fifth of the daemon with trend analysis off). A blocked
      // agent shows as seconds of delay, which a 1 s sample sees; inside an application the 10 ms of
      // prom-client and the OTel SDK stay (docs/metrics.md).
      resolutionMs: ctx.opts.embedded === true ? undefined : DAEMON_EVENT_LOOP_RESOLUTION_MS,
    }),
  ];
}

/**
 * The probe of the process the agent runs in (process_* metrics, /proc/self) when the application collector is
 * on and one of them is enabled; like the runtime probe, in the daemon and under the preload alike.
 */
async function processProbe(config: AgentConfig, ctx: AgentContext): Promise<Probe[]> {
  const pm = config.performance_monitor;
  if (!pm.enabled_collectors.includes('application') || ctx.opts.runtimeMetrics === false) return [];
  const { PROCESS_METRICS, ProcessProbe } = await import('../probes/runtime/process.js');
  const names: readonly string[] = PROCESS_METRICS;
  const enabled = enabledEntries(config, ['runtime']).filter((e) => names.includes(e.name));
  if (enabled.length === 0) return [];
  return [
    new ProcessProbe({
      enabled: new Set(enabled.map((e) => e.name)),
      logger: ctx.logger(),
      clock: ctx.clock,
    }),
  ];
}

/** The table of neo4j_query_duration, when the application collector is on and the metric enabled. */
export function neo4jQueryTable(config: AgentConfig): SeriesTable | undefined {
  const pm = config.performance_monitor;
  if (!pm.enabled_collectors.includes('application')) return undefined;
  const e = enabledEntries(config, ['neo4j']).find((x) => x.name === 'neo4j_query_duration');
  return e === undefined ? undefined : histogramTable(config, e, pm.application_cardinality_limit);
}

function histogramTable(config: AgentConfig, e: CatalogEntry, limit: number): SeriesTable {
  return new SeriesTable({
    name: instrumentName(config.performance_monitor.prometheus.metric_prefix, e),
    description: e.description,
    unit: e.unit,
    kind: 'histogram',
    labelNames: e.labels,
    boundaries: e.buckets,
    limit,
    exemplars: config.performance_monitor.exemplars.enabled,
    exponential: exponentialHistogramsOn(config),
  });
}
