/**
 * Turns raw kernel counters into totals that never go down. A counter that drops (the device was
 * removed and added again, the driver reset it, a 32-bit field wrapped) contributes what it can prove
 * happened since the last read and never a negative amount, so exported counters stay monotonic and
 * Prometheus' rate() never sees a reset caused by the host.
 */
import type { MetricPoint } from '../model/metric.js';

const WRAP_32 = 2 ** 32;

interface CounterState {
  /** Last raw reading; undefined while the source is absent. */
  last: number | undefined;
  total: number;
  absentFor: number;
}

export class CounterTracker {
  private readonly _state = new Map<string, CounterState>();
  private readonly _forgetAfter: number;
  private _resets = 0;

  /** @param forgetAfter how many consecutive retain() calls a vanished key survives before it is dropped */
  constructor(forgetAfter = 60) {
    this._forgetAfter = forgetAfter;
  }

  /**
   * Records the raw value of counter `key` and returns its monotonic total. The first reading of a key
   * is the total so far (the kernel counts since boot). A key that comes back after it vanished was
   * created anew by the kernel, so its raw value is all new.
   */
  update(key: string, raw: number): number {
    const state = this._state.get(key);
    if (state === undefined) {
      this._state.set(key, { last: raw, total: raw, absentFor: 0 });
      return raw;
    }
    let delta: number;
    if (state.last === undefined) {
      delta = raw;
    } else {
      delta = raw - state.last;
      if (delta < 0) {
        this._resets++;
        // A 32-bit counter near its top that comes back small has wrapped; anything else restarted at zero.
        const wrapped = state.last < WRAP_32 && state.last > WRAP_32 * 0.75 && raw < WRAP_32 * 0.25;
        delta = wrapped ? raw + WRAP_32 - state.last : raw;
      }
    }
    state.last = raw;
    state.absentFor = 0;
    state.total += delta;
    return state.total;
  }

  /** Marks keys not in `seen` as vanished and drops those gone for too long, keeping memory bounded. */
  retain(seen: ReadonlySet<string>): void {
    // forEach, not for-of: under --lite-mode each for-of step allocates (every counter, every collection).
    this._state.forEach((state, key, map) => {
      if (seen.has(key)) return;
      state.last = undefined;
      state.absentFor++;
      if (state.absentFor > this._forgetAfter) map.delete(key);
    });
  }

  /** How many decreases were absorbed since construction. */
  get resets(): number {
    return this._resets;
  }

  /** How many keys are tracked. */
  get size(): number {
    return this._state.size;
  }
}

/**
 * One collection of counters labelled by one label (a device, an interface): each add() becomes a point
 * with the counter's monotonic total, and finish() marks the counters not added this time as vanished.
 */
export class CounterRound {
  readonly points: MetricPoint[] = [];
  private readonly _seen = new Set<string>();

  constructor(
    private readonly _tracker: CounterTracker,
    private readonly _label: string,
  ) {}

  /** `raw` of `metric` for label value `value`; the total is multiplied by `scale` (after the tracker). */
  add(metric: string, value: string, raw: number, scale = 1): void {
    // A NUL cannot occur in a device or interface name, so the key is unambiguous.
    const key = `${metric}\0${value}`;
    this._seen.add(key);
    this.points.push({
      metric,
      labels: { [this._label]: value },
      value: this._tracker.update(key, raw) * scale,
    });
  }

  /** The points of the round, once the tracker has forgotten what was not added. */
  finish(): MetricPoint[] {
    this._tracker.retain(this._seen);
    return this.points;
  }
}
