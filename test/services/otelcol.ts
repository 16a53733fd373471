/**
 * A throwaway OpenTelemetry Collector (built from otel-collector/builder.yaml by build-otelcol.sh):
 * OTLP in (HTTP + gRPC), Prometheus exporter out, all on free 127.0.0.1 ports.
 *
 * Tests never build the collector; `collectorBinary()` only finds the binary build-otelcol.sh cached.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { canConnect, describeError, freePort, runCommand, startServer, stopAndRemove } from './process.js';

export const COLLECTOR_BINARY_NAME = 'otelcol-perf-monitor';
export const BUILDER_MANIFEST_PATH = fileURLToPath(
  new URL('../../otel-collector/builder.yaml', import.meta.url),
);
export const BUILD_SCRIPT = 'bash test/services/build-otelcol.sh';

/**
 * How the collector's Prometheus exporter turns OTel names into Prometheus names (`translation_strategy`).
 * Unset = the exporter's default, which is `UnderscoreEscapingWithSuffixes` (`_total` on monotonic sums,
 * unit suffixes such as `_seconds`/`_bytes`). `add_metric_suffixes` is deprecated and IGNORED in v0.165
 * (feature gate `exporter.prometheusexporter.DisableAddMetricSuffixes` is beta, i.e. on by default).
 */
export type PrometheusTranslationStrategy =
  | 'UnderscoreEscapingWithSuffixes'
  | 'UnderscoreEscapingWithoutSuffixes'
  | 'NoUTF8EscapingWithSuffixes'
  | 'NoTranslation';

/** `${PERF_MONITOR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perf-monitor-agent}`, as in build-otelcol.sh. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.PERF_MONITOR_TOOLS_DIR) return env.PERF_MONITOR_TOOLS_DIR;
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'perf-monitor-agent');
}

/** First 16 hex digits of sha256(manifest), the cache key build-otelcol.sh uses. */
export function manifestKey(manifest: Buffer | string): string {
  return createHash('sha256').update(manifest).digest('hex').slice(0, 16);
}

/** Where build-otelcol.sh leaves the binary for the current builder.yaml. */
export async function collectorBinaryPath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const key = manifestKey(await readFile(BUILDER_MANIFEST_PATH));
  return join(toolsDir(env), 'otelcol', key, COLLECTOR_BINARY_NAME);
}

/** Finds the cached collector and checks it runs (`components`). Never builds. */
export async function collectorBinary(): Promise<{ ok: true; path: string } | { ok: false; reason: string }> {
  let path: string;
  try {
    path = await collectorBinaryPath();
  } catch (err) {
    return { ok: false, reason: `cannot read ${BUILDER_MANIFEST_PATH}: ${describeError(err)}` };
  }
  try {
    await access(path, constants.X_OK);
  } catch {
    return {
      ok: false,
      reason: `collector not built for this builder.yaml (${path} missing); run \`${BUILD_SCRIPT}\` (needs Go, a few minutes once)`,
    };
  }
  try {
    const { exitCode, output } = await runCommand(path, ['components'], { timeoutMs: 10_000 });
    if (exitCode !== 0) {
      return {
        ok: false,
        reason: `${path} components exited ${exitCode}: ${output.slice(0, 300)}; rerun \`${BUILD_SCRIPT}\``,
      };
    }
  } catch (err) {
    return { ok: false, reason: `${path} does not run (${describeError(err)}); rerun \`${BUILD_SCRIPT}\`` };
  }
  return { ok: true, path };
}

async function requireCollectorBinary(): Promise<string> {
  const found = await collectorBinary();
  if (!found.ok) throw new Error(`OpenTelemetry Collector unavailable: ${found.reason}`);
  return found.path;
}

