/**
 * Disk full while running: the history store, the notification outbox, the alert state file and the log file live on a
 * small tmpfs that the test fills up while the real executable runs. The agent keeps collecting and serving
 * /metrics, logs each failure once (not once per cycle), keeps what it had committed (the queued alert is
 * delivered later, the committed alert state survives a restart) and recovers once space returns: new history
 * rows appear, the outbox drains and the alert state that could not be written is written.
 *
 * Needs permission to mount a tmpfs (root on CI). Skipped with a banner on a developer machine where mounting
 * is not permitted; a failure under CI=true (test/services/availability.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { WebhookPayload } from '../../src/alerts/payload.js';
import { allAvailable, describeService } from '../services/availability.js';
import type { ServerHandle } from '../services/process.js';
import { WebhookReceiver } from '../services/webhook-receiver.js';
import {
  agentConfigText,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';
import { fill, mount, tmpfsAvailable, unmount } from './tmpfs.js';

/** The output lines after `from` that report a full disk. */
function diskFullLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /ENOSPC|no space left|disk is full|SQLITE_FULL/i.test(l))
    .map((l) => l.replace(/^\S+ /, '')); // without the time stamp
}

/** Collections the history store holds for the last hour (as the trends API reads them from the store). */
async function storedCollections(port: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/trends?metric=monitor_collections&window=1h`);
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { series: { count: number }[] };
  return body.series[0]?.count;
}

const mountDir = tempDir('disk-full');

describeService(
  'tmpfs mount and perf-monitor executable',
  allAvailable(builtCliAvailable(), tmpfsAvailable()),
  () => {
    let handle: ServerHandle | undefined;
    let mounted = false;
    const receiver = new WebhookReceiver();

    afterAll(async () => {
      await handle?.stop();
      await receiver.stop();
      if (mounted) unmount(mountDir);
    });

    it('should keep serving, log once, lose nothing committed and recover when space returns', async () => {
      const r = mount(mountDir, 'size=8m,mode=0700');
      expect(r).toEqual({ ok: true });
      mounted = true;
      const data = path.join(mountDir, 'data');
      const history = path.join(data, 'history');
      const stateFile = path.join(data, 'alerts', 'state.json');
      const filler = path.join(mountDir, 'filler');

      await receiver.start();
      await receiver.stop(); // its port is kept; nothing listens: the alert waits in the outbox

      const port = await freePort();
      const configDir = tempDir('disk-full-config');
      const config = path.join(configDir, 'agent.yaml');
      const collectionsBeforeLater = 12;
      fs.writeFileSync(
        config,
        `${agentConfigText({
          port,
          extra: `  alerting:
    state_file: ${JSON.stringify(stateFile)}
    notifications:
      group_wait: 0s
      group_interval: 1s
      store_path: ${JSON.stringify(path.join(data, 'notifications.db'))}
      outbox: {initial_backoff: 200ms, max_backoff: 1s}
      channels:
        - {type: webhook, name: hook, url: ${receiver.url()}}
    rules:
      - {name: always, metric: memory_percent, condition: '>=', threshold: 0}
      - {name: later, metric: monitor_collections, condition: '>', threshold: ${collectionsBeforeLater}}
`,
        }).replace(
          'logging:\n  level: debug',
          `logging:\n  level: info\n  file: ${JSON.stringify(path.join(data, 'agent.log'))}`,
        )}
trend_analysis:
  enabled: true
  storage: {path: ${JSON.stringify(history)}}
`,
      );
      const metricsUrl = `http://127.0.0.1:${port}/metrics`;
      const metric = async (name: string, ...labels: string[]): Promise<number | undefined> =>
        seriesValue((await getText(metricsUrl)).text, name, ...labels);

      handle = await startCliAgent(config, port);
      const h = handle;
      // Committed before the disk fills: the alert (in the outbox and the state file) and some history.
      await waitFor('the queued notification', async () =>
        ((await metric('multi_agent_system_monitor_outbox_pending', 'channel="hook"')) ?? 0) >= 1
          ? true
          : undefined,
      );
      await waitFor('the alert in the state file', () =>
        Promise.resolve(
          fs.existsSync(stateFile) && fs.readFileSync(stateFile, 'utf8').includes('"always"')
            ? true
            : undefined,
        ),
      );
      await waitFor('stored history', async () =>
        ((await storedCollections(port)) ?? 0) >= 2 ? true : undefined,
      );
      const collectionsAtFill = (await metric('multi_agent_system_monitor_collections_total')) ?? 0;
      expect(collectionsAtFill).toBeLessThan(collectionsBeforeLater - 2);

      fill(filler);
      const outputAtFill = h.output().length;
      // While the disk is full the `later` rule starts firing: its notification and state cannot be written.
      const alertsNow = async (): Promise<string[]> => {
        const body = JSON.parse((await getText(`http://127.0.0.1:${port}/api/v1/alerts`)).text) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return body.data.alerts.map((a) => `${a.labels.alertname}:${a.state}`).sort();
      };
      let scrapes = 0;
      let collectionsWhileFull = collectionsAtFill;
      await waitFor(
        'the later alert while the disk is full',
        async () => {
          const res = await getText(metricsUrl);
          expect(res.status).toBe(200);
          scrapes++;
          collectionsWhileFull = seriesValue(res.text, 'multi_agent_system_monitor_collections_total') ?? 0;
          return (await alertsNow()).includes('later:firing') ? true : undefined;
        },
        60_000,
        250,
      );
      // A few more collections on the full disk.
      await waitFor(
        'more collections',
        async () => {
          const res = await getText(metricsUrl);
          expect(res.status).toBe(200);
          const n = seriesValue(res.text, 'multi_agent_system_monitor_collections_total') ?? 0;
          return n >= collectionsWhileFull + 3 ? true : undefined;
        },
        30_000,
        250,
      );
      expect(scrapes).toBeGreaterThan(10);
      expect(h.process.exitCode).toBeNull();
      expect(await alertsNow()).toEqual(['always:firing', 'later:firing']);
      const fullLines = diskFullLines(h.output().slice(outputAtFill));
      expect(fullLines.length, fullLines.join('\n')).toBeGreaterThan(0);
      // Once per failing store, not once per collection (≈ 10 collections and evaluations have run).
      const messages = fullLines.map((l) => /^\s*(?:ERROR|WARN)\s+(.*?)(?: \w+=|$)/.exec(l)?.[1] ?? l);
      expect(new Set(messages).size, fullLines.join('\n')).toBe(messages.length);
      // Each names the real cause (SQLite's own rollback after a full disk must not hide it).
      expect(h.output().slice(outputAtFill)).not.toContain('cannot rollback');
      // Nothing could be appended to the history; what it had is still there.
      const storedWhileFull = (await storedCollections(port)) ?? 0;
      expect(storedWhileFull).toBeGreaterThanOrEqual(2);
      expect(storedWhileFull).toBeLessThan(collectionsWhileFull - 3);
      // The committed state is intact: still valid, still with the alert committed before the disk filled.
      expect(fs.readFileSync(stateFile, 'utf8')).toContain('"always"');

      // Space returns; the receiver comes back.
      fs.rmSync(filler);
      fs.rmSync(`${filler}.tail`);
      await receiver.start();
      await receiver.waitFor((got) => {
        const names = got.flatMap((g) => (g.json as WebhookPayload).alerts.map((a) => a.labels.alertname));
        return names.includes('always') && names.includes('later');
      });
      await waitFor('the outbox to drain', async () =>
        (await metric('multi_agent_system_monitor_outbox_pending', 'channel="hook"')) === 0
          ? true
          : undefined,
      );
      await waitFor('the state that could not be written', () =>
        Promise.resolve(fs.readFileSync(stateFile, 'utf8').includes('"later"') ? true : undefined),
      );
      await waitFor('new history rows', async () =>
        ((await storedCollections(port)) ?? 0) >= storedWhileFull + 2 ? true : undefined,
      );
      expect(h.output().slice(outputAtFill)).toContain('the notification store is writable again');
      expect(h.output().slice(outputAtFill)).toContain('the alert state is written again');
      // Failed writes left no temporary files behind.
      expect(fs.readdirSync(path.dirname(stateFile))).toEqual(['state.json']);
      const firing = receiver.received.flatMap((g) =>
        (g.json as WebhookPayload).alerts.filter((a) => a.status === 'firing').map((a) => a.labels.alertname),
      );
      expect(firing.filter((n) => n === 'always')).toHaveLength(1);

      // A restart finds both alerts in the state file; `always` was not notified again.
      await h.stop();
      expect(h.process.exitCode).toBe(0);
      handle = await startCliAgent(config, port);
      // (`later` then resolves at once: the new process counts its collections from zero.)
      expect(handle.output()).toMatch(/alert state restored.*alerts=2/);
      expect(await alertsNow()).toContain('always:firing');
    });
  },
  'disk full (tmpfs under the history, the outbox, the alert state and the log)',
);
