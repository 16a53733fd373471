import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../src/lib/clock.js';
import { guardedFailures } from '../../../../src/lib/guard.js';
import { MemoryLogger } from '../../../../src/lib/logger.js';
import { HttpRequestMetrics, normalizeEndpoint } from '../../../../src/probes/runtime/http-requests.js';
import type { ApplicationRecorder } from '../../../../src/telemetry/application-recorder.js';

describe('normalizeEndpoint', () => {
  it.each([
    [undefined, '/'],
    ['/', '/'],
    ['/users/42?x=1', '/users/:num'],
    ['/users/42/orders/7#top', '/users/:num/orders/:num'],
    ['/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301', '/items/:uuid'],
    ['/blobs/5f1d7a3b9c2e4d6f8a0b1c2d', '/blobs/:hex'],
    ['/about/deadbeef', '/about/deadbeef'],
    ['/files/' + 'a'.repeat(65), '/files/:long'],
    ['/a/b/c/d/e/f/g/h/i/j', '/a/b/c/d/e/f/g/h/…'],
    ['*', ':other'],
  ])('should turn %s into %s', (input, wanted) => {
    expect(normalizeEndpoint(input)).toBe(wanted);
  });
});

interface Call {
  endpoint: string;
  method: string;
  status: string | number;
  seconds?: number;
  errorType?: string;
}

function recorder(calls: Call[]): ApplicationRecorder {
  return {
    recordApiRequest: (endpoint: string, method: string, seconds: number, status: string | number) =>
      calls.push({ endpoint, method, status, seconds }),
    recordApiError: (endpoint: string, method: string, errorType: string) =>
      calls.push({ endpoint, method, status: 'error', errorType }),
  } as unknown as ApplicationRecorder;
}

describe('HttpRequestMetrics', () => {
  const servers: http.Server[] = [];
  let metrics: HttpRequestMetrics | undefined;
  afterEach(async () => {
    await metrics?.shutdown();
    for (const s of servers.splice(0)) s.close();
  });

  async function serve(handler: http.RequestListener): Promise<number> {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('should record each request with the route when a framework set one, else the normalized path', async () => {
    const calls: Call[] = [];
    const ignored = await serve((_req, res) => res.end('agent'));
    metrics = new HttpRequestMetrics({
      recorder: recorder(calls),
      clock: new SystemClock(),
      ignoreServer: (s) => s === servers[0],
    });
    await metrics.start();
    await metrics.start();
    const port = await serve((req, res) => {
      if (req.url?.startsWith('/api/')) {
        Object.assign(req, { route: { path: '/users/:id' }, baseUrl: '/api' });
      }
      res.statusCode = req.url === '/boom' ? 503 : 200;
      res.end('ok');
    });
    for (const p of ['/api/users/1', '/orders/17?full=1', '/boom']) {
      const r = await fetch(`http://127.0.0.1:${port}${p}`, { method: p === '/boom' ? 'POST' : 'GET' });
      await r.text();
    }
    await (await fetch(`http://127.0.0.1:${ignored}/metrics`)).text();
    expect(calls.map(({ seconds: _seconds, ...rest }) => rest)).toEqual([
      { endpoint: '/api/users/:id', method: 'GET', status: 200 },
      { endpoint: '/orders/:num', method: 'GET', status: 200 },
      { endpoint: '/boom', method: 'POST', status: 503 },
      { endpoint: '/boom', method: 'POST', status: 'error', errorType: 'http_503' },
    ]);
    for (const c of calls.filter((x) => x.seconds !== undefined)) expect(c.seconds).toBeGreaterThanOrEqual(0);
    await metrics.shutdown();
    await (await fetch(`http://127.0.0.1:${port}/after`)).text();
    expect(calls).toHaveLength(4);
  });

  it('should report a recorder that throws, once in the log and in the count, and serve the request', async () => {
    const logger = new MemoryLogger();
    const where = 'http request finish';
    metrics = new HttpRequestMetrics({
      recorder: {
        recordApiRequest: () => {
          throw new Error('broken recorder');
        },
      } as unknown as ApplicationRecorder,
      clock: new SystemClock(),
      logger: () => logger,
    });
    await metrics.start();
    const port = await serve((_req, res) => res.end('ok'));
    expect(await (await fetch(`http://127.0.0.1:${port}/a`)).text()).toBe('ok');
    expect(await (await fetch(`http://127.0.0.1:${port}/b`)).text()).toBe('ok');
    // Failure counts are per process (each test file has its own): only this test fails here.
    expect(guardedFailures().get(where)).toBe(2);
    const logged = logger.find('error', 'internal error caught; the agent goes on');
    expect(logged.map((r) => r.fields)).toEqual([{ where, occurrences: 1, error: 'broken recorder' }]);
  });
});
