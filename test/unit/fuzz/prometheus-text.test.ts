/**
 * Property-based fuzzing of the Prometheus text serializer: random collections (label values with any
 * Unicode, quotes, backslashes and newlines; metric names at the grammar's edges; NaN, ±Inf, -0 and huge
 * values) must give the SDK serializer's bytes, parse back (with the small parser below) to exactly the
 * families, labels and values that went in, and pass `promtool check metrics`.
 */
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeName, serializePrometheus } from '../../../src/export/prometheus-text.js';
import { serviceGate } from '../../services/availability.js';
import { promtoolAvailable, promtoolCheckMetrics } from '../../services/prometheus.js';
import { FUZZ_TIMEOUT_MS, anyText, edgyNumber, fuzzParams } from './fuzz-settings.js';

const CONSTANT = ['environment', 'agent_instance'];

// ---------------------------------------------------------------------------------------------------
// Generators

type Kind = 'gauge' | 'counter' | 'updown' | 'histogram';

interface PointSpec {
  attributes: Record<string, string | number | boolean>;
  value: number | Histogram;
}

interface MetricSpec {
  name: string;
  kind: Kind;
  description: string;
  unit: string;
  points: PointSpec[];
}

interface CollectionSpec {
  resource: Record<string, string>;
  metrics: MetricSpec[];
}

/** Instrument names at the edges of the grammar: dots, dashes, leading digits, colons, non-ASCII, `_total`. */
const metricName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/),
  fc.stringMatching(/^[0-9a-zA-Z._:\-°µ/]{1,14}$/),
  fc.constantFrom('a', '_a', '9lives', 'x.total', 'a_total', 'http.server.duration', 'a:b', 'é', 'a__b'),
);

/** Attribute keys as they come from the config (label names) and OTel (dotted). */
const attributeKey = fc
  .oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), fc.stringMatching(/^[a-z][a-z0-9]{0,5}\.[a-z]{1,5}$/))
  .filter((k) => !CONSTANT.includes(sanitizeName(k)) && sanitizeName(k) !== 'le');

const attributeValue = fc.oneof(
  { weight: 4, arbitrary: anyText(30) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.integer(), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  },
);

/** Attributes whose keys stay distinct after sanitizing (two keys giving one label name are not exposable). */
const attributes = fc
  .uniqueArray(fc.tuple(attributeKey, attributeValue), { selector: ([k]) => sanitizeName(k), maxLength: 4 })
  .map((pairs) => Object.fromEntries(pairs));

const histogram: fc.Arbitrary<Histogram> = fc
  .tuple(
    fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 5 }),
    fc.array(fc.nat(1000), { minLength: 6, maxLength: 6 }),
    fc.oneof(edgyNumber, fc.constant(undefined)),
  )
  .map(([bounds, counts, sum]) => {
    const boundaries = [...bounds].sort((a, b) => a - b);
    const bucketCounts = counts.slice(0, boundaries.length + 1);
    const count = bucketCounts.reduce((a, b) => a + b, 0);
    return {
      buckets: { boundaries, counts: bucketCounts },
      count,
      sum: sum as number,
      min: undefined,
      max: undefined,
    };
  });

const metricSpec: fc.Arbitrary<MetricSpec> = fc
  .tuple(
    metricName,
    fc.constantFrom<Kind>('gauge', 'counter', 'updown', 'histogram'),
    anyText(20),
    anyText(6),
  )
  .chain(([name, kind, description, unit]) =>
    fc
      .uniqueArray(fc.record({ attributes, value: kind === 'histogram' ? histogram : edgyNumber }), {
        // One point per label set, as the SDK gives.
        selector: (p) =>
          JSON.stringify(
            Object.keys(p.attributes)
              .sort()
              .map((k) => [k, p.attributes[k]]),
          ),
        maxLength: 4,
      })
      .map((points): MetricSpec => ({ name, kind, description, unit, points })),
  );

const resource = fc.record({
  environment: anyText(20),
  agent_instance: anyText(20),
  'service.name': anyText(20),
});

const collection: fc.Arbitrary<CollectionSpec> = fc.record({
  resource,
  metrics: fc.array(metricSpec, { maxLength: 6 }),
});

/** The name of the family a metric goes to (as the serializer names it), or undefined when it has none. */
function familyName(m: MetricSpec): string | undefined {
  const name = sanitizeName(m.name);
  if (name === '' || name === '_') return undefined;
  return m.kind === 'counter' && !name.endsWith('_total') ? `${name}_total` : name;
}

