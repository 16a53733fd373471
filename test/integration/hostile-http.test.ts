/**
 * Hostile HTTP clients against the real `perf-monitor` executable on loopback: every route and method with
 * malformed, oversized, out-of-range and adversarial input (see hostileBattery in ./hostile-http.ts). For each
 * attack the agent answers the contracted 4xx, stores nothing invalid, and keeps serving /metrics within a
 * loose bound of its latency measured before the attacks in the same run; at the end it stops on SIGTERM with
 * exit code 0 and starts again on the same state with the same silences. A second agent with basic auth gets
 * wrong-password floods while a correct client scrapes.
 *
 * An agent that dies or stops answering during a test is restarted on a fresh state directory after that
 * test, so that one broken defence fails its own test and not the rest; the last test lists those restarts.
 */
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import type { ServerHandle } from '../services/process.js';
import { builtCliAvailable, freePort, startCliAgent, tempDir } from './agent-harness.js';
import {
  LatencyMonitor,
  agentHealthy,
  expectJsonError,
  expectServedSince,
  hostileAgentYaml,
  hostileBattery,
  listSilences,
  request,
  storedFields,
} from './hostile-http.js';
import type { HostileConfigOptions } from './hostile-http.js';

/** The `perf-monitor` executable on a config of its own; `restartFresh` moves it to a new state directory. */
class DaemonUnderTest {
  handle: ServerHandle | undefined;
  private _dir = '';
  private _file = '';

  constructor(
    readonly port: number,
    private readonly _config: Omit<HostileConfigOptions, 'port' | 'stateDir'>,
  ) {}

  async start(): Promise<void> {
    if (this._file === '') this._newState();
    this.handle = await startCliAgent(this._file, this.port);
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
  }

  async restartFresh(): Promise<void> {
    await this.handle?.kill9();
    this._newState();
    await this.start();
  }

