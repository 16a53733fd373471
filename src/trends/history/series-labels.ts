/**
 * Label sets as the history file stores them: the canonical text of a series' labels (its identity in the
 * `series` table, so it never changes), the matching of a query's labels, and a histogram bucket's part name.
 */
import type { Labels } from '../../model/metric.js';

/** The labels as JSON with the names sorted: the stored identity of a series' label set. */
export function canonicalLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  const o: Record<string, string> = {};
  for (const k of keys) o[k] = labels[k]!;
  return JSON.stringify(o);
}

/** Whether `labels` hold every label of `want` with its value. */
export function matches(labels: Labels, want: Labels): boolean {
  for (const [k, v] of Object.entries(want)) if (labels[k] !== v) return false;
  return true;
}

/** The `le` text of a bucket's upper bound (undefined: the +Inf bucket). */
export function leText(bound: number | undefined): string {
  return bound === undefined ? '+Inf' : String(bound);
}
