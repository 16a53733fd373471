import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SystemClock } from '../../../src/lib/clock.js';

const DAY = 86_400_000;

describe('SystemClock timers longer than Node allows (2^31 - 1 ms)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should run a 30-day timer after 30 days, not at once', () => {
    const clock = new SystemClock();
    let fired = 0;
    clock.setTimeout(() => fired++, 30 * DAY);
    vi.advanceTimersByTime(30 * DAY - 1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    vi.advanceTimersByTime(100 * DAY);
    expect(fired).toBe(1);
  });

  it('should cancel a long timer in any of its steps, and never run an infinite one', () => {
    const clock = new SystemClock();
    let fired = 0;
    const handle = clock.setTimeout(() => fired++, 60 * DAY);
    vi.advanceTimersByTime(40 * DAY);
    handle.cancel();
    clock.setTimeout(() => fired++, Infinity);
    vi.advanceTimersByTime(365 * DAY);
    expect(fired).toBe(0);
  });

  it('should run any timer at its delay, never before (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 * DAY }), (delayMs) => {
        const clock = new SystemClock();
        const start = Date.now();
        let firedAt: number | undefined;
        clock.setTimeout(() => (firedAt = Date.now() - start), delayMs);
        vi.advanceTimersByTime(delayMs - 1);
        expect(firedAt).toBeUndefined();
        vi.advanceTimersByTime(1);
        expect(firedAt).toBe(delayMs);
        vi.clearAllTimers();
      }),
      { seed: 20260101, numRuns: 200, examples: [[2 ** 31 - 1], [2 ** 31], [2 ** 32 + 5]] },
    );
  });
});
