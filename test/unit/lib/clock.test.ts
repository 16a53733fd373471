import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, SystemClock, WallClockSteps, delay } from '../../../src/lib/clock.js';

describe('ManualClock', () => {
  it('should start at 2026-01-01 UTC, or the given time, with monotonic time at 0', () => {
    expect(new ManualClock().nowMs()).toBe(Date.UTC(2026, 0, 1));
    const clock = new ManualClock(1000);
    expect(clock.nowMs()).toBe(1000);
    expect(clock.monotonicMs()).toBe(0);
  });

  it('should move both times only on advance()', async () => {
    const clock = new ManualClock(1000);
    await clock.advance(250);
    expect(clock.nowMs()).toBe(1250);
    expect(clock.monotonicMs()).toBe(250);
  });

  it('should fire timers in order of due time, then of creation, each at its due time', async () => {
    const clock = new ManualClock(0);
    const fired: [string, number][] = [];
    const at = (name: string) => () => fired.push([name, clock.nowMs()]);
    clock.setTimeout(at('c'), 300);
    clock.setTimeout(at('a'), 100);
    clock.setTimeout(at('b1'), 200);
    clock.setTimeout(at('b2'), 200);
    await clock.advance(1000);
    expect(fired).toEqual([
      ['a', 100],
      ['b1', 200],
      ['b2', 200],
      ['c', 300],
    ]);
    expect(clock.nowMs()).toBe(1000);
  });

  it('should fire only the timers due within the advance', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('soon'), 100);
    clock.setTimeout(() => fired.push('later'), 500);
    await clock.advance(100);
    expect(fired).toEqual(['soon']);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(399);
    expect(fired).toEqual(['soon']);
    await clock.advance(1);
    expect(fired).toEqual(['soon', 'later']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('should not fire a cancelled timer', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const handle = clock.setTimeout(() => fired.push('cancelled'), 100);
    clock.setTimeout(() => fired.push('kept'), 100);
    handle.cancel();
    handle.cancel();
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(200);
    expect(fired).toEqual(['kept']);
  });

  it('should fire a timer set by a timer when it falls due within the same advance', async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const tick = () => {
      fired.push(clock.monotonicMs());
      clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    await clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.pendingTimers).toBe(1);
  });

  it('should fire a timer with a negative delay on the next advance', async () => {
    const clock = new ManualClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), -5);
    await clock.advance(0);
    expect(fired).toBe(true);
  });

  it('should let promise chains started by one timer settle before the next fires', async () => {
    const clock = new ManualClock(0);
    const events: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => undefined)
        .then(() => events.push('chain of first'));
    }, 100);
    clock.setTimeout(() => events.push('second'), 100);
    await clock.advance(100);
    expect(events).toEqual(['chain of first', 'second']);
  });
});

describe('delay', () => {
  it('should resolve when the clock has moved by the delay', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const p = delay(clock, 1000).then(() => (done = true));
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);
  });
});

describe('SystemClock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should read the wall clock', () => {
    vi.setSystemTime(Date.UTC(2030, 5, 1));
    expect(new SystemClock().nowMs()).toBe(Date.UTC(2030, 5, 1));
  });

  it('should run a timer after its delay and never a cancelled one', () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('kept'), 100);
    clock.setTimeout(() => fired.push('cancelled'), 50).cancel();
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['kept']);
  });
});

describe('WallClockSteps', () => {
  it('should report a step of the wall clock, not time that passed or a slew', async () => {
    const clock = new ManualClock(0);
    const steps = new WallClockSteps(clock);
    expect(steps.check()).toBe(0);
    await clock.advance(60_000);
    expect(steps.check()).toBe(0);
    clock.stepWall(-7_200_000);
    await clock.advance(15_000);
    expect(steps.check()).toBe(-7_200_000);
    expect(steps.check()).toBe(0);
    clock.stepWall(900); // within a second: reading jitter, not a step
    expect(steps.check()).toBe(0);
    await clock.advance(3_600_000);
    clock.stepWall(1_500); // 0.04 % of an hour: NTP slewing, not a step
    expect(steps.check()).toBe(0);
    clock.stepWall(5_000);
    expect(steps.check()).toBe(5_000);
  });
});
