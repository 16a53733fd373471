import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import type { DispatchChannel } from '../../../src/alerts/delivery.js';
import type { AlertDispatcherOptions } from '../../../src/alerts/dispatcher.js';
import { MaintenanceWindow } from '../../../src/alerts/maintenance.js';
import { parseMatchers } from '../../../src/alerts/matchers.js';
import { ManualClock } from '../../../src/lib/clock.js';
import type { AgentError } from '../../../src/lib/errors.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { RecordingNotifier, alert, round } from './notify-helpers.js';

const S = 1000;
const M = 60 * S;
const started: AlertDispatcher[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const d of started.splice(0)) await d.shutdown();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function make(
  clock: ManualClock,
  channels: DispatchChannel[],
  extra: Partial<AlertDispatcherOptions> = {},
): Promise<AlertDispatcher> {
  const d = new AlertDispatcher({
    channels,
    grouping: {
      groupBy: ['alertname'],
      groupWaitMs: 30 * S,
      groupIntervalMs: 5 * M,
      repeatIntervalMs: 4 * 60 * M,
    },
    storePath: ':memory:',
    maxOutboxPerChannel: 100,
    initialBackoffMs: S,
    maxBackoffMs: 60 * S,
    clock,
    logger: new MemoryLogger(),
    random: () => 0,
    ...extra,
  });
  started.push(d);
  await d.start();
  return d;
}

function tmpStore(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-'));
  dirs.push(dir);
  return path.join(dir, 'notifications.db');
}

