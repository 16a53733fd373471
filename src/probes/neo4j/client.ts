/**
 * The collector's view of a Neo4j server: run one read query, get plain rows back. The driver-backed
 * client is the only code that touches neo4j-driver; tests inject recorded answers instead.
 */
import { createRequire } from 'node:module';
import type neo4jModule from 'neo4j-driver';
import type { Driver } from 'neo4j-driver';
import { AGENT_SESSION } from '../runtime/neo4j-driver.js';
import type { Clock } from '../../lib/clock.js';
import { AgentError, errorMessage } from '../../lib/errors.js';
import { guardPromise } from '../../lib/guard.js';
import type { Logger } from '../../lib/logger.js';

/** One result row, integers as numbers (values beyond 2^53 lose precision, as counts never reach that). */
export type Row = Readonly<Record<string, unknown>>;

export interface RunOptions {
  /** Database to run in; the client's default when omitted. */
  database?: string;
  /** Client-side and server-side time limit of the query. */
  timeoutMs: number;
}

export interface Neo4jClient {
  run(query: string, params: Record<string, unknown>, opts: RunOptions): Promise<Row[]>;
  close(): Promise<void>;
}

/** Where and how to connect: shared by the collector's settings and the driver client's options. */
export interface Neo4jConnectionSettings {
  uri: string;
  user: string;
  password: string | undefined;
  database: string;
  maxConnectionPoolSize: number;
  connectionTimeoutMs: number;
}

export interface DriverClientOptions extends Neo4jConnectionSettings {
  /** Sent to the server as the Bolt user agent; the collector recognises its own connections by it. */
  userAgent: string;
  clock: Clock;
  /** Where a session that fails to close is reported; counted only without one. */
  logger?: Logger;
}

/** The Bolt user agent of every connection the agent opens. */
export const AGENT_USER_AGENT_PREFIX = 'perf-monitor-agent/';

/** A failure of the connection itself (server away, wrong credentials), as opposed to one query's. */
export function isConnectionError(err: unknown): boolean {
  const code = errorCode(err);
  return (
    code === 'ServiceUnavailable' ||
    code === 'SessionExpired' ||
    code === 'Neo.ClientError.Security.Unauthorized' ||
    code === 'Neo.ClientError.Security.AuthenticationRateLimit' ||
    code === 'Neo.ClientError.Security.CredentialsExpired' ||
    // A server still starting (or recovering) says so with transient errors: retried like an outage.
    code?.startsWith('Neo.TransientError.') === true ||
    code === 'Neo.ClientError.Database.DatabaseNotFound'
  );
}

/** Authentication refused: retrying with the same password will not help. */
export function isAuthError(err: unknown): boolean {
  const code = errorCode(err);
  return (
    code === 'Neo.ClientError.Security.Unauthorized' || code === 'Neo.ClientError.Security.CredentialsExpired'
  );
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** One line for logs and the check command; the server's message without a stack. */
export function describeNeo4jError(err: unknown): string {
  const code = errorCode(err);
  const message = errorMessage(err).split('\n')[0]!;
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`;
}

let loadedDriver: typeof neo4jModule | undefined;

/**
 * neo4j-driver, loaded when the first client is built rather than when the agent is imported: an agent
 * preloaded into an application (or the demo) installs its neo4j-driver hook first, so the application's
 * driver (often the same module) is instrumented; the collector's own sessions are marked and not recorded.
 */
function neo4jDriver(): typeof neo4jModule {
  loadedDriver ??= createRequire(import.meta.url)('neo4j-driver') as typeof neo4jModule;
  return loadedDriver;
}

/** The client over neo4j-driver: one driver, one short session per query. */
export class DriverNeo4jClient implements Neo4jClient {
  private readonly _driver: Driver;
  private readonly _database: string;
  private readonly _clock: Clock;
  private readonly _logger: Logger | undefined;

  constructor(opts: DriverClientOptions) {
    this._database = opts.database;
    this._clock = opts.clock;
    this._logger = opts.logger;
    const neo4j = neo4jDriver();
    this._driver = neo4j.driver(opts.uri, neo4j.auth.basic(opts.user, opts.password ?? ''), {
      maxConnectionPoolSize: opts.maxConnectionPoolSize,
      connectionTimeout: opts.connectionTimeoutMs,
      connectionAcquisitionTimeout: opts.connectionTimeoutMs,
      disableLosslessIntegers: true,
      userAgent: opts.userAgent,
      // A down server is seen by the next query; no background work, no log output of its own.
      maxTransactionRetryTime: 0,
    });
  }

  async run(query: string, params: Record<string, unknown>, opts: RunOptions): Promise<Row[]> {
    const session = this._driver.session({
      database: opts.database ?? this._database,
      defaultAccessMode: neo4jDriver().session.READ,
    });
    (session as unknown as Record<symbol, boolean>)[AGENT_SESSION] = true;
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this._clock.setTimeout(
        () => reject(new AgentError('E_TIMEOUT', `no answer within ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    });
    try {
      const result = await Promise.race([session.run(query, params, { timeout: opts.timeoutMs }), timedOut]);
      return result.records.map((r) => r.toObject() as Row);
    } finally {
      timer?.cancel();
      // Closing waits for the server when the query is still running; never let it hold the caller. A close
      // that fails is counted (monitor_internal_errors{where="neo4j session close"}).
      void guardPromise(this._logger, 'neo4j session close', session.close());
    }
  }

  async close(): Promise<void> {
    await this._driver.close();
  }
}
