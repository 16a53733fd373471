/**
 * The sources that live in the application's process: measurements that worker threads send to the main
 * thread, every HTTP server request of the process and every outgoing HTTP request it makes
 * (diagnostics_channel), and the latency of the application's neo4j-driver queries. The hooks must be in place before
 * the application loads its modules, so they are installed when start() is called, before the configuration is
 * read; they do not depend on it. Their modules are loaded only when one is on: the preload, which needs them
 * synchronously, imports them itself and hands them over (provideInAppProbes); a program's agent that turns one
 * on imports them as it starts; the daemon turns none on and never loads them.
 */
import { isMainThread } from '../lib/builtins.js';
import { guardPromise } from '../lib/guard.js';
import { shutdownAll } from '../lib/lifecycle.js';
import type { HttpClientMetrics } from '../probes/runtime/http-client.js';
import type { HttpRequestMetrics } from '../probes/runtime/http-requests.js';
import type { Neo4jDriverMetrics, QueryKind } from '../probes/runtime/neo4j-driver.js';
import type { SeriesTable } from '../telemetry/series-table.js';
import { ApplicationBridge } from '../telemetry/worker-bridge.js';
import type { Component } from './component.js';
import type { AgentContext } from './context.js';

export interface InAppOptions {
  /** Record the process's HTTP server requests. */
  http: boolean;
  /** Record the process's outgoing HTTP requests (fetch/undici, http.request), except the agent's own. */
  httpClient?: boolean;
  /** Record the application's neo4j-driver query latency. */
  neo4jDriver: boolean;
  /** The agent's own HTTP server, whose requests are not the application's. */
  ownServer: () => unknown;
  /** The table query latencies go to (the pipeline in force's), when that metric is on. */
  neo4jTable: () => SeriesTable | undefined;
}

/** The in-app probes' classes. */
export interface InAppProbeModules {
  HttpRequestMetrics: typeof HttpRequestMetrics;
  HttpClientMetrics: typeof HttpClientMetrics;
  Neo4jDriverMetrics: typeof Neo4jDriverMetrics;
}

let provided: InAppProbeModules | undefined;

/**
 * The preload's in-app probe classes, imported statically there: its agent installs the hooks synchronously,
 * before the application's own code loads its modules (a dynamic import would let it start first).
 */
export function provideInAppProbes(modules: InAppProbeModules): void {
  provided ??= modules;
}

/** The modules of the probes that are on, for an agent the preload did not provide them to. */
async function importInAppProbes(opts: InAppOptions): Promise<Partial<InAppProbeModules>> {
  return {
    HttpRequestMetrics: opts.http
      ? (await import('../probes/runtime/http-requests.js')).HttpRequestMetrics
      : undefined,
    HttpClientMetrics:
      opts.httpClient === true
        ? (await import('../probes/runtime/http-client.js')).HttpClientMetrics
        : undefined,
    Neo4jDriverMetrics: opts.neo4jDriver
      ? (await import('../probes/runtime/neo4j-driver.js')).Neo4jDriverMetrics
      : undefined,
  };
}

export class InAppSources implements Component {
  readonly name = 'in-app sources';
  private readonly _ctx: AgentContext;
  private readonly _opts: InAppOptions;
  private readonly _bridge: ApplicationBridge;
  private _httpRequests: HttpRequestMetrics | undefined;
  private _httpClient: HttpClientMetrics | undefined;
  private _neo4jDriver: Neo4jDriverMetrics | undefined;
  private _state: 'new' | 'hooked' | 'running' | 'stopped' = 'new';
  /** The import of the probes' modules when they were not provided, until the hooks are in. */
  private _loading: Promise<void> | undefined;

  constructor(ctx: AgentContext, opts: InAppOptions) {
    this._ctx = ctx;
    this._opts = opts;
    this._bridge = new ApplicationBridge(ctx.application);
  }

  /**
   * Installs the process hooks: synchronously when the preload provided their modules (HTTP requests made
   * meanwhile wait in the application API), else once they are imported (start() waits for that).
   */
  hook(): void {
    if (this._state !== 'new') return;
    this._state = 'hooked';
    const o = this._opts;
    if (!o.http && o.httpClient !== true && !o.neo4jDriver) return;
    if (provided !== undefined) {
      this._install(provided);
      return;
    }
    this._loading = guardPromise(() => this._ctx.logger(), 'in-app probes load', this._importAndInstall(o));
  }

  private async _importAndInstall(o: InAppOptions): Promise<void> {
    const modules = await importInAppProbes(o);
    if (this._state !== 'stopped') this._install(modules);
  }

  private _install(m: Partial<InAppProbeModules>): void {
    const ctx = this._ctx;
    if (this._opts.http && m.HttpRequestMetrics !== undefined) {
      this._httpRequests = new m.HttpRequestMetrics({
        recorder: ctx.application,
        clock: ctx.clock,
        ignoreServer: (s) => s !== undefined && s === this._opts.ownServer(),
        logger: () => ctx.logger(),
      });
      void guardPromise(() => ctx.logger(), 'http request metrics start', this._httpRequests.start());
    }
    if (this._opts.httpClient === true && m.HttpClientMetrics !== undefined) {
      this._httpClient = new m.HttpClientMetrics({
        recorder: ctx.application,
        clock: ctx.clock,
        logger: () => ctx.logger(),
      });
      void guardPromise(() => ctx.logger(), 'http client metrics start', this._httpClient.start());
    }
    if (this._opts.neo4jDriver && m.Neo4jDriverMetrics !== undefined) {
      this._neo4jDriver = new m.Neo4jDriverMetrics({
        clock: ctx.clock,
        record: (db, kind, seconds) => this._recordNeo4jQuery(db, kind, seconds),
        logger: () => ctx.logger(),
      });
      void guardPromise(() => ctx.logger(), 'neo4j-driver metrics start', this._neo4jDriver.start());
    }
  }

  /** In the main thread, receives the measurements of worker threads. */
  async start(): Promise<void> {
    this.hook();
    await this._loading;
    if (this._state !== 'hooked') return;
    this._state = 'running';
    if (isMainThread()) await this._bridge.start();
  }

  async shutdown(): Promise<void> {
    if (this._state === 'stopped') return;
    this._state = 'stopped';
    await this._loading;
    const httpRequests = this._httpRequests;
    const httpClient = this._httpClient;
    const neo4jDriver = this._neo4jDriver;
    this._httpRequests = undefined;
    this._httpClient = undefined;
    this._neo4jDriver = undefined;
    await shutdownAll(
      [
        { name: 'worker bridge', shutdown: () => this._bridge.shutdown() },
        { name: 'http requests', shutdown: () => httpRequests?.shutdown() ?? Promise.resolve() },
        { name: 'http client', shutdown: () => httpClient?.shutdown() ?? Promise.resolve() },
        { name: 'neo4j driver', shutdown: () => neo4jDriver?.shutdown() ?? Promise.resolve() },
      ],
      this._ctx.opts.shutdownTimeoutMs ?? 10_000,
      this._ctx.logger(),
    );
  }

  private _recordNeo4jQuery(database: string, kind: QueryKind, seconds: number): void {
    const t = this._opts.neo4jTable();
    if (t === undefined || !(seconds >= 0 && seconds !== Infinity)) return;
    const db = database.length > 256 ? database.slice(0, 256) : database;
    t.observe(t.get3(db, kind, '') ?? t.create([db, kind]), seconds);
  }
}
