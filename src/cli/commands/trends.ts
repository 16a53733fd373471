/**
 * `perf-monitor trends <metric>`: window statistics and a sparkline, read straight from the history the
 * configuration names — the SQLite file (opened read-only, so it works while an agent writes it and after
 * it stopped) or the Prometheus server of the prometheus backend. No running agent is needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../../agent/load-config.js';
import { HISTORY_FILE, SYSTEMD_STATE_DIR, historyPath } from '../../agent/paths.js';
import type { AgentConfig } from '../../config/schema.js';
import type { Env } from '../../config/load.js';
import { knownMetricNames } from '../../catalog/known-metrics.js';
import { SystemClock } from '../../lib/clock.js';
import { labelsText } from '../../model/labels.js';
import { AgentError } from '../../lib/errors.js';
import { SqliteHistoryStore } from '../../trends/history-store.js';
import type { HistoryReader, SeriesWindow } from '../../trends/history/types.js';
import { checkMetricName, parseLabelMatchers } from '../../trends/metric-query.js';
import { PrometheusHistory } from '../../trends/prometheus-history.js';
import { textSparkline } from '../../lib/sparkline.js';
import { computeStatistics } from '../../trends/stats.js';
import type { TrendStatistics } from '../../trends/stats.js';
import { parseWindowMs, rates } from '../../trends/trend-service.js';
import type { CliIo } from '../io.js';

function fmt(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(3);
  return Number(x.toPrecision(6)).toString();
}

/** The values a sparkline shows: samples, bucket means for rollups, per-second rates for counters. */
function sparkValues(w: SeriesWindow): ArrayLike<number> {
  if (w.kind === 'counter' && w.rollup === undefined) return rates(w.t, w.v).v;
  if (w.rollup !== undefined) return Array.from(w.rollup.sum, (s, i) => s / w.rollup!.n[i]!);
  return w.v;
}

function renderTrendsTable(
  metric: string,
  window: string,
  stats: readonly TrendStatistics[],
  sparks: readonly string[],
): string {
  const cols = ['count', 'mean', 'min', 'max', 'stddev', 'p50', 'p95', 'p99', 'rate/s', 'slope/s'] as const;
  const lines = [`${metric} over the last ${window}`];
  stats.forEach((s, i) => {
    const vals = [s.count, s.mean, s.min, s.max, s.stddev, s.p50, s.p95, s.p99, s.rate, s.slope].map(fmt);
    const widths = cols.map((c, j) => Math.max(c.length, vals[j]!.length));
    lines.push('');
    lines.push(
      `${labelsText(s.labels)}  (${s.kind}, ${s.resolution} samples, percentiles from ${s.percentiles})`,
    );
    lines.push(`  ${cols.map((c, j) => c.padStart(widths[j]!)).join('  ')}`);
    lines.push(`  ${vals.map((v, j) => v.padStart(widths[j]!)).join('  ')}`);
    if (sparks[i] !== '') lines.push(`  ${sparks[i]}`);
  });
  return lines.join('\n');
}

/**
 * The history file the daemon of this configuration writes: the one its state directory resolves to here,
 * else (when the configuration places neither the file nor the state directory) the shipped systemd unit's
 * state directory, for an administrator reading a service's history from a shell.
 */
export function findHistoryFile(config: AgentConfig, env: Env, cwd: string = process.cwd()): string {
  const here = historyPath(config, { baseDir: cwd, env, embedded: false });
  const candidates = [here];
  if (config.trend_analysis.storage.path === undefined && config.performance_monitor.state_dir === undefined)
    candidates.push(path.join(SYSTEMD_STATE_DIR, HISTORY_FILE));
  const found = candidates.find((f) => fs.existsSync(f));
  if (found !== undefined) return found;
  throw new AgentError(
    'E_HISTORY_STORE',
    `no history file (looked at ${[...new Set(candidates)].join(', ')}); \`perf-monitor run\` keeps one while ` +
      'trend_analysis is enabled, or set trend_analysis.storage.path',
  );
}

export async function trendsCommand(
  file: string,
  env: Env,
  positionals: readonly string[],
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  if (positionals.length !== 1)
    throw new AgentError(
      'E_USAGE',
      'trends takes exactly one metric name: perf-monitor trends <metric> [--window 24h]',
    );
  const metric = positionals[0]!;
  const window = (values.window as string | undefined) ?? '1h';
  const windowMs = parseWindowMs(window);
  if (windowMs === undefined)
    throw new AgentError(
      'E_USAGE',
      `--window ${JSON.stringify(window)}: use a duration such as 1h, 24h or 7d`,
    );
  const labels = parseLabelMatchers(values.labels as string | undefined);
  const { config } = await loadConfigFile(file, env);
  checkMetricName(metric, knownMetricNames(config));
  const t = config.trend_analysis;
  const clock = new SystemClock();
  let reader: HistoryReader;
  let store: SqliteHistoryStore | undefined;
  if (t.storage.backend === 'prometheus') {
    reader = new PrometheusHistory({
      url: t.storage.url!,
      prefix: config.performance_monitor.prometheus.metric_prefix,
      timeoutMs: t.storage.query_timeout.ms,
    });
  } else {
    store = new SqliteHistoryStore({
      path: findHistoryFile(config, env),
      rawRetentionMs: t.storage.raw_retention.ms,
      rollup1mRetentionMs: t.storage.rollup_1m_retention.ms,
      retentionMs: t.storage.retention_days * 86_400_000,
      nowMs: () => clock.nowMs(),
      readOnly: true,
    });
    store.open();
    reader = store;
  }
  try {
    const toMs = clock.nowMs();
    const fromMs = toMs - windowMs;
    const windows = await reader.query(metric, labels, fromMs, toMs);
    const stats = windows.map((w) => computeStatistics(w, fromMs, toMs));
    if (values.json === true) {
      io.out(
        JSON.stringify(
          { metric, window, labels, series: stats },
          (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
          2,
        ),
      );
      return stats.length === 0 ? 1 : 0;
    }
    if (stats.length === 0) {
      io.err(
        `perf-monitor trends: no samples of ${metric}${Object.keys(labels).length > 0 ? labelsText(labels) : ''} in the last ${window}` +
          (store === undefined ? '' : ` (${store.path})`),
      );
      return 1;
    }
    io.out(
      renderTrendsTable(
        metric,
        window,
        stats,
        windows.map((w) => textSparkline(sparkValues(w), 60)),
      ),
    );
    return 0;
  } finally {
    store?.close();
  }
}
