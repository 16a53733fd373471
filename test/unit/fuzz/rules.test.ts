/**
 * Property-based fuzzing of the rule compiler and evaluator: random rules (metric, condition, threshold,
 * duration, aggregation, labels, templates) either load and compile or are refused with a ConfigError that
 * names the rule's file, line, column and key; rules that load have values in their documented ranges and
 * evaluate without failing on random samples (NaN, ±Inf, huge, negative, histograms).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RuleEngine } from '../../../src/alerts/engine.js';
import { compileRules } from '../../../src/alerts/rules.js';
import type { Sample } from '../../../src/model/metric.js';
import { CATALOG } from '../../../src/catalog/catalog.js';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { CONDITIONS } from '../../../src/config/schema.js';
import type { AgentConfig } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import { FUZZ_TIMEOUT_MS, anyText, edgyNumber, fuzzParams } from './fuzz-settings.js';

const METRICS = CATALOG.map((c) => c.name);

const durationText = fc.oneof(
  fc.constantFrom(
    '0s',
    '30s',
    '5m',
    '1h30m',
    '7d',
    '500ms',
    '1.5m',
    '2w',
    '1y',
    '',
    ' ',
    '-5m',
    '5',
    '5 m',
    '1e3s',
  ),
  fc.tuple(fc.nat(), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'y')).map(([n, u]) => `${n}${u}`),
  fc.constantFrom('99999999999999999999999999s', `${'9'.repeat(400)}ms`, '1e308', '0.0000001s'),
);

const duration = fc.oneof(durationText, edgyNumber);

/** Durations that load: zero, ordinary, fractional and very long ones. */
const validDuration = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'y')).map(([n, u]) => `${n}${u}`),
  fc.constantFrom('0s', '1h30m', '1.5m', '99999999999999999999999999s', '0.0000001s'),
  fc.double({ min: 0, max: 1e300, noNaN: true }),
);

const aggregation = fc.oneof(
  fc.constantFrom('last', 'mean', 'max', 'min', 'p50', 'p90', 'p95', 'p99'),
  fc
    .tuple(
      fc.constantFrom('rate', 'increase', 'mean', 'max', 'min', 'p50', 'p99', 'avg', 'rate_'),
      fc.oneof(fc.nat(100), fc.constantFrom(0, 99999999999, 1e21)),
      fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', ''),
    )
    .map(([f, n, u]) => `${f}_${n}${u}`),
  anyText(10),
);

const template = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '{{ $value }}',
        '{{ $labels.host }}',
        '{{ $value | printf "%.2f" }}',
        '{{',
        '}}',
        '{{ x }}',
      ),
      anyText(8),
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.join(''));

const labelKey = fc.oneof(
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
  fc.constantFrom('__name__', 'le', '1x'),
  anyText(6),
);

const finiteNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e21),
);

const validAggregation = fc.oneof(
  fc.constantFrom('last', 'mean', 'max', 'min', 'p50', 'p90', 'p95', 'p99'),
  fc
    .tuple(
      fc.constantFrom('rate', 'increase', 'mean', 'max', 'min', 'p50', 'p99'),
      fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(99999999999, 1e21)),
      fc.constantFrom('ms', 's', 'm', 'h', 'd'),
    )
    .map(([f, n, u]) => `${f}_${n}${u}`),
);

/** Templates the engine expands, around any text without braces. */
const validTemplate = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '{{ $value }}',
        '{{ $labels.host }}',
        '{{ $labels.constructor }}',
        '{{ $value | printf "%.2f" }}',
      ),
      anyText(8).map((t) => t.replace(/[{}]/g, '')),
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.join(''));

/** A rule a user might write: every key of the right type, values at the edges of their domains. */
const plausibleRule = fc.record(
  {
    name: fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/),
    metric: fc.constantFrom(...METRICS),
    condition: fc.constantFrom(...CONDITIONS),
    threshold: finiteNumber,
    duration: validDuration,
    severity: fc.constantFrom('info', 'warning', 'critical'),
    aggregation: validAggregation,
    labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), anyText(10), { maxKeys: 3 }),
    message: validTemplate,
    annotations: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), validTemplate, { maxKeys: 2 }),
    keep_firing_for: validDuration,
    enabled: fc.boolean(),
  },
  { requiredKeys: ['name', 'metric', 'condition', 'threshold'] },
);

