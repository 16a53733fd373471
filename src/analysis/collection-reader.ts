/**
 * The one MetricReader of the agent. Once per collection interval it refreshes the probes, collects the
 * SDK's metrics once, and hands the same result to every subscriber: the Prometheus snapshot, the OTLP
 * push, and later alerting and trends. So probes are read once per interval whoever consumes the data,
 * and everyone sees the same numbers.
 */
import type { Resource } from '@opentelemetry/resources';
import type { MetricProducer, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { WallClockSteps } from '../lib/clock.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { guarded, guardPromise } from '../lib/guard.js';
import type { Logger } from '../lib/logger.js';
import { yieldToEventLoop } from '../lib/yield.js';
import { toSamples } from './samples.js';
import type { NameResolver } from './samples.js';
import type { Sample } from '../model/metric.js';
import { SeriesKeys } from '../model/labels.js';

export interface CollectionBatch {
  /** Wall-clock time of the collection. */
  readonly timestampMs: number;
  readonly resourceMetrics: ResourceMetrics;
  /**
   * The same data as Samples, computed on first access. Dropped once the subscribers have run and made again
   * if asked later (the status page, the Neo4j collector's read of the application's queries), rather than kept
   * for a whole interval for those rare readers.
   */
  readonly samples: readonly Sample[];
  /**
   * How far the wall clock was stepped since the previous collection (positive: forward), beyond the time
   * that passed; 0 or absent when it was not. Subscribers that keep timestamps shift them by this much, so
   * that durations follow the monotonic clock.
   */
  readonly clockStepMs?: number;
}

/** Receives each collection. A subscriber that throws or rejects is logged; the others still run. */
export type CollectionSubscriber = (batch: CollectionBatch) => void | Promise<void>;

export interface CollectionStats {
  cycles: number;
  /** Ticks skipped because the previous cycle was still running. */
  overruns: number;
  /** Wall time of the last cycle: refresh + collect + subscribers. */
  lastCycleMs: number;
  lastCollectionMs?: number;
}

export interface CollectionReaderOptions {
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** Reads the probes; runs before each collect. */
  refresh: () => Promise<void>;
  nameOf: NameResolver;
  /** The resource every collection is reported under. */
  resource: Resource;
  /** The sources of every collection, merged in this order (the points producer, the series tables). */
  metricProducers: MetricProducer[];
}

export class CollectionReader {
  private readonly _opts: CollectionReaderOptions;
  private readonly _subscribers = new Map<string, CollectionSubscriber>();
  /** The samples' series keys, kept across collections (model/labels.ts SeriesKeys). */
  private readonly _keys = new SeriesKeys();
  private _timer: TimerHandle | undefined;
  private _running: Promise<CollectionBatch | undefined> | undefined;
  private _nextDueMs = 0;
  private _stopped = false;
  private _closed = false;
  private readonly _stats: CollectionStats = { cycles: 0, overruns: 0, lastCycleMs: 0 };
  private readonly _steps: WallClockSteps;

  constructor(opts: CollectionReaderOptions) {
    this._opts = opts;
    this._steps = new WallClockSteps(opts.clock);
  }

  /**
   * One collection from every producer, as the SDK's MetricReader.collect() merged them: the resource, and the
   * producers' scope metrics in order. A producer that fails is reported in `errors`; the others still count.
   */
  async collect(): Promise<{ resourceMetrics: ResourceMetrics; errors: unknown[] }> {
    const results = await Promise.allSettled(this._opts.metricProducers.map((p) => p.collect()));
    const resourceMetrics: ResourceMetrics = { resource: this._opts.resource, scopeMetrics: [] };
    const errors: unknown[] = [];
    for (const r of results) {
      if (r.status === 'rejected') errors.push(r.reason);
      else {
        resourceMetrics.scopeMetrics.push(...r.value.resourceMetrics.scopeMetrics);
        errors.push(...r.value.errors);
      }
    }
    return { resourceMetrics, errors };
  }

  /** Adds a subscriber under a unique name; returns a function that removes it. */
  subscribe(name: string, subscriber: CollectionSubscriber): () => void {
    this._subscribers.set(name, subscriber);
    return () => this._subscribers.delete(name);
  }

  get stats(): Readonly<CollectionStats> {
    return this._stats;
  }

  /** Starts the interval: the first cycle runs at once. */
  startSchedule(): void {
    if (this._timer !== undefined || this._stopped) return;
    this._nextDueMs = this._opts.clock.monotonicMs() + this._opts.intervalMs;
    void guardPromise(this._opts.logger, 'collection cycle', this.runCycle());
    this._arm(this._opts.intervalMs);
  }

  /** Stops scheduling cycles; runCycle() still works (for a final collection). */
  stopSchedule(): void {
    this._stopped = true;
    this._timer?.cancel();
    this._timer = undefined;
  }

  /**
   * Runs one cycle now, or joins the one in progress. Resolves with the batch, or undefined when the
   * reader is shut down or the collection failed.
   */
  runCycle(): Promise<CollectionBatch | undefined> {
    this._running ??= this._cycle().finally(() => {
      this._running = undefined;
    });
    return this._running;
  }

  /** Stops scheduling and waits for the cycle in progress; collect() still works after. */
  async shutdown(): Promise<void> {
    this._closed = true;
    this.stopSchedule();
    await this._running;
  }

  private _arm(delayMs: number): void {
    this._timer = this._opts.clock.setTimeout(
      guarded(this._opts.logger, 'collection timer', () => {
        this._timer = undefined;
        this._tick();
      }),
      delayMs,
    );
  }

  private _tick(): void {
    if (this._stopped) return;
    const clock = this._opts.clock;
    if (this._running !== undefined) {
      this._stats.overruns++;
    } else {
      void guardPromise(this._opts.logger, 'collection cycle', this.runCycle());
    }
    // Keep the phase: the next tick is one interval after this one was due, skipping missed ones.
    this._nextDueMs += this._opts.intervalMs;
    const now = clock.monotonicMs();
    if (this._nextDueMs <= now) {
      const missed = Math.floor((now - this._nextDueMs) / this._opts.intervalMs) + 1;
      this._nextDueMs += missed * this._opts.intervalMs;
    }
    this._arm(this._nextDueMs - now);
  }

  private async _cycle(): Promise<CollectionBatch | undefined> {
    const { clock, logger } = this._opts;
    const started = clock.monotonicMs();
    try {
      // Yields between the phases keep each uninterrupted stretch of the cycle short (docs/benchmarks.md).
      await this._opts.refresh();
      await yieldToEventLoop();
      const { resourceMetrics, errors } = await this.collect();
      await yieldToEventLoop();
      for (const err of errors) logger.warn('collection error', { error: errorMessage(err) });
      const timestampMs = clock.nowMs();
      const stepMs = this._steps.check(timestampMs);
      if (stepMs !== 0) logger.warn('the wall clock was stepped', { stepMs });
      const batch = new Batch(resourceMetrics, timestampMs, stepMs, this._opts.nameOf, this._keys);
      await deliverBatch(this._subscribers, batch, logger);
      batch.releaseSamples();
      this._stats.cycles++;
      this._stats.lastCollectionMs = timestampMs;
      return batch;
    } catch (err) {
      if (!this._closed) logger.error('collection failed', { error: errorMessage(err) });
      return undefined;
    } finally {
      this._stats.lastCycleMs = clock.monotonicMs() - started;
    }
  }
}

/** Hands `batch` to every subscriber at once; one that throws or rejects is logged, the others still run. */
export async function deliverBatch(
  subscribers: ReadonlyMap<string, CollectionSubscriber>,
  batch: CollectionBatch,
  logger: Logger,
): Promise<void> {
  const entries = [...subscribers];
  const results = await Promise.allSettled(entries.map(async ([, sub]) => sub(batch)));
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      logger.error('collection subscriber failed', {
        subscriber: entries[i]![0],
        error: errorMessage(r.reason),
      });
    }
  });
}

/**
 * A collection as handed to the subscribers. A class, not an object literal with a `samples` getter: a literal's
 * accessor is made anew at every collection and kept in the object's hidden class, which V8 allocates in the old
 * generation, so each collection's getter, and through it all its data, was held through the young-generation
 * collections until the next full one: promoted, about 20 KB/s at a 1 s interval, and the main cause of the
 * full collections every 20 s (docs/benchmarks.md). A getter on the prototype is made once.
 */
class Batch implements CollectionBatch {
  private _samples: Sample[] | undefined;

  constructor(
    readonly resourceMetrics: ResourceMetrics,
    readonly timestampMs: number,
    readonly clockStepMs: number,
    private readonly _nameOf: NameResolver,
    private readonly _keys: SeriesKeys,
  ) {}

  get samples(): readonly Sample[] {
    this._samples ??= toSamples(this.resourceMetrics, this.timestampMs, this._nameOf, this._keys);
    return this._samples;
  }

  /** Drops the samples once the subscribers have run; a later read makes them again. */
  releaseSamples(): void {
    this._samples = undefined;
  }
}
