/**
 * The wall clock stepped by hours while the monotonic clock moves on: counter rates scored for anomalies
 * divide by the time that passed (not by the step), and forecasts keep the slope they had.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CollectionBatch } from '../../../src/analysis/collection-reader.js';
import type { Sample } from '../../../src/model/metric.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ManualClock, WallClockSteps } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { TrendService } from '../../../src/trends/trend-service.js';

const HOUR = 3_600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const YAML = `  anomaly_detection:
    enabled: true
    min_samples: 5
    window_samples: 20
    metrics: [network_bytes_recv]
  forecasts:
    - {metric: disk_usage_percent, threshold: 100, window: 1h}
`;

/** A trend service fed one collection every 10 s of monotonic time, as the CollectionReader feeds it. */
async function feeder() {
  const clock = new ManualClock(Date.UTC(2026, 10, 1));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-trend-step-'));
  dirs.push(dir);
  const config = parseConfigText(
    `trend_analysis:\n  enabled: true\n  storage:\n    path: ${JSON.stringify(path.join(dir, 'h'))}\n${YAML}`,
    'x.yaml',
    {},
  );
  const s = new TrendService({
    config: config.trend_analysis,
    intervalMs: 10_000,
    metricPrefix: 'p',
    clock,
    logger: new MemoryLogger(),
  });
  await s.start();
  const steps = new WallClockSteps(clock);
  let n = 0;
  const collect = async (): Promise<void> => {
    await clock.advance(10_000);
    n++;
    const t = clock.nowMs();
    const samples: Sample[] = [
      // 100 bytes a second; the disk fills by 1 % a minute.
      { metric: 'network_bytes_recv', labels: {}, value: n * 1000, timestampMs: t, kind: 'counter' },
      { metric: 'disk_usage_percent', labels: {}, value: 10 + n / 6, timestampMs: t, kind: 'gauge' },
    ];
    s.onCollection({
      timestampMs: t,
      samples,
      resourceMetrics: undefined as never,
      clockStepMs: steps.check(t),
    } satisfies CollectionBatch);
  };
  return { s, clock, collect };
}

describe('wall clock steps: trends', () => {
  for (const stepMs of [2 * HOUR, -2 * HOUR]) {
    it(`should score the rate that passed and keep the forecast slope when the wall clock steps ${stepMs > 0 ? 'forward' : 'back'} 2 h`, async () => {
      const { s, clock, collect } = await feeder();
      for (let i = 0; i < 30; i++) await collect();
      clock.stepWall(stepMs);
      for (let i = 0; i < 3; i++) {
        await collect();
        const [state] = s.anomalies();
        expect(state!.timestampMs).toBe(clock.nowMs());
        expect(state!.value).toBeCloseTo(100, 9);
        expect(state!.flag).toBe(false);
        const [f] = s.forecasts();
        expect(f!.timestampMs).toBe(clock.nowMs());
        expect(f!.slope * 60).toBeCloseTo(1, 6); // 1 % a minute (slope per second)
      }
      await s.shutdown();
    });
  }
});
