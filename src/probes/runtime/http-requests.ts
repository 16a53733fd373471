/**
 * Every HTTP server request of the process, recorded into the API request metrics through
 * node:diagnostics_channel (`http.server.request.start` / `http.server.response.finish`), so it works for
 * CommonJS and ESM applications alike without wrapping node:http. The endpoint label is the route template
 * when a framework matched one (routes/: Express `req.baseUrl + req.route.path`, Fastify
 * `request.routeOptions.url`, Koa with @koa/router `ctx._matchedRoute`, Hono `routePath(c)`), `unmatched`
 * when a framework answered 404 without matching a route (so that scans of random paths cannot grow the
 * series), else the path with ids collapsed (normalizeEndpoint, for plain node:http servers and for what a
 * framework's middleware answered outside any route); the cardinality limit of the API metrics bounds what
 * is left. Koa and Hono keep their route on their own context object, which nothing links to the request:
 * for them a module hook wraps one constructor when the framework loads (routes/koa.ts, routes/hono.ts).
 * Query strings are never recorded.
 * Responses with status 500 and above are also counted as API errors (error_type `http_<status>`).
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../lib/clock.js';
import { guarded } from '../../lib/guard.js';
import type { Logger } from '../../lib/logger.js';
import type { ApplicationRecorder } from '../../telemetry/application-recorder.js';
import { expressRoute } from './routes/express.js';
import type { ExpressRequest } from './routes/express.js';
import { FastifyRoutes } from './routes/fastify.js';
import { honoRoute, HonoRoutes } from './routes/hono.js';
import type { HonoRequest } from './routes/hono.js';
import { koaRoute, KoaRoutes } from './routes/koa.js';
import type { KoaRequest } from './routes/koa.js';
import { ROUTE_SLOT, UNMATCHED_ENDPOINT } from './routes/route-slot.js';
import type { RouteSlotted } from './routes/route-slot.js';

const STARTED = Symbol('perf-monitor-agent.requestStart');

type TimedRequest = IncomingMessage &
  ExpressRequest &
  KoaRequest &
  HonoRequest &
  RouteSlotted & {
    [STARTED]?: number;
  };

interface StartMessage {
  request: TimedRequest;
  server?: unknown;
}

interface FinishMessage {
  request: TimedRequest;
  response: ServerResponse;
}

const NUMBER = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Hex ids (Mongo ObjectIds, hashes): 8+ hex digits with at least one digit. */
const HEX = /^(?=[^\d]*\d)[0-9a-f]{8,}$/i;
const MAX_SEGMENTS = 8;
const MAX_SEGMENT_LENGTH = 64;

/**
 * A request path as an endpoint label: query string dropped, numbers → `:num`, UUIDs → `:uuid`, hex ids
 * → `:hex`, segments over 64 characters → `:long`, at most 8 segments (the rest → `/…`).
 */
export function normalizeEndpoint(url: string | undefined): string {
  if (url === undefined || url === '') return '/';
  let path = url;
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  if (!path.startsWith('/')) return ':other';
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    if (out.length === MAX_SEGMENTS) {
      out.push('…');
      break;
    }
    const s = parts[i]!;
    out.push(
      NUMBER.test(s)
        ? ':num'
        : UUID.test(s)
          ? ':uuid'
          : HEX.test(s)
            ? ':hex'
            : s.length > MAX_SEGMENT_LENGTH
              ? ':long'
              : s,
    );
  }
  return `/${out.join('/')}`;
}

/** Paths already normalized; cleared when full, so that distinct paths cannot grow it. */
const ENDPOINT_CACHE_SIZE = 4096;

export interface HttpRequestMetricsOptions {
  recorder: ApplicationRecorder;
  clock: Clock;
  /** Servers whose requests are not recorded (the agent's own endpoint). */
  ignoreServer?: (server: unknown) => boolean;
  /** The logger in force, where a subscriber that failed (on a foreign publisher's message) is reported. */
  logger?: () => Logger;
}

