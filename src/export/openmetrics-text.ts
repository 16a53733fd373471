/**
 * ResourceMetrics → OpenMetrics 1.0 text, for scrapers that ask for it (`Accept: application/openmetrics-text`,
 * as Prometheus does by default). The series are those of the text format (prometheus-text.ts, whose grouping
 * and label text this shares), so what Prometheus stores does not change with the format; OpenMetrics adds:
 *
 * - exemplars on histogram buckets (`# {trace_id="…",span_id="…"} value timestamp`), kept by the series tables;
 * - `# UNIT` only where the family name ends with the unit (the format requires it), the OTel unit spelled as
 *   Prometheus does (`s` → `seconds`, `By` → `bytes`);
 * - counter families named without `_total`, their samples with it;
 * - `# EOF` at the end.
 *
 * No `_created` samples: Prometheus 2.x stores each `_created` line as a series of its own (`x_created`), which
 * would add a series per counter and histogram series to every scrape and change what dashboards and rules see.
 */
import type { Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Exemplar, HistogramValue } from '../model/metric.js';
import { FamilyHeaders, familyBody, formatValue, groupFamilies } from './prometheus-text.js';
import type { LabelTexts } from './prometheus-text.js';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** OTel (UCUM) units as the Prometheus naming conventions spell them in a metric name. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  '%': 'percent',
  Hz: 'hertz',
  MHz: 'megahertz',
  Cel: 'celsius',
};

/** The unit to declare for a family, or undefined when the name does not end with it. */
export function openMetricsUnit(family: string, unit: string): string | undefined {
  const word = UNIT_WORDS[unit] ?? (/^[a-z][a-z0-9_]*$/.test(unit) ? unit : undefined);
  return word !== undefined && family.endsWith(`_${word}`) ? word : undefined;
}

/** HELP text: backslash, newline and double quote escaped. */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** TYPE, HELP and UNIT lines of a family, made once per instrument (FamilyHeaders). */
const headers = new FamilyHeaders((family) => {
  // The text format's counter family carries `_total`; OpenMetrics names the family without it.
  const name = family.type === 'counter' ? family.name.slice(0, -'_total'.length) : family.name;
  const text = `# TYPE ${name} ${family.type}\n# HELP ${name} ${escapeText(family.help || 'description missing')}\n`;
  const unit = openMetricsUnit(name, family.unit);
  return unit === undefined ? text : `${text}# UNIT ${name} ${unit}\n`;
});

/** Serializes a collection as OpenMetrics text; `constantLabels` and `labelTexts` as for serializePrometheus. */
export function serializeOpenMetrics(
  rm: ResourceMetrics,
  constantLabels: ReadonlySet<string>,
  labelTexts?: LabelTexts,
): string {
  const { resourcePairs, families, labelsOf } = groupFamilies(rm, constantLabels, labelTexts);
  let out = `# TYPE target_info gauge\n# HELP target_info Target metadata\n${sample('target_info', resourcePairs, 1)}`;
  // forEach, not for-of: under --lite-mode every for-of step allocates an iterator result.
  families.forEach((family) => {
    if (family === undefined) return;
    const counter = family.type === 'counter';
    // The text format's counter family carries `_total`; OpenMetrics names the family without it.
    const name = counter ? family.name.slice(0, -'_total'.length) : family.name;
    const body = familyBody(family, labelsOf, (labels, value) =>
      family.type === 'histogram'
        ? histogramLines(name, labels, value as Histogram & Pick<HistogramValue, 'exemplars'>)
        : sample(counter ? family.name : name, labels, value as number),
    );
    if (body === '') return;
    out += headers.of(family) + body;
  });
  return `${out}# EOF\n`;
}

function sample(name: string, labels: string, value: number): string {
  return labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`;
}

function exemplarText(e: Exemplar): string {
  return ` # {trace_id="${e.traceId}",span_id="${e.spanId}"} ${formatValue(e.value)} ${(e.timeMs / 1000).toFixed(3)}`;
}

function histogramLines(
  name: string,
  labels: string,
  h: Histogram & Pick<HistogramValue, 'exemplars'>,
): string {
  let out = '';
  const bucket = labels === '' ? `${name}_bucket{le="` : `${name}_bucket{${labels},le="`;
  const { boundaries, counts } = h.buckets;
  const exemplars = h.exemplars;
  let cumulative = 0;
  let inf = false;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i]!;
    const bound = boundaries[i];
    inf = bound === undefined || bound === Infinity;
    const e = exemplars?.[i];
    out += `${bucket}${inf ? '+Inf' : String(bound)}"} ${formatValue(cumulative)}${e === undefined ? '' : exemplarText(e)}\n`;
    if (inf) break;
  }
  if (!inf) out += `${bucket}+Inf"} ${formatValue(cumulative)}\n`;
  out += sample(`${name}_count`, labels, h.count);
  if (h.sum !== undefined && h.sum !== null) out += sample(`${name}_sum`, labels, h.sum);
  return out;
}
