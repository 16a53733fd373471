/**
 * The one configuration schema: structure, defaults, constraints and cross-field rules. The YAML layout
 * is the seed's (`performance_monitor:` with collection_interval, enabled_collectors, system_metrics,
 * application_metrics, neo4j_metrics, prometheus, alerting; `trend_analysis:`; `logging:`), plus the
 * sections this agent adds (`system`, `otlp`). Keys are snake_case as in YAML. Durations accept a number
 * of seconds or a string with a unit (`15s`, `5m`) and become `Duration` objects.
 *
 * The sections are in ./schema-*.ts. What only a layer above can judge (an alert rule's expression, a
 * matcher's syntax) comes in as a ConfigCheck: a schema is built with its checks (configSchemaWith).
 */
import { z } from 'zod';
import { alertingSection } from './schema-alerting.js';
import {
  LABEL_READS,
  RULE_READS,
  TREND_READS,
  checkLabelCollisions,
  checkRuleMetrics,
  checkTrendMetrics,
  readsValid,
} from './schema-checks.js';
import type { KeyPath } from './schema-checks.js';
import { exemplarsSection, otlpSection, prometheusSection } from './schema-export.js';
import {
  COLLECTORS,
  LOG_LEVEL_NAMES,
  duplicates,
  duration,
  durationField,
  uniqueByName,
} from './schema-fields.js';
import { applicationMetric, neo4jSection, systemMetric, systemSection } from './schema-metrics.js';
import { trendAnalysis } from './schema-trends.js';

export {
  AGGREGATION_RE,
  COLLECTORS,
  CONDITIONS,
  LOG_LEVEL_NAMES,
  METRIC_TYPES,
  SEVERITIES,
  duration,
} from './schema-fields.js';
export type { Duration } from './schema-fields.js';
export type { KeyPath } from './schema-checks.js';

