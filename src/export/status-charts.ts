/**
 * The charts of the status page: every metric with history in the window, grouped as the dashboard groups
 * them, one small inline SVG per metric (up to a few series each), counters drawn as per-second rates,
 * firing and pending alerts as vertical lines, values the anomaly detector flagged as red ticks on the top
 * edge. Window links (1 h, 24 h, 7 d) reload the page with `?window=`; the longer windows read the 1-minute
 * and 1-hour rollups. No script: the page's Content-Security-Policy allows none.
 */
import { labelsText } from '../model/labels.js';
import type { Labels } from '../model/metric.js';
import { escapeHtml } from './landing-page.js';

/** The windows the page offers. */
export const CHART_WINDOWS = ['1h', '24h', '7d'] as const;
export type ChartWindowName = (typeof CHART_WINDOWS)[number];

/** One line of a chart (see trends/chart-query.ts ChartWindow). */
export interface ChartLine {
  metric: string;
  labels: Labels;
  resolution: string;
  /** Drawn as a per-second rate. */
  rate: boolean;
  t: ArrayLike<number>;
  v: ArrayLike<number>;
  omitted: number;
}

/** Something to mark on the charts of `metric` whose series match `labels`. */
export interface ChartMarker {
  kind: 'alert' | 'anomaly';
  metric: string;
  labels: Labels;
  timestampMs: number;
  /** For alerts: firing or pending. */
  state?: string;
  text: string;
}

export interface ChartsInput {
  window: ChartWindowName;
  fromMs: number;
  toMs: number;
  groups: readonly { title: string; metrics: readonly string[] }[];
  lines: readonly ChartLine[];
  markers: readonly ChartMarker[];
}

export const CHARTS_STYLE = `
#chart-windows a { display: inline-block; padding: 0.2rem 0.6rem; border: 1px solid #ddd; border-radius: 4px; margin-right: 0.25rem; text-decoration: none; }
#chart-windows a[aria-current] { background: #0969da; color: #fff; border-color: #0969da; }
.chart-group .cards { grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); }
.chart h4 { font-size: 0.85rem; margin: 0 0 0.25rem; overflow-wrap: anywhere; }
.chart svg { width: 100%; height: 5rem; display: block; }
.chart .s0 { color: #0969da; } .chart .s1 { color: #8250df; } .chart .s2 { color: #1a7f37; } .chart .s3 { color: #bc4c00; }
.chart .s4 { color: #bf3989; } .chart .s5 { color: #57606a; } .chart .s6 { color: #9a6700; } .chart .s7 { color: #0550ae; }
.marker-alert { stroke: #cf222e; stroke-dasharray: 3 2; } .marker-alert.pending { stroke: #9a6700; }
.marker-anomaly { fill: #cf222e; }
.legend, .range { font-size: 0.75rem; color: #57606a; overflow-wrap: anywhere; }
`;

const WIDTH = 300;
const HEIGHT = 80;
const MAX_LINES = 8;

function num(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return x.toFixed(a >= 100 ? 0 : 2);
}

/** True when every label of the line has the marker's value (or the marker does not have it). */
function matches(line: Labels, marker: Labels): boolean {
  return Object.entries(line).every(([k, v]) => marker[k] === undefined || marker[k] === v);
}