/** Collections whose metrics go to distinct families, for the exact parse-back property. */
const distinctCollection = (maxLength: number): fc.Arbitrary<CollectionSpec> =>
  fc.record({
    resource,
    metrics: fc.uniqueArray(metricSpec, { selector: (m) => familyName(m) ?? m.name, maxLength }),
  });

function resourceMetrics(spec: CollectionSpec): ResourceMetrics {
  const metrics = spec.metrics.map((m): MetricData => {
    const dataPoints = m.points.map((p) => ({
      startTime: [0, 0] as [number, number],
      endTime: [0, 0] as [number, number],
      attributes: p.attributes,
      value: p.value,
    }));
    const descriptor = { name: m.name, description: m.description, unit: m.unit, valueType: 1 };
    const base = { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE };
    switch (m.kind) {
      case 'gauge':
        return { ...base, dataPointType: DataPointType.GAUGE, dataPoints } as MetricData;
      case 'histogram':
        return { ...base, dataPointType: DataPointType.HISTOGRAM, dataPoints } as MetricData;
      default:
        return {
          ...base,
          dataPointType: DataPointType.SUM,
          isMonotonic: m.kind === 'counter',
          dataPoints,
        } as MetricData;
    }
  });
  return {
    resource: resourceFromAttributes(spec.resource),
    scopeMetrics: [{ scope: { name: 'fuzz' }, metrics }],
  };
}

function serialize(spec: CollectionSpec): string {
  return serializePrometheus(resourceMetrics(spec), new Set(CONSTANT));
}

// ---------------------------------------------------------------------------------------------------
// A small parser of the text format (what Prometheus' text parser accepts, for the lines we write)

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface ParsedText {
  help: Map<string, string>;
  types: Map<string, string>;
  samples: ParsedSample[];
}

