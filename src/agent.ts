/**
 * PerformanceMonitorAgent: the composition root. It turns a configuration into a running pipeline —
 * probes → observable instruments → one CollectionReader → Prometheus snapshot, OTLP push and any other
 * subscriber — serves the HTTP endpoint, and reloads or stops all of it in order. Nothing else in the
 * code base knows every part.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';
import path from 'node:path';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { RuleEngine } from './alerts/engine.js';
import type { AlertView, RuleStatus } from './alerts/engine.js';
import { alertsRoute } from './alerts/http-api.js';
import { createAlertDispatcher } from './alerts/create-dispatcher.js';
import type { AlertDispatcher } from './alerts/dispatcher.js';
import { silenceRoutes } from './alerts/silences-api.js';
import { compileRules } from './alerts/rules.js';
import { AlertStateStore } from './alerts/state-store.js';
import type { AlertSink, Alert } from './alerts/types.js';
import { CollectionReader, deliverBatch } from './analysis/collection-reader.js';
import type { CollectionBatch, CollectionSubscriber } from './analysis/collection-reader.js';
import type { Sample, MetricPoint } from './model/metric.js';
import { CATALOG, catalogEntry, instrumentName } from './catalog/catalog.js';
import type { CatalogEntry } from './catalog/catalog.js';
import { defaultConfigPath } from './config/default-path.js';
import { loadConfigIsolated } from './agent/load-isolated.js';
import type { Env, LoadedConfig } from './config/load.js';
import { knownMetricNames } from './catalog/known-metrics.js';
import type { AgentConfig } from './config/schema.js';
import { HttpServer } from './export/http-server.js';
import type { Route } from './model/route.js';
import { OtlpPush, resolveOtlpSettings } from './export/otlp.js';
import { PrometheusSnapshot, serveMetrics } from './export/prometheus.js';
import type { MetricsPayload } from './export/prometheus.js';
import { renderLandingPage } from './export/landing-page.js';
import { SystemClock } from './lib/clock.js';
import type { Clock } from './lib/clock.js';
import { AgentError, ConfigError, errorMessage } from './lib/errors.js';
import { guardedFailures, guardPromise } from './lib/guard.js';
import { shutdownAll, withTimeout } from './lib/lifecycle.js';
import { createLogger, toLogLevel } from './lib/logger.js';
import type { Logger, OwnedLogger } from './lib/logger.js';
import { compileSafeRegex } from './lib/safe-regex.js';
import type { SafeRegex } from './lib/safe-regex.js';
import { packageInfo } from './lib/package-root.js';
import { ProbeRunner } from './probes/probe-runner.js';
import type { ProbeStatus } from './probes/probe-runner.js';
import type { Probe, StatFs } from './probes/probe.js';
import { SYSTEM_PROBES } from './probes/system/registry.js';
import { Neo4jCollector } from './probes/neo4j/collector.js';
import { customQueryEntries, neo4jSettings } from './probes/neo4j/settings.js';
import { queryDurationHistogram } from './probes/neo4j/query-duration-feed.js';
import { nodeStatFs, nodeStatFsSync } from './probes/system/statfs.js';
import { ApplicationMetrics } from './telemetry/application-metrics.js';
import { HttpRequestMetrics } from './probes/runtime/http-requests.js';
import { RuntimeProbe } from './probes/runtime/runtime.js';
import { Neo4jDriverMetrics } from './probes/runtime/neo4j-driver.js';
import type { QueryKind } from './probes/runtime/neo4j-driver.js';
import { SeriesProducer, SeriesTable } from './telemetry/series-store.js';
import { ApplicationBridge } from './telemetry/worker-bridge.js';
import { TrendService } from './trends/trend-service.js';
import type { DetectedAnomaly } from './trends/trend-service.js';
import type { TrendStatistics } from './trends/stats.js';
import { renderStatusSections, STATUS_PAGE_STYLE } from './export/status-page.js';
import { enabledEntries, registerObservables } from './telemetry/instruments.js';
import { resolveIdentity } from './telemetry/identity.js';
import type { Identity } from './telemetry/identity.js';

export interface AgentOptions {
  /** Configuration file; the packaged default when neither this nor `config` is given. */
  configPath?: string;
  /** An already validated configuration (see `loadConfigFile`); `reload()` then needs `configPath`. */
  config?: AgentConfig;
  /** Environment for OTEL_* variables; defaults to process.env. */
  env?: Env;
  /** Loads and validates a file; defaults to a worker-thread load (see loadConfigIsolated). */
  loadConfig?: (file: string, env: Env) => Promise<LoadedConfig>;
  clock?: Clock;
  /** Where logs go; by default built from the config's `logging` section, writing to stderr. */
  logger?: Logger;
  /** Filesystem statistics for disk usage; tests inject a fake. */
  statfs?: StatFs;
  /** Host name for the `agent_instance` label; defaults to os.hostname(). */
  hostname?: string;
  /** Time allowed for each shutdown step. */
  shutdownTimeoutMs?: number;
  /**
   * Running inside an application (the preload): the HTTP endpoint does not keep the process alive,
   * so the application exits when its own work is done.
   */
  embedded?: boolean;
  /**
   * Record every HTTP server request of the process into the API request metrics (diagnostics_channel).
   * Defaults to `embedded`.
   */
  instrumentHttp?: boolean;
  /**
   * Record the latency of the application's neo4j-driver queries (`neo4j_query_duration`). Defaults to
   * `embedded`.
   */
  instrumentNeo4jDriver?: boolean;
  /** Measure the Node.js runtime (the `runtime` metric group); default true. Tests on fixtures turn it off. */
  runtimeMetrics?: boolean;
  /** Active alerts for the status page at `/` (the rule engine's); none shown when absent. */
  activeAlerts?: () => readonly Alert[];
}

