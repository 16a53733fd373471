/**
 * Sends alerts to a real Alertmanager through `POST /api/v2/alerts`, as Prometheus does: firing alerts carry
 * an `endsAt` a few resend intervals ahead and are re-sent while they fire (the dispatcher enqueues the
 * refreshes), so Alertmanager resolves them by itself if the agent goes away; a resolution carries the time
 * the alert resolved as `endsAt`.
 */
import type { Clock } from '../../lib/clock.js';
import { alertStatus, isoTime, startsAtMs } from '../payload.js';
import type { NotificationBatch, Notifier } from '../types.js';
import { postJson } from './http-post.js';

export interface AlertmanagerNotifierOptions {
  name: string;
  /** Alertmanager's base URL (`http://127.0.0.1:9093`) or the full `/api/v2/alerts` URL. */
  url: string;
  headers?: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** How often firing alerts are re-sent; `endsAt` of a firing alert is 4 of these ahead (Prometheus' rule). */
  resendIntervalMs: number;
  externalUrl: string;
  clock: Clock;
}

export function alertsApiUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/api/v2/alerts') ? base : `${base}/api/v2/alerts`;
}

export class AlertmanagerNotifier implements Notifier {
  readonly name: string;
  private readonly _opts: AlertmanagerNotifierOptions;
  private readonly _url: string;

  constructor(opts: AlertmanagerNotifierOptions) {
    this.name = opts.name;
    this._opts = opts;
    this._url = alertsApiUrl(opts.url);
  }

  async send(batch: NotificationBatch): Promise<void> {
    const validUntil = this._opts.clock.nowMs() + 4 * this._opts.resendIntervalMs;
    const body = batch.alerts.map((a) => {
      const resolved = alertStatus(a) === 'resolved';
      return {
        labels: { ...a.labels },
        annotations: { ...a.annotations },
        startsAt: isoTime(startsAtMs(a)),
        endsAt: isoTime(resolved ? (a.resolvedAtMs ?? this._opts.clock.nowMs()) : validUntil),
        generatorURL: this._opts.externalUrl,
      };
    });
    await postJson(this._url, JSON.stringify(body), this._opts.headers ?? {}, this._opts.timeoutMs);
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
