/**
 * The shipped deployment files agree with each other, with the agent's defaults and with the deployment
 * guide (docs/deployment.md): ports, paths, variable names, and the package's file list.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const text = (p: string): string => readFileSync(root(p), 'utf8');

const agentConfig = text('config/performance_monitor_config.yaml');
const collectorConfig = text('otel-collector/config.yaml');
const prometheus = parse(text('config/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
};
const unit = text('config/systemd/perf-monitor.service');
const readme = text('README.md');
const guide = text('docs/deployment.md');
const pkg = JSON.parse(text('package.json')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  files: string[];
  name: string;
};

/** The `${VAR:-default}` default of a variable in a config text. */
function defaultOf(config: string, variable: string): string {
  const m = new RegExp(`\\$\\{(?:env:)?${variable}:-([^}]+)\\}`).exec(config);
  if (m === null) throw new Error(`no \${${variable}:-...} in the config`);
  return m[1]!;
}
function target(job: string): string {
  return prometheus.scrape_configs.find((j) => j.job_name === job)!.static_configs[0]!.targets[0]!;
}
function directive(key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
}

describe('shipped deployment files', () => {
  it("should scrape the agent at its default host and port, and the Collector at its exporter's default", () => {
    const agent = `${defaultOf(agentConfig, 'PERF_MONITOR_HOST')}:${defaultOf(agentConfig, 'PERF_MONITOR_PORT')}`;
    expect(target('perf-monitor')).toBe(agent);
    expect(target('perf-monitor-collector')).toBe(
      defaultOf(collectorConfig, 'PERF_MONITOR_COLLECTOR_PROMETHEUS_ENDPOINT'),
    );
    expect(prometheus.rule_files).toEqual(['rules/*.rules.yml']);
  });

  it('should document every Collector variable the config reads, and only those', () => {
    const inConfig = new Set(
      [...collectorConfig.matchAll(/\$\{env:(PERF_MONITOR_COLLECTOR_[A-Z_]+)/g)].map((m) => m[1]),
    );
    const inGuide = new Set([...guide.matchAll(/(PERF_MONITOR_COLLECTOR_[A-Z_]+)/g)].map((m) => m[1]));
    expect([...inGuide].sort()).toEqual([...inConfig].sort());
  });

  it('should start the packaged executable from the install prefix the guide uses, on /etc/perf-monitor/config.yaml', () => {
    const [exec] = directive('ExecStart');
    const main = `/opt/perf-monitor/node_modules/${pkg.name}/${pkg.bin['perf-monitor']}`;
    // With npm start's node flags and environment (a small young generation, V8's lite mode, two malloc arenas).
    const start = /^((?:[A-Z_]+=\S+ )*)node ((?:--\S+ )*)dist\/src\/cli\/main\.js run$/.exec(
      pkg.scripts.start!,
    );
    expect(start, pkg.scripts.start).not.toBeNull();
    const [, startEnv, startFlags] = start!;
    expect(startFlags).toContain('--lite-mode');
    expect(exec).toBe(`/usr/bin/env node ${startFlags}${main} run --config /etc/perf-monitor/config.yaml`);
    for (const assignment of startEnv!.split(' ').filter((a) => a !== ''))
      expect(directive('Environment')).toContain(assignment);
    expect(guide).toContain('sudo npm install --prefix /opt/perf-monitor ');
    expect(guide).toContain('/etc/perf-monitor/config.yaml');
  });

  it('should write only to its data dir, which is also its state and working directory', () => {
    expect(directive('StateDirectory')).toEqual(['perf-monitor']);
    expect(directive('ReadWritePaths')).toEqual(['/var/lib/perf-monitor']);
    expect(directive('WorkingDirectory')).toEqual(['/var/lib/perf-monitor']);
    expect(directive('ConfigurationDirectory')).toEqual(['perf-monitor']);
    expect(directive('EnvironmentFile')).toEqual(['-/etc/perf-monitor/env']);
  });

  it('should ship in the package every file the guide tells an installed host to use', () => {
    for (const file of [
      'config/performance_monitor_config.yaml',
      'config/systemd/perf-monitor.service',
      'config/prometheus/prometheus.yml',
      'otel-collector/config.yaml',
      'otel-collector/forward.yaml',
      'grafana/dashboards',
      'grafana/provisioning',
    ]) {
      expect(pkg.files, file).toContain(file);
      expect(guide, file).toContain(file);
    }
  });

  it('should ship the docs/ pages the README links to, and not the contributor guide', () => {
    const linked = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(0);
    for (const page of linked) expect(pkg.files, page).toContain(page.split('/')[0]);
    expect(pkg.files).not.toContain('CONTRIBUTING.md');
  });
});