function unescape(text: string, quotes: boolean): string {
  return text.replace(quotes ? /\\(["\\n])/g : /\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  expect(text).toMatch(/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/);
  return Number(text);
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/s;
const LABEL_PAIR = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/;

function parseText(text: string): ParsedText {
  const out: ParsedText = { help: new Map(), types: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/s.exec(line);
    if (meta !== null) {
      if (meta[1] === 'HELP') out.help.set(meta[2]!, unescape(meta[3]!, false));
      if (meta[1] === 'TYPE') out.types.set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line);
    expect(m, `unparsable line ${JSON.stringify(line)}`).not.toBeNull();
    const labels: Record<string, string> = {};
    let rest = m![2] ?? '';
    while (rest !== '') {
      const p = LABEL_PAIR.exec(rest);
      expect(p, `unparsable labels ${JSON.stringify(rest)}`).not.toBeNull();
      expect(labels, 'a label is given twice').not.toHaveProperty(p![1]!);
      labels[p![1]!] = unescape(p![2]!, true);
      rest = rest.slice(p![0].length);
    }
    out.samples.push({ name: m![1]!, labels, value: parseValue(m![3]!) });
  }
  return out;
}

/** A label value as it reaches the scraper: text, UTF-8 encoded (lone surrogates become U+FFFD). */
function labelText(v: string | number | boolean): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('utf8');
}

/** The samples a metric must give, in order. */
function expectedSamples(m: MetricSpec, family: string, constants: Record<string, string>): ParsedSample[] {
  const out: ParsedSample[] = [];
  for (const p of m.points) {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(p.attributes)) labels[sanitizeName(k)] = labelText(v);
    Object.assign(labels, constants);
    if (m.kind !== 'histogram') {
      out.push({ name: family, labels, value: p.value as number });
      continue;
    }
    const h = p.value as Histogram;
    out.push({ name: `${family}_count`, labels, value: h.count });
    if (h.sum !== undefined) out.push({ name: `${family}_sum`, labels, value: h.sum });
    let cumulative = 0;
    h.buckets.counts.forEach((c, i) => {
      cumulative += c;
      const bound = h.buckets.boundaries[i];
      const le = bound === undefined ? '+Inf' : String(bound);
      out.push({ name: `${family}_bucket`, labels: { ...labels, le }, value: cumulative });
    });
  }
  return out;
}

/** Values compare as Prometheus reads them: NaN equals NaN, and the sign of zero is not kept. */
function sameValue(a: number, b: number): boolean {
  return Number.isNaN(a) ? Number.isNaN(b) : a === b;
}

function checkParsesBack(spec: CollectionSpec, text: string): void {
  // The scraper reads the body the exporter sends: the text, UTF-8 encoded.
  const parsed = parseText(labelText(text));
  const constants = Object.fromEntries(CONSTANT.map((k) => [k, labelText(spec.resource[k]!)]));
  const expected: ParsedSample[] = [
    {
      name: 'target_info',
      labels: Object.fromEntries(
        Object.entries(spec.resource).map(([k, v]) => [sanitizeName(k), labelText(v)]),
      ),
      value: 1,
    },
  ];
  for (const m of spec.metrics) {
    const family = familyName(m);
    if (family === undefined) continue;
    expected.push(...expectedSamples(m, family, constants));
    if (m.points.length === 0) continue;
    expect(parsed.types.get(family)).toBe(m.kind === 'updown' ? 'gauge' : m.kind);
    expect(parsed.help.get(family)).toBe(labelText(m.description || 'description missing'));
  }
  expect(parsed.samples.map((s) => [s.name, s.labels])).toEqual(expected.map((s) => [s.name, s.labels]));
  parsed.samples.forEach((s, i) => {
    expect(sameValue(s.value, expected[i]!.value), `${s.name}: ${s.value} vs ${expected[i]!.value}`).toBe(
      true,
    );
  });
}

// ---------------------------------------------------------------------------------------------------

/** Hand-written hostile values, checked before the generated ones. */
const HOSTILE: CollectionSpec = {
  resource: { environment: 'a"b\\c\nd', agent_instance: '\uD800\u2028', 'service.name': '} 1\nfake 2' },
  metrics: [
    {
      name: '9 lives.°C',
      kind: 'gauge',
      description: 'line\nbreak \\ back',
      unit: '\n',
      points: [
        { attributes: { 'k.v': '\u2029', n: 'x"} 1\n# TYPE y gauge' }, value: NaN },
        { attributes: { n: 5 }, value: -0 },
        { attributes: { n: true }, value: Number.MAX_VALUE },
      ],
    },
    {
      name: 'c',
      kind: 'counter',
      description: '',
      unit: '',
      points: [{ attributes: {}, value: Infinity }],
    },
    {
      name: 'h',
      kind: 'histogram',
      description: 'hist',
      unit: 's',
      points: [
        {
          attributes: { q: '' },
          value: { buckets: { boundaries: [-1e300, 1e-300], counts: [1, 2, 3] }, count: 6, sum: NaN },
        },
      ],
    },
  ],
};

/** Found by the promtool property: with nothing recorded, the last line had no newline and was refused. */
const NOTHING_RECORDED: CollectionSpec = {
  resource: { environment: '', agent_instance: '', 'service.name': '' },
  metrics: [],
};

describe('serializePrometheus (fuzz)', () => {
  it('should write the same bytes as the SDK serializer', { timeout: FUZZ_TIMEOUT_MS }, () => {
    const sdk = new PrometheusSerializer(undefined, false, /^(?:environment|agent_instance)$/, false, true);
    fc.assert(
      // The SDK leaves out instruments without data points before they reach a serializer.
      fc.property(
        collection.filter((c) => c.metrics.every((m) => m.points.length > 0)),
        (spec) => {
          const rm = resourceMetrics(spec);
          const theirs = sdk.serialize(rm);
          // Ours ends the last line when nothing was recorded (the SDK does not; promtool refuses that).
          const expected = theirs.endsWith('# no registered metrics') ? `${theirs}\n` : theirs;
          expect(serializePrometheus(rm, new Set(CONSTANT))).toBe(expected);
        },
      ),
      fuzzParams(300),
    );
  });

  it(
    'should parse back to the families, labels and values that went in',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      fc.assert(
        fc.property(distinctCollection(6), (spec) => checkParsesBack(spec, serialize(spec))),
        fuzzParams(300, [[HOSTILE]]),
      );
    },
  );
});

const promtool = await serviceGate('promtool', promtoolAvailable);

promtool.describe('serializePrometheus output in promtool check metrics (fuzz)', () => {
  it('should be accepted by promtool', { timeout: FUZZ_TIMEOUT_MS }, async () => {
    // One promtool run checks a batch of generated collections, each its own exposition.
    // One promtool run per collection; a generated collection holds many families.
    const specs = [HOSTILE, NOTHING_RECORDED, ...fc.sample(distinctCollection(40), fuzzParams(10))];
    for (const spec of specs) {
      const text = serialize(spec);
      const { exitCode, output } = await promtoolCheckMetrics(text);
      // 0 = clean, 3 = lint findings only (such as counters without a unit suffix); 1 = not parsable.
      expect([0, 3], `${output}\n--- text:\n${text}`).toContain(exitCode);
    }
  });
});
