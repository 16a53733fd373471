/**
 * The agent's HTTP endpoint: plain or TLS, optional basic auth with bcrypt hashes (as Prometheus' web
 * config does it), GET and HEAD (plus the methods a route declares), bounded request time. It knows nothing of what it serves: the agent
 * hands it route handlers.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import bcrypt from 'bcryptjs';
import { AgentError, errorMessage, systemErrorCode } from '../lib/errors.js';
import { guarded } from '../lib/guard.js';
import type { Logger } from '../lib/logger.js';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface Route {
  /** Exact path, or a prefix when it ends with `/*`. */
  path: string;
  handler: RouteHandler;
  /** One line for the landing page. */
  description: string;
  /** Served without authentication (health checks). */
  public?: boolean;
  /** Methods besides GET and HEAD this route accepts (e.g. POST, DELETE for an API); auth applies alike. */
  methods?: readonly ('POST' | 'DELETE')[];
}

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
}

const AUTH_CACHE_SIZE = 64;
/** Compared against when the user is unknown, so that a wrong user costs the same time as a wrong password. */
const DUMMY_HASH = '$2b$10$x63IW0e0lOs2b4Q/gDj8WOMaLPaovodZmNYyJjqkLgOLynJcmPgE6';

export class HttpServer {
  private readonly _opts: HttpServerOptions;
  private _server: http.Server | https.Server | undefined;
  private readonly _authCache = new Map<string, true>();

  constructor(opts: HttpServerOptions) {
    this._opts = opts;
  }

  /** The port actually bound (useful with port 0). */
  /** The underlying Node.js server while listening. */
  get nodeServer(): http.Server | https.Server | undefined {
    return this._server;
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
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this._handle(req, res).catch(
        guarded(this._opts.logger, 'HTTP error answer', (err: unknown) => {
          this._opts.logger.error('HTTP handler failed', { path: req.url, error: errorMessage(err) });
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('internal error\n');
        }),
      );
    };
    // Node checks request/headers timeouts only every connectionsCheckingInterval (30 s by default), which
    // would let a slow client hold a connection up to 30 s past requestTimeoutMs.
    const httpOpts: http.ServerOptions = {
      connectionsCheckingInterval: Math.max(10, Math.min(this._opts.requestTimeoutMs, 1000)),
    };
    const server =
      this._opts.tls === undefined
        ? http.createServer(httpOpts, handler)
        : https.createServer({ ...httpOpts, ...this._tlsOptions(this._opts.tls) }, handler);
    server.requestTimeout = this._opts.requestTimeoutMs;
    server.headersTimeout = Math.min(this._opts.requestTimeoutMs, 60_000);
    server.keepAliveTimeout = 65_000;
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

  private _tlsOptions(tls: TlsFiles): https.ServerOptions {
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
    const opts: https.ServerOptions = {
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

  private async _handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = this._opts.routes.find((r) =>
      r.path.endsWith('/*') ? path.startsWith(r.path.slice(0, -1)) : r.path === path,
    );
    if (route === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    const extra: readonly string[] = route.methods ?? [];
    if (req.method !== 'GET' && req.method !== 'HEAD' && !extra.includes(req.method ?? '')) {
      res.writeHead(405, {
        Allow: ['GET', 'HEAD', ...extra].join(', '),
        'Content-Type': 'text/plain; charset=utf-8',
      });
      res.end('method not allowed\n');
      return;
    }
    if (route.public !== true && this._opts.basicAuthUsers !== undefined && !(await this._authorized(req))) {
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="perf-monitor", charset="UTF-8"',
        'Content-Type': 'text/plain; charset=utf-8',
      });
      res.end('unauthorized\n');
      return;
    }
    await route.handler(req, res);
  }

  private async _authorized(req: http.IncomingMessage): Promise<boolean> {
    const header = req.headers.authorization;
    if (header === undefined || !header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // bcrypt is slow by design; a successful check is remembered (by digest, never the password itself).
    const key = createHash('sha256').update(decoded).digest('base64');
    if (this._authCache.has(key)) return true;
    const users = this._opts.basicAuthUsers;
    // Own keys only: `constructor` or `__proto__` must not find Object.prototype's members.
    const hash = users !== undefined && Object.hasOwn(users, user) ? users[user] : undefined;
    const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
    if (ok && hash !== undefined) {
      if (this._authCache.size >= AUTH_CACHE_SIZE)
        this._authCache.delete(this._authCache.keys().next().value!);
      this._authCache.set(key, true);
      return true;
    }
    return false;
  }
}
