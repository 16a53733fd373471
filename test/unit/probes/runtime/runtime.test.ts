import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RUNTIME_METRICS, RuntimeProbe } from '../../../../src/probes/runtime/runtime.js';
import { SeriesTable } from '../../../../src/telemetry/series-table.js';

function gcTable(): SeriesTable {
  return new SeriesTable({
    name: 'nodejs_gc_duration_seconds',
    description: 'gc',
    unit: 's',
    kind: 'histogram',
    labelNames: ['kind'],
    boundaries: [0.001, 0.01, 0.1],
    limit: 16,
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('RuntimeProbe', () => {
  it('should report event-loop delay, utilization, heap and GC pauses by kind', async () => {
    const table = gcTable();
    const probe = new RuntimeProbe({ enabled: new Set(RUNTIME_METRICS), gcTable: table, resolutionMs: 1 });
    await probe.start();
    try {
      v8.setFlagsFromString('--expose-gc');
      (vm.runInNewContext('gc') as () => void)();
      await until(() => table.size > 0);
      const kinds = [...table.series()].map((s) => s.labels[0]);
      expect(kinds).toContain('major');
      for (const s of table.series()) expect(s.count).toBeGreaterThan(0);
      // A few turns of the event loop so that the delay histogram has samples.
      for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 5));
      const snap = await probe.collect();
      const names = snap.points.map((p) => p.metric).sort();
      expect(names).toEqual(RUNTIME_METRICS.filter((m) => m !== 'nodejs_gc_duration_seconds').sort());
      const value = (m: string): number => snap.points.find((p) => p.metric === m)!.value;
      expect(value('nodejs_eventloop_utilization')).toBeGreaterThanOrEqual(0);
      expect(value('nodejs_eventloop_utilization')).toBeLessThanOrEqual(1);
      expect(value('nodejs_heap_used_bytes')).toBeGreaterThan(0);
      expect(value('nodejs_heap_total_bytes')).toBeGreaterThanOrEqual(value('nodejs_heap_used_bytes'));
      expect(value('nodejs_eventloop_delay_p99_seconds')).toBeGreaterThanOrEqual(
        value('nodejs_eventloop_delay_p50_seconds'),
      );
    } finally {
      await probe.shutdown();
      await probe.shutdown();
    }
  });

  it('should keep the last event-loop delay when no sample came since the previous collection', async () => {
    const delayMetrics = ['nodejs_eventloop_delay_p50_seconds', 'nodejs_eventloop_delay_p99_seconds'];
    // One sample every 50 ms: the first collection waits for samples, the next one follows at once.
    const probe = new RuntimeProbe({ enabled: new Set(delayMetrics), resolutionMs: 50 });
    await probe.start();
    try {
      expect(probe.collectSync().points).toEqual([]); // nothing measured yet: nothing reported
      let first = probe.collectSync().points;
      for (let i = 0; i < 100 && first.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        first = probe.collectSync().points;
      }
      expect(first.map((p) => p.metric)).toEqual(delayMetrics);
      // Synchronously after: the histogram cannot have had a sample since, and the series stay.
      const second = probe.collectSync().points;
      expect(second).toEqual(first);
      for (const p of second) expect(p.value).toBeGreaterThanOrEqual(0);
    } finally {
      await probe.shutdown();
    }
  });

  it('should measure nothing that is not enabled', async () => {
    const probe = new RuntimeProbe({ enabled: new Set(['nodejs_heap_used_bytes']) });
    await probe.start();
    const snap = await probe.collect();
    expect(snap.points.map((p) => p.metric)).toEqual(['nodejs_heap_used_bytes']);
    await probe.shutdown();
  });
});
