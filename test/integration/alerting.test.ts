/**
 * The rule engine end to end: the real `perf-monitor` executable evaluates rules on a live host, serves
 * /api/v1/alerts and the alerts gauge, `perf-monitor alerts` lists them, and the state file carries a pending
 * alert's start time over a kill -9. A writer killed with SIGKILL in the middle of state-file writes always
 * leaves a loadable file. `promtool check rules` accepts every export.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AlertStateStore } from '../../src/alerts/state-store.js';
import { describeService } from '../services/availability.js';
import { PROMTOOL_BIN, promtoolAvailable } from '../services/prometheus.js';
import { runCommand } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';
import {
  CLI,
  NODE,
  REPO_ROOT,
  agentConfigText,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';

const RULES = `  alerting:
    state_file: STATE
    notifications: {store_path: STORE}
    rules:
      - name: collections_seen
        metric: monitor_collections
        condition: '>'
        threshold: 0
        severity: info
        message: '{{ $value }} collections so far'
      - name: cpu_measured_for_an_hour
        metric: cpu_percent
        condition: '>='
        threshold: 0
        duration: 1h
        severity: warning
`;

interface ApiAlerts {
  status: string;
  data: { alerts: { labels: Record<string, string>; state: string; activeAt: string; value: string }[] };
}

describeService(
  'perf-monitor executable',
  builtCliAvailable(),
  () => {
    let handle: ServerHandle | undefined;
    afterEach(async () => {
      await handle?.stop();
      handle = undefined;
    });

    it('should serve alerts, list them, export ALERTS and restore a pending alert after kill -9', async () => {
      const dir = tempDir('alerting');
      const stateFile = path.join(dir, 'state', 'alerts.json');
      const port = await freePort();
      const file = path.join(dir, 'agent.yaml');
      fs.writeFileSync(
        file,
        agentConfigText({
          port,
          extra: RULES.replace('STATE', JSON.stringify(stateFile)).replace(
            'STORE',
            JSON.stringify(path.join(dir, 'notifications.db')),
          ),
        }),
      );
      const url = `http://127.0.0.1:${port}`;
      handle = await startCliAgent(file, port);

      const alerts = await waitFor('two alerts', async () => {
        const body = JSON.parse((await getText(`${url}/api/v1/alerts`)).text) as ApiAlerts;
        return body.data.alerts.length === 2 ? body.data.alerts : undefined;
      });
      const byName: Record<string, ApiAlerts['data']['alerts'][number]> = Object.fromEntries(
        alerts.map((a): [string, ApiAlerts['data']['alerts'][number]] => [a.labels.alertname ?? '', a]),
      );
      expect(byName.collections_seen).toMatchObject({ state: 'firing', labels: { severity: 'info' } });
      expect(byName.collections_seen!.value).toMatch(/^\d(\.\d+)?e\+\d\d$/);
      expect(byName.cpu_measured_for_an_hour).toMatchObject({ state: 'pending' });
      const pendingSince = byName.cpu_measured_for_an_hour!.activeAt;

      const metrics = await waitFor('the alerts gauge', async () => {
        const text = (await getText(`${url}/metrics`)).text;
        // The gauge shows the evaluation of the previous collection, as ALERTS lags one evaluation.
        return seriesValue(text, 'multi_agent_system_alerts', 'alertname="cpu_measured_for_an_hour"') === 1 &&
          seriesValue(text, 'multi_agent_system_alerts', 'alertname="collections_seen"') === 1
          ? text
          : undefined;
      });
      expect(
        seriesValue(
          metrics,
          'multi_agent_system_alerts',
          'alertname="collections_seen"',
          'alertstate="firing"',
        ),
      ).toBe(1);
      expect(
        seriesValue(metrics, 'multi_agent_system_monitor_rule_evaluation_duration_seconds'),
      ).toBeGreaterThanOrEqual(0);
      expect(
        seriesValue(
          metrics,
          'multi_agent_system_monitor_rule_evaluation_failures_total',
          'rule="collections_seen"',
        ),
      ).toBe(0);

      const listed = spawnSync(NODE, [CLI, 'alerts', '--url', url], { encoding: 'utf8', timeout: 30_000 });
      expect(listed.status).toBe(0);
      expect(listed.stdout).toMatch(
        /^firing +collections_seen \{severity="info"\} since \S+ value \S+ {2}\d+ collections so far$/m,
      );
      expect(listed.stdout).toMatch(/^pending +cpu_measured_for_an_hour \{severity="warning"\}/m);

      await waitFor('the state file', () => Promise.resolve(fs.existsSync(stateFile) ? true : undefined));
      handle.process.kill('SIGKILL');
      await new Promise((r) => handle!.process.once('exit', r));
      handle = await startCliAgent(file, port);
      const restored = await waitFor('the restored alert', async () => {
        const body = JSON.parse((await getText(`${url}/api/v1/alerts`)).text) as ApiAlerts;
        return body.data.alerts.find((a) => a.labels.alertname === 'cpu_measured_for_an_hour');
      });
      expect(restored).toMatchObject({ state: 'pending', activeAt: pendingSince });
    });

    it('should write the exported rules to a file with -o', () => {
      const dir = tempDir('rules-export');
      const out = path.join(dir, 'rules.yml');
      const r = spawnSync(
        NODE,
        [
          CLI,
          'rules',
          'export',
          '-c',
          path.join(REPO_ROOT, 'config/performance_monitor_config.yaml'),
          '-o',
          out,
        ],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(fs.readFileSync(out, 'utf8')).toContain('alert: high_api_error_rate');
    });
  },
  'perf-monitor executable (dist/)',
);

describeService(
  'perf-monitor build',
  builtCliAvailable(),
  () => {
    const writer = `
    import { AlertStateStore } from ${JSON.stringify(path.join(REPO_ROOT, 'dist/src/alerts/state-store.js'))};
    const store = new AlertStateStore(process.argv[1]);
    for (let i = 1; ; i++) {
      const alerts = Array.from({ length: (i % 400) + 1 }, (_, j) => ({
        labels: { alertname: 'r', series: String(j), pad: 'x'.repeat(200) },
        annotations: {}, state: 'firing', value: i, activeAtMs: i,
      }));
      store.saveSync({ version: 1, savedAtMs: i, rules: [{ name: 'r', identity: 'x', alerts }] });
      if (i === 1) process.stdout.write('ready\\n');
    }
  `;

    it('should always leave a state file that loads after a writer is killed with SIGKILL', async () => {
      const dir = tempDir('state-crash');
      const file = path.join(dir, 'alerts.json');
      let lastSeen = 0;
      for (let round = 0; round < 8; round++) {
        const child = spawn(NODE, ['--input-type=module', '-e', writer, file], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        await new Promise((r) => setTimeout(r, 20 + round * 37));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const state = new AlertStateStore(file).load();
        expect(state?.version).toBe(1);
        expect(state!.rules[0]!.alerts.length).toBe((state!.savedAtMs % 400) + 1);
        expect(state!.rules[0]!.alerts.every((a) => a.value === state!.savedAtMs)).toBe(true);
        lastSeen = state!.savedAtMs;
      }
      expect(lastSeen).toBeGreaterThan(1);
      // Temporary files left behind show that kills landed in the middle of writes, not between them.
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')).length).toBeGreaterThan(0);
    });
  },
  'state file writes killed with SIGKILL (dist/)',
);

describeService('promtool', await promtoolAvailable(), () => {
  it('should accept the export of the default configuration and of every test configuration', async () => {
    const configs = [
      path.join(REPO_ROOT, 'config/performance_monitor_config.yaml'),
      ...fs
        .readdirSync(path.join(REPO_ROOT, 'test/fixtures/rules/configs'))
        .map((f) => path.join(REPO_ROOT, 'test/fixtures/rules/configs', f)),
    ];
    const dir = tempDir('promtool-check');
    const { main } = await import('../../src/cli/cli.js');
    const files: string[] = [];
    for (const [i, c] of configs.entries()) {
      const out = path.join(dir, `rules-${i}.yml`);
      const code = await main(
        ['rules', 'export', '-c', c, '-o', out],
        { out: () => undefined, err: () => undefined },
        {},
      );
      expect(code, c).toBe(0);
      files.push(out);
    }
    const r = await runCommand(PROMTOOL_BIN, ['check', 'rules', ...files]);
    expect(r.output).not.toMatch(/FAILED/);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS: 13 rules found'); // the default config's enabled rules
  });
});
