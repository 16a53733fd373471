/**
 * Route templates from the frameworks: the extraction from what each framework leaves on a request, and
 * HttpRequestMetrics with real Express 4 and 5, Fastify 4 and 5 and Hono applications served in this
 * process.
 */
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../src/lib/clock.js';
import { guardedFailures } from '../../../../src/lib/guard.js';
import { HttpRequestMetrics } from '../../../../src/probes/runtime/http-requests.js';
import { expressRoute } from '../../../../src/probes/runtime/routes/express.js';
import { FastifyRoutes, markFastifyRoute } from '../../../../src/probes/runtime/routes/fastify.js';
import { HONO_CONTEXT, honoRoute, wrapContextClass } from '../../../../src/probes/runtime/routes/hono.js';
import type { HonoRequest } from '../../../../src/probes/runtime/routes/hono.js';
import { KOA_CONTEXT, koaRoute, wrapCreateContext } from '../../../../src/probes/runtime/routes/koa.js';
import { NO_ROUTE, ROUTE_SLOT } from '../../../../src/probes/runtime/routes/route-slot.js';
import type { RouteSlotted } from '../../../../src/probes/runtime/routes/route-slot.js';
import type { ApplicationRecorder } from '../../../../src/telemetry/application-recorder.js';

const require = createRequire(import.meta.url);
const app = (): void => undefined;

describe('expressRoute', () => {
  it.each([
    [{}, { express: false }],
    [
      { app, originalUrl: '/x' },
      { express: true, base: '', path: undefined },
    ],
    [
      { app, originalUrl: '/api/u/1', baseUrl: '/api', route: { path: '/u/:id' } },
      { express: true, base: '/api', path: '/u/:id' },
    ],
    [{ route: { path: '/u/:id' } }, { express: true, base: '', path: '/u/:id' }],
    [
      { app, originalUrl: '/a', route: { path: ['/a', '/b'] } },
      { express: true, base: '', path: '/a,/b' },
    ],
    [
      { app, originalUrl: '/f1', route: { path: /^\/f\d+$/ } },
      { express: true, base: '', path: '/^\\/f\\d+$/' },
    ],
    [
      { app, originalUrl: '/x', route: { path: 42 } },
      { express: true, base: '', path: undefined },
    ],
    [{ app: {}, originalUrl: '/x' }, { express: false }],
    [
      { app, originalUrl: '/l', route: { path: `/${'a'.repeat(300)}` } },
      { express: true, base: '', path: `/${'a'.repeat(255)}…` },
    ],
  ])('should read %j as %j', (req, wanted) => {
    expect(expressRoute(req)).toEqual(wanted);
  });
});

describe('markFastifyRoute', () => {
  it('should write the template, or no route, on the raw request and ignore a request without one', () => {
    const raw: RouteSlotted = {};
    markFastifyRoute({ raw, routeOptions: { url: '/orgs/:org/repos/:repo' } });
    expect(raw[ROUTE_SLOT]).toBe('/orgs/:org/repos/:repo');
    markFastifyRoute({ raw, routeOptions: {} });
    expect(raw[ROUTE_SLOT]).toBe(NO_ROUTE);
    markFastifyRoute({ raw });
    expect(raw[ROUTE_SLOT]).toBe(NO_ROUTE);
    expect(() => markFastifyRoute({ raw: 'text', routeOptions: { url: '/a' } })).not.toThrow();
  });

  it('should call done and count the failure when the request cannot be read', () => {
    const routes = new FastifyRoutes(undefined);
    routes.start();
    let hook: ((request: unknown, reply: unknown, done: () => void) => void) | undefined;
    // What Fastify publishes on fastify.initialization: the instance.
    diagnostics.channel('fastify.initialization').publish({
      fastify: { addHook: (_n: string, h: typeof hook) => (hook = h) },
    });
    routes.shutdown();
    expect(hook).toBeDefined();
    const throwing = {
      get raw(): never {
        throw new Error('unreadable');
      },
    };
    let done = 0;
    routes.start();
    hook!(throwing, {}, () => done++);
    routes.shutdown();
    expect(done).toBe(1);
    expect(guardedFailures().get('fastify route')).toBe(1);
    // After shutdown the hook only calls done.
    const raw: RouteSlotted = {};
    hook!({ raw, routeOptions: { url: '/a' } }, {}, () => done++);
    expect(done).toBe(2);
    expect(ROUTE_SLOT in raw).toBe(false);
  });
});