describe('AlertDispatcher', () => {
  it('should not notify pending alerts', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    d.handle(round(clock.nowMs(), alert('cpu', {}, 'pending')));
    await clock.advance(10 * M);
    expect(n.batches).toEqual([]);
  });

  it('should wait group_wait and send alerts of one group together', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    d.handle(round(clock.nowMs(), alert('cpu', { cpu: '0' }, 'firing', clock.nowMs())));
    await clock.advance(10 * S);
    d.handle(
      round(
        clock.nowMs(),
        alert('cpu', { cpu: '0' }, 'firing', clock.nowMs() - 10 * S),
        alert('cpu', { cpu: '1' }, 'firing', clock.nowMs()),
      ),
    );
    await clock.advance(19 * S);
    expect(n.batches).toEqual([]);
    await clock.advance(1 * S);
    expect(n.summary()).toEqual(['firing:cpu,cpu']);
    expect(n.batches[0]!.groupKey).toBe('{}:{alertname="cpu"}');
    expect(n.batches[0]!.groupLabels).toEqual({ alertname: 'cpu' });
  });

  it('should put alerts with other group_by values in other groups', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    d.handle(round(clock.nowMs(), alert('cpu'), alert('disk')));
    await clock.advance(30 * S);
    expect(n.summary().sort()).toEqual(['firing:cpu', 'firing:disk']);
  });

  it('should notify a new alert of a notified group at the next group_interval, not before', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    const a = alert('cpu', { cpu: '0' });
    d.handle(round(clock.nowMs(), a));
    await clock.advance(30 * S);
    expect(n.batches).toHaveLength(1);
    await clock.advance(1 * M);
    d.handle(round(clock.nowMs(), a, alert('cpu', { cpu: '1' }, 'firing', clock.nowMs())));
    await clock.advance(4 * M - 1);
    expect(n.batches).toHaveLength(1);
    await clock.advance(1);
    expect(n.summary()).toEqual(['firing:cpu', 'firing:cpu,cpu']);
  });

  it('should not repeat an unchanged group before repeat_interval, and repeat it then', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }], {
      grouping: { groupBy: ['alertname'], groupWaitMs: 0, groupIntervalMs: M, repeatIntervalMs: 10 * M },
    });
    const a = alert('cpu');
    d.handle(round(clock.nowMs(), a));
    await clock.advance(0);
    for (let i = 0; i < 9; i++) {
      await clock.advance(M);
      d.handle(round(clock.nowMs(), a));
    }
    expect(n.batches).toHaveLength(1);
    await clock.advance(M);
    expect(n.batches).toHaveLength(2);
  });

  it('should send the resolution of a notified alert, with its end time', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    const a = alert('cpu');
    d.handle(round(clock.nowMs(), a));
    await clock.advance(30 * S);
    await clock.advance(M);
    const resolvedAt = clock.nowMs();
    d.handle(round(resolvedAt, { ...a, state: 'inactive', resolvedAtMs: resolvedAt }));
    await clock.advance(4 * M);
    expect(n.summary()).toEqual(['firing:cpu', 'resolved:cpu(resolved)']);
    expect(n.batches[1]!.alerts[0]!.resolvedAtMs).toBe(resolvedAt);
  });

  it('should treat an announced alert missing from a round as resolved', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(30 * S);
    d.handle(round(clock.nowMs()));
    await clock.advance(5 * M);
    expect(n.summary()).toEqual(['firing:cpu', 'resolved:cpu(resolved)']);
  });

  it('should not send a resolution for an alert that resolved before it was notified', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(10 * S);
    d.handle(round(clock.nowMs()));
    await clock.advance(10 * M);
    expect(n.batches).toEqual([]);
  });

  it('should leave resolutions out for a channel with sendResolved false', async () => {
    const clock = new ManualClock();
    const all = new RecordingNotifier('all');
    const firingOnly = new RecordingNotifier('firing-only');
    const d = await make(clock, [{ notifier: all }, { notifier: firingOnly, sendResolved: false }]);
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(30 * S);
    d.handle(round(clock.nowMs()));
    await clock.advance(5 * M);
    expect(all.summary()).toEqual(['firing:cpu', 'resolved:cpu(resolved)']);
    expect(firingOnly.summary()).toEqual(['firing:cpu']);
  });

  it('should not notify a silenced alert, and notify it once the silence is expired', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    const s = d.silences!.add(
      { matchers: parseMatchers('alertname="cpu"'), endsAtMs: clock.nowMs() + 60 * M },
      clock.nowMs(),
    );
    d.handle(round(clock.nowMs(), alert('cpu'), alert('disk')));
    await clock.advance(30 * S);
    expect(n.summary()).toEqual(['firing:disk']);
    expect(d.mutedBy(alert('cpu'))).toBe(`silence ${s.id}`);
    d.silences!.expire(s.id, clock.nowMs());
    await clock.advance(5 * M);
    expect(n.summary()).toEqual(['firing:disk', 'firing:cpu']);
  });

  it('should let a silence end by itself at its end time', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    d.silences!.add(
      { matchers: parseMatchers('severity=~"warn.*"'), endsAtMs: clock.nowMs() + 2 * M },
      clock.nowMs(),
    );
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(30 * S);
    expect(n.batches).toEqual([]);
    await clock.advance(5 * M);
    expect(n.summary()).toEqual(['firing:cpu']);
  });

  it('should not notify alerts inside a maintenance window that matches them', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 1, 59)); // a Monday
    const n = new RecordingNotifier();
    const window = new MaintenanceWindow({
      name: 'backup',
      days: ['mon'],
      start_time: '02:00',
      end_time: '03:00',
      matchers: ['alertname="disk"'],
    });
    const d = await make(clock, [{ notifier: n }], { maintenanceWindows: [window] });
    await clock.advance(M);
    d.handle(round(clock.nowMs(), alert('cpu'), alert('disk')));
    await clock.advance(30 * S);
    expect(n.summary()).toEqual(['firing:cpu']);
    await clock.advance(60 * M);
    expect(n.summary()).toEqual(['firing:cpu', 'firing:disk']);
  });

  it('should retry with capped exponential backoff and keep the order within a group', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }], {
      grouping: { groupBy: ['alertname'], groupWaitMs: 0, groupIntervalMs: M, repeatIntervalMs: 60 * M },
      initialBackoffMs: 10 * S,
      maxBackoffMs: 40 * S,
    });
    n.failing = 'transient';
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    expect(n.attempts).toBe(1);
    // random() = 0: waits are half the ceiling: 5 s, 10 s, 20 s, then capped at 20 s.
    await clock.advance(5 * S);
    expect(n.attempts).toBe(2);
    await clock.advance(10 * S);
    expect(n.attempts).toBe(3);
    d.handle(round(clock.nowMs()));
    await clock.advance(M); // the resolution is queued behind the firing notification
    expect(d.stats().get('test')!.pending).toBe(2);
    n.failing = false;
    await clock.advance(40 * S);
    expect(n.summary()).toEqual(['firing:cpu', 'resolved:cpu(resolved)']);
    expect(d.stats().get('test')).toEqual({ sent: 2, failed: n.attempts - 2, dropped: 0, pending: 0 });
  });

  it('should drop a notification the receiver rejects as malformed instead of retrying it', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    n.failing = 'permanent';
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(30 * S);
    await clock.advance(10 * M);
    expect(n.attempts).toBe(1);
    expect(d.stats().get('test')).toEqual({ sent: 0, failed: 1, dropped: 0, pending: 0 });
  });

  it('should drop the oldest resolution first when the outbox is full', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }], {
      grouping: { groupBy: ['...'], groupWaitMs: 0, groupIntervalMs: M, repeatIntervalMs: 600 * M },
      maxOutboxPerChannel: 3,
      initialBackoffMs: 3600 * S,
      maxBackoffMs: 3600 * S,
    });
    n.failing = 'transient';
    d.handle(round(clock.nowMs(), alert('a'), alert('b')));
    await clock.advance(0);
    d.handle(round(clock.nowMs(), alert('b')));
    await clock.advance(M); // 3 entries: firing a, firing b, resolved a
    d.handle(round(clock.nowMs(), alert('b'), alert('c')));
    await clock.advance(M); // firing c does not fit: resolved a goes
    expect(d.outbox!.all().map((e) => `${e.status}:${e.batch.alerts[0]!.labels.alertname}`)).toEqual([
      'firing:a',
      'firing:b',
      'firing:c',
    ]);
    d.handle(round(clock.nowMs(), alert('b'), alert('c'), alert('d')));
    await clock.advance(M); // no resolution left: the oldest entry goes
    expect(d.outbox!.all().map((e) => e.batch.alerts[0]!.labels.alertname)).toEqual(['b', 'c', 'd']);
    expect(d.stats().get('test')!.dropped).toBe(2);
    expect([...d.points()]).toContainEqual({
      metric: 'monitor_outbox_dropped',
      labels: { channel: 'test' },
      value: 2,
    });
  });

  it('should deliver after a restart what was queued before it, and resolve what stopped firing meanwhile', async () => {
    const store = tmpStore();
    const clock = new ManualClock();
    const n1 = new RecordingNotifier();
    n1.failing = 'transient';
    const d1 = await make(clock, [{ notifier: n1 }], { storePath: store });
    d1.handle(round(clock.nowMs(), alert('cpu'), alert('disk')));
    await clock.advance(30 * S);
    expect(d1.stats().get('test')!.pending).toBe(2);
    await d1.shutdown();

    const n2 = new RecordingNotifier();
    const d2 = await make(clock, [{ notifier: n2 }], { storePath: store });
    await clock.advance(0);
    expect(n2.summary().sort()).toEqual(['firing:cpu', 'firing:disk']);
    // cpu still fires after the restart and is not notified again; disk stopped while the agent was down.
    d2.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(5 * M);
    expect(n2.summary().slice(2)).toEqual(['resolved:disk(resolved)']);
  });

  it('should not take restored alerts for resolved when no evaluation round came yet', async () => {
    const store = tmpStore();
    const clock = new ManualClock();
    const n1 = new RecordingNotifier();
    const d1 = await make(clock, [{ notifier: n1 }], { storePath: store });
    d1.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(30 * S);
    expect(n1.summary()).toEqual(['firing:cpu']);
    await d1.shutdown();

    const n2 = new RecordingNotifier();
    const d2 = await make(clock, [{ notifier: n2 }], { storePath: store });
    await clock.advance(20 * M); // the engine is slow to start: several group intervals without a round
    d2.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(20 * M);
    expect(n2.batches).toEqual([]);
    d2.handle(round(clock.nowMs()));
    await clock.advance(5 * M);
    expect(n2.summary()).toEqual(['resolved:cpu(resolved)']);
  });

  it('should not wait longer than group_wait for an alert stamped in the future (clock skew)', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = await make(clock, [{ notifier: n }]);
    d.handle(round(clock.nowMs(), alert('cpu', {}, 'firing', clock.nowMs() + 365 * 24 * 60 * M)));
    await clock.advance(30 * S);
    expect(n.summary()).toEqual(['firing:cpu']);
  });

  it('should send to a direct channel at once, bypassing grouping, and re-send firing alerts every interval', async () => {
    const clock = new ManualClock();
    const am = new RecordingNotifier('am');
    const grouped = new RecordingNotifier('hook');
    const d = await make(clock, [{ notifier: am, direct: { resendIntervalMs: M } }, { notifier: grouped }]);
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    expect(am.summary()).toEqual(['firing:cpu']);
    expect(grouped.batches).toEqual([]);
    await clock.advance(30 * S);
    expect(grouped.summary()).toEqual(['firing:cpu']);
    expect(am.batches).toHaveLength(1); // grouped flushes never go to a direct channel
    await clock.advance(30 * S);
    d.handle(round(clock.nowMs(), alert('cpu'), alert('cpu', { cpu: '1' })));
    await clock.advance(0);
    expect(am.summary()).toEqual(['firing:cpu', 'firing:cpu', 'firing:cpu']); // one re-send, one new alert
    expect(am.batches[2]!.alerts.map((a) => a.labels.cpu)).toEqual(['1']);
    await clock.advance(2 * M);
    expect(am.batches.slice(3).map((b) => b.alerts.length)).toEqual([2, 2]); // re-sends carry all firing alerts
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    expect(am.summary().at(-1)).toBe('resolved:cpu(resolved)');
    expect(am.batches.at(-1)!.alerts[0]!.labels.cpu).toBe('1');
    d.handle(round(clock.nowMs()));
    await clock.advance(0);
    const after = am.batches.length;
    await clock.advance(5 * M);
    expect(am.batches).toHaveLength(after); // nothing fires: nothing to re-send
  });

  it('should tell a direct channel of alerts muted after they were sent, and send them again when the mute ends', async () => {
    const clock = new ManualClock();
    const am = new RecordingNotifier('am');
    const d = await make(clock, [{ notifier: am, direct: { resendIntervalMs: 60 * M } }]);
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    const s = d.silences!.add(
      { matchers: parseMatchers('alertname=cpu'), endsAtMs: clock.nowMs() + M },
      clock.nowMs(),
    );
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    d.silences!.expire(s.id, clock.nowMs());
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    expect(am.summary()).toEqual(['firing:cpu', 'resolved:cpu(resolved)', 'firing:cpu']);
  });

  it('should resolve at a direct channel, after a restart, an alert that stopped firing meanwhile', async () => {
    const store = tmpStore();
    const clock = new ManualClock();
    const am1 = new RecordingNotifier('am');
    const d1 = await make(clock, [{ notifier: am1, direct: { resendIntervalMs: M } }], { storePath: store });
    d1.handle(round(clock.nowMs(), alert('cpu'), alert('disk')));
    await clock.advance(0);
    await d1.shutdown();
    const am2 = new RecordingNotifier('am');
    const d2 = await make(clock, [{ notifier: am2, direct: { resendIntervalMs: M } }], { storePath: store });
    d2.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    expect(am2.summary()).toEqual(['resolved:disk(resolved)']);
  });

  it('should record a delivery that completes during shutdown, so a restart does not send it again', async () => {
    const store = tmpStore();
    const clock = new ManualClock();
    let release: () => void = () => undefined;
    const slow = new RecordingNotifier();
    const sent: string[] = [];
    slow.send = (batch) => {
      sent.push(batch.groupKey);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    const d1 = await make(clock, [{ notifier: slow }], { storePath: store });
    d1.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(30 * S);
    expect(sent).toEqual(['{}:{alertname="cpu"}']);
    const stopping = d1.shutdown();
    release();
    await stopping;
    expect(d1.stats().get('test')).toEqual({ sent: 1, failed: 0, dropped: 0, pending: 0 });
    expect(d1.silences).toBeUndefined();

    const n2 = new RecordingNotifier();
    const d2 = await make(clock, [{ notifier: n2 }], { storePath: store });
    d2.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(10 * M);
    expect(n2.batches).toEqual([]);
    expect(d2.outbox!.all()).toEqual([]);
  });

  it('should fail start, naming the file, when the store cannot be opened', async () => {
    const clock = new ManualClock();
    const dir = path.dirname(tmpStore());
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const d = new AlertDispatcher({
      channels: [],
      grouping: { groupBy: [], groupWaitMs: 0, groupIntervalMs: M, repeatIntervalMs: M },
      storePath: path.join(dir, 'not-a-dir', 'n.db'),
      maxOutboxPerChannel: 1,
      initialBackoffMs: S,
      maxBackoffMs: S,
      clock,
      logger: new MemoryLogger(),
    });
    const err = (await d.start().catch((e: unknown) => e)) as AgentError;
    expect(err.code).toBe('E_OUTBOX');
    expect(err.message).toContain('not-a-dir');
    await d.shutdown();
  });

  it('should keep the last result given before start and apply it on start', async () => {
    const clock = new ManualClock();
    const n = new RecordingNotifier();
    const d = new AlertDispatcher({
      channels: [{ notifier: n }],
      grouping: { groupBy: ['alertname'], groupWaitMs: 0, groupIntervalMs: M, repeatIntervalMs: 60 * M },
      storePath: ':memory:',
      maxOutboxPerChannel: 10,
      initialBackoffMs: S,
      maxBackoffMs: S,
      clock,
      logger: new MemoryLogger(),
    });
    started.push(d);
    d.handle(round(clock.nowMs(), alert('cpu')));
    await d.start();
    await clock.advance(0);
    expect(n.summary()).toEqual(['firing:cpu']);
  });

  it('should be safe to shut down before start and twice', async () => {
    const clock = new ManualClock();
    const d = new AlertDispatcher({
      channels: [],
      grouping: { groupBy: [], groupWaitMs: 0, groupIntervalMs: M, repeatIntervalMs: M },
      storePath: ':memory:',
      maxOutboxPerChannel: 1,
      initialBackoffMs: S,
      maxBackoffMs: S,
      clock,
      logger: new MemoryLogger(),
    });
    await d.shutdown();
    await d.shutdown();
    await d.start();
    d.handle(round(clock.nowMs(), alert('cpu')));
    expect(clock.pendingTimers).toBe(0);
  });
});
