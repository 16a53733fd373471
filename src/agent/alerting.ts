/**
 * The alerting side: the rule engine (Prometheus semantics, alert state kept across restarts in a file) and
 * the notification dispatcher (grouping, silences, the outbox, the channels). Each is a component; a rule
 * change reaches the running engine in place, so a rule whose expression is unchanged keeps its alerts.
 */
import path from 'node:path';
import { createAlertDispatcher } from '../alerts/create-dispatcher.js';
import type { AlertDispatcher } from '../alerts/dispatcher.js';
import { RuleEngine } from '../alerts/engine.js';
import { compileRules } from '../alerts/rules.js';
import { AlertStateStore } from '../alerts/state-store.js';
import type { AlertSink } from '../alerts/types.js';
import type { CollectionBatch } from '../analysis/collection-reader.js';
import type { AgentConfig } from '../config/schema.js';
import { errorMessage } from '../lib/errors.js';
import type { MetricPoint } from '../model/metric.js';
import type { Component, ComponentFactory } from './component.js';
import type { AgentContext } from './context.js';

export class AlertingComponent implements Component {
  readonly name = 'alerting';
  readonly engine: RuleEngine;
  private readonly _ctx: AgentContext;

  constructor(config: AgentConfig, ctx: AgentContext, sinks: AlertSink[]) {
    this._ctx = ctx;
    const file = stateFilePath(config, ctx.baseDir());
    this.engine = new RuleEngine({
      clock: ctx.clock,
      logger: ctx.logger().child({ component: 'alerting' }),
      rules: compileRules(config),
      sinks,
      stateStore: file === undefined ? undefined : new AlertStateStore(file),
      evaluationIntervalMs: config.performance_monitor.alerting.evaluation_interval?.ms,
    });
  }

  /** Restores the alert state; a state file that cannot be read is reported and set aside. */
  async start(): Promise<void> {
    try {
      await this.engine.start();
    } catch (err) {
      this._ctx
        .logger()
        .child({ component: 'alerting' })
        .error('alert state not restored; starting without it', {
          file: this.engine.stateFile,
          error: errorMessage(err),
        });
    }
  }

  /** New rules in place while the state file stays the same (a moved state file restarts the engine). */
  reconfigure(config: AgentConfig): 'applied' | 'restart' {
    if (this.engine.stateFile !== stateFilePath(config, this._ctx.baseDir())) return 'restart';
    this.engine.setRules(compileRules(config));
    return 'applied';
  }

  shutdown(): Promise<void> {
    return this.engine.shutdown();
  }

  selfMetrics(): Iterable<MetricPoint> {
    return this.engine.points();
  }

  onCollection(batch: CollectionBatch): void {
    this.engine.onCollection(batch);
  }
}

/** The rule engine exists when alerting is on and a rule is enabled. */
export function alertingFactory(ctx: AgentContext, sinks: AlertSink[]): ComponentFactory<AlertingComponent> {
  return {
    name: 'alerting',
    // The rules are compiled against the whole configuration (metric kinds, application metrics, queries).
    slice: (config) => (rulesEnabled(config) ? config.performance_monitor : undefined),
    create: (config) => new AlertingComponent(config, ctx, sinks),
    // The state file is written on shutdown and read on start: one engine at a time.
    replace: 'exclusive',
  };
}

export class NotificationsComponent implements Component {
  readonly name = 'notifications';
  private readonly _ctx: AgentContext;
  private readonly _config: AgentConfig;
  private _dispatcher: AlertDispatcher | undefined;

  constructor(config: AgentConfig, ctx: AgentContext) {
    this._ctx = ctx;
    this._config = config;
  }

  /** The running dispatcher; undefined when it could not start inside an application. */
  get dispatcher(): AlertDispatcher | undefined {
    return this._dispatcher;
  }

  async start(): Promise<void> {
    const dispatcher = createAlertDispatcher(this._config, {
      clock: this._ctx.clock,
      logger: this._ctx.logger().child({ component: 'notifications' }),
    });
    try {
      await dispatcher.start();
    } catch (err) {
      // Inside an application, an outbox that cannot open (a read-only working directory) must not cost the
      // application its metrics: alerts are still evaluated and served, only not sent.
      if (this._ctx.opts.embedded !== true) throw err;
      this._ctx.logger().error('alert notifications not started; alerts are evaluated but not sent', {
        error: errorMessage(err),
      });
      return;
    }
    this._dispatcher = dispatcher;
  }

  /** Writes the last round's resolutions to the outbox and lets deliveries finish. */
  async shutdown(): Promise<void> {
    const d = this._dispatcher;
    this._dispatcher = undefined;
    await d?.shutdown();
  }

  selfMetrics(): Iterable<MetricPoint> {
    return this._dispatcher?.points() ?? [];
  }
}

/**
 * The dispatcher exists when a rule can fire. Its slice is the notification settings with the outbox path
 * resolved (a relative store_path, like state_file, is taken from the working directory at start, so that an
 * application that changes directory later does not move the outbox on a reload) and the endpoint that makes
 * the alerts' external URL.
 */
export function notificationsFactory(ctx: AgentContext): ComponentFactory<NotificationsComponent> {
  const resolved = (config: AgentConfig): AgentConfig => {
    const pm = config.performance_monitor;
    const notifications = { ...pm.alerting.notifications, store_path: storePath(config, ctx.baseDir()) };
    return { ...config, performance_monitor: { ...pm, alerting: { ...pm.alerting, notifications } } };
  };
  return {
    name: 'notifications',
    slice: (config) => {
      if (!rulesEnabled(config)) return undefined;
      const pm = resolved(config).performance_monitor;
      return [pm.alerting.notifications, pm.prometheus.host, pm.prometheus.port, pm.prometheus.tls];
    },
    create: (config) => new NotificationsComponent(resolved(config), ctx),
    // Two dispatchers never deliver from one outbox: the running one stops first.
    replace: 'exclusive',
  };
}

function rulesEnabled(config: AgentConfig): boolean {
  const alerting = config.performance_monitor.alerting;
  return alerting.enabled && alerting.rules.some((r) => r.enabled);
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
