/**
 * Client-side Neo4j query latency from the application's own neo4j-driver (5.x and 6.x), recorded into
 * the `neo4j_query_duration` histogram with labels database and query_kind. On Neo4j Community this is
 * the only source of query-latency percentiles.
 *
 * How: a synchronous module hook (module.registerHooks, CommonJS and ESM alike) appends one line to
 * neo4j-driver-core's lib/session.js and lib/transaction.js when the application loads them; that line
 * hands the module's exports to this file, which wraps `run()` of Session and Transaction (auto-commit
 * queries, explicit and managed transactions, and driver.executeQuery all go through them). The wrapper
 * notes the start time and wraps the Result's observer (Result#_decorateObserver, the hook every way of
 * consuming a result goes through), so the duration runs from run() until the result completes or fails.
 *
 * Labels: database is the one the server reports in the summary (`default` when unknown, e.g. on an
 * error before a database was chosen); query_kind is the server's query type (r → read, w and rw →
 * write, s → schema), or on an error the kind guessed from the Cypher text (classifyCypher).
 */
import module from 'node:module';
import type { Clock } from '../../lib/clock.js';
import { guarded } from '../../lib/guard.js';
import type { GuardLogger } from '../../lib/guard.js';
import { appendExportsCall } from '../../lib/module-hook.js';

const SLOT_NAME = 'perf-monitor-agent.neo4j-driver';
const SLOT = Symbol.for(SLOT_NAME);
/**
 * Set on the sessions of the agent's own Neo4j collector: their queries are the agent's, not the
 * application's, and are never recorded (the application and the agent may share one neo4j-driver).
 */
export const AGENT_SESSION = Symbol.for('perf-monitor-agent.neo4j-own-session');
const PATCHED = Symbol('perf-monitor-agent.neo4j-patched');
const DRIVER_FILE = /[\\/]neo4j-driver-core[\\/]lib[\\/](session|transaction)\.js$/;

export type QueryKind = 'read' | 'write' | 'schema';

const SCHEMA =
  /^\s*(CREATE|DROP)\s+(OR\s+REPLACE\s+)?(RANGE\s+|TEXT\s+|POINT\s+|LOOKUP\s+|FULLTEXT\s+|VECTOR\s+|BTREE\s+)?(INDEX|CONSTRAINT)\b/i;
const WRITE = /\b(CREATE|MERGE|DELETE|SET|REMOVE|DETACH|FOREACH)\b|\bLOAD\s+CSV\b/i;

/** The kind of a Cypher query from its text: schema commands, queries with a writing clause, the rest. */
export function classifyCypher(query: unknown): QueryKind {
  const text = typeof query === 'string' ? query : ((query as { text?: unknown } | null)?.text ?? '');
  if (typeof text !== 'string') return 'read';
  const code = text
    .replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g, "''");
  if (SCHEMA.test(code)) return 'schema';
  return WRITE.test(code) ? 'write' : 'read';
}

/** The server's query type (ResultSummary.queryType) as a kind. */
export function kindOfQueryType(queryType: unknown): QueryKind | undefined {
  return queryType === 'r'
    ? 'read'
    : queryType === 'w' || queryType === 'rw'
      ? 'write'
      : queryType === 's'
        ? 'schema'
        : undefined;
}

export type QueryRecorder = (database: string, kind: QueryKind, seconds: number) => void;

interface Observer {
  onCompleted?: (summary: unknown) => void;
  onError?: (error: unknown) => void;
  [k: string]: unknown;
}

interface ResultLike {
  _decorateObserver?: (observer: Observer, ...rest: unknown[]) => Observer;
}

type RunFn = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Wraps `proto.run` so that each query's latency goes to `record`. Patching twice is a no-op. Returns a
 * function that restores the original.
 */
export function wrapRun(proto: { run?: unknown }, clock: Clock, record: QueryRecorder): () => void {
  const original = proto.run as (RunFn & { [PATCHED]?: RunFn }) | undefined;
  if (typeof original !== 'function' || original[PATCHED] !== undefined) return () => undefined;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if ((this as { [AGENT_SESSION]?: boolean } | null)?.[AGENT_SESSION] === true) return result;
    // Never into the application's query path: a failure to watch the result is reported, not thrown.
    guardedWatch(result as ResultLike, args[0], clock, record);
    return result;
  } as RunFn & { [PATCHED]?: RunFn };
  wrapped[PATCHED] = original;
  proto.run = wrapped;
  return () => {
    if (proto.run === wrapped) proto.run = original;
  };
}

