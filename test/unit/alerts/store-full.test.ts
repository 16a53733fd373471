/**
 * A notification store or an alert state file that cannot be written (a full disk): no busy retry loop, one
 * log line per run of failures (and one when writes succeed again), no notification sent twice, and the
 * state written as soon as it can be.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import { RuleEngine } from '../../../src/alerts/engine.js';
import type { Outbox } from '../../../src/alerts/outbox.js';
import { AlertStateStore } from '../../../src/alerts/state-store.js';
import type { NotificationBatch, Notifier } from '../../../src/alerts/types.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { alert, round } from './notify-helpers.js';
import { gauge, rulesOf } from './rule-helpers.js';

const S = 1000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Answers on the next turn of the event loop, as a network call does. */
class SlowNotifier implements Notifier {
  readonly name = 'hook';
  readonly sent: NotificationBatch[] = [];
  attempts = 0;
  down = false;
  async send(batch: NotificationBatch): Promise<void> {
    this.attempts++;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.down) throw new Error('connect ECONNREFUSED');
    this.sent.push(batch);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Makes the outbox's updates fail with SQLite's error for a full disk while `full()` says so. */
function fillable(outbox: Outbox, full: () => boolean): void {
  for (const method of ['complete', 'retryAt'] as const) {
    const real = outbox[method].bind(outbox) as (...args: unknown[]) => void;
    (outbox as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args) => {
      if (full()) throw Object.assign(new Error('database or disk is full'), { errcode: 13 });
      real(...args);
    };
  }
}

async function dispatcher(clock: ManualClock, notifier: SlowNotifier, logger: MemoryLogger) {
  const d = new AlertDispatcher({
    channels: [{ notifier }],
    grouping: {
      groupBy: ['alertname'],
      groupWaitMs: 0,
      groupIntervalMs: 60 * S,
      repeatIntervalMs: 3_600 * S,
    },
    storePath: ':memory:',
    maxOutboxPerChannel: 100,
    initialBackoffMs: S,
    maxBackoffMs: 60 * S,
    clock,
    logger,
    random: () => 0,
  });
  await d.start();
  return d;
}

describe('notification store that cannot be written', () => {
  it('should back off, log once, and say once that it is writable again', async () => {
    const clock = new ManualClock();
    const logger = new MemoryLogger();
    const notifier = new SlowNotifier();
    notifier.down = true;
    const d = await dispatcher(clock, notifier, logger);
    let full = true;
    fillable(d.outbox!, () => full);
    d.handle(round(clock.nowMs(), alert('cpu')));
    for (let i = 0; i < 30; i++) await clock.advance(S);
    // Each failed attempt waits its backoff (0.5 s here: the first attempt's, with no jitter) although the
    // store could not record it.
    expect(notifier.attempts).toBeGreaterThan(1);
    expect(notifier.attempts).toBeLessThanOrEqual(61);
    expect(logger.find('error', 'cannot update the outbox')).toHaveLength(1);
    full = false;
    notifier.down = false;
    for (let i = 0; i < 5; i++) await clock.advance(S);
    expect(notifier.sent).toHaveLength(1);
    expect(d.outbox!.pending('hook')).toBe(0);
    expect(logger.find('info', 'the notification store is writable again')).toHaveLength(1);
    await d.shutdown();
  });

  it('should not send again a notification the receiver took when the store could not forget it', async () => {
    const clock = new ManualClock();
    const logger = new MemoryLogger();
    const notifier = new SlowNotifier();
    const d = await dispatcher(clock, notifier, logger);
    let full = true;
    fillable(d.outbox!, () => full);
    d.handle(round(clock.nowMs(), alert('cpu')));
    for (let i = 0; i < 10; i++) await clock.advance(S);
    expect(notifier.sent).toHaveLength(1);
    expect(d.outbox!.pending('hook')).toBe(1);
    full = false;
    for (let i = 0; i < 10; i++) await clock.advance(S);
    expect(notifier.sent).toHaveLength(1);
    expect(d.outbox!.pending('hook')).toBe(0);
    await d.shutdown();
  });
});

describe('alert state file that cannot be written', () => {
  it('should log once, try again every round, and write the state once it can', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-state-full-'));
    dirs.push(dir);
    const blocker = path.join(dir, 'alerts');
    const file = path.join(blocker, 'state.json');
    const clock = new ManualClock();
    const logger = new MemoryLogger();
    const engine = new RuleEngine({
      clock,
      logger,
      rules: rulesOf(`      - {name: cpu_high, metric: cpu_percent, condition: '>', threshold: 85}\n`),
      stateStore: new AlertStateStore(file),
    });
    await engine.start();
    fs.writeFileSync(blocker, 'a file where the state directory should be');
    const evaluate = async (cpu: number) => {
      await clock.advance(15 * S);
      engine.ingest([gauge('cpu_percent', cpu)], clock.nowMs());
      engine.evaluate(clock.nowMs());
      await new Promise((resolve) => setTimeout(resolve, 20)); // the write runs on the thread pool
    };
    await evaluate(90); // fires: the state changed, but it cannot be written
    for (let i = 0; i < 5; i++) await evaluate(90); // nothing changes, the state is still not on disk
    expect(logger.find('error', 'cannot write the alert state')).toHaveLength(1);
    fs.rmSync(blocker);
    await evaluate(90);
    expect(new AlertStateStore(file).load()?.rules[0]?.alerts.map((a) => a.state)).toEqual(['firing']);
    expect(logger.find('info', 'the alert state is written again')).toHaveLength(1);
    await engine.shutdown();
  });
});
