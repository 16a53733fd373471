/**
 * The notification side of alerting: receives every evaluation round from the rule engine (AlertSink),
 * groups firing alerts as Alertmanager does, leaves out silenced alerts and alerts in a maintenance window,
 * writes each notification to the persisted outbox and delivers it from there to every channel, with
 * retries and capped exponential backoff. Pending alerts are never notified.
 *
 * Restart: the outbox and the notification log (what receivers were told fires, per group) are in the
 * store, so after a restart undelivered notifications go out, and an alert that was announced firing but
 * is no longer firing in the first round is notified as resolved.
 */
import type { DatabaseSync } from 'node:sqlite';
import { WallClockSteps } from '../lib/clock.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { guarded } from '../lib/guard.js';
import type { Logger } from '../lib/logger.js';
import { AggregationGroup, groupOf, planFlush } from './grouping.js';
import type { GroupingOptions } from './grouping.js';
import type { MaintenanceWindow } from './maintenance.js';
import { openNotificationDb, transaction } from './notification-store.js';
import { NotifyError } from './notifiers/notify-error.js';
import { Outbox, backoffMs } from './outbox.js';
import type { OutboxEntry } from './outbox.js';
import { SilenceStore } from './silences.js';
import type { Alert, AlertSink, EvaluationResult, NotificationBatch, Notifier } from './types.js';

export interface DispatchChannel {
  notifier: Notifier;
  /** Also deliver resolutions (Alertmanager's send_resolved); default true. */
  sendResolved?: boolean;
  /**
   * Bypass the grouping, as Prometheus does towards Alertmanager (which groups by itself): each alert is sent
   * when it starts firing (or a mute on it ends) and when it stops, and all firing alerts again every
   * `resendIntervalMs`.
   */
  direct?: { resendIntervalMs: number };
}

export interface AlertDispatcherOptions {
  channels: readonly DispatchChannel[];
  grouping: GroupingOptions;
  /** SQLite file of the outbox, silences and notification log; `:memory:` for tests. */
  storePath: string;
  maxOutboxPerChannel: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maintenanceWindows?: readonly MaintenanceWindow[];
  clock: Clock;
  logger: Logger;
  /** Jitter source, [0, 1). */
  random?: () => number;
}

export interface ChannelStats {
  sent: number;
  failed: number;
  dropped: number;
  pending: number;
}

/** A self-metric point (catalog names). */
export interface DispatcherPoint {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

interface GroupRow {
  group_key: string;
  group_labels: string;
  last_sent_ms: number;
}

interface AlertRow {
  group_key: string;
  alert: string;
}

export class AlertDispatcher implements AlertSink {
  private readonly _opts: AlertDispatcherOptions;
  private readonly _log: Logger;
  private readonly _channels: Map<string, DispatchChannel>;
  private readonly _stats = new Map<string, { sent: number; failed: number; dropped: number }>();
  private readonly _groups = new Map<string, AggregationGroup>();
  private readonly _groupTimers = new Map<string, TimerHandle>();
  private readonly _inFlight = new Map<string, Promise<void>>();
  /**
   * Sub-queues whose head could not be updated in the store (a full disk): not tried again before this wall
   * time, so that a failing store does not turn retries into a busy loop. At most one per sub-queue.
   */
  private readonly _held = new Map<string, number>();
  /** Heads a channel accepted (or rejected for good) whose removal from the store failed: removed, never re-sent. */
  private readonly _done = new Set<number>();
  /** The store failed its last write: the next failure is not logged again, the next success is. */
  private _storeFailing = false;
  private readonly _resendTimers = new Map<string, TimerHandle>();
  private _db: DatabaseSync | undefined;
  private _outbox: Outbox | undefined;
  private _silences: SilenceStore | undefined;
  private _pumpTimer: { handle: TimerHandle; atMs: number } | undefined;
  private _state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private _early: EvaluationResult | undefined;
  private _groupKeys = new Map<string, { key: string; labels: Record<string, string> }>();
  /** What direct channels were last told is firing (persisted in direct_alerts). */
  private readonly _direct = new Map<string, Alert>();
  private readonly _hasDirect: boolean;
  private readonly _steps: WallClockSteps;

