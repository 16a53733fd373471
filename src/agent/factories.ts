/**
 * One factory per subsystem: from a configuration it decides whether the component exists (its slice is
 * undefined otherwise) and what it is built from, and it imports the component's module only when it builds
 * one — the rule engine, notifications (SQLite, Kafka, HTTP), trends (SQLite history), the pipeline (the
 * OpenTelemetry SDK), the host probes and the Neo4j driver are not loaded unless the configuration turns them on.
 */
import type { AlertSink } from '../alerts/types.js';
import { knownMetricNames } from '../catalog/known-metrics.js';
import type { AgentConfig } from '../config/schema.js';
import type { AlertingComponent, NotificationsComponent } from './alerting.js';
import type { ComponentFactory } from './component.js';
import type { AgentContext } from './context.js';
import type { Endpoint, EndpointSources } from './endpoint.js';
import { historyPath, stateLocation, storePath } from './paths.js';
import type { Pipeline, PipelineSources } from './pipeline.js';
import type { PipelineSlot } from './slot.js';
import type { TrendsComponent } from './trends.js';

/** Trend analysis exists when `trend_analysis.enabled`; a changed slice starts a new service before the old stops. */
export function trendsFactory(ctx: AgentContext): ComponentFactory<TrendsComponent> {
  return {
    name: 'trends',
    slice: (config) =>
      config.trend_analysis.enabled
        ? {
            trends: config.trend_analysis,
            history: historyPath(config, stateLocation(ctx)),
            intervalMs: config.performance_monitor.collection_interval.ms,
            prefix: config.performance_monitor.prometheus.metric_prefix,
            known: knownMetricNames(config),
          }
        : undefined,
    create: async (config) => new (await import('./trends.js')).TrendsComponent(config, ctx),
  };
}

/**
 * The dispatcher exists when a rule can fire. Its slice is the notification settings with the outbox path
 * resolved and the endpoint that makes the alerts' external URL. Two dispatchers never deliver from one
 * outbox: the running one stops first.
 */
export function notificationsFactory(ctx: AgentContext): ComponentFactory<NotificationsComponent> {
  const resolved = (config: AgentConfig): AgentConfig => {
    const pm = config.performance_monitor;
    const notifications = { ...pm.alerting.notifications, store_path: storePath(config, stateLocation(ctx)) };
    return { ...config, performance_monitor: { ...pm, alerting: { ...pm.alerting, notifications } } };
  };
  return {
    name: 'notifications',
    slice: (config) => {
      if (!rulesEnabled(config)) return undefined;
      const pm = resolved(config).performance_monitor;
      return [pm.alerting.notifications, pm.prometheus.host, pm.prometheus.port, pm.prometheus.tls];
    },
    create: async (config) =>
      new (await import('./alerting.js')).NotificationsComponent(resolved(config), ctx),
    replace: 'exclusive',
  };
}

/**
 * The rule engine exists when alerting is on and a rule is enabled. Its rules are compiled against the whole
 * `performance_monitor` section (metric kinds, application metrics, queries); the state file is written on
 * shutdown and read on start, so one engine runs at a time.
 */
export function alertingFactory(ctx: AgentContext, sinks: AlertSink[]): ComponentFactory<AlertingComponent> {
  return {
    name: 'alerting',
    slice: (config) => (rulesEnabled(config) ? config.performance_monitor : undefined),
    create: async (config) => new (await import('./alerting.js')).AlertingComponent(config, ctx, sinks),
    replace: 'exclusive',
  };
}

/** The endpoint exists when the Prometheus exposition is on; a TLS endpoint restarts on every reload. */
export function endpointFactory(ctx: AgentContext, sources: EndpointSources): ComponentFactory<Endpoint> {
  return {
    name: 'http server',
    slice: (config) => {
      const { enabled, host, port, tls, basic_auth_users, request_timeout } =
        config.performance_monitor.prometheus;
      return enabled ? { host, port, tls, basic_auth_users, request_timeout } : undefined;
    },
    create: async (config) => new (await import('./endpoint.js')).Endpoint(config, ctx, sources),
    replace: 'exclusive',
    // Renewed certificate files are read by a restart.
    restartOnEveryReload: (config) => config.performance_monitor.prometheus.tls !== undefined,
  };
}

/** The collection pipeline always exists and is built from the whole configuration. */
export function pipelineFactory(
  ctx: AgentContext,
  slot: PipelineSlot,
  sources: PipelineSources,
): ComponentFactory<Pipeline> {
  return {
    name: 'pipeline',
    slice: (config) => config,
    create: async (config) => (await import('./pipeline.js')).Pipeline.build(config, ctx, slot, sources),
  };
}

function rulesEnabled(config: AgentConfig): boolean {
  const alerting = config.performance_monitor.alerting;
  return alerting.enabled && alerting.rules.some((r) => r.enabled);
}
