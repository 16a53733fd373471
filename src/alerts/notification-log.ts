/**
 * The notification log in the notification store (notification-store.ts): which alerts receivers were last
 * told are firing, per group for grouped channels (notified_groups, notified_alerts) and per alert for direct
 * channels (direct_alerts). Read once at start; written in the transaction that enqueues the notifications.
 */
import type { DatabaseSync } from 'node:sqlite';
import { AggregationGroup } from './grouping.js';
import type { Alert } from './types.js';

interface GroupRow {
  group_key: string;
  group_labels: string;
  last_sent_ms: number;
}

interface AlertRow {
  group_key: string;
  alert: string;
}

/** The groups as last flushed (with what each announced), and what direct channels were last told fires. */
export function loadNotificationLog(db: DatabaseSync): { groups: AggregationGroup[]; direct: Alert[] } {
  const groups = new Map<string, AggregationGroup>();
  for (const r of db.prepare('SELECT * FROM notified_groups').all() as unknown as GroupRow[]) {
    const g = new AggregationGroup(r.group_key, JSON.parse(r.group_labels) as Record<string, string>);
    g.lastSentMs = Number(r.last_sent_ms);
    g.hasFlushed = true;
    groups.set(g.key, g);
  }
  const alerts = db.prepare('SELECT group_key, alert FROM notified_alerts').all() as unknown as AlertRow[];
  for (const r of alerts) {
    const alert = JSON.parse(r.alert) as Alert;
    groups.get(r.group_key)?.announced.set(alert.fingerprint, alert);
  }
  const direct = db.prepare('SELECT alert FROM direct_alerts').all() as unknown as { alert: string }[];
  return { groups: [...groups.values()], direct: direct.map((r) => JSON.parse(r.alert) as Alert) };
}

/** Records what group `g` has now announced as firing (nothing: the group is forgotten). */
export function saveGroupLog(
  db: DatabaseSync,
  g: AggregationGroup,
  announced: ReadonlyMap<string, Alert>,
): void {
  db.prepare('DELETE FROM notified_alerts WHERE group_key = ?').run(g.key);
  if (announced.size === 0) {
    db.prepare('DELETE FROM notified_groups WHERE group_key = ?').run(g.key);
    return;
  }
  db.prepare(
    `INSERT INTO notified_groups (group_key, group_labels, last_sent_ms) VALUES (?, ?, ?)
       ON CONFLICT (group_key) DO UPDATE SET last_sent_ms = excluded.last_sent_ms`,
  ).run(g.key, JSON.stringify(g.labels), g.lastSentMs ?? 0);
  const insert = db.prepare('INSERT INTO notified_alerts (fingerprint, group_key, alert) VALUES (?, ?, ?)');
  for (const a of announced.values()) insert.run(a.fingerprint, g.key, JSON.stringify(a));
}

/** Writes of the direct channels' log, prepared for one transaction. */
export function directLogWriter(db: DatabaseSync): {
  firing(alert: Alert, groupKey: string): void;
  stopped(fingerprint: string): void;
} {
  const insert = db.prepare(
    'INSERT OR REPLACE INTO direct_alerts (fingerprint, group_key, alert) VALUES (?, ?, ?)',
  );
  const remove = db.prepare('DELETE FROM direct_alerts WHERE fingerprint = ?');
  return {
    firing: (alert, groupKey) => insert.run(alert.fingerprint, groupKey, JSON.stringify(alert)),
    stopped: (fingerprint) => remove.run(fingerprint),
  };
}
