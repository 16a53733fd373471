/**
 * The Numenta Anomaly Benchmark's windowed scoring, written from its published definition (Lavin & Ahmad,
 * "Evaluating Real-time Anomaly Detection Algorithms – the Numenta Anomaly Benchmark", 2015, and the NAB
 * scoring description):
 *  - each labelled anomaly gets a window of floor(0.10 · length / anomalies) points centred on it
 *    (overlapping windows merge);
 *  - the first min(floor(0.15 · length), 750) points are the probationary period: detections there count
 *    for nothing;
 *  - a detection at relative position y is worth σ(y) = 2 / (1 + e^(5y)) − 1 (and −1 for y > 3); inside a
 *    window y = −(right − i + 1) / width (−1 at its start, near 0 at its end) and only the first detection
 *    of the window counts, as A_TP · σ(y) / σ(−1); outside, y = |i − right of the previous window| /
 *    (width of that window − 1), or −1 before any window, counting A_FP · σ(y) (negative);
 *  - a window without detection counts −A_FN.
 * The normalised score is 100 · (raw − null) / (perfect − null), where the null detector flags nothing
 * (−A_FN per window) and the perfect one flags each window's first point (A_TP per window).
 *
 * Plain ESM JavaScript, used by anomaly-quality.js and unit-tested in test/unit/trends/nab-score.test.ts.
 */

/** NAB's application profiles: weights of true positives, false positives and false negatives. */
export const PROFILES = {
  standard: { tp: 1.0, fp: 0.11, fn: 1.0 },
  reward_low_fp: { tp: 1.0, fp: 0.22, fn: 1.0 },
  reward_low_fn: { tp: 1.0, fp: 0.11, fn: 2.0 },
};

/** σ(y) = 2 / (1 + e^(5y)) − 1, and −1 past three window widths. */
export function scaledSigmoid(y) {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/** Points at the start that do not count. */
export function probationaryPeriod(length) {
  return Math.min(Math.floor(0.15 * length), 750);
}

/**
 * Windows [start, end] (inclusive point indices) around the labelled anomaly indices, overlapping ones merged.
 */
export function anomalyWindows(length, anomalyIndices) {
  if (anomalyIndices.length === 0) return [];
  const width = Math.floor((0.1 * length) / anomalyIndices.length);
  const out = [];
  for (const a of [...anomalyIndices].sort((x, y) => x - y)) {
    const start = Math.max(0, a - Math.floor(width / 2));
    const end = Math.min(length - 1, a + Math.floor(width / 2));
    const last = out[out.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/**
 * Raw NAB score of one series: `detections` is a boolean array (one per point), `windows` from
 * anomalyWindows. Returns the score and its parts.
 */
export function scoreSeries(detections, windows, profile = PROFILES.standard) {
  const length = detections.length;
  const probation = probationaryPeriod(length);
  const maxTP = scaledSigmoid(-1);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let fpCount = 0;
  let w = 0;
  let prev; // the previous window, once passed
  const hit = windows.map(() => false);
  for (let i = 0; i < length; i++) {
    while (w < windows.length && i > windows[w][1]) prev = windows[w++];
    if (!detections[i] || i < probation) continue;
    const cur = windows[w];
    if (cur !== undefined && i >= cur[0] && i <= cur[1]) {
      if (hit[w]) continue;
      hit[w] = true;
      const width = cur[1] - cur[0] + 1;
      tp += (profile.tp * scaledSigmoid(-(cur[1] - i + 1) / width)) / maxTP;
    } else {
      const y = prev === undefined ? -1 : Math.abs(prev[1] - i) / (prev[1] - prev[0]);
      fp += profile.fp * (prev === undefined ? -1 : scaledSigmoid(y));
      fpCount++;
    }
  }
  for (const h of hit) if (!h) fn -= profile.fn;
  return { score: tp + fp + fn, tp, fp, fn, detected: hit.filter(Boolean).length, fpCount };
}

/** Normalised score over several series: 100 · (raw − null) / (perfect − null). */
export function normalisedScore(raw, windowCount, profile = PROFILES.standard) {
  const nullScore = -profile.fn * windowCount;
  const perfect = profile.tp * windowCount;
  return (100 * (raw - nullScore)) / (perfect - nullScore);
}
