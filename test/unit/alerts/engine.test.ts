import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuleEngine, fingerprint } from '../../../src/alerts/engine.js';
import { AlertStateStore } from '../../../src/alerts/state-store.js';
import type { EvaluationResult } from '../../../src/alerts/types.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { MINUTE, gauge, rulesOf } from './rule-helpers.js';

const T0 = Date.UTC(2026, 0, 1);

const CPU_FOR_2M = `
      - name: cpu_high
        metric: cpu_percent
        condition: '>'
        threshold: 85
        duration: 2m
        severity: critical
        message: 'CPU at {{ $value }}%'
`;

function engineWith(rulesYaml: string, opts: { store?: AlertStateStore } = {}) {
  const logger = new MemoryLogger();
  const rounds: EvaluationResult[] = [];
  const engine = new RuleEngine({
    clock: new ManualClock(T0),
    logger,
    rules: rulesOf(rulesYaml),
    sinks: [{ handle: (r) => rounds.push(r) }],
    stateStore: opts.store,
  });
  /** Feeds one collection per value (one a minute from `startMin`) and evaluates after each. */
  const feed = (metric: string, values: readonly (number | undefined)[], startMin = 0) =>
    values.map((v, i) => {
      const t = T0 + (startMin + i) * MINUTE;
      engine.ingest(v === undefined ? [] : [gauge(metric, v)], t);
      return engine.evaluate(t);
    });
  return { engine, logger, rounds, feed };
}

const states = (r: EvaluationResult) => r.alerts.map((a) => a.state);

