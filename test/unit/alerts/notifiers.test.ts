import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertmanagerNotifier, alertsApiUrl } from '../../../src/alerts/notifiers/alertmanager.js';
import { LogNotifier } from '../../../src/alerts/notifiers/log.js';
import { NotifyError } from '../../../src/alerts/notifiers/notify-error.js';
import { SIGNATURE_HEADER, WebhookNotifier, verifySignature } from '../../../src/alerts/notifiers/webhook.js';
import { ZERO_TIME, webhookPayload } from '../../../src/alerts/payload.js';
import type { NotificationBatch } from '../../../src/alerts/types.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { WebhookReceiver } from '../../services/webhook-receiver.js';
import { alert } from './notify-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const receivers: WebhookReceiver[] = [];

afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = new WebhookReceiver();
  receivers.push(r);
  await r.start();
  return r;
}

function batch(): NotificationBatch {
  const firing = alert('cpu', { instance: 'a' });
  const resolved = {
    ...alert('cpu', { instance: 'b' }),
    state: 'inactive' as const,
    resolvedAtMs: T0 + 60_000,
  };
  return {
    groupKey: '{}:{alertname="cpu"}',
    groupLabels: { alertname: 'cpu' },
    status: 'firing',
    alerts: [firing, resolved],
  };
}

describe('webhookPayload', () => {
  it("should follow Alertmanager's version 4 webhook payload", () => {
    const p = webhookPayload(batch(), { receiver: 'ops', externalUrl: 'http://agent:9091', maxAlerts: 0 });
    expect(p).toMatchObject({
      version: '4',
      groupKey: '{}:{alertname="cpu"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'ops',
      groupLabels: { alertname: 'cpu' },
      commonLabels: { alertname: 'cpu', severity: 'warning' },
      commonAnnotations: { summary: 'cpu is wrong' },
      externalURL: 'http://agent:9091',
    });
    expect(p.alerts).toEqual([
      {
        status: 'firing',
        labels: { alertname: 'cpu', severity: 'warning', instance: 'a' },
        annotations: { summary: 'cpu is wrong' },
        startsAt: '2026-01-01T00:00:00.000Z',
        endsAt: ZERO_TIME,
        generatorURL: 'http://agent:9091',
        fingerprint: 'alertname=cpu,severity=warning,instance=a',
      },
      expect.objectContaining({ status: 'resolved', endsAt: '2026-01-01T00:01:00.000Z' }),
    ]);
  });

  it('should truncate to max_alerts and count the rest', () => {
    const p = webhookPayload(batch(), { receiver: 'ops', externalUrl: '', maxAlerts: 1 });
    expect(p.alerts).toHaveLength(1);
    expect(p.truncatedAlerts).toBe(1);
  });
});

