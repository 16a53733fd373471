import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { advanceAndCollect, fixtureAgent, scrape } from './helpers/fixture-agent.js';

const STUB = fileURLToPath(
  new URL('../fixtures/neo4j-driver-stub/neo4j-driver-core/lib/session.js', import.meta.url),
);
const requireStub = createRequire(import.meta.url);

describe('PerformanceMonitorAgent application sources (as the preload runs them)', () => {
  it('should export HTTP requests, neo4j-driver query latency and the runtime, but not its own endpoint', async () => {
    const fx = fixtureAgent('linux-vm', {
      instrumentHttp: true,
      instrumentNeo4jDriver: true,
      runtimeMetrics: true,
    });
    const app = http.createServer((_req, res) => res.end('ok'));
    await fx.agent.start();
    try {
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
      const port = (app.address() as AddressInfo).port;
      await (await fetch(`http://127.0.0.1:${port}/items/42`)).text();
      delete requireStub.cache[STUB];
      const { default: Session } = requireStub(STUB) as {
        default: new (o: { database: string }) => { run(q: string): PromiseLike<unknown> };
      };
      await new Session({ database: 'graph' }).run('CREATE (n)');
      await scrape(fx.agent);
      await advanceAndCollect(fx, 15_000);
      const { text } = await scrape(fx.agent);
      expect(text).toMatch(
        /^multi_agent_system_api_request_count_total\{endpoint="\/items\/:num",method="GET",status="200",[^}]*\} 1$/m,
      );
      expect(text).not.toContain('endpoint="/metrics"');
      expect(text).toMatch(
        /^multi_agent_system_neo4j_query_duration_count\{database="graph",query_kind="write",[^}]*\} 1$/m,
      );
      expect(text).toMatch(/^multi_agent_system_nodejs_heap_used_bytes\{[^}]*\} \d+$/m);
      expect(text).toMatch(/^# TYPE multi_agent_system_nodejs_eventloop_utilization gauge$/m);
    } finally {
      app.close();
      await fx.agent.stop();
    }
  });
});
