/**
 * The collection pipeline of one configuration: probes → observable instruments → one CollectionReader →
 * the Prometheus snapshot, the OTLP push and every other subscriber. A reload builds a new pipeline; its
 * start() takes over from the running one (the PipelineSlot) without a gap: until the new pipeline's first
 * collection, scrapes get the old one's last.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { CollectionReader, deliverBatch } from '../analysis/collection-reader.js';
import type { CollectionBatch, CollectionSubscriber } from '../analysis/collection-reader.js';
import { CATALOG, catalogEntry, instrumentName } from '../catalog/catalog.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { AgentConfig } from '../config/schema.js';
import type { OtlpPush } from '../export/otlp.js';
import { resolveOtlpSettings } from '../export/otlp-settings.js';
import { PrometheusSnapshot } from '../export/prometheus.js';
import type { MetricsPayload, ProtobufSerializer } from '../export/prometheus.js';
import { errorMessage } from '../lib/errors.js';
import { shutdownAll, withTimeout } from '../lib/lifecycle.js';
import type { MetricPoint } from '../model/metric.js';
import type { Probe } from '../probes/probe.js';
import { customQueryEntries } from '../probes/neo4j/settings.js';
import { ProbeRunner } from '../probes/probe-runner.js';
import { resolveIdentity } from '../telemetry/identity.js';
import type { Identity } from '../telemetry/identity.js';
import { enabledEntries } from '../telemetry/instruments.js';
import { PointProducer } from '../telemetry/point-producer.js';
import { StaticResource } from '../telemetry/static-resource.js';
import { SeriesProducer } from '../telemetry/series-table.js';
import type { SeriesTable } from '../telemetry/series-table.js';
import type { Component } from './component.js';
import type { AgentContext } from './context.js';
import { buildProbes, neo4jQueryTable } from './probe-set.js';
import { selfPoints } from './self-metrics.js';

export interface PipelineSources {
  /** Self-metrics of the other components (notifications, trends, alerting), asked at every collection. */
  componentPoints(): Iterable<MetricPoint>;
  /** Receivers of every collection besides the Prometheus snapshot and the OTLP push, asked each time. */
  subscribers(): ReadonlyMap<string, CollectionSubscriber>;
  /** Scrapes served so far (a self-metric). */
  scrapes(): number;
}

/** Where the pipeline in force is kept (slot.ts); a starting pipeline takes over from the one there. */
export interface PipelineHolder {
  current: Pipeline | undefined;
  /** What /metrics serves while a new pipeline waits for its first collection. */
  swappedOut: MetricsPayload | undefined;
}

/** What a pipeline is built with besides its configuration: the parts whose modules load only when enabled. */
export interface PipelineParts {
  probes: Probe[];
  /** The GC histogram tables the runtime probe fills. */
  gcTables: SeriesTable[];
  otlp: OtlpPush | undefined;
  /** Builds the resource collections are reported under (the SDK's for an OTLP push). */
  resourceOf: (attributes: Attributes) => Resource;
  /** Exported instrument name → config name (configNamesOf), when already made. */
  configNames?: ReadonlyMap<string, string>;
  /** The protobuf exposition, when `prometheus.native_histograms` is on. */
  protobuf?: ProtobufSerializer;
}

/** The config name of every instrument name the configuration exports (`multi_agent_system_cpu_cores` → `cpu_count`). */
export function configNamesOf(config: AgentConfig): Map<string, string> {
  const pm = config.performance_monitor;
  const prefix = pm.prometheus.metric_prefix;
  const configNames = new Map<string, string>();
  for (const e of CATALOG) configNames.set(instrumentName(prefix, e), e.name);
  for (const e of customQueryEntries(config)) configNames.set(instrumentName(prefix, e), e.name);
  for (const m of pm.application_metrics) {
    const kind = m.type ?? catalogEntry(m.name)?.kind ?? 'gauge';
    configNames.set(
      instrumentName(prefix, { exportedName: catalogEntry(m.name)?.exportedName ?? m.name, kind }),
      m.name,
    );
  }
  return configNames;
}

