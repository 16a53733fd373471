/**
 * The wall clock stepped by hours (an operator or NTP setting the time) while the monotonic clock moves on
 * normally: `for` timers neither fire early nor get stuck, rates stay non-negative and keep coming, the
 * evaluation cadence holds, and no notification is sent twice or early.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import { RuleEngine } from '../../../src/alerts/engine.js';
import type { Alert, EvaluationResult, NotificationBatch, Notifier } from '../../../src/alerts/types.js';
import type { CollectionBatch } from '../../../src/analysis/collection-reader.js';
import type { Sample } from '../../../src/model/metric.js';
import { ManualClock, WallClockSteps } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { advanceAndCollect, fixtureAgent } from '../helpers/fixture-agent.js';
import { gauge, rulesOf } from './rule-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const STEP = 15_000;

const RULES = `
      - {name: cpu_high, metric: cpu_percent, condition: '>', threshold: 85, duration: 1m}
      - {name: errors, metric: api_error_count, aggregation: rate_1m, condition: '>=', threshold: 0}
`;

const counter = (metric: string, value: number): Sample => ({ ...gauge(metric, value), kind: 'counter' });

/**
 * Drives an engine the way the CollectionReader does: one collection every 15 s of monotonic time, stamped
 * with the wall clock, with the step the reader noticed.
 */
function engineOn(clock: ManualClock, evaluationIntervalMs?: number) {
  const rounds: EvaluationResult[] = [];
  const engine = new RuleEngine({
    clock,
    logger: new MemoryLogger(),
    rules: rulesOf(RULES),
    sinks: [{ handle: (r) => rounds.push(r) }],
    evaluationIntervalMs,
  });
  const steps = new WallClockSteps(clock);
  let total = 0;
  const collect = async (cpu: number): Promise<EvaluationResult | undefined> => {
    await clock.advance(STEP);
    total += 30; // 2 errors a second
    const timestampMs = clock.nowMs();
    const samples = [gauge('cpu_percent', cpu), counter('api_error_count', total)];
    const before = rounds.length;
    engine.onCollection({
      timestampMs,
      samples,
      resourceMetrics: undefined as never,
      clockStepMs: steps.check(timestampMs),
    } satisfies CollectionBatch);
    return rounds.length > before ? rounds[rounds.length - 1] : undefined;
  };
  return { engine, rounds, collect };
}

const stateOf = (r: EvaluationResult | undefined, rule: string): string | undefined =>
  r?.alerts.find((a) => a.labels.alertname === rule)?.state;
const rateOf = (engine: RuleEngine): number | undefined =>
  engine.activeAlerts().find((a) => a.rule === 'errors')?.value;

describe('wall clock steps: rule engine', () => {
  for (const stepMs of [2 * HOUR, -2 * HOUR]) {
    it(`should fire a for: 1m alert after one minute of monotonic time when the wall clock steps ${stepMs > 0 ? 'forward' : 'back'} 2 h`, async () => {
      const clock = new ManualClock(T0);
      const { engine, collect } = engineOn(clock);
      for (let i = 0; i < 8; i++) await collect(50); // two minutes of history for the rate
      expect(stateOf(await collect(90), 'cpu_high')).toBe('pending');
      clock.stepWall(stepMs);
      const states: (string | undefined)[] = [];
      for (let i = 0; i < 6; i++) states.push(stateOf(await collect(90), 'cpu_high'));
      // Pending since the collection before the step: 1 min later (the 4th collection after it) it fires.
      expect(states).toEqual(['pending', 'pending', 'pending', 'firing', 'firing', 'firing']);
      const fired = engine.activeAlerts().find((a) => a.rule === 'cpu_high')!;
      expect(fired.firedAtMs! - fired.activeAtMs).toBe(60_000);
      expect(fired.firedAtMs).toBe(clock.nowMs() - 2 * STEP);
    });

    it(`should keep rates positive and continuous when the wall clock steps ${stepMs > 0 ? 'forward' : 'back'} 2 h`, async () => {
      const clock = new ManualClock(T0);
      const { engine, collect } = engineOn(clock);
      for (let i = 0; i < 8; i++) await collect(50);
      expect(rateOf(engine)).toBeCloseTo(2, 6);
      clock.stepWall(stepMs);
      const rates: (number | undefined)[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await collect(50);
        expect(stateOf(r, 'errors')).toBe('firing');
        rates.push(rateOf(engine));
      }
      for (const rate of rates) expect(rate).toBeCloseTo(2, 6);
    });
  }

  it('should keep evaluating once per evaluation interval after the wall clock steps back', async () => {
    const clock = new ManualClock(T0);
    const { rounds, collect } = engineOn(clock, 60_000);
    for (let i = 0; i < 8; i++) await collect(50);
    const before = rounds.length;
    clock.stepWall(-2 * HOUR);
    for (let i = 0; i < 8; i++) await collect(50); // two minutes
    expect(rounds.length - before).toBe(2);
  });
});