const performanceMonitor = z
  .strictObject({
    service_name: z.string().min(1).optional(),
    /** Where state files the configuration does not place go (see agent/paths.ts); default: by convention. */
    state_dir: z.string().min(1).max(4096).optional(),
    collection_interval: durationField({ min: 100, max: 3_600_000 }).default(duration(30_000)),
    enabled_collectors: z
      .array(z.enum(COLLECTORS))
      .superRefine((list, ctx) => {
        for (const [name, i] of duplicates(list))
          ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(name)} is listed twice` });
      })
      .default(['system', 'application']),
    system: systemSection.prefault({}),
    system_metrics: uniqueByName(systemMetric).default([]),
    application_metrics: uniqueByName(applicationMetric).default([]),
    /** Distinct label sets per application metric before new ones go to the overflow series. */
    application_cardinality_limit: z.number().int().min(1).max(1_000_000).default(2000),
    neo4j_metrics: neo4jSection.prefault({}),
    prometheus: prometheusSection.prefault({}),
    exemplars: exemplarsSection.prefault({}),
    otlp: otlpSection.prefault({}),
    alerting: alertingSection.prefault({}),
  })
  .superRefine((pm, ctx) => {
    if (pm.system.probe_timeout !== undefined && pm.system.probe_timeout.ms > pm.collection_interval.ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['system', 'probe_timeout'],
        message: `must not exceed collection_interval (${pm.collection_interval.text})`,
      });
    }
    if (pm.otlp.export_interval !== undefined && pm.otlp.export_interval.ms < pm.collection_interval.ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['otlp', 'export_interval'],
        message: `must be at least collection_interval (${pm.collection_interval.text}): an export sends what a collection produced`,
      });
    }
  });

const loggingSection = z.strictObject({
  level: z.enum(LOG_LEVEL_NAMES).default('info'),
  format: z.enum(['text', 'json']).default('text'),
  file: z.string().min(1).optional(),
  max_bytes: z
    .number()
    .int()
    .min(0)
    .default(10 * 1024 * 1024),
  backup_count: z.number().int().min(0).default(5),
});

const sections = z.strictObject({
  performance_monitor: performanceMonitor.prefault({}),
  trend_analysis: trendAnalysis.prefault({}),
  logging: loggingSection.prefault({}),
});

export type AgentConfig = z.output<typeof sections>;
export type AlertRuleConfig = AgentConfig['performance_monitor']['alerting']['rules'][number];
export type ApplicationMetricConfig = AgentConfig['performance_monitor']['application_metrics'][number];
export type OtlpConfig = AgentConfig['performance_monitor']['otlp'];
export type NotificationsConfig = AgentConfig['performance_monitor']['alerting']['notifications'];
export type ChannelConfig = NotificationsConfig['channels'][number];
export type TrendAnalysisConfig = AgentConfig['trend_analysis'];

/** A problem a ConfigCheck finds: where the value at fault stands in the file, and what is wrong with it. */
export interface ConfigCheckIssue {
  readonly path: KeyPath;
  readonly message: string;
}

/**
 * A check that a layer above config/ adds to the validation of a configuration, for what only that layer can
 * judge (src/alerts/config-checks.ts). A loader is built with its checks (configLoader in ./load.ts); their
 * problems are reported with the schema's own, each at its file:line, all at once.
 */
export type ConfigCheck = ConfigTextCheck | ConfigValuesCheck;

/**
 * A check of every text at one place of the file, as a field's own check: it runs wherever the value there is
 * text, whatever else is wrong, and the checks across sections see its problems.
 */
export interface ConfigTextCheck {
  readonly kind: 'text';
  /** Where the texts stand: keys, and `*` for every item of a list. */
  readonly at: readonly string[];
  /** What is wrong with one text, or undefined. */
  readonly check: (text: string) => string | undefined;
}

/**
 * A check of validated values, across sections if need be. It is skipped while a problem lies in what it reads
 * (see readsValid), and runs after the schema's rule metric check and before its label and trend metric checks,
 * which are skipped in turn while a section they read has a problem (one this check found included).
 */
export interface ConfigValuesCheck {
  readonly kind: 'values';
  /** The key paths it reads. */
  readonly reads: readonly KeyPath[];
  /** Problems in what it reads that do not stop it (ones it passes over). */
  readonly despite?: (path: readonly PropertyKey[]) => boolean;
  readonly check: (config: AgentConfig) => readonly ConfigCheckIssue[];
}

/** The schema with `checks` added to its own. */
export function configSchemaWith(checks: readonly ConfigCheck[]): typeof sections {
  const texts = checks.filter((c) => c.kind === 'text');
  const values = checks.filter((c) => c.kind === 'values');
  // Text checks first, as a field's own check would run: the checks of the whole configuration see their
  // problems. Those run even when unrelated parts of the file are wrong, so that every problem is reported
  // at once; each is skipped when a section it reads is wrong (or performance_monitor is not a mapping).
  let schema = sections;
  for (const c of texts) schema = schema.superRefine(textRefinement(c), { when: always });
  schema = schema.superRefine(checkRuleMetrics, { when: readsValid(RULE_READS) });
  for (const c of values) {
    schema = schema.superRefine(valuesRefinement(c), { when: readsValid(c.reads, c.despite) });
  }
  return schema
    .superRefine(checkLabelCollisions, { when: readsValid(LABEL_READS) })
    .superRefine(checkTrendMetrics, { when: readsValid(TREND_READS) });
}

/** The schema alone: structure and the checks of the configuration layer. */
export const configSchema = configSchemaWith([]);

const always = (): boolean => true;

/** Runs a text check on every text at its place of the (partly validated) value. */
function textRefinement(c: ConfigTextCheck) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    const visit = (node: unknown, depth: number, path: (string | number)[]): void => {
      const step = c.at[depth];
      if (step === undefined) {
        const message = typeof node === 'string' ? c.check(node) : undefined;
        if (message !== undefined) ctx.addIssue({ code: 'custom', path, message });
      } else if (step === '*') {
        if (Array.isArray(node)) node.forEach((item, i) => visit(item, depth + 1, [...path, i]));
      } else if (
        node !== null &&
        typeof node === 'object' &&
        !Array.isArray(node) &&
        Object.hasOwn(node, step)
      ) {
        visit((node as Record<string, unknown>)[step], depth + 1, [...path, step]);
      }
    };
    visit(value, 0, []);
  };
}

function valuesRefinement(c: ConfigValuesCheck) {
  return (config: AgentConfig, ctx: z.RefinementCtx): void => {
    for (const issue of c.check(config))
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
  };
}
