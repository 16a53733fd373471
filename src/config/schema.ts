/**
 * The one configuration schema: structure, defaults, constraints and cross-field rules. The YAML layout
 * is the seed's (`performance_monitor:` with collection_interval, enabled_collectors, system_metrics,
 * application_metrics, neo4j_metrics, prometheus, alerting; `trend_analysis:`; `logging:`), plus the
 * sections this agent adds (`system`, `otlp`). Keys are snake_case as in YAML. Durations accept a number
 * of seconds or a string with a unit (`15s`, `5m`) and become `Duration` objects.
 */
import { z } from 'zod';
import { CATALOG, catalogEntry } from '../catalog/catalog.js';
import { knownMetricNames } from '../catalog/known-metrics.js';
import type { MetricDeclarations } from '../catalog/known-metrics.js';
import { formatDurationMs, isDurationTooLong, parseDurationMs } from '../lib/duration.js';
import { errorMessage } from '../lib/errors.js';
import { compileSafeRegex } from '../lib/safe-regex.js';
import { parseMatcher } from '../alerts/matchers.js';
import { RuleCompileError, compileRule, metricDirectory } from '../alerts/rules.js';

/** A parsed duration: milliseconds plus the canonical text for printing. */
export interface Duration {
  readonly ms: number;
  readonly text: string;
}

export function duration(ms: number): Duration {
  return { ms, text: formatDurationMs(ms) };
}

/**
 * The default longest duration: what a timer can wait (Node.js fires a longer timeout after 1 ms). Durations
 * that no timer waits for (retention, a rule's `duration`, ...) name their own maximum.
 */
const MAX_TIMER_MS = 24 * 86_400_000;
const TEN_YEARS_MS = 10 * 365 * 86_400_000;
/** The longest window a rule's aggregation may read (`max_31d`): the engine holds that much history in memory. */
const MAX_RULE_WINDOW_MS = 31 * 86_400_000;

function durationField(opts: { min?: number; max?: number } = {}) {
  const max = opts.max ?? MAX_TIMER_MS;
  return z.union([z.number(), z.string()]).transform((value, ctx): Duration => {
    const ms = parseDurationMs(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: isDurationTooLong(value)
          ? `must be at most ${formatDurationMs(max)}`
          : `invalid duration ${JSON.stringify(value).slice(0, 80)}: use seconds (30) or a number with a unit (500ms, 15s, 5m, 1h, 7d)`,
      });
      return z.NEVER;
    }
    if (opts.min !== undefined && ms < opts.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${formatDurationMs(opts.min)}` });
      return z.NEVER;
    }
    if (ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${formatDurationMs(max)}` });
      return z.NEVER;
    }
    return duration(ms);
  });
}

/**
 * Text that may come from an unquoted `${VAR}`: a value such as a numeric password or `true` was retyped
 * by the expansion and is turned back into text here.
 */
const text = () => z.union([z.string(), z.number(), z.boolean()]).transform(String);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labelName = z
  .string()
  .regex(LABEL_NAME, 'label names use letters, digits and underscores and do not start with a digit')
  .refine((s) => !s.startsWith('__'), 'label names starting with __ are reserved by Prometheus');

/** A pattern run on the linear-time engine (RE2 syntax), found anywhere in the text as node_exporter does. */
const regexText = z.string().superRefine((s, ctx) => {
  try {
    compileSafeRegex(s, { anchored: false });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) });
  }
});

export const COLLECTORS = ['system', 'application', 'neo4j'] as const;
export const METRIC_TYPES = ['gauge', 'counter', 'histogram'] as const;
export const CONDITIONS = ['>', '<', '>=', '<=', '==', '!='] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const LOG_LEVEL_NAMES = ['debug', 'info', 'warning', 'warn', 'error', 'critical'] as const;

/** `mean`, `p95`, `rate_5m`, `max_1h`, … : a function, optionally over a window. */
export const AGGREGATION_RE =
  /^(?:last|mean|max|min|p50|p90|p95|p99)$|^(?:rate|increase|mean|max|min|p50|p90|p95|p99)_\d+(?:ms|s|m|h|d)$/;