describe('WebhookNotifier', () => {
  it('should POST the payload with custom headers and an HMAC-SHA256 signature of the body', async () => {
    const r = await receiver();
    const n = new WebhookNotifier({
      name: 'ops',
      url: r.url(),
      headers: { Authorization: 'Bearer t0k3n' },
      hmacSecret: 'shh',
      timeoutMs: 5000,
      externalUrl: 'http://agent:9091',
    });
    await n.send(batch());
    const [req] = r.received;
    expect(req!.method).toBe('POST');
    expect(req!.headers.authorization).toBe('Bearer t0k3n');
    expect(req!.headers['content-type']).toBe('application/json');
    const expected = `sha256=${createHmac('sha256', 'shh').update(req!.body).digest('hex')}`;
    expect(req!.headers[SIGNATURE_HEADER.toLowerCase()]).toBe(expected);
    expect(verifySignature(req!.body, expected, 'shh')).toBe(true);
    expect(verifySignature(req!.body, expected, 'other')).toBe(false);
    expect(verifySignature(`${req!.body} `, expected, 'shh')).toBe(false);
    expect(verifySignature(req!.body, undefined, 'shh')).toBe(false);
    expect((req!.json as { receiver: string }).receiver).toBe('ops');
  });

  it('should fail transiently on 5xx and when nothing listens, permanently on 400', async () => {
    const r = await receiver();
    const n = new WebhookNotifier({ name: 'ops', url: r.url(), timeoutMs: 5000, externalUrl: '' });
    r.status = 503;
    await expect(n.send(batch())).rejects.toMatchObject({ permanent: false, code: 'E_NOTIFY' });
    r.status = 400;
    await expect(n.send(batch())).rejects.toMatchObject({ permanent: true });
    await r.stop();
    const err = await n.send(batch()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect((err as NotifyError).permanent).toBe(false);
  });

  it('should not put the URL query string (where tokens hide) in its error', async () => {
    const r = await receiver();
    r.status = 500;
    const n = new WebhookNotifier({
      name: 'ops',
      url: r.url('/hook?token=abc'),
      timeoutMs: 5000,
      externalUrl: '',
    });
    const err = (await n.send(batch()).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('abc');
  });
});

describe('redirects', () => {
  /** A receiver that answers every request with a 307 to `location`. */
  async function redirector(location: string): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(307, { Location: location });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('should not follow a webhook or Alertmanager receiver redirecting to another origin', async () => {
    const thief = await receiver();
    const r = await redirector(thief.url('/collect?token=t0k3n'));
    try {
      const webhook = new WebhookNotifier({
        name: 'ops',
        url: `${r.url}/hook`,
        headers: { Authorization: 'Bearer s3cret' },
        hmacSecret: 'shh',
        timeoutMs: 5000,
        externalUrl: '',
      });
      const am = new AlertmanagerNotifier({
        name: 'am',
        url: r.url,
        headers: { Authorization: 'Bearer s3cret' },
        timeoutMs: 5000,
        resendIntervalMs: 60_000,
        externalUrl: '',
        clock: new ManualClock(T0),
      });
      for (const n of [webhook, am]) {
        const err = (await n.send(batch()).catch((e: unknown) => e)) as NotifyError;
        expect(err).toBeInstanceOf(NotifyError);
        expect(err.permanent).toBe(true);
        expect(err.message).toContain('not followed to another origin');
        expect(err.message).toContain(`${thief.url('/collect')}?token=<redacted>`);
        expect(err.message).not.toContain('t0k3n');
      }
      expect(thief.received).toEqual([]);
    } finally {
      await r.close();
    }
  });
});

describe('AlertmanagerNotifier', () => {
  it('should POST the alerts as a list to /api/v2/alerts, firing ones valid for 4 resend intervals', async () => {
    const r = await receiver();
    const clock = new ManualClock(T0 + 120_000);
    const n = new AlertmanagerNotifier({
      name: 'am',
      url: `http://127.0.0.1:${r.port}/`,
      timeoutMs: 5000,
      resendIntervalMs: 60_000,
      externalUrl: 'http://agent:9091',
      clock,
    });
    await n.send(batch());
    expect(r.received[0]!.path).toBe('/api/v2/alerts');
    expect(r.received[0]!.json).toEqual([
      {
        labels: { alertname: 'cpu', severity: 'warning', instance: 'a' },
        annotations: { summary: 'cpu is wrong' },
        startsAt: '2026-01-01T00:00:00.000Z',
        endsAt: '2026-01-01T00:06:00.000Z',
        generatorURL: 'http://agent:9091',
      },
      expect.objectContaining({ endsAt: '2026-01-01T00:01:00.000Z' }),
    ]);
    expect(alertsApiUrl('http://am:9093/api/v2/alerts')).toBe('http://am:9093/api/v2/alerts');
  });
});

describe('LogNotifier', () => {
  it('should log firing alerts at its level and resolutions at info', async () => {
    const logger = new MemoryLogger();
    await new LogNotifier({ name: 'log', logger, level: 'error' }).send(batch());
    expect(logger.records.map((r) => `${r.level} ${r.msg} ${String(r.fields?.fingerprint)}`)).toEqual([
      'error alert firing alertname=cpu,severity=warning,instance=a',
      'info alert resolved alertname=cpu,severity=warning,instance=b',
    ]);
  });
});
