/**
 * The agent's HTTP endpoint: plain or TLS, optional basic auth with bcrypt hashes (as Prometheus' web
 * config does it, see basic-auth.ts), GET and HEAD (plus the methods a route declares), bounded request time,
 * bounded connections. It knows nothing of what it serves: the agent hands it route handlers.
 *
 * Against hostile clients: every answer carries `X-Content-Type-Options: nosniff` and a strict
 * Content-Security-Policy; connections that have not authenticated get short header and keep-alive timeouts;
 * a POST or DELETE from a browser page of another origin (CSRF) is refused, and so is one whose Host is a
 * foreign DNS name while no basic auth protects the endpoint (DNS rebinding).
 */
import fs from 'node:fs';
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type * as NodeHttps from 'node:https';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import { nodeHttp, nodeHttps } from '../lib/builtins.js';
import { AgentError, errorMessage, systemErrorCode } from '../lib/errors.js';
import { guarded } from '../lib/guard.js';
import type { Logger } from '../lib/logger.js';
import type { BasicAuth, PasswordCheck } from './basic-auth.js';
import type { Route } from '../model/route.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface HttpServerOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  /** user → bcrypt hash; when set, every non-public route needs basic auth. */
  basicAuthUsers?: Readonly<Record<string, string>>;
  requestTimeoutMs: number;
  routes: readonly Route[];
  logger: Logger;
  /** Where the port came from, for the error message when it is taken (a config key path). */
  portSource?: string;
  /** Do not keep the process alive for this server (inside an application that should exit normally). */
  unref?: boolean;
  /** Open connections at most (DEFAULT_MAX_CONNECTIONS); further ones are closed at once. */
  maxConnections?: number;
  /** How a password is compared with a bcrypt hash; by default bcryptjs in a worker thread. */
  passwordCheck?: PasswordCheck;
}

export const DEFAULT_MAX_CONNECTIONS = 128;
/** Keep-alive of a connection that carried an authenticated request (or of every one without basic auth). */
const KEEP_ALIVE_MS = 65_000;
/** Header time, and keep-alive of a connection that has not authenticated (both also at most the request timeout). */
const SHORT_TIMEOUT_MS = 5_000;
/** At most one warning a minute about connections dropped at the limit. */
const DROP_WARNING_INTERVAL_MS = 60_000;

/** On every answer: no content sniffing; HTML may use its inline styles and nothing else (no script, no frame). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(`${JSON.stringify({ error: message })}\n`);
}

/** A header value for an error message: quoted, at most 100 characters. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/** The host name of a Host header (lower case, no port, no brackets, no trailing dot). */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  const name = colon < 0 ? h : h.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

export class HttpServer {
  private readonly _opts: HttpServerOptions;
  private _server: Server | NodeHttps.Server | undefined;
  /** Built by start() when users are configured: bcrypt and its worker are loaded only then. */
  private _auth: BasicAuth | undefined;
  /** Host names a mutating request may name without basic auth, besides IP addresses and *.localhost. */
  private readonly _localNames: ReadonlySet<string>;

  constructor(opts: HttpServerOptions) {
    this._opts = opts;
    this._localNames = new Set(['localhost', hostName(opts.host), os.hostname().toLowerCase()]);
  }

  /** The port actually bound (useful with port 0). */
  /** The underlying Node.js server while listening. */
  get nodeServer(): Server | NodeHttps.Server | undefined {
    return this._server;
  }

  /** Password checks waiting or running (diagnostics). */
  get pendingPasswordChecks(): number {
    return this._auth?.pending ?? 0;
  }

  get port(): number {
    const addr = this._server?.address() as AddressInfo | null | undefined;
    return addr?.port ?? this._opts.port;
  }

