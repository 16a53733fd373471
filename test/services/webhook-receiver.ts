/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 (free port) that records every request it
 * accepts. `status` sets the answer; `stop()`/`start()` take it down and bring it back on the same port
 * (a receiver outage).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  /** HTTP status to answer with. */
  status = 200;
  private _server: http.Server | undefined;
  private _port = 0;

  get port(): number {
    return this._port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this._port}${path}`;
  }

  async start(): Promise<void> {
    if (this._server !== undefined) return;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.status >= 200 && this.status < 300) {
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          this.received.push({
            method: req.method ?? '',
            path: req.url ?? '',
            headers: req.headers,
            body,
            json,
          });
        }
        res.writeHead(this.status, { 'Content-Type': 'text/plain' });
        res.end(this.status < 300 ? 'ok\n' : 'failing on purpose\n');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this._port, '127.0.0.1', () => resolve());
    });
    this._port = (server.address() as AddressInfo).port;
    this._server = server;
  }

  async stop(): Promise<void> {
    const server = this._server;
    if (server === undefined) return;
    this._server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Polls (real time) until `predicate` holds for the recorded requests. */
  async waitFor(predicate: (r: readonly ReceivedRequest[]) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) {
        throw new Error(
          `webhook receiver: condition not met after ${timeoutMs} ms; received ${this.received.length}: ` +
            this.received.map((r) => r.body.slice(0, 300)).join('\n'),
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
