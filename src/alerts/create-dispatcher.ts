/** Builds the notification dispatcher and its channels from `performance_monitor.alerting.notifications`. */
import type { AgentConfig, ChannelConfig } from '../config/schema.js';
import { AgentError } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import { toLogLevel } from '../lib/logger.js';
import type { Logger } from '../lib/logger.js';
import { AlertDispatcher } from './dispatcher.js';
import type { DispatchChannel } from './delivery.js';
import { MaintenanceWindow } from './maintenance.js';
import { AlertmanagerNotifier } from './notifiers/alertmanager.js';
import { KafkaNotifier } from './notifiers/kafka.js';
import { LogNotifier } from './notifiers/log.js';
import { WebhookNotifier } from './notifiers/webhook.js';

export interface DispatcherDeps {
  clock: Clock;
  logger: Logger;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RESEND_MS = 60_000;

/** Channel names: `name`, else the type; a repeated name gets `_2`, `_3`, … (they label the self-metrics). */
export function channelNames(channels: readonly ChannelConfig[]): string[] {
  const seen = new Map<string, number>();
  return channels.map((c) => {
    const base = c.name ?? c.type;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  });
}

/** The Kafka client's own floor (the rest of the agent runs on older Node releases). */
const KAFKA_MIN_NODE = [22, 22] as const;

/** Whether `version` (process.versions.node) can run the Kafka client. */
export function nodeRunsKafka(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > KAFKA_MIN_NODE[0] || (major === KAFKA_MIN_NODE[0] && minor >= KAFKA_MIN_NODE[1]);
}

export function createAlertDispatcher(config: AgentConfig, deps: DispatcherDeps): AlertDispatcher {
  const pm = config.performance_monitor;
  const n = pm.alerting.notifications;
  const host = pm.prometheus.host.includes(':') ? `[${pm.prometheus.host}]` : pm.prometheus.host;
  const externalUrl =
    n.external_url ?? `${pm.prometheus.tls === undefined ? 'http' : 'https'}://${host}:${pm.prometheus.port}`;
  const names = channelNames(n.channels);
  const channels: DispatchChannel[] = [];
  n.channels.forEach((c, i) => {
    if (!c.enabled) return;
    const name = names[i]!;
    const timeoutMs = c.timeout?.ms ?? DEFAULT_TIMEOUT_MS;
    const headers = c.headers === undefined ? undefined : { ...c.headers };
    const sendResolved = c.send_resolved ?? true;
    switch (c.type) {
      case 'log':
        channels.push({
          notifier: new LogNotifier({
            name,
            logger: deps.logger.child({ channel: name }),
            level: toLogLevel(c.level ?? 'warning'),
          }),
          sendResolved,
        });
        break;
      case 'webhook':
        channels.push({
          notifier: new WebhookNotifier({
            name,
            url: c.url!,
            headers,
            hmacSecret: c.hmac_secret,
            timeoutMs,
            externalUrl,
            maxAlerts: c.max_alerts,
          }),
          sendResolved,
        });
        break;
      case 'alertmanager': {
        const resendIntervalMs = c.resend_interval?.ms ?? DEFAULT_RESEND_MS;
        channels.push({
          notifier: new AlertmanagerNotifier({
            name,
            url: c.url!,
            headers,
            timeoutMs,
            resendIntervalMs,
            externalUrl,
            clock: deps.clock,
          }),
          // Alertmanager must hear of resolutions, or it keeps the alert until its endsAt.
          sendResolved: true,
          direct: { resendIntervalMs },
        });
        break;
      }
      case 'kafka':
        if (!nodeRunsKafka(process.versions.node)) {
          throw new AgentError(
            'E_CONFIG_INVALID',
            `notification channel ${name}: the kafka channel needs Node.js ${KAFKA_MIN_NODE.join('.')} or newer (this is ${process.version})`,
          );
        }
        channels.push({
          notifier: new KafkaNotifier({
            name,
            brokers: c.brokers!,
            topic: c.topic!,
            clientId: c.client_id ?? 'perf-monitor-agent',
            timeoutMs,
            externalUrl,
            sasl: c.sasl,
            tls: c.tls,
          }),
          sendResolved,
        });
        break;
    }
  });
  return new AlertDispatcher({
    channels,
    grouping: {
      groupBy: n.group_by,
      groupWaitMs: n.group_wait.ms,
      groupIntervalMs: n.group_interval.ms,
      repeatIntervalMs: n.repeat_interval.ms,
    },
    // The agent resolves store_path into its state directory (agent/paths.ts) before it gets here.
    storePath: n.store_path ?? 'data/notifications.db',
    maxOutboxPerChannel: n.outbox.max_entries_per_channel,
    initialBackoffMs: n.outbox.initial_backoff.ms,
    maxBackoffMs: n.outbox.max_backoff.ms,
    maintenanceWindows: n.maintenance_windows.map((w) => new MaintenanceWindow(w)),
    clock: deps.clock,
    logger: deps.logger,
  });
}