const SYSTEM_METRIC_NAMES = CATALOG.filter((c) => c.configList === 'system_metrics').map((c) => c.name);

const systemMetric = z
  .strictObject({
    name: z.string().superRefine((n, ctx) => {
      if (!SYSTEM_METRIC_NAMES.includes(n)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown system metric ${JSON.stringify(n)}`,
          params: { suggestFrom: SYSTEM_METRIC_NAMES },
        });
      }
    }),
    type: z.enum(METRIC_TYPES).optional(),
    enabled: z.boolean().default(true),
    description: z.string().optional(),
  })
  .superRefine((m, ctx) => {
    const e = catalogEntry(m.name);
    if (e !== undefined && m.type !== undefined && m.type !== e.kind) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `${m.name} is a ${e.kind}, not a ${m.type}` });
    }
  });

/** A list whose items have unique `name`s. */
function uniqueByName<T extends z.ZodType<{ name: string }>>(item: T) {
  return z.array(item).superRefine((items, ctx) => {
    for (const [name, i] of duplicates(items.map((m) => m.name))) {
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${JSON.stringify(name)} is listed twice` });
    }
  });
}

const applicationMetric = z
  .strictObject({
    name: z.string().regex(METRIC_NAME, 'metric names use letters, digits and underscores'),
    type: z.enum(METRIC_TYPES).optional(),
    description: z.string().optional(),
    labels: z.array(labelName).optional(),
    buckets: z
      .array(z.number().finite())
      .min(1)
      .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]!), 'buckets must be strictly increasing')
      .optional(),
    enabled: z.boolean().default(true),
  })
  .superRefine((m, ctx) => {
    const e = catalogEntry(m.name);
    if (e !== undefined && e.configList !== 'application_metrics') {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `${m.name} is a ${e.group} metric, not an application metric`,
      });
      return;
    }
    if (e === undefined && m.type === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: 'a custom metric needs a type (gauge, counter or histogram)',
      });
    }
    if (e !== undefined && m.type !== undefined && m.type !== e.kind) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `${m.name} is a ${e.kind}, not a ${m.type}` });
    }
    if (m.buckets !== undefined && (m.type ?? e?.kind) !== 'histogram') {
      ctx.addIssue({ code: 'custom', path: ['buckets'], message: 'only histograms have buckets' });
    }
  });

const neo4jQuery = z.strictObject({
  name: z.string().regex(METRIC_NAME, 'metric names use letters, digits and underscores'),
  type: z.enum(METRIC_TYPES).default('gauge'),
  query: z.string().min(1).optional(),
  description: z.string().optional(),
  labels: z.array(labelName).optional(),
  value_column: z.string().optional(),
  timeout: durationField({ min: 1 }).optional(),
  enabled: z.boolean().default(true),
});

/** A configured Neo4j query: a catalog metric (toggle, or its source replaced) or a custom gauge/counter. */
function checkNeo4jQuery(
  q: { name: string; type: string; query?: string; labels?: readonly string[] },
  ctx: z.RefinementCtx,
): void {
  const e = catalogEntry(q.name);
  if (e !== undefined && e.configList !== 'neo4j_metrics') {
    ctx.addIssue({
      code: 'custom',
      path: ['name'],
      message: `${q.name} is a ${e.group} metric, not a Neo4j metric`,
    });
    return;
  }
  if (e === undefined && q.query === undefined)
    ctx.addIssue({ code: 'custom', path: ['query'], message: 'a custom Neo4j metric needs a query' });
  if (e === undefined && q.type === 'histogram')
    ctx.addIssue({ code: 'custom', path: ['type'], message: 'a Neo4j query gives a gauge or a counter' });
}