describe('koaRoute and wrapCreateContext', () => {
  it.each([
    [{}, { koa: false }],
    [{ [KOA_CONTEXT]: {} }, { koa: true, route: undefined }],
    [
      { [KOA_CONTEXT]: { _matchedRoute: '/api/users/:id', routerPath: '/other' } },
      { koa: true, route: '/api/users/:id' },
    ],
    [{ [KOA_CONTEXT]: { routerPath: '/health' } }, { koa: true, route: '/health' }],
    [{ [KOA_CONTEXT]: { _matchedRoute: /x/ } }, { koa: true, route: undefined }],
  ])('should read %o as %j', (req, wanted) => {
    expect(koaRoute(req)).toEqual(wanted);
  });

  it("should link Koa's context to the raw request, return it unchanged, and undo", () => {
    const made: unknown[] = [];
    class Application {
      createContext(req: object, res: object): object {
        const ctx = { req, res, app: this };
        made.push(ctx);
        return ctx;
      }
    }
    const original = Object.getOwnPropertyDescriptor(Application.prototype, 'createContext')!
      .value as unknown;
    const undo = wrapCreateContext(Application);
    expect(wrapCreateContext(Application)()).toBeUndefined(); // wrapped once only
    const app = new Application();
    const req = {};
    const ctx = app.createContext(req, {});
    expect(ctx).toBe(made[0]);
    expect(ctx).toEqual({ req, res: {}, app });
    expect((req as Record<symbol, unknown>)[KOA_CONTEXT]).toBe(ctx);
    undo();
    expect(Object.getOwnPropertyDescriptor(Application.prototype, 'createContext')!.value).toBe(original);
    expect(wrapCreateContext({})()).toBeUndefined();
  });
});

/** A match result as Hono's routers return it: `[[[handler, route], params], …]`. */
function matchOf(...routes: [method: string, path: string][]): unknown {
  return [routes.map(([method, path]) => [[() => undefined, { method, path, basePath: '/' }], {}])];
}

/** A raw request linked to a fake Hono Context whose c.req.routeIndex is `index`. */
function honoRequest(match: unknown, index?: unknown): HonoRequest {
  return { [HONO_CONTEXT]: { context: { req: { routeIndex: index } }, match } };
}

describe('honoRoute', () => {
  const users = ['GET', '/api/users/:id'] as [string, string];
  const all = ['ALL', '/*'] as [string, string];
  it.each([
    ['no link', {}, 200, { hono: false }],
    ['no match', honoRequest(matchOf()), 404, { hono: true, route: undefined }],
    ['one route', honoRequest(matchOf(users)), 200, { hono: true, route: '/api/users/:id' }],
    [
      'the route that answered',
      honoRequest(matchOf(all, users), 1),
      200,
      { hono: true, route: '/api/users/:id' },
    ],
    ['middleware that answered', honoRequest(matchOf(all, users), 0), 401, { hono: true, route: '/*' }],
    [
      'an index out of range',
      honoRequest(matchOf(users, all), 9),
      200,
      { hono: true, route: '/api/users/:id' },
    ],
    [
      'an index of another type',
      honoRequest(matchOf(users, all), '1'),
      200,
      { hono: true, route: '/api/users/:id' },
    ],
    ['not found after middleware', honoRequest(matchOf(all)), 404, { hono: true, route: undefined }],
    [
      'a route that answered 404',
      honoRequest(matchOf(all, users), 1),
      404,
      { hono: true, route: '/api/users/:id' },
    ],
    [
      'a GET wildcard route',
      honoRequest(matchOf(['GET', '/files/*'])),
      404,
      { hono: true, route: '/files/*' },
    ],
    ['a malformed result', honoRequest([[['x']]]), 200, { hono: true, route: undefined }],
    ['no result', honoRequest(undefined), 200, { hono: true, route: undefined }],
    [
      'a long path',
      honoRequest(matchOf(['GET', `/${'a'.repeat(300)}`])),
      200,
      { hono: true, route: `/${'a'.repeat(255)}…` },
    ],
  ])('should read %s', (_what, req, status, wanted) => {
    expect(honoRoute(req, status)).toEqual(wanted);
  });
});