class RecordingNotifier implements Notifier {
  readonly name = 'rec';
  readonly sent: NotificationBatch[] = [];
  failing = false;
  send(batch: NotificationBatch): Promise<void> {
    if (this.failing) return Promise.reject(new Error('receiver down'));
    this.sent.push(batch);
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const FIRING: Alert = {
  labels: { alertname: 'cpu_high', severity: 'warning' },
  annotations: {},
  state: 'firing',
  value: 90,
  activeAtMs: T0,
  firedAtMs: T0,
  fingerprint: 'f1',
};

async function dispatcherOn(clock: ManualClock, notifier: RecordingNotifier) {
  const d = new AlertDispatcher({
    channels: [{ notifier }],
    grouping: { groupBy: ['alertname'], groupWaitMs: 0, groupIntervalMs: 60_000, repeatIntervalMs: 4 * HOUR },
    storePath: ':memory:',
    maxOutboxPerChannel: 100,
    initialBackoffMs: 1000,
    maxBackoffMs: 60_000,
    clock,
    logger: new MemoryLogger(),
    random: () => 0,
  });
  await d.start();
  /** One evaluation round a minute for `minutes` minutes, the alert firing throughout. */
  const run = async (minutes: number) => {
    for (let i = 0; i < minutes; i++) {
      d.handle({ evaluatedAtMs: clock.nowMs(), alerts: [FIRING] });
      await clock.advance(60_000);
    }
  };
  return { d, run };
}

describe('wall clock steps: notifications', () => {
  for (const stepMs of [2 * HOUR, -2 * HOUR]) {
    it(`should repeat a firing group after repeat_interval of monotonic time when the wall clock steps ${stepMs > 0 ? 'forward' : 'back'} 2 h`, async () => {
      const clock = new ManualClock(T0);
      const notifier = new RecordingNotifier();
      const { d, run } = await dispatcherOn(clock, notifier);
      await run(5);
      expect(notifier.sent).toHaveLength(1);
      clock.stepWall(stepMs);
      await run(3 * 60); // three hours: no repeat yet, whatever the wall clock says
      expect(notifier.sent).toHaveLength(1);
      await run(61 + 5); // past four hours since the first notification: exactly one repeat
      expect(notifier.sent).toHaveLength(2);
      await d.shutdown();
    });
  }

  it('should retry a queued notification on its backoff, not two hours late, when the wall clock steps back', async () => {
    const clock = new ManualClock(T0);
    const notifier = new RecordingNotifier();
    notifier.failing = true;
    const { d, run } = await dispatcherOn(clock, notifier);
    await run(1); // queued, first attempt failed, retry in 1 s
    expect(d.outbox!.pending('rec')).toBe(1);
    clock.stepWall(-2 * HOUR);
    notifier.failing = false;
    await run(5);
    expect(notifier.sent).toHaveLength(1);
    expect(d.outbox!.pending('rec')).toBe(0);
    await d.shutdown();
  });
});

describe('wall clock steps: the agent', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('should report the step with the collection, and fire a for: 1m alert one minute after it went pending', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-clock-step-'));
    const fx = fixtureAgent('linux-vm', {
      extra: `  alerting:
    state_file: ${JSON.stringify(path.join(dir, 'state.json'))}
    notifications: {store_path: ${JSON.stringify(path.join(dir, 'notifications.db'))}}
    rules:
      - {name: memory_for_a_minute, metric: memory_percent, condition: '>=', threshold: 0, duration: 1m}
`,
    });
    const steps: (number | undefined)[] = [];
    fx.agent.onCollection('steps', (b) => {
      steps.push(b.clockStepMs);
    });
    await fx.agent.start();
    try {
      const state = () => fx.agent.getActiveAlerts().map((a) => a.state);
      expect(state()).toEqual(['pending']);
      fx.clock.stepWall(2 * HOUR);
      const seen: string[][] = [];
      for (let i = 0; i < 4; i++) {
        await advanceAndCollect(fx, STEP);
        seen.push(state());
      }
      expect(seen).toEqual([['pending'], ['pending'], ['pending'], ['firing']]);
      expect(steps).toEqual([0, 2 * HOUR, 0, 0, 0]);
      expect(fx.logger.find('warn', 'the wall clock was stepped')).toHaveLength(1);
    } finally {
      await fx.agent.stop();
    }
  });
});