  running(): boolean {
    const p = this.handle?.process;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  private _newState(): void {
    this._dir = tempDir('hostile-http');
    this._file = path.join(this._dir, 'agent.yaml');
    fs.writeFileSync(this._file, hostileAgentYaml({ ...this._config, port: this.port, stateDir: this._dir }));
  }
}

describeService('perf-monitor executable', builtCliAvailable(), () => {
  describe('hostile HTTP clients against an agent with alerting, notifications and trends', () => {
    let agent: DaemonUnderTest;
    let metrics: LatencyMonitor;
    /** Tests after which the agent had to be restarted (it died or stopped answering). */
    const restartedAfter: string[] = [];

    beforeAll(async () => {
      agent = new DaemonUnderTest(await freePort(), {
        collectors: ['system', 'application'],
        ruleMetric: 'cpu_count',
      });
      await agent.start();
      metrics = new LatencyMonitor('agent /metrics', agent.port, '/metrics');
      metrics.start();
      await metrics.measureBaseline();
    });

    afterEach(async (ctx) => {
      if (agent.running() && (await agentHealthy(agent.port))) return;
      restartedAfter.push(ctx.task.name);
      console.warn(`hostile-http: the agent died or stopped answering in "${ctx.task.name}"; restarting it`);
      await agent.restartFresh();
    });

    afterAll(async () => {
      await metrics?.stop();
      await agent?.stop();
    });

    hostileBattery(() => ({ port: agent.port, monitors: [metrics], collectedMetric: 'cpu_percent' }));

    it('should have survived every attack in one process', () => {
      expect(restartedAfter).toEqual([]);
      expect(agent.running()).toBe(true);
    });

    it('should stop with exit code 0 on SIGTERM and list the same silences after a restart on the same state', async () => {
      const before = storedFields(await listSilences(agent.port));
      expect(before.length).toBeGreaterThan(0);
      await metrics.stop();
      const handle = agent.handle!;
      await agent.stop();
      expect({ code: handle.process.exitCode, signal: handle.process.signalCode }).toEqual({
        code: 0,
        signal: null,
      });
      await agent.start();
      expect(storedFields(await listSilences(agent.port))).toEqual(before);
      const scrape = await request(agent.port, '/metrics');
      expect(scrape.status).toBe(200);
    });
  });

  describe('hostile HTTP clients against an agent with basic auth', () => {
    const users = { admin: 'correct horse battery', second: 'staple of the second' };
    const basic = (user: string, password: string, scheme = 'Basic'): Record<string, string> => ({
      Authorization: `${scheme} ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    let agent: DaemonUnderTest;
    let metrics: LatencyMonitor;

    beforeAll(async () => {
      // Cost 10, as the example in docs/configuration.md: each wrong login costs one real bcrypt comparison.
      const basicAuthUsers = Object.fromEntries(
        Object.entries(users).map(([user, password]) => [user, bcrypt.hashSync(password, 10)]),
      );
      agent = new DaemonUnderTest(await freePort(), {
        collectors: ['system', 'application'],
        ruleMetric: 'cpu_count',
        basicAuthUsers,
      });
      await agent.start();
      metrics = new LatencyMonitor(
        'agent /metrics (authenticated)',
        agent.port,
        '/metrics',
        basic('admin', users.admin),
      );
      metrics.start();
      await metrics.measureBaseline();
    });

    afterAll(async () => {
      await metrics?.stop();
      await agent?.stop();
    });

    interface Flood {
      statuses: number[];
      retryAfterMissing: number;
      stop(): void;
      done: Promise<void>;
    }

    /**
     * 20 clients sending wrong logins back to back (half a wrong password for a real user, half unknown
     * users) until stopped, at most `maxMs` and 100 requests each.
     */
    function flood(maxMs: number): Flood {
      const statuses: number[] = [];
      let retryAfterMissing = 0;
      let stopped = false;
      const deadline = performance.now() + maxMs;
      const done = Promise.all(
        Array.from({ length: 20 }, async (_, client) => {
          for (let i = 0; i < 100 && !stopped && performance.now() < deadline; i++) {
            const headers =
              client % 2 === 0 ? basic('admin', `wrong-${client}-${i}`) : basic(`nobody-${client}`, 'x');
            const a = await request(agent.port, '/metrics', { headers, timeoutMs: 30_000 }).catch(
              () => undefined,
            );
            statuses.push(a?.status ?? 0);
            if (a?.status === 429 && a.headers['retry-after'] === undefined) retryAfterMissing++;
          }
        }),
      ).then(() => undefined);
      return {
        statuses,
        get retryAfterMissing() {
          return retryAfterMissing;
        },
        stop: () => {
          stopped = true;
        },
        done,
      };
    }

    it('should keep serving an authenticated scrape within its normal latency under a flood of wrong logins', async () => {
      const from = performance.now();
      const f = flood(3_000);
      await f.done;
      await expectServedSince([metrics], from);
      expect(f.statuses.length).toBeGreaterThan(0);
      expect([...new Set(f.statuses)].filter((s) => s !== 401 && s !== 429)).toEqual([]);
      expect(f.retryAfterMissing).toBe(0);
    });

    it('should let a correct login that is not cached yet in while the flood goes on', async () => {
      const f = flood(20_000);
      try {
        let answer = 0;
        for (let attempt = 0; attempt < 20 && answer !== 200; attempt++) {
          const a = await request(agent.port, '/metrics', {
            headers: basic('second', users.second),
            timeoutMs: 10_000,
          });
          answer = a.status;
          expect([200, 429]).toContain(a.status);
          if (a.status === 429) {
            const wait = Math.min(Number(a.headers['retry-after'] ?? 1), 2) * 1000;
            await new Promise((r) => setTimeout(r, wait));
          }
        }
        expect(answer).toBe(200);
        expect(f.statuses.length).toBeGreaterThan(0);
      } finally {
        f.stop();
        await f.done;
      }
    });

    it.each(['basic', 'BASIC', 'bAsIc'])('should accept the scheme written %s', async (scheme) => {
      const a = await request(agent.port, '/metrics', { headers: basic('admin', users.admin, scheme) });
      expect(a.status).toBe(200);
    });

    it.each([
      ['not base64', 'Basic %%%%'],
      ['no colon', `Basic ${Buffer.from('admin').toString('base64')}`],
      ['an empty user', `Basic ${Buffer.from(`:${users.admin}`).toString('base64')}`],
      ['another scheme', 'Bearer abc'],
      ['8 KB of credentials', `Basic ${Buffer.from(`admin:${'p'.repeat(6000)}`).toString('base64')}`],
      ['a user named __proto__', `Basic ${Buffer.from('__proto__:x').toString('base64')}`],
    ])('should answer 401 to credentials with %s', async (_what, authorization) => {
      const from = performance.now();
      const a = await request(agent.port, '/metrics', { headers: { Authorization: authorization } });
      expect(a.status).toBe(401);
      expect(String(a.headers['www-authenticate'])).toMatch(/^Basic /);
      await expectServedSince([metrics], from);
    });

    it('should answer 401 with a JSON error on an API route', async () => {
      const a = await request(agent.port, '/api/v1/silences', { headers: basic('admin', 'wrong') });
      expectJsonError(a, 401);
    });

    it('should never print a password it was sent, right or wrong', () => {
      const output = agent.handle!.output();
      for (const secret of [users.admin, users.second, 'wrong-0-0']) expect(output).not.toContain(secret);
    });

    it('should serve /healthz without credentials', async () => {
      const a = await request(agent.port, '/healthz');
      expect(a.status).toBe(200);
    });
  });
});
