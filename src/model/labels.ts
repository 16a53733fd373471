/**
 * Label sets as keys and as text: the identity of a series (a Map key on the hot paths of the alert engine
 * and the trend analysis, never written to disk) and Prometheus' text-exposition escaping of label values,
 * shared by the `/metrics` output and every place that shows a label set the way it is exported.
 */
import type { Labels } from './metric.js';

/**
 * Identity of a series: `metric` (pass '' when the labels alone identify it, e.g. an alert's labels that
 * hold the alertname) followed by every label sorted by name, `\0name\1value`. Built by concatenation,
 * no JSON: the alert rules compute it for every output series of every evaluation.
 */
export function seriesKey(metric: string, labels: Labels): string {
  // No label or one (most series of a collection): no key array to build and sort.
  let only: string | undefined;
  let count = 0;
  for (const n in labels) {
    if (!Object.hasOwn(labels, n)) continue;
    if (++count > 1) break;
    only = n;
  }
  if (only === undefined) return metric;
  if (count === 1) return `${metric}\u0000${only}\u0001${labels[only]}`;
  const names = Object.keys(labels);
  // Most label sets are built in name order already: sort (which copies the array) only when they are not.
  // Indexed loops: under --lite-mode a for-of step allocates, and this runs for every series of a collection.
  for (let i = 1; i < names.length; i++) {
    if (names[i - 1]! > names[i]!) {
      names.sort();
      break;
    }
  }
  let key = metric;
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    key += `\u0000${n}\u0001${labels[n]}`;
  }
  return key;
}

/**
 * The seriesKey of a series by its metric and labels object, built once per series rather than by every
 * consumer in every collection (history, anomaly scores, forecasts and the alert window each look a series up
 * by it). The collection hands out the same labels object for a series collection after collection (the
 * point producer keeps them, telemetry/point-producer.ts), and label objects are never changed once made
 * (Labels is read-only), so the object identifies its key; a new object is keyed anew and the old entry goes
 * with it (weakly held).
 */
export class SeriesKeys {
  private readonly _byMetric = new Map<string, WeakMap<Labels, string>>();

  of(metric: string, labels: Labels): string {
    let keys = this._byMetric.get(metric);
    if (keys === undefined) {
      keys = new WeakMap();
      this._byMetric.set(metric, keys);
    }
    let key = keys.get(labels);
    if (key === undefined) {
      key = seriesKey(metric, labels);
      keys.set(labels, key);
    }
    return key;
  }
}

/** A sample's seriesKey: the one its collection attached, else built. */
export function sampleKey(sample: { metric: string; labels: Labels; key?: string }): string {
  return sample.key ?? seriesKey(sample.metric, sample.labels);
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** A label value as the Prometheus text exposition writes it between quotes: `\`, newline and `"` escaped. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * `{k="v",k2="v2"}` in the labels' own order, values escaped as in the exposition; `separator` between the
 * pairs, `empty` for no labels.
 */
export function labelsText(labels: Labels, separator = ',', empty = '{}'): string {
  let out = '';
  for (const [k, v] of Object.entries(labels))
    out += `${out === '' ? '' : separator}${k}="${escapeLabelValue(v)}"`;
  return out === '' ? empty : `{${out}}`;
}