export interface StartCollectorOptions {
  /** OTLP/HTTP receiver port; a free one if omitted. */
  otlpHttpPort?: number;
  /** OTLP/gRPC receiver port; a free one if omitted. */
  otlpGrpcPort?: number;
  /** Prometheus exporter port; a free one if omitted. */
  prometheusPort?: number;
  /** Prometheus exporter `namespace`: prefixes every exported name with `<namespace>_`. */
  namespace?: string;
  /** Prometheus exporter `translation_strategy`; unset = the exporter default (suffixes added). */
  translationStrategy?: PrometheusTranslationStrategy;
  /** Extra Prometheus exporter keys, e.g. `{ const_labels: { env: 'test' }, enable_open_metrics: true }`. */
  prometheusExporter?: Record<string, unknown>;
  /** Deep-merged over the generated config (objects merge, arrays and scalars replace). */
  extraConfig?: Record<string, unknown>;
  /** Startup timeout. Default 60 s. */
  timeoutMs?: number;
}

export interface CollectorPorts {
  otlpHttpPort: number;
  otlpGrpcPort: number;
  prometheusPort: number;
}

export interface CollectorServer extends CollectorPorts {
  /** `http://127.0.0.1:<port>/v1/metrics` */
  readonly otlpHttpUrl: string;
  /** `127.0.0.1:<port>` for OTLP/gRPC clients. */
  readonly otlpGrpcEndpoint: string;
  /** `http://127.0.0.1:<port>/metrics` (the Prometheus exporter). */
  readonly prometheusUrl: string;
  readonly configPath: string;
  readonly config: Record<string, unknown>;
  /** The last 64 KiB of the collector's log (the debug exporter logs one line per batch). */
  output(): string;
  /** Stops the collector and deletes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Recursive merge: objects merge key by key, anything else in `over` replaces. Inputs are not modified. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** The collector config for `options` and resolved ports (pure, exported for unit tests). */
export function collectorConfig(
  options: StartCollectorOptions,
  ports: CollectorPorts,
): Record<string, unknown> {
  const prometheus: Record<string, unknown> = {
    endpoint: `127.0.0.1:${ports.prometheusPort}`,
    metric_expiration: '5m',
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.translationStrategy === undefined
      ? {}
      : { translation_strategy: options.translationStrategy }),
    ...options.prometheusExporter,
  };
  const config: Record<string, unknown> = {
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `127.0.0.1:${ports.otlpGrpcPort}` },
          http: { endpoint: `127.0.0.1:${ports.otlpHttpPort}` },
        },
      },
    },
    processors: {
      memory_limiter: { check_interval: '1s', limit_mib: 256, spike_limit_mib: 64 },
      batch: { timeout: '200ms' },
    },
    exporters: {
      prometheus,
      debug: { verbosity: 'basic' },
    },
    service: {
      // level none: no self-metrics, so no listener on :8888.
      telemetry: { metrics: { level: 'none' } },
      pipelines: {
        metrics: {
          receivers: ['otlp'],
          processors: ['memory_limiter', 'batch'],
          exporters: ['prometheus', 'debug'],
        },
      },
    },
  };
  return options.extraConfig ? deepMerge(config, options.extraConfig) : config;
}

/** Starts the collector; resolves when its OTLP (HTTP, gRPC) and Prometheus exporter ports accept connections. */
export async function startCollector(options: StartCollectorOptions = {}): Promise<CollectorServer> {
  const binary = await requireCollectorBinary();
  const ports: CollectorPorts = {
    otlpHttpPort: options.otlpHttpPort ?? (await freePort()),
    otlpGrpcPort: options.otlpGrpcPort ?? (await freePort()),
    prometheusPort: options.prometheusPort ?? (await freePort()),
  };
  const config = collectorConfig(options, ports);
  const dir = await mkdtemp(join(tmpdir(), 'perf-monitor-otelcol-'));
  const configPath = join(dir, 'config.yaml');
  await writeFile(configPath, stringify(config));

  return launchCollector(binary, [configPath], ports, dir, {
    config,
    timeoutMs: options.timeoutMs,
  });
}

