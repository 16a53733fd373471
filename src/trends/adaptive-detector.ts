/**
 * The `adaptive` anomaly detector: O(1) per value, a few dozen numbers of state per series. It predicts each
 * value from a robust level (an EWMA whose updates are clipped at ±2.5 spreads, so a spike does not move
 * it) plus, once two days show a daily pattern, the hour-of-day profile (interpolated between hour
 * centres), and scores the value with the largest of six checks, each in z-score units:
 *  - spike:      |x − prediction| / spread (spread: an EWMA of the clipped absolute residual, as a σ);
 *  - level shift: after SHIFT_RUN values in a row beyond 3 spreads on one side the level jumps to the new
 *                value, so a shift is flagged for a few values and then becomes the new normal;
 *  - drift:      |level − reference| / spread, the reference being an EWMA about 10 times slower;
 *  - slow drift: a least-squares line through the means of the last TREND_BLOCKS blocks of W/12 values (clipped
 *                like the level, so a spike does not tilt it), tested when a block closes: when its slope is
 *                TREND_T standard errors from 0 and the line explains the blocks better than any single step
 *                between them, the score is TREND_SCALE · the fitted change over the blocks / max(spread,
 *                wander) (at sensitivity 4: a steady move of 2 spreads within one window, e.g. a leak). With
 *                the wander in it, as in the drift check, a drift that goes on becomes the series' normal and
 *                is flagged once. Once flagged the blocks restart; a level shift and a change of the daily
 *                profile restart them too. The test waits for two whole days of the profile (before, a daily
 *                cycle and a drift look alike);
 *  - variance:   3 · (σ_short / spread − 1), σ_short the RMS residual of the last ~20 values;
 *  - flat line:  a series that varied and then repeats one value for FLAT_RUN values scores 4 · run / FLAT_RUN
 *                (until the run is a whole window long: then flat is the new normal).
 * The time constants follow `windowSamples` (W): level W/6, spread W/2, reference 3W values.
 */
/** A detector's verdict on one value (shared by every algorithm; anomaly.ts re-exports it). */
export interface AnomalyResult {
  /** How far from normal, in the algorithm's spread units (0 = normal); NaN before min_samples. */
  score: number;
  flag: boolean;
  /** The normal range at this sensitivity; undefined before min_samples. */
  expected?: [number, number];
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const CLIP = 2.5;
const SHIFT_Z = 3;
const SHIFT_RUN = 8;
const SIGMA_PER_MAD = Math.sqrt(Math.PI / 2);
/** Share of the variance the hour-of-day profile must explain before it is used. */
const SEASONAL_STRENGTH = 0.5;
const PROFILE_ALPHA = 0.5;
/** Slow-drift test: block means kept (each W/12 values, so the horizon is one window), the fewest tested. */
const TREND_BLOCKS = 12;
const TREND_MIN_BLOCKS = 6;
/** The slope must be this many standard errors from 0 … */
const TREND_T = 5;
/** … and its score is this times the fitted change over the blocks, in spreads. */
const TREND_SCALE = 2;

export interface AdaptiveSettings {
  sensitivity: number;
  minSamples: number;
  windowSamples: number;
}

export class AdaptiveDetector {
  private readonly _k: number;
  private readonly _min: number;
  private readonly _aLevel: number;
  private readonly _aSpread: number;
  private readonly _aRef: number;
  private readonly _flatRun: number;
  private readonly _window: number;
  private _n = 0;
  private _level = 0;
  private _spread = 0;
  private _ref = 0;
  private _shortVar = 0;
  /** Typical |level − reference|: a series whose level wanders (a daily cycle not yet learnt) drifts as usual. */
  private _wander = 0;
  private _driftRun = 0;
  private _prev = NaN;
  private _flat = 0;
  private _flatSpread = 0;
  private _side = 0;
  private _sideRun = 0;
  /** Slow-drift test: the current block's sum and count, and a ring of the last block means. */
  private readonly _blocks: Float64Array;
  private readonly _blockLen: number;
  private _blockSum = 0;
  private _blockN = 0;
  private _blockHead = 0;
  private _blockCount = 0;
  private _slowDrifts = 0;
  /** Hour-of-day profile: this day's sums and counts, the learnt means, and whether it is in use. */
  private readonly _daySum = new Float64Array(24);
  private readonly _dayN = new Float64Array(24);
  private readonly _dayM2 = new Float64Array(24);
  private readonly _profile = new Float64Array(24);
  private _days = 0;
  private _day = -1;
  private _seasonal = false;

