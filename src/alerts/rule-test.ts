/**
 * Rule unit tests in promtool's test-file format, run against this engine: `rule_files` name agent
 * configuration files (seed-format rules), `input_series` use the exported metric names and promtool's series
 * notation (`1+2x10`, `_`, `_x3`, `stale`), and `alert_rule_test` lists the firing alerts expected at an
 * `eval_time`. As promtool does, the rules are evaluated at every `evaluation_interval` from 0 to the last
 * eval_time, and an expectation is checked at the evaluation step it falls in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { ConfigLoader, Env } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { SystemClock } from '../lib/clock.js';
import { formatDurationMs, parseDurationMs } from '../lib/duration.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { silentLogger } from '../lib/logger.js';
import { RuleEngine } from './engine.js';
import { exportedNameMap } from './prometheus-rules.js';
import { compileRules } from './rules.js';
import type { CompiledRule } from './rules.js';
import type { AlertState } from './types.js';

export type SeriesValue = number | 'stale' | undefined;

const NUMBER = String.raw`(?:[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|Inf|inf|NaN|nan)`;
const ITEM_RE = new RegExp(String.raw`^([+-]?${NUMBER})(?:([+-]${NUMBER})?x([0-9]+))?$`);

function num(text: string): number {
  const t = text.replace(/^\+/, '');
  if (/^-?inf$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  return Number(t);
}

/** Expands promtool's series notation: one entry per interval, undefined for `_`. */
export function expandSeriesValues(text: string): SeriesValue[] {
  const out: SeriesValue[] = [];
  for (const item of text.trim().split(/\s+/)) {
    if (item === '') continue;
    if (item === '_') {
      out.push(undefined);
      continue;
    }
    const blanks = /^_x([0-9]+)$/.exec(item);
    if (blanks !== null) {
      for (let i = 0; i < Number(blanks[1]); i++) out.push(undefined);
      continue;
    }
    if (item === 'stale') {
      out.push('stale');
      continue;
    }
    const m = ITEM_RE.exec(item);
    if (m === null) throw new AgentError('E_RULE_TEST', `bad series value ${JSON.stringify(item)}`);
    let v = num(m[1]!);
    if (m[3] === undefined) {
      out.push(v);
      continue;
    }
    const times = Number(m[3]);
    if (m[2] === undefined) {
      for (let i = 0; i <= times; i++) out.push(v);
    } else {
      const step = num(m[2]);
      out.push(v);
      for (let i = 1; i <= times; i++) {
        v += step;
        out.push(v);
      }
    }
  }
  return out;
}

/** Parses `name{label="value", …}` (the name may be given as __name__). */
export function parseSeriesSelector(text: string): { metric: string; labels: Record<string, string> } {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/s.exec(text);
  if (m === null) throw new AgentError('E_RULE_TEST', `bad series ${JSON.stringify(text)}`);
  const labels: Record<string, string> = {};
  const body = m[2] ?? '';
  const LABEL_RE = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let pos = 0;
  while (pos < body.length) {
    LABEL_RE.lastIndex = pos;
    const l = LABEL_RE.exec(body);
    if (l === null) {
      if (body.slice(pos).trim() === '') break;
      throw new AgentError('E_RULE_TEST', `bad labels in series ${JSON.stringify(text)}`);
    }
    labels[l[1]!] = JSON.parse(`"${l[2]!}"`) as string;
    pos = LABEL_RE.lastIndex;
  }
  let metric = m[1];
  if (metric === undefined) {
    metric = labels.__name__;
    if (metric === undefined) throw new AgentError('E_RULE_TEST', `series without a name: ${text}`);
  }
  delete labels.__name__;
  return { metric, labels };
}

interface ExpAlert {
  exp_labels?: Record<string, string | number>;
  exp_annotations?: Record<string, string>;
}

interface AlertTest {
  eval_time: string | number;
  alertname: string;
  exp_alerts?: ExpAlert[] | null;
}

interface TestGroup {
  name?: string;
  interval?: string | number;
  input_series?: { series: string; values: string | number }[];
  alert_rule_test?: AlertTest[];
  promql_expr_test?: unknown[];
  external_labels?: unknown;
}

