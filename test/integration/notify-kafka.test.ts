/**
 * Dispatcher → a real Kafka broker (KRaft, from the Maven Central jars) → a consumer reads one message per
 * notified alert, keyed by the alert's fingerprint: first the firing, then the resolution, in order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.js';
import { KafkaNotifier } from '../../src/alerts/notifiers/kafka.js';
import type { Alert } from '../../src/alerts/types.js';
import { SystemClock } from '../../src/lib/clock.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { describeService } from '../services/availability.js';
import { kafkaAvailable, startKafka } from '../services/kafka.js';
import type { KafkaServer } from '../services/kafka.js';
import { waitFor } from './agent-harness.js';

const TOPIC = 'perf-monitor-alerts';

describeService('Kafka', await kafkaAvailable(), () => {
  let kafka: KafkaServer;
  let dir: string;

  beforeAll(async () => {
    kafka = await startKafka();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-kafka-'));
    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [kafka.bootstrap] });
    try {
      await waitFor(
        'the broker to create a topic',
        async () => {
          try {
            await admin.createTopics({ topics: [TOPIC], partitions: 1, replicas: 1 });
            return true;
          } catch (err) {
            if (String(err).includes('already exists')) return true;
            return undefined;
          }
        },
        60_000,
      );
    } finally {
      await admin.close();
    }
  });

  afterAll(async () => {
    await kafka?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should produce the firing alert and then its resolution, keyed by fingerprint', async () => {
    const clock = new SystemClock();
    const dispatcher = new AlertDispatcher({
      channels: [
        {
          notifier: new KafkaNotifier({
            name: 'kafka',
            brokers: [kafka.bootstrap],
            topic: TOPIC,
            clientId: 'perf-monitor-test',
            timeoutMs: 10_000,
            externalUrl: 'http://127.0.0.1:9091',
          }),
        },
      ],
      grouping: { groupBy: ['alertname'], groupWaitMs: 0, groupIntervalMs: 200, repeatIntervalMs: 3_600_000 },
      storePath: path.join(dir, 'notifications.db'),
      maxOutboxPerChannel: 100,
      initialBackoffMs: 200,
      maxBackoffMs: 2000,
      clock,
      logger: new MemoryLogger(),
    });
    const firing: Alert = {
      fingerprint: 'f00dfeed12345678',
      labels: { alertname: 'high_cpu_usage', severity: 'warning', instance: 'web-1' },
      annotations: { summary: 'CPU usage above 85%' },
      state: 'firing',
      value: 91.5,
      activeAtMs: clock.nowMs() - 300_000,
      firedAtMs: clock.nowMs(),
    };
    await dispatcher.start();
    const consumer = new Consumer({
      groupId: `test-${process.pid}`,
      clientId: 'test-consumer',
      bootstrapBrokers: [kafka.bootstrap],
      deserializers: stringDeserializers,
    });
    const got: { key: string; value: Record<string, unknown> }[] = [];
    try {
      dispatcher.handle({ evaluatedAtMs: clock.nowMs(), alerts: [firing] });
      await waitFor(
        'the firing message to be produced',
        () => Promise.resolve(dispatcher.stats().get('kafka')!.sent >= 1 ? true : undefined),
        60_000,
      );
      dispatcher.handle({
        evaluatedAtMs: clock.nowMs(),
        alerts: [{ ...firing, state: 'inactive', resolvedAtMs: clock.nowMs() }],
      });
      const stream = await consumer.consume({ topics: [TOPIC], mode: 'earliest', autocommit: true });
      for await (const m of stream) {
        got.push({ key: m.key, value: JSON.parse(m.value) as Record<string, unknown> });
        if (got.length === 2) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
      await dispatcher.shutdown();
    }
    expect(got.map((m) => [m.key, m.value.status])).toEqual([
      ['f00dfeed12345678', 'firing'],
      ['f00dfeed12345678', 'resolved'],
    ]);
    expect(got[0]!.value).toMatchObject({
      labels: firing.labels,
      annotations: firing.annotations,
      fingerprint: 'f00dfeed12345678',
      groupKey: '{}:{alertname="high_cpu_usage"}',
      value: 91.5,
      endsAt: '0001-01-01T00:00:00Z',
    });
    expect(Date.parse(got[1]!.value.endsAt as string)).toBeGreaterThan(0);
  });
});
