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

/** Time buckets a forecast window is divided into: the memory of one forecast, whatever the collection rate. */
export const FORECAST_BUCKETS = 360;

/**
 * The least-squares line of one series over the last `windowMs`, in memory that does not grow with the
 * collection rate: the window is divided into FORECAST_BUCKETS time buckets, each keeping the running sums
 * of its samples (count, Σx, Σx², Σy, Σxy, x measured from the bucket's start), so an add is O(1) and a fit
 * reads the buckets, not the samples. The fit equals linearFit over the samples of the buckets that overlap
 * the window: the window's start is resolved to one bucket (1/360 of the window; 1 minute of a 6-hour window).
 */
export class SeriesForecaster {
  private readonly _windowMs: number;
  private readonly _bucketMs: number;
  /** Per slot: the bucket number held (floor(t / bucketMs)), or NaN when empty. */
  private readonly _key: Float64Array;
  private readonly _n: Float64Array;
  private readonly _sx: Float64Array;
  private readonly _sxx: Float64Array;
  private readonly _sy: Float64Array;
  private readonly _sxy: Float64Array;
  /** Values are summed relative to the first one, so that large values with small changes keep their precision. */
  private _y0 = NaN;
  /** The latest sample time, in the buckets' time (the wall clock minus the steps shift() was told of). */
  private _latestMs = -Infinity;
  private _shiftMs = 0;
  /** The window's first and last bucket keys, set by _windowKeys() for the pass that reads them. */
  private _lo = NaN;
  private _hi = NaN;
  /** The buckets of the window before its latest, combined by _combineEarlier for the window [lo, hi]. */
  private _earlierLo = NaN;
  private _earlierHi = NaN;
  private _earlierN = 0;
  private _earlierMx = 0;
  private _earlierMy = 0;
  private _earlierSxx = 0;
  private _earlierSxy = 0;
  /** The start of the oldest bucket in the window, in the buckets' time: x is measured from it. */
  private _origin = 0;

  constructor(windowMs: number, buckets = FORECAST_BUCKETS) {
    this._windowMs = windowMs;
    this._bucketMs = Math.max(1, Math.ceil(windowMs / buckets));
    // Buckets overlapping a window: ceil(window / bucket) + 1; one more slot keeps the ring simple.
    const slots = Math.ceil(windowMs / this._bucketMs) + 2;
    this._key = new Float64Array(slots).fill(NaN);
    this._n = new Float64Array(slots);
    this._sx = new Float64Array(slots);
    this._sxx = new Float64Array(slots);
    this._sy = new Float64Array(slots);
    this._sxy = new Float64Array(slots);
  }

  add(wallMs: number, v: number): void {
    if (!Number.isFinite(v) || !Number.isFinite(wallMs)) return;
    const tMs = wallMs - this._shiftMs;
    if (tMs > this._latestMs) this._latestMs = tMs;
    const key = Math.floor(tMs / this._bucketMs);
    if (!this._overlapsWindow(key)) return;
    if (Number.isNaN(this._y0)) this._y0 = v;
    const slot = this._slotOf(key);
    // A sample in a bucket the combined earlier buckets hold (a late one) makes them stale.
    if (key !== this._earlierHi) this._earlierLo = NaN;
    if (this._key[slot] !== key) {
      this._key[slot] = key;
      this._n[slot] = 0;
      this._sx[slot] = 0;
      this._sxx[slot] = 0;
      this._sy[slot] = 0;
      this._sxy[slot] = 0;
    }
    const x = (tMs - key * this._bucketMs) / 1000;
    const y = v - this._y0;
    this._n[slot]! += 1;
    this._sx[slot]! += x;
    this._sxx[slot]! += x * x;
    this._sy[slot]! += y;
    this._sxy[slot]! += x * y;
  }

  /** Moves the samples kept by `deltaMs` (the wall clock was stepped). */
  shift(deltaMs: number): void {
    if (Number.isFinite(deltaMs)) this._shiftMs += deltaMs;
    this._earlierLo = NaN;
  }

  /** Samples in the buckets that overlap the window. */
  get size(): number {
    this._windowKeys();
    const lo = this._lo;
    const hi = this._hi;
    let n = 0;
    for (let i = 0; i < this._key.length; i++) {
      const key = this._key[i]!;
      if (key >= lo && key <= hi) n += this._n[i]!;
    }
    return n;
  }