function chart(
  metric: string,
  lines: readonly ChartLine[],
  markers: readonly ChartMarker[],
  input: ChartsInput,
): string {
  let min = Infinity;
  let max = -Infinity;
  for (const l of lines)
    for (let i = 0; i < l.v.length; i++) {
      const x = l.v[i]!;
      if (!Number.isFinite(x)) continue;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  const span = max - min;
  const tspan = input.toMs - input.fromMs || 1;
  const xOf = (t: number): number => Math.min(WIDTH, Math.max(0, ((t - input.fromMs) / tspan) * WIDTH));
  // A constant series is drawn across the middle.
  const yOf = (v: number): number => (span > 0 ? HEIGHT - 3 - ((v - min) / span) * (HEIGHT - 8) : HEIGHT / 2);
  const polylines = lines
    .map((l, j) => {
      const pts: string[] = [];
      for (let i = 0; i < l.v.length; i++)
        if (Number.isFinite(l.v[i]!)) pts.push(`${xOf(l.t[i]!).toFixed(1)},${yOf(l.v[i]!).toFixed(1)}`);
      return pts.length === 0
        ? ''
        : `<polyline class="s${j % MAX_LINES}" fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" points="${pts.join(' ')}"/>`;
    })
    .join('');
  const shown = markers.filter((m) => lines.some((l) => matches(l.labels, m.labels)));
  const marks = shown
    .map((m) => {
      const x = xOf(m.timestampMs).toFixed(1);
      const title = `<title>${escapeHtml(m.text)}</title>`;
      return m.kind === 'alert'
        ? `<line class="marker-alert ${m.state === 'pending' ? 'pending' : 'firing'}" x1="${x}" x2="${x}" y1="0" y2="${HEIGHT}" vector-effect="non-scaling-stroke">${title}</line>`
        : `<path class="marker-anomaly" d="M${x} 6 l-3 -6 h6 z">${title}</path>`;
    })
    .join('');
  const rate = lines.some((l) => l.rate);
  const omitted = Math.max(0, ...lines.map((l) => l.omitted));
  const name = `${metric}${rate ? ' (per second)' : ''}`;
  const legend =
    lines.length > 1 || (lines.length === 1 && Object.keys(lines[0]!.labels).length > 0)
      ? `<div class="legend">${lines.map((l, j) => `<span class="s${j}">■</span> ${escapeHtml(labelsText(l.labels, ', ', '{}'))}`).join(' · ')}${omitted > 0 ? ` · ${omitted} more series not drawn` : ''}</div>`
      : '';
  const last = lines[0]?.v[lines[0].v.length - 1] ?? NaN;
  return (
    `<div class="card chart" data-metric="${escapeHtml(metric)}" data-resolution="${escapeHtml(lines[0]?.resolution ?? '')}" data-markers="${shown.length}">` +
    `<h4>${escapeHtml(name)}</h4>` +
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img"><title>${escapeHtml(`${name}, last ${input.window}`)}</title>${polylines}${marks}</svg>` +
    `<div class="range dyn">min ${num(min)} · max ${num(max)} · last ${num(last)}</div>${legend}</div>`
  );
}

/** The Charts section: window links, then one block of cards per group that has a metric with history. */
export function renderCharts(input: ChartsInput): string {
  const nav = CHART_WINDOWS.map(
    (w) =>
      `<a href="/?window=${w}#charts"${w === input.window ? ' aria-current="page"' : ''}>${w.replace(/(\d+)/, '$1 ')}</a>`,
  ).join('');
  const byMetric = new Map<string, ChartLine[]>();
  for (const l of input.lines) {
    const list = byMetric.get(l.metric) ?? [];
    if (list.length < MAX_LINES) list.push(l);
    byMetric.set(l.metric, list);
  }
  const sections = input.groups
    .map((g) => {
      const cards = g.metrics
        .filter((m) => byMetric.has(m))
        .map((m) =>
          chart(
            m,
            byMetric.get(m)!,
            input.markers.filter((k) => k.metric === m),
            input,
          ),
        );
      if (cards.length === 0) return '';
      const id = g.title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
      return `<section class="chart-group" id="group-${id}"><h3>${escapeHtml(g.title)}</h3>\n<div class="cards">\n${cards.join('\n')}\n</div></section>`;
    })
    .filter((s) => s !== '')
    .join('\n');
  return (
    `<h2 id="charts">Charts</h2>\n<nav id="chart-windows">${nav}</nav>\n` +
    (sections === '' ? '<p>no history in this window yet</p>' : sections)
  );
}
