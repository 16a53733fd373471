/**
 * Alertmanager's grouping and deduplication, for one dispatcher. Alerts are put in groups by their
 * `group_by` label values. A new group waits `group_wait` before its first notification, so that alerts
 * firing together arrive together; after that the group is looked at every `group_interval`, and it
 * notifies only when something changed since the last notification (an alert started firing, or one that
 * receivers were told of resolved) or when `repeat_interval` has passed while alerts still fire.
 */
import type { Alert, NotificationBatch } from './types.js';

export interface GroupingOptions {
  /** Label names; `['...']` groups by all labels (one group per alert), `[]` puts every alert in one group. */
  groupBy: readonly string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

const GROUP_BY_ALL = '...';

/** The group an alert belongs to: its key (Alertmanager's `{}:{a="1",b="2"}` form) and labels. */
export function groupOf(
  labels: Readonly<Record<string, string>>,
  groupBy: readonly string[],
): { key: string; labels: Record<string, string> } {
  const names = groupBy.includes(GROUP_BY_ALL) ? Object.keys(labels).sort() : [...groupBy].sort();
  const groupLabels: Record<string, string> = {};
  for (const n of names) if (Object.hasOwn(labels, n) && labels[n] !== '') groupLabels[n] = labels[n]!;
  const body = Object.entries(groupLabels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return { key: `{}:{${body}}`, labels: groupLabels };
}

/** One aggregation group's state. */
export class AggregationGroup {
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Alerts firing now. */
  readonly firing = new Map<string, Alert>();
  /** Alerts that stopped firing since the last flush. */
  readonly resolved = new Map<string, Alert>();
  /** What receivers were last told is firing (the notification log); persisted. */
  announced = new Map<string, Alert>();
  lastSentMs: number | undefined;
  hasFlushed = false;

  constructor(key: string, labels: Readonly<Record<string, string>>) {
    this.key = key;
    this.labels = labels;
  }

  get empty(): boolean {
    return this.firing.size === 0 && this.resolved.size === 0 && this.announced.size === 0;
  }
}

export interface FlushPlan {
  /** What to notify, if anything. */
  batch: NotificationBatch | undefined;
  /** The notification log after this flush. */
  announced: Map<string, Alert>;
}

/**
 * Decides one flush. `muted` says whether a firing alert is silenced or in a maintenance window: muted
 * alerts are left out of the notification (and out of the notification log, so that they are notified
 * when the mute ends and they still fire). Resolutions are sent only for alerts receivers were told fire.
 */
export function planFlush(
  group: AggregationGroup,
  nowMs: number,
  repeatIntervalMs: number,
  muted: (alert: Alert) => boolean,
): FlushPlan {
  const firing = [...group.firing.values()].filter((a) => !muted(a));
  const resolved = [...group.resolved.values()].filter((a) => group.announced.has(a.fingerprint));
  // An alert announced as firing that is neither firing nor resolved now was muted: it leaves the log.
  const newlyFiring = firing.some((a) => !group.announced.has(a.fingerprint));
  const repeatDue =
    firing.length > 0 && (group.lastSentMs === undefined || nowMs - group.lastSentMs >= repeatIntervalMs);
  const announced = new Map(firing.map((a) => [a.fingerprint, a]));
  if (!newlyFiring && resolved.length === 0 && !repeatDue) return { batch: undefined, announced };
  const byFingerprint = (a: Alert, b: Alert): number => (a.fingerprint < b.fingerprint ? -1 : 1);
  return {
    batch: {
      groupKey: group.key,
      groupLabels: group.labels,
      status: firing.length > 0 ? 'firing' : 'resolved',
      alerts: [...firing.sort(byFingerprint), ...resolved.sort(byFingerprint)],
    },
    announced,
  };
}
