/**
 * Crash test of the outbox: a dispatcher process queues notifications while the webhook receiver is down and
 * is killed with SIGKILL (mid-retry: the outbox is rewritten every 50–200 ms); a new process on the same
 * store finds them, learns that one alert stopped firing meanwhile, and once the receiver is back it
 * delivers everything, in order per alert, with the resolution of the alert that stopped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebhookPayload } from '../../src/alerts/payload.js';
import { startServer } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';
import { WebhookReceiver } from '../services/webhook-receiver.js';

const CHILD = fileURLToPath(new URL('../fixtures/notify/dispatcher-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/src/alerts/dispatcher.js', import.meta.url));

describe('notification outbox after kill -9', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-crash-'));
  const children: ServerHandle[] = [];
  const receiver = new WebhookReceiver();

  afterAll(async () => {
    for (const c of children) await c.kill9();
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should deliver what a killed dispatcher had queued, and the resolution learnt after the restart', async () => {
    expect(fs.existsSync(DIST), 'dist/ is built by `npm run build` before the tests').toBe(true);
    await receiver.start();
    await receiver.stop(); // keep its port, but nothing listens: the receiver is down
    const store = path.join(dir, 'notifications.db');
    const args = (mode: string): string[] => [CHILD, store, receiver.url(), mode];

    const first = await startServer(process.execPath, args('fire'), {
      ready: /pending 2\n/,
      timeoutMs: 30_000,
    });
    children.push(first);
    await new Promise((r) => setTimeout(r, 700)); // a few more retries: the kill lands among outbox writes
    await first.kill9();

    const second = await startServer(process.execPath, args('resolve-disk'), {
      ready: /pending 3\n/,
      timeoutMs: 30_000,
    });
    children.push(second);
    await receiver.start();
    await receiver.waitFor((r) => r.length >= 3);
    await new Promise((r) => setTimeout(r, 500)); // nothing more should come
    const seen = receiver.received.flatMap((r) =>
      (r.json as WebhookPayload).alerts.map((a) => `${a.labels.alertname}:${a.status}`),
    );
    expect(seen.filter((s) => s.startsWith('cpu'))).toEqual(['cpu:firing']);
    expect(seen.filter((s) => s.startsWith('disk'))).toEqual(['disk:firing', 'disk:resolved']);
    await second.stop();
  });
});
