/**
 * Property-based fuzzing of the webhook payload builder: random alerts, labels and annotations (any Unicode,
 * names like `__proto__`, timestamps at and past the edges of a date) give a payload that is valid JSON,
 * keeps at most max_alerts alerts and counts the rest, and never throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_TIME, webhookPayload } from '../../../src/alerts/payload.js';
import type { Alert, AlertState, NotificationBatch } from '../../../src/alerts/types.js';
import { FUZZ_TIMEOUT_MS, anyText, edgyNumber, fuzzParams } from './fuzz-settings.js';

const key = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'alertname', 'severity'),
  anyText(8),
);

const stringMap = fc.dictionary(key, anyText(30), { maxKeys: 6 });

/** Epoch milliseconds: ordinary ones, and ones no Date can hold (NaN, ±Infinity, past ±8.64e15). */
const time = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }) },
  { weight: 1, arbitrary: fc.oneof(edgyNumber, fc.constantFrom(8.64e15, 8.64e15 + 1, -8.64e15 - 1)) },
);

const alert: fc.Arbitrary<Alert> = fc.record(
  {
    fingerprint: fc.stringMatching(/^[0-9a-f]{16}$/),
    labels: stringMap,
    annotations: stringMap,
    state: fc.constantFrom<AlertState>('pending', 'firing', 'inactive'),
    value: edgyNumber,
    activeAtMs: time,
    firedAtMs: time,
    resolvedAtMs: time,
  },
  { requiredKeys: ['fingerprint', 'labels', 'annotations', 'state', 'value', 'activeAtMs'] },
);

const batch: fc.Arbitrary<NotificationBatch> = fc.record({
  groupKey: anyText(30),
  groupLabels: stringMap,
  status: fc.constantFrom<'firing' | 'resolved'>('firing', 'resolved'),
  alerts: fc.array(alert, { maxLength: 8 }),
});

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const EMPTY_BATCH: NotificationBatch = { groupKey: '', groupLabels: {}, status: 'firing', alerts: [] };
const ALERT: Alert = {
  fingerprint: '0',
  labels: { alertname: 'a' },
  annotations: {},
  state: 'firing',
  value: 1,
  activeAtMs: 0,
};

describe('webhookPayload (fuzz)', () => {
  it(
    'should give valid JSON with at most max_alerts alerts, never throwing',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      fc.assert(
        fc.property(batch, fc.nat(10), anyText(20), (b, maxAlerts, receiver) => {
          const payload = webhookPayload(b, { receiver, externalUrl: 'http://agent:9091', maxAlerts });
          const text = JSON.stringify(payload);
          expect(JSON.parse(text)).toEqual(payload);

          const kept = maxAlerts > 0 ? Math.min(maxAlerts, b.alerts.length) : b.alerts.length;
          expect(payload.alerts).toHaveLength(kept);
          expect(payload.truncatedAlerts).toBe(b.alerts.length - kept);
          payload.alerts.forEach((a, i) => {
            const source = b.alerts[i]!;
            expect(a.labels).toEqual(source.labels);
            expect(a.annotations).toEqual(source.annotations);
            expect(a.startsAt).toMatch(RFC3339);
            expect(a.endsAt === ZERO_TIME || RFC3339.test(a.endsAt)).toBe(true);
          });
          // Common labels are those every alert has with the same value, as own properties.
          for (const [k, v] of Object.entries(payload.commonLabels)) {
            for (const a of b.alerts) {
              expect(Object.hasOwn(a.labels, k)).toBe(true);
              expect(a.labels[k]).toBe(v);
            }
          }
        }),
        fuzzParams<[NotificationBatch, number, string]>(300, [
          // Found by this property: a time no Date holds (here from a damaged state file) made the builder throw
          // RangeError; one past year 9999 gave a timestamp receivers refuse.
          [{ ...EMPTY_BATCH, alerts: [{ ...ALERT, activeAtMs: 8.64e15, firedAtMs: NaN }] }, 0, ''],
          [{ ...EMPTY_BATCH, alerts: [{ ...ALERT, state: 'inactive', resolvedAtMs: Infinity }] }, 0, ''],
          [{ ...EMPTY_BATCH, alerts: [{ ...ALERT, activeAtMs: Date.UTC(10_000, 0, 1) }] }, 0, ''],
        ]),
      );
    },
  );
});
