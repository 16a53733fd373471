/**
 * Time, injected. Everything that reads the time or waits takes a Clock; tests use ManualClock and
 * never sleep. This is the only file that may call Date.now() or setTimeout() directly.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock time, milliseconds since the Unix epoch. */
  nowMs(): number;
  /** Monotonic time in milliseconds (arbitrary origin), for measuring durations. */
  monotonicMs(): number;
  /** Runs `fn` once after `delayMs`. The timer never keeps the process alive. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }

  monotonicMs(): number {
    return performance.now();
  }

  /**
   * Node runs a timer of more than 2^31 - 1 ms (24.8 days) after 1 ms, with a warning on the application's
   * stderr: a long delay (repeat_interval: 30d) would fire at once and again and again. Such a delay is waited
   * for in steps; an infinite one never fires.
   */
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    let timer: NodeJS.Timeout;
    const arm = (remainingMs: number): void => {
      timer =
        remainingMs > MAX_TIMER_MS
          ? setTimeout(() => arm(remainingMs - MAX_TIMER_MS), MAX_TIMER_MS)
          : setTimeout(fn, remainingMs);
      timer.unref();
    };
    arm(delayMs);
    return { cancel: () => clearTimeout(timer) };
  }
}

/** The longest delay Node's setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface PendingTimer {
  dueMs: number;
  seq: number;
  fn: () => void;
}

/** A clock that moves only when a test calls advance(). */
export class ManualClock implements Clock {
  private _nowMs: number;
  private _monotonicMs = 0;
  private _seq = 0;
  private _timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this._nowMs = startMs;
  }

  nowMs(): number {
    return this._nowMs;
  }

  monotonicMs(): number {
    return this._monotonicMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = { dueMs: this._monotonicMs + Math.max(0, delayMs), seq: this._seq++, fn };
    this._timers.push(timer);
    return {
      cancel: () => {
        this._timers = this._timers.filter((t) => t !== timer);
      },
    };
  }

  /**
   * Sets the wall clock forward (positive) or back (negative) by `ms` without moving the monotonic clock or
   * firing timers, as an operator or NTP stepping the system time does.
   */
  stepWall(ms: number): void {
    this._nowMs += ms;
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this._timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers it yields to the event
   * loop so that promise chains started by a timer settle before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this._monotonicMs + ms;
    for (;;) {
      const next = this._nextDue(target);
      if (next === undefined) break;
      this._timers = this._timers.filter((t) => t !== next);
      this._nowMs += next.dueMs - this._monotonicMs;
      this._monotonicMs = next.dueMs;
      next.fn();
      await settle();
    }
    this._nowMs += target - this._monotonicMs;
    this._monotonicMs = target;
    await settle();
  }

  private _nextDue(limitMs: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this._timers) {
      if (t.dueMs > limitMs) continue;
      if (best === undefined || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq))
        best = t;
    }
    return best;
  }
}

/**
 * Notices steps of the wall clock (an operator or NTP setting the time, a resumed suspend): between two looks
 * the wall clock moved by a different amount than the monotonic clock. Returns the step in milliseconds
 * (positive: the wall clock jumped forward), 0 when both moved together. Slewing (at most 0.05 % for NTP) is
 * not a step: the tolerance is a second plus 0.1 % of the elapsed time.
 */
export class WallClockSteps {
  private readonly _clock: Clock;
  private _wallMs: number | undefined;
  private _monoMs = 0;

  constructor(clock: Clock) {
    this._clock = clock;
  }

  /** The step since the last call, `wallMs` being the wall time just read (default: read now). */
  check(wallMs: number = this._clock.nowMs()): number {
    const mono = this._clock.monotonicMs();
    const prevWall = this._wallMs;
    const elapsed = mono - this._monoMs;
    this._wallMs = wallMs;
    this._monoMs = mono;
    if (prevWall === undefined) return 0;
    const step = wallMs - prevWall - elapsed;
    return Math.abs(step) > 1000 + Math.abs(elapsed) / 1000 ? step : 0;
  }
}

/** Lets pending promise callbacks and I/O callbacks already queued run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Waits `ms` on the given clock. */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