describe('RuleEngine', () => {
  it('should go pending, fire once for has elapsed, and report the resolution once', () => {
    const { feed, rounds } = engineWith(CPU_FOR_2M);
    const results = feed('cpu_percent', [50, 90, 91, 92, 40, 40]);
    expect(results.map(states)).toEqual([[], ['pending'], ['pending'], ['firing'], ['inactive'], []]);
    const fired = results[3]!.alerts[0]!;
    expect(fired.labels).toEqual({ alertname: 'cpu_high', severity: 'critical' });
    expect(fired.annotations).toEqual({ summary: 'CPU at 92%' });
    expect(fired.activeAtMs).toBe(T0 + MINUTE);
    expect(fired.firedAtMs).toBe(T0 + 3 * MINUTE);
    expect(results[4]!.alerts[0]!.resolvedAtMs).toBe(T0 + 4 * MINUTE);
    expect(fired.fingerprint).toBe(fingerprint(fired.labels));
    expect(rounds).toHaveLength(6);
  });

  it('should drop a pending alert without telling the sinks', () => {
    const { feed } = engineWith(CPU_FOR_2M);
    expect(feed('cpu_percent', [90, 40]).map(states)).toEqual([['pending'], []]);
  });

  it('should keep firing for keep_firing_for after the condition stops, then resolve', () => {
    const { feed } = engineWith(`
      - {name: sticky, metric: cpu_percent, condition: '>', threshold: 85, keep_firing_for: 2m}
`);
    const r = feed('cpu_percent', [90, 10, 10, 10]);
    expect(r.map(states)).toEqual([['firing'], ['firing'], ['firing'], ['inactive']]);
    expect(r[2]!.alerts[0]!.value).toBe(90);
  });

  it('should hold an active alert until the value crosses resolve_threshold', () => {
    const { feed } = engineWith(`
      - {name: hot, metric: cpu_percent, condition: '>', threshold: 85, resolve_threshold: 70}
`);
    expect(feed('cpu_percent', [80, 90, 75, 71, 70, 80]).map(states)).toEqual([
      [],
      ['firing'],
      ['firing'],
      ['firing'],
      ['inactive'],
      [],
    ]);
  });

  it('should give one alert per series and name the series in the labels', () => {
    const { engine } = engineWith(`
      - {name: disk_full, metric: disk_usage_percent, condition: '>', threshold: 90, message: '{{ $labels.mount_point }} full'}
`);
    engine.ingest(
      [
        gauge('disk_usage_percent', 95, { mount_point: '/' }),
        gauge('disk_usage_percent', 50, { mount_point: '/data' }),
        gauge('disk_usage_percent', 99, { mount_point: '/tmp' }),
      ],
      T0,
    );
    const r = engine.evaluate(T0);
    expect(r.alerts.map((a) => a.annotations.summary).sort()).toEqual(['/ full', '/tmp full']);
    const points = [...engine.points()].filter((p) => p.metric === 'alerts');
    expect(points.map((p) => p.labels).sort((a, b) => a.mount_point!.localeCompare(b.mount_point!))).toEqual([
      { alertname: 'disk_full', alertstate: 'firing', severity: 'warning', mount_point: '/' },
      { alertname: 'disk_full', alertstate: 'firing', severity: 'warning', mount_point: '/tmp' },
    ]);
  });

  it('should report a rule that cannot be evaluated once, count it, and keep the other rules going', () => {
    const { engine, logger } = engineWith(`
      - {name: clash, metric: queue_length, condition: '>', threshold: 1, severity: info}
      - {name: cpu, metric: cpu_percent, condition: '>', threshold: 1}
`);
    // Two series that differ only in `severity`, which the rule overwrites: the same alert twice.
    const samples = [
      gauge('queue_length', 5, { queue_name: 'q', severity: 'a' }),
      gauge('queue_length', 5, { queue_name: 'q', severity: 'b' }),
      gauge('cpu_percent', 50),
    ];
    for (let i = 0; i < 3; i++) {
      engine.ingest(samples, T0 + i * MINUTE);
      const r = engine.evaluate(T0 + i * MINUTE);
      expect(r.alerts.map((a) => a.labels.alertname)).toEqual(['cpu']);
    }
    expect(logger.find('error', 'alert rule cannot be evaluated')).toHaveLength(1);
    expect(
      [...engine.points()].find(
        (p) => p.metric === 'monitor_rule_evaluation_failures' && p.labels.rule === 'clash',
      )?.value,
    ).toBe(3);
    expect(engine.ruleStatuses().map((s) => [s.name, s.health])).toEqual([
      ['clash', 'err'],
      ['cpu', 'ok'],
    ]);
    engine.ingest([gauge('cpu_percent', 50)], T0 + 3 * MINUTE);
    engine.evaluate(T0 + 3 * MINUTE);
    expect(logger.find('info', 'alert rule evaluates again')).toHaveLength(1);
  });

  it('should evaluate at most once per evaluation interval', () => {
    const engine = new RuleEngine({
      clock: new ManualClock(T0),
      logger: new MemoryLogger(),
      rules: rulesOf(CPU_FOR_2M),
      evaluationIntervalMs: 60_000,
    });
    const evaluated: number[] = [];
    for (let s = 0; s <= 120; s += 15) {
      const t = T0 + s * 1000 + (s % 30 === 0 ? -3 : 0);
      engine.onCollection({
        timestampMs: t,
        samples: [gauge('cpu_percent', 1)],
        resourceMetrics: undefined as never,
      });
      if (engine.lastEvaluationMs === t) evaluated.push(s);
    }
    expect(evaluated).toEqual([0, 60, 120]);
  });

  it('should keep the alerts of an unchanged rule across setRules and drop those of a changed one', () => {
    const { engine, feed } = engineWith(CPU_FOR_2M);
    feed('cpu_percent', [90, 90, 90]);
    engine.setRules(rulesOf(CPU_FOR_2M));
    expect(engine.activeAlerts().map((a) => a.state)).toEqual(['firing']);
    engine.setRules(rulesOf(CPU_FOR_2M.replace('threshold: 85', 'threshold: 80')));
    expect(engine.activeAlerts()).toEqual([]);
  });

  it("should compute Alertmanager's fingerprint", () => {
    expect(fingerprint({})).toBe('cbf29ce484222325');
    expect(fingerprint({ b: '2', a: '1' })).toBe(fingerprint({ a: '1', b: '2' }));
    expect(fingerprint({ a: '1' })).not.toBe(fingerprint({ a: '2' }));
  });

  describe('state file', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-engine-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('should restore pending start times and firing alerts, and resolve on start what resolved meanwhile', async () => {
      const file = path.join(dir, 'state.json');
      const rules = `${CPU_FOR_2M}
      - {name: queue_high, metric: queue_length, condition: '>', threshold: 10, duration: 5m}
`;
      const a = engineWith(rules, { store: new AlertStateStore(file) });
      await a.engine.start();
      for (let i = 0; i < 3; i++) {
        a.engine.ingest(
          [gauge('cpu_percent', 95), gauge('queue_length', 20, { queue_name: 'q' })],
          T0 + i * MINUTE,
        );
        a.engine.evaluate(T0 + i * MINUTE);
      }
      await a.engine.shutdown();
      const saved = new AlertStateStore(file).load()!;
      expect(saved.rules.map((r) => [r.name, r.alerts.map((x) => x.state)])).toEqual([
        ['cpu_high', ['firing']],
        ['queue_high', ['pending']],
      ]);

      const b = engineWith(rules, { store: new AlertStateStore(file) });
      await b.engine.start();
      expect(b.engine.activeAlerts().map((x) => [x.rule, x.state, x.activeAtMs])).toEqual([
        ['cpu_high', 'firing', T0],
        ['queue_high', 'pending', T0],
      ]);
      // CPU went down while the agent was away; the queue did not.
      const t = T0 + 10 * MINUTE;
      b.engine.ingest([gauge('cpu_percent', 10), gauge('queue_length', 20, { queue_name: 'q' })], t);
      const r = b.engine.evaluate(t);
      expect(r.alerts.map((x) => [x.labels.alertname, x.state])).toEqual([
        ['cpu_high', 'inactive'],
        ['queue_high', 'firing'],
      ]);
      expect(r.alerts[1]!.activeAtMs).toBe(T0);
      await b.engine.shutdown();
    });

    it('should hold a restored alert of a windowed rule until its window has data again', async () => {
      const file = path.join(dir, 'state.json');
      const rules = `
      - {name: errors, metric: api_error_count, aggregation: rate_5m, condition: '>', threshold: 1}
`;
      const counter = (v: number) => ({ ...gauge('api_error_count', v), kind: 'counter' as const });
      const a = engineWith(rules, { store: new AlertStateStore(file) });
      await a.engine.start();
      for (let i = 0; i < 4; i++) {
        a.engine.ingest([counter(i * 600)], T0 + i * MINUTE);
        a.engine.evaluate(T0 + i * MINUTE);
      }
      expect(a.engine.activeAlerts().map((x) => x.state)).toEqual(['firing']);
      await a.engine.shutdown();

      const b = engineWith(rules, { store: new AlertStateStore(file) });
      await b.engine.start();
      const t = T0 + 20 * MINUTE;
      b.engine.ingest([counter(9000)], t);
      // One sample: rate() has no value yet; the restored alert is held, not resolved.
      expect(states(b.engine.evaluate(t))).toEqual(['firing']);
      // The counter stopped: once the window has two samples the rate is 0 and the alert resolves.
      b.engine.ingest([counter(9000)], t + MINUTE);
      expect(states(b.engine.evaluate(t + MINUTE))).toEqual(['inactive']);
      await b.engine.shutdown();
    });

    it('should start afresh for a rule whose expression changed', async () => {
      const file = path.join(dir, 'state.json');
      const a = engineWith(CPU_FOR_2M, { store: new AlertStateStore(file) });
      await a.engine.start();
      a.feed('cpu_percent', [95, 95, 95]);
      await a.engine.shutdown();
      const b = engineWith(CPU_FOR_2M.replace('85', '80'), { store: new AlertStateStore(file) });
      await b.engine.start();
      expect(b.engine.activeAlerts()).toEqual([]);
      expect(b.logger.find('info', 'alert state restored')[0]!.fields).toMatchObject({
        alerts: 0,
        droppedChangedRules: 1,
      });
    });
  });
});