const guardedWatch = guarded(undefined, 'neo4j-driver query watch', watch);

function watch(result: ResultLike, query: unknown, clock: Clock, record: QueryRecorder): void {
  const decorate = result?._decorateObserver;
  if (typeof decorate !== 'function') return;
  const t0 = clock.monotonicMs();
  let done = false;
  const finish = (database: string, kind: QueryKind): void => {
    if (done) return;
    done = true;
    // The recorder counts its own bad input; what it throws is reported by the guarded callers below.
    record(database, kind, (clock.monotonicMs() - t0) / 1000);
  };
  // The agent's part runs in the application's query path: guarded, and the application's observer is
  // called whatever happens to it.
  const completed = guarded(undefined, 'neo4j-driver query completed', (summary: unknown): void => {
    const s = summary as { queryType?: unknown; database?: { name?: unknown } } | undefined;
    const name = s?.database?.name;
    finish(
      typeof name === 'string' && name !== '' ? name : 'default',
      kindOfQueryType(s?.queryType) ?? classifyCypher(query),
    );
  });
  const failed = guarded(undefined, 'neo4j-driver query failed', () =>
    finish('default', classifyCypher(query)),
  );
  // The driver decorates each observer a consumer of the result attaches (then(), subscribe(), keys(), the
  // async iterator); it calls the observer's onCompleted with the final ResultSummary and its onError only
  // for a final error (not for one it retries). The observer is wrapped before the driver decorates it.
  result._decorateObserver = function (this: unknown, observer: Observer, ...rest: unknown[]): Observer {
    const wrapped = Object.create(observer) as Observer;
    wrapped.onCompleted = (summary: unknown): void => {
      completed(summary);
      observer.onCompleted?.call(observer, summary);
    };
    if (typeof observer.onError === 'function') {
      // Without its own onError the driver's default (a log line) stays in place.
      wrapped.onError = (error: unknown): void => {
        failed();
        observer.onError!.call(observer, error);
      };
    }
    return decorate.call(this, wrapped, ...rest);
  };
}

type Slot = { [SLOT]?: (exports: unknown) => void };

export interface Neo4jDriverMetricsOptions {
  clock: Clock;
  record: QueryRecorder;
  /** Where a failure of the module hook's callback is reported. */
  logger?: GuardLogger;
}

/** Installs the module hook; the application's neo4j-driver is instrumented when it loads it. */
export class Neo4jDriverMetrics {
  private readonly _opts: Neo4jDriverMetricsOptions;
  private _hooks: { deregister(): void } | undefined;
  private readonly _restore: (() => void)[] = [];

  constructor(opts: Neo4jDriverMetricsOptions) {
    this._opts = opts;
  }

  /** Wraps `run` of a loaded session.js / transaction.js module (its exports). */
  patchExports(exports: unknown): void {
    const proto = (exports as { default?: { prototype?: { run?: unknown } } } | null)?.default?.prototype;
    if (proto !== undefined) this._restore.push(wrapRun(proto, this._opts.clock, this._opts.record));
  }

  start(): Promise<void> {
    if (this._hooks !== undefined || typeof module.registerHooks !== 'function') return Promise.resolve();
    // Called from the application's require of the driver: a throw would fail that require.
    (globalThis as Slot)[SLOT] = guarded(this._opts.logger, 'neo4j-driver patch', (exports: unknown) =>
      this.patchExports(exports),
    );
    // A failure of the hook leaves the module as the application would have had it: its queries are then not
    // measured.
    this._hooks = appendExportsCall(DRIVER_FILE, SLOT_NAME, this._opts.logger, 'neo4j-driver module hook');
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this._hooks?.deregister();
    this._hooks = undefined;
    delete (globalThis as Slot)[SLOT];
    for (const restore of this._restore.splice(0)) restore();
    return Promise.resolve();
  }
}
