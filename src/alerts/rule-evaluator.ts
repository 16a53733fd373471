/**
 * Evaluates one compiled rule's expression at one time over the sample window: one value per output series,
 * before the threshold is applied, with the labels PromQL would give the result (metric name and `le`
 * dropped). Selections are cached per rule and refreshed when the metric's series set changes.
 */
import { seriesKey } from '../model/labels.js';
import type { Labels } from '../model/metric.js';
import { bucketQuantile } from '../model/quantile.js';
import type { Bucket } from '../model/quantile.js';
import {
  avgOverTime,
  extrapolatedRate,
  maxOverTime,
  minOverTime,
  quantileOverTime,
} from './promql-functions.js';
import type { CompiledRule } from './rules.js';
import type { MutableRange, SampleWindow, StoredSeries } from './sample-window.js';

/** The output of one evaluation: `labels[i]` has `values[i]`, for i < length. Reused between evaluations. */
export interface RuleValues {
  labels: Labels[];
  values: number[];
  length: number;
}

interface BucketGroup {
  labels: Labels;
  buckets: { series: StoredSeries; upperBound: number }[];
}

interface Selection {
  version: number;
  version2: number;
  series: StoredSeries[];
  /** histogram_mean: the `_count` series matching each `_sum` series (same index). */
  partners: (StoredSeries | undefined)[];
  groups: BucketGroup[];
}

function matches(s: StoredSeries, matchers: CompiledRule['matchers']): boolean {
  for (const [name, value] of matchers) if ((s.labels[name] ?? '') !== value) return false;
  return true;
}

function withoutLe(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k !== 'le') out[k] = v;
  return out;
}

export class RuleEvaluator {
  private readonly _rule: CompiledRule;
  private _selection: Selection | undefined;
  private _cachedAt: { t: number; generation: number } | undefined;
  private readonly _out: RuleValues = { labels: [], values: [], length: 0 };
  private readonly _scratch: MutableRange = { times: [], values: [], from: 0, to: 0 };
  private readonly _sortBuffer = { buf: new Float64Array(0) };

  constructor(rule: CompiledRule) {
    this._rule = rule;
  }

  /**
   * The expression's value for every output series at `t` (ms). Rules with the same value expression share
   * one evaluator, so the result is kept until the time or the store's data changes.
   */
  evaluate(store: SampleWindow, t: number): RuleValues {
    const c = this._cachedAt;
    if (c !== undefined && c.t === t && c.generation === store.generation) return this._out;
    this._cachedAt = undefined;
    this._out.length = 0;
    this._evaluate(store, t);
    this._cachedAt = { t, generation: store.generation };
    return this._out;
  }

  private _push(labels: Labels, value: number): void {
    const o = this._out;
    o.labels[o.length] = labels;
    o.values[o.length] = value;
    o.length++;
  }

  private _evaluate(store: SampleWindow, t: number): void {
    const r = this._rule;
    const sel = this._select(store);
    const from = t - r.rangeMs;
    switch (r.fn) {
      case 'instant':
        for (const s of sel.series) {
          const v = s.instant(t);
          if (v !== undefined) this._push(s.labels, v);
        }
        break;
      case 'histogram_quantile':
        for (const g of sel.groups) {
          const buckets: Bucket[] = [];
          for (const b of g.buckets) {
            const v = extrapolatedRate(b.series.range(from, t), r.rangeMs, t, true);
            if (v !== undefined) buckets.push({ upperBound: b.upperBound, count: v });
          }
          if (buckets.length > 0) this._push(g.labels, bucketQuantile(r.quantile, buckets));
        }
        break;
      case 'histogram_mean':
        sel.series.forEach((sum, i) => {
          const count = sel.partners[i];
          if (count === undefined) return;
          const a = extrapolatedRate(sum.range(from, t), r.rangeMs, t, true);
          const b = extrapolatedRate(count.range(from, t), r.rangeMs, t, true);
          if (a !== undefined && b !== undefined) this._push(sum.labels, a / b);
        });
        break;
      default:
        for (const s of sel.series) {
          const v = this._overTime(s, from, t);
          if (v !== undefined) this._push(s.labels, v);
        }
    }
  }

  private _overTime(s: StoredSeries, from: number, t: number): number | undefined {
    const r = this._rule;
    const points = s.rangeInto(from, t, this._scratch);
    switch (r.fn) {
      case 'avg_over_time':
        return avgOverTime(points);
      case 'max_over_time':
        return maxOverTime(points);
      case 'min_over_time':
        return minOverTime(points);
      case 'quantile_over_time':
        return quantileOverTime(r.quantile, points, this._sortBuffer);
      case 'rate':
        return extrapolatedRate(points, r.rangeMs, t, true);
      case 'increase':
        return extrapolatedRate(points, r.rangeMs, t, false);
      default:
        return undefined;
    }
  }

  private _select(store: SampleWindow): Selection {
    const r = this._rule;
    const name = r.fn === 'histogram_mean' ? `${r.metric.name}_sum` : r.seriesName;
    const name2 = r.fn === 'histogram_mean' ? `${r.metric.name}_count` : name;
    const version = store.version(name);
    const version2 = store.version(name2);
    const cached = this._selection;
    if (cached !== undefined && cached.version === version && cached.version2 === version2) return cached;
    const series = store.seriesOf(name).filter((s) => matches(s, r.matchers));
    const sel: Selection = { version, version2, series, partners: [], groups: [] };
    if (r.fn === 'histogram_mean') {
      const counts = new Map(
        store
          .seriesOf(name2)
          .filter((s) => matches(s, r.matchers))
          .map((s) => [seriesKey('', s.labels), s]),
      );
      sel.partners = series.map((s) => counts.get(seriesKey('', s.labels)));
    }
    if (r.fn === 'histogram_quantile') {
      const groups = new Map<string, BucketGroup>();
      for (const s of series) {
        const le = s.labels.le;
        if (le === undefined) continue;
        const labels = withoutLe(s.labels);
        const key = seriesKey('', labels);
        let g = groups.get(key);
        if (g === undefined) {
          g = { labels, buckets: [] };
          groups.set(key, g);
        }
        g.buckets.push({ series: s, upperBound: parseLe(le) });
      }
      sel.groups = [...groups.values()];
    }
    this._selection = sel;
    return sel;
  }
}

function parseLe(le: string): number {
  if (le === '+Inf' || le === 'Inf' || le === '+inf' || le === 'inf') return Infinity;
  return Number(le);
}
