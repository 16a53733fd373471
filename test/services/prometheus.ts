/**
 * A throwaway Prometheus server (Debian package `prometheus`, 2.42) scraping loopback targets, plus
 * `promtool check metrics`. Each server gets a fresh temp dir (config + TSDB) and a free 127.0.0.1 port.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Availability } from './availability.js';
import {
  assertLoopback,
  describeError,
  freePort,
  httpProbe,
  runCommand,
  startServer,
  stopAndRemove,
} from './process.js';

export const PROMETHEUS_BIN = 'prometheus';
export const PROMTOOL_BIN = 'promtool';
export const PROMETHEUS_JOB_NAME = 'perf-monitor';

export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as text] */
  value: [number, string];
}
export type PromVector = PromSample[];

export interface PromRangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

export interface PromTargetHealth {
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
  labels: Record<string, string>;
}

export interface StartPrometheusOptions {
  /** `host:port` of each target to scrape; loopback only (e.g. `127.0.0.1:9464`). */
  targets: string[];
  /** Default 1. Also the scrape timeout. */
  scrapeIntervalSeconds?: number;
  /** Merged into the `perf-monitor` job's scrape config, e.g. `{ metrics_path: '/prom', honor_labels: true }`. */
  extraScrapeConfig?: Record<string, unknown>;
  /** Startup timeout. Default 60 s. */
  timeoutMs?: number;
  /** Absolute paths of rule files to load (`rule_files`); rules are evaluated every scrape interval. */
  ruleFiles?: string[];
  /** Further command-line flags, e.g. `['--enable-feature=native-histograms']`. */
  extraArgs?: string[];
}