describe('RuleEngine history', () => {
  it('should keep only the series of the metrics its rules read', () => {
    const { engine } = engineWith(CPU_FOR_2M);
    for (let i = 0; i < 10; i++)
      engine.ingest(
        [
          gauge('cpu_percent', 50 + i),
          gauge('memory_percent', 40),
          gauge('disk_usage_percent', 70, { mount_point: '/' }),
          gauge('network_bytes_recv', i * 1000, { interface: 'eth0' }),
        ],
        T0 + i * 100,
      );
    expect(engine.store.seriesOf('cpu_percent')).toHaveLength(1);
    expect(engine.store.size).toBe(1);
    expect(engine.store.pointCount()).toBe(10);
  });

  it('should keep a metric once a reload adds a rule that reads it', () => {
    const { engine } = engineWith(CPU_FOR_2M);
    engine.ingest([gauge('cpu_percent', 50), gauge('memory_percent', 96)], T0);
    expect(engine.store.seriesOf('memory_percent')).toHaveLength(0);
    engine.setRules(
      rulesOf(`${CPU_FOR_2M}
      - name: memory_high
        metric: memory_percent
        condition: '>'
        threshold: 95
        duration: 0
        severity: critical
`),
    );
    engine.ingest([gauge('cpu_percent', 50), gauge('memory_percent', 96)], T0 + MINUTE);
    expect(engine.store.seriesOf('memory_percent')).toHaveLength(1);
    expect(engine.evaluate(T0 + MINUTE).alerts.map((a) => [a.labels.alertname, a.state])).toEqual([
      ['memory_high', 'firing'],
    ]);
  });
});