  constructor(opts: AlertDispatcherOptions) {
    this._opts = opts;
    this._steps = new WallClockSteps(opts.clock);
    this._log = opts.logger.child({ component: 'notifications' });
    this._channels = new Map(opts.channels.map((c) => [c.notifier.name, c]));
    for (const name of this._channels.keys()) this._stats.set(name, { sent: 0, failed: 0, dropped: 0 });
    this._hasDirect = opts.channels.some((c) => c.direct !== undefined);
  }

  /** Silences live in the dispatcher's store; available once started. */
  get silences(): SilenceStore | undefined {
    return this._silences;
  }

  get outbox(): Outbox | undefined {
    return this._outbox;
  }

  async start(): Promise<void> {
    if (this._state !== 'new') return;
    this._state = 'starting';
    let db: DatabaseSync;
    try {
      db = await openNotificationDb(this._opts.storePath);
    } catch (err) {
      this._state = 'stopped';
      throw err;
    }
    if ((this._state as string) === 'stopped') {
      db.close();
      return;
    }
    this._db = db;
    this._outbox = new Outbox(db, { maxPerChannel: this._opts.maxOutboxPerChannel });
    this._silences = new SilenceStore(db, this._log);
    this._outbox.allDue(this._now());
    this._restoreGroups(db);
    this._state = 'running';
    for (const c of this._channels.values()) {
      if (c.direct !== undefined) this._scheduleResend(c, c.direct.resendIntervalMs);
    }
    const early = this._early;
    this._early = undefined;
    if (early !== undefined) this.handle(early);
    this._pump();
  }

  /** Takes one evaluation round. Never throws; delivery happens from the outbox. */
  handle(result: EvaluationResult): void {
    if (this._state === 'new' || this._state === 'starting') {
      this._early = result;
      return;
    }
    if (this._state !== 'running') return;
    try {
      this._apply(result);
    } catch (err) {
      this._log.error('notification dispatch failed', { error: errorMessage(err) });
    }
  }

  async shutdown(): Promise<void> {
    if (this._state === 'stopped') return;
    if (this._state === 'running') {
      // A resolution the last round reported goes to the outbox now instead of waiting for a group_interval
      // that will not come: delivered on the way out when the receiver answers in time, else after the next start.
      for (const g of [...this._groups.values()]) {
        if ([...g.resolved.keys()].some((fp) => g.announced.has(fp))) this._flush(g);
      }
    }
    this._state = 'stopped';
    for (const t of this._groupTimers.values()) t.cancel();
    this._groupTimers.clear();
    for (const t of this._resendTimers.values()) t.cancel();
    this._resendTimers.clear();
    this._pumpTimer?.handle.cancel();
    this._pumpTimer = undefined;
    await Promise.allSettled([...this._inFlight.values()]);
    await Promise.allSettled([...this._channels.values()].map((c) => c.notifier.shutdown()));
    this._outbox = undefined;
    this._silences = undefined;
    this._db?.close();
    this._db = undefined;
  }

  stats(): Map<string, ChannelStats> {
    const out = new Map<string, ChannelStats>();
    for (const [name, s] of this._stats) {
      let pending = 0;
      try {
        pending = this._outbox?.pending(name) ?? 0;
      } catch (err) {
        this._log.debug('cannot count the outbox', { error: errorMessage(err) });
      }
      out.set(name, { ...s, pending });
    }
    return out;
  }

  /** monitor_notifications_sent/failed, monitor_outbox_pending/dropped, per channel. */
  *points(): IterableIterator<DispatcherPoint> {
    for (const [channel, s] of this.stats()) {
      yield { metric: 'monitor_notifications_sent', labels: { channel }, value: s.sent };
      yield { metric: 'monitor_notifications_failed', labels: { channel }, value: s.failed };
      yield { metric: 'monitor_outbox_pending', labels: { channel }, value: s.pending };
      yield { metric: 'monitor_outbox_dropped', labels: { channel }, value: s.dropped };
    }
  }

