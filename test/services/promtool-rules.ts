/**
 * Runs a rule unit-test file (promtool's format, `rule_files` naming agent configuration files) through
 * `promtool test rules`: each configuration is exported as a Prometheus rule file with the agent's own
 * exporter, `rule_files` is pointed at the exports, and promtool runs the result. Also builds, from a trace
 * of this engine, a promtool test that asserts the engine's alert states at every evaluation step.
 */
import fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfigFile } from '../../src/agent/load-config.js';
import { toPrometheusRules } from '../../src/alerts/prometheus-rules.js';
import type { GroupResult } from '../../src/alerts/rule-test.js';
import { formatDurationMs } from '../../src/lib/duration.js';
import { runCommand } from './process.js';
import type { RunResult } from './process.js';
import { PROMTOOL_BIN } from './prometheus.js';

interface TestDoc {
  rule_files: string[];
  evaluation_interval?: string;
  tests: Record<string, unknown>[];
}

export interface PromtoolRun extends RunResult {
  /** The test file promtool ran (inside a temp dir that is removed afterwards). */
  testText: string;
}

/** Writes the exported rules of `doc.rule_files` (relative to `baseDir`) next to the test, runs promtool. */
async function runWithExportedRules(doc: TestDoc, baseDir: string): Promise<PromtoolRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'perf-monitor-promtool-'));
  try {
    const ruleFiles: string[] = [];
    for (const [i, rf] of doc.rule_files.entries()) {
      const { config } = await loadConfigFile(path.resolve(baseDir, rf), {});
      const rules = toPrometheusRules(config);
      // promtool evaluates every group at the test's evaluation_interval.
      for (const g of rules.groups) delete g.interval;
      const name = `exported-${i}.yml`;
      await writeFile(path.join(dir, name), stringify(rules, { lineWidth: 0 }));
      ruleFiles.push(name);
    }
    const testText = stringify({ ...doc, rule_files: ruleFiles }, { lineWidth: 0 });
    await writeFile(path.join(dir, 'test.yml'), testText);
    const r = await runCommand(PROMTOOL_BIN, ['test', 'rules', path.join(dir, 'test.yml')], {
      timeoutMs: 60_000,
    });
    return { ...r, testText };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `promtool test rules` on a test file whose rule_files are agent configurations. */
export async function promtoolTestConfigRules(testFile: string): Promise<PromtoolRun> {
  const doc = parse(fs.readFileSync(testFile, 'utf8')) as TestDoc;
  return runWithExportedRules(doc, path.dirname(testFile));
}

/**
 * A promtool test asserting, at every evaluation step of `groups` (this engine's trace of `testFile`), the
 * firing alerts (alert_rule_test) and the pending and firing ones (ALERTS, promql_expr_test); then runs it.
 */
export async function promtoolCheckTrace(
  testFile: string,
  groups: readonly GroupResult[],
): Promise<PromtoolRun> {
  const doc = parse(fs.readFileSync(testFile, 'utf8')) as TestDoc;
  const tests = doc.tests.map((t, gi) => {
    const trace = groups[gi]!;
    const alertTests: unknown[] = [];
    const exprTests: unknown[] = [];
    for (const step of trace.steps) {
      const at = formatDurationMs(step.timeMs);
      for (const name of trace.alertnames) {
        alertTests.push({
          eval_time: at,
          alertname: name,
          exp_alerts: step.alerts
            .filter((a) => a.alertname === name && a.state === 'firing')
            .map((a) => {
              const { alertname: _omit, ...labels } = a.labels;
              return { exp_labels: labels, exp_annotations: a.annotations };
            }),
        });
      }
      exprTests.push({
        expr: 'ALERTS',
        eval_time: at,
        exp_samples: step.alerts.map((a) => ({
          labels: `ALERTS${labelText({ ...a.labels, alertstate: a.state })}`,
          value: 1,
        })),
      });
    }
    return { ...t, alert_rule_test: alertTests, promql_expr_test: exprTests };
  });
  return runWithExportedRules({ ...doc, tests }, path.dirname(testFile));
}

function labelText(labels: Readonly<Record<string, string>>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}
