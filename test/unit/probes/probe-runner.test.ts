import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { ProbeRunner, YIELD_AFTER_MS } from '../../../src/probes/probe-runner.js';
import type { Probe, Snapshot } from '../../../src/probes/probe.js';

class ScriptedProbe implements Probe {
  calls = 0;
  started = 0;
  stopped = 0;
  constructor(
    readonly name: string,
    private readonly _next: (call: number, signal: AbortSignal) => Promise<Snapshot>,
  ) {}
  start(): Promise<void> {
    this.started++;
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    this.stopped++;
    return Promise.resolve();
  }
  collect(signal: AbortSignal): Promise<Snapshot> {
    return this._next(++this.calls, signal);
  }
}

const ok = (value: number): Snapshot => ({ status: 'ok', points: [{ metric: 'm', labels: {}, value }] });

function runner(
  probes: Probe[],
  timeoutMs = 100,
): { runner: ProbeRunner; clock: ManualClock; logger: MemoryLogger } {
  const clock = new ManualClock();
  const logger = new MemoryLogger();
  return { runner: new ProbeRunner({ probes, clock, logger, timeoutMs }), clock, logger };
}

describe('ProbeRunner', () => {
  it('should keep the latest points of every probe and report ok', async () => {
    const a = new ScriptedProbe('a', (n) => Promise.resolve(ok(n)));
    const b = new ScriptedProbe('b', () => Promise.resolve(ok(100)));
    const { runner: r } = runner([a, b]);
    await r.refresh();
    await r.refresh();
    expect([...r.points()].map((p) => p.value)).toEqual([2, 100]);
    expect(r.statuses().map((s) => s.state)).toEqual(['ok', 'ok']);
  });

  it('should call collectSync() of a synchronous probe instead of collect(), and fail it alone when it throws', async () => {
    class SyncProbe extends ScriptedProbe {
      syncCalls = 0;
      constructor(
        name: string,
        private readonly _sync: (call: number) => Snapshot,
      ) {
        super(name, () => Promise.reject(new Error('collect() of a synchronous probe')));
      }
      collectSync(): Snapshot {
        return this._sync(++this.syncCalls);
      }
    }
    const sync = new SyncProbe('sync', (n) => ok(10 * n));
    const broken = new SyncProbe('broken', (n) => {
      if (n === 2) throw new Error('parser broke');
      return { status: 'unavailable', points: [], reason: 'no file' };
    });
    const async = new ScriptedProbe('async', (n) => Promise.resolve(ok(n)));
    const { runner: r, logger } = runner([sync, broken, async]);
    await r.refresh();
    expect([...r.points()].map((p) => p.value)).toEqual([10, 1]);
    expect(r.statuses().map((s) => s.state)).toEqual(['ok', 'unavailable', 'ok']);
    expect(r.statuses()[1]!.reason).toBe('no file');
    await r.refresh();
    expect([...r.points()].map((p) => p.value)).toEqual([20, 2]);
    expect(r.statuses()[1]).toMatchObject({ name: 'broken', state: 'failed', reason: 'parser broke' });
    expect(logger.find('error', 'probe failed')).toHaveLength(1);
    expect([sync.calls, broken.calls, async.calls]).toEqual([0, 0, 2]);
  });

  it('should let the event loop turn once the probes started since the last turn held it for YIELD_AFTER_MS', async () => {
    let now = 0;
    class SteppedClock extends ManualClock {
      override monotonicMs(): number {
        return now;
      }
    }
    const events: string[] = [];
    class TimedProbe extends ScriptedProbe {
      constructor(
        name: string,
        private readonly _ms: number,
      ) {
        super(name, () => Promise.reject(new Error('collect() of a synchronous probe')));
      }
      collectSync(): Snapshot {
        events.push(this.name);
        now += this._ms;
        return ok(1);
      }
    }
    const run = async (ms: number): Promise<string[]> => {
      events.length = 0;
      const probes = ['a', 'b', 'c', 'd'].map((n) => new TimedProbe(n, ms));
      const r = new ProbeRunner({
        probes,
        clock: new SteppedClock(),
        logger: new MemoryLogger(),
        timeoutMs: 100,
      });
      setImmediate(() => events.push('turn'));
      await r.refresh();
      return [...events];
    };
    // Each probe holds the loop for 0.6 of the budget: a and b pass it, so the loop turns before c.
    expect(await run(YIELD_AFTER_MS * 0.6)).toEqual(['a', 'b', 'turn', 'c', 'd']);
    // Probes that take no time at all run back to back.
    expect(await run(0)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('should fail only the probe whose collect() throws instead of rejecting', async () => {
    const bad = new ScriptedProbe('bad', () => {
      throw new Error('parser broke');
    });
    const good = new ScriptedProbe('good', () => Promise.resolve(ok(1)));
    const { runner: r, logger } = runner([bad, good]);
    await r.refresh();
    await r.refresh();
    expect([...r.points()].map((p) => p.value)).toEqual([1]);
    expect(r.statuses()[0]).toMatchObject({ name: 'bad', state: 'failed', reason: 'parser broke' });
    expect(logger.find('error', 'probe failed')).toHaveLength(1);
  });

  it('should drop the points of a failing probe, keep the others, and log the failure once', async () => {
    const bad = new ScriptedProbe('bad', () => Promise.reject(new Error('read failed')));
    const good = new ScriptedProbe('good', () => Promise.resolve(ok(1)));
    const { runner: r, logger } = runner([bad, good]);
    await r.refresh();
    await r.refresh();
    await r.refresh();
    expect([...r.points()].map((p) => p.value)).toEqual([1]);
    expect(r.statuses()[0]).toMatchObject({ name: 'bad', state: 'failed', reason: 'read failed' });
    expect(logger.find('error', 'probe failed')).toHaveLength(1);
  });

  it('should log a recovery after a failure', async () => {
    const flaky = new ScriptedProbe('flaky', (n) =>
      n === 1 ? Promise.reject(new Error('x')) : Promise.resolve(ok(n)),
    );
    const { runner: r, logger } = runner([flaky]);
    await r.refresh();
    await r.refresh();
    expect(r.statuses()[0]!.state).toBe('ok');
    expect(logger.find('info', 'probe recovered')).toHaveLength(1);
  });

  it('should give up on a probe that outlives its budget, abort it, and not run it again until it settles', async () => {
    let settle: ((s: Snapshot) => void) | undefined;
    let aborted = false;
    const slow = new ScriptedProbe(
      'slow',
      (_n, signal) =>
        new Promise<Snapshot>((resolve) => {
          settle = resolve;
          signal.addEventListener('abort', () => (aborted = true));
        }),
    );
    const { runner: r, clock } = runner([slow], 100);
    const refresh = r.refresh();
    await clock.advance(100);
    await refresh;
    expect(aborted).toBe(true);
    expect(r.statuses()[0]).toMatchObject({ state: 'timeout' });
    await r.refresh();
    expect(slow.calls).toBe(1);
    expect(r.statuses()[0]).toMatchObject({ state: 'timeout', reason: 'the previous run has not finished' });
    settle!(ok(5));
    await clock.advance(0);
    const again = r.refresh();
    await clock.advance(0);
    settle!(ok(6));
    await again;
    expect(slow.calls).toBe(2);
    expect([...r.points()].map((p) => p.value)).toEqual([6]);
  });

  it('should treat an unavailable source as no points and log it at debug only', async () => {
    const absent = new ScriptedProbe('absent', () =>
      Promise.resolve({ status: 'unavailable', points: [], reason: 'no cgroup v2' }),
    );
    const { runner: r, logger } = runner([absent]);
    await r.refresh();
    await r.refresh();
    expect([...r.points()]).toEqual([]);
    expect(r.statuses()[0]).toMatchObject({ state: 'unavailable', reason: 'no cgroup v2' });
    expect(logger.find('debug', 'probe source unavailable')).toHaveLength(1);
    expect(logger.find('warn')).toHaveLength(0);
  });

  it('should keep the good points of a partial read and say how many parts failed', async () => {
    const partial = new ScriptedProbe('partial', () =>
      Promise.resolve({ status: 'partial', points: [{ metric: 'm', labels: {}, value: 3 }], failures: 2 }),
    );
    const { runner: r, logger } = runner([partial]);
    await r.refresh();
    expect([...r.points()].map((p) => p.value)).toEqual([3]);
    expect(r.statuses()[0]).toMatchObject({ state: 'partial', reason: '2 part(s) failed' });
    expect(logger.find('warn', 'probe read only part')).toHaveLength(1);
  });

  it('should start and shut down every probe once, safely twice', async () => {
    const a = new ScriptedProbe('a', () => Promise.resolve(ok(1)));
    const { runner: r } = runner([a]);
    await r.shutdown();
    await r.start();
    await r.start();
    await r.shutdown();
    await r.shutdown();
    expect([a.started, a.stopped]).toEqual([1, 1]);
  });
});
