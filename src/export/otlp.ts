/**
 * OTLP/HTTP push (protobuf, gzip by default) of each collection to an OpenTelemetry Collector. Settings come
 * from the config's `otlp` section, then the standard OTEL_EXPORTER_OTLP_* variables. One export at a
 * time: while an export (with the exporter's own retries) is in flight, newer collections are not queued;
 * counters are cumulative, so the next export carries everything the skipped one had.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { MetricsExporterMetricsHelper, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { guardPromise } from '../lib/guard.js';
import type { Logger } from '../lib/logger.js';
import { AGENT_PRODUCT } from '../lib/own-requests.js';
import { redactUrl } from '../lib/redact-url.js';
import { withExemplars } from './otlp-exemplars.js';
import { withExponentialHistograms } from './otlp-exponential.js';
import type { OtlpSettings } from './otlp-settings.js';

/** The OTel component type of the SDK's OTLP/HTTP protobuf metric exporter. */
const OTLP_COMPONENT_TYPE = 'otlp_http_metric_exporter';

/**
 * Sends the OpenTelemetry SDK's own warnings and errors (the global diag logger) to `write`, one line each with
 * the prefix `opentelemetry: `. For a process the agent owns; called when an OTLP push loads the SDK.
 */
export function routeOtelDiagnostics(write: (line: string) => void): void {
  const quiet = (): void => undefined;
  diag.setLogger(
    {
      error: (msg) => write(`opentelemetry: ${msg}`),
      warn: (msg) => write(`opentelemetry: ${msg}`),
      info: quiet,
      debug: quiet,
      verbose: quiet,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/** The SDK's Resource of `attributes`, as the exporter expects it (loaded with the exporter). */
export function otlpResource(attributes: Attributes): Resource {
  return resourceFromAttributes(attributes);
}

export interface OtlpPushStats {
  exports: number;
  failures: number;
  skipped: number;
  lastError?: string;
}

export class OtlpPush {
  private readonly _exporter: OTLPMetricExporterBase;
  private readonly _settings: OtlpSettings;
  private readonly _clock: Clock;
  private readonly _logger: Logger;
  private _inFlight: Promise<void> | undefined;
  private _lastExportMs: number | undefined;
  private _failing = false;
  private _closed = false;
  private _shutdown: Promise<void> | undefined;
  private readonly _stats: OtlpPushStats = { exports: 0, failures: 0, skipped: 0 };
  private readonly _transform: ((rm: ResourceMetrics) => ResourceMetrics) | undefined;

  /** `transform` rewrites each collection right before it is sent (semconv naming); skipped ones cost nothing. */
  constructor(
    settings: OtlpSettings,
    clock: Clock,
    logger: Logger,
    transform?: (rm: ResourceMetrics) => ResourceMetrics,
  ) {
    this._settings = settings;
    this._transform = transform;
    this._clock = clock;
    this._logger = logger;
    const config = {
      url: settings.endpoint,
      headers: settings.headers,
      timeoutMillis: settings.timeoutMs,
      compression: settings.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
      // Put first in the exporter's User-Agent: the preload's outgoing-HTTP hook skips the agent's own requests.
      userAgent: AGENT_PRODUCT,
    };
    // What @opentelemetry/exporter-metrics-otlp-proto's OTLPMetricExporter builds, with a serializer that adds
    // the histograms' exemplars (the SDK's writes none; otlp-exemplars.ts).
    this._exporter = new OTLPMetricExporterBase(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', {
          'Content-Type': 'application/x-protobuf',
        }),
        withExemplars(ProtobufMetricsSerializer, (err) =>
          this._logger.warn('OTLP exemplars left out of an export', { error: errorMessage(err) }),
        ),
        OTLP_COMPONENT_TYPE,
        MetricsExporterMetricsHelper,
        undefined,
      ),
      config,
    );
  }

  get stats(): Readonly<OtlpPushStats> {
    return this._stats;
  }

  /** The endpoint without credentials, for logs and pages. */
  get endpoint(): string {
    return redactUrl(this._settings.endpoint);
  }

  /** Starts an export of `rm` unless one is in flight or the export interval has not passed. Never waits. */
  offer(rm: ResourceMetrics, force = false): void {
    if (this._closed) return;
    const now = this._clock.monotonicMs();
    const interval = this._settings.exportIntervalMs;
    if (
      !force &&
      interval !== undefined &&
      this._lastExportMs !== undefined &&
      now - this._lastExportMs < interval
    )
      return;
    if (this._inFlight !== undefined) {
      this._stats.skipped++;
      return;
    }
    this._lastExportMs = now;
    this._inFlight = guardPromise(this._logger, 'otlp export', this._export(rm)).finally(() => {
      this._inFlight = undefined;
    });
  }

  /**
   * Waits for the export in flight, then exports `last` (the final collection), then closes. Offers made
   * meanwhile are ignored; a second call joins the first.
   */
  shutdown(last?: ResourceMetrics): Promise<void> {
    this._closed = true;
    this._shutdown ??= (async () => {
      await this._inFlight;
      if (last !== undefined) await this._export(last);
      await this._exporter.shutdown();
    })();
    return this._shutdown;
  }

  private _export(collected: ResourceMetrics): Promise<void> {
    this._stats.exports++;
    let rm: ResourceMetrics;
    try {
      const named = this._transform === undefined ? collected : this._transform(collected);
      rm = this._settings.histograms === 'exponential' ? withExponentialHistograms(named) : named;
    } catch (err) {
      this._stats.failures++;
      this._stats.lastError = `cannot convert the collection: ${errorMessage(err)}`;
      if (!this._failing)
        this._logger.warn('OTLP export failed', { endpoint: this.endpoint, error: this._stats.lastError });
      this._failing = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this._exporter.export(rm, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          if (this._failing) this._logger.info('OTLP export recovered', { endpoint: this.endpoint });
          this._failing = false;
        } else {
          this._stats.failures++;
          this._stats.lastError = result.error === undefined ? 'unknown error' : errorMessage(result.error);
          if (!this._failing) {
            this._logger.warn('OTLP export failed', {
              endpoint: this.endpoint,
              error: this._stats.lastError,
            });
          }
          this._failing = true;
        }
        resolve();
      });
    });
  }
}