  constructor(s: AdaptiveSettings) {
    const w = Math.max(s.windowSamples, 12);
    this._k = s.sensitivity;
    this._min = s.minSamples;
    this._window = w;
    this._aLevel = 2 / (w / 6 + 1);
    this._aSpread = 2 / (w / 2 + 1);
    this._aRef = 2 / (3 * w + 1);
    this._flatRun = Math.max(10, Math.round(w / 12));
    this._blockLen = Math.max(2, Math.round(w / 12));
    this._blocks = new Float64Array(TREND_BLOCKS);
  }

  get size(): number {
    return this._n;
  }

  /** How many times the slow-drift test has flagged this series. */
  get slowDrifts(): number {
    return this._slowDrifts;
  }

  update(tMs: number, x: number): AnomalyResult {
    if (!Number.isFinite(x)) return { score: NaN, flag: false };
    this._season(tMs, x);
    const off = this._seasonal ? this._offset(tMs) : 0;
    const y = x - off;
    const n = ++this._n;
    if (n === 1) {
      this._level = y;
      this._ref = y;
      this._prev = x;
      this._clearBlocks();
      return { score: NaN, flag: false };
    }
    // Warm-up: plain running means (α = 1/n) until the EWMA constants take over.
    const aL = Math.max(this._aLevel, 1 / n);
    const aS = Math.max(this._aSpread, 1 / n);
    const aR = Math.max(this._aRef, 1 / n);
    const spread = Math.max(this._spread, 1e-9 * Math.max(1, Math.abs(this._level)));
    const r = y - this._level;
    const z = Math.abs(r) / spread;
    const warm = n > this._min;

    // Flat line: a run of one repeated value, in a series that varied before the run.
    if (Math.abs(x - this._prev) <= 1e-12 * Math.max(1, Math.abs(x))) {
      if (this._flat++ === 0) this._flatSpread = this._spread;
    } else this._flat = 0;
    this._prev = x;

    // Level shift: a run of large residuals on one side moves the level (and the reference) there.
    const side = z > SHIFT_Z ? Math.sign(r) : 0;
    this._sideRun = side !== 0 && side === this._side ? this._sideRun + 1 : side !== 0 ? 1 : 0;
    this._side = side;
    const rc = Math.max(-CLIP * spread, Math.min(CLIP * spread, r));
    const shortVar = this._shortVar + 0.1 * (Math.min(r * r, 25 * spread * spread) - this._shortVar);
    let score = NaN;
    if (warm) {
      const drift = Math.abs(this._level - this._ref) / Math.max(spread, this._wander);
      const variance = 3 * Math.max(0, Math.sqrt(shortVar) / spread - 1);
      const flat =
        this._flat >= this._flatRun && this._flat <= this._window && this._flatSpread > 0
          ? (4 * this._flat) / this._flatRun
          : 0;
      const trend = this._block(this._level + rc, Math.max(spread, this._wander));
      score = Math.max(z, drift, variance, flat, trend);
      if (trend > this._k) {
        this._blockCount = 0;
        this._slowDrifts++;
      }
      // A drift flagged for half a window is the new normal: the reference moves to the level.
      this._driftRun = drift > SHIFT_Z ? this._driftRun + 1 : 0;
      if (this._driftRun > this._window / 2) {
        this._ref = this._level;
        this._driftRun = 0;
      }
    }
    if (this._sideRun >= SHIFT_RUN) {
      this._level = y;
      this._ref = y;
      this._sideRun = 0;
      this._shortVar = 0;
      this._clearBlocks();
    } else {
      this._level += (n <= this._min ? r : rc) * aL;
      this._ref += (this._level - this._ref) * aR;
      const gap = Math.min(Math.abs(this._level - this._ref), 2 * Math.max(this._wander, spread));
      this._wander += (gap * 1.5 - this._wander) * aR;
      this._shortVar = n <= this._min ? 0 : shortVar;
    }
    const dev = Math.min(Math.abs(r) * SIGMA_PER_MAD, 4 * CLIP * spread);
    this._spread += ((n <= this._min ? Math.abs(r) * SIGMA_PER_MAD : dev) - this._spread) * aS;
    if (!warm) return { score: NaN, flag: false };
    const pred = this._level + off;
    const k = this._k;
    return { score, flag: score > k, expected: [pred - k * spread, pred + k * spread] };
  }

