import { describe, expect, it } from 'vitest';
import { DEMO_CYPHER, DemoNeo4jQueries } from '../../../src/demo/neo4j-queries.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';

describe('DemoNeo4jQueries', () => {
  it('should run the read-only queries in turn, one per interval, and close the driver on shutdown', async () => {
    const clock = new ManualClock();
    const ran: string[] = [];
    let closed = 0;
    const q = new DemoNeo4jQueries({
      run: (query) => {
        ran.push(query);
        return Promise.resolve();
      },
      close: () => {
        closed++;
        return Promise.resolve();
      },
      clock,
      logger: new MemoryLogger(),
      everyMs: 500,
    });
    q.start();
    await clock.advance(0);
    await clock.advance(500);
    await clock.advance(500);
    expect(ran).toEqual([DEMO_CYPHER[0], DEMO_CYPHER[1], DEMO_CYPHER[2]]);
    for (const query of DEMO_CYPHER) expect(query).not.toMatch(/\b(CREATE|MERGE|SET|DELETE|REMOVE)\b/i);
    await q.shutdown();
    await q.shutdown();
    await clock.advance(5000);
    expect(ran).toHaveLength(3);
    expect(closed).toBe(1);
    expect(q.stats()).toEqual({ ok: 3, failed: 0 });
  });

  it('should count failed queries, log the first one only, and keep going', async () => {
    const clock = new ManualClock();
    const logger = new MemoryLogger();
    const q = new DemoNeo4jQueries({
      run: () => Promise.reject(new Error('connection refused')),
      clock,
      logger,
    });
    for (let i = 0; i < 3; i++) await q.runOnce();
    expect(q.stats()).toEqual({ ok: 0, failed: 3 });
    const warnings = logger.records.filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain('connection refused');
  });

  it('should log a driver that fails to close, and still shut down', async () => {
    const logger = new MemoryLogger();
    const q = new DemoNeo4jQueries({
      run: () => Promise.resolve(),
      close: () => Promise.reject(new Error('socket hang up')),
      clock: new ManualClock(),
      logger,
    });
    q.start();
    await expect(q.shutdown()).resolves.toBeUndefined();
    expect(logger.find('warn').map((r) => [r.msg, r.fields])).toEqual([
      ['demo Neo4j driver did not close', { error: 'socket hang up' }],
    ]);
  });

  it('should be safe to shut down before start', async () => {
    const q = new DemoNeo4jQueries({
      run: () => Promise.resolve(),
      clock: new ManualClock(),
      logger: new MemoryLogger(),
    });
    await expect(q.shutdown()).resolves.toBeUndefined();
  });
});
