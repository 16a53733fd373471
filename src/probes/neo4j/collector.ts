/**
 * The Neo4j collector: reads the server on its own timer, each query within its time limit, and keeps the
 * last good snapshot. As a Probe its collect() only hands that snapshot over, so a scrape never waits
 * for Neo4j. When the server is away it retries with capped exponential backoff and jitter, logs one
 * warning when it goes and one line when it is back; its catalog metrics are then absent and
 * `neo4j_up` is 0.
 */
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { guarded, guardPromise } from '../../lib/guard.js';
import type { Logger } from '../../lib/logger.js';
import type { Probe, Snapshot } from '../probe.js';
import type { MetricPoint } from '../../model/metric.js';
import { parseComponents } from './answers.js';
import type { ServerInfo } from './answers.js';
import {
  AGENT_USER_AGENT_PREFIX,
  DriverNeo4jClient,
  describeNeo4jError,
  isAuthError,
  isConnectionError,
} from './client.js';
import type { Neo4jClient, Neo4jConnectionSettings, Row } from './client.js';
import { RowShapeError, customQueryPoints } from './custom-queries.js';
import type { CustomQuery } from './custom-queries.js';
import { Neo4jSources, Q, SOURCE_DEFINITIONS, Unavailable } from './sources.js';
import type { QueryDurationFeed, SourceContext } from './sources.js';

export interface Neo4jSettings extends Neo4jConnectionSettings {
  queryTimeoutMs: number;
  intervalMs: number;
  /**
   * How often the server's query statistics are read (db.stats.retrieve('QUERIES') costs the server
   * tens to hundreds of milliseconds); collections in between report the last percentiles.
   */
  queryStatsIntervalMs: number;
  /** Catalog metrics to read (the disabled ones are not queried). */
  enabledMetrics: ReadonlySet<string>;
  /** Configured queries; one named like a catalog metric replaces that metric's built-in source. */
  customQueries: readonly CustomQuery[];
}

export interface Neo4jCollectorOptions {
  settings: Neo4jSettings;
  clock: Clock;
  logger: Logger;
  agentVersion: string;
  /** Builds the client; tests inject recorded answers. Default: neo4j-driver. */
  createClient?: (settings: Neo4jSettings) => Neo4jClient;
  /** The preload's query-duration histogram, when an instrumented application shares the process. */
  queryDurations?: QueryDurationFeed;
  /** Uniform [0, 1) for the backoff jitter. */
  random?: () => number;
}

/** How one source or configured query fared in the last collection. */
export interface SourceState {
  state: 'ok' | 'unavailable' | 'failed';
  /** How the values were read (ok) or why not (unavailable, failed). */
  detail: string;
}

/** Where a driver that fails to close is reported (monitor_internal_errors{where}). */
const CLIENT_CLOSE = 'neo4j client close';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Whether the URI points at this machine (store files then readable here). */
export function isLocalUri(uri: string): boolean {
  try {
    const host = new URL(uri).hostname;
    return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
  } catch {
    return false;
  }
}

/** The URI fit for logs: scheme, host and port; no user name, password or routing context. */
export function boltAddress(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<unparsable URI>';
  }
}

/** Delay before reconnect attempt `attempt` (1, 2, …): doubling from 1 s, capped at the interval, jittered down to half. */
export function backoffMs(attempt: number, intervalMs: number, random: number): number {
  const base = Math.min(1000, intervalMs);
  const capped = Math.min(intervalMs, base * 2 ** Math.min(attempt - 1, 30));
  return Math.round(capped * (0.5 + 0.5 * random));
}

export class Neo4jCollector implements Probe {
  readonly name = 'neo4j';
  private readonly _settings: Neo4jSettings;
  private readonly _clock: Clock;
  private readonly _logger: Logger;
  private readonly _createClient: (settings: Neo4jSettings) => Neo4jClient;
  private readonly _random: () => number;
  private readonly _userAgent: string;
  private readonly _sources: Neo4jSources;
  private readonly _overridden: Set<string>;
  private _client: Neo4jClient | undefined;
  private _info: ServerInfo | undefined;
  private _timer: TimerHandle | undefined;
  private _cycle: Promise<void> | undefined;
  private _started = false;
  private _stopped = false;
  private _up: boolean | undefined;
  private _failedAttempts = 0;
  private _points: MetricPoint[] = [];
  private _lastGoodMs: number | undefined;
  private _lastDurationMs = 0;
  private _lastError: string | undefined;
  private readonly _failures = new Map<string, number>();
  private readonly _states = new Map<string, SourceState>();
  private _producedBy = new Map<string, string>();

