/**
 * The metric lists of `performance_monitor` (system_metrics, application_metrics, neo4j_metrics with its
 * connection) and the `system` section that tells the system probes where to look.
 */
import { z } from 'zod';
import { CATALOG, catalogEntry } from '../catalog/catalog.js';
import {
  METRIC_NAME,
  METRIC_TYPES,
  duration,
  durationField,
  inOtherList,
  labelName,
  regexText,
  text,
  uniqueByName,
} from './schema-fields.js';

const SYSTEM_METRIC_NAMES = CATALOG.filter((c) => c.configList === 'system_metrics').map((c) => c.name);

export const systemMetric = z
  .strictObject({
    name: z.string().superRefine((n, ctx) => {
      if (!SYSTEM_METRIC_NAMES.includes(n)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown system metric ${JSON.stringify(n)}`,
          params: { suggestFrom: SYSTEM_METRIC_NAMES },
        });
      }
    }),
    type: z.enum(METRIC_TYPES).optional(),
    enabled: z.boolean().default(true),
    description: z.string().optional(),
  })
  .superRefine((m, ctx) => {
    const e = catalogEntry(m.name);
    if (e !== undefined && m.type !== undefined && m.type !== e.kind) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `${m.name} is a ${e.kind}, not a ${m.type}` });
    }
  });

export const applicationMetric = z
  .strictObject({
    name: z.string().regex(METRIC_NAME, 'metric names use letters, digits and underscores'),
    type: z.enum(METRIC_TYPES).optional(),
    description: z.string().optional(),
    labels: z.array(labelName).optional(),
    buckets: z
      .array(z.number().finite())
      .min(1)
      .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]!), 'buckets must be strictly increasing')
      .optional(),
    enabled: z.boolean().default(true),
  })
  .superRefine((m, ctx) => {
    const e = catalogEntry(m.name);
    if (inOtherList(e, 'application_metrics', 'an application metric', ctx)) return;
    if (e === undefined && m.type === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: 'a custom metric needs a type (gauge, counter or histogram)',
      });
    }
    if (e !== undefined && m.type !== undefined && m.type !== e.kind) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `${m.name} is a ${e.kind}, not a ${m.type}` });
    }
    if (m.buckets !== undefined && (m.type ?? e?.kind) !== 'histogram') {
      ctx.addIssue({ code: 'custom', path: ['buckets'], message: 'only histograms have buckets' });
    }
  });

const neo4jQuery = z.strictObject({
  name: z.string().regex(METRIC_NAME, 'metric names use letters, digits and underscores'),
  type: z.enum(METRIC_TYPES).default('gauge'),
  query: z.string().min(1).optional(),
  description: z.string().optional(),
  labels: z.array(labelName).optional(),
  value_column: z.string().optional(),
  timeout: durationField({ min: 1 }).optional(),
  enabled: z.boolean().default(true),
});

/** A configured Neo4j query: a catalog metric (toggle, or its source replaced) or a custom gauge/counter. */
function checkNeo4jQuery(
  q: { name: string; type: string; query?: string; labels?: readonly string[] },
  ctx: z.RefinementCtx,
): void {
  const e = catalogEntry(q.name);
  if (inOtherList(e, 'neo4j_metrics', 'a Neo4j metric', ctx)) return;
  if (e === undefined && q.query === undefined)
    ctx.addIssue({ code: 'custom', path: ['query'], message: 'a custom Neo4j metric needs a query' });
  if (e === undefined && q.type === 'histogram')
    ctx.addIssue({ code: 'custom', path: ['type'], message: 'a Neo4j query gives a gauge or a counter' });
}

export const neo4jSection = z.strictObject({
  uri: z.string().default('bolt://localhost:7687'),
  user: text().default('neo4j'),
  password: text().optional(),
  database: text().default('neo4j'),
  max_connection_pool_size: z.number().int().min(1).default(5),
  connection_timeout: durationField({ min: 1 }).default(duration(5000)),
  query_timeout: durationField({ min: 1 }).default(duration(5000)),
  collection_interval: durationField({ min: 100 }).optional(),
  queries: uniqueByName(neo4jQuery.superRefine(checkNeo4jQuery)).default([]),
  query_stats_interval: durationField({ min: 100 }).default(duration(60_000)),
});

export const systemSection = z.strictObject({
  proc_path: z.string().min(1).default('/proc'),
  sys_path: z.string().min(1).default('/sys'),
  rootfs_path: z.string().min(1).default('/'),
  exclude_mount_points: regexText.optional(),
  exclude_fs_types: regexText.optional(),
  exclude_devices: regexText.optional(),
  exclude_interfaces: regexText.optional(),
  probe_timeout: durationField({ min: 10 }).optional(),
});
