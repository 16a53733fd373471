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
import { Delivery } from './delivery.js';
import type { ChannelStats, DispatchChannel } from './delivery.js';
import { AggregationGroup, groupOf, planFlush } from './grouping.js';
import type { GroupingOptions } from './grouping.js';
import type { MaintenanceWindow } from './maintenance.js';
import { directLogWriter, loadNotificationLog, saveGroupLog } from './notification-log.js';
import { openNotificationDb, transaction } from './notification-store.js';
import { Outbox } from './outbox.js';
import { SilenceStore } from './silences.js';
import { StoreHealth } from './store-health.js';
import type { Alert, AlertSink, EvaluationResult, NotificationBatch } from './types.js';

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

/** A self-metric point (catalog names). */
export interface DispatcherPoint {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

export class AlertDispatcher implements AlertSink {
  private readonly _opts: AlertDispatcherOptions;
  private readonly _log: Logger;
  private readonly _channels: Map<string, DispatchChannel>;
  private readonly _delivery: Delivery;
  private readonly _health: StoreHealth;
  private readonly _groups = new Map<string, AggregationGroup>();
  private readonly _groupTimers = new Map<string, TimerHandle>();
  private readonly _resendTimers = new Map<string, TimerHandle>();
  private _db: DatabaseSync | undefined;
  private _outbox: Outbox | undefined;
  private _silences: SilenceStore | undefined;
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
    this._health = new StoreHealth(this._log, opts.storePath);
    this._delivery = new Delivery(
      {
        channels: this._channels,
        initialBackoffMs: opts.initialBackoffMs,
        maxBackoffMs: opts.maxBackoffMs,
        random: opts.random,
        clock: opts.clock,
        logger: this._log,
        health: this._health,
      },
      {
        running: () => this._state === 'running',
        outbox: () => this._outbox,
        now: () => this._now(),
      },
    );
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
    this._delivery.pump();
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
    await this._delivery.stop();
    await Promise.allSettled([...this._channels.values()].map((c) => c.notifier.shutdown()));
    this._outbox = undefined;
    this._silences = undefined;
    this._db?.close();
    this._db = undefined;
  }

  stats(): Map<string, ChannelStats> {
    return this._delivery.stats();
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
    const log = loadNotificationLog(db);
    for (const g of log.groups) this._groups.set(g.key, g);
    for (const alert of log.direct) this._direct.set(alert.fingerprint, alert);
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
      this._health.writable();
    } catch (err) {
      // Nothing was recorded: the next round tries again.
      this._health.failed('cannot write notifications to the outbox', {}, err);
      return;
    }
    for (const a of started) this._direct.set(a.fingerprint, a);
    for (const a of stopped) this._direct.delete(a.fingerprint);
    this._delivery.pump();
  }

  private _writeDirect(db: DatabaseSync, started: Alert[], stopped: Alert[], now: number): void {
    transaction(db, () => {
      const log = directLogWriter(db);
      for (const batch of this._directBatches(started, 'firing')) {
        this._enqueueDirect(batch, now, 'notify');
        for (const a of batch.alerts) log.firing(a, batch.groupKey);
      }
      for (const batch of this._directBatches(stopped, 'resolved')) {
        this._enqueueDirect(batch, now, 'notify');
        for (const a of batch.alerts) log.stopped(a.fingerprint);
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
    for (const c of this._channels.values())
      if (c.direct !== undefined) this._delivery.enqueue(c, batch, now, kind);
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
      this._delivery.shift(stepMs);
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
          for (const c of this._channels.values()) {
            if (c.direct === undefined) this._delivery.enqueue(c, plan.batch, now, 'notify');
          }
          g.lastSentMs = now;
        }
        saveGroupLog(this._db!, g, plan.announced);
      });
      g.announced = plan.announced;
      g.resolved.clear();
      g.hasFlushed = true;
      this._health.writable();
    } catch (err) {
      this._health.failed('cannot write notifications to the outbox', { group: g.key }, err);
    }
    if (g.firing.size === 0 && g.announced.size === 0 && g.resolved.size === 0) this._dropGroup(g);
    else this._scheduleFlush(g, this._opts.grouping.groupIntervalMs);
    this._delivery.pump();
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
                this._delivery.enqueue(c, batch, now, 'refresh');
            }
          });
          this._health.writable();
        } catch (err) {
          this._health.failed('cannot write notifications to the outbox', { channel: name }, err);
        }
        this._delivery.pump();
        this._scheduleResend(c, intervalMs);
      }),
      intervalMs,
    );
    this._resendTimers.set(c.notifier.name, handle);
  }
}
