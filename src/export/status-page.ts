/**
 * The status sections of the agent's `/` page: active alerts, anomaly flags, forecasts and sparklines of
 * the last hour of the key metrics. Plain HTML and inline SVG, no external assets; the landing page wraps
 * them. Everything that changes with the clock carries class `dyn`, so screenshot tests can mask it.
 */
import { svgSparkline } from '../lib/sparkline.js';
import { labelsText } from '../model/labels.js';
import type { Labels } from '../model/metric.js';
import { escapeHtml } from './landing-page.js';

/*
 * What the page reads of the rule engine's alerts and the trend service's state. Declared here, so that the
 * HTTP exposure depends on neither: the composition root passes the real objects, which have these fields.
 */

/** An alert as the page shows it (see alerts/types.ts Alert). */
export interface StatusAlert {
  labels: Labels;
  annotations: Labels;
  state: 'pending' | 'firing' | 'inactive';
  value: number;
}

/** A monitored series' anomaly score (see trends/trend-service.ts AnomalyState). */
export interface StatusAnomaly {
  metric: string;
  labels: Labels;
  value: number;
  score: number;
  flag: boolean;
}

/** A threshold forecast (see trends/series-forecasts.ts ForecastState). */
export interface StatusForecast {
  metric: string;
  labels: Labels;
  threshold: number;
  direction: 'up' | 'down';
  secondsToThreshold: number;
  value: number;
}

/** One series over the last hour (see trends/history/types.ts SeriesWindow). */
export interface StatusSeries {
  metric: string;
  labels: Labels;
  t: ArrayLike<number>;
  v: ArrayLike<number>;
}

export interface StatusPageInput {
  /** Active alerts; undefined when no rule engine is attached. */
  alerts: readonly StatusAlert[] | undefined;
  /** Undefined when trend analysis is off. */
  trends?: {
    anomalies: readonly StatusAnomaly[];
    forecasts: readonly StatusForecast[];
    sparklines: readonly StatusSeries[];
    fromMs: number;
    toMs: number;
    anomalyDetection: boolean;
  };
}

export const STATUS_PAGE_STYLE = `
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0.75rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem; }
.card h3 { font-size: 0.9rem; margin: 0 0 0.25rem; overflow-wrap: anywhere; }
.spark { width: 100%; height: 3rem; color: #0969da; display: block; }
.value { font-variant-numeric: tabular-nums; }
.firing { color: #cf222e; font-weight: bold; } .pending { color: #9a6700; }
.flag { color: #cf222e; font-weight: bold; }
.table-wrap { overflow-x: auto; }
td:last-child, td.series { overflow-wrap: anywhere; }
`;

function num(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '–' : x > 0 ? '∞' : '−∞';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return x.toFixed(a >= 100 ? 0 : 2);
}

/** "9 h", "3 d", "never": a forecast in words. */
function humanSeconds(s: number): string {
  if (!Number.isFinite(s)) return 'never at the current trend';
  if (s <= 0) return 'reached';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

function alertsSection(alerts: readonly StatusAlert[] | undefined): string {
  const active = (alerts ?? []).filter((a) => a.state !== 'inactive');
  if (active.length === 0) return '<h2>Active alerts</h2>\n<p id="alerts-none">no active alerts</p>';
  const rows = active
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.labels.alertname ?? '')}</td><td class="${a.state}">${a.state}</td>` +
        `<td>${escapeHtml(a.labels.severity ?? '')}</td><td class="value">${num(a.value)}</td>` +
        `<td>${escapeHtml(a.annotations.summary ?? a.annotations.message ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<h2>Active alerts</h2>\n<div class="table-wrap"><table id="alerts">\n<tr><th>alert</th><th>state</th><th>severity</th><th>value</th><th>summary</th></tr>\n${rows}\n</table></div>`;
}

export function renderStatusSections(input: StatusPageInput): string {
  const parts = [alertsSection(input.alerts)];
  const t = input.trends;
  if (t === undefined) return parts.join('\n');
  if (t.anomalyDetection) {
    const flagged = t.anomalies.filter((a) => a.flag);
    const rows = [...t.anomalies]
      .sort((a, b) => Number(b.flag) - Number(a.flag) || (b.score || 0) - (a.score || 0))
      .slice(0, 20)
      .map(
        (a) =>
          `<tr><td class="series">${escapeHtml(a.metric)}${escapeHtml(labelsText(a.labels, ', ', ''))}</td>` +
          `<td class="${a.flag ? 'flag' : ''}">${a.flag ? 'anomalous' : Number.isNaN(a.score) ? 'learning' : 'normal'}</td>` +
          `<td class="value dyn">${num(a.score)}</td><td class="value dyn">${num(a.value)}</td></tr>`,
      )
      .join('\n');
    parts.push(
      `<h2>Anomalies</h2>\n<p id="anomaly-summary">${flagged.length} of ${t.anomalies.length} monitored series anomalous</p>` +
        `\n<div class="table-wrap"><table id="anomalies">\n<tr><th>series</th><th>state</th><th>score</th><th>value</th></tr>\n${rows}\n</table></div>`,
    );
  }
  if (t.forecasts.length > 0) {
    const rows = t.forecasts
      .map(
        (f) =>
          `<tr><td class="series">${escapeHtml(f.metric)}${escapeHtml(labelsText(f.labels, ', ', ''))}</td><td>${f.direction === 'up' ? '≥' : '≤'} ${num(f.threshold)}</td>` +
          `<td class="dyn">${escapeHtml(humanSeconds(f.secondsToThreshold))}</td><td class="value dyn">${num(f.value)}</td></tr>`,
      )
      .join('\n');
    parts.push(
      `<h2>Forecasts</h2>\n<div class="table-wrap"><table id="forecasts">\n<tr><th>series</th><th>threshold</th><th>reached in</th><th>now</th></tr>\n${rows}\n</table></div>`,
    );
  }
  const cards = t.sparklines
    .map((w) => {
      const name = `${w.metric}${labelsText(w.labels, ', ', '')}`;
      const last = w.v.length > 0 ? w.v[w.v.length - 1]! : NaN;
      return (
        `<div class="card"><h3>${escapeHtml(name)}</h3>` +
        `<div class="dyn">${svgSparkline(w.t, w.v, { title: `${name}, last hour`, fromMs: t.fromMs, toMs: t.toMs })}</div>` +
        `<div class="value dyn">${num(last)}</div></div>`
      );
    })
    .join('\n');
  parts.push(
    `<h2>Last hour</h2>\n<div class="cards" id="sparklines">\n${cards === '' ? '<p>no history yet</p>' : cards}\n</div>`,
  );
  return parts.join('\n');
}
