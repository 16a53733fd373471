/**
 * Alerting end to end through the real `perf-monitor` executable: the rule engine's rounds reach the
 * notification channels the configuration names. A rule fires after two
 * collections (on `cpu_count > threshold`, surely crossed at 0); a SIGHUP reload that raises its threshold resolves it.
 * - webhook channel: the receiver checks the HMAC signature of each body, gets the alert, then the resolution;
 *   a resolution made just before SIGTERM is sent on the way out, not left for a group_interval an hour away;
 * - fault: the receiver is down while the alert fires, the agent is stopped (SIGTERM) and started again on the
 *   same outbox and state file, the receiver comes back: the notification arrives, and the resolution after it;
 * - `perf-monitor silence add|list|expire` against the running agent: nothing is sent while silenced;
 * - agent → a real Alertmanager → its webhook receiver: the alert, then the resolution;
 * - agent → a real Kafka broker → a consumer reads the alert and its resolution, keyed by fingerprint.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka';
import { afterEach, expect, it } from 'vitest';
import { verifySignature } from '../../src/alerts/notifiers/webhook.js';
import type { WebhookPayload } from '../../src/alerts/payload.js';
import { alertmanagerAvailable, startAlertmanager } from '../services/alertmanager.js';
import { allAvailable, describeService } from '../services/availability.js';
import { kafkaAvailable, startKafka } from '../services/kafka.js';
import type { ServerHandle } from '../services/process.js';
import { WebhookReceiver } from '../services/webhook-receiver.js';
import type { ReceivedRequest } from '../services/webhook-receiver.js';
import {
  CLI,
  NODE,
  agentConfigText,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';

const RULE = 'e2e_cpu_cores';
const HMAC_SECRET = 'e2e-signing-secret';

/** The alerting section: one rule that fires after two 1 s collections unless `threshold` is out of reach. */
function alertingYaml(dir: string, threshold: number, channels: string, groupInterval = '1s'): string {
  return `  alerting:
    state_file: ${JSON.stringify(path.join(dir, 'alert_state.json'))}
    notifications:
      group_wait: 0s
      group_interval: ${groupInterval}
      store_path: ${JSON.stringify(path.join(dir, 'notifications.db'))}
      outbox:
        initial_backoff: 200ms
        max_backoff: 1s
      channels:
${channels}
    rules:
      - name: ${RULE}
        metric: cpu_count
        condition: '>'
        threshold: ${threshold}
        duration: 2s
        severity: critical
        message: '{{ $value }} CPU cores'
`;
}

interface E2eAgent {
  url: string;
  /** Rewrites the rule's threshold and reloads (SIGHUP). */
  setThreshold(threshold: number): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function e2eAgent(
  dir: string,
  channels: string,
  threshold: number,
  groupInterval?: string,
): Promise<E2eAgent> {
  const port = await freePort();
  const file = path.join(dir, 'agent.yaml');
  const write = (t: number): void =>
    fs.writeFileSync(file, agentConfigText({ port, extra: alertingYaml(dir, t, channels, groupInterval) }));
  write(threshold);
  let handle: ServerHandle | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    setThreshold(t) {
      write(t);
      handle!.process.kill('SIGHUP');
    },
    async start() {
      handle = await startCliAgent(file, port);
    },
    async stop() {
      await handle?.stop();
      handle = undefined;
    },
  };
}

function webhookChannel(url: string): string {
  return `        - type: webhook
          name: hook
          url: ${url}
          hmac_secret: ${HMAC_SECRET}`;
}

/** The statuses the webhook receiver got for the rule's alert, in arrival order. */
function statuses(received: readonly ReceivedRequest[]): string[] {
  return received.flatMap((r) =>
    (r.json as WebhookPayload).alerts.filter((a) => a.labels.alertname === RULE).map((a) => a.status),
  );
}

