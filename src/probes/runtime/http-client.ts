/**
 * Every outgoing HTTP request of the application, recorded through node:diagnostics_channel, so it patches no
 * module and works for CommonJS and ESM alike: fetch() and undici (`undici:request:create` / `:headers` /
 * `:error`, published by the undici bundled in Node.js and by the npm package) and http.request /
 * https.request (`http.client.request.start`, `http.client.response.finish`, `http.client.request.error`).
 *
 * A request is timed from its start until its response headers arrive (status = the response's status code)
 * or until it fails before them (status `error`, plus one http_client_request_errors by error type). Labels:
 * `server_address` is host[:port] only (never a path, query or user info), `method` one of the standard
 * methods or `_OTHER`; the application metrics' cardinality limit bounds what is left. The start time rides
 * on the request object itself, so nothing is kept per request. The agent's own requests carry its
 * User-Agent (lib/own-requests.ts) and are skipped.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Clock } from '../../lib/clock.js';
import { guarded } from '../../lib/guard.js';
import type { Logger } from '../../lib/logger.js';
import { AGENT_PRODUCT, isAgentUserAgent } from '../../lib/own-requests.js';
import type { HttpClientRecorder } from '../../telemetry/application-recorder.js';

/** The error_type values of http_client_request_errors. */
export const CLIENT_ERROR_TYPES = [
  'connection_refused',
  'timeout',
  'connection_reset',
  'dns',
  'tls',
  'aborted',
  'other',
] as const;

export type ClientErrorType = (typeof CLIENT_ERROR_TYPES)[number];

const BY_CODE: ReadonlyMap<string, ClientErrorType> = new Map([
  ['ECONNREFUSED', 'connection_refused'],
  ['ETIMEDOUT', 'timeout'],
  ['ESOCKETTIMEDOUT', 'timeout'],
  ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'timeout'],
  ['ECONNRESET', 'connection_reset'],
  ['ECONNABORTED', 'connection_reset'],
  ['EPIPE', 'connection_reset'],
  ['UND_ERR_SOCKET', 'connection_reset'],
  ['ENOTFOUND', 'dns'],
  ['EAI_AGAIN', 'dns'],
  ['EAI_FAIL', 'dns'],
  ['EAI_NONAME', 'dns'],
  ['ABORT_ERR', 'aborted'],
  ['UND_ERR_ABORTED', 'aborted'],
]);

/** How deep error causes are followed (an abort caused by a timeout is a timeout). */
const MAX_CAUSE_DEPTH = 3;

function directType(err: object): ClientErrorType {
  const { code, name } = err as { code?: unknown; name?: unknown };
  if (typeof code === 'string') {
    const t = BY_CODE.get(code);
    if (t !== undefined) return t;
    if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT')) return 'tls';
  }
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'AbortError') return 'aborted';
  return 'other';
}

/** The error_type of a failed request, from its code or name, or its cause's. */
export function clientErrorType(err: unknown): ClientErrorType {
  let current: unknown = err;
  let found: ClientErrorType = 'other';
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH; depth++) {
    if (typeof current !== 'object' || current === null) break;
    const t = directType(current);
    if (t !== 'other' && t !== 'aborted') return t;
    if (t === 'aborted') found = 'aborted';
    current = (current as { cause?: unknown }).cause;
  }
  return found;
}

const MAX_ADDRESS_LENGTH = 256;

/**
 * host[:port] of an origin (`https://api.example.com:8443`) or a Host header (`api.example.com:8443`):
 * scheme, user info, path, query and fragment removed, lower-cased, at most 256 characters.
 */
export function serverAddress(originOrHost: string): string {
  let s = originOrHost;
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  let end = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) {
      end = i;
      break;
    }
  }
  s = s.slice(0, end);
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  if (s === '') return 'unknown';
  return (s.length > MAX_ADDRESS_LENGTH ? s.slice(0, MAX_ADDRESS_LENGTH) : s).toLowerCase();
}

const STANDARD_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);

/** A request method as a label: a standard method (upper-cased), else `_OTHER`. */
export function methodLabel(method: unknown): string {
  if (typeof method !== 'string') return '_OTHER';
  if (STANDARD_METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return STANDARD_METHODS.has(upper) ? upper : '_OTHER';
}

const STARTED = Symbol('perf-monitor-agent.clientRequestStart');

/** What this hook reads of undici's request (core Request) and of node's ClientRequest. */
interface TimedRequest {
  [STARTED]?: number;
  method?: unknown;
  /** undici: `http://host:port`. */
  origin?: unknown;
  /** undici: [name, value, ...] (undici 6+), or `name: value\r\n...` (undici 5). */
  headers?: unknown;
  /** node: the host name the request goes to. */
  host?: unknown;
  getHeader?: (name: string) => unknown;
}

interface RequestMessage {
  request?: TimedRequest;
}

interface ResponseMessage extends RequestMessage {
  response?: { statusCode?: unknown };
}

interface ErrorMessage extends RequestMessage {
  error?: unknown;
}

/** Whether an undici request's headers carry the agent's User-Agent. */
function undiciFromAgent(headers: unknown): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name: unknown = headers[i];
      if (typeof name === 'string' && name.length === 10 && name.toLowerCase() === 'user-agent')
        return isAgentUserAgent(headers[i + 1]);
    }
    return false;
  }
  return typeof headers === 'string' && headers.toLowerCase().includes(`user-agent: ${AGENT_PRODUCT}`);
}