/**
 * Runs the collector on `configPaths` (merged in order) in `dir`, which `stop()` removes; resolves when the
 * OTLP (HTTP and gRPC) and Prometheus exporter ports accept connections. Removes `dir` if it fails to start.
 */
async function launchCollector(
  binary: string,
  configPaths: readonly string[],
  ports: CollectorPorts,
  dir: string,
  options: { config: Record<string, unknown>; env?: NodeJS.ProcessEnv; timeoutMs?: number | undefined },
): Promise<CollectorServer> {
  let server;
  try {
    server = await startServer(
      binary,
      configPaths.map((p) => `--config=${p}`),
      {
        ready: async () =>
          (await canConnect(ports.otlpHttpPort)) &&
          (await canConnect(ports.otlpGrpcPort)) &&
          (await canConnect(ports.prometheusPort)),
        cwd: dir,
        env: options.env ?? {},
        timeoutMs: options.timeoutMs ?? 60_000,
      },
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = stopAndRemove(server, dir);
  return {
    ...ports,
    otlpHttpUrl: `http://127.0.0.1:${ports.otlpHttpPort}/v1/metrics`,
    otlpGrpcEndpoint: `127.0.0.1:${ports.otlpGrpcPort}`,
    prometheusUrl: `http://127.0.0.1:${ports.prometheusPort}/metrics`,
    configPath: configPaths[0]!,
    config: options.config,
    output: () => server.output(),
    stop,
  };
}

/** `<collector> validate --config=<path>`: exit 0 when the config is valid; starts nothing. */
export async function validateCollectorConfig(
  path: string,
  overlays: readonly string[] = [],
): Promise<{ exitCode: number; output: string }> {
  const binary = await requireCollectorBinary();
  const configs = [path, ...overlays].map((p) => `--config=${p}`);
  return runCommand(binary, ['validate', ...configs], { timeoutMs: 30_000 });
}

/** The shipped otel-collector/config.yaml and its forward.yaml overlay. */
export const SHIPPED_COLLECTOR_CONFIG = fileURLToPath(
  new URL('../../otel-collector/config.yaml', import.meta.url),
);
export const SHIPPED_COLLECTOR_FORWARD = fileURLToPath(
  new URL('../../otel-collector/forward.yaml', import.meta.url),
);

export interface ShippedCollectorOptions {
  /** Config files, merged in order (default: the shipped config.yaml alone). */
  configPaths?: string[];
  /** Where the otlphttp exporter sends (PERF_MONITOR_COLLECTOR_BACKEND_ENDPOINT), e.g. another collector. */
  backendEndpoint?: string;
  timeoutMs?: number;
}

/**
 * Starts the collector on the SHIPPED config files, with free loopback ports passed through the
 * variables config.yaml reads (PERF_MONITOR_COLLECTOR_*). The returned `config` is empty: the files are
 * the config.
 */
export async function startShippedCollector(options: ShippedCollectorOptions = {}): Promise<CollectorServer> {
  const binary = await requireCollectorBinary();
  const ports: CollectorPorts = {
    otlpHttpPort: await freePort(),
    otlpGrpcPort: await freePort(),
    prometheusPort: await freePort(),
  };
  const configPaths = options.configPaths ?? [SHIPPED_COLLECTOR_CONFIG];
  const dir = await mkdtemp(join(tmpdir(), 'perf-monitor-otelcol-'));
  const env: NodeJS.ProcessEnv = {
    PERF_MONITOR_COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlpHttpPort}`,
    PERF_MONITOR_COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.otlpGrpcPort}`,
    PERF_MONITOR_COLLECTOR_PROMETHEUS_ENDPOINT: `127.0.0.1:${ports.prometheusPort}`,
    ...(options.backendEndpoint === undefined
      ? {}
      : { PERF_MONITOR_COLLECTOR_BACKEND_ENDPOINT: options.backendEndpoint }),
  };
  return launchCollector(binary, configPaths, ports, dir, { config: {}, env, timeoutMs: options.timeoutMs });
}
