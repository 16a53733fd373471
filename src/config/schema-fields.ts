/**
 * The field types of the configuration schema that several sections use: durations, text from `${VAR}`,
 * label and metric names, patterns, lists with unique names, and the enumerations of the YAML layout.
 */
import { z } from 'zod';
import type { CatalogEntry } from '../catalog/catalog.js';
import { formatDurationMs, isDurationTooLong, parseDurationMs } from '../lib/duration.js';
import { errorMessage } from '../lib/errors.js';
import { compileSafeRegex } from '../lib/safe-regex.js';

/** A parsed duration: milliseconds plus the canonical text for printing. */
export interface Duration {
  readonly ms: number;
  readonly text: string;
}

export function duration(ms: number): Duration {
  return { ms, text: formatDurationMs(ms) };
}

/**
 * The default longest duration: what a timer can wait (Node.js fires a longer timeout after 1 ms). Durations
 * that no timer waits for (retention, a rule's `duration`, ...) name their own maximum.
 */
const MAX_TIMER_MS = 24 * 86_400_000;
export const TEN_YEARS_MS = 10 * 365 * 86_400_000;

export function durationField(opts: { min?: number; max?: number } = {}) {
  const max = opts.max ?? MAX_TIMER_MS;
  return z.union([z.number(), z.string()]).transform((value, ctx): Duration => {
    const ms = parseDurationMs(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: isDurationTooLong(value)
          ? `must be at most ${formatDurationMs(max)}`
          : `invalid duration ${JSON.stringify(value).slice(0, 80)}: use seconds (30) or a number with a unit (500ms, 15s, 5m, 1h, 7d)`,
      });
      return z.NEVER;
    }
    if (opts.min !== undefined && ms < opts.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${formatDurationMs(opts.min)}` });
      return z.NEVER;
    }
    if (ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${formatDurationMs(max)}` });
      return z.NEVER;
    }
    return duration(ms);
  });
}

/**
 * Text that may come from an unquoted `${VAR}`: a value such as a numeric password or `true` was retyped
 * by the expansion and is turned back into text here.
 */
export const text = () => z.union([z.string(), z.number(), z.boolean()]).transform(String);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const labelName = z
  .string()
  .regex(LABEL_NAME, 'label names use letters, digits and underscores and do not start with a digit')
  .refine((s) => !s.startsWith('__'), 'label names starting with __ are reserved by Prometheus');

/** A pattern run on the linear-time engine (RE2 syntax), found anywhere in the text as node_exporter does. */
export const regexText = z.string().superRefine((s, ctx) => {
  try {
    compileSafeRegex(s, { anchored: false });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) });
  }
});

export const COLLECTORS = ['system', 'application', 'neo4j'] as const;
export const METRIC_TYPES = ['gauge', 'counter', 'histogram'] as const;
export const CONDITIONS = ['>', '<', '>=', '<=', '==', '!='] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const LOG_LEVEL_NAMES = ['debug', 'info', 'warning', 'warn', 'error', 'critical'] as const;

/** `mean`, `p95`, `rate_5m`, `max_1h`, … : a function, optionally over a window. */
export const AGGREGATION_RE =
  /^(?:last|mean|max|min|p50|p90|p95|p99)$|^(?:rate|increase|mean|max|min|p50|p90|p95|p99)_\d+(?:ms|s|m|h|d)$/;

/** A list whose items have unique `name`s. */
export function uniqueByName<T extends z.ZodType<{ name: string }>>(item: T) {
  return z.array(item).superRefine((items, ctx) => {
    for (const [name, i] of duplicates(items.map((m) => m.name))) {
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${JSON.stringify(name)} is listed twice` });
    }
  });
}

/** The first repetition of each name that occurs more than once, with its index. */
export function duplicates(names: readonly string[]): Map<string, number> {
  const seen = new Set<string>();
  const dups = new Map<string, number>();
  names.forEach((n, i) => {
    if (seen.has(n) && !dups.has(n)) dups.set(n, i);
    seen.add(n);
  });
  return dups;
}

/**
 * Whether a configured metric is a catalog metric of another list than the one it is configured in (a system
 * metric under application_metrics, say); that is then reported at its name.
 */
export function inOtherList(
  entry: CatalogEntry | undefined,
  list: NonNullable<CatalogEntry['configList']>,
  what: string,
  ctx: z.RefinementCtx,
): boolean {
  if (entry === undefined || entry.configList === list) return false;
  ctx.addIssue({
    code: 'custom',
    path: ['name'],
    message: `${entry.name} is a ${entry.group} metric, not ${what}`,
  });
  return true;
}