  get url(): string {
    const host = this._opts.host.includes(':') ? `[${this._opts.host}]` : this._opts.host;
    return `${this._opts.tls === undefined ? 'http' : 'https'}://${host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this._server !== undefined) return;
    const users = this._opts.basicAuthUsers;
    if (users !== undefined && this._auth === undefined) {
      const { BasicAuth } = await import('./basic-auth.js');
      this._auth = new BasicAuth({ users, check: this._opts.passwordCheck });
    }
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this._handle(req, res).catch(
        guarded(this._opts.logger, 'HTTP error answer', (err: unknown) => {
          this._opts.logger.error('HTTP handler failed', { path: req.url, error: errorMessage(err) });
          if (res.headersSent) res.end();
          else sendError(res, 500, 'internal error');
        }),
      );
    };
    // Node checks request/headers timeouts only every connectionsCheckingInterval (30 s by default), which
    // would let a slow client hold a connection up to 30 s past requestTimeoutMs. Every half of the request
    // timeout, at most 5 s (a slow client is gone at most that long after its timeout), not every second: each
    // check is a timer that wakes an idle agent (the default 10 s timeout: a check every 5 s).
    const httpOpts: ServerOptions = {
      connectionsCheckingInterval: Math.max(10, Math.min(this._opts.requestTimeoutMs / 2, 5000)),
    };
    const server =
      this._opts.tls === undefined
        ? nodeHttp().createServer(httpOpts, handler)
        : nodeHttps().createServer({ ...httpOpts, ...this._tlsOptions(this._opts.tls) }, handler);
    server.requestTimeout = this._opts.requestTimeoutMs;
    server.headersTimeout = Math.min(this._opts.requestTimeoutMs, SHORT_TIMEOUT_MS);
    // With basic auth, only connections that authenticated are kept long (see _keepLong).
    server.keepAliveTimeout =
      this._auth === undefined ? KEEP_ALIVE_MS : Math.min(this._opts.requestTimeoutMs, SHORT_TIMEOUT_MS);
    server.maxConnections = this._opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    let lastDropWarningMs = -Infinity;
    server.on(
      'drop',
      guarded(this._opts.logger, 'HTTP connection limit', () => {
        const now = Date.now();
        if (now - lastDropWarningMs < DROP_WARNING_INTERVAL_MS) return;
        lastDropWarningMs = now;
        this._opts.logger.warn('HTTP connections refused: too many open', { max: server.maxConnections });
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('listening', onListening);
        reject(this._listenError(err));
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(this._opts.port, this._opts.host);
    });
    server.on(
      'error',
      guarded(this._opts.logger, 'HTTP server error', (err: Error) =>
        this._opts.logger.error('HTTP server error', { error: errorMessage(err) }),
      ),
    );
    if (this._opts.unref === true) {
      server.unref();
      // Open keep-alive connections would hold the process as well.
      server.on('connection', (socket: Socket) => {
        socket.unref();
      });
    }
    this._server = server;
  }

  async shutdown(): Promise<void> {
    const server = this._server;
    if (server === undefined) return;
    this._server = undefined;
    this._auth?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(
      guarded(this._opts.logger, 'HTTP close connections', () => server.closeAllConnections()),
      2000,
    );
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  private _tlsOptions(tls: TlsFiles): NodeHttps.ServerOptions {
    const read = (file: string, what: string): Buffer => {
      try {
        return fs.readFileSync(file);
      } catch (err) {
        throw new AgentError(
          'E_TLS',
          `cannot read the TLS ${what} ${file}: ${systemErrorCode(err) ?? errorMessage(err)}`,
          { cause: err },
        );
      }
    };
    const opts: NodeHttps.ServerOptions = {
      cert: read(tls.certFile, 'certificate'),
      key: read(tls.keyFile, 'key'),
      minVersion: tls.minVersion,
    };
    if (tls.clientCaFile !== undefined) {
      opts.ca = read(tls.clientCaFile, 'client CA');
      opts.requestCert = true;
      opts.rejectUnauthorized = true;
    }
    return opts;
  }

  private _listenError(err: Error): AgentError {
    const code = systemErrorCode(err);
    const where = `${this._opts.host}:${this._opts.port}`;
    const source = this._opts.portSource === undefined ? '' : ` (set by ${this._opts.portSource})`;
    if (code === 'EADDRINUSE') {
      return new AgentError(
        'E_PORT_IN_USE',
        `port ${this._opts.port} is already in use on ${this._opts.host}${source}`,
        { cause: err },
      );
    }
    if (code === 'EACCES') {
      return new AgentError('E_LISTEN', `permission denied to listen on ${where}${source}`, { cause: err });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      return new AgentError('E_LISTEN', `cannot listen on ${where}: no such local address${source}`, {
        cause: err,
      });
    }
    return new AgentError('E_LISTEN', `cannot listen on ${where}: ${errorMessage(err)}`, { cause: err });
  }

  private async _handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The Date header, made here: Node's own keeps its text until the next second on a timer of its own, which
    // wakes an idle agent once more in every second it is scraped.
    res.sendDate = false;
    res.setHeader('Date', new Date().toUTCString());
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = this._opts.routes.find((r) =>
      r.path.endsWith('/*') ? path.startsWith(r.path.slice(0, -1)) : r.path === path,
    );
    if (route === undefined) {
      sendError(res, 404, 'not found');
      return;
    }
    const extra: readonly string[] = route.methods ?? [];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (!extra.includes(req.method ?? '')) {
        sendError(res, 405, `method ${quoted(req.method ?? '')} not allowed`, {
          Allow: ['GET', 'HEAD', ...extra].join(', '),
        });
        return;
      }
      const refusal = this._crossSiteRefusal(req);
      if (refusal !== undefined) {
        sendError(res, 403, refusal);
        return;
      }
    }
    if (route.public !== true && this._auth !== undefined) {
      // A request that goes away while its password check waits (closed, timed out) leaves the queue.
      const gone = new AbortController();
      const onClose = guarded(this._opts.logger, 'HTTP request close', () => gone.abort());
      res.once('close', onClose);
      const outcome = await this._auth.verify(
        req.headers.authorization,
        req.socket.remoteAddress,
        gone.signal,
      );
      res.off('close', onClose);
      if (gone.signal.aborted) return;
      if (outcome === 'busy') {
        res.shouldKeepAlive = false;
        sendError(res, 429, 'too many password checks at once; retry later', { 'Retry-After': '1' });
        return;
      }
      if (outcome === 'denied') {
        sendError(res, 401, 'unauthorized', {
          'WWW-Authenticate': 'Basic realm="perf-monitor", charset="UTF-8"',
        });
        return;
      }
      this._keepLong(req, res);
    }
    await route.handler(req, res);
  }

  /** After this answer, the connection (which authenticated) is kept alive as long as without basic auth. */
  private _keepLong(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    res.once(
      'finish',
      guarded(this._opts.logger, 'HTTP keep-alive', () => {
        // Node has just armed the (short) keep-alive timeout if the connection stays open.
        if (!socket.destroyed && (socket.timeout ?? 0) > 0) socket.setTimeout(KEEP_ALIVE_MS);
      }),
    );
  }

  /**
   * Why a POST or DELETE is refused, or undefined. A browser page of another origin (its Origin does not
   * name this Host) could otherwise change state with the user's network position and cached credentials
   * (CSRF). Without basic auth, a Host that is a DNS name other than localhost, the listen host or this
   * machine's name is refused too: a page whose name was rebound to this address (DNS rebinding) sends its
   * own name. IP addresses pass: a browser sends those only to a page loaded from that very address.
   */
  private _crossSiteRefusal(req: IncomingMessage): string | undefined {
    const host = req.headers.host;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost: string | undefined;
      try {
        const url = new URL(origin);
        if (url.protocol === 'http:' || url.protocol === 'https:') originHost = url.host;
      } catch {
        originHost = undefined;
      }
      if (originHost === undefined || host === undefined || originHost !== host.trim().toLowerCase()) {
        return `cross-origin ${req.method} refused: Origin ${quoted(origin)} is not this endpoint (Host ${quoted(host ?? '')})`;
      }
    }
    if (this._auth === undefined && host !== undefined) {
      const name = hostName(host);
      if (net.isIP(name) === 0 && !name.endsWith('.localhost') && !this._localNames.has(name)) {
        return (
          `${req.method} refused for Host ${quoted(host)}: without basic auth, send it to an IP address, ` +
          "localhost or this machine's name (DNS rebinding guard)"
        );
      }
    }
    return undefined;
  }
}