export class HttpRequestMetrics {
  private readonly _opts: HttpRequestMetricsOptions;
  private _started = false;
  private readonly _endpoints = new Map<string, string>();
  private readonly _fastify: FastifyRoutes;
  private readonly _koa: KoaRoutes;
  private readonly _hono: HonoRoutes;
  // Subscribers run inside the application's request path, and a throw there would be rethrown by
  // diagnostics_channel as the application's uncaughtException.
  private readonly _onStart = guarded(
    () => this._opts.logger?.(),
    'http request start',
    (message: unknown): void => {
      const { request, server } = message as StartMessage;
      if (this._opts.ignoreServer?.(server) === true) return;
      request[STARTED] = this._opts.clock.monotonicMs();
    },
  );
  private readonly _onFinish = guarded(
    () => this._opts.logger?.(),
    'http request finish',
    (message: unknown): void => {
      const { request, response } = (message ?? {}) as Partial<FinishMessage>;
      // A request the start subscriber did not mark (served before the agent started, or a foreign
      // publisher's message, which the start subscriber has already reported) is not measured.
      if (request === undefined || response === undefined) return;
      const t0 = request[STARTED];
      if (t0 === undefined) return;
      // The recorder counts invalid input itself: anything thrown from here on is the guard's to report.
      const seconds = (this._opts.clock.monotonicMs() - t0) / 1000;
      const status = response.statusCode;
      const endpoint = this._endpointOf(request, status);
      const method = request.method ?? 'OTHER';
      this._opts.recorder.recordApiRequest(endpoint, method, seconds, status);
      if (status >= 500) this._opts.recorder.recordApiError(endpoint, method, `http_${status}`);
    },
  );

  constructor(opts: HttpRequestMetricsOptions) {
    this._opts = opts;
    this._fastify = new FastifyRoutes(() => opts.logger?.());
    this._koa = new KoaRoutes(() => opts.logger?.());
    this._hono = new HonoRoutes(() => opts.logger?.());
  }

  /**
   * The endpoint label of a finished request: the route template a framework matched; `unmatched` when
   * the framework answered 404 without a route; else the normalized path (no framework, or a framework's
   * middleware answered before any route, e.g. static files or an authentication check).
   */
  private _endpointOf(request: TimedRequest, status: number): string {
    const slot = request[ROUTE_SLOT];
    if (typeof slot === 'string') return slot;
    let framework = slot === null;
    if (!framework) {
      const koa = koaRoute(request);
      if (koa.koa) {
        if (koa.route !== undefined) return koa.route;
        framework = true;
      }
    }
    if (!framework) {
      const hono = honoRoute(request, status);
      if (hono.hono) {
        if (hono.route !== undefined) return hono.route;
        framework = true;
      }
    }
    if (!framework) {
      const express = expressRoute(request);
      if (express.express) {
        if (express.path !== undefined)
          return express.base === '' ? express.path : this._endpoint(express.base) + express.path;
        framework = true;
      }
    }
    if (framework && status === 404) return UNMATCHED_ENDPOINT;
    // Inside a mounted router or middleware Express strips the mount path from req.url.
    return this._endpoint(typeof request.originalUrl === 'string' ? request.originalUrl : request.url);
  }

  private _endpoint(url: string | undefined): string {
    if (url === undefined) return '/';
    let e = this._endpoints.get(url);
    if (e === undefined) {
      e = normalizeEndpoint(url);
      if (this._endpoints.size >= ENDPOINT_CACHE_SIZE) this._endpoints.clear();
      this._endpoints.set(url, e);
    }
    return e;
  }

  start(): Promise<void> {
    if (!this._started) {
      diagnostics.subscribe('http.server.request.start', this._onStart);
      diagnostics.subscribe('http.server.response.finish', this._onFinish);
      this._fastify.start();
      this._koa.start();
      this._hono.start();
      this._started = true;
    }
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (this._started) {
      diagnostics.unsubscribe('http.server.request.start', this._onStart);
      diagnostics.unsubscribe('http.server.response.finish', this._onFinish);
      this._fastify.shutdown();
      this._koa.shutdown();
      this._hono.shutdown();
      this._started = false;
    }
    return Promise.resolve();
  }
}
