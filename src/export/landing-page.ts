/**
 * The page at `/`: what this endpoint serves and how the probes are doing, in plain HTML with no external
 * assets, readable on a phone.
 */
import type { Route } from '../model/route.js';

export interface LandingPageInput {
  version: string;
  routes: readonly Route[];
  summary: {
    collectedAtMs: number | undefined;
    collectionIntervalMs: number;
    probes: readonly { name: string; state: string; durationMs: number; reason?: string }[];
    otlp?: { endpoint: string; exports: number; failures: number; lastError?: string };
    scrapes: number;
  };
  /** Extra HTML sections (the status page: alerts, anomalies, forecasts, sparklines) shown first. */
  sections?: string;
  /** CSS for those sections. */
  style?: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderLandingPage({ version, routes, summary, sections, style }: LandingPageInput): string {
  const rows = routes
    .map((r) => {
      const path = r.path.endsWith('/*') ? r.path.slice(0, -1) : r.path;
      return `<tr><td><a href="${escapeHtml(path)}">${escapeHtml(r.path)}</a></td><td>${escapeHtml(r.description)}</td></tr>`;
    })
    .join('\n');
  const probes = summary.probes
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td class="${p.state === 'ok' ? 'ok' : 'bad'}">${escapeHtml(p.state)}</td>` +
        `<td>${p.durationMs.toFixed(2)} ms</td><td>${escapeHtml(p.reason ?? '')}</td></tr>`,
    )
    .join('\n');
  const collected =
    summary.collectedAtMs === undefined ? 'not yet' : new Date(summary.collectedAtMs).toISOString();
  const otlp =
    summary.otlp === undefined
      ? '<p>OTLP export: off</p>'
      : `<p>OTLP export to ${escapeHtml(summary.otlp.endpoint)}: ${summary.otlp.exports} exports, ${summary.otlp.failures} failed` +
        `${summary.otlp.lastError === undefined ? '' : ` (last error: ${escapeHtml(summary.otlp.lastError)})`}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perf-monitor-agent</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1rem; max-width: 50rem; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #ddd; }
.ok { color: #1a7f37; } .bad { color: #cf222e; }
${style ?? ''}</style>
</head>
<body>
<h1>perf-monitor-agent ${escapeHtml(version)}</h1>
${sections === undefined ? '' : `${sections}\n`}<p>Last collection: ${escapeHtml(collected)}; every ${summary.collectionIntervalMs / 1000} s; ${summary.scrapes} scrapes served.</p>
${otlp}
<h2>Endpoints</h2>
<table>
${rows}
</table>
<h2>Probes</h2>
<table>
<tr><th>probe</th><th>state</th><th>last run</th><th>note</th></tr>
${probes}
</table>
</body>
</html>
`;
}