export class Pipeline implements Component {
  readonly name = 'pipeline';
  readonly config: AgentConfig;
  readonly identity: Identity;
  readonly runner: ProbeRunner;
  readonly reader: CollectionReader;
  readonly snapshot: PrometheusSnapshot;
  readonly otlp: OtlpPush | undefined;
  /** The table the in-app neo4j-driver hook records into, when that metric is on. */
  readonly neo4jQueries: SeriesTable | undefined;
  latest: CollectionBatch | undefined;
  private readonly _ctx: AgentContext;
  private readonly _slot: PipelineHolder;
  private _detachOtlp: () => void = () => undefined;
  private _finalPush: ResourceMetrics | undefined;
  private _state: 'new' | 'running' | 'stopped' = 'new';

  /**
   * Builds the pipeline of `config`, importing the host probes, the Neo4j collector and the OTLP exporter only
   * when the configuration enables them.
   */
  static async build(
    config: AgentConfig,
    ctx: AgentContext,
    slot: PipelineHolder,
    sources: PipelineSources,
  ): Promise<Pipeline> {
    const gcTables: SeriesTable[] = [];
    const self: { built?: Pipeline } = {};
    const probes = await buildProbes(config, ctx, gcTables, () => self.built?.latest?.samples ?? []);
    const settings = resolveOtlpSettings(config.performance_monitor.otlp, ctx.env);
    const otlpModule = settings === undefined ? undefined : await import('../export/otlp.js');
    if (otlpModule !== undefined && ctx.opts.otelDiagnostics !== undefined)
      otlpModule.routeOtelDiagnostics(ctx.opts.otelDiagnostics);
    const semconv = settings?.naming === 'semconv' ? await import('../export/otlp-semconv.js') : undefined;
    const configNames = configNamesOf(config);
    const renamer =
      semconv === undefined || otlpModule === undefined
        ? undefined
        : new semconv.SemconvRenamer({
            nameOf: (n) => configNames.get(n) ?? n,
            resourceOf: otlpModule.otlpResource,
          });
    const otlp =
      settings === undefined || otlpModule === undefined
        ? undefined
        : new otlpModule.OtlpPush(
            settings,
            ctx.clock,
            ctx.logger().child({ component: 'otlp' }),
            renamer === undefined ? undefined : (rm) => renamer.convert(rm),
          );
    const resourceOf = otlpModule?.otlpResource ?? ((a: Attributes) => new StaticResource(a));
    const protobuf = config.performance_monitor.prometheus.native_histograms
      ? (await import('../export/prometheus-protobuf.js')).serializePrometheusProtobuf
      : undefined;
    self.built = new Pipeline(config, ctx, slot, sources, {
      probes,
      gcTables,
      otlp,
      resourceOf,
      configNames,
      protobuf,
    });
    return self.built;
  }

