/**
 * Batch detection: a fresh detector of the configured kind run along a stored window (the anomalies API over
 * the stored history), as the online detectors would have scored it.
 */
import { SeriesDetector } from './anomaly.js';
import type { DetectorSettings } from './anomaly.js';
import { counterRate } from './history/rollup.js';
import type { SeriesWindow } from './history/types.js';

/** One point a batch detection flagged. */
export interface DetectedAnomaly {
  metric: string;
  labels: Readonly<Record<string, string>>;
  timestampMs: number;
  value: number;
  score: number;
  expected: [number, number];
}

/** Runs a fresh detector along a window of samples (counters as rates); returns the flagged points. */
export function detectInWindow(w: SeriesWindow, settings: DetectorSettings): DetectedAnomaly[] {
  const d = new SeriesDetector(settings);
  const out: DetectedAnomaly[] = [];
  // A stored histogram window has no per-sample sums to score; only the online detector scores histograms.
  if (w.kind === 'histogram') return out;
  for (let i = 0; i < w.t.length; i++) {
    let x = w.v[i]!;
    if (w.kind === 'counter') {
      if (i === 0) continue;
      x = counterRate(w.t[i - 1]!, w.v[i - 1]!, w.t[i]!, x);
    }
    const r = d.update(w.t[i]!, x);
    if (r.flag && r.expected !== undefined)
      out.push({
        metric: w.metric,
        labels: w.labels,
        timestampMs: w.t[i]!,
        value: x,
        score: r.score,
        expected: r.expected,
      });
  }
  return out;
}
