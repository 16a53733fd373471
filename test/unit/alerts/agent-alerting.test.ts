import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../../src/agent/agent.js';
import type { EvaluationResult } from '../../../src/alerts/types.js';
import { advanceAndCollect, fixtureAgent, fixtureConfigText, scrape } from '../helpers/fixture-agent.js';

function alertingYaml(stateFile: string, memoryThreshold = 0): string {
  // The outbox next to the state file, never in the working directory shared by parallel tests.
  const store = path.join(path.dirname(stateFile), 'notifications.db');
  return `  alerting:
    state_file: ${JSON.stringify(stateFile)}
    notifications: {store_path: ${JSON.stringify(store)}}
    rules:
      - {name: memory_used, metric: memory_percent, condition: '>=', threshold: ${memoryThreshold}, severity: info}
      - {name: disk_seen, metric: disk_usage_percent, condition: '>=', threshold: 0, message: '{{ $labels.mount_point }}'}
      - {name: memory_for_an_hour, metric: memory_percent, condition: '>=', threshold: 0, duration: 1h}
`;
}

describe('agent with alert rules', () => {
  let running: PerformanceMonitorAgent | undefined;
  let dir: string;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should evaluate every collection, export the alerts, serve them, and tell the sinks', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-agent-alerts-'));
    const stateFile = path.join(dir, 'state.json');
    const fx = fixtureAgent('linux-vm', { extra: alertingYaml(stateFile) });
    running = fx.agent;
    const rounds: EvaluationResult[] = [];
    fx.agent.addAlertSink({ handle: (r) => rounds.push(r) });
    await fx.agent.start();

    const active = fx.agent.getActiveAlerts();
    const byRule = (rule: string) => active.filter((a) => a.rule === rule);
    expect(byRule('memory_used').map((a) => a.state)).toEqual(['firing']);
    expect(byRule('memory_for_an_hour').map((a) => a.state)).toEqual(['pending']);
    const mounts = byRule('disk_seen').map((a) => a.labels.mount_point);
    expect(mounts.length).toBeGreaterThan(0);
    expect(byRule('disk_seen').map((a) => a.annotations.summary)).toEqual(mounts);
    expect(rounds).toHaveLength(1);
    expect(rounds[0]!.alerts).toHaveLength(active.length);
    expect(fx.agent.getRuleStatuses().map((s) => s.health)).toEqual(['ok', 'ok', 'ok']);

    await advanceAndCollect(fx, 15_000);
    expect(rounds).toHaveLength(2);
    const { text } = await scrape(fx.agent);
    expect(text).toMatch(
      /^multi_agent_system_alerts\{severity="info",alertname="memory_used",alertstate="firing",[^}]*\} 1$/m,
    );
    expect(text).toMatch(
      /^multi_agent_system_alerts\{[^}]*alertname="memory_for_an_hour",alertstate="pending"/m,
    );
    expect(text).toMatch(
      /^multi_agent_system_monitor_rule_evaluation_failures_total\{rule="disk_seen",[^}]*\} 0$/m,
    );

    const api = await scrape(fx.agent, '/api/v1/alerts');
    const body = JSON.parse(api.text) as {
      status: string;
      data: { alerts: { state: string; labels: object }[] };
    };
    expect(body.status).toBe('success');
    expect(body.data.alerts).toHaveLength(active.length);
    expect(fs.existsSync(stateFile)).toBe(true);
  });

  it('should keep unchanged rules across a reload and start a changed one afresh', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-agent-alerts-'));
    const stateFile = path.join(dir, 'state.json');
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(file, fixtureConfigText('linux-vm', alertingYaml(stateFile)));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx.agent;
    await fx.agent.start();
    const pendingSince = fx.agent.getActiveAlerts().find((a) => a.rule === 'memory_for_an_hour')!.activeAtMs;
    await advanceAndCollect(fx, 15_000);
    fs.writeFileSync(file, fixtureConfigText('linux-vm', alertingYaml(stateFile, 101)));
    await fx.agent.reload();
    const after = fx.agent.getActiveAlerts();
    expect(after.find((a) => a.rule === 'memory_for_an_hour')?.activeAtMs).toBe(pendingSince);
    expect(after.filter((a) => a.rule === 'memory_used')).toEqual([]);
  });

  it('should report a state file it cannot read and go on without it', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-agent-alerts-'));
    const stateFile = path.join(dir, 'state.json');
    fs.writeFileSync(stateFile, '{"version": 1, "rules": [');
    const fx = fixtureAgent('linux-vm', { extra: alertingYaml(stateFile) });
    running = fx.agent;
    await fx.agent.start();
    const [record] = fx.logger.find('error', 'alert state not restored');
    expect(record?.fields).toMatchObject({ file: stateFile });
    expect(String(record?.fields.error)).toMatch(/is not JSON/);
    expect(fx.agent.getActiveAlerts().length).toBeGreaterThan(0);
  });

  it('should run without alerting when it is disabled', async () => {
    const fx = fixtureAgent('linux-vm', {
      extra: `  alerting:\n    enabled: false\n    rules:\n      - {name: r, metric: cpu_percent, condition: '>', threshold: 0}\n`,
    });
    running = fx.agent;
    await fx.agent.start();
    expect(fx.agent.getActiveAlerts()).toEqual([]);
    const api = await scrape(fx.agent, '/api/v1/alerts');
    expect(JSON.parse(api.text)).toEqual({ status: 'success', data: { alerts: [] } });
  });
});
