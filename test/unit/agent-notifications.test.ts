/**
 * The agent's wiring of the notification dispatcher: rounds of the engine reach it, a resolution of the last
 * round before stop is delivered on the way out, a reload that cannot start a new dispatcher leaves the running
 * one (and nothing else) in place, and the outbox path is fixed at start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { advanceAndCollect, fixtureAgent, fixtureConfigText, scrape } from './helpers/fixture-agent.js';

function yaml(dir: string, threshold: number, storePath = path.join(dir, 'notifications.db')): string {
  return `  alerting:
    state_file: ${JSON.stringify(path.join(dir, 'state.json'))}
    notifications:
      group_wait: 0s
      group_interval: 1h
      store_path: ${JSON.stringify(storePath)}
      channels:
        - {type: log, level: warning}
    rules:
      - {name: memory_used, metric: memory_percent, condition: '>=', threshold: ${threshold}, severity: info}
`;
}

describe('agent with notifications', () => {
  let running: PerformanceMonitorAgent | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function setup(threshold: number): { file: string; fx: ReturnType<typeof fixtureAgent> } {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-agent-notify-'));
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(file, fixtureConfigText('linux-vm', yaml(dir, threshold)));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx.agent;
    return { file, fx };
  }

  it('should deliver the resolution of the last round before stop, not wait for the next group_interval', async () => {
    const { file, fx } = setup(0);
    await fx.agent.start();
    await advanceAndCollect(fx, 15_000);
    expect(fx.logger.find('warn', 'alert firing')).toHaveLength(1);
    const metrics = (await scrape(fx.agent)).text;
    expect(metrics).toMatch(
      /^multi_agent_system_monitor_notifications_sent_total\{channel="log",[^}]*\} 1$/m,
    );

    // The reload raises the threshold: the round it runs resolves the alert; group_interval (1h) is far off.
    fs.writeFileSync(file, fixtureConfigText('linux-vm', yaml(dir!, 101)));
    await fx.agent.reload();
    expect(fx.agent.getActiveAlerts()).toEqual([]);
    expect(fx.logger.find('info', 'alert resolved')).toHaveLength(0);

    await fx.agent.stop();
    expect(fx.logger.find('info', 'alert resolved')).toHaveLength(1);
  });

  it('should keep the running dispatcher when a reload cannot start a new one', async () => {
    const { file, fx } = setup(0);
    await fx.agent.start();
    await advanceAndCollect(fx, 15_000);
    expect(fx.logger.find('warn', 'alert firing')).toHaveLength(1);

    // An outbox under a regular file cannot open.
    const blocker = path.join(dir!, 'blocker');
    fs.writeFileSync(blocker, '');
    fs.writeFileSync(
      file,
      fixtureConfigText(
        'linux-vm',
        yaml(dir!, 0, path.join(blocker, 'notifications.db')).replace('1h', '2h'),
      ),
    );
    await expect(fx.agent.reload()).rejects.toThrow();
    const collections = async (): Promise<number> =>
      Number(
        /^multi_agent_system_monitor_collections_total\{[^}]*\} (\d+)$/m.exec(
          (await scrape(fx.agent)).text,
        )?.[1],
      );
    const before = await collections();
    await advanceAndCollect(fx, 15_000);
    expect(await collections()).toBe(before + 1);
    // A dispatcher with the previous settings took over: it knows the alert was notified and serves silences.
    expect(fx.logger.find('error', 'notification dispatch failed')).toHaveLength(0);
    await advanceAndCollect(fx, 15_000);
    expect(fx.logger.find('warn', 'alert firing')).toHaveLength(1);
    const silences = await scrape(fx.agent, '/api/v1/silences');
    expect(silences.status).toBe(200);
  });

  it('should replace the dispatcher on a reload that changes its settings, without notifying again', async () => {
    const { file, fx } = setup(0);
    await fx.agent.start();
    await advanceAndCollect(fx, 15_000);
    expect(fx.logger.find('warn', 'alert firing')).toHaveLength(1);
    fs.writeFileSync(
      file,
      fixtureConfigText('linux-vm', yaml(dir!, 0).replace('group_interval: 1h', 'group_interval: 1m')),
    );
    await fx.agent.reload();
    await advanceAndCollect(fx, 60_000);
    await advanceAndCollect(fx, 60_000);
    expect(fx.logger.find('warn', 'alert firing')).toHaveLength(1);
    // The new dispatcher is the one the rounds reach: a resolution is sent at its 1m group_interval.
    fs.writeFileSync(
      file,
      fixtureConfigText('linux-vm', yaml(dir!, 101).replace('group_interval: 1h', 'group_interval: 1m')),
    );
    await fx.agent.reload();
    await advanceAndCollect(fx, 60_000);
    expect(fx.logger.find('info', 'alert resolved')).toHaveLength(1);
  });

  it('should refuse to start when the outbox cannot open, unless it runs inside an application', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-agent-notify-'));
    const blocker = path.join(dir, 'blocker');
    fs.writeFileSync(blocker, '');
    const text = fixtureConfigText('linux-vm', yaml(dir, 0, path.join(blocker, 'notifications.db')));
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(file, text);

    const standalone = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    await expect(standalone.agent.start()).rejects.toThrow();
    expect(standalone.agent.url).toBeUndefined();

    const embedded = fixtureAgent('linux-vm', { configPath: file, config: undefined, embedded: true });
    running = embedded.agent;
    await embedded.agent.start();
    expect(embedded.logger.find('error', 'alert notifications not started')).toHaveLength(1);
    expect(embedded.agent.getActiveAlerts().map((a) => a.rule)).toEqual(['memory_used']);
    expect((await scrape(embedded.agent, '/api/v1/silences')).status).toBe(503);
  });

  it('should resolve a relative store_path against the working directory at start', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-agent-notify-'));
    const cwd = process.cwd();
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(file, fixtureConfigText('linux-vm', yaml(dir, 0, 'out/n.db')));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    running = fx.agent;
    process.chdir(dir);
    try {
      await fx.agent.start();
    } finally {
      process.chdir(cwd);
    }
    expect(fs.existsSync(path.join(dir, 'out', 'n.db'))).toBe(true);
    // A reload that changes the grouping, from another working directory, keeps the same outbox file.
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(file, fixtureConfigText('linux-vm', yaml(dir, 0, 'out/n.db').replace('1h', '2h')));
    process.chdir(elsewhere);
    try {
      await fx.agent.reload();
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });
});
