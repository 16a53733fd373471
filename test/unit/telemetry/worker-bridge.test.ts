import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { guardedFailures } from '../../../src/lib/guard.js';
import { ApplicationMetrics } from '../../../src/telemetry/application-metrics.js';
import type { ApplicationRecorder, HttpClientRecorder } from '../../../src/telemetry/application-recorder.js';
import {
  ApplicationBridge,
  LOST_BATCHES_PLACE,
  WorkerApplicationMetrics,
  replayBatch,
} from '../../../src/telemetry/worker-bridge.js';

function target(): ApplicationMetrics {
  const app = new ApplicationMetrics();
  app.bind(parseConfigText('performance_monitor: {}\n', 'test.yaml', {}), { clock: new ManualClock() });
  return app;
}

function total(app: ApplicationMetrics, name: string): number {
  const t = app.tables().find((x) => x.opts.name === `multi_agent_system_${name}`)!;
  let n = 0;
  for (const s of t.series()) n += t.opts.kind === 'histogram' ? s.count : s.value;
  return n;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('WorkerApplicationMetrics and ApplicationBridge', () => {
  it('should deliver every call, batched, to the receiving ApplicationMetrics', async () => {
    const app = target();
    const bridge = new ApplicationBridge(app);
    await bridge.start();
    try {
      const sender = new WorkerApplicationMetrics();
      for (let i = 0; i < 5000; i++) sender.recordApiRequest('/w', 'GET', 0.01, 200);
      sender.recordAgentExecution('a', 1);
      sender.recordQueueProcessing('q', 0.1);
      sender.setCacheSize('c', 3);
      sender.timeAgent('t', () => 1);
      await until(() => total(app, 'api_request_count_total') === 5000 && total(app, 'cache_size') === 3);
      // 5000 calls in one event-loop turn: two full batches of 2048 and the rest at the end of the turn.
      expect(bridge.batches).toBe(3);
      expect(total(app, 'agent_execution_count_total')).toBe(2);
      expect(total(app, 'queue_items_processed_total')).toBe(1);
      const statuses = [
        ...app
          .tables()
          .find((t) => t.opts.name.endsWith('agent_execution_count_total'))!
          .series(),
      ];
      expect(statuses.map((s) => s.labels)).toEqual([
        ['a', 'success'],
        ['t', 'success'],
      ]);
    } finally {
      await bridge.shutdown();
      await bridge.shutdown();
    }
  });

  it('should let only the first started receiver of a process receive', async () => {
    const first = target();
    const second = target();
    const a = new ApplicationBridge(first);
    const b = new ApplicationBridge(second);
    await a.start();
    await b.start();
    try {
      new WorkerApplicationMetrics().recordCacheMiss('m');
      await until(() => total(first, 'cache_misses_total') === 1);
      await b.shutdown();
      await a.shutdown();
      await b.start(); // free again once the first has stopped
      new WorkerApplicationMetrics().recordCacheMiss('m');
      await until(() => total(second, 'cache_misses_total') === 1);
      expect(total(first, 'cache_misses_total')).toBe(1);
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });

  it('should skip malformed batches and entries without throwing', () => {
    const app = target();
    expect(() => {
      replayBatch('nonsense', app);
      replayBatch([99, 'x', 1, 2, 3, 7, 'c', undefined, undefined, undefined], app);
      replayBatch([2, '/x', 'GET', 'not a number', 200], app);
    }).not.toThrow();
    // The unknown method index (99) is skipped; the entry after it (7: recordCacheHit) still runs, and
    // a duration that is not a number is dropped and counted.
    expect(total(app, 'cache_hits_total')).toBe(1);
    expect(total(app, 'api_request_count_total')).toBe(0);
    expect(app.droppedMeasurements).toBe(1);
  });

  it('should count a batch that could not be posted, in the main thread, with the next batch', async () => {
    const app = target();
    const bridge = new ApplicationBridge(app);
    await bridge.start();
    const lostBefore = guardedFailures().get(LOST_BATCHES_PLACE) ?? 0;
    try {
      const sender = new WorkerApplicationMetrics();
      // A label value that cannot be cloned fails the whole post, and recording does not throw.
      expect(() => {
        sender.record('x', 1, [Symbol('not cloneable') as unknown as string]);
        sender.recordCacheHit('lost with it');
        sender.flush();
      }).not.toThrow();
      sender.recordCacheMiss('after');
      sender.flush();
      await until(() => total(app, 'cache_misses_total') === 1);
      expect(total(app, 'cache_hits_total')).toBe(0);
      expect(guardedFailures().get(LOST_BATCHES_PLACE)).toBe(lostBefore + 1);
      // Told once: the batch after that carries no count.
      sender.recordCacheMiss('again');
      sender.flush();
      await until(() => total(app, 'cache_misses_total') === 2);
      expect(guardedFailures().get(LOST_BATCHES_PLACE)).toBe(lostBefore + 1);
    } finally {
      await bridge.shutdown();
    }
  });

  it("should deliver a worker thread's outgoing-HTTP measurements, with the main thread's labels", async () => {
    const app = target();
    const bridge = new ApplicationBridge(app);
    await bridge.start();
    try {
      const sender = new WorkerApplicationMetrics();
      sender.recordHttpClientRequest('api.example.com', 'GET', 0.2, 200);
      sender.recordHttpClientRequest('api.example.com', 'GET', 1.5, 'error');
      sender.recordHttpClientError('api.example.com', 'GET', 'timeout');
      await until(() => total(app, 'http_client_request_errors_total') === 1);
      expect(total(app, 'http_client_request_duration')).toBe(2);
      const duration = app.tables().find((t) => t.opts.name.endsWith('http_client_request_duration'))!;
      expect([...duration.series()].map((s) => s.labels)).toEqual([
        ['api.example.com', 'GET', '200'],
        ['api.example.com', 'GET', 'error'],
      ]);
      const errors = app.tables().find((t) => t.opts.name.endsWith('http_client_request_errors_total'))!;
      expect([...errors.series()].map((s) => s.labels)).toEqual([['api.example.com', 'GET', 'timeout']]);
    } finally {
      await bridge.shutdown();
    }
  });

  it('should keep outgoing-HTTP measurements made before the first bind and replay them', () => {
    const app = new ApplicationMetrics();
    app.recordHttpClientRequest('db.internal:8080', 'POST', 0.05, 201);
    app.recordHttpClientError('db.internal:8080', 'POST', 'connection_refused');
    app.bind(parseConfigText('performance_monitor: {}\n', 'test.yaml', {}), { clock: new ManualClock() });
    expect(total(app, 'http_client_request_duration')).toBe(1);
    expect(total(app, 'http_client_request_errors_total')).toBe(1);
  });

  it('should count a replayed call that throws instead of hiding it', () => {
    const where = 'worker metrics replay';
    const before = guardedFailures().get(where) ?? 0;
    const hits: string[] = [];
    const throwing = {
      recordCacheHit(name: string): void {
        if (name === 'bad') throw new Error('broken recorder');
        hits.push(name);
      },
    } as unknown as ApplicationRecorder & HttpClientRecorder;
    expect(() => replayBatch([7, 'bad', 0, 0, 0, 7, 'good', 0, 0, 0], throwing)).not.toThrow();
    expect(hits).toEqual(['good']);
    expect(guardedFailures().get(where)).toBe(before + 1);
  });
});