async function activeState(url: string): Promise<string | undefined> {
  const body = JSON.parse((await getText(`${url}/api/v1/alerts`)).text) as {
    data: { alerts: { labels: Record<string, string>; state: string }[] };
  };
  return body.data.alerts.find((a) => a.labels.alertname === RULE)?.state;
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(NODE, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
}

describeService(
  'alerting end to end (perf-monitor executable, webhook receiver)',
  builtCliAvailable(),
  () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanup.splice(0).reverse()) await c();
    });

    async function setup(
      threshold: number,
      groupInterval?: string,
    ): Promise<{ agent: E2eAgent; receiver: WebhookReceiver; dir: string }> {
      const dir = tempDir('alerting-e2e');
      const receiver = new WebhookReceiver();
      await receiver.start();
      cleanup.push(async () => {
        await receiver.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      });
      const agent = await e2eAgent(dir, webhookChannel(receiver.url()), threshold, groupInterval);
      cleanup.push(() => agent.stop());
      return { agent, receiver, dir };
    }

    it('should send the alert and then its resolution to a webhook, signed with HMAC', async () => {
      const { agent, receiver } = await setup(0);
      await agent.start();
      await receiver.waitFor((r) => statuses(r).includes('firing'));
      agent.setThreshold(1e12);
      await receiver.waitFor((r) => statuses(r).includes('resolved'));

      expect(statuses(receiver.received)[0]).toBe('firing');
      expect(statuses(receiver.received).at(-1)).toBe('resolved');
      for (const r of receiver.received) {
        const signature = r.headers['x-perf-monitor-signature'];
        expect(typeof signature).toBe('string');
        expect(verifySignature(r.body, signature as string, HMAC_SECRET)).toBe(true);
        expect(verifySignature(r.body, signature as string, 'another-secret')).toBe(false);
      }
      const first = (receiver.received[0]!.json as WebhookPayload).alerts[0]!;
      expect(first.labels).toMatchObject({ alertname: RULE, severity: 'critical' });
      expect(first.annotations.summary).toMatch(/^\S+ CPU cores$/);
      const metrics = (await getText(`${agent.url}/metrics`)).text;
      expect(
        seriesValue(metrics, 'multi_agent_system_monitor_notifications_sent_total', 'channel="hook"'),
      ).toBeGreaterThanOrEqual(1);
    });

    it('should send the resolution of the last round when stopped (SIGTERM), not at the next group_interval', async () => {
      const { agent, receiver } = await setup(0, '1h');
      await agent.start();
      await receiver.waitFor((r) => statuses(r).includes('firing'));
      agent.setThreshold(1e12);
      await waitFor('the reload to resolve the alert', async () =>
        (await activeState(agent.url)) === undefined ? true : undefined,
      );
      expect(statuses(receiver.received)).toEqual(['firing']); // group_interval is an hour away
      await agent.stop();
      expect(statuses(receiver.received)).toEqual(['firing', 'resolved']);
    });

    it('should deliver, in order, what fired while the receiver was down and the agent restarted', async () => {
      const { agent, receiver } = await setup(0);
      await receiver.stop(); // down; start() brings it back on the same port
      await agent.start();
      await waitFor('a failed delivery', async () => {
        const metrics = (await getText(`${agent.url}/metrics`)).text;
        const failed = seriesValue(
          metrics,
          'multi_agent_system_monitor_notifications_failed_total',
          'channel="hook"',
        );
        return failed !== undefined && failed >= 1 ? true : undefined;
      });
      expect(await activeState(agent.url)).toBe('firing');
      await agent.stop(); // SIGTERM
      await agent.start(); // same outbox, same state file
      expect(await activeState(agent.url)).toBe('firing');
      const pending = (await getText(`${agent.url}/metrics`)).text;
      expect(
        seriesValue(pending, 'multi_agent_system_monitor_outbox_pending', 'channel="hook"'),
      ).toBeGreaterThanOrEqual(1);

      await receiver.start();
      await receiver.waitFor((r) => statuses(r).includes('firing'));
      agent.setThreshold(1e12);
      await receiver.waitFor((r) => statuses(r).includes('resolved'));
      const seen = statuses(receiver.received);
      // At least once, in order: every firing notification before the resolution, nothing after it.
      expect(seen.indexOf('resolved')).toBe(seen.length - 1);
      expect(seen.slice(0, -1).every((s) => s === 'firing')).toBe(true);
    });

    it('should send nothing while a silence added with the CLI holds, and notify once it is expired', async () => {
      const { agent, receiver } = await setup(1e12);
      await agent.start();

      const added = cli(
        'silence',
        'add',
        '--url',
        agent.url,
        '--matchers',
        `alertname="${RULE}"`,
        '--duration',
        '1h',
        '--comment',
        'e2e',
      );
      expect(added.stderr).toBe('');
      expect(added.status).toBe(0);
      const id = /^(\S+) until \S+$/m.exec(added.stdout)?.[1];
      expect(id).toBeDefined();
      const listed = cli('silence', 'list', '--url', agent.url);
      expect(listed.status).toBe(0);
      expect(listed.stdout).toContain(id!);
      expect(listed.stdout).toContain(RULE);

      agent.setThreshold(0);
      await waitFor('the alert to fire', async () =>
        (await activeState(agent.url)) === 'firing' ? true : undefined,
      );
      // Several group intervals (1 s) and collections pass while silenced.
      await new Promise((r) => setTimeout(r, 4_000));
      expect(await activeState(agent.url)).toBe('firing');
      expect(receiver.received).toEqual([]);

      const expired = cli('silence', 'expire', '--url', agent.url, '--id', id!);
      expect(expired.status).toBe(0);
      expect(expired.stdout).toContain(`expired ${id!}`);
      await receiver.waitFor((r) => statuses(r).includes('firing'));
    });
  },
);

