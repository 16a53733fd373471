import http from 'node:http';
import net from 'node:net';
import bcrypt from 'bcryptjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_PENDING_PER_CLIENT } from '../../../src/export/basic-auth.js';
import type { PasswordCheck } from '../../../src/export/basic-auth.js';
import { DEFAULT_MAX_CONNECTIONS, HttpServer } from '../../../src/export/http-server.js';
import type { HttpServerOptions } from '../../../src/export/http-server.js';
import type { Route, RouteHandler } from '../../../src/model/route.js';
import { settle } from '../../../src/lib/clock.js';
import { AgentError } from '../../../src/lib/errors.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { basicAuth, send, tlsFile, tlsFixture } from './helpers.js';
import type { Reply } from './helpers.js';

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

/** Waits until `cond` holds, looking every few milliseconds, at most about 10 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(cond()).toBe(true);
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
      expect(reply.headers['content-type']).toBe('application/json');
      expect(JSON.parse(reply.text)).toEqual({ error: 'not found' });
    });

    it.each(['POST', 'PUT', 'DELETE', 'PATCH'])(
      'should answer 405 with Allow: GET, HEAD to %s without calling the handler',
      async (method) => {
        const handler = vi.fn(ok('no'));
        const server = await started({ routes: [{ path: '/metrics', handler, description: 'm' }] });
        const reply = await send(`${server.url}/metrics`, { method });
        expect(reply.status).toBe(405);
        expect(reply.headers.allow).toBe('GET, HEAD');
        expect(JSON.parse(reply.text)).toEqual({ error: `method "${method}" not allowed` });
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

    /** A password check that runs bcryptjs in-process and records what it was asked. */
    function countingCheck(): { check: PasswordCheck; calls: { password: string; hash: string }[] } {
      const calls: { password: string; hash: string }[] = [];
      return {
        calls,
        check: (password, hash) => {
          calls.push({ password, hash });
          return bcrypt.compare(password, hash);
        },
      };
    }

    /** A password check whose answers wait until the test releases them, oldest first. */
    function gatedCheck(): { check: PasswordCheck; asked: string[]; release: () => void } {
      const asked: string[] = [];
      const waiting: (() => void)[] = [];
      return {
        asked,
        check: (password, hash) =>
          new Promise<boolean>((resolve) => {
            asked.push(password);
            waiting.push(() => resolve(bcrypt.compareSync(password, hash)));
          }),
        release: () => {
          const next = waiting.shift();
          if (next === undefined) throw new Error('no password check is waiting');
          next();
        },
      };
    }

    it('should answer 401 with a Basic challenge when no credentials are sent', async () => {
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/metrics`);
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Basic realm="perf-monitor", charset="UTF-8"');
      expect(JSON.parse(reply.text)).toEqual({ error: 'unauthorized' });
    });

    it('should answer 401 to a wrong password and 200 to the right one, checked in a worker thread', async () => {
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

    it.each(['basic', 'BASIC', 'bAsIc'])('should accept the scheme written %s (RFC 7617)', async (scheme) => {
      const server = await started({ basicAuthUsers: users });
      const token = Buffer.from('alice:s3cret').toString('base64');
      const reply = await send(`${server.url}/metrics`, { headers: { Authorization: `${scheme} ${token}` } });
      expect(reply.status).toBe(200);
    });

    it('should split user and password at the first colon', async () => {
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('bob', 'pa:ss') },
      });
      expect(reply.status).toBe(200);
    });

    it.each([4, 6])(
      'should compare an unknown user once against a dummy hash of the configured cost %i',
      async (cost) => {
        const { check, calls } = countingCheck();
        const costly = { carol: bcrypt.hashSync('pw', cost) };
        const server = await started({ basicAuthUsers: costly, passwordCheck: check });
        const reply = await send(`${server.url}/metrics`, {
          headers: { Authorization: basicAuth('mallory', 'pw') },
        });
        expect(reply.status).toBe(401);
        // The same work as for a known user: one bcrypt comparison against a real hash of the same cost.
        expect(calls).toHaveLength(1);
        const hash = calls[0]!.hash;
        expect(hash).toMatch(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/);
        expect(hash.slice(4, 6)).toBe(String(cost).padStart(2, '0'));
        expect(hash).not.toBe(costly.carol);
      },
    );

    it('should take the highest cost of the configured users for the dummy hash', async () => {
      const { check, calls } = countingCheck();
      const mixed = { low: bcrypt.hashSync('a', 4), high: bcrypt.hashSync('b', 5) };
      const server = await started({ basicAuthUsers: mixed, passwordCheck: check });
      await send(`${server.url}/metrics`, { headers: { Authorization: basicAuth('nobody', 'x') } });
      expect(calls.map((c) => c.hash.slice(4, 6))).toEqual(['05']);
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
      ['no space after the scheme', `Basic${Buffer.from('alice:s3cret').toString('base64')}`],
    ])('should answer 401 to a header with %s', async (_what, header) => {
      const server = await started({ basicAuthUsers: users });
      const reply = await send(`${server.url}/metrics`, { headers: { Authorization: header } });
      expect(reply.status).toBe(401);
    });

    it('should serve public routes without credentials and without a bcrypt comparison', async () => {
      const { check, calls } = countingCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: check });
      const reply = await send(`${server.url}/healthz`);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('healthy\n');
      expect(calls).toEqual([]);
    });

    it('should remember a successful check and still compare other credentials', async () => {
      const { check, calls } = countingCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: check });
      const headers = { Authorization: basicAuth('alice', 's3cret') };
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(200);
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(200);
      expect(calls).toHaveLength(1);
      // The cache is keyed by the whole credential: a wrong password for the same user is checked again.
      const wrong = await send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('alice', 's3cret2') },
      });
      expect(wrong.status).toBe(401);
      expect(calls).toHaveLength(2);
    });

    it('should check concurrent requests with the same credentials once', async () => {
      const { check, calls } = countingCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: check });
      const headers = { Authorization: basicAuth('alice', 's3cret') };
      const replies = await Promise.all([1, 2, 3, 4].map(() => send(`${server.url}/metrics`, { headers })));
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(calls).toHaveLength(1);
    });

    it('should not remember failures', async () => {
      const { check, calls } = countingCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: check });
      const headers = { Authorization: basicAuth('alice', 'wrong') };
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(401);
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(401);
      expect(calls).toHaveLength(2);
    });

    it('should not share the cache between servers', async () => {
      const { check, calls } = countingCheck();
      const headers = { Authorization: basicAuth('alice', 's3cret') };
      const first = await started({ basicAuthUsers: users, passwordCheck: check });
      expect((await send(`${first.url}/metrics`, { headers })).status).toBe(200);
      const second = await started({
        basicAuthUsers: { alice: bcrypt.hashSync('other', 4) },
        passwordCheck: check,
      });
      expect((await send(`${second.url}/metrics`, { headers })).status).toBe(401);
      expect(calls).toHaveLength(2);
    });

    /** Releases gated checks one by one until `total` have been asked for and released. */
    async function releaseAll(
      gate: ReturnType<typeof gatedCheck>,
      from: number,
      total: number,
    ): Promise<void> {
      for (let n = from + 1; n <= total; n++) {
        await until(() => gate.asked.length >= n);
        gate.release();
      }
    }

    it('should answer 429 with Retry-After to checks beyond what one client may have waiting', async () => {
      const gate = gatedCheck();
      const handler = vi.fn(ok('metrics\n'));
      const server = await started({
        basicAuthUsers: users,
        passwordCheck: gate.check,
        routes: [{ path: '/metrics', handler, description: 'm' }],
      });
      const wrong = (n: number): Promise<Reply> =>
        send(`${server.url}/metrics`, { headers: { Authorization: basicAuth('alice', `wrong${n}`) } });
      // DEFAULT_MAX_PENDING_PER_CLIENT checks wait (one runs); one more from the same address is turned away.
      const held = Array.from({ length: DEFAULT_MAX_PENDING_PER_CLIENT }, (_, n) => wrong(n));
      await until(() => server.pendingPasswordChecks === DEFAULT_MAX_PENDING_PER_CLIENT);
      const busy = await wrong(DEFAULT_MAX_PENDING_PER_CLIENT);
      expect(busy.status).toBe(429);
      expect(busy.headers['retry-after']).toBe('1');
      expect(busy.headers.connection).toBe('close');
      expect(busy.headers['content-type']).toBe('application/json');
      expect((JSON.parse(busy.text) as { error: string }).error).toContain('password checks');
      await releaseAll(gate, 0, DEFAULT_MAX_PENDING_PER_CLIENT);
      expect(new Set((await Promise.all(held)).map((r) => r.status))).toEqual(new Set([401]));
      expect(gate.asked).toHaveLength(DEFAULT_MAX_PENDING_PER_CLIENT);
      expect(handler).not.toHaveBeenCalled();
      // Once the checks are done, the address may try again.
      const again = wrong(99);
      await releaseAll(gate, DEFAULT_MAX_PENDING_PER_CLIENT, DEFAULT_MAX_PENDING_PER_CLIENT + 1);
      expect((await again).status).toBe(401);
    });

    it('should get a login through a flood from its own address: it waits its turn, it is not turned away', async () => {
      const gate = gatedCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: gate.check });
      const flood = Array.from({ length: 10 }, (_, n) =>
        send(`${server.url}/metrics`, { headers: { Authorization: basicAuth('alice', `x${n}`) } }),
      );
      await until(() => server.pendingPasswordChecks === 10);
      const login = send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('alice', 's3cret') },
      });
      await until(() => server.pendingPasswordChecks === 11);
      await releaseAll(gate, 0, 11);
      expect((await login).status).toBe(200);
      expect(gate.asked).toContain('s3cret');
      expect(new Set((await Promise.all(flood)).map((r) => r.status))).toEqual(new Set([401]));
    });

    it('should drop the waiting check of a request whose connection closed', async () => {
      const gate = gatedCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: gate.check });
      const first = send(`${server.url}/metrics`, {
        headers: { Authorization: basicAuth('alice', 'first') },
      });
      await until(() => server.pendingPasswordChecks === 1);
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth('alice', 'abandoned')}\r\n\r\n`,
      );
      await until(() => server.pendingPasswordChecks === 2);
      socket.destroy();
      await until(() => server.pendingPasswordChecks === 1);
      gate.release();
      expect((await first).status).toBe(401);
      expect(server.pendingPasswordChecks).toBe(0);
      expect(gate.asked).toEqual(['first']);
    });

    it('should let a remembered login through while password checks are held up', async () => {
      const gate = gatedCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: gate.check });
      const headers = { Authorization: basicAuth('alice', 's3cret') };
      const login = send(`${server.url}/metrics`, { headers });
      await until(() => gate.asked.length === 1);
      gate.release();
      expect((await login).status).toBe(200);
      const flood = [1, 2].map((n) =>
        send(`${server.url}/metrics`, { headers: { Authorization: basicAuth('alice', `x${n}`) } }),
      );
      await until(() => server.pendingPasswordChecks === 2);
      // The flood's checks wait at the gate; the remembered login does not.
      expect((await send(`${server.url}/metrics`, { headers })).status).toBe(200);
      gate.release();
      await until(() => gate.asked.length === 3);
      gate.release();
      expect((await Promise.all(flood)).map((r) => r.status)).toEqual([401, 401]);
    });

    it("should check a login from another address before the rest of one address's flood", async () => {
      const gate = gatedCheck();
      const server = await started({ basicAuthUsers: users, passwordCheck: gate.check });
      const other = new http.Agent({ localAddress: '127.0.0.2' });
      try {
        const flood = [1, 2].map((n) =>
          send(`${server.url}/metrics`, { headers: { Authorization: basicAuth('alice', `x${n}`) } }),
        );
        await until(() => server.pendingPasswordChecks === 2);
        const login = send(`${server.url}/metrics`, {
          agent: other,
          headers: { Authorization: basicAuth('alice', 's3cret') },
        });
        await until(() => server.pendingPasswordChecks === 3);
        for (let n = 1; n <= 3; n++) {
          await until(() => gate.asked.length === n);
          gate.release();
        }
        expect((await login).status).toBe(200);
        expect(gate.asked).toEqual(['x1', 's3cret', 'x2']);
        expect((await Promise.all(flood)).map((r) => r.status)).toEqual([401, 401]);
      } finally {
        other.destroy();
      }
    });
  });

  describe('security headers', () => {
    it.each([
      ['a text answer', '/metrics', 200],
      ['a JSON answer', '/json', 200],
      ['an HTML answer', '/', 200],
      ['a 404', '/nope', 404],
    ])('should send nosniff and a Content-Security-Policy with %s', async (_what, path, status) => {
      const server = await started({
        routes: [
          ...ROUTES,
          {
            path: '/json',
            description: 'j',
            handler: (_req, res) => {
              res.writeHead(200, { 'Content-Type': 'application/json' });
              res.end('{}\n');
            },
          },
          {
            path: '/',
            description: 'page',
            handler: (_req, res) => {
              res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
              res.end('<!doctype html><p>hi</p>\n');
            },
          },
        ],
      });
      const reply = await send(`${server.url}${path}`);
      expect(reply.status).toBe(status);
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      // A Date header, as HTTP wants from a server with a clock (made by the server, not by Node).
      expect(Math.abs(Date.parse(String(reply.headers.date)) - Date.now())).toBeLessThan(60_000);
      const csp = reply.headers['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('script-src');
    });

    it('should send them with 401 and 405 answers', async () => {
      const server = await started({ basicAuthUsers: { alice: bcrypt.hashSync('pw', 4) } });
      for (const reply of [
        await send(`${server.url}/metrics`),
        await send(`${server.url}/healthz`, { method: 'PUT' }),
      ]) {
        expect([401, 405]).toContain(reply.status);
        expect(reply.headers['x-content-type-options']).toBe('nosniff');
        expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
      }
    });
  });

  describe('mutating requests from browsers', () => {
    const posted = (): { route: Route; calls: string[] } => {
      const calls: string[] = [];
      return {
        calls,
        route: {
          path: '/api/*',
          description: 'API',
          methods: ['POST', 'DELETE'],
          handler: (req, res) => {
            calls.push(`${req.method} ${req.headers.host}`);
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end('{}\n');
          },
        },
      };
    };

    it.each([
      '127.0.0.1:PORT',
      'localhost:PORT',
      '[::1]:PORT',
      'LOCALHOST:PORT',
      '10.1.2.3:9091',
      'app.localhost',
    ])('should accept a POST whose Host is %s', async (host) => {
      const { route, calls } = posted();
      const server = await started({ routes: [route] });
      const value = host.replace('PORT', String(server.port));
      const reply = await send(`${server.url}/api/x`, { method: 'POST', headers: { Host: value } });
      expect(reply.status).toBe(200);
      expect(calls).toEqual([`POST ${value}`]);
    });

    it.each(['POST', 'DELETE'])(
      'should refuse a %s whose Host is a foreign name when there is no basic auth (DNS rebinding)',
      async (method) => {
        const { route, calls } = posted();
        const server = await started({ routes: [route] });
        const reply = await send(`${server.url}/api/x`, {
          method,
          headers: { Host: `attacker.example:${server.port}` },
        });
        expect(reply.status).toBe(403);
        expect(reply.headers['content-type']).toBe('application/json');
        const { error } = JSON.parse(reply.text) as { error: string };
        expect(error).toContain(`"attacker.example:${server.port}"`);
        expect(error).toContain('DNS rebinding');
        expect(calls).toEqual([]);
      },
    );

    it('should serve a GET whatever the Host', async () => {
      const { route, calls } = posted();
      const server = await started({ routes: [route] });
      const reply = await send(`${server.url}/api/x`, { headers: { Host: 'attacker.example' } });
      expect(reply.status).toBe(200);
      expect(calls).toEqual(['GET attacker.example']);
    });

    it('should leave a foreign Host to basic auth when it is configured', async () => {
      const { route, calls } = posted();
      const server = await started({ routes: [route], basicAuthUsers: { ops: bcrypt.hashSync('pw', 4) } });
      const url = `${server.url}/api/x`;
      const host = { Host: 'monitoring.example.org' };
      expect((await send(url, { method: 'POST', headers: host })).status).toBe(401);
      const reply = await send(url, {
        method: 'POST',
        headers: { ...host, Authorization: basicAuth('ops', 'pw') },
      });
      expect(reply.status).toBe(200);
      expect(calls).toEqual(['POST monitoring.example.org']);
    });

    it.each([
      ['another site', 'https://attacker.example'],
      ['another port of this host', 'http://127.0.0.1:1'],
      ['an opaque origin', 'null'],
    ])('should refuse a POST from a page of %s (CSRF), with or without basic auth', async (_what, origin) => {
      const { route, calls } = posted();
      for (const auth of [undefined, { ops: bcrypt.hashSync('pw', 4) }]) {
        const server = await started({ routes: [route], basicAuthUsers: auth });
        const reply = await send(`${server.url}/api/x`, {
          method: 'POST',
          headers: { Origin: origin, Authorization: basicAuth('ops', 'pw') },
        });
        expect(reply.status).toBe(403);
        expect((JSON.parse(reply.text) as { error: string }).error).toContain('cross-origin POST refused');
      }
      expect(calls).toEqual([]);
    });

    it('should accept a POST from a page of this endpoint', async () => {
      const { route, calls } = posted();
      const server = await started({ routes: [route] });
      const reply = await send(`${server.url}/api/x`, { method: 'POST', headers: { Origin: server.url } });
      expect(reply.status).toBe(200);
      expect(calls).toHaveLength(1);
    });
  });

  describe('connections', () => {
    /** Opens a raw connection and resolves once the server has accepted it or closed it. */
    function connect(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
      return new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        const closed = new Promise<void>((r) => socket.on('close', () => r()));
        socket.on('error', () => undefined);
        socket.once('connect', () => resolve({ socket, closed }));
        socket.once('error', reject);
      });
    }

    it('should close connections beyond maxConnections at once and serve again when one closes', async () => {
      const logger = new MemoryLogger();
      const server = await started({ maxConnections: 2, logger });
      const held = [await connect(server.port), await connect(server.port)];
      // Both are accepted (a request on each is answered) before the third arrives.
      for (const { socket } of held) socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await Promise.all(held.map(({ socket }) => new Promise((r) => socket.once('data', r))));
      const third = await connect(server.port);
      await third.closed;
      expect(logger.find('warn', 'HTTP connections refused: too many open')).toHaveLength(1);
      held[0]!.socket.destroy();
      await held[0]!.closed;
      await settle();
      expect((await send(`${server.url}/metrics`)).status).toBe(200);
      held[1]!.socket.destroy();
    });

    it('should bound the header time and the keep-alive of unauthenticated connections', async () => {
      const withAuth = await started({ basicAuthUsers: { alice: bcrypt.hashSync('pw', 4) } });
      expect(withAuth.nodeServer?.headersTimeout).toBe(5000);
      expect(withAuth.nodeServer?.keepAliveTimeout).toBe(5000);
      expect(withAuth.nodeServer?.maxConnections).toBe(DEFAULT_MAX_CONNECTIONS);
      const open = await started();
      expect(open.nodeServer?.keepAliveTimeout).toBe(65_000);
    });

    /** Sends one request on a raw connection; resolves with the status once the whole answer is in. */
    function request(socket: net.Socket, authorization: string): Promise<number> {
      return new Promise((resolve) => {
        let text = '';
        const onData = (chunk: Buffer): void => {
          text += chunk.toString('latin1');
          const end = text.indexOf('\r\n\r\n');
          const length = /\r\ncontent-length: (\d+)/i.exec(text);
          const complete =
            length === null ? text.endsWith('\r\n0\r\n\r\n') : text.length >= end + 4 + Number(length[1]);
          if (end >= 0 && complete) {
            socket.off('data', onData);
            resolve(Number(text.slice(9, 12)));
          }
        };
        socket.on('data', onData);
        socket.write(`GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\n\r\n`);
      });
    }

    it('should close an idle connection that failed to authenticate, and keep one that authenticated', async () => {
      const server = await started({
        basicAuthUsers: { alice: bcrypt.hashSync('pw', 4) },
        requestTimeoutMs: 300,
        routes: [{ path: '/metrics', description: 'm', handler: ok('metrics\n') }],
      });
      const good = await connect(server.port);
      const bad = await connect(server.port);
      try {
        expect(await request(good.socket, basicAuth('alice', 'pw'))).toBe(200);
        expect(await request(bad.socket, basicAuth('alice', 'nope'))).toBe(401);
        // The server closes the unauthenticated one after its short keep-alive (the request timeout here)…
        await bad.closed;
        // …while the other one stays open and serves.
        expect(good.socket.destroyed).toBe(false);
        expect(await request(good.socket, basicAuth('alice', 'pw'))).toBe(200);
      } finally {
        good.socket.destroy();
        bad.socket.destroy();
      }
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
        expect(JSON.parse(reply.text)).toEqual({ error: 'internal error' });
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
