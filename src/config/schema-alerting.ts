/**
 * `performance_monitor.alerting`: notification channels, grouping, the outbox, maintenance windows and the
 * rules. What only the alerting code can judge (a rule's expression, a matcher's syntax) it checks itself,
 * through the checks a loader is built with (ConfigCheck in ./schema.ts).
 */
import { z } from 'zod';
import { formatDurationMs, parseDurationMs } from '../lib/duration.js';
import {
  AGGREGATION_RE,
  CONDITIONS,
  LOG_LEVEL_NAMES,
  METRIC_NAME,
  SEVERITIES,
  TEN_YEARS_MS,
  duration,
  durationField,
  labelName,
  text,
  uniqueByName,
} from './schema-fields.js';

/** The longest window a rule's aggregation may read (`max_31d`): the engine holds that much history in memory. */
const MAX_RULE_WINDOW_MS = 31 * 86_400_000;

const channel = z
  .strictObject({
    type: z.enum(['log', 'webhook', 'alertmanager', 'kafka']),
    enabled: z.boolean().default(true),
    name: z.string().optional(),
    level: z.enum(LOG_LEVEL_NAMES).optional(),
    url: z.string().url().optional(),
    headers: z.record(z.string().min(1), text()).optional(),
    hmac_secret: text().optional(),
    timeout: durationField({ min: 1 }).optional(),
    brokers: z.array(z.string().min(1)).optional(),
    topic: z.string().min(1).optional(),
    client_id: text().optional(),
    // Notification side (issue 5): resolutions, truncation, Alertmanager re-sends, Kafka auth.
    send_resolved: z.boolean().optional(),
    max_alerts: z.number().int().min(0).optional(),
    resend_interval: durationField({ min: 1000 }).optional(),
    sasl: z
      .strictObject({
        mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
        username: text(),
        password: text(),
      })
      .optional(),
    tls: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.type === 'webhook' || c.type === 'alertmanager') && c.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `a ${c.type} channel needs a url` });
    }
    if (c.type === 'kafka' && (c.brokers === undefined || c.brokers.length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['brokers'], message: 'a kafka channel needs brokers' });
    }
    if (c.type === 'kafka' && c.topic === undefined) {
      ctx.addIssue({ code: 'custom', path: ['topic'], message: 'a kafka channel needs a topic' });
    }
  });

const WEEKDAY = z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour clock)');
const isoTimestamp = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected a timestamp such as 2026-12-01T02:00:00Z');

const maintenanceWindow = z
  .strictObject({
    name: z.string().min(1),
    // Each matcher's syntax is checked by the alerting code, a ConfigCheck (src/alerts/config-checks.ts).
    matchers: z.array(z.string()).optional(),
    start: isoTimestamp.optional(),
    end: isoTimestamp.optional(),
    days: z.array(WEEKDAY).min(1).optional(),
    start_time: timeOfDay.optional(),
    end_time: timeOfDay.optional(),
    time_zone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'unknown time zone (use an IANA name such as UTC or Europe/Berlin)')
      .optional(),
  })
  .superRefine((w, ctx) => {
    const absolute = w.start !== undefined || w.end !== undefined;
    const recurring = w.start_time !== undefined || w.end_time !== undefined || w.days !== undefined;
    if (absolute === recurring) {
      ctx.addIssue({
        code: 'custom',
        message: 'give either start and end (one window) or start_time and end_time (every day, or on days)',
      });
      return;
    }
    if (absolute) {
      if (w.start === undefined || w.end === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [w.start === undefined ? 'start' : 'end'],
          message: 'required',
        });
      } else if (Date.parse(w.end) <= Date.parse(w.start)) {
        ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
      }
    } else if (w.start_time === undefined || w.end_time === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [w.start_time === undefined ? 'start_time' : 'end_time'],
        message: 'required',
      });
    }
  });

/** Grouping, outbox and maintenance settings of `alerting.notifications` (Alertmanager's defaults). */
const notificationSettings = {
  group_by: z.array(z.union([labelName, z.literal('...')])).default(['alertname']),
  group_wait: durationField().default(duration(30_000)),
  group_interval: durationField({ min: 100 }).default(duration(300_000)),
  repeat_interval: durationField({ min: 100, max: TEN_YEARS_MS }).default(duration(4 * 3_600_000)),
  external_url: z.string().url().optional(),
  // Unset: notifications.db in the state directory (agent/paths.ts).
  store_path: z.string().min(1).max(4096).optional(),
  outbox: z
    .strictObject({
      max_entries_per_channel: z.number().int().min(1).default(10_000),
      initial_backoff: durationField({ min: 10 }).default(duration(1000)),
      max_backoff: durationField({ min: 10 }).default(duration(300_000)),
    })
    .prefault({}),
  maintenance_windows: uniqueByName(maintenanceWindow).default([]),
};

const alertRule = z
  .strictObject({
    name: z.string().regex(METRIC_NAME, 'rule names use letters, digits and underscores'),
    metric: z.string().min(1),
    condition: z.enum(CONDITIONS),
    threshold: z.number().finite(),
    duration: durationField({ max: TEN_YEARS_MS }).default(duration(0)),
    severity: z.enum(SEVERITIES).default('warning'),
    message: z.string().optional(),
    enabled: z.boolean().default(true),
    aggregation: z
      .string()
      .regex(
        AGGREGATION_RE,
        'expected last, mean, max, min, p50, p90, p95, p99, or <function>_<window> such as rate_5m or mean_10m',
      )
      .refine(
        (a) => {
          const window = /_(\d+(?:ms|s|m|h|d))$/.exec(a)?.[1];
          const ms = window === undefined ? 0 : parseDurationMs(window);
          return ms !== undefined && ms <= MAX_RULE_WINDOW_MS;
        },
        `the window of an aggregation is at most ${formatDurationMs(MAX_RULE_WINDOW_MS)} (the engine keeps it in memory)`,
      )
      .optional(),
    labels: z.record(labelName, z.string()).optional(),
    keep_firing_for: durationField({ max: TEN_YEARS_MS }).optional(),
    resolve_threshold: z.number().finite().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.resolve_threshold === undefined) return;
    const healthySide =
      r.condition === '>' || r.condition === '>='
        ? r.resolve_threshold <= r.threshold
        : r.condition === '<' || r.condition === '<='
          ? r.resolve_threshold >= r.threshold
          : undefined;
    if (healthySide === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['resolve_threshold'],
        message: `needs a condition of >, >=, < or <= (not ${r.condition})`,
      });
    } else if (!healthySide) {
      ctx.addIssue({
        code: 'custom',
        path: ['resolve_threshold'],
        message: `must lie on the healthy side of the threshold (condition ${r.condition} ${r.threshold})`,
      });
    }
  });

export const alertingSection = z.strictObject({
  enabled: z.boolean().default(true),
  evaluation_interval: durationField({ min: 100 }).optional(),
  notifications: z
    .strictObject({
      channels: z.array(channel).default([{ type: 'log', enabled: true, level: 'warning' }]),
      ...notificationSettings,
    })
    .prefault({}),
  rules: uniqueByName(alertRule).default([]),
  // Unset: alert_state.json in the state directory (agent/paths.ts); '' turns persistence off.
  state_file: z.string().max(4096).optional(),
});
