import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_REDIRECTS, RedirectError, fetchSameOrigin } from '../../../src/lib/fetch-same-origin.js';

interface Seen {
  method: string;
  path: string;
  body: string;
  auth: string | undefined;
}

/** A loopback server answering each path from `routes` (status and Location), recording what it got. */
class Server {
  readonly seen: Seen[] = [];
  private readonly _server: http.Server;

  constructor(private readonly _routes: Record<string, { status: number; location?: string }>) {
    this._server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.seen.push({ method: req.method ?? '', path, body, auth: req.headers.authorization });
        const route = this._routes[path.split('?')[0]!] ?? { status: 200 };
        const location = route.location
          ?.replace('$self', this.origin)
          .replace('$host', new URL(this.origin).host);
        res.writeHead(route.status, location === undefined ? {} : { Location: location });
        res.end(`answer of ${path}`);
      });
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${(this._server.address() as AddressInfo).port}`;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this._server.listen(0, '127.0.0.1', () => resolve()));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this._server.close(() => resolve()));
  }
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function server(routes: Record<string, { status: number; location?: string }> = {}): Promise<Server> {
  const s = new Server(routes);
  servers.push(s);
  await s.start();
  return s;
}

const POST = { method: 'POST', body: '{"a":1}', headers: { Authorization: 'Bearer s3cret' } };

describe('fetchSameOrigin', () => {
  it('should refuse a redirect to another origin, which then gets nothing, and name it redacted', async () => {
    const elsewhere = await server();
    const a = await server({ '/hook': { status: 307, location: `${elsewhere.origin}/steal?token=t0k3n` } });
    const err = await fetchSameOrigin(`${a.origin}/hook`, POST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectError);
    expect((err as RedirectError).code).toBe('E_REDIRECT');
    expect((err as Error).message).toBe(
      `POST ${a.origin}/hook answered 307, a redirect to ${elsewhere.origin}/steal?token=<redacted>: ` +
        'not followed to another origin',
    );
    expect(elsewhere.seen).toEqual([]);
  });

  it.each([
    ['another port', 'http://127.0.0.1:1/x'],
    ['another scheme', 'https://$host/x'],
    ['a protocol-relative URL', '//evil.example/x'],
  ])('should count %s as another origin', async (_what, location) => {
    const a = await server({ '/hook': { status: 308, location } });
    await expect(fetchSameOrigin(`${a.origin}/hook`, POST)).rejects.toThrow(/not followed to another origin/);
    expect(a.seen).toHaveLength(1);
  });

  it('should follow a 307 or 308 within the origin with the same method, headers and body', async () => {
    const a = await server({
      '/old': { status: 307, location: '/moved' },
      '/moved': { status: 308, location: '$self/final' },
    });
    const res = await fetchSameOrigin(`${a.origin}/old`, POST);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('answer of /final');
    expect(a.seen.map((s) => [s.method, s.path, s.body, s.auth])).toEqual([
      ['POST', '/old', '{"a":1}', 'Bearer s3cret'],
      ['POST', '/moved', '{"a":1}', 'Bearer s3cret'],
      ['POST', '/final', '{"a":1}', 'Bearer s3cret'],
    ]);
  });

  it('should refuse a 301/302/303 for a POST, which would drop the body', async () => {
    const a = await server({ '/hook': { status: 302, location: '/other' } });
    await expect(fetchSameOrigin(`${a.origin}/hook`, POST)).rejects.toThrow(
      /answered 302, a redirect to .*\/other: only 307 and 308 keep a POST/,
    );
    expect(a.seen).toHaveLength(1);
  });

  it('should follow any redirect within the origin for a GET', async () => {
    const a = await server({ '/api': { status: 302, location: '/api2' } });
    const res = await fetchSameOrigin(`${a.origin}/api?x=1`);
    expect(await res.text()).toBe('answer of /api2');
  });

  it(`should stop after ${MAX_REDIRECTS} redirects within the origin`, async () => {
    const a = await server({ '/loop': { status: 307, location: '/loop' } });
    await expect(fetchSameOrigin(`${a.origin}/loop`, POST)).rejects.toThrow(
      `more than ${MAX_REDIRECTS} redirects, not followed`,
    );
    expect(a.seen).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('should refuse a redirect without a usable Location', async () => {
    const a = await server({ '/none': { status: 307 }, '/bad': { status: 307, location: 'http://[' } });
    await expect(fetchSameOrigin(`${a.origin}/none`, POST)).rejects.toThrow(
      'answered 307 without a Location',
    );
    await expect(fetchSameOrigin(`${a.origin}/bad`, POST)).rejects.toThrow(
      'a redirect to <unparsable URL>: not followed to another origin',
    );
  });

  it('should pass any other answer through', async () => {
    const a = await server({ '/x': { status: 404 } });
    expect((await fetchSameOrigin(`${a.origin}/x`, POST)).status).toBe(404);
  });
});
