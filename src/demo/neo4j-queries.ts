/**
 * The demo's Neo4j traffic: when the demo's config collects from Neo4j, the synthetic application also
 * runs a few read-only Cypher queries per second through neo4j-driver against that server, so the driver
 * panels (neo4j_query_duration, recorded by the agent's neo4j-driver hook) and the server's query
 * statistics have something to show. Read-only on purpose: a demo never changes the user's graph.
 */
import { createRequire } from 'node:module';
import type neo4jModule from 'neo4j-driver';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/** What the demo asks, round after round. */
export const DEMO_CYPHER = [
  'MATCH (n) RETURN count(n) AS nodes',
  'MATCH ()-[r]->() RETURN count(r) AS relationships',
  'CALL db.labels() YIELD label RETURN collect(label) AS labels',
  'MATCH (n) WITH n LIMIT 50 RETURN count(n) AS sample',
] as const;

/** One query through the driver: resolves when the result is consumed. */
export type CypherRunner = (query: string) => Promise<void>;

export interface DemoNeo4jOptions {
  /** Runs one query; `driverRunner(...)` in the demo, a fake in unit tests. */
  run: CypherRunner;
  clock: Clock;
  logger: Logger;
  /** Time between queries. Default 500 ms. */
  everyMs?: number;
  /** Closes the driver on shutdown. */
  close?: () => Promise<void>;
}

export interface Neo4jConnection {
  uri: string;
  user: string;
  password: string;
  database: string;
}

/** A runner over a neo4j-driver driver (loaded now, after the agent's driver hook is in place). */
export function driverRunner(c: Neo4jConnection): { run: CypherRunner; close: () => Promise<void> } {
  const neo4j = createRequire(import.meta.url)('neo4j-driver') as typeof neo4jModule;
  const driver = neo4j.driver(c.uri, neo4j.auth.basic(c.user, c.password), {
    connectionTimeout: 5000,
    disableLosslessIntegers: true,
    userAgent: 'perf-monitor-demo',
  });
  return {
    run: async (query) => {
      const session = driver.session({ database: c.database, defaultAccessMode: neo4j.session.READ });
      try {
        await session.run(query);
      } finally {
        await session.close();
      }
    },
    close: () => driver.close(),
  };
}

export class DemoNeo4jQueries {
  private readonly _opts: DemoNeo4jOptions;
  private readonly _everyMs: number;
  private _timer: TimerHandle | undefined;
  private _running = false;
  private _next = 0;
  private _ok = 0;
  private _failed = 0;
  private _inFlight: Promise<void> | undefined;

  constructor(opts: DemoNeo4jOptions) {
    this._opts = opts;
    this._everyMs = opts.everyMs ?? 500;
  }

  start(): void {
    if (this._running) return;
    this._running = true;
    this._schedule(0);
  }

  async shutdown(): Promise<void> {
    if (!this._running && this._timer === undefined) return;
    this._running = false;
    this._timer?.cancel();
    this._timer = undefined;
    await this._inFlight;
    await this._opts.close?.().catch((err: unknown) => {
      this._opts.logger.warn('demo Neo4j driver did not close', { error: errorMessage(err) });
    });
  }

  stats(): { ok: number; failed: number } {
    return { ok: this._ok, failed: this._failed };
  }

  /** Runs the next query of DEMO_CYPHER; a failure is logged once per kind of error and counted. */
  async runOnce(): Promise<void> {
    const query = DEMO_CYPHER[this._next++ % DEMO_CYPHER.length]!;
    try {
      await this._opts.run(query);
      this._ok++;
    } catch (err) {
      if (this._failed++ === 0)
        this._opts.logger.warn('demo Neo4j query failed (further failures not logged)', {
          error: errorMessage(err),
        });
    }
  }

  private _schedule(delayMs: number): void {
    if (!this._running) return;
    this._timer = this._opts.clock.setTimeout(() => {
      if (!this._running) return;
      this._inFlight = this.runOnce().then(() => this._schedule(this._everyMs));
    }, delayMs);
  }
}
