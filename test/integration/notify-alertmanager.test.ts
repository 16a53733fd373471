/**
 * Dispatcher → a real Alertmanager (Debian prometheus-alertmanager) → its webhook receiver (a real HTTP
 * server in this process), and the fault test: the webhook receiver and Alertmanager are down while alerts
 * fire, the dispatcher is restarted on the same outbox meanwhile, and once the receivers are back every
 * notification arrives, in order per alert.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.js';
import type { DispatchChannel } from '../../src/alerts/delivery.js';
import { AlertmanagerNotifier } from '../../src/alerts/notifiers/alertmanager.js';
import { WebhookNotifier } from '../../src/alerts/notifiers/webhook.js';
import type { WebhookPayload } from '../../src/alerts/payload.js';
import type { Alert } from '../../src/alerts/types.js';
import { SystemClock } from '../../src/lib/clock.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { alertmanagerAvailable, startAlertmanager } from '../services/alertmanager.js';
import type { AlertmanagerServer } from '../services/alertmanager.js';
import { describeService } from '../services/availability.js';
import { freePort } from '../services/process.js';
import { WebhookReceiver } from '../services/webhook-receiver.js';
import type { ReceivedRequest } from '../services/webhook-receiver.js';
import { waitFor } from './agent-harness.js';

const clock = new SystemClock();

function firingAlert(name: string, instance: string): Alert {
  const now = clock.nowMs();
  return {
    fingerprint: `${name}-${instance}`,
    labels: { alertname: name, severity: 'critical', instance },
    annotations: { summary: `${name} on ${instance}` },
    state: 'firing',
    value: 97,
    activeAtMs: now - 60_000,
    firedAtMs: now,
  };
}

function resolved(a: Alert): Alert {
  return { ...a, state: 'inactive', resolvedAtMs: clock.nowMs() };
}

/** (fingerprint or alertname/instance) → the statuses it was notified with, in arrival order. */
function statusesByAlert(received: readonly ReceivedRequest[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of received) {
    for (const a of (r.json as WebhookPayload).alerts) {
      const key = `${a.labels.alertname}/${a.labels.instance}`;
      (out[key] ??= []).push(a.status);
    }
  }
  return out;
}

function makeDispatcher(channels: DispatchChannel[], storePath: string): AlertDispatcher {
  return new AlertDispatcher({
    channels,
    grouping: {
      groupBy: ['alertname', 'instance'],
      groupWaitMs: 0,
      groupIntervalMs: 300,
      repeatIntervalMs: 3_600_000,
    },
    storePath,
    maxOutboxPerChannel: 1000,
    initialBackoffMs: 200,
    maxBackoffMs: 1000,
    clock,
    logger: new MemoryLogger(),
  });
}