describe('wrapContextClass', () => {
  const targets: unknown[] = [];
  class Context {
    readonly raw: unknown;
    readonly options: unknown;
    constructor(raw: unknown, options?: unknown) {
      targets.push(new.target);
      if (raw === 'bad') throw new TypeError('bad request');
      this.raw = raw;
      this.options = options;
    }
    get req(): unknown {
      return this.raw;
    }
  }

  it('should construct the same instance, link it to env.incoming once, and keep the class as it was', () => {
    const Wrapped = wrapContextClass(Context) as typeof Context;
    expect(Wrapped).not.toBe(Context);
    expect(wrapContextClass(Wrapped)).toBe(Wrapped);
    expect(Wrapped.prototype).toBe(Context.prototype);
    expect(Wrapped.name).toBe('Context');
    const incoming: HonoRequest = {};
    const matchResult = matchOf(['GET', '/a']);
    const options = { path: '/a', matchResult, env: { incoming, outgoing: {} } };
    const c = new Wrapped('request', options);
    expect(c).toBeInstanceOf(Context);
    expect(c).toBeInstanceOf(Wrapped);
    expect(Object.getPrototypeOf(c)).toBe(Context.prototype);
    expect({ ...c }).toEqual({ raw: 'request', options });
    expect(incoming[HONO_CONTEXT]).toEqual({ context: c, match: matchResult });
    // A second Context on the same request (an app mounted inside another) leaves the first one's link.
    new Wrapped('inner', { matchResult: matchOf(), env: { incoming } });
    expect(incoming[HONO_CONTEXT]!.context).toBe(c);
    // new.target is the class itself, as without the Proxy; subclasses are constructed as themselves.
    class Sub extends Wrapped {}
    expect(new Sub('x', {})).toBeInstanceOf(Sub);
    expect(targets).toEqual([Context, Context, Sub]);
    // Without env.incoming (app.request(), another runtime's env) nothing is linked.
    expect(() => new Wrapped('x')).not.toThrow();
    expect(() => new Wrapped('x', { env: { incoming: 'text' } })).not.toThrow();
    // What the constructor throws reaches its caller unchanged.
    expect(() => new Wrapped('bad', options)).toThrow(new TypeError('bad request'));
    expect(() => (Wrapped as unknown as () => unknown)()).toThrow(TypeError);
    // Options it cannot read: the failure is counted, the Context made all the same.
    const before = guardedFailures().get('hono context') ?? 0;
    const unreadable = {
      get env(): never {
        throw new Error('unreadable');
      },
    };
    expect(new Wrapped('x', unreadable)).toBeInstanceOf(Context);
    expect(guardedFailures().get('hono context')).toBe(before + 1);
  });

  it('should return anything but a class with a req getter as it is', () => {
    class Other {
      req = 1;
    }
    for (const value of [undefined, null, 'Context', {}, () => undefined, Other])
      expect(wrapContextClass(value)).toBe(value);
  });
});

interface Call {
  endpoint: string;
  method: string;
  status: string | number;
}

function recorder(calls: Call[]): ApplicationRecorder {
  return {
    recordApiRequest: (endpoint: string, method: string, _s: number, status: string | number) =>
      calls.push({ endpoint, method, status }),
    recordApiError: () => undefined,
  } as unknown as ApplicationRecorder;
}

async function hit(port: number, paths: readonly string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const p of paths) {
    const r = await fetch(`http://127.0.0.1:${port}${p}`);
    await r.text();
    statuses.push(r.status);
  }
  return statuses;
}

const PATHS = ['/api/users/abc', '/orgs/o1/repos/r1?tab=x', '/health', '/scan/wp-admin', '/deny/zz'] as const;