/**
 * The start time the start subscriber put on a request, removed so that the request is recorded once: at its
 * response, or at a failure before one (an error while the body is read finds the mark gone).
 */
function taken(request: TimedRequest | undefined): number | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const t0 = request[STARTED];
  if (t0 !== undefined) request[STARTED] = undefined;
  return t0;
}

/** Addresses already computed, by origin or Host; cleared when full, so that distinct hosts cannot grow it. */
const ADDRESS_CACHE_SIZE = 1024;

export interface HttpClientMetricsOptions {
  recorder: HttpClientRecorder;
  clock: Clock;
  /** The logger in force, where a subscriber that failed (on a foreign publisher's message) is reported. */
  logger?: () => Logger;
}

export class HttpClientMetrics {
  private readonly _opts: HttpClientMetricsOptions;
  private _started = false;
  private readonly _addresses = new Map<string, string>();
  // Subscribers run inside the application's requests, where a throw would be rethrown by diagnostics_channel
  // as the application's uncaughtException.
  private readonly _onUndiciCreate = this._starter('http client request create', (request) =>
    undiciFromAgent(request.headers),
  );
  private readonly _onUndiciHeaders = this._finisher('http client response headers', 'undici', false);
  private readonly _onUndiciError = this._finisher('http client request error', 'undici', true);
  private readonly _onHttpStart = this._starter(
    'http client request start',
    (request) => typeof request.getHeader === 'function' && isAgentUserAgent(request.getHeader('user-agent')),
  );
  private readonly _onHttpFinish = this._finisher('http client response finish', 'node', false);
  private readonly _onHttpError = this._finisher('http client request error', 'node', true);

  constructor(opts: HttpClientMetricsOptions) {
    this._opts = opts;
  }

  /** A start subscriber: marks the request with its start time, unless it is the agent's own. */
  private _starter(where: string, fromAgent: (request: TimedRequest) => boolean): (message: unknown) => void {
    return guarded(
      () => this._opts.logger?.(),
      where,
      (message: unknown): void => {
        const request = (message as RequestMessage | undefined)?.request;
        if (typeof request !== 'object' || request === null || fromAgent(request)) return;
        request[STARTED] = this._opts.clock.monotonicMs();
      },
    );
  }

  /**
   * A response (`failure` false: message `{ request, response }`) or failure (`{ request, error }`) subscriber
   * of undici's or node's channels, which say where the request went differently.
   */
  private _finisher(where: string, source: 'undici' | 'node', failure: boolean): (message: unknown) => void {
    return guarded(
      () => this._opts.logger?.(),
      where,
      (message: unknown): void => {
        const { request, response, error } = (message ?? {}) as ResponseMessage & ErrorMessage;
        const t0 = taken(request);
        if (t0 === undefined) return;
        const server = source === 'undici' ? this._origin(request!.origin) : this._host(request!);
        this._record(t0, request!, server, response?.statusCode, failure ? (error ?? 'unknown') : undefined);
      },
    );
  }

  /** Records a finished request: its response's status, or its failure (status `error` and an error). */
  private _record(
    t0: number,
    request: TimedRequest,
    server: string,
    statusCode: unknown,
    error: unknown,
  ): void {
    const seconds = (this._opts.clock.monotonicMs() - t0) / 1000;
    const method = methodLabel(request.method);
    const recorder = this._opts.recorder;
    if (error === undefined) {
      const status = typeof statusCode === 'number' ? statusCode : 'unknown';
      recorder.recordHttpClientRequest(server, method, seconds, status);
    } else {
      recorder.recordHttpClientRequest(server, method, seconds, 'error');
      recorder.recordHttpClientError(server, method, clientErrorType(error));
    }
  }

  private _origin(origin: unknown): string {
    return this._address(typeof origin === 'string' ? origin : String(origin));
  }

  private _host(request: TimedRequest): string {
    const header = request.getHeader?.('host');
    const host = typeof header === 'string' ? header : request.host;
    return this._address(typeof host === 'string' ? host : 'unknown');
  }

  private _address(key: string): string {
    let a = this._addresses.get(key);
    if (a === undefined) {
      a = serverAddress(key);
      if (this._addresses.size >= ADDRESS_CACHE_SIZE) this._addresses.clear();
      this._addresses.set(key, a);
    }
    return a;
  }

  /** The channels and their subscribers (each guarded where it is defined). */
  private _subscriptions(): [string, (message: unknown) => void][] {
    return [
      ['undici:request:create', this._onUndiciCreate],
      ['undici:request:headers', this._onUndiciHeaders],
      ['undici:request:error', this._onUndiciError],
      ['http.client.request.start', this._onHttpStart],
      ['http.client.response.finish', this._onHttpFinish],
      ['http.client.request.error', this._onHttpError],
    ];
  }

  start(): Promise<void> {
    if (!this._started) {
      for (const [channel, fn] of this._subscriptions()) diagnostics.subscribe(channel, fn);
      this._started = true;
    }
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (this._started) {
      for (const [channel, fn] of this._subscriptions()) diagnostics.unsubscribe(channel, fn);
      this._started = false;
    }
    return Promise.resolve();
  }
}
