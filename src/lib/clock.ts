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
