/**
 * Differential test of the rule engine against promtool (Debian's Prometheus 2.42) as the oracle. Each scenario
 * in test/fixtures/rules/ is a promtool-format rule test whose rule_files are agent configurations. It runs:
 *
 * 1. through `perf-monitor rules test` (the hand-written expectations hold for this engine);
 * 2. through `promtool test rules` with rule_files pointed at the `rules export` of the same configurations
 *    (the expectations hold for Prometheus too);
 * 3. through promtool once more, with expectations generated from this engine's trace at EVERY evaluation
 *    step: the firing alerts with labels and annotations (alert_rule_test) and the pending and firing ones
 *    (ALERTS, promql_expr_test). Any difference in state, labels, annotations or timing fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { expect, it } from 'vitest';
import { loadConfigFile } from '../../src/agent/load-config.js';
import { main } from '../../src/cli/cli.js';
import { expandSeriesValues, runRuleTestFile } from '../../src/alerts/rule-test.js';
import { parseDurationMs } from '../../src/lib/duration.js';
import { describeService } from '../services/availability.js';
import { promtoolAvailable } from '../services/prometheus.js';
import { promtoolCheckTrace, promtoolTestConfigRules } from '../services/promtool-rules.js';

const DIR = fileURLToPath(new URL('../fixtures/rules/', import.meta.url));
const SCENARIOS = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** How long a scenario's input lasts, plus ten minutes: the trace covers every transition. */
function scenarioLengthMs(file: string): number {
  const doc = parse(fs.readFileSync(file, 'utf8')) as {
    tests: { interval?: string; input_series: { values: string }[] }[];
    evaluation_interval?: string;
  };
  let max = 0;
  for (const t of doc.tests) {
    const interval = parseDurationMs(t.interval ?? doc.evaluation_interval ?? '1m')!;
    for (const s of t.input_series)
      max = Math.max(max, expandSeriesValues(String(s.values)).length * interval);
  }
  return max + 10 * 60_000;
}

describeService('promtool', await promtoolAvailable(), () => {
  it('should have at least 25 scenarios', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(25);
  });

  it('should pass every scenario with perf-monitor rules test', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['rules', 'test', ...SCENARIOS.map((s) => path.join(DIR, s))],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
      {},
    );
    expect(out.filter((l) => l.trim() === 'SUCCESS')).toHaveLength(SCENARIOS.length);
    expect({ code, err }).toEqual({ code: 0, err: [] });
  });

  it.each(SCENARIOS)(
    '%s: promtool agrees with the expectations and with every step of the engine',
    async (name) => {
      const file = path.join(DIR, name);
      const oracle = await promtoolTestConfigRules(file);
      expect(oracle.output, oracle.testText).toMatch(/SUCCESS/);
      expect(oracle.exitCode).toBe(0);

      const ours = await runRuleTestFile(file, {
        loadConfig: loadConfigFile,
        traceUntilMs: scenarioLengthMs(file),
      });
      expect(ours.errors).toEqual([]);
      const steps = ours.groups.reduce((n, g) => n + g.steps.length, 0);
      expect(steps).toBeGreaterThan(5);
      const trace = await promtoolCheckTrace(file, ours.groups);
      expect(trace.output, trace.testText).toMatch(/SUCCESS/);
      expect(trace.exitCode).toBe(0);
    },
  );
});