  constructor(
    config: AgentConfig,
    ctx: AgentContext,
    slot: PipelineHolder,
    sources: PipelineSources,
    parts: PipelineParts,
  ) {
    this.config = config;
    this._ctx = ctx;
    this._slot = slot;
    const pm = config.performance_monitor;
    const logger = ctx.logger();
    const version = ctx.version();
    this.identity = resolveIdentity({ config, env: ctx.env, hostname: ctx.hostname, agentVersion: version });
    for (const note of this.identity.notes) logger.info(note);

    this.runner = new ProbeRunner({
      probes: parts.probes,
      clock: ctx.clock,
      logger,
      timeoutMs: pm.system.probe_timeout?.ms ?? Math.min(5000, pm.collection_interval.ms),
    });
    const prefix = pm.prometheus.metric_prefix;
    const configNames = parts.configNames ?? configNamesOf(config);

    const scope = { name: 'perf-monitor-agent', version };
    const groups: CatalogEntry['group'][] = pm.enabled_collectors.includes('system')
      ? ['system', 'container', 'self']
      : ['self'];
    if (pm.enabled_collectors.includes('application') && ctx.opts.runtimeMetrics !== false)
      groups.push('runtime');
    if (pm.enabled_collectors.includes('neo4j')) groups.push('neo4j');
    const points = new PointProducer({
      clock: ctx.clock,
      scope,
      prefix,
      entries: [
        ...enabledEntries(config, groups),
        ...(pm.enabled_collectors.includes('neo4j') ? customQueryEntries(config) : []),
      ],
      sources: [
        () => this.runner.points(),
        () => selfPoints(this, ctx, sources.scrapes()),
        () => sources.componentPoints(),
      ],
    });
    const producer = new SeriesProducer(ctx.clock, scope);
    producer.addSource(() => ctx.application.tables());
    for (const t of parts.gcTables) producer.addSource(() => [t]);
    this.neo4jQueries = neo4jQueryTable(config);
    const neo4jQueries = this.neo4jQueries;
    if (neo4jQueries !== undefined) producer.addSource(() => [neo4jQueries]);
    this.reader = new CollectionReader({
      clock: ctx.clock,
      logger,
      intervalMs: pm.collection_interval.ms,
      refresh: () => this.runner.refresh(),
      nameOf: (n) => configNames.get(n) ?? n,
      resource: parts.resourceOf(this.identity.resourceAttributes),
      metricProducers: [points, producer],
    });
    this.snapshot = new PrometheusSnapshot({
      constantLabels: Object.keys(this.identity.labels),
      protobuf: parts.protobuf,
    });
    this.otlp = parts.otlp;

    ctx.application.bind(config, { clock: ctx.clock, logger });

    this.reader.subscribe('prometheus', (batch) => {
      this.latest = batch;
      this.snapshot.update(batch.resourceMetrics, batch.timestampMs);
    });
    const otlp = this.otlp;
    if (otlp !== undefined)
      this._detachOtlp = this.reader.subscribe('otlp', (batch) => otlp.offer(batch.resourceMetrics));
    this.reader.subscribe('components', (batch) => deliverBatch(sources.subscribers(), batch, ctx.logger()));
  }

  /**
   * Starts the probes, then takes over from the pipeline in force: its schedule stops, scrapes get its last
   * collection until this one's first is done, and this one becomes current. The set stops the old one after.
   */
  async start(): Promise<void> {
    if (this._state !== 'new') return;
    await this.runner.start();
    this._state = 'running';
    const previous = this._slot.current;
    previous?.reader.stopSchedule();
    this._slot.swappedOut = previous?.snapshot.current();
    this._slot.current = this;
    this.reader.startSchedule();
    try {
      await this.reader.runCycle();
    } finally {
      this._slot.swappedOut = undefined;
    }
  }

  /**
   * Stops the schedule and runs one last collection for the OTLP push, which shutdown() then sends (the
   * agent's stop calls this before stopping anything, so the final values reach the Collector).
   */
  async collectFinal(): Promise<void> {
    if (this._state !== 'running' || this.otlp === undefined) return;
    this.reader.stopSchedule();
    this._detachOtlp();
    const timeoutMs = this._ctx.opts.shutdownTimeoutMs ?? 10_000;
    const batch = await withTimeout(this.reader.runCycle(), timeoutMs, 'final collection').catch(
      (err: unknown) => {
        this._ctx.logger().warn('final collection failed', { error: errorMessage(err) });
        return undefined;
      },
    );
    this._finalPush = batch?.resourceMetrics;
  }

  async shutdown(): Promise<void> {
    if (this._state === 'stopped') return;
    this._state = 'stopped';
    this.reader.stopSchedule();
    await shutdownAll(
      [
        { name: 'probes', shutdown: () => this.runner.shutdown() },
        { name: 'collection reader', shutdown: () => this.reader.shutdown() },
        { name: 'otlp', shutdown: () => this.otlp?.shutdown(this._finalPush) ?? Promise.resolve() },
      ],
      this._ctx.opts.shutdownTimeoutMs ?? 10_000,
      this._ctx.logger(),
    );
  }
}