  /** Whether a firing alert is muted now, and by what (a silence id or a maintenance window name). */
  mutedBy(alert: Pick<Alert, 'labels'>, nowMs = this._opts.clock.nowMs()): string | undefined {
    const silence = this._silences?.silencedBy(alert.labels, nowMs);
    if (silence !== undefined) return `silence ${silence}`;
    const window = this._opts.maintenanceWindows?.find((w) => w.mutes(alert.labels, nowMs));
    return window === undefined ? undefined : `maintenance window ${window.name}`;
  }

  private _restoreGroups(db: DatabaseSync): void {
    const groups = db.prepare('SELECT * FROM notified_groups').all() as unknown as GroupRow[];
    for (const r of groups) {
      const g = new AggregationGroup(r.group_key, JSON.parse(r.group_labels) as Record<string, string>);
      g.lastSentMs = Number(r.last_sent_ms);
      g.hasFlushed = true;
      this._groups.set(g.key, g);
    }
    const alerts = db.prepare('SELECT group_key, alert FROM notified_alerts').all() as unknown as AlertRow[];
    for (const r of alerts) {
      const alert = JSON.parse(r.alert) as Alert;
      this._groups.get(r.group_key)?.announced.set(alert.fingerprint, alert);
    }
    const direct = db.prepare('SELECT alert FROM direct_alerts').all() as unknown as { alert: string }[];
    for (const r of direct) {
      const alert = JSON.parse(r.alert) as Alert;
      this._direct.set(alert.fingerprint, alert);
    }
    // No flush timer yet: a restored group is looked at only after the first evaluation round has said which of
    // its alerts still fire (see _apply), or it would take them all for resolved.
    for (const g of this._groups.values()) if (g.empty) this._dropGroup(g);
  }

  private _apply(result: EvaluationResult): void {
    const now = result.evaluatedAtMs;
    const firing = new Map<string, Alert>();
    const others = new Map<string, Alert>();
    for (const a of result.alerts) {
      if (a.state === 'firing') firing.set(a.fingerprint, a);
      else others.set(a.fingerprint, a);
    }
    // An alert's labels never change (its fingerprint is their hash), so its group is computed once while it fires.
    const previousKeys = this._groupKeys;
    const keys = new Map<string, { key: string; labels: Record<string, string> }>();
    for (const a of firing.values()) {
      const k = previousKeys.get(a.fingerprint) ?? groupOf(a.labels, this._opts.grouping.groupBy);
      keys.set(a.fingerprint, k);
      let g = this._groups.get(k.key);
      if (g === undefined) {
        g = new AggregationGroup(k.key, k.labels);
        this._groups.set(k.key, g);
      }
      g.firing.set(a.fingerprint, a);
      g.resolved.delete(a.fingerprint);
      if (!this._groupTimers.has(k.key)) {
        // A new group waits group_wait; an alert that fired long enough ago (e.g. before a restart) need not.
        const { groupWaitMs } = this._opts.grouping;
        const waitMs = Math.min(groupWaitMs, Math.max(0, (a.firedAtMs ?? now) + groupWaitMs - now));
        this._scheduleFlush(g, g.hasFlushed ? this._opts.grouping.groupIntervalMs : waitMs);
      }
    }
    this._groupKeys = keys;
    const resolve = (g: AggregationGroup, a: Alert): void => {
      const latest = others.get(a.fingerprint) ?? a;
      g.resolved.set(a.fingerprint, {
        ...latest,
        state: 'inactive',
        resolvedAtMs: latest.resolvedAtMs ?? now,
      });
    };
    for (const g of this._groups.values()) {
      for (const [fp, a] of g.firing) {
        if (firing.has(fp)) continue;
        resolve(g, a);
        g.firing.delete(fp);
      }
      for (const [fp, a] of g.announced) {
        if (!firing.has(fp) && !g.resolved.has(fp)) resolve(g, a);
      }
      if (!this._groupTimers.has(g.key)) this._scheduleFlush(g, this._opts.grouping.groupIntervalMs);
    }
    if (this._hasDirect) this._sendDirect(firing, others, now);
  }

