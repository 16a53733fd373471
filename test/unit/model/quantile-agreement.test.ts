/**
 * The three places that estimate quantiles of a histogram — the alert engine (histogram_quantile of a rule),
 * the trend statistics (bucket increases of the history store) and the Neo4j query percentiles (bucket deltas
 * between collections) — give the same p50/p95/p99 for the same observations.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RuleEngine } from '../../../src/alerts/engine.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import type { Sample } from '../../../src/model/metric.js';
import { histogramDelta, histogramQuantilePoints } from '../../../src/probes/neo4j/answers.js';
import { SqliteHistoryStore } from '../../../src/trends/history-store.js';
import { computeStatistics } from '../../../src/trends/stats.js';
import { MINUTE, rulesOf } from '../alerts/rule-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const BOUNDARIES = [0.05, 0.1, 0.5, 1, 2.5];
/** Observations per bucket added every minute: cumulative 10, 40, 80, 92, 98, 100. */
const PER_MINUTE = [10, 30, 40, 12, 6, 2];
const MINUTES = 10;

/** The histogram after `minute` minutes, as a collection carries it (cumulative over time). */
function sampleAt(minute: number): Sample {
  const counts = PER_MINUTE.map((c) => c * minute);
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    metric: 'api_request_duration',
    labels: { endpoint: '/x' },
    value: count,
    timestampMs: T0 + minute * MINUTE,
    kind: 'histogram',
    histogram: { boundaries: BOUNDARIES, counts, sum: count * 0.3, count },
  };
}

function alertValue(q: 'p50' | 'p95' | 'p99'): number {
  const engine = new RuleEngine({
    clock: new ManualClock(T0),
    logger: new MemoryLogger(),
    rules: rulesOf(`
      - name: slow
        metric: api_request_duration
        aggregation: ${q}
        condition: '>'
        threshold: 0
        severity: warning
        message: slow
`),
    sinks: [],
  });
  let value = NaN;
  for (let m = 0; m <= MINUTES; m++) {
    const t = T0 + m * MINUTE;
    engine.ingest([sampleAt(m)], t);
    const alerts = engine.evaluate(t).alerts;
    if (alerts.length > 0) value = alerts[0]!.value;
  }
  return value;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function trendPercentiles(): Promise<{ p50: number; p95: number; p99: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-quantiles-'));
  dirs.push(dir);
  const now = { ms: T0 + MINUTES * MINUTE };
  const store = new SqliteHistoryStore({
    path: path.join(dir, 'history.db'),
    rawRetentionMs: 48 * 60 * MINUTE,
    rollup1mRetentionMs: 14 * 24 * 60 * MINUTE,
    retentionMs: 30 * 24 * 60 * MINUTE,
    nowMs: () => now.ms,
  });
  store.open();
  try {
    for (let m = 0; m <= MINUTES; m++) store.append([sampleAt(m)]);
    const [w] = await store.query('api_request_duration', {}, T0, now.ms);
    return computeStatistics(w!, T0, now.ms);
  } finally {
    store.close();
  }
}

describe('histogram quantiles across alerts, trends and the Neo4j probe', () => {
  it('should agree on p50, p95 and p99 of the same observations', async () => {
    const first = sampleAt(0).histogram!;
    const last = sampleAt(MINUTES).histogram!;
    const neo4jMs = histogramQuantilePoints(histogramDelta(first, last)).map((p) => p.value);
    const trend = await trendPercentiles();
    const expected = { p50: 0.1 + 0.4 * (10 / 40), p95: 1 + 1.5 * (3 / 6), p99: 2.5 };
    (['p50', 'p95', 'p99'] as const).forEach((q, i) => {
      expect(trend[q]).toBeCloseTo(expected[q], 12);
      expect(neo4jMs[i]! / 1000).toBeCloseTo(expected[q], 12);
      expect(alertValue(q)).toBeCloseTo(expected[q], 12);
    });
  });
});