describe('HttpRequestMetrics with real frameworks', () => {
  let metrics: HttpRequestMetrics | undefined;
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await close?.();
    await metrics?.shutdown();
    close = undefined;
    metrics = undefined;
  });

  async function started(calls: Call[]): Promise<void> {
    metrics = new HttpRequestMetrics({ recorder: recorder(calls), clock: new SystemClock() });
    await metrics.start();
  }

  it.each(['express', 'express4'])(
    'should label %s requests with templates and 404s as unmatched',
    async (name) => {
      const calls: Call[] = [];
      await started(calls);
      type Handler = (
        req: unknown,
        res: { status(n: number): { end(): void }; send(b: string): void },
        next: () => void,
      ) => void;
      type Router = { get(p: string, h: Handler): void; use(...a: unknown[]): void };
      const express = require(name) as (() => Router & {
        listen(p: number, h: string, cb: () => void): Server;
      }) & { Router(o?: object): Router };
      const application = express();
      const api = express.Router();
      api.get('/users/:id', (_req, res) => res.send('ok'));
      const repos = express.Router({ mergeParams: true });
      repos.get('/repos/:repo', (_req, res) => res.send('ok'));
      application.use('/api', api);
      application.use('/orgs/:org', repos);
      application.get('/health', (_req, res) => res.send('ok'));
      application.use('/deny', (_req: unknown, res: { status(n: number): { end(): void } }) =>
        res.status(401).end(),
      );
      const server = await new Promise<Server>((resolve) => {
        const s = application.listen(0, '127.0.0.1', () => resolve(s));
      });
      close = () => new Promise((resolve) => server.close(resolve));
      expect(await hit((server.address() as AddressInfo).port, PATHS)).toEqual([200, 200, 200, 404, 401]);
      expect(calls).toEqual([
        { endpoint: '/api/users/:id', method: 'GET', status: 200 },
        // Express keeps the mount path only as matched: the normalizer has the last word on it.
        { endpoint: '/orgs/o1/repos/:repo', method: 'GET', status: 200 },
        { endpoint: '/health', method: 'GET', status: 200 },
        { endpoint: 'unmatched', method: 'GET', status: 404 },
        // Answered by middleware before any route: the normalized path.
        { endpoint: '/deny/zz', method: 'GET', status: 401 },
      ]);
    },
  );

  it.each(['fastify', 'fastify4'])(
    'should label %s requests with templates and 404s as unmatched',
    async (name) => {
      const calls: Call[] = [];
      await started(calls);
      type Reply = { code(n: number): { send(): void } };
      type Instance = {
        get(p: string, h: () => Promise<string>): void;
        register(p: (i: Instance) => Promise<void>, o: object): void;
        addHook(n: string, h: (req: { url: string }, reply: Reply, done: () => void) => void): void;
        listen(o: object): Promise<string>;
        close(): Promise<void>;
        server: Server;
      };
      const fastify = require(name) as () => Instance;
      const instance = fastify();
      instance.register(
        (i) => {
          i.get('/users/:id', () => Promise.resolve('ok'));
          return Promise.resolve();
        },
        { prefix: '/api' },
      );
      instance.register(
        (i) => {
          i.get('/repos/:repo', () => Promise.resolve('ok'));
          return Promise.resolve();
        },
        { prefix: '/orgs/:org' },
      );
      instance.get('/health', () => Promise.resolve('ok'));
      instance.get('/deny/:what', () => Promise.resolve('never'));
      // An authentication hook that answers before the handler: the route is known all the same.
      instance.addHook('onRequest', (req, reply, done) => {
        if (req.url.startsWith('/deny/')) reply.code(401).send();
        else done();
      });
      await instance.listen({ port: 0, host: '127.0.0.1' });
      close = () => instance.close();
      expect(await hit((instance.server.address() as AddressInfo).port, PATHS)).toEqual([
        200, 200, 200, 404, 401,
      ]);
      expect(calls).toEqual([
        { endpoint: '/api/users/:id', method: 'GET', status: 200 },
        { endpoint: '/orgs/:org/repos/:repo', method: 'GET', status: 200 },
        { endpoint: '/health', method: 'GET', status: 200 },
        { endpoint: 'unmatched', method: 'GET', status: 404 },
        { endpoint: '/deny/:what', method: 'GET', status: 401 },
      ]);
    },
  );
});

describe('HttpRequestMetrics with a real Hono application', () => {
  it('should label Hono requests with routePath(c), mounted prefixes included, and 404s as unmatched', async () => {
    // What the preload's module hook does when the application loads hono/dist/cjs/context.js.
    const contextModule = require(path.join(path.dirname(require.resolve('hono')), 'context.js')) as {
      Context: unknown;
    };
    const original = contextModule.Context;
    contextModule.Context = wrapContextClass(original);
    const calls: Call[] = [];
    const metrics = new HttpRequestMetrics({ recorder: recorder(calls), clock: new SystemClock() });
    await metrics.start();
    let close: (() => Promise<unknown>) | undefined;
    try {
      type C = { text(body: string, status?: number): Response };
      type Handler = (c: C, next: () => Promise<void>) => Response | Promise<Response | void>;
      type App = {
        get(p: string, h: Handler): App;
        use(p: string, h: Handler): App;
        route(p: string, a: App): App;
        basePath(p: string): App;
        fetch: unknown;
      };
      const { Hono } = require('hono') as { Hono: new () => App };
      const { serve } = require('@hono/node-server') as {
        serve: (o: object, cb: (info: AddressInfo) => void) => Server;
      };
      const api = new Hono().get('/users/:id', (c) => c.text('ok'));
      const repos = new Hono().basePath('/orgs/:org').get('/repos/:repo', (c) => c.text('ok'));
      const app = new Hono()
        .use('*', async (_c, next) => {
          await next();
        })
        .use('/deny/*', (c) => c.text('no', 401))
        .route('/api', api)
        .route('/', repos)
        .get('/health', (c) => c.text('ok'));
      const port = await new Promise<number>((resolve) => {
        const server = serve(
          { fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false },
          (info) => resolve(info.port),
        );
        close = () => new Promise((r) => server.close(r));
      });
      expect(await hit(port, PATHS)).toEqual([200, 200, 200, 404, 401]);
    } finally {
      contextModule.Context = original;
      await close?.();
      await metrics.shutdown();
    }
    expect(calls).toEqual([
      { endpoint: '/api/users/:id', method: 'GET', status: 200 },
      { endpoint: '/orgs/:org/repos/:repo', method: 'GET', status: 200 },
      { endpoint: '/health', method: 'GET', status: 200 },
      // Only the wildcard middleware matched and it passed the request on to Hono's not-found handler.
      { endpoint: 'unmatched', method: 'GET', status: 404 },
      // Answered by the middleware of /deny/*: its route.
      { endpoint: '/deny/*', method: 'GET', status: 401 },
    ]);
  });
});