describeService('Alertmanager', await alertmanagerAvailable(), () => {
  let dir: string;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-am-'));
  });

  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('end to end', () => {
    it("should bring the alert to Alertmanager's webhook receiver, then its resolution", async () => {
      const sink = new WebhookReceiver();
      await sink.start();
      cleanup.push(() => sink.stop());
      const am: AlertmanagerServer = await startAlertmanager({ webhookUrl: sink.url() });
      cleanup.push(() => am.stop());
      const d = makeDispatcher(
        [
          {
            notifier: new AlertmanagerNotifier({
              name: 'alertmanager',
              url: am.url,
              timeoutMs: 5000,
              resendIntervalMs: 60_000,
              externalUrl: 'http://127.0.0.1:9091',
              clock,
            }),
            direct: { resendIntervalMs: 60_000 },
          },
        ],
        path.join(dir, 'e2e.db'),
      );
      await d.start();
      cleanup.push(() => d.shutdown());
      const a = firingAlert('high_cpu_usage', 'web-1');
      d.handle({ evaluatedAtMs: clock.nowMs(), alerts: [a] });
      await sink.waitFor((r) => r.length >= 1);
      const first = sink.received[0]!.json as WebhookPayload;
      expect(first).toMatchObject({
        version: '4',
        status: 'firing',
        receiver: 'sink',
        groupLabels: { alertname: 'high_cpu_usage' },
        externalURL: am.url,
      });
      expect(first.alerts.map((x) => [x.status, x.labels, x.annotations])).toEqual([
        ['firing', a.labels, a.annotations],
      ]);
      // Alertmanager writes times as Go's RFC 3339 with nanoseconds: trailing zeros dropped (.08Z, not .080Z).
      expect(Date.parse(first.alerts[0]!.startsAt)).toBe(a.firedAtMs);
      expect((await am.alerts()).map((x) => x.labels.alertname)).toEqual(['high_cpu_usage']);

      const r = resolved(a);
      d.handle({ evaluatedAtMs: clock.nowMs(), alerts: [r] });
      await sink.waitFor((rs) => rs.some((x) => (x.json as WebhookPayload).status === 'resolved'));
      const last = sink.received.at(-1)!.json as WebhookPayload;
      expect(last.alerts.map((x) => x.status)).toEqual(['resolved']);
      expect(Date.parse(last.alerts[0]!.endsAt)).toBe(r.resolvedAtMs);
    });
  });

  describe('faults', () => {
    it('should deliver every notification, in order per alert, after receivers were down and the dispatcher restarted', async () => {
      const store = path.join(dir, 'fault.db');
      const hook = new WebhookReceiver();
      await hook.start();
      cleanup.push(() => hook.stop());
      const amSink = new WebhookReceiver();
      await amSink.start();
      cleanup.push(() => amSink.stop());
      const amPort = await freePort();
      await hook.stop(); // the webhook receiver is down from the start; Alertmanager is not running yet

      const channels = (): DispatchChannel[] => [
        {
          notifier: new WebhookNotifier({
            name: 'webhook',
            url: hook.url(),
            hmacSecret: 'fault-test',
            timeoutMs: 2000,
            externalUrl: 'http://127.0.0.1:9091',
          }),
        },
        {
          notifier: new AlertmanagerNotifier({
            name: 'alertmanager',
            url: `http://127.0.0.1:${amPort}`,
            timeoutMs: 2000,
            resendIntervalMs: 60_000,
            externalUrl: 'http://127.0.0.1:9091',
            clock,
          }),
          direct: { resendIntervalMs: 60_000 },
        },
      ];

      const cpu = firingAlert('high_cpu_usage', 'web-1');
      const disk = firingAlert('disk_full', 'web-1');
      const d1 = makeDispatcher(channels(), store);
      await d1.start();
      d1.handle({ evaluatedAtMs: clock.nowMs(), alerts: [cpu, disk] });
      await waitFor(
        'failed attempts on both channels',
        () => {
          const s = d1.stats();
          return Promise.resolve(
            s.get('webhook')!.failed >= 2 && s.get('alertmanager')!.failed >= 2 ? true : undefined,
          );
        },
        20_000,
      );
      // disk resolves while everything is down.
      d1.handle({ evaluatedAtMs: clock.nowMs(), alerts: [cpu, resolved(disk)] });
      await waitFor(
        'the resolution to be queued',
        () => Promise.resolve(d1.stats().get('webhook')!.pending >= 3 ? true : undefined),
        20_000,
      );
      await d1.shutdown(); // the agent restarts

      const d2 = makeDispatcher(channels(), store);
      await d2.start();
      cleanup.push(() => d2.shutdown());
      d2.handle({ evaluatedAtMs: clock.nowMs(), alerts: [cpu] });

      await hook.start(); // receivers come back
      const am = await startAlertmanager({ webhookUrl: amSink.url(), port: amPort });
      cleanup.push(() => am.stop());

      await hook.waitFor((r) => {
        const s = statusesByAlert(r);
        return s['high_cpu_usage/web-1']?.length === 1 && s['disk_full/web-1']?.length === 2;
      });
      expect(statusesByAlert(hook.received)).toEqual({
        'high_cpu_usage/web-1': ['firing'],
        'disk_full/web-1': ['firing', 'resolved'],
      });
      expect(
        hook.received.every((r) =>
          /^sha256=[0-9a-f]{64}$/.test(String(r.headers['x-perf-monitor-signature'])),
        ),
      ).toBe(true);

      // Alertmanager got the still-firing alert and notifies it; then cpu resolves and that arrives too.
      await amSink.waitFor((r) => statusesByAlert(r)['high_cpu_usage/web-1']?.includes('firing') === true);
      d2.handle({ evaluatedAtMs: clock.nowMs(), alerts: [resolved(cpu)] });
      await amSink.waitFor((r) => statusesByAlert(r)['high_cpu_usage/web-1']?.includes('resolved') === true);
      await hook.waitFor((r) => statusesByAlert(r)['high_cpu_usage/web-1']?.length === 2);
      expect(statusesByAlert(hook.received)['high_cpu_usage/web-1']).toEqual(['firing', 'resolved']);
      const cpuAtAm = statusesByAlert(amSink.received)['high_cpu_usage/web-1']!;
      expect(cpuAtAm.indexOf('firing')).toBeLessThan(cpuAtAm.indexOf('resolved'));
      await waitFor(
        'the outboxes to drain',
        () => Promise.resolve([...d2.stats().values()].every((s) => s.pending === 0) ? true : undefined),
        20_000,
      );
    });
  });
});
