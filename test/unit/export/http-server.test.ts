import http from 'node:http';
import net from 'node:net';
import bcrypt from 'bcryptjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpServer } from '../../../src/export/http-server.js';
import type { HttpServerOptions, Route, RouteHandler } from '../../../src/export/http-server.js';
import { settle } from '../../../src/lib/clock.js';
import { AgentError } from '../../../src/lib/errors.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { basicAuth, send, tlsFile, tlsFixture } from './helpers.js';

const servers: HttpServer[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
});

const ok =
  (text: string): RouteHandler =>
  (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(text);
  };

const ROUTES: Route[] = [
  { path: '/metrics', handler: ok('metrics\n'), description: 'Prometheus metrics' },
  { path: '/healthz', handler: ok('healthy\n'), description: 'health', public: true },
  { path: '/api/*', handler: (req, res) => ok(`api ${req.url}\n`)(req, res), description: 'API' },
];

/** A server on 127.0.0.1:0, shut down after the test. */
function makeServer(opts: Partial<HttpServerOptions> = {}): HttpServer {
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    requestTimeoutMs: 10_000,
    routes: ROUTES,
    logger: new MemoryLogger(),
    ...opts,
  });
  servers.push(server);
  return server;
}

/** What start() rejects with, or undefined when it starts. */
function startError(server: HttpServer): Promise<unknown> {
  return server.start().then(
    () => undefined,
    (err: unknown) => err,
  );
}

async function started(opts: Partial<HttpServerOptions> = {}): Promise<HttpServer> {
  const server = makeServer(opts);
  await server.start();
  return server;
}

