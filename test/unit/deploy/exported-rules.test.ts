/**
 * config/prometheus/rules/perf-monitor.rules.yml is what `perf-monitor rules export` writes for the
 * default config; it must never go stale. Regenerate with:
 *   perf-monitor rules export -c config/performance_monitor_config.yaml -o config/prometheus/rules/perf-monitor.rules.yml
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { rulesExportCommand } from '../../../src/cli/commands/rules.js';
import { loadConfigFile } from '../../../src/agent/load-config.js';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const DEFAULT_CONFIG = root('config/performance_monitor_config.yaml');
const SHIPPED = root('config/prometheus/rules/perf-monitor.rules.yml');

describe('shipped Prometheus rules (config/prometheus/rules/perf-monitor.rules.yml)', () => {
  it('should equal a fresh `rules export` of the default config', async () => {
    const out: string[] = [];
    const code = await rulesExportCommand(DEFAULT_CONFIG, {}, undefined, {
      out: (l) => out.push(l),
      err: (l) => out.push(`stderr: ${l}`),
    });
    expect(code).toBe(0);
    expect(`${out.join('\n')}\n`).toBe(readFileSync(SHIPPED, 'utf8'));
  });

  it('should hold one alert per enabled default rule', async () => {
    const { config } = await loadConfigFile(DEFAULT_CONFIG, {});
    const enabled = config.performance_monitor.alerting.rules.filter((r) => r.enabled).map((r) => r.name);
    const file = parse(readFileSync(SHIPPED, 'utf8')) as { groups: { rules: { alert: string }[] }[] };
    expect(file.groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual(enabled);
    expect(enabled).toHaveLength(13);
  });

  it('should be loaded by the shipped prometheus.yml (rule_files)', () => {
    const prometheus = parse(readFileSync(root('config/prometheus/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
    };
    expect(prometheus.rule_files).toContain('rules/*.rules.yml');
  });
});