  /** Direct channels hear of every change at once: alerts that started firing (or are no longer muted), and alerts that stopped. */
  private _sendDirect(
    firing: ReadonlyMap<string, Alert>,
    others: ReadonlyMap<string, Alert>,
    now: number,
  ): void {
    const started: Alert[] = [];
    const stopped: Alert[] = [];
    const visible = new Set<string>();
    for (const a of firing.values()) {
      if (this.mutedBy(a, now) !== undefined) continue;
      visible.add(a.fingerprint);
      if (!this._direct.has(a.fingerprint)) started.push(a);
      else this._direct.set(a.fingerprint, a); // re-sends carry the latest value and annotations
    }
    for (const [fp, a] of this._direct) {
      if (visible.has(fp)) continue;
      const latest = others.get(fp) ?? a;
      stopped.push({ ...latest, state: 'inactive', resolvedAtMs: latest.resolvedAtMs ?? now });
    }
    if (started.length === 0 && stopped.length === 0) return;
    const db = this._db!;
    try {
      this._writeDirect(db, started, stopped, now);
      this._storeWritable();
    } catch (err) {
      // Nothing was recorded: the next round tries again.
      this._storeFailed('cannot write notifications to the outbox', {}, err);
      return;
    }
    for (const a of started) this._direct.set(a.fingerprint, a);
    for (const a of stopped) this._direct.delete(a.fingerprint);
    this._pump();
  }

  private _writeDirect(db: DatabaseSync, started: Alert[], stopped: Alert[], now: number): void {
    transaction(db, () => {
      const insert = db.prepare(
        'INSERT OR REPLACE INTO direct_alerts (fingerprint, group_key, alert) VALUES (?, ?, ?)',
      );
      const remove = db.prepare('DELETE FROM direct_alerts WHERE fingerprint = ?');
      for (const batch of this._directBatches(started, 'firing')) {
        this._enqueueDirect(batch, now, 'notify');
        for (const a of batch.alerts) insert.run(a.fingerprint, batch.groupKey, JSON.stringify(a));
      }
      for (const batch of this._directBatches(stopped, 'resolved')) {
        this._enqueueDirect(batch, now, 'notify');
        for (const a of batch.alerts) remove.run(a.fingerprint);
      }
    });
  }

  /** Alerts as batches per group key, so that each alert keeps its one FIFO queue per channel. */
  private _directBatches(alerts: readonly Alert[], status: 'firing' | 'resolved'): NotificationBatch[] {
    const byKey = new Map<string, NotificationBatch & { alerts: Alert[] }>();
    for (const a of alerts) {
      const { key, labels } = groupOf(a.labels, this._opts.grouping.groupBy);
      let b = byKey.get(key);
      if (b === undefined) {
        b = { groupKey: key, groupLabels: labels, status, alerts: [] };
        byKey.set(key, b);
      }
      b.alerts.push(a);
    }
    return [...byKey.values()];
  }

  private _enqueueDirect(batch: NotificationBatch, now: number, kind: 'notify' | 'refresh'): void {
    for (const [name, c] of this._channels)
      if (c.direct !== undefined) this._enqueue(name, c, batch, now, kind);
  }

  private _scheduleFlush(g: AggregationGroup, delayMs: number): void {
    this._groupTimers.get(g.key)?.cancel();
    this._groupTimers.set(
      g.key,
      this._opts.clock.setTimeout(
        guarded(this._log, 'notification group flush', () => {
          this._groupTimers.delete(g.key);
          this._flush(g);
        }),
        delayMs,
      ),
    );
  }

  /**
   * The wall time. When the wall clock was stepped since the last look, the repeat and retry times move with
   * it first, so that repeat_interval and backoffs measure the time that passed.
   */
  private _now(): number {
    const now = this._opts.clock.nowMs();
    const stepMs = this._steps.check(now);
    if (stepMs !== 0) {
      for (const g of this._groups.values()) if (g.lastSentMs !== undefined) g.lastSentMs += stepMs;
      for (const [queue, untilMs] of this._held) this._held.set(queue, untilMs + stepMs);
      if (this._pumpTimer !== undefined) this._pumpTimer.atMs += stepMs;
      try {
        this._outbox?.shiftRetries(stepMs);
      } catch (err) {
        this._log.error('cannot update the outbox', { error: errorMessage(err) });
      }
    }
    return now;
  }

