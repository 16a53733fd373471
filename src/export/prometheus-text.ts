/**
 * ResourceMetrics → Prometheus text format 0.0.4, written for this agent's collection tick. It produces the
 * same bytes as the SDK's PrometheusSerializer (without scope labels, with the identity labels as constant
 * labels; test/unit/export/prometheus-text.test.ts compares the two), except that it ends the last line
 * when nothing was recorded (the SDK does not, and promtool refuses that), at a fraction of the cost: the SDK's
 * rebuilds every label set for every bucket line, and importing it pulls @opentelemetry/exporter-prometheus
 * and the semantic-conventions package into the agent (7 MB of resident memory). Measured in
 * docs/benchmarks.md.
 */
import type { DataPoint, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { escapeLabelValue } from '../model/labels.js';
import { GAUGE_POINTS, HISTOGRAM_POINTS, SUM_POINTS } from '../model/otel-constants.js';

export type Attributes = Readonly<Record<string, unknown>>;

/** Characters allowed in Prometheus names, runs of underscores collapsed, no leading digit. */
export function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
  return s !== '' && s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57 ? `_${s}` : s;
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelValue(value: unknown): string {
  return escapeLabelValue(typeof value === 'string' ? value : JSON.stringify(value));
}

export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}

/** `k="v",k2="v2"` for a set of attributes. */
export function labelPairs(attributes: Attributes, keyCache: Map<string, string>): string {
  let out = '';
  for (const key in attributes) {
    let k = keyCache.get(key);
    if (k === undefined) {
      k = sanitizeName(key);
      keyCache.set(key, k);
    }
    out += `${out === '' ? '' : ','}${k}="${labelValue(attributes[key])}"`;
  }
  return out;
}

export function joinLabels(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a},${b}`;
}

/**
 * The label text of data points (`k="v",...`, constant labels last), kept across collections by the attributes
 * object it was made from: the producers hand out the same attributes object for a series collection after
 * collection (point-producer.ts, series-table.ts), so a series' label text is built once, not at every
 * serialization. Attributes are read-only (Labels); a changed set of constant labels starts over. The keys are
 * held weakly: a series that is gone takes its text with it.
 */
export class LabelTexts {
  private _constantPairs = '';
  private _byAttributes = new WeakMap<Attributes, string>();

  text(attributes: Attributes, keyCache: Map<string, string>, constantPairs: string): string {
    if (constantPairs !== this._constantPairs) {
      this._constantPairs = constantPairs;
      this._byAttributes = new WeakMap();
    }
    let text = this._byAttributes.get(attributes);
    if (text === undefined) {
      text = joinLabels(labelPairs(attributes, keyCache), constantPairs);
      this._byAttributes.set(attributes, text);
    }
    return text;
  }
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  unit: string;
  metrics: MetricData[];
}

/**
 * The collection's metrics grouped by exposed name, in first-seen order; a name reported with two types maps
 * to undefined (it cannot be exposed). Shared with the protobuf exposition (prometheus-protobuf.ts).
 */
export function collectFamilies(rm: ResourceMetrics): Map<string, Family | undefined> {
  const families = new Map<string, Family | undefined>();
  // Indexed loops: under --lite-mode every for-of step allocates an iterator result, at every serialization.
  for (let si = 0; si < rm.scopeMetrics.length; si++) {
    const scopeMetrics = rm.scopeMetrics[si]!.metrics;
    for (let mi = 0; mi < scopeMetrics.length; mi++) {
      const metric = scopeMetrics[mi]!;
      const f = familyOf(metric);
      if (f === undefined) continue;
      const existing = families.get(f.name);
      if (existing === undefined && families.has(f.name)) continue; // dropped after a type conflict
      if (existing === undefined) {
        families.set(f.name, {
          ...f,
          help: metric.descriptor.description,
          unit: metric.descriptor.unit,
          metrics: [metric],
        });
      } else if (existing.type !== f.type) {
        families.set(f.name, undefined); // the same name with two types cannot be exposed: drop both
      } else {
        existing.help ||= metric.descriptor.description;
        existing.unit ||= metric.descriptor.unit;
        existing.metrics.push(metric);
      }
    }
  }
  return families;
}

interface FamilyName {
  name: string;
  type: Family['type'];
}

/**
 * familyOf's answer by descriptor: the producers keep one descriptor object per instrument, so its name is
 * sanitized once rather than at every serialization (two regular expressions, run by V8's regexp interpreter
 * under --lite-mode). Checked against what it was made from, in case a descriptor is reused for another name.
 */
const familyNames = new WeakMap<
  MetricData['descriptor'],
  {
    source: string;
    pointType: MetricData['dataPointType'];
    monotonic: boolean;
    family: FamilyName | undefined;
  }
>();

function familyOf(metric: MetricData): FamilyName | undefined {
  const d = metric.descriptor;
  const monotonic = metric.dataPointType === SUM_POINTS && metric.isMonotonic;
  const known = familyNames.get(d);
  if (known?.source === d.name && known.pointType === metric.dataPointType && known.monotonic === monotonic)
    return known.family;
  const family = newFamilyName(metric);
  familyNames.set(d, { source: d.name, pointType: metric.dataPointType, monotonic, family });
  return family;
}

function newFamilyName(metric: MetricData): FamilyName | undefined {
  let name = sanitizeName(metric.descriptor.name);
  if (name === '' || name === '_') return undefined;
  switch (metric.dataPointType) {
    case SUM_POINTS:
      if (!metric.isMonotonic) return { name, type: 'gauge' };
      if (!name.endsWith('_total')) name += '_total';
      return { name, type: 'counter' };
    case GAUGE_POINTS:
      return { name, type: 'gauge' };
    case HISTOGRAM_POINTS:
      return { name, type: 'histogram' };
    default:
      // Exponential histograms have no text-format rendering; this agent creates none.
      return undefined;
  }
}

/** A collection grouped by exposed family name, with the label text every series shares. */
export interface Families {
  /** `k="v",...` of every resource attribute (the `target_info` series). */
  resourcePairs: string;
  /** `k="v",...` of the constant labels. */
  constantPairs: string;
  /** Families in first-seen order; undefined marks a name dropped after a type conflict. */
  families: Map<string, Family | undefined>;
  /** The label text of a data point's attributes, constant labels last. */
  labelsOf: (attributes: Attributes) => string;
}

/**
 * Groups a collection's metrics by exposed name. `constantLabels` names the resource attributes that go on
 * every series; the full resource is the `target_info` series. `labelTexts` keeps series' label text from one
 * collection to the next.
 */
export function groupFamilies(
  rm: ResourceMetrics,
  constantLabels: ReadonlySet<string>,
  labelTexts?: LabelTexts,
): Families {
  const keyCache = new Map<string, string>();
  const resourceAttributes = rm.resource.attributes as Attributes;
  const constants: Record<string, unknown> = {};
  for (const key in resourceAttributes) if (constantLabels.has(key)) constants[key] = resourceAttributes[key];
  const constantPairs = labelPairs(constants, keyCache);

  const families = collectFamilies(rm);
  const labelsOf =
    labelTexts === undefined
      ? (attributes: Attributes): string => joinLabels(labelPairs(attributes, keyCache), constantPairs)
      : (attributes: Attributes): string => labelTexts.text(attributes, keyCache, constantPairs);
  return { resourcePairs: labelPairs(resourceAttributes, keyCache), constantPairs, families, labelsOf };
}

/** The lines of every data point of a family: `line` gets each point's label text (constants last) and value. */
export function familyBody(
  family: Family,
  labelsOf: Families['labelsOf'],
  line: (labels: string, value: number | Histogram) => string,
): string {
  let body = '';
  // Indexed loops: under --lite-mode every for-of step allocates an iterator result, once per series here.
  for (let m = 0; m < family.metrics.length; m++) {
    const points = family.metrics[m]!.dataPoints as DataPoint<number | Histogram>[];
    for (let i = 0; i < points.length; i++) {
      const dp = points[i]!;
      body += line(labelsOf(dp.attributes), dp.value);
    }
  }
  return body;
}

/**
 * Serializes a collection in the text format 0.0.4 (see groupFamilies for `constantLabels`); `labelTexts` keeps
 * series' label text from one collection to the next.
 */
export function serializePrometheus(
  rm: ResourceMetrics,
  constantLabels: ReadonlySet<string>,
  labelTexts?: LabelTexts,
): string {
  const { resourcePairs, families, labelsOf } = groupFamilies(rm, constantLabels, labelTexts);
  let out = `# HELP target_info Target metadata\n# TYPE target_info gauge\n${series('target_info', resourcePairs, 1)}`;
  let any = false;
  // forEach, not for-of: under --lite-mode every for-of step allocates an iterator result.
  families.forEach((family) => {
    if (family === undefined) return;
    const body = familyBody(family, labelsOf, (labels, value) =>
      family.type === 'histogram'
        ? histogramLines(family.name, labels, value as Histogram)
        : series(family.name, labels, value as number),
    );
    if (body === '') return;
    any = true;
    out += `${headers.of(family)}${body}`;
  });
  // Every line ends with a newline, this one too: parsers (promtool) refuse a last line without one.
  return any ? out : `${out}# no registered metrics\n`;
}

