/**
 * Alert rules as the engine runs them: a configured rule (seed format plus aggregation, label matchers,
 * keep_firing_for, resolve_threshold, annotations) compiled into one of a few PromQL shapes over the exported
 * series, which the engine evaluates itself and `rules export` writes as PromQL.
 *
 *   no aggregation / last     <m>{matchers}                             (counters: <m>_total, histograms: <m>_count)
 *   mean|max|min[_w]          avg_over_time|max_over_time|min_over_time(<m>{…}[w])
 *   p50|p90|p95|p99[_w]       quantile_over_time(q, <m>{…}[w]); on histograms histogram_quantile(q, rate(<m>_bucket{…}[w]))
 *   mean[_w] on a histogram   rate(<m>_sum{…}[w]) / rate(<m>_count{…}[w])   (mean observation)
 *   rate_w / increase_w       rate|increase(<m>{…}[w]); on histograms over <m>_count
 *
 * A window-less aggregation uses a 5 minute window.
 */
import { CATALOG } from '../catalog/catalog.js';
import type { MetricKind } from '../model/metric.js';
import type { AgentConfig, AlertRuleConfig } from '../config/schema.js';
import { parseDurationMs } from '../lib/duration.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { compileTemplate } from './template.js';
import type { CompiledTemplate } from './template.js';

const DEFAULT_WINDOW_MS = 5 * 60_000;

export type Condition = AlertRuleConfig['condition'];

export type RuleFunction =
  | 'instant'
  | 'avg_over_time'
  | 'max_over_time'
  | 'min_over_time'
  | 'quantile_over_time'
  | 'rate'
  | 'increase'
  | 'histogram_quantile'
  | 'histogram_mean';

export interface MetricInfo {
  /** Name in the configuration and in the engine's series (`api_error_count`). */
  name: string;
  kind: MetricKind;
  /** Name exported before the prefix (`cpu_cores` for `cpu_count`). */
  exportedName: string;
}

export interface CompiledRule {
  readonly name: string;
  readonly config: AlertRuleConfig;
  readonly metric: MetricInfo;
  readonly fn: RuleFunction;
  /** Series the function reads, in the engine's naming (`api_request_duration_bucket`). */
  readonly seriesName: string;
  readonly quantile: number;
  readonly rangeMs: number;
  readonly matchers: readonly (readonly [string, string])[];
  readonly condition: Condition;
  readonly threshold: number;
  readonly resolveThreshold: number | undefined;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly severity: string;
  /** `summary` (from message) and the rule's annotations. */
  readonly annotations: readonly (readonly [string, CompiledTemplate])[];
  /** Changes when anything that decides the rule's alerts changes. */
  readonly identity: string;
  /** The same for rules whose value expression (before the threshold) is the same: they share one evaluation. */
  readonly valueKey: string;
}

/** A rule that cannot be compiled; `field` names the rule's key at fault. */
export class RuleCompileError extends AgentError {
  constructor(
    readonly rule: string,
    readonly field: string,
    message: string,
  ) {
    super('E_RULE_INVALID', message);
  }
}

/** Every metric a rule may name, by config name and by exported name. */
export function metricDirectory(config: AgentConfig): Map<string, MetricInfo> {
  const dir = new Map<string, MetricInfo>();
  const add = (info: MetricInfo): void => {
    dir.set(info.name, info);
    if (!dir.has(info.exportedName)) dir.set(info.exportedName, info);
  };
  for (const e of CATALOG) add({ name: e.name, kind: e.kind, exportedName: e.exportedName });
  const pm = config.performance_monitor;
  for (const m of pm.application_metrics) {
    if (dir.has(m.name)) continue;
    add({ name: m.name, kind: m.type ?? 'gauge', exportedName: m.name });
  }
  for (const q of pm.neo4j_metrics.queries) {
    if (dir.has(q.name)) continue;
    add({ name: q.name, kind: q.type, exportedName: q.name });
  }
  return dir;
}

const AGG_RE = /^(last|mean|max|min|p50|p90|p95|p99|rate|increase)(?:_(\d+(?:ms|s|m|h|d)))?$/;

