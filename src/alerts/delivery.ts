/**
 * Delivery from the outbox (outbox.ts): each sub-queue (one per channel and group) sends its head, one attempt
 * at a time and in order; a failed attempt is retried with capped exponential backoff, a permanent rejection
 * drops the entry. Counts what each channel sent, failed to send and dropped.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { guarded } from '../lib/guard.js';
import type { Logger } from '../lib/logger.js';
import { NotifyError } from './notifiers/notify-error.js';
import { backoffMs } from './outbox.js';
import type { Outbox, OutboxEntry, OutboxKind } from './outbox.js';
import type { StoreHealth } from './store-health.js';
import type { NotificationBatch, Notifier } from './types.js';

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

export interface ChannelStats {
  sent: number;
  failed: number;
  dropped: number;
  pending: number;
}

/** What delivery reads of the dispatcher that runs it. */
export interface DeliveryHost {
  /** Delivery goes on while this holds. */
  running(): boolean;
  /** The outbox, while the store is open. */
  outbox(): Outbox | undefined;
  /** The wall time, once retry and hold times have moved with a wall-clock step (AlertDispatcher). */
  now(): number;
}

export interface DeliveryOptions {
  /** By notifier name. */
  channels: ReadonlyMap<string, DispatchChannel>;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Jitter source, [0, 1). */
  random?: () => number;
  clock: Clock;
  logger: Logger;
  health: StoreHealth;
}

export class Delivery {
  private readonly _opts: DeliveryOptions;
  private readonly _host: DeliveryHost;
  private readonly _log: Logger;
  private readonly _stats = new Map<string, { sent: number; failed: number; dropped: number }>();
  private readonly _inFlight = new Map<string, Promise<void>>();
  /**
   * Sub-queues whose head could not be updated in the store (a full disk): not tried again before this wall
   * time, so that a failing store does not turn retries into a busy loop. At most one per sub-queue.
   */
  private readonly _held = new Map<string, number>();
  /** Heads a channel accepted (or rejected for good) whose removal from the store failed: removed, never re-sent. */
  private readonly _done = new Set<number>();
  private _pumpTimer: { handle: TimerHandle; atMs: number } | undefined;

  constructor(opts: DeliveryOptions, host: DeliveryHost) {
    this._opts = opts;
    this._host = host;
    this._log = opts.logger;
    for (const name of opts.channels.keys()) this._stats.set(name, { sent: 0, failed: 0, dropped: 0 });
  }

  stats(): Map<string, ChannelStats> {
    const out = new Map<string, ChannelStats>();
    for (const [name, s] of this._stats) {
      let pending = 0;
      try {
        pending = this._host.outbox()?.pending(name) ?? 0;
      } catch (err) {
        this._log.debug('cannot count the outbox', { error: errorMessage(err) });
      }
      out.set(name, { ...s, pending });
    }
    return out;
  }

  /** Writes `batch` to the channel's outbox (resolutions only if it wants them); counts what overflow drops. */
  enqueue(c: DispatchChannel, batch: NotificationBatch, now: number, kind: OutboxKind): void {
    const name = c.notifier.name;
    const alerts =
      c.sendResolved === false ? batch.alerts.filter((a) => a.state !== 'inactive') : batch.alerts;
    if (alerts.length === 0) return;
    const dropped = this._host.outbox()!.enqueue(name, { ...batch, alerts }, now, kind);
    if (dropped > 0) {
      this._stats.get(name)!.dropped += dropped;
      this._log.warn('outbox full: dropped the oldest notifications', { channel: name, dropped });
    }
  }

  /** The wall clock was stepped by `stepMs`: hold and timer times move with it. */
  shift(stepMs: number): void {
    for (const [queue, untilMs] of this._held) this._held.set(queue, untilMs + stepMs);
    if (this._pumpTimer !== undefined) this._pumpTimer.atMs += stepMs;
  }

  /** Stops the timer and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this._pumpTimer?.handle.cancel();
    this._pumpTimer = undefined;
    await Promise.allSettled([...this._inFlight.values()]);
  }

  /** Starts delivery of every due sub-queue head and sets a timer for the next one that is not due yet. */
  pump(): void {
    if (!this._host.running()) return;
    const now = this._host.now();
    let heads: OutboxEntry[];
    try {
      heads = this._host.outbox()!.heads();
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
      const channel = this._opts.channels.get(h.channel);
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
          this._host.outbox()!.complete(h.id);
          this._done.delete(h.id);
          this._opts.health.writable();
          nextMs = now; // the sub-queue's next head
        } catch (err) {
          this._opts.health.failed(
            'cannot update the outbox',
            { channel: h.channel, group: h.groupKey },
            err,
          );
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
          this.pump();
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
            this.pump();
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
    const outbox = this._host.outbox();
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
          outbox.retryAt(entry.id, this._host.now() + waitMs, errorMessage(error));
        }
      }
      this._opts.health.writable();
    } catch (dbErr) {
      this._opts.health.failed('cannot update the outbox', fields, dbErr);
      if (done) this._done.add(entry.id);
      this._hold(queue, entry, this._host.now());
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
}