  private _flush(g: AggregationGroup): void {
    if (this._state !== 'running') return;
    const now = this._now();
    const plan = planFlush(
      g,
      now,
      this._opts.grouping.repeatIntervalMs,
      (a) => this.mutedBy(a, now) !== undefined,
    );
    try {
      transaction(this._db!, () => {
        if (plan.batch !== undefined) {
          for (const [name, c] of this._channels) {
            if (c.direct === undefined) this._enqueue(name, c, plan.batch, now, 'notify');
          }
          g.lastSentMs = now;
        }
        this._saveLog(g, plan.announced);
      });
      g.announced = plan.announced;
      g.resolved.clear();
      g.hasFlushed = true;
      this._storeWritable();
    } catch (err) {
      this._storeFailed('cannot write notifications to the outbox', { group: g.key }, err);
    }
    if (g.firing.size === 0 && g.announced.size === 0 && g.resolved.size === 0) this._dropGroup(g);
    else this._scheduleFlush(g, this._opts.grouping.groupIntervalMs);
    this._pump();
  }

  private _enqueue(
    name: string,
    c: DispatchChannel,
    batch: NotificationBatch,
    now: number,
    kind: 'notify' | 'refresh',
  ): void {
    const alerts =
      c.sendResolved === false ? batch.alerts.filter((a) => a.state !== 'inactive') : batch.alerts;
    if (alerts.length === 0) return;
    const dropped = this._outbox!.enqueue(name, { ...batch, alerts }, now, kind);
    if (dropped > 0) {
      this._stats.get(name)!.dropped += dropped;
      this._log.warn('outbox full: dropped the oldest notifications', { channel: name, dropped });
    }
  }