/**
 * A family's header lines (HELP, UNIT, TYPE), made by `make` once and kept by the descriptor of the family's
 * first metric (one object per instrument): escaping the help text at every serialization ran two or three
 * regular expressions per family. Made again when the family's name, help, unit or type differ from those it
 * was made for.
 */
export class FamilyHeaders {
  private readonly _make: (family: Family) => string;
  private readonly _byDescriptor = new WeakMap<
    MetricData['descriptor'],
    { name: string; help: string; unit: string; type: string; text: string }
  >();

  constructor(make: (family: Family) => string) {
    this._make = make;
  }

  of(family: Family): string {
    const d = family.metrics[0]!.descriptor;
    const known = this._byDescriptor.get(d);
    if (
      known?.name === family.name &&
      known.help === family.help &&
      known.unit === family.unit &&
      known.type === family.type
    )
      return known.text;
    const text = this._make(family);
    this._byDescriptor.set(d, {
      name: family.name,
      help: family.help,
      unit: family.unit,
      type: family.type,
      text,
    });
    return text;
  }
}

const headers = new FamilyHeaders((family) => {
  const { name, unit } = family;
  let text = `# HELP ${name} ${escapeHelp(family.help || 'description missing')}\n`;
  if (unit !== '') text += `# UNIT ${name} ${escapeHelp(unit)}\n`;
  return `${text}# TYPE ${name} ${family.type}\n`;
});

export function series(name: string, labels: string, value: number): string {
  return labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`;
}

function histogramLines(name: string, labels: string, h: Histogram): string {
  let out = series(`${name}_count`, labels, h.count);
  if (h.sum !== undefined && h.sum !== null) out += series(`${name}_sum`, labels, h.sum);
  const bucket = labels === '' ? `${name}_bucket{le="` : `${name}_bucket{${labels},le="`;
  const { boundaries, counts } = h.buckets;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i]!;
    const bound = boundaries[i];
    const le = bound === undefined || bound === Infinity ? '+Inf' : String(bound);
    out += `${bucket}${le}"} ${formatValue(cumulative)}\n`;
    if (bound === Infinity) break;
  }
  return out;
}
