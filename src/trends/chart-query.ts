/**
 * Chart data for the status page: each metric's series over a window at a chosen resolution (raw, 1-minute
 * or 1-hour rollups), counters and histogram observation counts as per-second rates (counterRate between
 * consecutive values: samples, or the last values of consecutive buckets), bounded in series per metric and
 * points per series (averaged server-side), so a page request reads a bounded amount whatever the window.
 * Between metrics it lets the event loop run (a page of every catalog metric takes tens of milliseconds).
 */
import { downsampleSeries } from '../lib/sparkline.js';
import { yieldToEventLoop } from '../lib/yield.js';
import type { Labels, MetricKind } from '../model/metric.js';
import { counterRate } from './history/rollup.js';
import type { HistoryReader, Resolution } from './history/types.js';

/** One chart line. */
export interface ChartWindow {
  metric: string;
  labels: Labels;
  kind: MetricKind;
  resolution: Resolution;
  /** Per second for counters and histograms (observations), as stored for gauges. */
  rate: boolean;
  t: Float64Array;
  v: Float64Array;
  /** Series of the metric left out by maxSeries. */
  omitted: number;
}

/** Per-second rates between consecutive samples (reset-aware), stamped at the later sample. */
export function rates(t: ArrayLike<number>, v: ArrayLike<number>): { t: Float64Array; v: Float64Array } {
  const n = Math.max(0, t.length - 1);
  const rt = new Float64Array(n);
  const rv = new Float64Array(n);
  for (let i = 1; i < t.length; i++) {
    rt[i - 1] = t[i]!;
    rv[i - 1] = counterRate(t[i - 1]!, v[i - 1]!, t[i]!, v[i]!);
  }
  return { t: rt, v: rv };
}

/** A gauge's rollup buckets drawn at their means (the stored `v` is each bucket's last value). */
function bucketMeans(r: { n: Float64Array; sum: Float64Array }): Float64Array {
  return r.sum.map((s, i) => s / r.n[i]!);
}

export async function chartWindows(
  reader: HistoryReader,
  metrics: readonly string[],
  window: { fromMs: number; toMs: number; resolution: Resolution },
  limits: { maxPoints: number; maxSeries: number },
): Promise<ChartWindow[]> {
  const out: ChartWindow[] = [];
  for (const [i, metric] of metrics.entries()) {
    // The store reads synchronously: one metric at a time, so that a scrape waits for one read, not a page.
    if (i > 0) await yieldToEventLoop();
    const windows = await reader.query(metric, {}, window.fromMs, window.toMs, {
      resolution: window.resolution,
    });
    const shown = windows.filter((w) => w.t.length > 0).slice(0, limits.maxSeries);
    const omitted = windows.filter((w) => w.t.length > 0).length - shown.length;
    for (const w of shown) {
      const rate = w.kind !== 'gauge';
      const series = rate
        ? rates(w.t, w.v)
        : { t: w.t, v: w.rollup === undefined ? w.v : bucketMeans(w.rollup) };
      const { t, v } = downsampleSeries(series.t, series.v, limits.maxPoints);
      out.push({ metric, labels: w.labels, kind: w.kind, resolution: w.resolution, rate, t, v, omitted });
    }
  }
  return out;
}