  /** Forgets the slow-drift blocks (after a level shift, a flagged drift or a change of the profile). */
  private _clearBlocks(): void {
    this._blockSum = 0;
    this._blockN = 0;
    this._blockCount = 0;
  }

  /**
   * Adds v (the clipped value) to the current block; when the block closes, the slow-drift score of the last
   * blocks (0 when the test does not apply or the slope is not significant). `scale`: spread units.
   */
  private _block(v: number, scale: number): number {
    this._blockSum += v;
    if (++this._blockN < this._blockLen) return 0;
    const M = this._blocks.length;
    this._blocks[this._blockHead] = this._blockSum / this._blockN;
    this._blockHead = (this._blockHead + 1) % M;
    if (this._blockCount < M) this._blockCount++;
    this._blockSum = 0;
    this._blockN = 0;
    const c = this._blockCount;
    if (c < TREND_MIN_BLOCKS || this._days < 2) return 0;
    const start = (this._blockHead - c + M) % M;
    let mean = 0;
    for (let j = 0; j < c; j++) mean += this._blocks[(start + j) % M]!;
    mean /= c;
    const xm = (c - 1) / 2;
    let sxy = 0;
    let syy = 0;
    for (let j = 0; j < c; j++) {
      const d = this._blocks[(start + j) % M]! - mean;
      sxy += (j - xm) * d;
      syy += d * d;
    }
    const sxx = (c * (c * c - 1)) / 12;
    const b = sxy / sxx;
    const rss = Math.max(0, syy - b * sxy);
    const se = Math.sqrt(rss / (c - 2) / sxx);
    const t = Math.abs(b) / Math.max(se, 1e-12 * Math.abs(b) + 1e-300);
    if (t < TREND_T) return 0;
    // … and a line must explain the blocks better than the best single step (a shift, or a ramp of an hour
    // or two, such as a daily profile still being learnt, is not a drift): between-segment sum of squares.
    let s1 = 0;
    let step = 0;
    for (let k = 1; k < c; k++) {
      s1 += this._blocks[(start + k - 1) % M]! - mean;
      step = Math.max(step, (s1 * s1 * c) / (k * (c - k)));
    }
    if (b * sxy <= step) return 0;
    return (TREND_SCALE * Math.abs(b) * (c - 1)) / scale;
  }

  /** The profile's value at tMs, linear between the centres of the hours, minus its mean. */
  private _offset(tMs: number): number {
    const h = (((tMs % DAY) + DAY) % DAY) / HOUR - 0.5;
    const i = Math.floor(h);
    const f = h - i;
    const a = this._profile[(i + 24) % 24]!;
    const b = this._profile[(i + 1) % 24]!;
    return a + (b - a) * f;
  }

  /** Hour-of-day statistics; at each new day the profile learns the day and decides if it is in use. */
  private _season(tMs: number, x: number): void {
    const day = Math.floor(tMs / DAY);
    if (day !== this._day) {
      if (this._day >= 0) this._closeDay();
      this._day = day;
    }
    const h = Math.floor((((tMs % DAY) + DAY) % DAY) / HOUR);
    const c = ++this._dayN[h]!;
    const d = x - this._daySum[h]!;
    this._daySum[h]! += d / c; // running mean of the hour
    this._dayM2[h]! += d * (x - this._daySum[h]!);
  }

  private _closeDay(): void {
    let hours = 0;
    let within = 0;
    for (let h = 0; h < 24; h++) if (this._dayN[h]! > 1) hours++;
    if (hours === 24) {
      let mean = 0;
      for (let h = 0; h < 24; h++) mean += this._daySum[h]! / 24;
      for (let h = 0; h < 24; h++) {
        const v = this._daySum[h]! - mean;
        this._profile[h] = this._days === 0 ? v : this._profile[h]! + (v - this._profile[h]!) * PROFILE_ALPHA;
        within += this._dayM2[h]! / this._dayN[h]! / 24;
      }
      this._days++;
      let between = 0;
      for (let h = 0; h < 24; h++) between += this._profile[h]! ** 2 / 24;
      const wasSeasonal = this._seasonal;
      this._seasonal = this._days >= 2 && between > SEASONAL_STRENGTH * (between + within);
      // The level follows the deseasonalised value: move it (and the reference) when that changes.
      if (wasSeasonal !== this._seasonal) {
        this._sideRun = 0;
        this._n = Math.min(this._n, 1);
        this._clearBlocks();
      }
    }
    this._daySum.fill(0);
    this._dayN.fill(0);
    this._dayM2.fill(0);
  }
}
