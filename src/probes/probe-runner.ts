/**
 * Runs every probe once per collection, all at once, each within its time budget, and keeps the latest
 * snapshot of each. One failing or slow probe never fails the collection: its points are dropped for the
 * cycle, its success self-metric drops to 0, and the change of state is logged once (not every cycle).
 */
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { yieldToEventLoop } from '../lib/yield.js';
import { promiseOf } from '../lib/guard.js';
import type { Probe, Snapshot } from './probe.js';
import type { MetricPoint } from '../model/metric.js';

/**
 * How long the probes started since the last yield may hold the event loop before the runner lets it turn
 * (the whole-cycle target is no stretch over 2 ms; docs/benchmarks.md).
 */
export const YIELD_AFTER_MS = 0.5;

export interface ProbeStatus {
  name: string;
  /** `ok`, `partial`, `unavailable`, `failed` (rejected) or `timeout`; `pending` before the first run. */
  state: 'pending' | 'ok' | 'partial' | 'unavailable' | 'failed' | 'timeout';
  /** Wall time of the last run, in milliseconds. */
  durationMs: number;
  /** Set when state is not ok. */
  reason?: string;
  /** Wall-clock time of the last completed run. */
  lastRunMs?: number;
}

interface ProbeSlot {
  probe: Probe;
  status: ProbeStatus;
  points: MetricPoint[];
  /** A run that outlived its budget and has not settled yet; the probe is not run again meanwhile. */
  inFlight: Promise<unknown> | undefined;
  loggedState: ProbeStatus['state'];
}

export interface ProbeRunnerOptions {
  probes: readonly Probe[];
  clock: Clock;
  logger: Logger;
  /** Time budget of one probe run. */
  timeoutMs: number;
}

export class ProbeRunner {
  private readonly _slots: ProbeSlot[];
  private readonly _clock: Clock;
  private readonly _logger: Logger;
  private readonly _timeoutMs: number;
  private _started = false;

  constructor(opts: ProbeRunnerOptions) {
    this._clock = opts.clock;
    this._logger = opts.logger;
    this._timeoutMs = opts.timeoutMs;
    this._slots = opts.probes.map((probe) => ({
      probe,
      status: { name: probe.name, state: 'pending', durationMs: 0 },
      points: [],
      inFlight: undefined,
      loggedState: 'pending',
    }));
  }

  async start(): Promise<void> {
    if (this._started) return;
    this._started = true;
    await Promise.all(this._slots.map((s) => s.probe.start()));
  }

  async shutdown(): Promise<void> {
    if (!this._started) return;
    this._started = false;
    const results = await Promise.allSettled(this._slots.map((s) => s.probe.shutdown()));
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        this._logger.warn('probe shutdown failed', {
          probe: this._slots[i]!.probe.name,
          error: errorMessage(r.reason),
        });
      }
    });
  }

  /**
   * Runs every probe once; resolves when all have finished or run out of time. Most probes do their work
   * synchronously when started, so the runner yields to the event loop once the probes started since the last
   * yield have held it for YIELD_AFTER_MS: no stretch is much longer than that, and a cycle of fast probes
   * (a twentieth of a millisecond each) costs one or two turns of the loop instead of one per probe. Their
   * asynchronous parts (statfs on the thread pool) still overlap.
   */
  async refresh(): Promise<void> {
    const runs: Promise<void>[] = [];
    let since = this._clock.monotonicMs();
    for (let i = 0; i < this._slots.length; i++) {
      runs.push(this._run(this._slots[i]!));
      if (this._clock.monotonicMs() - since >= YIELD_AFTER_MS) {
        await yieldToEventLoop();
        since = this._clock.monotonicMs();
      }
    }
    await Promise.all(runs);
  }

  /**
   * The points of every probe's latest good snapshot, in one array: a generator would allocate an iterator
   * result per point in V8's interpreter and baseline code, and this runs over every point of a collection.
   */
  points(): MetricPoint[] {
    const out: MetricPoint[] = [];
    for (let s = 0; s < this._slots.length; s++) {
      const points = this._slots[s]!.points;
      for (let i = 0; i < points.length; i++) out.push(points[i]!);
    }
    return out;
  }

  probes(): Probe[] {
    return this._slots.map((s) => s.probe);
  }

  statuses(): ProbeStatus[] {
    return this._slots.map((s) => ({ ...s.status }));
  }

  private async _run(slot: ProbeSlot): Promise<void> {
    if (slot.inFlight !== undefined) {
      // Still stuck in an earlier run: do not start another (a hung statfs holds a libuv thread).
      this._finish(slot, 'timeout', [], 0, 'the previous run has not finished');
      return;
    }
    const started = this._clock.monotonicMs();
    if (slot.probe.collectSync !== undefined) {
      try {
        const snapshot = slot.probe.collectSync();
        const durationMs = this._clock.monotonicMs() - started;
        this._finish(slot, snapshot.status, snapshot.points, durationMs, snapshotReason(snapshot));
      } catch (err) {
        this._finish(slot, 'failed', [], this._clock.monotonicMs() - started, errorMessage(err));
      }
      return;
    }
    const controller = new AbortController();
    // A probe that throws instead of rejecting fails alone, not the whole collection.
    const run = promiseOf(() => slot.probe.collect(controller.signal));
    slot.inFlight = run;
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = this._clock.setTimeout(() => resolve('timeout'), this._timeoutMs);
    });
    try {
      const outcome = await Promise.race([run, timedOut]);
      const durationMs = this._clock.monotonicMs() - started;
      if (outcome === 'timeout') {
        controller.abort();
        run.then(
          () => (slot.inFlight = undefined),
          () => (slot.inFlight = undefined),
        );
        this._finish(slot, 'timeout', [], durationMs, `no answer within ${this._timeoutMs} ms`);
        return;
      }
      slot.inFlight = undefined;
      this._finish(slot, outcome.status, outcome.points, durationMs, snapshotReason(outcome));
    } catch (err) {
      slot.inFlight = undefined;
      this._finish(slot, 'failed', [], this._clock.monotonicMs() - started, errorMessage(err));
    } finally {
      timer?.cancel();
    }
  }

  private _finish(
    slot: ProbeSlot,
    state: ProbeStatus['state'],
    points: MetricPoint[],
    durationMs: number,
    reason?: string,
  ): void {
    slot.points = points;
    slot.status = { name: slot.probe.name, state, durationMs, reason, lastRunMs: this._clock.nowMs() };
    if (state === slot.loggedState) return;
    const fields = { probe: slot.probe.name, state, reason };
    if (state === 'ok') {
      // Back from unavailable is as quiet as going there was (the probe logs its own recovery).
      if (slot.loggedState === 'unavailable') this._logger.debug('probe source available again', fields);
      else if (slot.loggedState !== 'pending') this._logger.info('probe recovered', fields);
    } else if (state === 'unavailable') {
      this._logger.debug('probe source unavailable', fields);
    } else if (state === 'partial') {
      this._logger.warn('probe read only part of its source', fields);
    } else {
      this._logger.error('probe failed', fields);
    }
    slot.loggedState = state;
  }
}

function snapshotReason(s: Snapshot): string | undefined {
  if (s.status === 'ok') return undefined;
  if (s.status === 'partial')
    return `${s.failures ?? 1} part(s) failed${s.reason === undefined ? '' : `: ${s.reason}`}`;
  return s.reason;
}