  constructor(opts: Neo4jCollectorOptions) {
    this._settings = opts.settings;
    this._clock = opts.clock;
    this._logger = opts.logger.child({ probe: 'neo4j' });
    this._random = opts.random ?? Math.random;
    this._userAgent = `${AGENT_USER_AGENT_PREFIX}${opts.agentVersion}`;
    this._createClient =
      opts.createClient ??
      ((s) =>
        new DriverNeo4jClient({
          uri: s.uri,
          user: s.user,
          password: s.password,
          database: s.database,
          maxConnectionPoolSize: s.maxConnectionPoolSize,
          connectionTimeoutMs: s.connectionTimeoutMs,
          userAgent: this._userAgent,
          clock: this._clock,
          logger: this._logger,
        }));
    this._sources = new Neo4jSources(
      opts.queryDurations,
      this._settings.queryStatsIntervalMs,
      this._settings.customQueries.map((q) => q.query.trim()),
    );
    this._overridden = new Set(this._settings.customQueries.map((q) => q.name));
  }

  /** Starts the timer; the first collection begins at once but start() does not wait for it. */
  start(): Promise<void> {
    if (this._started || this._stopped) return Promise.resolve();
    this._started = true;
    this._schedule(0);
    return Promise.resolve();
  }

  async shutdown(): Promise<void> {
    if (this._stopped) return;
    this._stopped = true;
    this._timer?.cancel();
    this._timer = undefined;
    // Only waits for the cycle to end: _runCycle handles its own errors, and anything it still rejects with
    // was reported where it was started (the timer's guard, or the caller of collectNow).
    await this._cycle?.catch(() => undefined);
    const client = this._client;
    this._client = undefined;
    if (client !== undefined) await guardPromise(this._logger, CLIENT_CLOSE, client.close());
  }

  /** The last snapshot, plus neo4j_up and its age; never waits for the server. */
  collect(): Promise<Snapshot> {
    const points: MetricPoint[] = [...this._points];
    if (this._up !== undefined) points.push({ metric: 'neo4j_up', labels: {}, value: this._up ? 1 : 0 });
    if (this._lastGoodMs !== undefined)
      points.push({
        metric: 'neo4j_snapshot_age_seconds',
        labels: {},
        value: Math.max(0, this._clock.nowMs() - this._lastGoodMs) / 1000,
      });
    for (const [query, count] of this._failures)
      points.push({ metric: 'monitor_neo4j_query_failures', labels: { query }, value: count });
    if (this._up === false)
      return Promise.resolve({
        status: 'unavailable',
        points,
        reason: this._lastError ?? 'Neo4j is not reachable',
      });
    return Promise.resolve({ status: 'ok', points });
  }

  /** Runs one collection now (the timer keeps its schedule); resolves when it is done. */
  async collectNow(): Promise<void> {
    // Waits for a cycle in progress; its outcome was reported where it was started (see shutdown).
    await this._cycle?.catch(() => undefined);
    this._cycle = this._runCycle();
    await this._cycle;
  }

  get up(): boolean | undefined {
    return this._up;
  }

  get serverInfo(): ServerInfo | undefined {
    return this._info;
  }

  /** Wall time of the last collection, in milliseconds. */
  get lastDurationMs(): number {
    return this._lastDurationMs;
  }

  /** The error of the last failed connection attempt. */
  get lastError(): string | undefined {
    return this._lastError;
  }

  /** Which source gave each catalog metric in the last good collection. */
  producedBy(): ReadonlyMap<string, string> {
    return this._producedBy;
  }

  /** Per source id and configured query name, how the last collection read it. */
  sourceStates(): ReadonlyMap<string, SourceState> {
    return this._states;
  }

  private _schedule(delayMs: number): void {
    if (this._stopped) return;
    this._timer = this._clock.setTimeout(
      guarded(this._logger, 'neo4j collection timer', () => {
        this._timer = undefined;
        this._cycle = this._runCycle();
        // _runCycle is not meant to reject; if it does, that is reported and the schedule goes on.
        void guardPromise(
          this._logger,
          'neo4j collection',
          this._cycle.finally(() => this._schedule(this._nextDelayMs())),
        );
      }),
      delayMs,
    );
  }

  private _nextDelayMs(): number {
    if (this._up === false) return backoffMs(this._failedAttempts, this._settings.intervalMs, this._random());
    return Math.max(0, this._settings.intervalMs - this._lastDurationMs);
  }

  private async _runCycle(): Promise<void> {
    const started = this._clock.monotonicMs();
    try {
      await this._collectOnce();
    } catch (err) {
      this._down(err);
    } finally {
      this._lastDurationMs = this._clock.monotonicMs() - started;
    }
  }

  private _run(query: string, params: Record<string, unknown> = {}, timeoutMs?: number): Promise<Row[]> {
    this._client ??= this._createClient(this._settings);
    return this._client.run(query, params, {
      database: this._settings.database,
      timeoutMs: timeoutMs ?? this._settings.queryTimeoutMs,
    });
  }