interface TestFile {
  rule_files?: string[];
  evaluation_interval?: string | number;
  group_eval_order?: unknown;
  tests?: TestGroup[];
}

/** One alert at one evaluation step. */
export interface StepAlert {
  alertname: string;
  state: Exclude<AlertState, 'inactive'>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface StepTrace {
  timeMs: number;
  alerts: StepAlert[];
}

export interface GroupResult {
  name: string;
  failures: string[];
  /** Every evaluation step with the pending and firing alerts after it. */
  steps: StepTrace[];
  /** Names of the rules under test. */
  alertnames: string[];
}

export interface RuleTestResult {
  file: string;
  ok: boolean;
  groups: GroupResult[];
  /** Problems with the file itself (unreadable, unsupported keys). */
  errors: string[];
}

export interface RuleTestOptions {
  /**
   * Loads a rule file, an agent configuration: the product's loader (src/agent/load-config.ts), so that a rule
   * is checked as the agent checks it.
   */
  loadConfig: ConfigLoader['loadConfigFile'];
  env?: Env;
  /** Extra evaluation steps beyond the last eval_time (the differential test traces whole scenarios). */
  traceUntilMs?: number;
}

function duration(value: string | number | undefined, fallbackMs: number, what: string): number {
  if (value === undefined) return fallbackMs;
  const ms = parseDurationMs(value);
  if (ms === undefined)
    throw new AgentError('E_RULE_TEST', `${what}: invalid duration ${JSON.stringify(value)}`);
  return ms;
}

function labelText(labels: Readonly<Record<string, string>>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

/** Runs every test group of one test file. */
export async function runRuleTestFile(file: string, opts: RuleTestOptions): Promise<RuleTestResult> {
  const result: RuleTestResult = { file, ok: false, groups: [], errors: [] };
  let doc: TestFile;
  try {
    doc = (parse(fs.readFileSync(file, 'utf8')) ?? {}) as TestFile;
  } catch (err) {
    result.errors.push(`cannot read ${file}: ${errorMessage(err)}`);
    return result;
  }
  if (doc.group_eval_order !== undefined) result.errors.push('group_eval_order is not supported');
  const configs: AgentConfig[] = [];
  for (const rf of doc.rule_files ?? []) {
    const p = path.resolve(path.dirname(file), rf);
    try {
      configs.push((await opts.loadConfig(p, opts.env ?? {})).config);
    } catch (err) {
      result.errors.push(`rule file ${rf}: ${errorMessage(err)}`);
    }
  }
  if ((doc.rule_files ?? []).length === 0) result.errors.push('rule_files is empty');
  let evalMs = 60_000;
  try {
    evalMs = duration(doc.evaluation_interval, 60_000, 'evaluation_interval');
  } catch (err) {
    result.errors.push(errorMessage(err));
  }
  if (result.errors.length > 0) return result;

  const rules: CompiledRule[] = [];
  const names = new Map<string, string>();
  for (const c of configs) {
    try {
      rules.push(...compileRules(c));
    } catch (err) {
      result.errors.push(errorMessage(err));
    }
    for (const [k, v] of exportedNameMap(c)) names.set(k, v);
  }
  if (result.errors.length > 0) return result;

  for (const [i, group] of (doc.tests ?? []).entries()) {
    try {
      result.groups.push(runGroup(group, i, rules, names, evalMs, opts));
    } catch (err) {
      result.errors.push(`test group ${group.name ?? i}: ${errorMessage(err)}`);
    }
  }
  result.ok = result.errors.length === 0 && result.groups.every((g) => g.failures.length === 0);
  return result;
}

function runGroup(
  group: TestGroup,
  index: number,
  rules: readonly CompiledRule[],
  names: ReadonlyMap<string, string>,
  evalMs: number,
  opts: RuleTestOptions,
): GroupResult {
  if (group.promql_expr_test !== undefined && group.promql_expr_test.length > 0)
    throw new AgentError('E_RULE_TEST', 'promql_expr_test is not supported (there is no PromQL engine here)');
  if (group.external_labels !== undefined)
    throw new AgentError('E_RULE_TEST', 'external_labels is not supported');
  const intervalMs = duration(group.interval, evalMs, 'interval');
  const clock = new SystemClock();
  const engine = new RuleEngine({
    clock,
    logger: silentLogger,
    rules,
  });
  for (const input of group.input_series ?? []) {
    const { metric, labels } = parseSeriesSelector(input.series);
    const internal = names.get(metric) ?? metric;
    expandSeriesValues(String(input.values)).forEach((v, i) => {
      if (v === undefined) return;
      if (v === 'stale') engine.store.markStale(internal, labels, i * intervalMs);
      else engine.store.append(internal, labels, i * intervalMs, v);
    });
  }
  const tests = (group.alert_rule_test ?? []).map((t) => ({
    ...t,
    evalMs: duration(t.eval_time, 0, 'eval_time'),
  }));
  const lastMs = Math.max(0, opts.traceUntilMs ?? 0, ...tests.map((t) => t.evalMs));
  const failures: string[] = [];
  const steps: StepTrace[] = [];
  for (let ts = 0; ts <= lastMs; ts += evalMs) {
    engine.evaluate(ts);
    for (const st of engine.ruleStatuses()) {
      if (st.health === 'err' && !failures.some((f) => f.startsWith(`rule ${st.name}:`)))
        failures.push(
          `rule ${st.name}: cannot be evaluated at ${formatDurationMs(ts)}: ${st.lastError ?? ''}`,
        );
    }
    const active = engine.activeAlerts();
    steps.push({
      timeMs: ts,
      alerts: active.map((a) => ({
        alertname: a.rule,
        state: a.state as 'pending' | 'firing',
        labels: { ...a.labels },
        annotations: { ...a.annotations },
      })),
    });
    for (const t of tests) {
      if (!(ts <= t.evalMs && t.evalMs < ts + evalMs)) continue;
      const got = active
        .filter((a) => a.rule === t.alertname && a.state === 'firing')
        .map((a) => ({ labels: a.labels, annotations: a.annotations }));
      const exp = (t.exp_alerts ?? []).map((e) => ({
        labels: {
          ...Object.fromEntries(Object.entries(e.exp_labels ?? {}).map(([k, v]) => [k, String(v)])),
          alertname: t.alertname,
        },
        annotations: e.exp_annotations ?? {},
      }));
      const render = (
        list: readonly {
          labels: Readonly<Record<string, string>>;
          annotations: Readonly<Record<string, string>>;
        }[],
      ): string[] =>
        list.map((a) => `Labels:${labelText(a.labels)} Annotations:${labelText(a.annotations)}`).sort();
      const g = render(got);
      const e = render(exp);
      if (g.length !== e.length || g.some((x, i) => x !== e[i])) {
        failures.push(
          [
            `alertname: ${t.alertname}, time: ${formatDurationMs(t.evalMs)},`,
            `    exp:${formatList(e)},`,
            `    got:${formatList(g)}`,
          ].join('\n'),
        );
      }
    }
  }
  return { name: group.name ?? String(index), failures, steps, alertnames: rules.map((r) => r.name) };
}

function formatList(items: readonly string[]): string {
  if (items.length === 0) return '[]';
  return `[\n${items.map((x, i) => `        ${i}: ${x}`).join('\n')}\n        ]`;
}

/** promtool-like report lines for one file. */
export function formatRuleTestResult(r: RuleTestResult): string[] {
  const lines = [`Unit Testing:  ${r.file}`];
  if (r.errors.length > 0) {
    lines.push('  FAILED:');
    for (const e of r.errors) lines.push(`    ${e}`);
    return lines;
  }
  const failures = r.groups.flatMap((g) => g.failures);
  if (failures.length === 0) {
    lines.push('  SUCCESS');
    return lines;
  }
  lines.push('  FAILED:');
  for (const f of failures) lines.push(...f.split('\n').map((l) => `    ${l}`));
  return lines;
}
