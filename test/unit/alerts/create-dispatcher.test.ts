import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { channelNames, createAlertDispatcher, nodeRunsKafka } from '../../../src/alerts/create-dispatcher.js';
import type { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { redactConfig } from '../../../src/config/redact.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { alert, round } from './notify-helpers.js';

const CONFIG = `
performance_monitor:
  alerting:
    notifications:
      group_by: [alertname, instance]
      group_wait: 0s
      group_interval: 1m
      repeat_interval: 1h
      store_path: ':memory:'
      outbox: { max_entries_per_channel: 50, initial_backoff: 2s, max_backoff: 1m }
      maintenance_windows:
        - name: upgrade
          start: '2030-01-01T00:00:00Z'
          end: '2030-01-01T02:00:00Z'
        - name: nightly
          days: [mon, tue]
          start_time: '23:00'
          end_time: '01:00'
          time_zone: Europe/Berlin
          matchers: ['severity="warning"']
      channels:
        - type: log
          level: error
        - type: webhook
          url: http://127.0.0.1:1/hook
          hmac_secret: hmac-s3cret
          headers: { Authorization: 'Bearer h3ader-t0ken' }
          send_resolved: false
        - type: webhook
          url: http://127.0.0.1:2/hook
          enabled: false
        - type: alertmanager
          url: http://127.0.0.1:9093
          resend_interval: 30s
        - type: kafka
          brokers: ['127.0.0.1:9092']
          topic: alerts
          sasl: { mechanism: SCRAM-SHA-512, username: agent, password: k4fka-pw }
`;

const started: AlertDispatcher[] = [];
afterEach(async () => {
  for (const d of started.splice(0)) await d.shutdown();
});

describe('notification config', () => {
  it('should read grouping, outbox, windows and channels', () => {
    const n = parseConfigText(CONFIG, 'c.yaml', {}).performance_monitor.alerting.notifications;
    expect(n.group_by).toEqual(['alertname', 'instance']);
    expect([n.group_wait.ms, n.group_interval.ms, n.repeat_interval.ms]).toEqual([0, 60_000, 3_600_000]);
    expect(n.outbox).toMatchObject({ max_entries_per_channel: 50 });
    expect(channelNames(n.channels)).toEqual(['log', 'webhook', 'webhook_2', 'alertmanager', 'kafka']);
  });

  it('should accept the notification example of docs/notifications.md', () => {
    const doc = fs.readFileSync(new URL('../../../docs/notifications.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('# Notifications'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const env = { HOOK_TOKEN: 't', HOOK_HMAC_SECRET: 'h', KAFKA_PASSWORD: 'k' };
    const n = parseConfigText(yaml, 'docs/notifications.md', env).performance_monitor.alerting.notifications;
    expect(n.channels.map((c) => c.type)).toEqual(['log', 'webhook', 'alertmanager', 'kafka']);
    expect(n.maintenance_windows.map((w) => w.name)).toEqual(['nightly-backup', 'db-upgrade']);
  });

  it("should default to Alertmanager's timings and a log channel", () => {
    const n = parseConfigText('{}', 'c.yaml', {}).performance_monitor.alerting.notifications;
    expect(n.group_by).toEqual(['alertname']);
    expect([n.group_wait.text, n.group_interval.text, n.repeat_interval.text]).toEqual(['30s', '5m', '4h']);
    expect(n.channels.map((c) => c.type)).toEqual(['log']);
  });

  it('should never print the HMAC secret, header values or the Kafka password', () => {
    const printed = JSON.stringify(redactConfig(parseConfigText(CONFIG, 'c.yaml', {})));
    for (const secret of ['hmac-s3cret', 'h3ader-t0ken', 'k4fka-pw']) expect(printed).not.toContain(secret);
    expect(printed).toContain('"username":"agent"');
  });

  it.each([
    ['start_time: "25:00"\n          end_time: "01:00"', 'maintenance_windows[0].start_time: expected HH:MM'],
    [
      "start: '2030-01-02T00:00:00Z'\n          end: '2030-01-01T00:00:00Z'",
      'maintenance_windows[0].end: must be after start',
    ],
    ["start: '2030-01-02T00:00:00Z'\n          start_time: '01:00'", 'give either start and end'],
    [
      'start_time: "01:00"\n          end_time: "02:00"\n          time_zone: Mars/Olympus',
      'unknown time zone',
    ],
    [
      'start_time: "01:00"\n          end_time: "02:00"\n          matchers: ["oops"]',
      'invalid matcher "oops": expected name=value',
    ],
    [
      'start_time: "01:00"\n          end_time: "02:00"\n          matchers: [\'host=~"(a)\\\\1"\']',
      'maintenance_windows[0].matchers[0]: invalid matcher "host=~\\"(a)\\\\\\\\1\\"": backreferences are not supported',
    ],
  ])('should name the key of a bad maintenance window (%#)', (body, message) => {
    const text = `performance_monitor:\n  alerting:\n    notifications:\n      maintenance_windows:\n        - name: w\n          ${body}\n`;
    let err: unknown;
    try {
      parseConfigText(text, 'c.yaml', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toContain(message);
  });
});

describe('createAlertDispatcher', () => {
  it('should build a working dispatcher whose log channel logs firing alerts at its level', async () => {
    const config = parseConfigText(
      `performance_monitor:\n  alerting:\n    notifications:\n      group_wait: 0s\n      store_path: ':memory:'\n      channels: [{ type: log, level: error }]\n`,
      'c.yaml',
      {},
    );
    const clock = new ManualClock();
    const logger = new MemoryLogger();
    const d = createAlertDispatcher(config, { clock, logger });
    started.push(d);
    await d.start();
    d.handle(round(clock.nowMs(), alert('cpu')));
    await clock.advance(0);
    expect(logger.find('error', 'alert firing')).toHaveLength(1);
    expect(d.stats().get('log')).toEqual({ sent: 1, failed: 0, dropped: 0, pending: 0 });
  });

  it('should know which Node.js releases run the Kafka client', () => {
    expect(['22.15.0', '22.21.9', '20.20.2'].map(nodeRunsKafka)).toEqual([false, false, false]);
    expect(['22.22.0', '23.0.0', '24.21.0'].map(nodeRunsKafka)).toEqual([true, true, true]);
  });
});
