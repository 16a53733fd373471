/**
 * The alerting side: the rule engine (Prometheus semantics, alert state kept across restarts in a file) and
 * the notification dispatcher (grouping, silences, the outbox, the channels). Each is a component; a rule
 * change reaches the running engine in place, so a rule whose expression is unchanged keeps its alerts.
 */
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
import type { Component } from './component.js';
import type { AgentContext } from './context.js';
import { stateFilePath, stateLocation } from './paths.js';

export class AlertingComponent implements Component {
  readonly name = 'alerting';
  readonly engine: RuleEngine;
  private readonly _ctx: AgentContext;

  constructor(config: AgentConfig, ctx: AgentContext, sinks: AlertSink[]) {
    this._ctx = ctx;
    const file = stateFilePath(config, stateLocation(ctx));
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
    if (this.engine.stateFile !== stateFilePath(config, stateLocation(this._ctx))) return 'restart';
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
