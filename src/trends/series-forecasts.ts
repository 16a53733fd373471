/**
 * The trend service's live forecasts: one SeriesForecaster per forecast spec and series, fed every collection,
 * its state (time to the threshold at the current trend) kept for the status API and exported as
 * forecast_seconds_to_threshold.
 */
import type { TrendAnalysisConfig } from '../config/schema.js';
import type { MetricPoint } from '../model/metric.js';
import { SeriesForecaster, secondsToThreshold } from './forecast.js';

export type ForecastSpec = TrendAnalysisConfig['forecasts'][number];

export interface ForecastState {
  metric: string;
  labels: Readonly<Record<string, string>>;
  threshold: number;
  direction: 'up' | 'down';
  window: string;
  /** Seconds until the threshold (Infinity: never at the current trend). */
  secondsToThreshold: number;
  /** Units per second. */
  slope: number;
  value: number;
  timestampMs: number;
}

interface Forecasted {
  f: SeriesForecaster;
  state: ForecastState | undefined;
  lastT: number;
  /** The exported point's labels (the series' labels and `metric`), built once. */
  pointLabels?: Readonly<Record<string, string>>;
}

export class SeriesForecasts {
  /** By spec, then by series (seriesKey): no key text is built per collection. */
  private readonly _bySpec = new Map<ForecastSpec, Map<string, Forecasted>>();

  /** Adds a sample of `series` (its seriesKey) to the forecast of `spec` and refits it. */
  add(
    spec: ForecastSpec,
    series: string,
    metric: string,
    labels: Readonly<Record<string, string>>,
    t: number,
    v: number,
  ): void {
    let bySeries = this._bySpec.get(spec);
    if (bySeries === undefined) {
      bySeries = new Map();
      this._bySpec.set(spec, bySeries);
    }
    let f = bySeries.get(series);
    if (f === undefined) {
      f = { f: new SeriesForecaster(spec.window.ms), state: undefined, lastT: t };
      bySeries.set(series, f);
    }
    if (t > f.lastT) f.lastT = t;
    f.f.add(t, v);
    const fit = f.f.fit(t);
    if (fit === undefined) return;
    f.state = {
      metric,
      labels,
      threshold: spec.threshold,
      direction: spec.direction,
      window: spec.window.text,
      secondsToThreshold: secondsToThreshold(fit, spec.threshold, spec.direction),
      slope: fit.slope,
      value: v,
      timestampMs: t,
    };
  }

  /** The wall clock was stepped by `deltaMs`: the kept samples move with it. */
  shift(deltaMs: number): void {
    this._bySpec.forEach((bySeries) =>
      bySeries.forEach((f) => {
        f.f.shift(deltaMs);
        f.lastT += deltaMs;
      }),
    );
  }

  /** Forgets the series last collected before `beforeMs`. */
  forget(beforeMs: number): void {
    for (const bySeries of this._bySpec.values())
      for (const [key, f] of bySeries) if (f.lastT < beforeMs) bySeries.delete(key);
  }

  states(): ForecastState[] {
    const out: ForecastState[] = [];
    this._bySpec.forEach((bySeries) =>
      bySeries.forEach((f) => {
        if (f.state !== undefined) out.push(f.state);
      }),
    );
    return out;
  }

  /** forecast_seconds_to_threshold of every series with a fit, labelled metric + the series' labels. */
  points(out: MetricPoint[]): void {
    this._bySpec.forEach((bySeries) =>
      bySeries.forEach((f) => {
        const s = f.state;
        if (s === undefined) return;
        const labels = (f.pointLabels ??= { ...s.labels, metric: s.metric });
        out.push({ metric: 'forecast_seconds_to_threshold', labels, value: s.secondsToThreshold });
      }),
    );
  }
}
