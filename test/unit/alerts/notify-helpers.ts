import type { Alert, EvaluationResult, NotificationBatch, Notifier } from '../../../src/alerts/types.js';
import { NotifyError } from '../../../src/alerts/notifiers/notify-error.js';

/** A firing (or pending/inactive) alert whose fingerprint is its labels. */
export function alert(
  name: string,
  extra: Record<string, string> = {},
  state: Alert['state'] = 'firing',
  atMs = Date.UTC(2026, 0, 1),
): Alert {
  const labels = { alertname: name, severity: 'warning', ...extra };
  return {
    fingerprint: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    labels,
    annotations: { summary: `${name} is wrong` },
    state,
    value: 1,
    activeAtMs: atMs,
    ...(state === 'firing' ? { firedAtMs: atMs } : {}),
  };
}

export function round(nowMs: number, ...alerts: Alert[]): EvaluationResult {
  return { evaluatedAtMs: nowMs, alerts };
}

/** Records what it is sent; fails while `failing` is set. */
export class RecordingNotifier implements Notifier {
  readonly batches: NotificationBatch[] = [];
  attempts = 0;
  failing: false | 'transient' | 'permanent' = false;

  constructor(readonly name = 'test') {}

  send(batch: NotificationBatch): Promise<void> {
    this.attempts++;
    if (this.failing !== false) {
      return Promise.reject(new NotifyError('receiver down', this.failing === 'permanent'));
    }
    this.batches.push(JSON.parse(JSON.stringify(batch)) as NotificationBatch);
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** `status:alertname,alertname` per batch. */
  summary(): string[] {
    return this.batches.map(
      (b) =>
        `${b.status}:${b.alerts.map((a) => `${a.labels.alertname}${a.state === 'inactive' ? '(resolved)' : ''}`).join(',')}`,
    );
  }
}
