/**
 * PerformanceMonitorAgent: the composition root. It builds the components a configuration enables (trends,
 * notifications, alerting, the HTTP endpoint, the collection pipeline — see component.ts), starts them in that
 * order, reloads by comparing their configuration slices, and stops them in reverse. Nothing else in the code
 * base knows every part.
 */
import os from 'node:os';
import type { AlertView, RuleStatus } from '../alerts/engine.js';
import type { Alert, AlertSink } from '../alerts/types.js';
import type { CollectionSubscriber } from '../analysis/collection-reader.js';
import { defaultConfigPath, defaultPreloadConfigPath } from '../config/default-path.js';
import { loadConfigIsolated } from './load-isolated.js';
import type { Env, LoadedConfig } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { SystemClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import type { Logger, OwnedLogger } from '../lib/logger.js';
import { packageInfo } from '../lib/package-root.js';
import type { Sample } from '../model/metric.js';
import type { Route } from '../model/route.js';
import { ApplicationMetrics } from '../telemetry/application-metrics.js';
import type { DetectedAnomaly, TrendService } from '../trends/trend-service.js';
import type { TrendStatistics } from '../trends/stats.js';
import { Assembly } from './assembly.js';
import { configuredLogger, emptyFileOnReload } from './context.js';
import type { AgentContext } from './context.js';
import type { AgentOptions, MetricsSummary, MetricValue } from './options.js';

export type { AgentOptions, MetricsSummary, MetricValue };

type AgentState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class PerformanceMonitorAgent {
  private readonly _opts: AgentOptions;
  private readonly _ctx: AgentContext;
  private readonly _loadConfig: (file: string, env: Env) => Promise<LoadedConfig>;
  private readonly _application = new ApplicationMetrics();
  private readonly _parts: Assembly;
  private _ownedLogger: OwnedLogger | undefined;
  private _logger: Logger;
  private _state: AgentState = 'new';
  private _starting: Promise<void> | undefined;
  private _reloading: Promise<void> | undefined;
  /** The reload that follows the running one, when one was asked for meanwhile. */
  private _reloadAgain: Promise<void> | undefined;
  private _activeAlerts: (() => readonly Alert[]) | undefined;
  private _version: string | undefined;
  private _baseDir = '.';

  constructor(opts: AgentOptions = {}) {
    this._opts = opts;
    const clock: Clock = opts.clock ?? new SystemClock();
    this._loadConfig = opts.loadConfig ?? loadConfigIsolated;
    this._activeAlerts = opts.activeAlerts;
    const stderr = {
      level: 'info',
      format: 'text',
      maxBytes: 0,
      backupCount: 0,
      stream: process.stderr,
    } as const;
    this._logger = opts.logger ?? createLogger({ ...stderr, clock }).logger;
    this._ctx = {
      opts,
      clock,
      env: opts.env ?? process.env,
      hostname: opts.hostname ?? os.hostname(),
      logger: () => this._logger,
      version: () => (this._version ??= packageInfo().version),
      baseDir: () => this._baseDir,
      application: this._application,
    };
    this._parts = new Assembly(this._ctx, {
      state: () => this._state,
      activeAlerts: () => (this._activeAlerts === undefined ? this.getActiveAlerts() : this._activeAlerts()),
    });
  }

  get logger(): Logger {
    return this._logger;
  }

  /** The configuration in force, once started. */
  get config(): AgentConfig | undefined {
    return this._parts.slot.current?.config;
  }

  /** The URL of the HTTP endpoint, once it listens. */
  get url(): string | undefined {
    return this._parts.url();
  }

  /**
   * Loads the configuration (when given a path), starts the components, collects once and schedules
   * collections. Rejects with a ConfigError for a bad file and an AgentError (E_PORT_IN_USE, E_LISTEN, E_TLS)
   * when the endpoint cannot open; nothing is left running then.
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
      // The in-app hooks go in before the configuration is read (see in-app.ts).
      this._parts.inApp.hook();
      const config = this._opts.config ?? (await this._loadConfig(this._configPath(), this._ctx.env)).config;
      this._configureLogger(config);
      await this._parts.components.start(config);
      await this._parts.inApp.start();
      this._state = 'running';
      this._logger.info('agent started', {
        config: this._opts.config === undefined ? this._configPath() : '(in memory)',
        url: this.url,
        interval: config.performance_monitor.collection_interval.text,
        otlp: this._parts.slot.current?.otlp?.endpoint,
      });
    } catch (err) {
      await this._teardown(false).catch((e: unknown) =>
        this._logger.warn('teardown after a failed start incomplete', { error: errorMessage(e) }),
      );
      this._state = 'stopped';
      throw err;
    }
  }

  /** Stops collecting, pushes a final collection over OTLP and shuts everything down. Safe before start and twice. */
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
      this._reloading = this._reload().finally(() => (this._reloading = undefined));
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

  private async _reload(): Promise<void> {
    const file = this._opts.config === undefined ? this._configPath() : this._opts.configPath;
    if (file === undefined)
      throw new AgentError(
        'E_STATE',
        'this agent was given its configuration in memory; there is no file to reload',
      );
    const { config, empty } = await this._loadConfig(file, this._ctx.env);
    if (empty) throw emptyFileOnReload(file);
    const server = this._parts.endpoint();
    await this._parts.components.reload(config);
    this._configureLogger(config);
    const serverRestarted = server !== this._parts.endpoint();
    this._logger.info('configuration reloaded', { config: file, serverRestarted });
  }

  /** The final collection for the OTLP push, then every component in reverse order, then the in-app sources. */
  private async _teardown(finalCollection: boolean): Promise<void> {
    if (finalCollection) await this._parts.slot.current?.collectFinal();
    try {
      await this._parts.components.shutdown();
    } finally {
      await this._parts.inApp.shutdown();
    }
  }

  /** The object applications record their metrics through; the same object across reloads. */
  getApplicationCollector(): ApplicationMetrics {
    return this._application;
  }

  /** Current values, probe health and export state. */
  getMetricsSummary(): MetricsSummary {
    return this._parts.summary();
  }

  /** The latest collection as Samples (empty before the first). */
  latestSamples(): readonly Sample[] {
    return this._parts.slot.current?.latest?.samples ?? [];
  }

  /** Subscribes to every collection (trends plug in here). Survives reloads. Returns the unsubscriber. */
  onCollection(name: string, subscriber: CollectionSubscriber): () => void {
    this._parts.subscribers.set(name, subscriber);
    return () => this._parts.subscribers.delete(name);
  }

  /** Adds a receiver of every alert evaluation round. Survives reloads. */
  addAlertSink(sink: AlertSink): void {
    this._parts.alertSinks.push(sink);
    this._parts.alerting()?.addSink(sink);
  }

  /** Pending and firing alerts (empty when alerting is off). */
  getActiveAlerts(): AlertView[] {
    return this._parts.alerting()?.activeAlerts() ?? [];
  }

  /** Health of each alert rule. */
  getRuleStatuses(): RuleStatus[] {
    return this._parts.alerting()?.ruleStatuses() ?? [];
  }

  /** Adds an HTTP route (before start). */
  addRoute(route: Route): void {
    this._parts.extraRoutes.push(route);
  }

  /** Sets where the status page gets the active alerts from (the rule engine by default). */
  setActiveAlertsProvider(provider: (() => readonly Alert[]) | undefined): void {
    this._activeAlerts = provider;
  }

  /** Trend analysis, when `trend_analysis.enabled` (after start). */
  get trends(): TrendService | undefined {
    return this._parts.trends();
  }

  /** Window statistics of every series of `metric` matching `labels`, over `window` (`1h`, `24h`, `7d`, or ms). */
  getTrendStatistics(
    metric: string,
    window: string | number,
    labels: Readonly<Record<string, string>> = {},
  ): Promise<TrendStatistics[]> {
    return this._parts.trendService().then((t) => t.getTrendStatistics(metric, window, labels));
  }

  /** Runs the configured anomaly detector over the history of `metric`; returns the flagged points. */
  detectAnomalies(
    metric: string,
    opts: { window?: string | number; labels?: Readonly<Record<string, string>> } = {},
  ): Promise<DetectedAnomaly[]> {
    return this._parts.trendService().then((t) => t.detectAnomalies(metric, opts));
  }

  /** The file given, else the packaged default: the preload's inside an application, the daemon's otherwise. */
  private _configPath(): string {
    return (
      this._opts.configPath ??
      (this._opts.embedded === true ? defaultPreloadConfigPath() : defaultConfigPath())
    );
  }

  private _configureLogger(config: AgentConfig): void {
    if (this._opts.logger !== undefined) return;
    const next = configuredLogger(config, this._ctx.clock);
    this._ownedLogger?.close();
    this._ownedLogger = next;
    this._logger = next.logger;
  }
}

/** Builds an agent for a configuration already loaded (see loadConfigFile). */
export function createAgent(
  config: AgentConfig,
  opts: Omit<AgentOptions, 'config'> = {},
): PerformanceMonitorAgent {
  return new PerformanceMonitorAgent({ ...opts, config });
}
