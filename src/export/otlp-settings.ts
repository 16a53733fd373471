/**
 * The effective OTLP settings: the config's `otlp` section, then the standard OTEL_EXPORTER_OTLP_* variables.
 * Apart from the push itself (otlp.ts), so that deciding whether there is an OTLP push at all does not load the
 * exporter.
 */
import type { Env } from '../config/load.js';
import type { OtlpConfig } from '../config/schema.js';
import { parseKeyValueList } from '../lib/key-value-list.js';

export interface OtlpSettings {
  endpoint: string;
  headers: Record<string, string>;
  timeoutMs: number;
  compression: 'gzip' | 'none';
  /** Minimum time between exports; every collection when undefined. */
  exportIntervalMs: number | undefined;
  /** The names sent: those of /metrics (`prometheus`, also when undefined) or the semantic conventions. */
  naming?: 'prometheus' | 'semconv';
  /** Histograms as explicit buckets (also when undefined), or as ExponentialHistogram points. */
  histograms?: 'explicit' | 'exponential';
}

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n > 0 ? n : undefined;
}

/** The effective OTLP settings, or undefined when export is off (no endpoint anywhere, or disabled). */
export function resolveOtlpSettings(cfg: OtlpConfig, env: Env): OtlpSettings | undefined {
  if (cfg.enabled === false) return undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint =
    cfg.endpoint ??
    (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT !== undefined && env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT !== ''
      ? env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
      : base !== undefined && base !== ''
        ? `${base.replace(/\/+$/, '')}/v1/metrics`
        : undefined);
  if (endpoint === undefined) return undefined;
  const envCompression = (
    env.OTEL_EXPORTER_OTLP_METRICS_COMPRESSION ?? env.OTEL_EXPORTER_OTLP_COMPRESSION
  )?.trim();
  return {
    endpoint,
    headers: {
      ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS),
      ...cfg.headers,
    },
    timeoutMs:
      cfg.timeout?.ms ??
      positiveInt(env.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT) ??
      positiveInt(env.OTEL_EXPORTER_OTLP_TIMEOUT) ??
      10_000,
    compression: cfg.compression ?? (envCompression === 'none' ? 'none' : 'gzip'),
    exportIntervalMs: cfg.export_interval?.ms,
    naming: cfg.naming ?? 'prometheus',
    histograms: cfg.histograms,
  };
}
