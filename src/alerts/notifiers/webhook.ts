/**
 * POSTs Alertmanager's webhook payload (version 4) to a URL. With `hmacSecret`, the header
 * `X-Perf-Monitor-Signature: sha256=<hex HMAC-SHA256 of the body>` lets the receiver check the sender.
 */
import { nodeCrypto } from '../../lib/builtins.js';
import { webhookPayload } from '../payload.js';
import type { NotificationBatch, Notifier } from '../types.js';
import { postJson } from './http-post.js';

export const SIGNATURE_HEADER = 'X-Perf-Monitor-Signature';

export interface WebhookNotifierOptions {
  name: string;
  url: string;
  headers?: Readonly<Record<string, string>>;
  hmacSecret?: string;
  timeoutMs: number;
  externalUrl: string;
  maxAlerts?: number;
}

/** The signature header value for `body`. */
function signBody(body: string, secret: string): string {
  return `sha256=${nodeCrypto().createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers: whether `header` is the signature of `body` under `secret` (constant-time comparison). */
export function verifySignature(body: string | Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(
    `sha256=${nodeCrypto().createHmac('sha256', secret).update(body).digest('hex')}`,
  );
  const given = Buffer.from(header);
  return given.length === expected.length && nodeCrypto().timingSafeEqual(given, expected);
}

export class WebhookNotifier implements Notifier {
  readonly name: string;
  private readonly _opts: WebhookNotifierOptions;

  constructor(opts: WebhookNotifierOptions) {
    this.name = opts.name;
    this._opts = opts;
  }

  async send(batch: NotificationBatch): Promise<void> {
    const body = JSON.stringify(
      webhookPayload(batch, {
        receiver: this.name,
        externalUrl: this._opts.externalUrl,
        maxAlerts: this._opts.maxAlerts ?? 0,
      }),
    );
    const headers: Record<string, string> = { 'User-Agent': 'perf-monitor-agent', ...this._opts.headers };
    if (this._opts.hmacSecret !== undefined)
      headers[SIGNATURE_HEADER] = signBody(body, this._opts.hmacSecret);
    await postJson(this._opts.url, body, headers, this._opts.timeoutMs);
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
