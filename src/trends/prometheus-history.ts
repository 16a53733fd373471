/**
 * History read from a Prometheus server's HTTP API, for fleets: the same window statistics over what
 * Prometheus scraped from many agents. Windows up to `rawLimitMs` are read as raw samples with a range
 * selector (`name{…}[window]` through /api/v1/query at the window's end), so the statistics use the very
 * samples Prometheus stored; longer windows go through /api/v1/query_range with a step of a minute or an
 * hour (Prometheus answers at most 11,000 points per series), and are computed over those resampled points.
 */
import { catalogEntry, instrumentName } from '../catalog/catalog.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { seriesKey } from '../model/labels.js';
import { fetchSameOrigin } from '../lib/fetch-same-origin.js';
import { redactUrl } from '../lib/redact-url.js';
import { checkMetricName, promqlSelector } from './metric-query.js';
import { increaseOf } from './history/rollup.js';
import type { HistoryQuery, HistoryReader, Resolution, SeriesWindow } from './history/types.js';

export interface PrometheusHistoryOptions {
  /** Base URL of the Prometheus server, e.g. http://127.0.0.1:9090 */
  url: string;
  /** The agent's metric prefix (performance_monitor.prometheus.metric_prefix). */
  prefix: string;
  timeoutMs: number;
  /** Windows up to this length are read as raw samples. Default 24 h. */
  rawLimitMs?: number;
  fetch?: typeof fetch;
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

function withoutName(metric: Record<string, string>, drop: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric)) if (k !== '__name__' && !drop.includes(k)) out[k] = v;
  return out;
}

function parseValue(v: string): number {
  return v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
}

function columns(values: [number, string][]): { t: Float64Array; v: Float64Array } {
  const t = new Float64Array(values.length);
  const v = new Float64Array(values.length);
  values.forEach(([ts, val], i) => {
    t[i] = Math.round(ts * 1000);
    v[i] = parseValue(val);
  });
  return { t, v };
}

export class PrometheusHistory implements HistoryReader {
  private readonly _opts: PrometheusHistoryOptions;
  private readonly _fetch: typeof fetch;

  constructor(opts: PrometheusHistoryOptions) {
    this._opts = opts;
    this._fetch = opts.fetch ?? fetch;
  }

  private async _api(path: string, params: Record<string, string>): Promise<MatrixSeries[]> {
    const url = `${this._opts.url.replace(/\/$/, '')}${path}?${new URLSearchParams(params).toString()}`;
    let body: { status: string; data?: { resultType: string; result: unknown }; error?: string };
    try {
      const res = await fetchSameOrigin(url, {
        signal: AbortSignal.timeout(this._opts.timeoutMs),
        fetch: this._fetch,
      });
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new AgentError(
        'E_HISTORY_QUERY',
        `Prometheus at ${redactUrl(this._opts.url)}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    if (body.status !== 'success' || body.data === undefined)
      throw new AgentError(
        'E_HISTORY_QUERY',
        `Prometheus at ${redactUrl(this._opts.url)}: ${body.error ?? 'query failed'}`,
      );
    if (body.data.resultType !== 'matrix') return [];
    return body.data.result as MatrixSeries[];
  }

  private async _matrix(
    expr: string,
    fromMs: number,
    toMs: number,
    stepMs: number | undefined,
  ): Promise<MatrixSeries[]> {
    if (stepMs === undefined) {
      const windowS = Math.max(1, Math.ceil((toMs - fromMs) / 1000));
      return this._api('/api/v1/query', { query: `${expr}[${windowS}s]`, time: String(toMs / 1000) });
    }
    return this._api('/api/v1/query_range', {
      query: expr,
      start: String(fromMs / 1000),
      end: String(toMs / 1000),
      step: `${stepMs / 1000}s`,
    });
  }

  async query(...[metric, labels, fromMs, toMs, opts = {}]: HistoryQuery): Promise<SeriesWindow[]> {
    checkMetricName(metric);
    const entry = catalogEntry(metric);
    const kind = entry?.kind ?? 'gauge';
    const name = instrumentName(this._opts.prefix, { exportedName: entry?.exportedName ?? metric, kind });
    const rawLimit = this._opts.rawLimitMs ?? 86_400_000;
    const resolution: Resolution =
      opts.resolution ?? (toMs - fromMs <= rawLimit ? 'raw' : toMs - fromMs <= 7 * 86_400_000 ? '1m' : '1h');
    const stepMs = resolution === 'raw' ? undefined : resolution === '1m' ? 60_000 : 3_600_000;
    if (kind !== 'histogram') {
      const series = await this._matrix(promqlSelector(name, labels), fromMs, toMs, stepMs);
      return series
        .map((s) => ({ metric, labels: withoutName(s.metric), kind, resolution, ...columns(s.values) }))
        .filter((w) => w.t.length > 0);
    }
    const [buckets, sums, counts] = await Promise.all([
      this._matrix(promqlSelector(`${name}_bucket`, labels), fromMs, toMs, stepMs),
      this._matrix(promqlSelector(`${name}_sum`, labels), fromMs, toMs, stepMs),
      this._matrix(promqlSelector(`${name}_count`, labels), fromMs, toMs, stepMs),
    ]);
    const increase = (values: [number, string][]): number => increaseOf(values.map(([, v]) => parseValue(v)));
    const out: SeriesWindow[] = [];
    for (const c of counts) {
      const l = withoutName(c.metric);
      const key = seriesKey('', l);
      const own = buckets
        .filter((b) => seriesKey('', withoutName(b.metric, ['le'])) === key)
        .map((b) => ({ le: parseValue(b.metric.le ?? '+Inf'), inc: increase(b.values) }))
        .sort((a, b) => a.le - b.le);
      const sum = sums.find((s) => seriesKey('', withoutName(s.metric)) === key);
      const w: SeriesWindow = {
        metric,
        labels: l,
        kind,
        resolution,
        ...columns(c.values),
        histogram: {
          le: own.map((b) => b.le),
          increase: own.map((b) => b.inc),
          sumIncrease: sum === undefined ? 0 : increase(sum.values),
          countIncrease: increase(c.values),
        },
      };
      if (w.t.length > 0) out.push(w);
    }
    return out;
  }
}