const neo4jSection = z.strictObject({
  uri: z.string().default('bolt://localhost:7687'),
  user: text().default('neo4j'),
  password: text().optional(),
  database: text().default('neo4j'),
  max_connection_pool_size: z.number().int().min(1).default(5),
  connection_timeout: durationField({ min: 1 }).default(duration(5000)),
  query_timeout: durationField({ min: 1 }).default(duration(5000)),
  collection_interval: durationField({ min: 100 }).optional(),
  queries: uniqueByName(neo4jQuery.superRefine(checkNeo4jQuery)).default([]),
  query_stats_interval: durationField({ min: 100 }).default(duration(60_000)),
});

const tlsSection = z.strictObject({
  cert_file: z.string().min(1),
  key_file: z.string().min(1),
  client_ca_file: z.string().min(1).optional(),
  min_version: z.enum(['TLS12', 'TLS13']).default('TLS12'),
});

/**
 * A bcrypt hash of cost 4 to 14. One check of cost 14 takes about a second in bcryptjs; a higher cost would
 * hold the password-check thread long enough to keep new logins out (a remembered login costs nothing).
 */
const BCRYPT_HASH = /^\$2[abxy]?\$(0[4-9]|1[0-4])\$[./A-Za-z0-9]{53}$/;

const prometheusSection = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9091),
  metric_prefix: z
    .string()
    .regex(/^$|^[a-zA-Z_][a-zA-Z0-9_]*$/, 'the prefix uses letters, digits and underscores')
    .default('multi_agent_system'),
  default_labels: z
    .record(labelName, z.union([z.string(), z.number()]).transform(String))
    .superRefine((labels, ctx) => {
      for (const reserved of ['job', 'le', 'quantile']) {
        if (reserved in labels) {
          ctx.addIssue({
            code: 'custom',
            path: [reserved],
            message: `${JSON.stringify(reserved)} is reserved by Prometheus; pick another label name`,
          });
        }
      }
    })
    .default({}),
  tls: tlsSection.optional(),
  basic_auth_users: z
    .record(
      z.string().min(1).max(256),
      z
        .string()
        .regex(BCRYPT_HASH, 'expected a bcrypt hash of cost 4 to 14 (htpasswd -nBC 10 "" | tr -d \':\\n\')'),
    )
    .optional(),
  request_timeout: durationField({ min: 100 }).default(duration(10_000)),
});

const otlpSection = z.strictObject({
  enabled: z.boolean().optional(),
  endpoint: z.string().url('expected a URL such as http://localhost:4318/v1/metrics').optional(),
  headers: z.record(z.string().min(1), text()).default({}),
  timeout: durationField({ min: 100 }).optional(),
  compression: z.enum(['gzip', 'none']).optional(),
  export_interval: durationField({ min: 100 }).optional(),
});

const systemSection = z.strictObject({
  proc_path: z.string().min(1).default('/proc'),
  sys_path: z.string().min(1).default('/sys'),
  rootfs_path: z.string().min(1).default('/'),
  exclude_mount_points: regexText.optional(),
  exclude_fs_types: regexText.optional(),
  exclude_devices: regexText.optional(),
  exclude_interfaces: regexText.optional(),
  probe_timeout: durationField({ min: 10 }).optional(),
});

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
/** A matcher as silences write it, checked in full (a regex runs on the linear-time engine). */
const matcherText = z.string().superRefine((s, ctx) => {
  try {
    parseMatcher(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) });
  }
});

