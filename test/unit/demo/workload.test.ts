import { describe, expect, it } from 'vitest';
import {
  ALERT_LEVELS,
  DEMO_AGENTS,
  DEMO_CACHES,
  DEMO_QUEUES,
  DemoWorkload,
  seededRandom,
} from '../../../src/demo/workload.js';
import type { ApplicationRecorder } from '../../../src/demo/workload.js';
import { ManualClock } from '../../../src/lib/clock.js';

type Call = [method: keyof ApplicationRecorder, ...args: unknown[]];

function recorder(): { rec: ApplicationRecorder; calls: Call[] } {
  const calls: Call[] = [];
  const log =
    (method: keyof ApplicationRecorder) =>
    (...args: unknown[]): void => {
      calls.push([method, ...args]);
    };
  const rec: ApplicationRecorder = {
    recordAgentExecution: log('recordAgentExecution'),
    recordAgentError: log('recordAgentError'),
    recordApiRequest: log('recordApiRequest'),
    recordApiError: log('recordApiError'),
    setQueueLength: log('setQueueLength'),
    recordQueueProcessing: log('recordQueueProcessing'),
    recordEntityProcessing: log('recordEntityProcessing'),
    recordCacheHit: log('recordCacheHit'),
    recordCacheMiss: log('recordCacheMiss'),
    setCacheSize: log('setCacheSize'),
  };
  return { rec, calls };
}

function workload(options: { tickMs?: number; seed?: number } = {}) {
  const clock = new ManualClock();
  const { rec, calls } = recorder();
  const w = new DemoWorkload({
    recorder: rec,
    clock,
    tickMs: options.tickMs ?? 250,
    random: seededRandom(options.seed ?? 7),
    spikeMs: 10_000,
    alertMs: 60_000,
  });
  return { w, clock, calls };
}

const numbers = (calls: Call[], method: keyof ApplicationRecorder, index: number): number[] =>
  calls.filter((c) => c[0] === method).map((c) => c[index] as number);

describe('DemoWorkload', () => {
  it('should call every method of the application metrics API within a minute of rounds', async () => {
    const { w, clock, calls } = workload();
    w.start();
    await clock.advance(60_000);
    const methods = new Set(calls.map((c) => c[0]));
    expect([...methods].sort()).toEqual([
      'recordAgentError',
      'recordAgentExecution',
      'recordApiError',
      'recordApiRequest',
      'recordCacheHit',
      'recordCacheMiss',
      'recordEntityProcessing',
      'recordQueueProcessing',
      'setCacheSize',
      'setQueueLength',
    ]);
    expect(w.stats()).toEqual({ rounds: 241, mode: 'normal' });
    const agents = new Set(calls.filter((c) => c[0] === 'recordAgentExecution').map((c) => c[1]));
    expect([...agents].sort()).toEqual([...DEMO_AGENTS].sort());
    const caches = new Set(calls.filter((c) => c[0] === 'setCacheSize').map((c) => c[1]));
    expect([...caches].sort()).toEqual([...DEMO_CACHES].sort());
    await w.shutdown();
  });

  it('should vary its values and keep them in a normal range without a trigger', async () => {
    const { w, clock, calls } = workload();
    w.start();
    await clock.advance(30_000);
    const latencies = numbers(calls, 'recordApiRequest', 3);
    expect(new Set(latencies).size).toBeGreaterThan(100);
    expect(Math.max(...latencies)).toBeLessThan(1);
    expect(Math.max(...numbers(calls, 'setQueueLength', 2))).toBeLessThanOrEqual(400);
    expect(numbers(calls, 'recordApiRequest', 3).every((v) => v >= 0)).toBe(true);
    await w.shutdown();
  });

  it('should push values past the default rule thresholds while an alert is on, then return', async () => {
    const { w, clock, calls } = workload();
    w.start();
    await clock.advance(1_000);
    w.triggerAlert();
    expect(w.mode).toBe('alert');
    const before = calls.length;
    await clock.advance(20_000);
    const during = calls.slice(before);
    const queue = numbers(during, 'setQueueLength', 2);
    expect(Math.min(...queue)).toBeGreaterThan(1000);
    const latencies = numbers(during, 'recordApiRequest', 3).sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length * 0.95)]).toBeGreaterThan(1);
    const apiErrors = during.filter((c) => c[0] === 'recordApiError').length;
    expect(apiErrors / 20).toBeGreaterThanOrEqual(ALERT_LEVELS.apiErrorsPerSecond);
    const agentErrors = during.filter((c) => c[0] === 'recordAgentError').length;
    expect(agentErrors / 20).toBeGreaterThanOrEqual(ALERT_LEVELS.agentErrorsPerSecond);
    await clock.advance(60_000);
    expect(w.mode).toBe('normal');
    const after = calls.length;
    await clock.advance(5_000);
    expect(Math.max(...numbers(calls.slice(after), 'setQueueLength', 2))).toBeLessThanOrEqual(400);
    await w.shutdown();
  });

  it('should spike latency and load for the spike duration', async () => {
    const { w, clock, calls } = workload();
    w.start();
    await clock.advance(10_000);
    const normal = calls.length;
    const normalMean = mean(numbers(calls, 'recordApiRequest', 3));
    const normalRate = calls.filter((c) => c[0] === 'recordApiRequest').length / 10;
    w.triggerSpike();
    await clock.advance(9_000);
    expect(w.mode).toBe('spike');
    const spiked = calls.slice(normal);
    const spikedLatencies = numbers(spiked, 'recordApiRequest', 3);
    // One invalid (negative) duration per round, for the agent to drop and count.
    expect(spikedLatencies.filter((v) => v < 0)).toHaveLength(36);
    expect(mean(spikedLatencies.filter((v) => v >= 0))).toBeGreaterThan(5 * normalMean);
    expect(spiked.filter((c) => c[0] === 'recordApiRequest').length / 9).toBeGreaterThan(2 * normalRate);
    await clock.advance(2_000);
    expect(w.mode).toBe('normal');
    await w.shutdown();
  });

  it('should record nothing after shutdown, and shut down safely twice and before start', async () => {
    const idle = workload();
    await idle.w.shutdown();
    await idle.w.shutdown();
    const { w, clock, calls } = workload();
    w.start();
    w.start();
    await clock.advance(1_000);
    await w.shutdown();
    const n = calls.length;
    await clock.advance(10_000);
    expect(calls.length).toBe(n);
    expect(w.stats().rounds).toBe(5);
  });

  it('should be repeatable with the same seed', () => {
    const a = workload({ seed: 3 });
    const b = workload({ seed: 3 });
    a.w.tick();
    b.w.tick();
    expect(a.calls).toEqual(b.calls);
    expect(DEMO_QUEUES.length).toBe(2);
  });
});

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}