/** Plausible rules, some with a resolve_threshold on the healthy side of the threshold. */
const plausibleRuleWithHysteresis = fc
  .tuple(plausibleRule, fc.option(fc.double({ min: 0, max: 1e6, noNaN: true })))
  .map(([r, gap]) => {
    if (gap === null || r.condition === '==' || r.condition === '!=') return r;
    const up = r.condition === '<' || r.condition === '<=';
    return { ...r, resolve_threshold: up ? r.threshold + gap : r.threshold - gap };
  });

/** Any key of a rule with a hostile value: wrong types, NaN, ±Infinity, odd text, unknown aggregations. */
const hostileField = fc.oneof(
  fc.tuple(fc.constantFrom('name', 'metric', 'condition', 'severity', 'message'), anyText(12)),
  fc.tuple(fc.constantFrom('threshold', 'resolve_threshold'), fc.oneof(edgyNumber, anyText(5))),
  fc.tuple(fc.constantFrom('duration', 'keep_firing_for'), duration),
  fc.tuple(fc.constant('aggregation'), aggregation),
  fc.tuple(fc.constant('labels'), fc.dictionary(labelKey, anyText(10), { maxKeys: 3 })),
  fc.tuple(fc.constant('annotations'), fc.dictionary(anyText(6), template, { maxKeys: 2 })),
  fc.tuple(anyText(8), fc.oneof(anyText(4), edgyNumber)),
);

/** A plausible rule, sometimes with one or two keys made hostile. */
const rule = fc.oneof(
  plausibleRuleWithHysteresis,
  fc
    .tuple(plausibleRuleWithHysteresis, fc.array(hostileField, { minLength: 1, maxLength: 2 }))
    .map(([r, fields]): Record<string, unknown> => ({
      ...r,
      ...Object.fromEntries(fields as [string, unknown][]),
    })),
);

/** The YAML of a configuration with these rules (NaN and ±Infinity become `.nan` and `±.inf`). */
function configText(rules: readonly object[]): string {
  return stringify({ performance_monitor: { collection_interval: '1m', alerting: { rules } } });
}

/** Loads the configuration; anything thrown must be a ConfigError whose every issue is located and named. */
function load(text: string): AgentConfig | ConfigError {
  try {
    return parseConfigText(text, 'rules.yaml', {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.issues.length).toBeGreaterThan(0);
    for (const issue of err.issues) {
      expect(issue.file).toBe('rules.yaml');
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.column).toBeGreaterThanOrEqual(1);
      expect(issue.path).toMatch(/^performance_monitor\.alerting\.rules(\[\d+\]|$)/);
      expect(issue.message, 'one line').not.toMatch(/[\n\r]/);
    }
    expect(err.message).not.toMatch(/[\n\r]/);
    return err;
  }
}

/** Random samples for the metrics the rules read: gauges and counters with edgy values, and histograms. */
function samplesArb(metrics: readonly string[]): fc.Arbitrary<Sample[]> {
  const labels = fc.dictionary(fc.constantFrom('host', 'le', 'severity', 'alertname', 'x'), anyText(4), {
    maxKeys: 2,
  });
  const plain = fc.record({
    metric: fc.constantFrom(...metrics),
    labels,
    value: edgyNumber,
    timestampMs: fc.constant(0),
    kind: fc.constantFrom<Sample['kind']>('gauge', 'counter'),
  });
  const histogram = fc
    .record({
      metric: fc.constantFrom(...metrics),
      labels,
      boundaries: fc.uniqueArray(fc.double({ noNaN: true }), { maxLength: 4 }),
      counts: fc.array(edgyNumber, { minLength: 5, maxLength: 5 }),
      sum: edgyNumber,
      count: edgyNumber,
    })
    .map((h): Sample => ({
      metric: h.metric,
      labels: h.labels,
      value: h.count,
      timestampMs: 0,
      kind: 'histogram',
      histogram: {
        boundaries: [...h.boundaries].sort((a, b) => a - b),
        counts: h.counts.slice(0, h.boundaries.length + 1),
        sum: h.sum,
        count: h.count,
      },
    }));
  return fc.array(fc.oneof(plain, histogram), { maxLength: 6 });
}