export interface MetricValue {
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricsSummary {
  /** Time of the latest collection, or undefined before the first. */
  collectedAtMs: number | undefined;
  collectionIntervalMs: number;
  /** Latest value of every series, by config name (histograms give their observation count). */
  metrics: Record<string, MetricValue[]>;
  probes: ProbeStatus[];
  otlp?: { endpoint: string; exports: number; failures: number; lastError?: string };
  scrapes: number;
  /** Where the HTTP endpoint listens, when it does. */
  url?: string;
}

/** The parts built from one configuration; a reload builds a new one and swaps. */
interface Pipeline {
  config: AgentConfig;
  identity: Identity;
  provider: MeterProvider;
  reader: CollectionReader;
  runner: ProbeRunner;
  snapshot: PrometheusSnapshot;
  otlp: OtlpPush | undefined;
  /** Stops feeding collections to the OTLP push (before the final one, which is pushed explicitly). */
  detachOtlp: () => void;
  latest: CollectionBatch | undefined;
}

const COLLECTORS_NOT_BUILT: readonly string[] = [];

type AgentState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class PerformanceMonitorAgent {
  private readonly _opts: AgentOptions;
  private readonly _clock: Clock;
  private readonly _env: Env;
  private readonly _loadConfig: (file: string, env: Env) => Promise<LoadedConfig>;
  private readonly _application = new ApplicationMetrics();
  private readonly _bridge = new ApplicationBridge(this._application);
  private _httpRequests: HttpRequestMetrics | undefined;
  private _neo4jDriver: Neo4jDriverMetrics | undefined;
  private _neo4jTable: SeriesTable | undefined;
  private readonly _subscribers = new Map<string, CollectionSubscriber>();
  private readonly _extraRoutes: Route[] = [];
  private _ownedLogger: OwnedLogger | undefined;
  private _logger: Logger;
  private _pipeline: Pipeline | undefined;
  private _server: HttpServer | undefined;
  private _scrapes = 0;
  private _state: AgentState = 'new';
  private _reloading: Promise<void> | undefined;
  /** What /metrics serves while a reload waits for the new pipeline's first collection. */
  private _swappedOut: MetricsPayload | undefined;
  /** The reload that follows the running one, when one was asked for meanwhile. */
  private _reloadAgain: Promise<void> | undefined;
  private _starting: Promise<void> | undefined;
  private _agentVersion: string | undefined;
  private _trends: TrendService | undefined;
  private _activeAlerts: (() => readonly Alert[]) | undefined;
  private _alerting: RuleEngine | undefined;
  private readonly _alertSinks: AlertSink[] = [];
  /** Notification side of alerting; replaced when a reload changes its settings. */
  private _dispatcher: AlertDispatcher | undefined;
  private _dispatcherSettings: string | undefined;
  /** What the running dispatcher was built from, to bring it back when a reload cannot start a new one. */
  private _dispatcherConfig: { config: AgentConfig; settings: string } | undefined;
  /** The working directory at start: relative state_file and store_path are taken from it. */
  private _baseDir = '.';

  constructor(opts: AgentOptions = {}) {
    this._opts = opts;
    this._clock = opts.clock ?? new SystemClock();
    this._env = opts.env ?? process.env;
    this._loadConfig = opts.loadConfig ?? loadConfigIsolated;
    this._activeAlerts = opts.activeAlerts;
    // Every evaluation round reaches the dispatcher in force at that moment.
    this._alertSinks.push({ handle: (result) => this._dispatcher?.handle(result) });
    this._logger =
      opts.logger ??
      createLogger({
        level: 'info',
        format: 'text',
        maxBytes: 0,
        backupCount: 0,
        stream: process.stderr,
        clock: this._clock,
      }).logger;
  }

  get logger(): Logger {
    return this._logger;
  }

  /** The configuration in force, once started. */
  get config(): AgentConfig | undefined {
    return this._pipeline?.config;
  }

  /** The URL of the HTTP endpoint, once it listens. */
  get url(): string | undefined {
    return this._server?.url;
  }

  /**
   * Loads the configuration (when given a path), starts probes, collects once, opens the HTTP endpoint
   * and schedules collections. Rejects with a ConfigError for a bad file and an AgentError
   * (E_PORT_IN_USE, E_LISTEN, E_TLS) when the endpoint cannot open; nothing is left running then.
   */
  start(): Promise<void> {
    if (this._state !== 'new')
      return Promise.reject(new AgentError('E_STATE', `cannot start an agent that is ${this._state}`));
    this._state = 'starting';
    this._starting = this._start();
    return this._starting;
  }

  private async _start(): Promise<void> {
    this._baseDir = process.cwd();
    try {
      this._startEarlySources();
      const config = this._opts.config ?? (await this._loadConfig(this._configPath(), this._env)).config;
      this._configureLogger(config);
      await this._startTrends(config);
      await this._configureNotifications(config).catch((err: unknown) => {
        // Inside an application, an outbox that cannot open (a read-only working directory) must not cost
        // the application its metrics: alerts are still evaluated and served, only not sent.
        if (this._opts.embedded !== true) throw err;
        this._logger.error('alert notifications not started; alerts are evaluated but not sent', {
          error: errorMessage(err),
        });
      });
      await this._configureAlerting(config);
      const pipeline = this._buildPipeline(config);
      this._pipeline = pipeline;
      await pipeline.runner.start();
      if (config.performance_monitor.prometheus.enabled) {
        const server = this._buildServer(config);
        await server.start();
        this._server = server;
      }
      await this._startApplicationSources();
      pipeline.reader.startSchedule();
      await pipeline.reader.runCycle();
      this._state = 'running';
      this._logger.info('agent started', {
        config: this._opts.config === undefined ? this._configPath() : '(in memory)',
        url: this._server?.url,
        interval: config.performance_monitor.collection_interval.text,
        otlp: pipeline.otlp?.endpoint,
      });
    } catch (err) {
      await this._teardown(false).catch(() => undefined);
      this._state = 'stopped';
      throw err;
    }
  }

  /**
   * Stops collecting, pushes a final collection over OTLP, closes the endpoint and shuts everything down.
   * Safe before start and safe twice.
   */
  async stop(): Promise<void> {
    if (this._state === 'new') {
      this._state = 'stopped';
      return;
    }
    if (this._state === 'stopped' || this._state === 'stopping') return;
    if (this._state === 'starting') {
      // Let the start finish (or fail, in which case it cleaned up after itself) before tearing down.
      await this._starting?.catch(() => undefined);
      if ((this._state as AgentState) !== 'running') return; // the await may have changed it
    }
    this._state = 'stopping';
    await this._reloading?.catch(() => undefined);
    try {
      await this._teardown(true);
      this._logger.info('agent stopped');
    } finally {
      this._state = 'stopped';
      this._ownedLogger?.close();
    }
  }

  /**
   * Re-reads the configuration file and switches to it. A file that does not validate is reported (the
   * rejection carries every issue) and the running configuration stays in force.
   */
  reload(): Promise<void> {
    if (this._state !== 'running')
      return Promise.reject(new AgentError('E_STATE', `cannot reload an agent that is ${this._state}`));
    const running = this._reloading;
    if (running === undefined) {
      this._reloading = this._reload().finally(() => {
        this._reloading = undefined;
      });
      return this._reloading;
    }
    // The running reload may have read the file before it changed again: one more reload follows it, shared
    // by every request made meanwhile (a SIGHUP storm costs two reloads, not fifty).
    this._reloadAgain ??= running
      .catch(() => undefined)
      .then(() => {
        this._reloadAgain = undefined;
        return this.reload();
      });
    return this._reloadAgain;
  }

  /** The object applications record their metrics through; the same object across reloads. */
  getApplicationCollector(): ApplicationMetrics {
    return this._application;
  }

  /** Current values, probe health and export state. */
  getMetricsSummary(): MetricsSummary {
    const p = this._pipeline;
    const metrics: Record<string, MetricValue[]> = {};
    for (const s of p?.latest?.samples ?? [])
      (metrics[s.metric] ??= []).push({ labels: s.labels, value: s.value });
    const otlp = p?.otlp;
    return {
      collectedAtMs: p?.latest?.timestampMs,
      collectionIntervalMs: p?.config.performance_monitor.collection_interval.ms ?? 0,
      metrics,
      probes: p?.runner.statuses() ?? [],
      otlp: otlp === undefined ? undefined : { endpoint: otlp.endpoint, ...otlp.stats },
      scrapes: this._scrapes,
      url: this._server?.url,
    };
  }

  /** The latest collection as Samples (empty before the first). */
  latestSamples(): readonly Sample[] {
    return this._pipeline?.latest?.samples ?? [];
  }

  /**
   * Subscribes to every collection (alerting and trends plug in here). Survives reloads. Returns a
   * function that unsubscribes.
   */
  onCollection(name: string, subscriber: CollectionSubscriber): () => void {
    this._subscribers.set(name, subscriber);
    return () => this._subscribers.delete(name);
  }

  /**
   * Adds a receiver of every alert evaluation round (the notification dispatcher). Survives reloads.
   */
  addAlertSink(sink: AlertSink): void {
    this._alertSinks.push(sink);
    this._alerting?.addSink(sink);
  }

  /** Pending and firing alerts (empty when alerting is off). */
  getActiveAlerts(): AlertView[] {
    return this._alerting?.activeAlerts() ?? [];
  }

  /** Health of each alert rule. */
  getRuleStatuses(): RuleStatus[] {
    return this._alerting?.ruleStatuses() ?? [];
  }

  /** Adds an HTTP route (before start). */
  addRoute(route: Route): void {
    this._extraRoutes.push(route);
  }

  /** Sets where the status page gets the active alerts from (the rule engine). */
  setActiveAlertsProvider(provider: (() => readonly Alert[]) | undefined): void {
    this._activeAlerts = provider;
  }

  /** Trend analysis, when `trend_analysis.enabled` (after start). */
  get trends(): TrendService | undefined {
    return this._trends;
  }

  /**
   * Window statistics (count, mean, min, max, stddev, p50/p95/p99, rate, slope) of every series of
   * `metric` matching `labels`, over `window` (`1h`, `24h`, `7d`, or milliseconds).
   */
  getTrendStatistics(
    metric: string,
    window: string | number,
    labels: Readonly<Record<string, string>> = {},
  ): Promise<TrendStatistics[]> {
    if (this._trends === undefined)
      return Promise.reject(
        new AgentError('E_STATE', 'trend analysis is not enabled (trend_analysis.enabled)'),
      );
    return this._trends.getTrendStatistics(metric, window, labels);
  }

  /** Runs the configured anomaly detector over the history of `metric`; returns the flagged points. */
  detectAnomalies(
    metric: string,
    opts: { window?: string | number; labels?: Readonly<Record<string, string>> } = {},
  ): Promise<DetectedAnomaly[]> {
    if (this._trends === undefined)
      return Promise.reject(
        new AgentError('E_STATE', 'trend analysis is not enabled (trend_analysis.enabled)'),
      );
    return this._trends.detectAnomalies(metric, opts);
  }

  private async _startTrends(config: AgentConfig): Promise<void> {
    const t = config.trend_analysis;
    if (!t.enabled) return;
    const trends = new TrendService({
      config: t,
      intervalMs: config.performance_monitor.collection_interval.ms,
      metricPrefix: config.performance_monitor.prometheus.metric_prefix,
      clock: this._clock,
      logger: this._logger.child({ component: 'trends' }),
      knownMetrics: knownMetricNames(config),
    });
    await trends.start();
    this._trends = trends;
    this.onCollection('trends', (batch) => this._trends?.onCollection(batch));
  }

  private async _statusSections(): Promise<string> {
    let alerts: readonly Alert[] | undefined;
    try {
      alerts = this._activeAlerts === undefined ? this.getActiveAlerts() : this._activeAlerts();
    } catch (err) {
      this._logger.warn('active alerts provider failed', { error: errorMessage(err) });
    }
    const trends = this._trends;
    if (trends === undefined) return renderStatusSections({ alerts });
    const toMs = this._clock.nowMs();
    const fromMs = toMs - 3_600_000;
    const sparklines = await trends
      .sparklines(trends.sparklineMetrics, fromMs, toMs)
      .catch((err: unknown) => {
        this._logger.warn('status page history query failed', { error: errorMessage(err) });
        return [];
      });
    return renderStatusSections({
      alerts,
      trends: {
        anomalies: trends.anomalies(),
        forecasts: trends.forecasts(),
        sparklines,
        fromMs,
        toMs,
        anomalyDetection: trends.anomalyDetectionEnabled,
      },
    });
  }

  /** The package version, read from package.json once. */
  private _version(): string {
    this._agentVersion ??= packageInfo().version;
    return this._agentVersion;
  }

  private _configPath(): string {
    return this._opts.configPath ?? defaultConfigPath();
  }

  private _configureLogger(config: AgentConfig): void {
    if (this._opts.logger !== undefined) return;
    const l = config.logging;
    const next = createLogger({
      level: toLogLevel(l.level),
      format: l.format,
      file: l.file,
      maxBytes: l.max_bytes,
      backupCount: l.backup_count,
      stream: process.stderr,
      clock: this._clock,
    });
    this._ownedLogger?.close();
    this._ownedLogger = next;
    this._logger = next.logger;
  }

  private _buildPipeline(config: AgentConfig): Pipeline {
    const pm = config.performance_monitor;
    const version = this._version();
    const identity = resolveIdentity({
      config,
      env: this._env,
      hostname: this._opts.hostname ?? os.hostname(),
      agentVersion: version,
    });
    for (const note of identity.notes) this._logger.info(note);
    for (const c of pm.enabled_collectors) {
      if (COLLECTORS_NOT_BUILT.includes(c))
        this._logger.warn('collector not available in this version; its metrics are not exported', {
          collector: c,
        });
    }

    const gcTables: SeriesTable[] = [];
    const probes = [...this._buildProbes(config), ...this._buildRuntimeProbe(config, gcTables)];
    const runner = new ProbeRunner({
      probes,
      clock: this._clock,
      logger: this._logger,
      timeoutMs: pm.system.probe_timeout?.ms ?? Math.min(5000, pm.collection_interval.ms),
    });
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

    const producer = new SeriesProducer(this._clock, { name: 'perf-monitor-agent', version });
    producer.addSource(() => this._application.tables());
    for (const t of gcTables) producer.addSource(() => [t]);
    this._neo4jTable = this._buildNeo4jTable(config);
    producer.addSource(() => (this._neo4jTable === undefined ? [] : [this._neo4jTable]));
    const reader = new CollectionReader({
      clock: this._clock,
      logger: this._logger,
      intervalMs: pm.collection_interval.ms,
      refresh: () => runner.refresh(),
      nameOf: (n) => configNames.get(n) ?? n,
      metricProducers: [producer],
    });
    const provider = new MeterProvider({
      resource: resourceFromAttributes(identity.resourceAttributes),
      readers: [reader],
    });
    const meter = provider.getMeter('perf-monitor-agent', version);
    const snapshot = new PrometheusSnapshot({ constantLabels: Object.keys(identity.labels) });
    const otlpSettings = resolveOtlpSettings(pm.otlp, this._env);
    const otlp =
      otlpSettings === undefined
        ? undefined
        : new OtlpPush(otlpSettings, this._clock, this._logger.child({ component: 'otlp' }));

    const pipeline: Pipeline = {
      config,
      identity,
      provider,
      reader,
      runner,
      snapshot,
      otlp,
      detachOtlp: () => undefined,
      latest: undefined,
    };
    const groups: CatalogEntry['group'][] = pm.enabled_collectors.includes('system')
      ? ['system', 'container', 'self']
      : ['self'];
    if (pm.enabled_collectors.includes('application') && this._opts.runtimeMetrics !== false)
      groups.push('runtime');
    if (pm.enabled_collectors.includes('neo4j')) groups.push('neo4j');
    registerObservables(meter, prefix, enabledEntries(config, groups), [
      () => runner.points(),
      () => this._selfPoints(pipeline),
      () => this._trends?.points() ?? [],
      () => this._alerting?.points() ?? [],
    ]);
    this._application.bind(config, { clock: this._clock, logger: this._logger });
    if (pm.enabled_collectors.includes('neo4j'))
      registerObservables(meter, prefix, customQueryEntries(config), [() => runner.points()]);

    reader.subscribe('prometheus', (batch) => {
      pipeline.latest = batch;
      snapshot.update(batch.resourceMetrics, batch.timestampMs);
    });
    // The rule engine sees the same collection; its alert gauge goes out with the next one (as ALERTS does).
    reader.subscribe('alerts', (batch) => this._alerting?.onCollection(batch));
    if (otlp !== undefined)
      pipeline.detachOtlp = reader.subscribe('otlp', (batch) => otlp.offer(batch.resourceMetrics));
    // The agent's own subscribers outlive a reload, so they hang off the agent, not the reader.
    reader.subscribe('subscribers', (batch) => deliverBatch(this._subscribers, batch, this._logger));
    return pipeline;
  }

  private _buildProbes(config: AgentConfig): Probe[] {
    const pm = config.performance_monitor;
    const probes = this._buildSystemProbes(config);
    if (pm.enabled_collectors.includes('neo4j')) {
      const enabled = enabledEntries(config, ['neo4j']).map((e) => e.name);
      probes.push(
        new Neo4jCollector({
          settings: neo4jSettings(config, enabled),
          clock: this._clock,
          logger: this._logger,
          agentVersion: this._version(),
          queryDurations: () =>
            queryDurationHistogram(this._pipeline?.latest?.samples ?? [], pm.neo4j_metrics.database),
        }),
      );
    }
    return probes;
  }

  private _buildSystemProbes(config: AgentConfig): Probe[] {
    const pm = config.performance_monitor;
    if (!pm.enabled_collectors.includes('system')) return [];
    const enabled = new Set(enabledEntries(config, ['system', 'container']).map((e) => e.name));
    const sys = pm.system;
    const ctx = {
      clock: this._clock,
      logger: this._logger,
      paths: { proc: sys.proc_path, sys: sys.sys_path, rootfs: sys.rootfs_path },
      statfs: this._opts.statfs ?? nodeStatFs,
      // A test's fake statfs replaces both paths.
      statfsSync: this._opts.statfs === undefined ? nodeStatFsSync : undefined,
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
      d.create(ctx, options),
    );
  }

  /** The Node.js runtime probe when the application collector is on and a runtime metric is enabled. */
  private _buildRuntimeProbe(config: AgentConfig, gcTables: SeriesTable[]): Probe[] {
    const pm = config.performance_monitor;
    if (!pm.enabled_collectors.includes('application') || this._opts.runtimeMetrics === false) return [];
    const entries = enabledEntries(config, ['runtime']);
    if (entries.length === 0) return [];
    const gc = entries.find((e) => e.name === 'nodejs_gc_duration_seconds');
    const gcTable =
      gc === undefined
        ? undefined
        : new SeriesTable({
            name: instrumentName(pm.prometheus.metric_prefix, gc),
            description: gc.description,
            unit: gc.unit,
            kind: 'histogram',
            labelNames: gc.labels,
            boundaries: gc.buckets,
            limit: 16,
          });
    if (gcTable !== undefined) gcTables.push(gcTable);
    return [new RuntimeProbe({ enabled: new Set(entries.map((e) => e.name)), gcTable })];
  }

  /** The table of neo4j_query_duration, when the application collector is on and the metric enabled. */
  private _buildNeo4jTable(config: AgentConfig): SeriesTable | undefined {
    const pm = config.performance_monitor;
    if (!pm.enabled_collectors.includes('application')) return undefined;
    const e = enabledEntries(config, ['neo4j']).find((x) => x.name === 'neo4j_query_duration');
    return e === undefined
      ? undefined
      : new SeriesTable({
          name: instrumentName(pm.prometheus.metric_prefix, e),
          description: e.description,
          unit: e.unit,
          kind: 'histogram',
          labelNames: e.labels,
          boundaries: e.buckets,
          limit: pm.application_cardinality_limit,
        });
  }

  private _recordNeo4jQuery(database: string, kind: QueryKind, seconds: number): void {
    const t = this._neo4jTable;
    if (t === undefined || !(seconds >= 0 && seconds !== Infinity)) return;
    const db = database.length > 256 ? database.slice(0, 256) : database;
    t.observe(t.get3(db, kind, '') ?? t.create([db, kind]), seconds);
  }

  /**
   * In the main thread: receive application measurements from worker threads; when embedded (or asked),
   * record the process's HTTP server requests.
   */
  private async _startApplicationSources(): Promise<void> {
    if (isMainThread) await this._bridge.start();
  }

  /**
   * Hooks that must be in place before the application loads its modules and serves requests, so they
   * are installed synchronously when start() is called, before the config is loaded: HTTP requests made
   * meanwhile are kept by the application API until it is bound; neo4j-driver queries that end before the
   * agent has started are not recorded.
   */
  private _startEarlySources(): void {
    if (this._opts.instrumentHttp ?? this._opts.embedded === true) {
      this._httpRequests = new HttpRequestMetrics({
        recorder: this._application,
        clock: this._clock,
        ignoreServer: (s) => s !== undefined && s === this._server?.nodeServer,
        logger: () => this._logger,
      });
      void guardPromise(() => this._logger, 'http request metrics start', this._httpRequests.start());
    }
    if (this._opts.instrumentNeo4jDriver ?? this._opts.embedded === true) {
      this._neo4jDriver = new Neo4jDriverMetrics({
        clock: this._clock,
        record: (db, kind, seconds) => this._recordNeo4jQuery(db, kind, seconds),
        logger: () => this._logger,
      });
      void guardPromise(() => this._logger, 'neo4j-driver metrics start', this._neo4jDriver.start());
    }
  }

  /** The agent's own health and cost, reported with every collection. */
  private *_selfPoints(p: Pipeline): IterableIterator<MetricPoint> {
    yield* this._application.selfPoints();
    yield {
      metric: 'monitor_build_info',
      labels: { agent_version: this._version(), node_version: process.version },
      value: 1,
    };
    for (const s of p.runner.statuses()) {
      if (s.state === 'pending' || s.state === 'unavailable') continue;
      yield {
        metric: 'monitor_probe_duration_seconds',
        labels: { probe: s.name },
        value: s.durationMs / 1000,
      };
      yield { metric: 'monitor_probe_success', labels: { probe: s.name }, value: s.state === 'ok' ? 1 : 0 };
    }
    for (const probe of p.runner.probes()) {
      const resets = (probe as { counterResets?: unknown }).counterResets;
      if (typeof resets === 'number')
        yield { metric: 'monitor_source_resets', labels: { probe: probe.name }, value: resets };
    }
    const stats = p.reader.stats;
    if (stats.cycles > 0)
      yield { metric: 'monitor_collection_duration_seconds', labels: {}, value: stats.lastCycleMs / 1000 };
    yield { metric: 'monitor_collections', labels: {}, value: stats.cycles };
    yield { metric: 'monitor_scrapes', labels: {}, value: this._scrapes };
    for (const [where, n] of guardedFailures())
      yield { metric: 'monitor_internal_errors', labels: { where }, value: n };
    if (this._dispatcher !== undefined) yield* this._dispatcher.points();
    if (p.otlp !== undefined) {
      yield { metric: 'monitor_otlp_exports', labels: {}, value: p.otlp.stats.exports };
      yield { metric: 'monitor_otlp_export_failures', labels: {}, value: p.otlp.stats.failures };
    }
  }

  /**
   * Starts, updates or stops the rule engine for `config`. The engine outlives reloads: a rule whose
   * expression is unchanged keeps its alerts. A state file that cannot be read is reported and set aside.
   */
  private async _configureAlerting(config: AgentConfig): Promise<void> {
    const alerting = config.performance_monitor.alerting;
    const rules = alerting.enabled ? compileRules(config) : [];
    const current = this._alerting;
    const file = stateFilePath(config, this._baseDir);
    if (current !== undefined && rules.length > 0 && current.stateFile === file) {
      current.setRules(rules);
      return;
    }
    this._alerting = undefined;
    await current?.shutdown();
    if (rules.length === 0) return;
    const logger = this._logger.child({ component: 'alerting' });
    const engine = new RuleEngine({
      clock: this._clock,
      logger,
      rules,
      sinks: this._alertSinks,
      stateStore: file === undefined ? undefined : new AlertStateStore(file),
      evaluationIntervalMs: alerting.evaluation_interval?.ms,
    });
    try {
      await engine.start();
    } catch (err) {
      logger.error('alert state not restored; starting without it', { file, error: errorMessage(err) });
    }
    this._alerting = engine;
  }

  /**
   * Starts the notification dispatcher for `config`, or replaces it when a reload changed its settings. The
   * running one stops first (it writes the last round's resolutions and lets its deliveries finish), so that
   * two dispatchers never deliver from one outbox; a new one that cannot start fails the reload, and one with
   * the previous settings (whose store opened before) takes over again.
   */
  private async _configureNotifications(config: AgentConfig): Promise<void> {
    const pm = config.performance_monitor;
    const wanted = pm.alerting.enabled && pm.alerting.rules.some((r) => r.enabled);
    // A relative store_path (like state_file) is taken from the working directory at start, so that an
    // application that changes directory later (the preload) does not move the outbox on a reload.
    const notifications = { ...pm.alerting.notifications, store_path: storePath(config, this._baseDir) };
    const settings = wanted
      ? JSON.stringify([notifications, pm.prometheus.host, pm.prometheus.port, pm.prometheus.tls])
      : undefined;
    if (settings === this._dispatcherSettings) return;
    const previous = this._dispatcher;
    const previousConfig = this._dispatcherConfig;
    this._dispatcher = undefined;
    this._dispatcherSettings = undefined;
    this._dispatcherConfig = undefined;
    await previous?.shutdown();
    if (!wanted) return;
    const resolved = {
      ...config,
      performance_monitor: { ...pm, alerting: { ...pm.alerting, notifications } },
    };
    try {
      this._dispatcher = await this._startDispatcher(resolved);
    } catch (err) {
      if (previous !== undefined && previousConfig !== undefined) {
        this._dispatcher = await this._startDispatcher(previousConfig.config);
        this._dispatcherSettings = previousConfig.settings;
        this._dispatcherConfig = previousConfig;
      }
      throw err;
    }
    this._dispatcherSettings = settings;
    this._dispatcherConfig = { config: resolved, settings: settings! };
  }

  private async _startDispatcher(config: AgentConfig): Promise<AlertDispatcher> {
    const dispatcher = createAlertDispatcher(config, {
      clock: this._clock,
      logger: this._logger.child({ component: 'notifications' }),
    });
    await dispatcher.start();
    return dispatcher;
  }

  private _buildServer(config: AgentConfig): HttpServer {
    const prom = config.performance_monitor.prometheus;
    const routes: Route[] = [
      {
        path: '/metrics',
        description: 'metrics in the Prometheus text format',
        handler: (req, res) =>
          serveMetrics(
            req,
            res,
            this._pipeline?.snapshot.current() ?? this._swappedOut,
            () => this._scrapes++,
          ),
      },
      {
        path: '/healthz',
        description: 'liveness: 200 while collections keep running',
        public: true,
        handler: (_req, res) => {
          const health = this._health();
          res.writeHead(health.ok ? 200 : 503, { 'Content-Type': 'application/json' });
          res.end(`${JSON.stringify(health)}\n`);
        },
      },
      {
        path: '/-/ready',
        description: 'readiness: 200 once the first collection is done',
        public: true,
        handler: (_req, res) => {
          const ready = this._pipeline?.latest !== undefined && this._state === 'running';
          res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end(ready ? 'ready\n' : 'not ready\n');
        },
      },
      // The handlers reach the trend service in force at request time, so a reload that rebuilds it is seen.
      ...(this._trends?.routes() ?? []).map((r) => ({
        ...r,
        handler: (req: IncomingMessage, res: ServerResponse) => {
          const current = this._trends?.routes().find((c) => c.path === r.path);
          if (current !== undefined) return current.handler(req, res);
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end('{"status":"error","error":"trend analysis is not enabled"}\n');
        },
      })),
      alertsRoute(() => this._alerting),
      ...silenceRoutes(() => this._dispatcher?.silences, this._clock),
      ...this._extraRoutes,
    ];
    routes.push({
      path: '/',
      description: 'this page',
      handler: async (_req, res) => {
        const html = renderLandingPage({
          version: this._version(),
          routes,
          summary: this.getMetricsSummary(),
          sections: await this._statusSections(),
          style: STATUS_PAGE_STYLE,
        });
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(html);
      },
    });
    return new HttpServer({
      host: prom.host,
      port: prom.port,
      tls:
        prom.tls === undefined
          ? undefined
          : {
              certFile: prom.tls.cert_file,
              keyFile: prom.tls.key_file,
              clientCaFile: prom.tls.client_ca_file,
              minVersion: prom.tls.min_version === 'TLS13' ? 'TLSv1.3' : 'TLSv1.2',
            },
      basicAuthUsers: prom.basic_auth_users,
      requestTimeoutMs: prom.request_timeout.ms,
      routes,
      logger: this._logger.child({ component: 'http' }),
      portSource: 'performance_monitor.prometheus.port',
      unref: this._opts.embedded === true,
    });
  }

  private _health(): { ok: boolean; state: string; lastCollectionAgeSeconds?: number } {
    const p = this._pipeline;
    const last = p?.reader.stats.lastCollectionMs;
    if (p === undefined || last === undefined)
      return { ok: this._state === 'starting' || this._state === 'running', state: this._state };
    const ageMs = this._clock.nowMs() - last;
    const limitMs = Math.max(3 * p.config.performance_monitor.collection_interval.ms, 60_000);
    return {
      ok: this._state === 'running' && ageMs <= limitMs,
      state: this._state,
      lastCollectionAgeSeconds: Math.round(ageMs / 1000),
    };
  }

  private async _reload(): Promise<void> {
    const path = this._opts.configPath ?? (this._opts.config === undefined ? defaultConfigPath() : undefined);
    if (path === undefined)
      throw new AgentError(
        'E_STATE',
        'this agent was given its configuration in memory; there is no file to reload',
      );
    const { config, empty } = await this._loadConfig(path, this._env);
    if (empty) {
      // Most likely caught while an editor or a deployment rewrites it in place; defaults would move the
      // endpoint and drop every rule. Starting on an empty file still means defaults.
      throw new ConfigError('E_CONFIG_INVALID', [
        {
          file: path,
          path: '',
          message:
            'the file is empty (written in place just now?); the running configuration stays (restart to run on defaults)',
        },
      ]);
    }
    const old = this._pipeline!;
    if (JSON.stringify(config.trend_analysis) !== JSON.stringify(old.config.trend_analysis)) {
      // Detectors and forecasts restart from the stored history; the HTTP routes appear with a new endpoint.
      // A new store that cannot open fails the reload and leaves the running one in place.
      const previous = this._trends;
      await this._startTrends(config);
      if (!config.trend_analysis.enabled) this._trends = undefined;
      await previous?.shutdown();
    }
    // Before the new pipeline: a dispatcher that cannot start fails the reload with nothing else replaced.
    await this._configureNotifications(config);
    const next = this._buildPipeline(config);
    await next.runner.start();
    // With TLS on, the endpoint restarts on every reload so that renewed certificate files are read.
    const serverChanged =
      config.performance_monitor.prometheus.tls !== undefined ||
      serverSettings(config) !== serverSettings(old.config);
    if (serverChanged) {
      try {
        await this._replaceServer(config, old.config);
      } catch (err) {
        await this._shutdownPipeline(next, undefined);
        throw err;
      }
    }
    await this._configureAlerting(config);
    old.reader.stopSchedule();
    // Until the new pipeline's first collection, scrapes get the old one's last (not a 503 on every reload).
    this._swappedOut = old.snapshot.current();
    this._pipeline = next;
    next.reader.startSchedule();
    try {
      await next.reader.runCycle();
    } finally {
      this._swappedOut = undefined;
    }
    await this._shutdownPipeline(old, undefined);
    this._configureLogger(config);
    this._logger.info('configuration reloaded', { config: path, serverRestarted: serverChanged });
  }

  /** Closes the HTTP endpoint and opens it with new settings; on failure reopens it as it was. */
  private async _replaceServer(config: AgentConfig, previous: AgentConfig): Promise<void> {
    await this._server?.shutdown();
    this._server = undefined;
    if (!config.performance_monitor.prometheus.enabled) return;
    const server = this._buildServer(config);
    try {
      await server.start();
      this._server = server;
    } catch (err) {
      if (previous.performance_monitor.prometheus.enabled) {
        const restored = this._buildServer(previous);
        await restored.start();
        this._server = restored;
      }
      throw err;
    }
  }

  private async _shutdownPipeline(p: Pipeline, finalPush: ResourceMetrics | undefined): Promise<void> {
    const timeoutMs = this._opts.shutdownTimeoutMs ?? 10_000;
    await shutdownAll(
      [
        { name: 'probes', shutdown: () => p.runner.shutdown() },
        { name: 'meter provider', shutdown: () => p.provider.shutdown() },
        { name: 'otlp', shutdown: () => p.otlp?.shutdown(finalPush) ?? Promise.resolve() },
      ],
      timeoutMs,
      this._logger,
    );
  }

  private async _teardown(finalCollection: boolean): Promise<void> {
    const p = this._pipeline;
    let finalPush: ResourceMetrics | undefined;
    p?.reader.stopSchedule();
    if (p !== undefined && finalCollection && p.otlp !== undefined) {
      p.detachOtlp();
      // One last collection so the final values reach the Collector.
      const timeoutMs = this._opts.shutdownTimeoutMs ?? 10_000;
      const batch = await withTimeout(p.reader.runCycle(), timeoutMs, 'final collection').catch(
        (err: unknown) => {
          this._logger.warn('final collection failed', { error: errorMessage(err) });
          return undefined;
        },
      );
      finalPush = batch?.resourceMetrics;
    }
    const server = this._server;
    this._server = undefined;
    const httpRequests = this._httpRequests;
    this._httpRequests = undefined;
    const neo4jDriver = this._neo4jDriver;
    this._neo4jDriver = undefined;
    const trends = this._trends;
    this._trends = undefined;
    const alerting = this._alerting;
    this._alerting = undefined;
    const dispatcher = this._dispatcher;
    this._dispatcher = undefined;
    this._dispatcherSettings = undefined;
    this._dispatcherConfig = undefined;
    await shutdownAll(
      [
        { name: 'worker bridge', shutdown: () => this._bridge.shutdown() },
        { name: 'http requests', shutdown: () => httpRequests?.shutdown() ?? Promise.resolve() },
        { name: 'neo4j driver', shutdown: () => neo4jDriver?.shutdown() ?? Promise.resolve() },
        // shutdownAll stops in reverse order: the engine (no more rounds) before the dispatcher, which then
        // writes what the last round changed to its outbox (see AlertDispatcher.shutdown).
        { name: 'notifications', shutdown: () => dispatcher?.shutdown() ?? Promise.resolve() },
        { name: 'alerting', shutdown: () => alerting?.shutdown() ?? Promise.resolve() },
        { name: 'http server', shutdown: () => server?.shutdown() ?? Promise.resolve() },
        ...(p === undefined
          ? []
          : [{ name: 'pipeline', shutdown: () => this._shutdownPipeline(p, finalPush) }]),
        { name: 'trends', shutdown: () => trends?.shutdown() ?? Promise.resolve() },
      ],
      this._opts.shutdownTimeoutMs ?? 10_000,
      this._logger,
    );
  }
}

/** The alert state file of a configuration, absolute; undefined when persistence is off. */
function stateFilePath(config: AgentConfig, baseDir: string): string | undefined {
  const file = config.performance_monitor.alerting.state_file;
  return file === '' ? undefined : path.resolve(baseDir, file);
}

/** The outbox file of a configuration: relative paths against `baseDir`. */
function storePath(config: AgentConfig, baseDir: string): string {
  const file = config.performance_monitor.alerting.notifications.store_path;
  return file === ':memory:' ? file : path.resolve(baseDir, file);
}

/** What the HTTP endpoint is built from; a reload restarts the endpoint only when this changes. */
function serverSettings(config: AgentConfig): string {
  const { enabled, host, port, tls, basic_auth_users, request_timeout } =
    config.performance_monitor.prometheus;
  return JSON.stringify({ enabled, host, port, tls, basic_auth_users, request_timeout });
}

/** Builds an agent for a configuration already loaded (see loadConfigFile). */
export function createAgent(
  config: AgentConfig,
  opts: Omit<AgentOptions, 'config'> = {},
): PerformanceMonitorAgent {
  return new PerformanceMonitorAgent({ ...opts, config });
}
