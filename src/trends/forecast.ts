/**
 * Linear forecasts, as Prometheus' predict_linear does: a least-squares line through the samples of a
 * window, and the time until that line reaches a threshold ("disk full in 9 h").
 */

export interface LinearFit {
  /** Units per second. */
  slope: number;
  /** Fitted value at `atMs`. */
  value: number;
  atMs: number;
}

/** Least-squares fit of v over t (ms); the fitted value is given at `atMs` (default: the last sample). */
export function linearFit(t: ArrayLike<number>, v: ArrayLike<number>, atMs?: number): LinearFit | undefined {
  const n = t.length;
  if (n < 2) return undefined;
  const t0 = t[0]!;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += (t[i]! - t0) / 1000;
    sy += v[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (t[i]! - t0) / 1000 - mx;
    sxy += dx * (v[i]! - my);
    sxx += dx * dx;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const at = atMs ?? t[n - 1]!;
  return { slope, value: my + slope * ((at - t0) / 1000 - mx), atMs: at };
}

/**
 * Seconds from `fit.atMs` until the line reaches `threshold`: 0 when it is already there, Infinity when
 * the line is flat or moves away from it.
 */
export function secondsToThreshold(
  fit: LinearFit,
  threshold: number,
  direction: 'up' | 'down' = 'up',
): number {
  const beyond = direction === 'up' ? fit.value >= threshold : fit.value <= threshold;
  if (beyond) return 0;
  const towards = direction === 'up' ? fit.slope > 0 : fit.slope < 0;
  if (!towards) return Infinity;
  return (threshold - fit.value) / fit.slope;
}

/** Keeps the samples of the last `windowMs` of one series and fits them on demand. */
export class SeriesForecaster {
  private readonly _windowMs: number;
  private _t: number[] = [];
  private _v: number[] = [];
  private _start = 0;

  constructor(windowMs: number) {
    this._windowMs = windowMs;
  }

  add(tMs: number, v: number): void {
    if (!Number.isFinite(v)) return;
    this._t.push(tMs);
    this._v.push(v);
    while (this._start < this._t.length && this._t[this._start]! < tMs - this._windowMs) this._start++;
    // Compact once the dropped prefix is as long as the live part.
    if (this._start > 64 && this._start * 2 > this._t.length) {
      this._t = this._t.slice(this._start);
      this._v = this._v.slice(this._start);
      this._start = 0;
    }
  }

  /** Moves the samples kept by `deltaMs` (the wall clock was stepped). */
  shift(deltaMs: number): void {
    for (let i = 0; i < this._t.length; i++) this._t[i]! += deltaMs;
  }

  get size(): number {
    return this._t.length - this._start;
  }

  fit(atMs?: number): LinearFit | undefined {
    return linearFit(this._t.slice(this._start), this._v.slice(this._start), atMs);
  }
}