  private _saveLog(g: AggregationGroup, announced: ReadonlyMap<string, Alert>): void {
    const db = this._db!;
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

  private _dropGroup(g: AggregationGroup): void {
    this._groupTimers.get(g.key)?.cancel();
    this._groupTimers.delete(g.key);
    this._groups.delete(g.key);
  }

  /** Alertmanager forgets a firing alert after its endsAt: re-send the firing ones while they fire. */
  private _scheduleResend(c: DispatchChannel, intervalMs: number): void {
    const handle = this._opts.clock.setTimeout(
      guarded(this._log, 'notification resend', () => {
        if (this._state !== 'running') return;
        const now = this._now();
        const name = c.notifier.name;
        try {
          transaction(this._db!, () => {
            for (const batch of this._directBatches([...this._direct.values()], 'firing')) {
              if (!this._outbox!.hasPending(name, batch.groupKey))
                this._enqueue(name, c, batch, now, 'refresh');
            }
          });
          this._storeWritable();
        } catch (err) {
          this._storeFailed('cannot write notifications to the outbox', { channel: name }, err);
        }
        this._pump();
        this._scheduleResend(c, intervalMs);
      }),
      intervalMs,
    );
    this._resendTimers.set(c.notifier.name, handle);
  }

  /** Starts delivery of every due sub-queue head and sets a timer for the next one that is not due yet. */
  private _pump(): void {
    if (this._state !== 'running') return;
    const now = this._now();
    let heads: OutboxEntry[];
    try {
      heads = this._outbox!.heads();
    } catch (err) {
      this._log.error('cannot read the outbox', { error: errorMessage(err) });
      return;
    }
    if (this._done.size > 0) {
      // An entry dropped meanwhile (outbox overflow) is no longer anyone's head.
      const ids = new Set(heads.map((h) => h.id));
      for (const id of this._done) if (!ids.has(id)) this._done.delete(id);
    }
    let nextMs: number | undefined;
    for (const h of heads) {
      const queue = `${h.channel}\u0000${h.groupKey}`;
      if (this._inFlight.has(queue)) continue;
      const channel = this._channels.get(h.channel);
      if (channel === undefined) continue; // a channel removed from the config keeps its entries
      const heldUntil = this._held.get(queue);
      if (heldUntil !== undefined && heldUntil > now) {
        nextMs = Math.min(nextMs ?? Infinity, heldUntil);
        continue;
      }
      this._held.delete(queue);
      if (this._done.has(h.id)) {
        // Delivered before, but the store could not forget it: forget it now, without sending it again.
        try {
          this._outbox!.complete(h.id);
          this._done.delete(h.id);
          this._storeWritable();
          nextMs = now; // the sub-queue's next head
        } catch (err) {
          this._storeFailed('cannot update the outbox', { channel: h.channel, group: h.groupKey }, err);
          this._hold(queue, h, now);
          nextMs = Math.min(nextMs ?? Infinity, this._held.get(queue)!);
        }
        continue;
      }
      if (h.nextAttemptMs > now) {
        nextMs = Math.min(nextMs ?? Infinity, h.nextAttemptMs);
        continue;
      }
      const p = this._deliver(channel, h, queue).finally(
        guarded(this._log, 'notification pump', () => {
          this._inFlight.delete(queue);
          this._pump();
        }),
      );
      this._inFlight.set(queue, p);
    }
    if (nextMs !== undefined && (this._pumpTimer === undefined || this._pumpTimer.atMs > nextMs)) {
      this._pumpTimer?.handle.cancel();
      const atMs = nextMs;
      this._pumpTimer = {
        atMs,
        handle: this._opts.clock.setTimeout(
          guarded(this._log, 'notification pump', () => {
            this._pumpTimer = undefined;
            this._pump();
          }),
          atMs - now,
        ),
      };
    }
  }

  /** One attempt; never rejects. The store stays open until every attempt in flight has been recorded. */
  private async _deliver(channel: DispatchChannel, entry: OutboxEntry, queue: string): Promise<void> {
    const name = channel.notifier.name;
    const stats = this._stats.get(name)!;
    const fields = { channel: name, group: entry.groupKey, status: entry.status };
    let error: unknown;
    try {
      await channel.notifier.send(entry.batch);
    } catch (err) {
      error = err ?? new Error('send failed');
    }
    const outbox = this._outbox;
    if (outbox === undefined) return;
    let done = error === undefined;
    try {
      if (error === undefined) {
        stats.sent++;
        this._log.debug('notification delivered', fields);
        outbox.complete(entry.id);
      } else {
        stats.failed++;
        if (error instanceof NotifyError && error.permanent) {
          done = true;
          this._log.error('notification rejected by the receiver; dropped', {
            ...fields,
            error: errorMessage(error),
          });
          outbox.complete(entry.id);
        } else {
          const waitMs = this._backoff(entry);
          this._log.warn('notification delivery failed; will retry', {
            ...fields,
            attempt: entry.attempts + 1,
            retryInMs: waitMs,
            error: errorMessage(error),
          });
          outbox.retryAt(entry.id, this._now() + waitMs, errorMessage(error));
        }
      }
      this._storeWritable();
    } catch (dbErr) {
      this._storeFailed('cannot update the outbox', fields, dbErr);
      if (done) this._done.add(entry.id);
      this._hold(queue, entry, this._now());
    }
  }

  private _backoff(entry: OutboxEntry): number {
    return backoffMs(entry.attempts + 1, {
      initialMs: this._opts.initialBackoffMs,
      maxMs: this._opts.maxBackoffMs,
      random: this._opts.random ?? Math.random,
    });
  }

  /** The store could not record what happened to the head of `queue`: leave the sub-queue alone for a backoff. */
  private _hold(queue: string, entry: OutboxEntry, now: number): void {
    this._held.set(queue, now + this._backoff(entry));
  }

  /** Logs a failed store write, unless the previous one failed too. */
  private _storeFailed(msg: string, fields: Record<string, string>, err: unknown): void {
    if (this._storeFailing) {
      this._log.debug(msg, { ...fields, error: errorMessage(err) });
      return;
    }
    this._storeFailing = true;
    this._log.error(msg, { ...fields, error: errorMessage(err) });
  }

  /** A store write succeeded: says so once after failures. */
  private _storeWritable(): void {
    if (!this._storeFailing) return;
    this._storeFailing = false;
    this._log.info('the notification store is writable again', { store: this._opts.storePath });
  }
}
