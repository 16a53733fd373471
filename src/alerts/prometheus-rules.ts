/**
 * The configured rules as a Prometheus rule file: one group, one alerting rule per enabled rule, PromQL over
 * the exported metric names (prefix, `_total` on counters, `_bucket`/`_sum`/`_count` for histograms). What
 * Prometheus cannot express directly, hysteresis, is written with the ALERTS series of the rule itself: an
 * alert that is already active stays while the value is beyond resolve_threshold.
 */
import { stringify } from 'yaml';
import type { AgentConfig } from '../config/schema.js';
import { formatDurationMs } from '../lib/duration.js';
import { compileRules, metricDirectory } from './rules.js';
import type { CompiledRule, MetricInfo } from './rules.js';

/** Exported name of a metric (without histogram suffix), under the configured prefix. */
function exportedMetricName(prefix: string, m: MetricInfo): string {
  const base = prefix === '' ? m.exportedName : `${prefix}_${m.exportedName}`;
  return m.kind === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
}

/**
 * Map from exported series names to the engine's names (`multi_agent_system_api_error_count_total` →
 * `api_error_count`, `…_api_request_duration_bucket` → `api_request_duration_bucket`).
 */
export function exportedNameMap(config: AgentConfig): Map<string, string> {
  const prefix = config.performance_monitor.prometheus.metric_prefix;
  const out = new Map<string, string>();
  for (const m of new Set(metricDirectory(config).values())) {
    const exported = exportedMetricName(prefix, m);
    if (m.kind === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count'])
        out.set(`${exported}${suffix}`, `${m.name}${suffix}`);
    } else {
      out.set(exported, m.name);
    }
  }
  return out;
}

function selector(name: string, matchers: CompiledRule['matchers']): string {
  if (matchers.length === 0) return name;
  return `${name}{${matchers.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}

/** The PromQL expression of a rule's value (before the threshold). */
function valueExpression(rule: CompiledRule, prefix: string): string {
  const exported = exportedMetricName(prefix, rule.metric);
  const w = `[${formatDurationMs(rule.rangeMs)}]`;
  const m = rule.matchers;
  const suffix = rule.seriesName.slice(rule.metric.name.length);
  const sel = selector(`${exported}${suffix}`, m);
  switch (rule.fn) {
    case 'instant':
      return sel;
    case 'avg_over_time':
    case 'max_over_time':
    case 'min_over_time':
    case 'rate':
    case 'increase':
      return `${rule.fn}(${sel}${w})`;
    case 'quantile_over_time':
      return `quantile_over_time(${rule.quantile}, ${sel}${w})`;
    case 'histogram_quantile':
      return `histogram_quantile(${rule.quantile}, rate(${sel}${w}))`;
    case 'histogram_mean':
      return `(rate(${selector(`${exported}_sum`, m)}${w}) / rate(${selector(`${exported}_count`, m)}${w}))`;
  }
}

/** The full alert expression, with the threshold (and hysteresis through ALERTS). */
function alertExpression(rule: CompiledRule, prefix: string): string {
  const value = valueExpression(rule, prefix);
  const main = `${value} ${rule.condition} ${rule.threshold}`;
  if (rule.resolveThreshold === undefined) return main;
  return (
    `${main} or (${value} ${rule.condition} ${rule.resolveThreshold} ` +
    `and ignoring(alertname, alertstate, severity) ALERTS{alertname=${JSON.stringify(rule.name)}})`
  );
}

export interface PrometheusRuleFile {
  groups: {
    name: string;
    interval?: string;
    rules: {
      alert: string;
      expr: string;
      for?: string;
      keep_firing_for?: string;
      labels: Record<string, string>;
      annotations?: Record<string, string>;
    }[];
  }[];
}

export function toPrometheusRules(config: AgentConfig, groupName = 'perf-monitor'): PrometheusRuleFile {
  const pm = config.performance_monitor;
  const prefix = pm.prometheus.metric_prefix;
  const interval = pm.alerting.evaluation_interval ?? pm.collection_interval;
  return {
    groups: [
      {
        name: groupName,
        interval: interval.text,
        rules: compileRules(config).map((r) => ({
          alert: r.name,
          expr: alertExpression(r, prefix),
          ...(r.forMs > 0 ? { for: formatDurationMs(r.forMs) } : {}),
          ...(r.keepFiringForMs > 0 ? { keep_firing_for: formatDurationMs(r.keepFiringForMs) } : {}),
          labels: { severity: r.severity },
          ...(r.annotations.length > 0
            ? { annotations: Object.fromEntries(r.annotations.map(([k, t]) => [k, t.source])) }
            : {}),
        })),
      },
    ],
  };
}

/** The rule file as YAML text. */
export function renderPrometheusRules(config: AgentConfig, source?: string): string {
  const header = `# Prometheus alerting rules exported by perf-monitor${source === undefined ? '' : ` from ${source}`}\n`;
  return header + stringify(toPrometheusRules(config), { lineWidth: 0 });
}