  /**
   * The line through the window's samples; the fitted value is given at `atMs` (default: the latest sample).
   * Runs every collection (the forecast is exported): the buckets before the latest one are combined once per
   * bucket (_combineEarlier) and the latest is added to them here, with the pairwise update of centred sums
   * (Chan, Golub and LeVeque), so a fit reads one bucket rather than all of them.
   */
  fit(atMs?: number): LinearFit | undefined {
    this._windowKeys();
    const lo = this._lo;
    const hi = this._hi;
    if (Number.isNaN(hi)) return undefined;
    if (this._earlierLo !== lo || this._earlierHi !== hi) this._combineEarlier(lo, hi);
    // The latest bucket (it holds the latest sample), centred on its own means.
    const slot = this._slotOf(hi);
    const nB = this._key[slot] === hi ? this._n[slot]! : 0;
    let n = this._earlierN;
    let mx = this._earlierMx;
    let my = this._earlierMy;
    let sxx = this._earlierSxx;
    let sxy = this._earlierSxy;
    if (nB > 0) {
      const sxB = this._sx[slot]!;
      const syB = this._sy[slot]!;
      const mxB = sxB / nB + (hi * this._bucketMs - this._origin) / 1000;
      const myB = syB / nB;
      const sxxB = this._sxx[slot]! - (sxB * sxB) / nB;
      const sxyB = this._sxy[slot]! - (sxB * syB) / nB;
      if (n === 0) {
        mx = mxB;
        my = myB;
        sxx = sxxB;
        sxy = sxyB;
      } else {
        const total = n + nB;
        const dx = mxB - mx;
        const dy = myB - my;
        const w = (n * nB) / total;
        sxx += sxxB + dx * dx * w;
        sxy += sxyB + dx * dy * w;
        mx += (dx * nB) / total;
        my += (dy * nB) / total;
      }
      n += nB;
    }
    if (n < 2) return undefined;
    // All samples at one instant (rounding may leave a trace of spread): no line.
    if (!(sxx > 1e-12 * (mx * mx + 1) * n)) return undefined;
    const slope = sxy / sxx;
    const at = atMs === undefined ? this._latestMs : atMs - this._shiftMs;
    return {
      slope,
      value: this._y0 + my + slope * ((at - this._origin) / 1000 - mx),
      atMs: at + this._shiftMs,
    };
  }

  private _slotOf(key: number): number {
    const slots = this._key.length;
    return ((key % slots) + slots) % slots;
  }

  /**
   * Combines the buckets of the window [lo, hi] other than the latest (hi) into count, means and centred sums,
   * x in seconds from the oldest bucket's start (_origin); valid until the window's ends move or a sample
   * lands in one of them (add() then forgets it).
   */
  private _combineEarlier(lo: number, hi: number): void {
    const slots = this._key.length;
    let oldest = hi;
    for (let i = 0; i < slots; i++) {
      const key = this._key[i]!;
      if (key >= lo && key < oldest) oldest = key;
    }
    const origin = oldest * this._bucketMs;
    let n = 0;
    let sx = 0;
    let sy = 0;
    // First the means, then the centred sums (no cancellation).
    for (let i = 0; i < slots; i++) {
      const key = this._key[i]!;
      if (!(key >= lo && key < hi)) continue;
      const c = (key * this._bucketMs - origin) / 1000;
      n += this._n[i]!;
      sx += this._sx[i]! + this._n[i]! * c;
      sy += this._sy[i]!;
    }
    const mx = n > 0 ? sx / n : 0;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < slots; i++) {
      const key = this._key[i]!;
      if (!(key >= lo && key < hi)) continue;
      const d = (key * this._bucketMs - origin) / 1000 - mx;
      sxx += this._sxx[i]! + 2 * d * this._sx[i]! + this._n[i]! * d * d;
      sxy += this._sxy[i]! + d * this._sy[i]!;
    }
    this._origin = origin;
    this._earlierN = n;
    this._earlierMx = mx;
    this._earlierMy = n > 0 ? sy / n : 0;
    this._earlierSxx = sxx;
    this._earlierSxy = sxy;
    this._earlierLo = lo;
    this._earlierHi = hi;
  }

  /**
   * Sets _lo and _hi to the first and last bucket keys that overlap the window, as _overlapsWindow decides
   * (bucket keys are whole numbers and its test is monotonic in them): NaN before any sample, so that nothing
   * overlaps. Fields, not a returned pair: destructuring allocates an iterator under --lite-mode.
   */
  private _windowKeys(): void {
    const b = this._bucketMs;
    const latest = this._latestMs;
    const start = latest - this._windowMs;
    if (!Number.isFinite(latest)) {
      this._lo = NaN;
      this._hi = NaN;
      return;
    }
    let hi = Math.floor(latest / b);
    // The division rounds; the products decide, as in _overlapsWindow.
    while (!(hi * b <= latest)) hi--;
    while ((hi + 1) * b <= latest) hi++;
    let lo = -Infinity;
    if (Number.isFinite(start)) {
      lo = Math.floor(start / b);
      while ((lo + 1) * b > start) lo--;
      while (!((lo + 1) * b > start)) lo++;
    }
    this._lo = lo;
    this._hi = hi;
  }

  private _overlapsWindow(key: number): boolean {
    // NaN (an empty slot) compares false.
    return (
      (key + 1) * this._bucketMs > this._latestMs - this._windowMs && key * this._bucketMs <= this._latestMs
    );
  }
}