const T0 = Date.UTC(2026, 0, 1);

/**
 * Found by the load property: a rule name or a key with a line break reached the message unquoted
 * (`rule \n: must not be empty`, `…rules[0].labels.\r\n: …`), so the one-line error became two lines.
 */
const LINE_BREAK_RULES: object[] = [
  { name: '\n', metric: 'cpu_percent', condition: '>', threshold: 1 },
  { name: 'a\rb', metric: '', condition: '>', threshold: 1 },
  { name: 'a', metric: 'cpu_percent', condition: '>', threshold: 1, labels: { '\r\n': '' } },
  { name: 'a', metric: 'cpu_percent', condition: '>', threshold: 1, annotations: { 'x\ny': '{{ x }}' } },
  { name: 'a', metric: 'cpu_percent', condition: '>', threshold: 1, message: '{{ a\nb }}' },
];

describe('alert rules (fuzz)', () => {
  it('should keep each configuration error on one line when a rule name or key holds a line break', () => {
    for (const r of LINE_BREAK_RULES) {
      const err = load(configText([r]));
      expect(err).toBeInstanceOf(ConfigError);
    }
  });

  it(
    'should load and compile a random rule or refuse it naming file:line:col and key',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      fc.assert(
        fc.property(fc.array(rule, { minLength: 1, maxLength: 3 }), (rules) => {
          const config = load(configText(rules));
          if (config instanceof ConfigError) return;
          const compiled = compileRules(config);
          for (const r of compiled) {
            expect(Number.isFinite(r.threshold)).toBe(true);
            for (const ms of [r.forMs, r.keepFiringForMs, r.rangeMs]) {
              expect(Number.isFinite(ms) && ms >= 0).toBe(true);
            }
            expect(r.resolveThreshold === undefined || Number.isFinite(r.resolveThreshold)).toBe(true);
          }
        }),
        fuzzParams<[object[]]>(200, [
          // Found by this property: a duration too long for a number of milliseconds loaded as Infinity.
          [
            [
              {
                name: 'a',
                metric: 'cpu_percent',
                condition: '>',
                threshold: 1,
                keep_firing_for: `${'9'.repeat(400)}ms`,
              },
            ],
          ],
          [[{ name: 'a', metric: 'cpu_percent', condition: '>', threshold: 1, duration: 1e306 }]],
          // Found by this property: an aggregation window too long to be a duration compiled to no window.
          [
            [
              {
                name: 'a',
                metric: 'cpu_percent',
                condition: '>',
                threshold: 0,
                aggregation: 'rate_99999999999h',
              },
            ],
          ],
          ...LINE_BREAK_RULES.map((r): [object[]] => [[r]]),
        ]),
      );
    },
  );

  it(
    'should evaluate compiled rules on random samples without a rule failing',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      const scenario = fc
        .uniqueArray(plausibleRuleWithHysteresis, { selector: (r) => r.name, minLength: 1, maxLength: 3 })
        .chain((rules) =>
          fc.tuple(
            fc.constant(rules),
            fc.array(samplesArb([...new Set(rules.map((r) => r.metric))]), { maxLength: 8 }),
          ),
        );
      fc.assert(
        fc.property(scenario, ([rules, rounds]) => {
          const config = load(configText(rules));
          if (config instanceof ConfigError) return;
          const engine = new RuleEngine({
            clock: new ManualClock(T0),
            logger: new MemoryLogger(),
            rules: compileRules(config),
          });
          rounds.forEach((samples, i) => {
            const t = T0 + i * 60_000;
            engine.ingest(samples, t);
            const result = engine.evaluate(t);
            for (const a of result.alerts) {
              expect(JSON.parse(JSON.stringify(a.annotations))).toEqual(a.annotations);
            }
          });
          for (const s of engine.ruleStatuses()) {
            // The one failure a rule may have: its series have the same labels once alertname/severity are set.
            if (s.lastError !== undefined) expect(s.lastError).toMatch(/same labels/);
          }
        }),
        fuzzParams(150),
      );
    },
  );
});
