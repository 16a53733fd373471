/**
 * The Node.js runtime of the process the agent runs in: event-loop delay (perf_hooks
 * monitorEventLoopDelay, median and 99th percentile since the previous collection), event-loop
 * utilization since the previous collection, V8 heap used and total, and garbage-collection pauses by
 * kind (a PerformanceObserver on 'gc' entries, recorded into a histogram table).
 */
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { EventLoopUtilization, ELDHistogram, PerformanceObserverEntryList } from 'node:perf_hooks';
import { loadedNodeV8 } from '../../lib/builtins.js';
import { guarded, promiseOf } from '../../lib/guard.js';
import type { Probe, Snapshot } from '../probe.js';
import type { MetricPoint } from '../../model/metric.js';
import type { SeriesTable } from '../../telemetry/series-table.js';

export const RUNTIME_METRICS = [
  'nodejs_eventloop_delay_p50_seconds',
  'nodejs_eventloop_delay_p99_seconds',
  'nodejs_eventloop_utilization',
  'nodejs_gc_duration_seconds',
  'nodejs_heap_used_bytes',
  'nodejs_heap_total_bytes',
] as const;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface RuntimeProbeOptions {
  /** Metrics to report (catalog names); the others are not measured at all. */
  enabled: ReadonlySet<string>;
  /** The GC histogram's table, when nodejs_gc_duration_seconds is enabled. */
  gcTable?: SeriesTable;
  /** Event-loop delay sampling resolution. */
  resolutionMs?: number;
}

export class RuntimeProbe implements Probe {
  readonly name = 'runtime';
  private readonly _opts: RuntimeProbeOptions;
  private _delay: ELDHistogram | undefined;
  private _elu: EventLoopUtilization | undefined;
  /** The event-loop delay percentiles of the last collection that had samples, in seconds. */
  private _lastDelay: { p50: number; p99: number } | undefined;
  private _gc: PerformanceObserver | undefined;

  constructor(opts: RuntimeProbeOptions) {
    this._opts = opts;
  }

  start(): Promise<void> {
    const on = this._opts.enabled;
    if (
      this._delay === undefined &&
      (on.has('nodejs_eventloop_delay_p50_seconds') || on.has('nodejs_eventloop_delay_p99_seconds'))
    ) {
      this._delay = monitorEventLoopDelay({ resolution: this._opts.resolutionMs ?? 10 });
      this._delay.enable();
    }
    if (on.has('nodejs_eventloop_utilization')) this._elu = performance.eventLoopUtilization();
    const table = this._opts.gcTable;
    if (table !== undefined && this._gc === undefined) {
      this._gc = new PerformanceObserver(
        guarded(undefined, 'gc observer', (list: PerformanceObserverEntryList) => {
          for (const e of list.getEntries()) {
            const kind =
              GC_KINDS[((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind ?? -1] ??
              'other';
            const series = table.get3(kind, '', '') ?? table.create([kind]);
            table.observe(series, e.duration / 1000);
          }
        }),
      );
      this._gc.observe({ entryTypes: ['gc'] });
    }
    return Promise.resolve();
  }

  collect(): Promise<Snapshot> {
    return promiseOf(() => this.collectSync());
  }

  /** Reads counters the runtime keeps in memory: never waits (Probe.collectSync). */
  collectSync(): Snapshot {
    const on = this._opts.enabled;
    const points: MetricPoint[] = [];
    const d = this._delay;
    if (d !== undefined && d.count > 0) {
      this._lastDelay = { p50: d.percentile(50) / 1e9, p99: d.percentile(99) / 1e9 };
      d.reset();
    }
    // No sample since the previous collection (the daemon samples once a second, which can fall between two
    // collections at a 1 s interval): the last values stand, rather than the series flickering out.
    const delay = d === undefined ? undefined : this._lastDelay;
    if (delay !== undefined) {
      if (on.has('nodejs_eventloop_delay_p50_seconds'))
        points.push({ metric: 'nodejs_eventloop_delay_p50_seconds', labels: {}, value: delay.p50 });
      if (on.has('nodejs_eventloop_delay_p99_seconds'))
        points.push({ metric: 'nodejs_eventloop_delay_p99_seconds', labels: {}, value: delay.p99 });
    }
    if (this._elu !== undefined) {
      const now = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(now, this._elu);
      this._elu = now;
      points.push({ metric: 'nodejs_eventloop_utilization', labels: {}, value: delta.utilization });
    }
    if (on.has('nodejs_heap_used_bytes') || on.has('nodejs_heap_total_bytes')) {
      // The same two figures (V8's used_heap_size and total_heap_size); v8's call skips the RSS and external
      // memory that process.memoryUsage() also reads (85 against 19 µs per call at a 1 s interval).
      const v8 = loadedNodeV8();
      let used: number;
      let total: number;
      if (v8 !== undefined) {
        const h = v8.getHeapStatistics();
        used = h.used_heap_size;
        total = h.total_heap_size;
      } else {
        const m = process.memoryUsage();
        used = m.heapUsed;
        total = m.heapTotal;
      }
      if (on.has('nodejs_heap_used_bytes'))
        points.push({ metric: 'nodejs_heap_used_bytes', labels: {}, value: used });
      if (on.has('nodejs_heap_total_bytes'))
        points.push({ metric: 'nodejs_heap_total_bytes', labels: {}, value: total });
    }
    return { status: 'ok', points };
  }

  shutdown(): Promise<void> {
    this._delay?.disable();
    this._delay = undefined;
    this._lastDelay = undefined;
    this._gc?.disconnect();
    this._gc = undefined;
    this._elu = undefined;
    return Promise.resolve();
  }
}
