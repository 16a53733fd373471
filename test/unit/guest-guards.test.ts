/**
 * Inside an application, nothing thrown on the agent's own paths may reach the process: these tests make
 * those paths throw (a foreign diagnostics_channel message, an exporter, a notification timer, a hostile
 * query summary) and check that the process sees no uncaughtException or unhandledRejection, that the
 * agent logs the failure once and counts it, and that it goes on working.
 */
import diagnostics from 'node:diagnostics_channel';
import { OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.js';
import { OtlpPush } from '../../src/export/otlp.js';
import { ManualClock, settle } from '../../src/lib/clock.js';
import { guardedFailures } from '../../src/lib/guard.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { wrapRun } from '../../src/probes/runtime/neo4j-driver.js';
import { RecordingNotifier, alert, round } from './alerts/notify-helpers.js';
import { createTestMeter } from './export/helpers.js';
import { advanceAndCollect, fixtureAgent, scrape } from './helpers/fixture-agent.js';
import type { FixtureAgent } from './helpers/fixture-agent.js';

const CAUGHT = 'internal error caught; the agent goes on';

/** What reached the process while a test ran. */
let escaped: { event: string; error: unknown }[] = [];
const onUncaught = (error: unknown): void => void escaped.push({ event: 'uncaughtException', error });
const onUnhandled = (error: unknown): void => void escaped.push({ event: 'unhandledRejection', error });

beforeEach(() => {
  escaped = [];
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
});

afterEach(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  vi.restoreAllMocks();
});

describe('an embedded agent', () => {
  let fx: FixtureAgent | undefined;
  afterEach(async () => {
    await fx?.agent.stop();
    fx = undefined;
  });

  it('should not let a foreign diagnostics_channel message throw into the process', async () => {
    fx = fixtureAgent('linux-vm', { embedded: true });
    await fx.agent.start();
    // Another library publishing on the channels the agent subscribes to, with messages it does not expect.
    diagnostics.channel('http.server.request.start').publish(null);
    diagnostics.channel('http.server.request.start').publish({ request: 'not a request' });
    diagnostics.channel('http.server.response.finish').publish(undefined);
    await settle();
    expect(escaped).toEqual([]);
    const logged = fx.logger.find('error', CAUGHT);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.fields).toMatchObject({ where: 'http request start', occurrences: 1 });
    expect(guardedFailures().get('http request start')).toBe(2);

    // It goes on collecting, and the failures are in the next collection.
    const before = fx.agent.getMetricsSummary().metrics.monitor_collections?.[0]?.value ?? 0;
    await advanceAndCollect(fx, 15_000);
    await advanceAndCollect(fx, 15_000);
    const summary = fx.agent.getMetricsSummary();
    expect(summary.metrics.monitor_collections?.[0]?.value).toBeGreaterThan(before);
    expect(summary.metrics.monitor_internal_errors).toContainEqual({
      labels: { where: 'http request start' },
      value: 2,
    });
    const { text } = await scrape(fx.agent);
    expect(text).toMatch(
      /^multi_agent_system_monitor_internal_errors_total\{where="http request start",.*\} 2$/m,
    );
  });
});

describe('the OTLP push', () => {
  it('should report an exporter that throws instead of leaving a rejected promise', async () => {
    const logger = new MemoryLogger();
    const push = new OtlpPush(
      {
        endpoint: 'http://127.0.0.1:9/v1/metrics',
        headers: {},
        timeoutMs: 1000,
        compression: 'gzip',
        exportIntervalMs: undefined,
      },
      new ManualClock(),
      logger,
    );
    const exportSpy = vi.spyOn(OTLPMetricExporterBase.prototype, 'export').mockImplementation(() => {
      throw new Error('cannot encode');
    });
    const meter = createTestMeter();
    meter.provider.getMeter('m').createCounter('ticks_total').add(1);
    const rm = await meter.collect();
    push.offer(rm);
    await settle();
    expect(escaped).toEqual([]);
    expect(logger.find('error', CAUGHT).map((r) => r.fields)).toEqual([
      { where: 'otlp export', occurrences: 1, error: 'cannot encode' },
    ]);
    // The failed export is not left in flight: the next offer exports again.
    push.offer(rm);
    await settle();
    expect(push.stats.exports).toBe(2);
    expect(push.stats.skipped).toBe(0);
    expect(exportSpy).toHaveBeenCalledTimes(2);
    exportSpy.mockRestore();
    await push.shutdown();
    await meter.provider.shutdown();
  });
});

describe('the notification dispatcher', () => {
  it('should survive a group flush timer that throws and notify on the next round', async () => {
    const clock = new ManualClock();
    const logger = new MemoryLogger();
    const notifier = new RecordingNotifier();
    const d = new AlertDispatcher({
      channels: [{ notifier }],
      grouping: {
        groupBy: ['alertname'],
        groupWaitMs: 30_000,
        groupIntervalMs: 300_000,
        repeatIntervalMs: 3_600_000,
      },
      storePath: ':memory:',
      maxOutboxPerChannel: 100,
      initialBackoffMs: 1000,
      maxBackoffMs: 60_000,
      clock,
      logger,
      random: () => 0,
    });
    await d.start();
    try {
      d.handle(round(clock.nowMs(), alert('cpu', {}, 'firing', clock.nowMs())));
      // A silence check that throws inside the group_wait timer (with the system clock: the process's
      // uncaughtException).
      vi.spyOn(d, 'mutedBy').mockImplementationOnce(() => {
        throw new Error('matcher broke');
      });
      await expect(clock.advance(30_000)).resolves.toBeUndefined();
      expect(logger.find('error', CAUGHT).map((r) => r.fields)).toEqual([
        {
          component: 'notifications',
          where: 'notification group flush',
          occurrences: 1,
          error: 'matcher broke',
        },
      ]);
      expect(notifier.batches).toEqual([]);
      d.handle(round(clock.nowMs(), alert('cpu', {}, 'firing', clock.nowMs() - 30_000)));
      await clock.advance(300_000);
      expect(notifier.summary()).toEqual(['firing:cpu']);
      expect(escaped).toEqual([]);
    } finally {
      await d.shutdown();
    }
  });
});

describe('the neo4j-driver hook', () => {
  it("should call the application's observer even when the query summary cannot be read", () => {
    const proto = {
      run(_query: string): unknown {
        return { _decorateObserver: (o: unknown) => o };
      },
    };
    const recorded: unknown[] = [];
    wrapRun(proto, new ManualClock(), (...args) => recorded.push(args));
    const result = proto.run('MATCH (n) RETURN n') as {
      _decorateObserver(o: { onCompleted(s: unknown): void }): { onCompleted(s: unknown): void };
    };
    const seen: unknown[] = [];
    const observer = result._decorateObserver({ onCompleted: (s) => seen.push(s) });
    const summary = {
      get database(): never {
        throw new Error('hostile summary');
      },
    };
    expect(() => observer.onCompleted(summary)).not.toThrow();
    expect(seen).toEqual([summary]);
    expect(recorded).toEqual([]);
    expect(guardedFailures().get('neo4j-driver query completed')).toBe(1);
  });
});