describeService(
  'alerting end to end: Alertmanager',
  allAvailable(builtCliAvailable(), await alertmanagerAvailable()),
  () => {
    it('should reach the Alertmanager receiver with the alert, then its resolution', async () => {
      const dir = tempDir('alerting-e2e-am');
      const receiver = new WebhookReceiver();
      await receiver.start();
      const am = await startAlertmanager({ webhookUrl: receiver.url() });
      const agent = await e2eAgent(
        dir,
        `        - type: alertmanager
          url: ${am.url}`,
        0,
      );
      try {
        await agent.start();
        await receiver.waitFor((r) => statuses(r).includes('firing'), 60_000);
        agent.setThreshold(1e12);
        await receiver.waitFor((r) => statuses(r).includes('resolved'), 60_000);
        const seen = statuses(receiver.received);
        expect(seen[0]).toBe('firing');
        expect(seen.at(-1)).toBe('resolved');
        const alert = (receiver.received[0]!.json as WebhookPayload).alerts[0]!;
        expect(alert.labels).toMatchObject({ alertname: RULE, severity: 'critical' });
        expect(alert.generatorURL).toContain(agent.url);
      } finally {
        await agent.stop();
        await am.stop();
        await receiver.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describeService(
  'alerting end to end: Kafka',
  allAvailable(builtCliAvailable(), await kafkaAvailable()),
  () => {
    it('should produce the alert and its resolution, keyed by fingerprint', async () => {
      const topic = 'perf-monitor-e2e-alerts';
      const dir = tempDir('alerting-e2e-kafka');
      const kafka = await startKafka();
      const consumer = new Consumer({
        groupId: `e2e-${process.pid}`,
        clientId: 'e2e-consumer',
        bootstrapBrokers: [kafka.bootstrap],
        deserializers: stringDeserializers,
      });
      const agent = await e2eAgent(
        dir,
        `        - type: kafka
          brokers: [${JSON.stringify(kafka.bootstrap)}]
          topic: ${topic}`,
        0,
      );
      try {
        const admin = new Admin({ clientId: 'e2e-admin', bootstrapBrokers: [kafka.bootstrap] });
        try {
          await waitFor(
            'the broker to create a topic',
            async () => {
              try {
                await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
                return true;
              } catch (err) {
                return String(err).includes('already exists') ? true : undefined;
              }
            },
            60_000,
          );
        } finally {
          await admin.close();
        }
        await agent.start();
        const got: { key: string; value: Record<string, unknown> }[] = [];
        const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
        let reloaded = false;
        for await (const m of stream) {
          const value = JSON.parse(m.value) as Record<string, unknown>;
          got.push({ key: m.key, value });
          if (value.status === 'firing' && !reloaded) {
            reloaded = true;
            agent.setThreshold(1e12); // resolves it
          }
          if (value.status === 'resolved') break;
        }
        await stream.close();
        expect(got[0]!.value.status).toBe('firing');
        expect(got.at(-1)!.value.status).toBe('resolved');
        expect((got[0]!.value.labels as Record<string, string>).alertname).toBe(RULE);
        for (const m of got) expect(m.key).toBe(got[0]!.value.fingerprint);
        expect(got[0]!.key).toMatch(/^[0-9a-f]{16}$/);
      } finally {
        await consumer.close(true);
        await agent.stop();
        await kafka.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
