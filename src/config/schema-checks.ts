/**
 * The schema's checks across sections (a rule's metric must exist, identity labels must not collide with
 * metric labels, trend metrics must exist), and when a check across sections runs: even when unrelated parts
 * of the file are wrong, so that every problem is reported at once, but not while what it reads is wrong.
 */
import type { z } from 'zod';
import { CATALOG } from '../catalog/catalog.js';
import { knownMetricNames } from '../catalog/known-metrics.js';
import type { MetricDeclarations } from '../catalog/known-metrics.js';

/** Where a value stands in the file: keys of mappings and indexes of lists. */
export type KeyPath = readonly (string | number)[];

interface IssuePayload {
  readonly issues: readonly { readonly path?: readonly PropertyKey[] }[];
}

/**
 * Whether a check that reads the values at `reads` may run: not while a problem lies in one of them or at a
 * mapping that holds one (performance_monitor is not a mapping, say), so that the check sees the types the
 * schema promises. Problems elsewhere do not stop it, nor those `despite` accepts (ones the check passes over).
 */
export function readsValid(reads: readonly KeyPath[], despite?: (path: readonly PropertyKey[]) => boolean) {
  return (payload: IssuePayload): boolean =>
    !payload.issues.some(
      ({ path }) =>
        path !== undefined &&
        path.length > 0 &&
        reads.some((read) => sharesPrefix(path, read)) &&
        despite?.(path) !== true,
    );
}

/** Whether one path lies within the other. */
function sharesPrefix(a: readonly PropertyKey[], b: KeyPath): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the rule metric check reads (the rules and the metrics a configuration declares). */
export const RULE_READS: readonly KeyPath[] = [
  ['performance_monitor', 'alerting'],
  ['performance_monitor', 'application_metrics'],
  ['performance_monitor', 'neo4j_metrics'],
];
/** The label collision check reads the identity labels and the application metrics' labels. */
export const LABEL_READS: readonly KeyPath[] = [
  ['performance_monitor', 'prometheus'],
  ['performance_monitor', 'application_metrics'],
];
/** The trend metric check reads the declared metrics, like the rule metric check, and trend_analysis itself. */
export const TREND_READS: readonly KeyPath[] = [...RULE_READS, ['trend_analysis']];

interface RuleInputs extends MetricDeclarations {
  performance_monitor: MetricDeclarations['performance_monitor'] & {
    alerting: { rules: readonly { name: string; metric: string }[] };
  };
}

/** A rule's metric must be one the configuration knows. */
export function checkRuleMetrics(cfg: RuleInputs, ctx: z.RefinementCtx): void {
  const known = knownMetricNames(cfg);
  cfg.performance_monitor.alerting.rules.forEach((r, i) => {
    if (!known.has(r.metric)) {
      ctx.addIssue({
        code: 'custom',
        path: ['performance_monitor', 'alerting', 'rules', i, 'metric'],
        message: `rule ${r.name}: unknown metric ${JSON.stringify(r.metric)}`,
        params: { suggestFrom: [...known] },
      });
    }
  });
}

interface TrendInputs extends RuleInputs {
  trend_analysis: {
    anomaly_detection: { metrics: readonly string[] };
    forecasts: readonly { metric: string }[];
    sparkline_metrics: readonly string[];
  };
}

/** Metrics named in trend_analysis must exist, like a rule's metric (a typo would silently watch nothing). */
export function checkTrendMetrics(cfg: TrendInputs, ctx: z.RefinementCtx): void {
  const known = knownMetricNames(cfg);
  const check = (name: string, path: (string | number)[]): void => {
    if (known.has(name)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['trend_analysis', ...path],
      message: `unknown metric ${JSON.stringify(name)}`,
      params: { suggestFrom: [...known] },
    });
  };
  const t = cfg.trend_analysis;
  t.anomaly_detection.metrics.forEach((m, i) => check(m, ['anomaly_detection', 'metrics', i]));
  t.forecasts.forEach((f, i) => check(f.metric, ['forecasts', i, 'metric']));
  t.sparkline_metrics.forEach((m, i) => check(m, ['sparkline_metrics', i]));
}

interface LabelInputs {
  performance_monitor: {
    prometheus: { default_labels: Readonly<Record<string, string>> };
    application_metrics: readonly { labels?: readonly string[] }[];
  };
}

/**
 * The identity labels go on every series, so a metric label of the same name would give a series the
 * label twice, and Prometheus rejects the whole scrape for that.
 */
export function checkLabelCollisions(cfg: LabelInputs, ctx: z.RefinementCtx): void {
  const pm = cfg.performance_monitor;
  const metricLabels = new Map<string, string>();
  for (const e of CATALOG) for (const l of e.labels) if (!metricLabels.has(l)) metricLabels.set(l, e.name);
  for (const name of Object.keys(pm.prometheus.default_labels)) {
    const owner = metricLabels.get(name);
    if (owner !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['performance_monitor', 'prometheus', 'default_labels', name],
        message: `${JSON.stringify(name)} is already a label of ${owner}; pick another name`,
      });
    }
  }
  const identity = new Set([
    ...Object.keys(pm.prometheus.default_labels),
    'agent_instance',
    'version',
    'instance',
  ]);
  pm.application_metrics.forEach((m, i) => {
    m.labels?.forEach((label, j) => {
      if (identity.has(label)) {
        ctx.addIssue({
          code: 'custom',
          path: ['performance_monitor', 'application_metrics', i, 'labels', j],
          message: `${JSON.stringify(label)} is an identity label on every series (prometheus.default_labels); pick another name`,
        });
      }
    });
  });
}
