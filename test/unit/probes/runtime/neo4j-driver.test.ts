import { createRequire } from 'node:module';
import net from 'node:net';
import type Neo4j from 'neo4j-driver';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from '../../../../src/lib/clock.js';
import { guardedFailures } from '../../../../src/lib/guard.js';
import {
  AGENT_SESSION,
  Neo4jDriverMetrics,
  classifyCypher,
  kindOfQueryType,
  wrapRun,
} from '../../../../src/probes/runtime/neo4j-driver.js';
import type { QueryKind } from '../../../../src/probes/runtime/neo4j-driver.js';

// A stand-in for neo4j-driver-core's lib/session.js (same public Session/Result shape) for exact timings;
// the last test uses the installed neo4j-driver. No Neo4j server runs in the unit tests: successful queries
// against the Neo4j test server are recorded in test/integration/dashboard-queries.test.ts.
const STUB = fileURLToPath(
  new URL('../../../fixtures/neo4j-driver-stub/neo4j-driver-core/lib/session.js', import.meta.url),
);
const requireStub = createRequire(import.meta.url);

interface StubSession {
  run(query: string): PromiseLike<unknown>;
}
type StubModule = {
  default: { new (o?: { database?: string }): StubSession; prototype: { run?: unknown } };
};

function freshStub(): StubModule {
  delete requireStub.cache[STUB];
  return requireStub(STUB) as StubModule;
}

describe('classifyCypher', () => {
  it.each([
    ['MATCH (n) RETURN n', 'read'],
    ['MATCH (n:User {id: $id}) SET n.seen = true', 'write'],
    ['merge (n:Tag {name: $n})', 'write'],
    ['CREATE INDEX user_id FOR (u:User) ON (u.id)', 'schema'],
    ['DROP CONSTRAINT unique_email', 'schema'],
    ['CREATE (n:User)', 'write'],
    ["MATCH (n) WHERE n.note = 'please SET me' RETURN n // DELETE later", 'read'],
    ['CALL db.labels()', 'read'],
  ] as const)('should classify %s as %s', (q, kind) => {
    expect(classifyCypher(q)).toBe(kind);
  });

  it('should map the server query types', () => {
    expect(['r', 'w', 'rw', 's', 'x'].map(kindOfQueryType)).toEqual([
      'read',
      'write',
      'write',
      'schema',
      undefined,
    ]);
  });
});

describe('wrapRun', () => {
  it('should record the latency of each query from run() until its result completes or fails', async () => {
    const clock = new ManualClock();
    const calls: [string, QueryKind, number][] = [];
    const mod = freshStub();
    const restore = wrapRun(mod.default.prototype, clock, (db, kind, s) => calls.push([db, kind, s]));
    const again = wrapRun(mod.default.prototype, clock, () => calls.push(['twice', 'read', 0]));
    const session = new mod.default({ database: 'movies' });
    const pending = session.run('CREATE (m:Movie)');
    await clock.advance(250);
    await pending;
    await session.run('MATCH (m) RETURN m');
    await expect(Promise.resolve(session.run('FAIL MERGE (x)'))).rejects.toThrow('SyntaxError');
    expect(calls).toEqual([
      ['movies', 'write', 0.25],
      ['movies', 'read', 0],
      ['default', 'write', 0],
    ]);
    again();
    restore();
    await session.run('MATCH (m) RETURN m');
    expect(calls).toHaveLength(3);
  });

  it("should not record the queries of the agent's own sessions (marked AGENT_SESSION)", async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    const mod = freshStub();
    const restore = wrapRun(mod.default.prototype, clock, (db) => calls.push(db));
    const own = new mod.default({ database: 'system' });
    (own as unknown as Record<symbol, boolean>)[AGENT_SESSION] = true;
    await own.run('MATCH (n) RETURN count(n)');
    await new mod.default({ database: 'app' }).run('MATCH (n) RETURN count(n)');
    expect(calls).toEqual(['app']);
    restore();
  });

  it('should count a recorder that throws, and still hand the application its result', async () => {
    const mod = freshStub();
    const restore = wrapRun(mod.default.prototype, new ManualClock(), () => {
      throw new Error('broken recorder');
    });
    try {
      await expect(Promise.resolve(new mod.default().run('MATCH (n) RETURN n'))).resolves.toBeDefined();
      await expect(Promise.resolve(new mod.default().run('FAIL MATCH (n)'))).rejects.toThrow('SyntaxError');
      expect(guardedFailures().get('neo4j-driver query completed')).toBe(1);
      expect(guardedFailures().get('neo4j-driver query failed')).toBe(1);
    } finally {
      restore();
    }
  });

  it('should count a result it cannot watch, and return it unchanged', () => {
    const frozen = Object.freeze({ _decorateObserver: (o: unknown) => o });
    const proto = { run: (): unknown => frozen };
    const restore = wrapRun(proto, new ManualClock(), () => undefined);
    expect(proto.run()).toBe(frozen);
    expect(guardedFailures().get('neo4j-driver query watch')).toBe(1);
    restore();
  });
});

describe('Neo4jDriverMetrics', () => {
  it("should instrument neo4j-driver-core's session module when the application loads it", async () => {
    const calls: [string, QueryKind][] = [];
    const metrics = new Neo4jDriverMetrics({
      clock: new ManualClock(),
      record: (db, kind) => calls.push([db, kind]),
    });
    await metrics.start();
    try {
      const mod = freshStub();
      await new mod.default().run('MATCH (n) RETURN n');
      expect(calls).toEqual([['neo4j', 'read']]);
    } finally {
      await metrics.shutdown();
      await metrics.shutdown();
    }
    const after = freshStub();
    await new after.default().run('MATCH (n) RETURN n');
    expect(calls).toHaveLength(1);
  });
});

describe('Neo4jDriverMetrics with the installed neo4j-driver package', () => {
  it('should instrument the real driver when it is loaded and record a query that fails to connect', async () => {
    const calls: [string, QueryKind][] = [];
    const metrics = new Neo4jDriverMetrics({
      clock: new SystemClock(),
      record: (db, kind) => calls.push([db, kind]),
    });
    await metrics.start();
    // A port nobody listens on: the driver's real Session/Result code runs up to the connection failure.
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const req = createRequire(import.meta.url);
    for (const k of Object.keys(req.cache)) if (/[\\/]neo4j-driver[^\\/]*[\\/]/.test(k)) delete req.cache[k];
    const neo4j = req('neo4j-driver') as typeof Neo4j;
    const driver = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', 'secret'), {
      connectionTimeout: 2000,
    });
    try {
      const session = driver.session({ database: 'movies' });
      await expect(session.run('MERGE (m:Movie {title: $t})', { t: 'x' })).rejects.toThrow();
      await session.close();
      expect(calls).toEqual([['default', 'write']]);
    } finally {
      await driver.close();
      await metrics.shutdown();
    }
  });
});