describe('SampleWindow', () => {
  it('should mark a series stale once when it leaves the collections and prune old points', async () => {
    const { SampleWindow } = await import('../../../src/alerts/sample-window.js');
    const store = new SampleWindow();
    store.ingest([gauge('x', 1, { a: '1' }), gauge('x', 2, { a: '2' })], 0);
    store.ingest([gauge('x', 1, { a: '1' })], 60_000);
    store.ingest([gauge('x', 1, { a: '1' })], 120_000);
    const [one, two] = store.seriesOf('x');
    expect(two!.staleTimes).toEqual([60_000]);
    expect(two!.instant(90_000)).toBeUndefined();
    expect(one!.instant(90_000)).toBe(1);
    expect(one!.instant(60_000 + 5 * 60_000)).toBe(1);
    expect(one!.instant(120_000 + 5 * 60_000 + 1)).toBeUndefined();
    const v = store.version('x');
    store.prune(100_000);
    expect(store.seriesOf('x')).toHaveLength(1);
    expect(store.version('x')).toBeGreaterThan(v);
    expect(store.pointCount()).toBe(1);
  });

  it('should turn a histogram into cumulative bucket, sum and count series', async () => {
    const { SampleWindow } = await import('../../../src/alerts/sample-window.js');
    const store = new SampleWindow();
    store.ingest(
      [
        {
          metric: 'h',
          labels: { e: '/' },
          value: 6,
          timestampMs: 0,
          kind: 'histogram',
          histogram: { boundaries: [0.1, 1], counts: [1, 2, 3], sum: 4.5, count: 6 },
        },
      ],
      0,
    );
    expect(store.seriesOf('h_bucket').map((s) => [s.labels.le, s.instant(0)])).toEqual([
      ['0.1', 1],
      ['1', 3],
      ['+Inf', 6],
    ]);
    expect(store.seriesOf('h_sum')[0]!.instant(0)).toBe(4.5);
    expect(store.seriesOf('h_count')[0]!.instant(0)).toBe(6);
  });
});
