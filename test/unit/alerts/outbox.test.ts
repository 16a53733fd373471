import { describe, expect, it } from 'vitest';
import { OUTBOX_CACHE_KIB, openNotificationDb } from '../../../src/alerts/notification-store.js';
import { Outbox, backoffMs } from '../../../src/alerts/outbox.js';
import type { NotificationBatch } from '../../../src/alerts/types.js';
import { alert } from './notify-helpers.js';

function batch(group: string, status: 'firing' | 'resolved' = 'firing'): NotificationBatch {
  return { groupKey: group, groupLabels: {}, status, alerts: [alert(group)] };
}

describe('Outbox', () => {
  it('should open its store with a bounded page cache', async () => {
    const db = await openNotificationDb(':memory:');
    const kib = -(db.prepare('PRAGMA cache_size').get() as { cache_size: number }).cache_size;
    expect(kib).toBe(OUTBOX_CACHE_KIB);
    expect(kib).toBeLessThan(2000);
    db.close();
  });

  it('should hand out only the head of each channel and group, oldest first', async () => {
    const outbox = new Outbox(await openNotificationDb(':memory:'), { maxPerChannel: 10 });
    outbox.enqueue('a', batch('g1'), 0);
    outbox.enqueue('a', batch('g1', 'resolved'), 0);
    outbox.enqueue('a', batch('g2'), 0);
    outbox.enqueue('b', batch('g1'), 0);
    expect(outbox.heads().map((h) => `${h.channel}/${h.groupKey}/${h.status}`)).toEqual([
      'a/g1/firing',
      'a/g2/firing',
      'b/g1/firing',
    ]);
    outbox.complete(outbox.heads()[0]!.id);
    expect(outbox.heads()[0]!.status).toBe('resolved');
    expect(outbox.pending('a')).toBe(2);
  });

  it('should count what waits per channel after every change, the count being read between changes', async () => {
    const db = await openNotificationDb(':memory:');
    const outbox = new Outbox(db, { maxPerChannel: 2 });
    const counted = (): number[] => [outbox.pending('a'), outbox.pending('b')];
    // What the database says, to compare with (the outbox keeps counts between changes).
    const inDb = (channel: string): number =>
      Number(
        (db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE channel = ?').get(channel) as { n: number }).n,
      );
    expect(counted()).toEqual([0, 0]);
    outbox.enqueue('a', batch('g1'), 0);
    expect(counted()).toEqual([1, 0]);
    outbox.enqueue('a', batch('g2'), 0);
    outbox.enqueue('b', batch('g1'), 0);
    expect(counted()).toEqual([2, 1]);
    // Full: the oldest is dropped to make room, the count stays at the maximum.
    expect(outbox.enqueue('a', batch('g3'), 0)).toBe(1);
    expect(counted()).toEqual([2, 1]);
    outbox.complete(outbox.heads().find((h) => h.channel === 'b')!.id);
    expect(counted()).toEqual([2, 0]);
    outbox.complete(outbox.heads()[0]!.id);
    expect(counted()).toEqual([inDb('a'), inDb('b')]);
    expect(counted()).toEqual([1, 0]);
  });

  it('should record a retry: one more attempt and the next attempt time', async () => {
    const outbox = new Outbox(await openNotificationDb(':memory:'), { maxPerChannel: 10 });
    outbox.enqueue('a', batch('g1'), 100);
    const id = outbox.heads()[0]!.id;
    outbox.retryAt(id, 5000, 'down');
    expect(outbox.heads()[0]).toMatchObject({ attempts: 1, nextAttemptMs: 5000 });
    outbox.allDue(200);
    expect(outbox.heads()[0]).toMatchObject({ nextAttemptMs: 200 });
  });
});

describe('backoffMs', () => {
  it('should double per attempt up to the cap, jittered between half and all of it', () => {
    const lo = { initialMs: 1000, maxMs: 8000, random: () => 0 };
    const hi = { ...lo, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 40].map((n) => backoffMs(n, lo))).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, hi))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});
