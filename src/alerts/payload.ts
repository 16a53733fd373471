/**
 * The JSON that webhook receivers get: Alertmanager's webhook payload, version 4, so that any receiver
 * written for Alertmanager (and its documentation) works unchanged.
 */
import type { Alert, NotificationBatch } from './types.js';

/** Alertmanager writes this for an alert that has not ended. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export function alertStatus(a: Alert): 'firing' | 'resolved' {
  return a.state === 'inactive' || a.resolvedAtMs !== undefined ? 'resolved' : 'firing';
}

/** The times an RFC 3339 timestamp can write (years 0000 to 9999). */
const MIN_ISO_MS = Date.parse('0000-01-01T00:00:00Z');
const MAX_ISO_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * RFC 3339 text of epoch milliseconds. A time it cannot write (NaN, ±Infinity, before year 0 or after 9999:
 * only a damaged state file gives one) is ZERO_TIME, "not set", rather than an exception or a year that
 * receivers refuse.
 */
export function isoTime(ms: number): string {
  return ms >= MIN_ISO_MS && ms <= MAX_ISO_MS ? new Date(ms).toISOString() : ZERO_TIME;
}

/** When the alert started firing (Prometheus sends FiredAt as startsAt). */
export function startsAtMs(a: Alert): number {
  return a.firedAtMs ?? a.activeAtMs;
}

export function webhookAlert(a: Alert, generatorUrl: string): WebhookAlert {
  const status = alertStatus(a);
  return {
    status,
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    startsAt: isoTime(startsAtMs(a)),
    endsAt: status === 'resolved' ? isoTime(a.resolvedAtMs ?? startsAtMs(a)) : ZERO_TIME,
    generatorURL: generatorUrl,
    fingerprint: a.fingerprint,
  };
}

/** Labels (or annotations) every alert shares with the same value. */
function common(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const out: Record<string, string> = { ...maps[0] };
  for (const m of maps.slice(1)) {
    for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  }
  return out;
}

export interface PayloadOptions {
  receiver: string;
  externalUrl: string;
  /** At most this many alerts in `alerts` (0 = all); the rest are counted in `truncatedAlerts`. */
  maxAlerts: number;
}

export function webhookPayload(batch: NotificationBatch, opts: PayloadOptions): WebhookPayload {
  const kept = opts.maxAlerts > 0 ? batch.alerts.slice(0, opts.maxAlerts) : batch.alerts;
  return {
    version: '4',
    groupKey: batch.groupKey,
    truncatedAlerts: batch.alerts.length - kept.length,
    status: batch.status,
    receiver: opts.receiver,
    groupLabels: { ...batch.groupLabels },
    commonLabels: common(batch.alerts.map((a) => a.labels)),
    commonAnnotations: common(batch.alerts.map((a) => a.annotations)),
    externalURL: opts.externalUrl,
    alerts: kept.map((a) => webhookAlert(a, opts.externalUrl)),
  };
}