describe('HttpServer', () => {
  describe('routing', () => {
    it('should serve an exact route and ignore the query string', async () => {
      const server = await started();
      const reply = await send(`${server.url}/metrics?debug=1`);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('metrics\n');
    });

    it('should match a /* route as a prefix of everything below it, not of its parent or siblings', async () => {
      const server = await started();
      expect((await send(`${server.url}/api/`)).text).toBe('api /api/\n');
      expect((await send(`${server.url}/api/v1/things?x=1`)).text).toBe('api /api/v1/things?x=1\n');
      expect((await send(`${server.url}/api`)).status).toBe(404);
      expect((await send(`${server.url}/apix`)).status).toBe(404);
    });

    it('should answer 404 for an unknown path', async () => {
      const server = await started();
      const reply = await send(`${server.url}/nope`);
      expect(reply.status).toBe(404);
      expect(reply.text).toBe('not found\n');
    });

    it.each(['POST', 'PUT', 'DELETE', 'PATCH'])(
      'should answer 405 with Allow: GET, HEAD to %s without calling the handler',
      async (method) => {
        const handler = vi.fn(ok('no'));
        const server = await started({ routes: [{ path: '/metrics', handler, description: 'm' }] });
        const reply = await send(`${server.url}/metrics`, { method });
        expect(reply.status).toBe(405);
        expect(reply.headers.allow).toBe('GET, HEAD');
        expect(handler).not.toHaveBeenCalled();
      },
    );

    it('should pass HEAD to the handler and send no body', async () => {
      const methods: string[] = [];
      const server = await started({
        routes: [
          {
            path: '/metrics',
            description: 'm',
            handler: (req, res) => {
              methods.push(req.method ?? '');
              res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 8 });
              res.end('metrics\n');
            },
          },
        ],
      });
      const reply = await send(`${server.url}/metrics`, { method: 'HEAD' });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-length']).toBe('8');
      expect(reply.body).toHaveLength(0);
      expect(methods).toEqual(['HEAD']);
    });
  });

  describe('basic auth', () => {
    let users: Record<string, string>;

    beforeAll(() => {
      // Cost 4 keeps each comparison around a millisecond.
      users = { alice: bcrypt.hashSync('s3cret', 4), bob: bcrypt.hashSync('pa:ss', 4) };
    });

    it('should answer 401 with a Basic challenge when no credentials are sent', async () => {
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/metrics`);
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Basic realm="perf-monitor", charset="UTF-8"');
      expect(reply.text).not.toContain('metrics');
    });

    it('should answer 401 to a wrong password and 200 to the right one', async () => {
      const server = await started({ basicAuthUsers: users });
      const wrong = await send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('alice', 'wrong') },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toMatch(/^Basic /);
      const right = await send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('alice', 's3cret') },
      });
      expect(right.status).toBe(200);
      expect(right.text).toBe('metrics\n');
    });

    it('should split user and password at the first colon', async () => {
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('bob', 'pa:ss') },
      });
      expect(reply.status).toBe(200);
    });

    it('should answer 401 to an unknown user after comparing against a well-formed dummy hash', async () => {
      const compare = vi.spyOn(bcrypt, 'compare');
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('mallory', 's3cret') },
      });
      expect(reply.status).toBe(401);
      // The same work as for a known user: one bcrypt comparison against a real 60-character hash.
      expect(compare).toHaveBeenCalledTimes(1);
      expect(compare.mock.calls[0]?.[1]).toMatch(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/);
      expect(Object.values(users)).not.toContain(compare.mock.calls[0]?.[1]);
    });

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
      'should answer 401, not 500, to the user name %s',
      async (user) => {
        const logger = new MemoryLogger();
        const server = await started({ basicAuthUsers: users, logger });
        const reply = await send(`${server.url}/metrics`, {
          headers: { Authorization: basicAuth(user, 'x') },
        });
        expect(reply.status).toBe(401);
        expect(logger.find('error')).toEqual([]);
      },
    );

    it.each([
      ['another scheme', 'Bearer abc'],
      ['no colon', `Basic ${Buffer.from('alice').toString('base64')}`],
      ['an empty value', 'Basic '],
    ])('should answer 401 to a header with %s', async (_what, header) => {
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/metrics`, { headers: { Authorization: header } });
      expect(reply.status).toBe(401);
    });

    it('should serve public routes without credentials and without a bcrypt comparison', async () => {
      const compare = vi.spyOn(bcrypt, 'compare');
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/healthz`);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('healthy\n');
      expect(compare).not.toHaveBeenCalled();
    });

    it('should remember a successful check and still compare other credentials', async () => {
      const compare = vi.spyOn(bcrypt, 'compare');
      const server = await started({ basicAuthUsers: users });
      const headers = { Authorization: basicAuth('alice', 's3cret') };
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(200);
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(200);
      expect(compare).toHaveBeenCalledTimes(1);
      // The cache is keyed by the whole credential: a wrong password for the same user is checked again.
      const wrong = await send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('alice', 's3cret2') },
      });
      expect(wrong.status).toBe(401);
      expect(compare).toHaveBeenCalledTimes(2);
    });

    it('should not remember failures', async () => {
      const compare = vi.spyOn(bcrypt, 'compare');
      const server = await started({ basicAuthUsers: users });
      const headers = { Authorization: basicAuth('alice', 'wrong') };
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(401);
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(401);
      expect(compare).toHaveBeenCalledTimes(2);
    });

    it('should not share the cache between servers', async () => {
      const compare = vi.spyOn(bcrypt, 'compare');
      const headers = { Authorization: basicAuth('alice', 's3cret') };
      const first = await started({ basicAuthUsers: users });
      expect((await send(`${first.url}/metrics`, { headers })).status).toBe(200);
      const second = await started({ basicAuthUsers: { alice: bcrypt.hashSync('other', 4) } });
      expect((await send(`${second.url}/metrics`, { headers })).status).toBe(401);
      expect(compare).toHaveBeenCalledTimes(2);
    });
  });

  describe('TLS', () => {
    const serverTls = {
      certFile: tlsFile('server.crt'),
      keyFile: tlsFile('server.key'),
      minVersion: 'TLSv1.2' as const,
    };

    it('should serve https with the configured certificate', async () => {
      const server = await started({ tls: serverTls });
      expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
      const reply = await send(`${server.url}/metrics`, { tls: { ca: tlsFixture('ca.crt') } });
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('metrics\n');
    });

    it('should present a certificate that clients without the test CA reject', async () => {
      const server = await started({ tls: serverTls });
      await expect(send(`${server.url}/metrics`)).rejects.toMatchObject({
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    });

    it('should refuse protocols below minVersion', async () => {
      const server = await started({ tls: { ...serverTls, minVersion: 'TLSv1.3' } });
      await expect(
        send(`${server.url}/metrics`, { tls: { ca: tlsFixture('ca.crt'), maxVersion: 'TLSv1.2' } }),
      ).rejects.toThrow();
      const reply = await send(`${server.url}/metrics`, { tls: { ca: tlsFixture('ca.crt') } });
      expect(reply.status).toBe(200);
    });

    describe('with client_ca_file', () => {
      const mtls = { ...serverTls, clientCaFile: tlsFile('ca.crt') };

      it('should reject a client without a certificate', async () => {
        const server = await started({ tls: mtls });
        await expect(send(`${server.url}/metrics`, { tls: { ca: tlsFixture('ca.crt') } })).rejects.toThrow();
      });

      it('should reject a client certificate not signed by the client CA', async () => {
        const server = await started({ tls: mtls });
        await expect(
          send(`${server.url}/metrics`, {
            tls: {
              ca: tlsFixture('ca.crt'),
              cert: tlsFixture('untrusted-client.crt'),
              key: tlsFixture('untrusted-client.key'),
            },
          }),
        ).rejects.toThrow();
      });

      it('should accept a client certificate signed by the client CA', async () => {
        const server = await started({ tls: mtls });
        const reply = await send(`${server.url}/metrics`, {
          tls: { ca: tlsFixture('ca.crt'), cert: tlsFixture('client.crt'), key: tlsFixture('client.key') },
        });
        expect(reply.status).toBe(200);
        expect(reply.text).toBe('metrics\n');
      });
    });

    it.each([
      ['certificate', { certFile: tlsFile('missing.crt') }, 'missing.crt'],
      ['key', { keyFile: tlsFile('missing.key') }, 'missing.key'],
      ['client CA', { clientCaFile: tlsFile('missing-ca.crt') }, 'missing-ca.crt'],
    ])('should fail with E_TLS naming an unreadable %s file', async (what, files, name) => {
      const server = makeServer({ tls: { ...serverTls, ...files } });
      const err = await startError(server);
      expect(err).toBeInstanceOf(AgentError);
      expect(err).toMatchObject({ code: 'E_TLS' });
      const message = (err as AgentError).message;
      expect(message).toContain(`TLS ${what}`);
      expect(message).toContain(tlsFile(name));
      expect(message).toContain('ENOENT');
    });
  });

  describe('listen errors', () => {
    it('should fail with E_PORT_IN_USE naming the port and where it was set', async () => {
      const first = await started();
      const second = makeServer({ port: first.port, portSource: 'performance_monitor.prometheus.port' });
      const err = await startError(second);
      expect(err).toBeInstanceOf(AgentError);
      expect(err).toMatchObject({ code: 'E_PORT_IN_USE' });
      const message = (err as AgentError).message;
      expect(message).toContain(String(first.port));
      expect(message).toContain('performance_monitor.prometheus.port');
      expect((err as AgentError).cause).toMatchObject({ code: 'EADDRINUSE' });
      // The failed server holds nothing and the first one still serves.
      await second.shutdown();
      expect((await send(`${first.url}/metrics`)).status).toBe(200);
    });

    it('should fail with E_LISTEN for an address that is not local', async () => {
      // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to this host, so the bind fails at once
      // (unless net.ipv4.ip_nonlocal_bind is set, which this test assumes it is not).
      const server = makeServer({ host: '192.0.2.1', portSource: 'performance_monitor.prometheus.host' });
      const err = await startError(server);
      expect(err).toMatchObject({ code: 'E_LISTEN' });
      expect((err as AgentError).message).toContain('192.0.2.1');
      expect((err as AgentError).message).toContain('performance_monitor.prometheus.host');
    });
  });

  describe('handler errors', () => {
    it.each([
      [
        'throws',
        () => {
          throw new Error('boom');
        },
      ],
      ['rejects', () => Promise.reject(new Error('boom'))],
    ] as [string, RouteHandler][])(
      'should answer 500 when the handler %s, log it, and keep serving',
      async (_what, handler) => {
        const logger = new MemoryLogger();
        const server = await started({
          logger,
          routes: [...ROUTES, { path: '/broken', handler, description: 'broken' }],
        });
        const reply = await send(`${server.url}/broken`);
        expect(reply.status).toBe(500);
        expect(reply.text).toBe('internal error\n');
        expect(logger.find('error', 'HTTP handler failed')).toEqual([
          expect.objectContaining({ fields: { path: '/broken', error: 'boom' } }),
        ]);
        expect((await send(`${server.url}/metrics`)).status).toBe(200);
      },
    );
  });

  describe('request timeout', () => {
    it('should answer 408 and close the connection of a client that never finishes its headers', async () => {
      const server = await started({ requestTimeoutMs: 200 });
      const socket = net.connect(server.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await closed;
      expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    });
  });

  describe('lifecycle', () => {
    it('should report the bound port and url after start', async () => {
      const server = makeServer();
      expect(server.port).toBe(0);
      await server.start();
      expect(server.port).toBeGreaterThan(0);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    });

    it('should bracket an IPv6 host in the url', () => {
      const server = new HttpServer({
        host: '::1',
        port: 9464,
        requestTimeoutMs: 1000,
        routes: [],
        logger: new MemoryLogger(),
      });
      expect(server.url).toBe('http://[::1]:9464');
    });

    it('should treat a second start as a no-op', async () => {
      const server = await started();
      const port = server.port;
      await server.start();
      expect(server.port).toBe(port);
    });

    it('should allow shutdown before start and twice', async () => {
      const never = makeServer();
      await expect(never.shutdown()).resolves.toBeUndefined();
      const server = await started();
      const url = server.url;
      await server.shutdown();
      await expect(server.shutdown()).resolves.toBeUndefined();
      await expect(send(`${url}/metrics`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });

    it('should close idle keep-alive connections on shutdown', async () => {
      const server = await started();
      const agent = new http.Agent({ keepAlive: true });
      try {
        expect((await send(`${server.url}/metrics`, { agent })).status).toBe(200);
        const sockets = Object.values(agent.freeSockets).flat();
        expect(sockets).toHaveLength(1);
        const closed = new Promise<void>((resolve) => sockets[0]?.once('close', () => resolve()));
        await server.shutdown();
        await closed;
      } finally {
        agent.destroy();
      }
    });
  });

  describe('unref', () => {
    const count = (type: string): number => process.getActiveResourcesInfo().filter((t) => t === type).length;

    /** Starts a server, makes one keep-alive request, and reports how many listeners and sockets hold the process. */
    async function heldBy(opts: Partial<HttpServerOptions>): Promise<{ listeners: number; sockets: number }> {
      // Handles closed by the previous test leave the list only once their close callbacks have run.
      await settle();
      const listenersBefore = count('TCPServerWrap');
      const socketsBefore = count('TCPSocketWrap');
      const server = await started(opts);
      // The agent unrefs its own idle sockets, so only the server end of the connection can count.
      const agent = new http.Agent({ keepAlive: true });
      try {
        expect((await send(`${server.url}/metrics`, { agent })).status).toBe(200);
        return {
          listeners: count('TCPServerWrap') - listenersBefore,
          sockets: count('TCPSocketWrap') - socketsBefore,
        };
      } finally {
        agent.destroy();
      }
    }

    it('should hold the process with its listener and connections by default', async () => {
      expect(await heldBy({})).toEqual({ listeners: 1, sockets: 1 });
    });

    it('should hold the process with neither its listener nor its connections when unref is set', async () => {
      expect(await heldBy({ unref: true })).toEqual({ listeners: 0, sockets: 0 });
    });
  });
});
