import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../src/lib/clock.js';
import { fetchSameOrigin } from '../../../../src/lib/fetch-same-origin.js';
import { guardedFailures } from '../../../../src/lib/guard.js';
import { agentUserAgent, isAgentUserAgent } from '../../../../src/lib/own-requests.js';
import {
  HttpClientMetrics,
  clientErrorType,
  methodLabel,
  serverAddress,
} from '../../../../src/probes/runtime/http-client.js';
import type { HttpClientRecorder } from '../../../../src/telemetry/application-recorder.js';

describe('serverAddress', () => {
  it.each([
    ['http://127.0.0.1:8080', '127.0.0.1:8080'],
    ['https://API.Example.com', 'api.example.com'],
    ['https://user:secret@api.example.com:8443/path?q=1#f', 'api.example.com:8443'],
    ['api.example.com:8443', 'api.example.com:8443'],
    ['[::1]:9000', '[::1]:9000'],
    ['', 'unknown'],
  ])('should turn %s into %s', (input, wanted) => {
    expect(serverAddress(input)).toBe(wanted);
  });

  it('should keep at most 256 characters', () => {
    expect(serverAddress(`http://${'a'.repeat(400)}.example`)).toHaveLength(256);
  });
});

describe('methodLabel and clientErrorType', () => {
  it('should keep the standard methods and fold the others', () => {
    expect(methodLabel('GET')).toBe('GET');
    expect(methodLabel('patch')).toBe('PATCH');
    expect(methodLabel('PROPFIND')).toBe('_OTHER');
    expect(methodLabel(undefined)).toBe('_OTHER');
  });

  it.each([
    [{ code: 'ECONNREFUSED' }, 'connection_refused'],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'timeout'],
    [{ name: 'TimeoutError' }, 'timeout'],
    [{ name: 'AbortError', code: 'ABORT_ERR', cause: { name: 'TimeoutError' } }, 'timeout'],
    [{ name: 'AbortError', code: 'ABORT_ERR' }, 'aborted'],
    [{ code: 'ECONNRESET' }, 'connection_reset'],
    [{ code: 'UND_ERR_SOCKET' }, 'connection_reset'],
    [{ message: 'fetch failed', cause: { code: 'ENOTFOUND' } }, 'dns'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'tls'],
    [{ code: 'EWHATEVER' }, 'other'],
    ['a string', 'other'],
  ])('should classify %j as %s', (err, wanted) => {
    expect(clientErrorType(err)).toBe(wanted);
  });
});

describe('the agent User-Agent', () => {
  it('should mark the agent and keep a configured User-Agent after its token', () => {
    expect(agentUserAgent()).toBe('perf-monitor-agent');
    expect(agentUserAgent('acme-hooks/2')).toBe('perf-monitor-agent acme-hooks/2');
    expect(agentUserAgent('perf-monitor-agent/1.0')).toBe('perf-monitor-agent/1.0');
    expect(isAgentUserAgent('perf-monitor-agent OTel-OTLP-Exporter-JavaScript/0.301.0')).toBe(true);
    expect(isAgentUserAgent('perf-monitor-agentish')).toBe(false);
    expect(isAgentUserAgent('node')).toBe(false);
  });
});

interface Call {
  server: string;
  method: string;
  status: string | number;
  seconds?: number;
  errorType?: string;
}

function recorder(calls: Call[]): HttpClientRecorder {
  return {
    recordHttpClientRequest: (server, method, seconds, status) =>
      calls.push({ server, method, status, seconds }),
    recordHttpClientError: (server, method, errorType) =>
      calls.push({ server, method, status: 'failure', errorType }),
  };
}

function get(url: string, options: http.RequestOptions = {}): Promise<number | string> {
  return new Promise((resolve) => {
    http
      .get(url, options, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.name));
  });
}

