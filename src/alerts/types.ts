/**
 * What the rule engine hands the notification side, and what notifiers receive. The engine decides alert
 * states (Prometheus semantics); the dispatcher groups, silences, persists and delivers. They meet only here.
 */

export type AlertState = 'pending' | 'firing' | 'inactive';

/** One alert instance: one rule applied to one series. */
export interface Alert {
  /** Stable hash of the alert's labels (alertname included), as Alertmanager computes identity. */
  fingerprint: string;
  /** alertname, severity, the series' labels and the rule's extra labels. */
  labels: Readonly<Record<string, string>>;
  /** summary/message and the rule's annotations, templates already expanded. */
  annotations: Readonly<Record<string, string>>;
  state: AlertState;
  /** The value that was last compared with the threshold. */
  value: number;
  /** When the condition first held (start of pending), epoch ms. */
  activeAtMs: number;
  /** When the alert started firing, epoch ms; set once firing. */
  firedAtMs?: number;
  /** When the alert resolved, epoch ms; set on alerts that stopped firing. */
  resolvedAtMs?: number;
}

/**
 * The result of one evaluation round: every alert that is pending or firing now, plus those that
 * resolved in this round (state 'inactive' with resolvedAtMs), so receivers can be told of the resolution.
 */
export interface EvaluationResult {
  evaluatedAtMs: number;
  alerts: readonly Alert[];
}

/** A group of alerts delivered together (Alertmanager's notification unit). */
export interface NotificationBatch {
  /** Identity of the group: its group_by label values. */
  groupKey: string;
  groupLabels: Readonly<Record<string, string>>;
  /** 'firing' if any alert in the batch fires, else 'resolved'. */
  status: 'firing' | 'resolved';
  alerts: readonly Alert[];
}

/** A destination for notifications; retried with backoff from a persisted outbox by the dispatcher. */
export interface Notifier {
  readonly name: string;
  send(batch: NotificationBatch): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Receives every evaluation round from the rule engine (the notification dispatcher is one). `handle` must not
 * throw and must return quickly: delivery happens later, from the dispatcher's own outbox.
 */
export interface AlertSink {
  handle(result: EvaluationResult): void;
}