const maintenanceWindow = z
  .strictObject({
    name: z.string().min(1),
    matchers: z.array(matcherText).optional(),
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
  store_path: z.string().min(1).default('data/notifications.db'),
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

const alertingSection = z.strictObject({
  enabled: z.boolean().default(true),
  evaluation_interval: durationField({ min: 100 }).optional(),
  notifications: z
    .strictObject({
      channels: z.array(channel).default([{ type: 'log', enabled: true, level: 'warning' }]),
      ...notificationSettings,
    })
    .prefault({}),
  rules: uniqueByName(alertRule).default([]),
  state_file: z.string().default('data/alert_state.json'),
});

const performanceMonitor = z
  .strictObject({
    service_name: z.string().min(1).optional(),
    collection_interval: durationField({ min: 100, max: 3_600_000 }).default(duration(30_000)),
    enabled_collectors: z
      .array(z.enum(COLLECTORS))
      .superRefine((list, ctx) => {
        for (const [name, i] of duplicates(list))
          ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(name)} is listed twice` });
      })
      .default(['system', 'application']),
    system: systemSection.prefault({}),
    system_metrics: uniqueByName(systemMetric).default([]),
    application_metrics: uniqueByName(applicationMetric).default([]),
    /** Distinct label sets per application metric before new ones go to the overflow series. */
    application_cardinality_limit: z.number().int().min(1).max(1_000_000).default(2000),
    neo4j_metrics: neo4jSection.prefault({}),
    prometheus: prometheusSection.prefault({}),
    otlp: otlpSection.prefault({}),
    alerting: alertingSection.prefault({}),
  })
  .superRefine((pm, ctx) => {
    if (pm.system.probe_timeout !== undefined && pm.system.probe_timeout.ms > pm.collection_interval.ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['system', 'probe_timeout'],
        message: `must not exceed collection_interval (${pm.collection_interval.text})`,
      });
    }
    if (pm.otlp.export_interval !== undefined && pm.otlp.export_interval.ms < pm.collection_interval.ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['otlp', 'export_interval'],
        message: `must be at least collection_interval (${pm.collection_interval.text}): an export sends what a collection produced`,
      });
    }
  });

const trendAnalysis = z
  .strictObject({
    enabled: z.boolean().default(false),
    storage: z
      .strictObject({
        // 'file' is the seed's name for a local store; it means the embedded SQLite file.
        backend: z.enum(['file', 'sqlite', 'prometheus']).default('sqlite'),
        path: z.string().min(1).default('data/metrics_history'),
        retention_days: z.number().positive().default(30),
        url: z.string().url().optional(),
        // Raw samples are kept this long, 1-minute rollups the next tier, 1-hour rollups retention_days.
        raw_retention: durationField({ min: 3_600_000, max: TEN_YEARS_MS }).default(duration(48 * 3_600_000)),
        rollup_1m_retention: durationField({ min: 3_600_000, max: TEN_YEARS_MS }).default(
          duration(14 * 86_400_000),
        ),
        maintenance_interval: durationField({ min: 1000 }).default(duration(300_000)),
        query_timeout: durationField({ min: 100 }).default(duration(10_000)),
      })
      .prefault({}),
    anomaly_detection: z
      .strictObject({
        enabled: z.boolean().default(false),
        algorithm: z.enum(['zscore', 'iqr', 'mad']).default('zscore'),
        sensitivity: z.number().positive().default(2),
        min_samples: z.number().int().min(2).default(100),
        window_samples: z.number().int().min(2).max(100_000).default(360),
        seasonality: z.enum(['none', 'daily']).default('none'),
        metrics: z
          .array(z.string().regex(METRIC_NAME))
          .default([
            'cpu_percent',
            'memory_percent',
            'swap_percent',
            'disk_usage_percent',
            'disk_io_read_bytes',
            'disk_io_write_bytes',
            'network_bytes_recv',
            'network_bytes_sent',
            'queue_length',
            'api_error_count',
            'api_request_duration',
          ]),
      })
      .prefault({}),
    forecasts: z
      .array(
        z.strictObject({
          metric: z.string().regex(METRIC_NAME),
          threshold: z.number(),
          window: durationField({ min: 60_000, max: TEN_YEARS_MS }).default(duration(6 * 3_600_000)),
          direction: z.enum(['up', 'down']).default('up'),
        }),
      )
      .default([
        { metric: 'disk_usage_percent', threshold: 100, window: duration(6 * 3_600_000), direction: 'up' },
      ]),
    sparkline_metrics: z
      .array(z.string().regex(METRIC_NAME))
      .default(['cpu_percent', 'memory_percent', 'disk_usage_percent', 'network_bytes_recv']),
  })
  .superRefine((t, ctx) => {
    if (t.storage.rollup_1m_retention.ms < t.storage.raw_retention.ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['storage', 'rollup_1m_retention'],
        message: `must be at least raw_retention (${t.storage.raw_retention.text})`,
      });
    }
    if (t.anomaly_detection.window_samples < t.anomaly_detection.min_samples) {
      ctx.addIssue({
        code: 'custom',
        path: ['anomaly_detection', 'window_samples'],
        message: `must be at least min_samples (${t.anomaly_detection.min_samples})`,
      });
    }
    if (t.storage.backend === 'prometheus' && t.storage.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['storage', 'url'],
        message: 'the prometheus backend needs the url of a Prometheus server',
      });
    }
  });

const loggingSection = z.strictObject({
  level: z.enum(LOG_LEVEL_NAMES).default('info'),
  format: z.enum(['text', 'json']).default('text'),
  file: z.string().min(1).optional(),
  max_bytes: z
    .number()
    .int()
    .min(0)
    .default(10 * 1024 * 1024),
  backup_count: z.number().int().min(0).default(5),
});

/** Config sections each cross-section check reads. */
const RULE_INPUTS = new Set(['alerting', 'application_metrics', 'neo4j_metrics']);
const LABEL_INPUTS = new Set(['prometheus', 'application_metrics']);

export const configSchema = z
  .strictObject({
    performance_monitor: performanceMonitor.prefault({}),
    trend_analysis: trendAnalysis.prefault({}),
    logging: loggingSection.prefault({}),
  })
  // These run even when unrelated parts of the file are wrong, so that every problem is reported at once;
  // each is skipped when a section it reads is wrong (or performance_monitor is not a mapping at all).
  .superRefine(checkRuleMetrics, { when: sectionsValid(RULE_INPUTS) })
  .superRefine(checkRuleExpressions, { when: rulesValidButMetrics })
  .superRefine(checkLabelCollisions, { when: sectionsValid(LABEL_INPUTS) })
  .superRefine(checkTrendMetrics, { when: trendInputsValid });

/** The trend metric check reads the metric lists of performance_monitor and trend_analysis itself. */
function trendInputsValid(payload: { issues: readonly { path?: readonly PropertyKey[] }[] }): boolean {
  return sectionsValid(RULE_INPUTS)(payload) && !payload.issues.some((i) => i.path?.[0] === 'trend_analysis');
}

interface TrendInputs extends RuleInputs {
  trend_analysis: {
    anomaly_detection: { metrics: readonly string[] };
    forecasts: readonly { metric: string }[];
    sparkline_metrics: readonly string[];
  };
}

/** Metrics named in trend_analysis must exist, like a rule's metric (a typo would silently watch nothing). */
function checkTrendMetrics(cfg: TrendInputs, ctx: z.RefinementCtx): void {
  const known = knownMetricNames(cfg);
  const check = (name: string, path: (string | number)[]): void => {
    if (known.has(name)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['trend_analysis', ...path],
      message: `unknown metric ${JSON.stringify(name)}`,
      params: { suggestFrom: [...known] },
    });
  };
  const t = cfg.trend_analysis;
  t.anomaly_detection.metrics.forEach((m, i) => check(m, ['anomaly_detection', 'metrics', i]));
  t.forecasts.forEach((f, i) => check(f.metric, ['forecasts', i, 'metric']));
  t.sparkline_metrics.forEach((m, i) => check(m, ['sparkline_metrics', i]));
}

/** Like sectionsValid(RULE_INPUTS), but an unknown rule metric (reported by checkRuleMetrics) does not count. */
function rulesValidButMetrics(payload: { issues: readonly { path?: readonly PropertyKey[] }[] }): boolean {
  return sectionsValid(RULE_INPUTS)({
    issues: payload.issues.filter(
      (i) => !(i.path?.[1] === 'alerting' && i.path[2] === 'rules' && i.path[4] === 'metric'),
    ),
  });
}

/** Skips a cross-section check when one of the sections it reads is itself wrong. */
function sectionsValid(sections: ReadonlySet<string>) {
  return (payload: { issues: readonly { path?: readonly PropertyKey[] }[] }): boolean =>
    !payload.issues.some(
      (i) =>
        i.path?.[0] === 'performance_monitor' && (i.path.length === 1 || sections.has(String(i.path[1]))),
    );
}

export type AgentConfig = z.output<typeof configSchema>;
export type AlertRuleConfig = AgentConfig['performance_monitor']['alerting']['rules'][number];
export type ApplicationMetricConfig = AgentConfig['performance_monitor']['application_metrics'][number];
export type PrometheusConfig = AgentConfig['performance_monitor']['prometheus'];
export type OtlpConfig = AgentConfig['performance_monitor']['otlp'];
export type LoggingConfig = AgentConfig['logging'];
export type NotificationsConfig = AgentConfig['performance_monitor']['alerting']['notifications'];
export type ChannelConfig = NotificationsConfig['channels'][number];
export type TrendAnalysisConfig = AgentConfig['trend_analysis'];

function duplicates(names: readonly string[]): Map<string, number> {
  const seen = new Set<string>();
  const dups = new Map<string, number>();
  names.forEach((n, i) => {
    if (seen.has(n) && !dups.has(n)) dups.set(n, i);
    seen.add(n);
  });
  return dups;
}

interface LabelInputs {
  performance_monitor: {
    prometheus: { default_labels: Readonly<Record<string, string>> };
    application_metrics: readonly { labels?: readonly string[] }[];
  };
}

interface RuleInputs extends MetricDeclarations {
  performance_monitor: MetricDeclarations['performance_monitor'] & {
    alerting: { rules: readonly { name: string; metric: string }[] };
  };
}

function checkRuleMetrics(cfg: RuleInputs, ctx: z.RefinementCtx): void {
  const known = knownMetricNames(cfg);
  cfg.performance_monitor.alerting.rules.forEach((r, i) => {
    if (!known.has(r.metric)) {
      ctx.addIssue({
        code: 'custom',
        path: ['performance_monitor', 'alerting', 'rules', i, 'metric'],
        message: `rule ${r.name}: unknown metric ${JSON.stringify(r.metric)}`,
        params: { suggestFrom: [...known] },
      });
    }
  });
}

/** Aggregations a rule's metric cannot take (max on a histogram) and templates the engine cannot expand. */
function checkRuleExpressions(cfg: unknown, ctx: z.RefinementCtx): void {
  const config = cfg as AgentConfig;
  const dir = metricDirectory(config);
  config.performance_monitor.alerting.rules.forEach((r, i) => {
    if (!dir.has(r.metric)) return; // reported by checkRuleMetrics
    try {
      compileRule(r, dir);
    } catch (err) {
      if (!(err instanceof RuleCompileError)) throw err;
      ctx.addIssue({
        code: 'custom',
        path: ['performance_monitor', 'alerting', 'rules', i, ...err.field.split('.')],
        message: err.message,
      });
    }
  });
}

/**
 * The identity labels go on every series, so a metric label of the same name would give a series the
 * label twice, and Prometheus rejects the whole scrape for that.
 */
function checkLabelCollisions(cfg: LabelInputs, ctx: z.RefinementCtx): void {
  const pm = cfg.performance_monitor;
  const metricLabels = new Map<string, string>();
  for (const e of CATALOG) for (const l of e.labels) if (!metricLabels.has(l)) metricLabels.set(l, e.name);
  for (const name of Object.keys(pm.prometheus.default_labels)) {
    const owner = metricLabels.get(name);
    if (owner !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['performance_monitor', 'prometheus', 'default_labels', name],
        message: `${JSON.stringify(name)} is already a label of ${owner}; pick another name`,
      });
    }
  }
  const identity = new Set([
    ...Object.keys(pm.prometheus.default_labels),
    'agent_instance',
    'version',
    'instance',
  ]);
  pm.application_metrics.forEach((m, i) => {
    m.labels?.forEach((label, j) => {
      if (identity.has(label)) {
        ctx.addIssue({
          code: 'custom',
          path: ['performance_monitor', 'application_metrics', i, 'labels', j],
          message: `${JSON.stringify(label)} is an identity label on every series (prometheus.default_labels); pick another name`,
        });
      }
    });
  });
}