export function compileRule(rule: AlertRuleConfig, directory: ReadonlyMap<string, MetricInfo>): CompiledRule {
  const fail = (field: string, message: string): never => {
    throw new RuleCompileError(rule.name, field, `rule ${rule.name}: ${message}`);
  };
  const metric =
    directory.get(rule.metric) ?? fail('metric', `unknown metric ${JSON.stringify(rule.metric)}`);
  const agg = AGG_RE.exec(rule.aggregation ?? 'last') ?? fail('aggregation', 'unknown aggregation');
  const fnName = agg[1]!;
  const rangeMs = agg[2] === undefined ? DEFAULT_WINDOW_MS : parseDurationMs(agg[2])!;
  if (rangeMs <= 0) fail('aggregation', 'the window must be longer than 0');
  const h = metric.kind === 'histogram';
  let fn: RuleFunction;
  let seriesName = metric.name;
  let quantile = NaN;
  switch (fnName) {
    case 'last':
      fn = 'instant';
      if (h) seriesName = `${metric.name}_count`;
      break;
    case 'mean':
      fn = h ? 'histogram_mean' : 'avg_over_time';
      break;
    case 'max':
    case 'min':
      if (h)
        fail(
          'aggregation',
          `${fnName} is not defined on histogram ${metric.name}; use p99/p50 or mean (the mean observation)`,
        );
      fn = fnName === 'max' ? 'max_over_time' : 'min_over_time';
      break;
    case 'rate':
    case 'increase':
      if (agg[2] === undefined) fail('aggregation', `${fnName} needs a window, such as ${fnName}_5m`);
      fn = fnName;
      if (h) seriesName = `${metric.name}_count`;
      break;
    default:
      quantile = Number(fnName.slice(1)) / 100;
      fn = h ? 'histogram_quantile' : 'quantile_over_time';
      if (h) seriesName = `${metric.name}_bucket`;
  }
  const annotations: [string, CompiledTemplate][] = [];
  const template = (field: string, text: string): CompiledTemplate => {
    try {
      return compileTemplate(text);
    } catch (err) {
      return fail(field, errorMessage(err));
    }
  };
  if (rule.message !== undefined) annotations.push(['summary', template('message', rule.message)]);
  for (const [k, v] of Object.entries(rule.annotations ?? {})) {
    if (k === 'summary' && rule.message !== undefined)
      fail('annotations', 'annotation "summary" is already set by message');
    annotations.push([k, template(`annotations.${k}`, v)]);
  }
  const matchers = Object.entries(rule.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const compiled = {
    name: rule.name,
    config: rule,
    metric,
    fn,
    seriesName,
    quantile,
    rangeMs: fn === 'instant' ? 0 : rangeMs,
    matchers,
    condition: rule.condition,
    threshold: rule.threshold,
    resolveThreshold: rule.resolve_threshold,
    forMs: rule.duration.ms,
    keepFiringForMs: rule.keep_firing_for?.ms ?? 0,
    severity: rule.severity,
    annotations,
  };
  return {
    ...compiled,
    valueKey: JSON.stringify([metric.name, fn, seriesName, quantile, compiled.rangeMs, matchers]),
    identity: JSON.stringify([
      metric.name,
      fn,
      seriesName,
      quantile,
      compiled.rangeMs,
      matchers,
      rule.condition,
      rule.threshold,
      rule.resolve_threshold,
      rule.severity,
    ]),
  };
}

/** The enabled rules of a configuration, compiled; throws RuleCompileError for the first bad one. */
export function compileRules(config: AgentConfig): CompiledRule[] {
  const dir = metricDirectory(config);
  return config.performance_monitor.alerting.rules.filter((r) => r.enabled).map((r) => compileRule(r, dir));
}

export function compare(op: Condition, v: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return v > threshold;
    case '<':
      return v < threshold;
    case '>=':
      return v >= threshold;
    case '<=':
      return v <= threshold;
    case '==':
      return v === threshold;
    case '!=':
      return v !== threshold;
  }
}
