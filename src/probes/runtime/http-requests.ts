/**
 * Every HTTP server request of the process, recorded into the API request metrics through
 * node:diagnostics_channel (`http.server.request.start` / `http.server.response.finish`), so it works for
 * CommonJS and ESM applications alike and patches no module. The endpoint label is the framework route
 * when one is known at the end of the response (Express: `req.baseUrl + req.route.path`), else the path
 * with ids collapsed (normalizeEndpoint); the cardinality limit of the API metrics bounds what is left.
 * Responses with status 500 and above are also counted as API errors (error_type `http_<status>`).
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../lib/clock.js';
import { guarded } from '../../lib/guard.js';
import type { Logger } from '../../lib/logger.js';
import type { ApplicationRecorder } from '../../telemetry/application-recorder.js';

const STARTED = Symbol('perf-monitor-agent.requestStart');

type TimedRequest = IncomingMessage & {
  [STARTED]?: number;
  route?: { path?: unknown };
  baseUrl?: unknown;
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

function routeOf(req: TimedRequest): string | undefined {
  const path = req.route?.path;
  if (typeof path !== 'string') return undefined;
  const base = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  return base + path;
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
      const endpoint = routeOf(request) ?? this._endpoint(request.url);
      const method = request.method ?? 'OTHER';
      const status = response.statusCode;
      this._opts.recorder.recordApiRequest(endpoint, method, seconds, status);
      if (status >= 500) this._opts.recorder.recordApiError(endpoint, method, `http_${status}`);
    },
  );

  constructor(opts: HttpRequestMetricsOptions) {
    this._opts = opts;
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
      this._started = true;
    }
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (this._started) {
      diagnostics.unsubscribe('http.server.request.start', this._onStart);
      diagnostics.unsubscribe('http.server.response.finish', this._onFinish);
      this._started = false;
    }
    return Promise.resolve();
  }
}