export interface QueryRangeOptions {
  /** Unix seconds. */
  startS: number;
  /** Unix seconds. */
  endS: number;
  /** Default 1. */
  stepS?: number;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Temp dir holding prometheus.yml and data/; removed by stop(). */
  readonly dir: string;
  readonly configPath: string;
  /** Instant query through /api/v1/query; throws unless the result is a vector. */
  query(promql: string): Promise<PromVector>;
  /** Range query through /api/v1/query_range; throws unless the result is a matrix. */
  queryRange(promql: string, range: QueryRangeOptions): Promise<PromRangeSeries[]>;
  /** Polls `query(promql)` every 250 ms until `predicate` holds; the error on timeout includes target health. */
  waitFor(promql: string, predicate: (v: PromVector) => boolean, timeoutMs?: number): Promise<PromVector>;
  targetsHealth(): Promise<PromTargetHealth[]>;
  /** The last 64 KiB of Prometheus' own log. */
  output(): string;
  /** Stops the server and deletes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The prometheus.yml contents for `options` (pure, exported for unit tests). */
export function prometheusConfig(options: StartPrometheusOptions): Record<string, unknown> {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  for (const target of options.targets) {
    const host = target.slice(0, target.lastIndexOf(':'));
    if (!/:\d+$/.test(target)) throw new Error(`target must be host:port, got "${target}"`);
    assertLoopback(host, 'scrape target');
  }
  return {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    ...(options.ruleFiles === undefined ? {} : { rule_files: options.ruleFiles }),
    scrape_configs: [
      {
        job_name: PROMETHEUS_JOB_NAME,
        scrape_interval: interval,
        scrape_timeout: interval,
        static_configs: [{ targets: options.targets }],
        ...options.extraScrapeConfig,
      },
    ],
  };
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

class PromQueryError extends Error {
  constructor(
    message: string,
    /** A 4xx answer (bad PromQL, wrong result type): retrying cannot help. */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'PromQueryError';
  }
}

async function getApi<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let body: ApiResponse<T>;
  try {
    body = JSON.parse(text) as ApiResponse<T>;
  } catch {
    throw new PromQueryError(`GET ${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`, false);
  }
  if (body.status !== 'success' || body.data === undefined) {
    throw new PromQueryError(
      `GET ${url}: HTTP ${res.status} ${body.errorType ?? ''}: ${body.error ?? text.slice(0, 500)}`,
      res.status >= 400 && res.status < 500,
    );
  }
  return body.data;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Starts Prometheus on a free loopback port, scraping `targets` as job `perf-monitor`. */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const config = prometheusConfig(options);
  const dir = await mkdtemp(join(tmpdir(), 'perf-monitor-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  await writeFile(configPath, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  let server;
  try {
    server = await startServer(
      PROMETHEUS_BIN,
      [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        ...(options.extraArgs ?? []),
      ],
      { ready: httpProbe(`${url}/-/ready`, 200), cwd: dir, timeoutMs: options.timeoutMs ?? 60_000 },
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const query = async (promql: string): Promise<PromVector> => {
    const data = await getApi<{ resultType: string; result: unknown }>(
      `${url}/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    if (data.resultType !== 'vector') {
      throw new PromQueryError(`query ${promql}: expected a vector, got ${data.resultType}`, true);
    }
    return data.result as PromVector;
  };

  const queryRange = async (promql: string, range: QueryRangeOptions): Promise<PromRangeSeries[]> => {
    const params = new URLSearchParams({
      query: promql,
      start: String(range.startS),
      end: String(range.endS),
      step: String(range.stepS ?? 1),
    });
    const data = await getApi<{ resultType: string; result: unknown }>(
      `${url}/api/v1/query_range?${params.toString()}`,
    );
    if (data.resultType !== 'matrix') {
      throw new PromQueryError(`query_range ${promql}: expected a matrix, got ${data.resultType}`, true);
    }
    return data.result as PromRangeSeries[];
  };

  const targetsHealth = async (): Promise<PromTargetHealth[]> => {
    const data = await getApi<{ activeTargets: PromTargetHealth[] }>(`${url}/api/v1/targets?state=active`);
    return data.activeTargets.map(({ scrapeUrl, health, lastError, lastScrape, labels }) => ({
      scrapeUrl,
      health,
      lastError,
      lastScrape,
      labels,
    }));
  };

  const waitFor = async (
    promql: string,
    predicate: (v: PromVector) => boolean,
    timeoutMs = 30_000,
  ): Promise<PromVector> => {
    const deadline = performance.now() + timeoutMs;
    let last: PromVector | undefined;
    let lastError: unknown;
    for (;;) {
      try {
        last = await query(promql);
        lastError = undefined;
        if (predicate(last)) return last;
      } catch (err) {
        if (err instanceof PromQueryError && err.permanent) throw err;
        lastError = err;
      }
      if (performance.now() >= deadline) break;
      await delay(250);
    }
    const health = await targetsHealth().then(
      (t) => t.map((x) => `${x.scrapeUrl} ${x.health}${x.lastError ? ` (${x.lastError})` : ''}`).join('; '),
      (err: unknown) => `unavailable: ${describeError(err)}`,
    );
    throw new Error(
      `waitFor(${promql}) not satisfied within ${timeoutMs} ms; last result ${JSON.stringify(last)}` +
        `${lastError === undefined ? '' : `; last error ${describeError(lastError)}`}; targets: ${health}` +
        `\n--- prometheus output ---\n${server.output()}`,
    );
  };

  const stop = stopAndRemove(server, dir);

  return {
    url,
    port,
    dir,
    configPath,
    query,
    queryRange,
    waitFor,
    targetsHealth,
    output: () => server.output(),
    stop,
  };
}

async function versionCheck(bin: string, installHint: string): Promise<Availability> {
  try {
    const { exitCode, output } = await runCommand(bin, ['--version'], { timeoutMs: 10_000 });
    if (exitCode === 0) return { ok: true };
    return { ok: false, reason: `\`${bin} --version\` exited ${exitCode}: ${output.trim().slice(0, 300)}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: `\`${bin}\` is not on PATH (${installHint})` };
    return { ok: false, reason: `\`${bin} --version\` failed: ${describeError(err)}` };
  }
}

/** Whether the `prometheus` binary is on PATH and runs. */
export function prometheusAvailable(): Promise<Availability> {
  return versionCheck(PROMETHEUS_BIN, 'Debian/Ubuntu: apt-get install prometheus');
}

/** Whether `promtool` is on PATH and runs (it ships in the same Debian package as Prometheus). */
export function promtoolAvailable(): Promise<Availability> {
  return versionCheck(PROMTOOL_BIN, 'Debian/Ubuntu: apt-get install prometheus');
}

/**
 * Lints exposition text with `promtool check metrics` (text on stdin). Exit 0 = clean, 3 = lint findings
 * (e.g. "no help text"), 1 = unparsable; `output` holds promtool's messages.
 */
export function promtoolCheckMetrics(text: string): Promise<{ exitCode: number; output: string }> {
  return runCommand(PROMTOOL_BIN, ['check', 'metrics'], { stdin: text });
}
