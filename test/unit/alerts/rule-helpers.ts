/** Rules from YAML snippets, and samples, for the alerting tests. */
import type { Sample } from '../../../src/model/metric.js';
import { compileRules } from '../../../src/alerts/rules.js';
import type { CompiledRule } from '../../../src/alerts/rules.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import type { AgentConfig } from '../../../src/config/schema.js';

/** A configuration whose alerting.rules are `rulesYaml` (list items indented by 6 spaces). */
export function configWithRules(rulesYaml: string, extra = ''): AgentConfig {
  return parseConfigText(
    `performance_monitor:\n  collection_interval: 1m\n${extra}  alerting:\n    rules:\n${rulesYaml}`,
    'rules.yaml',
    {},
  );
}

export function rulesOf(rulesYaml: string, extra = ''): CompiledRule[] {
  return compileRules(configWithRules(rulesYaml, extra));
}

export function gauge(metric: string, value: number, labels: Record<string, string> = {}): Sample {
  return { metric, labels, value, timestampMs: 0, kind: 'gauge' };
}

export const MINUTE = 60_000;
