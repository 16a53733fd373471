/** `trend_analysis`: the history store, anomaly detection, forecasts and sparklines. */
import { z } from 'zod';
import { METRIC_NAME, TEN_YEARS_MS, duration, durationField } from './schema-fields.js';

export const trendAnalysis = z
  .strictObject({
    enabled: z.boolean().default(false),
    storage: z
      .strictObject({
        // 'file' is the seed's name for a local store; it means the embedded SQLite file.
        backend: z.enum(['file', 'sqlite', 'prometheus']).default('sqlite'),
        // Unset: metrics_history.db in the state directory (agent/paths.ts).
        path: z.string().min(1).max(4096).optional(),
        retention_days: z.number().positive().default(30),
        url: z.string().url().optional(),
        // Raw samples are kept this long, 1-minute rollups the next tier, 1-hour rollups retention_days.
        raw_retention: durationField({ min: 3_600_000, max: TEN_YEARS_MS }).default(duration(48 * 3_600_000)),
        rollup_1m_retention: durationField({ min: 3_600_000, max: TEN_YEARS_MS }).default(
          duration(14 * 86_400_000),
        ),
        maintenance_interval: durationField({ min: 1000 }).default(duration(300_000)),
        // Appends are written to the file at most this often (0: every collection); a kill -9 loses at most
        // about this much. Reads, a new block and a clean stop write at once.
        flush_interval: durationField({ min: 0, max: 600_000 }).default(duration(15_000)),
        query_timeout: durationField({ min: 100 }).default(duration(10_000)),
      })
      .prefault({}),
    anomaly_detection: z
      .strictObject({
        enabled: z.boolean().default(false),
        algorithm: z.enum(['adaptive', 'zscore', 'iqr', 'mad']).default('adaptive'),
        sensitivity: z.number().positive().default(4),
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