describe('HttpClientMetrics', () => {
  const servers: http.Server[] = [];
  let metrics: HttpClientMetrics | undefined;
  afterEach(async () => {
    await metrics?.shutdown();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  async function serve(handler: http.RequestListener): Promise<number> {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  async function closedPort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  async function started(calls: Call[]): Promise<HttpClientMetrics> {
    metrics = new HttpClientMetrics({ recorder: recorder(calls), clock: new SystemClock() });
    await metrics.start();
    await metrics.start();
    return metrics;
  }

  it('should record fetch and http.request by server, method and status, without path or query', async () => {
    const calls: Call[] = [];
    const port = await serve((req, res) => {
      res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
      res.end('ok');
    });
    await started(calls);
    await (await fetch(`http://127.0.0.1:${port}/users/1?token=secret`)).text();
    await (await fetch(`http://127.0.0.1:${port}/missing`, { method: 'POST', body: 'x' })).text();
    expect(await get(`http://localhost:${port}/a/b?c=d`)).toBe(200);
    expect(calls.map(({ server, method, status }) => [server, method, status])).toEqual([
      [`127.0.0.1:${port}`, 'GET', 200],
      [`127.0.0.1:${port}`, 'POST', 404],
      [`localhost:${port}`, 'GET', 200],
    ]);
    for (const c of calls) expect(c.seconds).toBeGreaterThanOrEqual(0);
  });

  it('should count a refused connection, a timeout and a reset by type, each once', async () => {
    const calls: Call[] = [];
    const refused = await closedPort();
    const port = await serve((req, res) => {
      if (req.url === '/reset') req.socket.destroy();
      // /slow never answers: the clients time out.
      else if (req.url !== '/slow') res.end('ok');
    });
    await started(calls);
    await fetch(`http://127.0.0.1:${refused}/`).catch(() => undefined);
    expect(await get(`http://127.0.0.1:${refused}/`)).toBe('ECONNREFUSED');
    await fetch(`http://127.0.0.1:${port}/slow`, { signal: AbortSignal.timeout(50) }).catch(() => undefined);
    expect(await get(`http://127.0.0.1:${port}/slow`, { signal: AbortSignal.timeout(50) })).toBe('ABORT_ERR');
    await fetch(`http://127.0.0.1:${port}/reset`).catch(() => undefined);
    expect(await get(`http://127.0.0.1:${port}/reset`)).toBe('ECONNRESET');
    const failures = calls.filter((c) => c.errorType !== undefined);
    expect(failures.map((c) => [c.server, c.errorType])).toEqual([
      [`127.0.0.1:${refused}`, 'connection_refused'],
      [`127.0.0.1:${refused}`, 'connection_refused'],
      [`127.0.0.1:${port}`, 'timeout'],
      [`127.0.0.1:${port}`, 'timeout'],
      [`127.0.0.1:${port}`, 'connection_reset'],
      [`127.0.0.1:${port}`, 'connection_reset'],
    ]);
    // Each failure also times the request, with status `error`.
    expect(calls.filter((c) => c.status === 'error')).toHaveLength(6);
  });

  it("should not record the agent's own requests, by fetch or by http.request", async () => {
    const calls: Call[] = [];
    const port = await serve((_req, res) => res.end('ok'));
    await started(calls);
    await (await fetchSameOrigin(`http://127.0.0.1:${port}/webhook`, { method: 'POST', body: '{}' })).text();
    await (
      await fetchSameOrigin(`http://127.0.0.1:${port}/hook`, { headers: { 'User-Agent': 'acme/1' } })
    ).text();
    expect(
      await get(`http://127.0.0.1:${port}/v1/metrics`, { headers: { 'user-agent': agentUserAgent() } }),
    ).toBe(200);
    await (await fetch(`http://127.0.0.1:${port}/app`)).text();
    expect(calls.map((c) => c.method)).toEqual(['GET']);
  });

  it('should stop recording after shutdown and swallow a foreign publisher’s malformed messages', async () => {
    const calls: Call[] = [];
    const port = await serve((_req, res) => res.end('ok'));
    const m = await started(calls);
    const diagnostics = await import('node:diagnostics_channel');
    const before = guardedFailures().get('http client response headers') ?? 0;
    diagnostics.channel('undici:request:headers').publish({ request: null });
    diagnostics.channel('http.client.response.finish').publish(undefined);
    expect(guardedFailures().get('http client response headers') ?? 0).toBe(before);
    await m.shutdown();
    await m.shutdown();
    await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(calls).toEqual([]);
  });
});