  private async _collectOnce(): Promise<void> {
    if (this._stopped) return;
    this._info ??= parseComponents(await this._run(Q.components));
    const enabled = this._settings.enabledMetrics;
    const ctx: SourceContext = {
      run: (q, p) => this._run(q, p),
      database: this._settings.database,
      info: this._info,
      localServer: isLocalUri(this._settings.uri),
      nowMs: this._clock.nowMs(),
    };
    const sources = SOURCE_DEFINITIONS.filter((s) =>
      s.metrics.some((m) => enabled.has(m) && !this._overridden.has(m)),
    );
    const [builtIn, custom] = await Promise.all([
      Promise.allSettled(sources.map((s) => this._sources.read(s.id, ctx))),
      Promise.allSettled(this._settings.customQueries.map((q) => this._runCustom(q))),
    ]);
    const all = [...builtIn, ...custom];
    const lost = all.find((r) => r.status === 'rejected' && isConnectionError(r.reason));
    if (lost !== undefined) throw (lost as PromiseRejectedResult).reason;
    // A server that dies during a collection can fail some queries with errors that do not name the
    // connection (a timeout, a closed stream). Before blaming the queries, ask whether the server is still
    // there: if not, this is an outage (one warning), not several failing queries.
    const failed = all.some(
      (r) =>
        r.status === 'rejected' && !(r.reason instanceof Unavailable) && !(r.reason instanceof RowShapeError),
    );
    if (failed) await this._run(Q.ping);

    const points: MetricPoint[] = [];
    const seen = new Set<string>();
    const producedBy = new Map<string, string>();
    builtIn.forEach((r, i) => {
      const def = sources[i]!;
      if (r.status === 'fulfilled') {
        this._setState(def.id, { state: 'ok', detail: r.value.how });
        // The first source of a metric wins (Enterprise metrics before the store files).
        const mine = r.value.points.filter(
          (p) => enabled.has(p.metric) && !this._overridden.has(p.metric) && !seen.has(p.metric),
        );
        for (const p of mine) {
          points.push(p);
          producedBy.set(p.metric, def.id);
        }
        for (const p of mine) seen.add(p.metric);
      } else if (r.reason instanceof Unavailable) {
        this._setState(def.id, { state: 'unavailable', detail: r.reason.message });
      } else {
        this._fail(def.id, describeNeo4jError(r.reason));
      }
    });
    custom.forEach((r, i) => {
      const q = this._settings.customQueries[i]!;
      if (r.status === 'fulfilled') {
        this._setState(q.name, { state: 'ok', detail: 'configured query' });
        points.push(...r.value);
      } else {
        this._fail(
          q.name,
          r.reason instanceof RowShapeError
            ? `query result ${r.reason.message}`
            : describeNeo4jError(r.reason),
        );
      }
    });
    this._points = points;
    this._producedBy = producedBy;
    this._lastGoodMs = this._clock.nowMs();
    this._failedAttempts = 0;
    this._lastError = undefined;
    if (this._up === false)
      this._logger.info('Neo4j reachable again; collecting', {
        uri: boltAddress(this._settings.uri),
        edition: this._info.edition,
        version: this._info.version,
      });
    else if (this._up === undefined)
      this._logger.info('Neo4j connected', {
        uri: boltAddress(this._settings.uri),
        edition: this._info.edition,
        version: this._info.version,
      });
    this._up = true;
  }

  private async _runCustom(q: CustomQuery): Promise<MetricPoint[]> {
    const rows = await this._run(q.query, {}, q.timeoutMs);
    return customQueryPoints(q, rows);
  }

  /** Counts a failure and logs it when the source was not already failing. */
  private _fail(id: string, detail: string): void {
    this._failures.set(id, (this._failures.get(id) ?? 0) + 1);
    const previous = this._states.get(id);
    this._states.set(id, { state: 'failed', detail });
    if (previous?.state !== 'failed')
      this._logger.warn('Neo4j query failed; its metrics are absent until it succeeds', {
        query: id,
        error: detail,
      });
  }

  private _setState(id: string, next: SourceState): void {
    const previous = this._states.get(id);
    this._states.set(id, next);
    if (previous?.state === 'failed' && next.state !== 'failed')
      this._logger.info('Neo4j query succeeds again', { query: id });
    else if (next.state === 'unavailable' && previous?.state !== 'unavailable')
      this._logger.debug('Neo4j metric source unavailable', { query: id, reason: next.detail });
  }

  private _down(err: unknown): void {
    const detail = describeNeo4jError(err);
    this._failures.set('connect', (this._failures.get('connect') ?? 0) + 1);
    this._failedAttempts++;
    this._lastError = detail;
    this._points = [];
    this._info = undefined;
    this._sources.reset();
    // A fresh driver for the next attempt: no stale pooled connection to a server that restarted.
    const client = this._client;
    this._client = undefined;
    if (client !== undefined) void guardPromise(this._logger, CLIENT_CLOSE, client.close());
    if (this._up !== false) {
      const fields = { uri: boltAddress(this._settings.uri), user: this._settings.user, error: detail };
      if (isAuthError(err))
        this._logger.error('Neo4j refused the credentials; check neo4j_metrics.user and password', fields);
      else this._logger.warn('Neo4j not reachable; its metrics are absent until it answers', fields);
    }
    this._up = false;
  }
}
