/**
 * How the components of one agent are wired to each other: which factories exist and in what order they
 * start, where the endpoint finds the pipeline in force and the routes of the others, where evaluation rounds
 * and collections go. The agent (agent.ts) drives the lifecycle; this holds the parts it drives.
 */
import type { RuleEngine } from '../alerts/engine.js';
import type { Alert, AlertSink } from '../alerts/types.js';
import type { CollectionSubscriber } from '../analysis/collection-reader.js';
import { AgentError } from '../lib/errors.js';
import type { MetricPoint } from '../model/metric.js';
import type { Route } from '../model/route.js';
import type { TrendService } from '../trends/trend-service.js';
import { ComponentSet } from './component.js';
import type { AgentContext } from './context.js';
import {
  alertingFactory,
  endpointFactory,
  notificationsFactory,
  pipelineFactory,
  trendsFactory,
} from './factories.js';
import { InAppSources } from './in-app.js';
import type { MetricsSummary, MetricValue } from './options.js';
import { PipelineSlot } from './slot.js';

/** What the wiring asks of the agent at run time. */
export interface AgentView {
  state(): string;
  /** Active alerts for the status page (a provider the program set, or the rule engine's). */
  activeAlerts(): readonly Alert[];
}

export interface Health {
  ok: boolean;
  state: string;
  lastCollectionAgeSeconds?: number;
}

export class Assembly {
  readonly components: ComponentSet;
  readonly slot = new PipelineSlot();
  readonly inApp: InAppSources;
  /** The program's collection subscribers; they survive reloads. */
  readonly subscribers = new Map<string, CollectionSubscriber>();
  /** Receivers of every evaluation round; they survive reloads. */
  readonly alertSinks: AlertSink[] = [];
  /** Routes a program added before start. */
  readonly extraRoutes: Route[] = [];
  scrapes = 0;
  private readonly _ctx: AgentContext;
  private readonly _f;

  constructor(ctx: AgentContext, agent: AgentView) {
    this._ctx = ctx;
    const trends = trendsFactory(ctx);
    const notifications = notificationsFactory(ctx);
    // Every evaluation round reaches the dispatcher in force at that moment.
    this.alertSinks.push({ handle: (r) => this.components.get(notifications)?.dispatcher?.handle(r) });
    const alerting = alertingFactory(ctx, this.alertSinks);
    const endpoint = endpointFactory(ctx, {
      payload: () => this.slot.payload(),
      countScrape: () => this.scrapes++,
      health: () => this.health(agent.state()),
      ready: () => this.slot.current?.latest !== undefined && agent.state() === 'running',
      componentRoutes: () => this.components.components().flatMap((c) => c.routes?.() ?? []),
      alerting: () => this.alerting(),
      silences: () => this.components.get(notifications)?.dispatcher?.silences,
      activeAlerts: () => agent.activeAlerts(),
      trends: () => this.trends(),
      summary: () => this.summary(),
      extraRoutes: this.extraRoutes,
    });
    const pipeline = pipelineFactory(ctx, this.slot, {
      componentPoints: () => this._componentPoints(),
      subscribers: () => this._collectionSubscribers(),
      scrapes: () => this.scrapes,
    });
    this._f = { trends, notifications, alerting, endpoint, pipeline };
    this.components = new ComponentSet([trends, notifications, alerting, endpoint, pipeline], {
      logger: () => ctx.logger(),
      shutdownTimeoutMs: ctx.opts.shutdownTimeoutMs ?? 10_000,
    });
    this.inApp = new InAppSources(ctx, {
      http: ctx.opts.instrumentHttp ?? ctx.opts.embedded === true,
      httpClient: ctx.opts.instrumentHttpClient ?? ctx.opts.embedded === true,
      neo4jDriver: ctx.opts.instrumentNeo4jDriver ?? ctx.opts.embedded === true,
      ownServer: () => this.components.get(endpoint)?.server.nodeServer,
      neo4jTable: () => this.slot.current?.neo4jQueries,
    });
  }

  /** Current values, probe health and export state. */
  summary(): MetricsSummary {
    const p = this.slot.current;
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
      scrapes: this.scrapes,
      url: this.url(),
    };
  }

  /** The URL of the HTTP endpoint, while it listens. */
  url(): string | undefined {
    return this.components.get(this._f.endpoint)?.server.url;
  }

  /** The running endpoint (a reload that restarts it replaces the object). */
  endpoint(): object | undefined {
    return this.components.get(this._f.endpoint);
  }

  alerting(): RuleEngine | undefined {
    return this.components.get(this._f.alerting)?.engine;
  }

  trends(): TrendService | undefined {
    return this.components.get(this._f.trends)?.service;
  }

  /** The trend service, or a rejection saying that trend analysis is off. */
  trendService(): Promise<TrendService> {
    const t = this.trends();
    return t === undefined
      ? Promise.reject(new AgentError('E_STATE', 'trend analysis is not enabled (trend_analysis.enabled)'))
      : Promise.resolve(t);
  }

  /** Liveness: collections keep coming (at most three intervals, or a minute, apart). */
  health(state: string): Health {
    const p = this.slot.current;
    const last = p?.reader.stats.lastCollectionMs;
    if (p === undefined || last === undefined)
      return { ok: state === 'starting' || state === 'running', state };
    const ageMs = this._ctx.clock.nowMs() - last;
    const limitMs = Math.max(3 * p.config.performance_monitor.collection_interval.ms, 60_000);
    return {
      ok: state === 'running' && ageMs <= limitMs,
      state,
      lastCollectionAgeSeconds: Math.round(ageMs / 1000),
    };
  }

  /** Self-metrics of every component but the pipeline, which reports its own first. */
  private *_componentPoints(): IterableIterator<MetricPoint> {
    for (const c of this.components.components())
      if (c.name !== 'pipeline' && c.selfMetrics) yield* c.selfMetrics();
  }

  /** The components that take collections (alerting, trends), then the program's subscribers. */
  private _collectionSubscribers(): Map<string, CollectionSubscriber> {
    const all = new Map<string, CollectionSubscriber>();
    for (const c of this.components.components())
      if (c.onCollection !== undefined) all.set(c.name, (batch) => c.onCollection!(batch));
    for (const [name, sub] of this.subscribers) all.set(all.has(name) ? `program:${name}` : name, sub);
    return all;
  }
}
