/** The exposure sections of `performance_monitor`: the Prometheus endpoint (with TLS and basic auth) and OTLP export. */
import { z } from 'zod';
import { duration, durationField, labelName, text } from './schema-fields.js';

const tlsSection = z.strictObject({
  cert_file: z.string().min(1),
  key_file: z.string().min(1),
  client_ca_file: z.string().min(1).optional(),
  min_version: z.enum(['TLS12', 'TLS13']).default('TLS12'),
});

/**
 * A bcrypt hash of cost 4 to 14. One check of cost 14 takes about a second in bcryptjs; a higher cost would
 * hold the password-check thread long enough to keep new logins out (a remembered login costs nothing).
 */
const BCRYPT_HASH = /^\$2[abxy]?\$(0[4-9]|1[0-4])\$[./A-Za-z0-9]{53}$/;

export const prometheusSection = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9091),
  metric_prefix: z
    .string()
    .regex(/^$|^[a-zA-Z_][a-zA-Z0-9_]*$/, 'the prefix uses letters, digits and underscores')
    .default('multi_agent_system'),
  default_labels: z
    .record(labelName, z.union([z.string(), z.number()]).transform(String))
    .superRefine((labels, ctx) => {
      for (const reserved of ['job', 'le', 'quantile']) {
        if (reserved in labels) {
          ctx.addIssue({
            code: 'custom',
            path: [reserved],
            message: `${JSON.stringify(reserved)} is reserved by Prometheus; pick another label name`,
          });
        }
      }
    })
    .default({}),
  tls: tlsSection.optional(),
  basic_auth_users: z
    .record(
      z.string().min(1).max(256),
      z
        .string()
        .regex(BCRYPT_HASH, 'expected a bcrypt hash of cost 4 to 14 (htpasswd -nBC 10 "" | tr -d \':\\n\')'),
    )
    .optional(),
  request_timeout: durationField({ min: 100 }).default(duration(10_000)),
  /**
   * Every histogram also keeps exponential (native) buckets, served with the classic ones in the protobuf
   * exposition format to a scraper that asks for it (Prometheus with the native-histograms feature).
   */
  native_histograms: z.boolean().default(false),
});

export const otlpSection = z.strictObject({
  enabled: z.boolean().optional(),
  endpoint: z.string().url('expected a URL such as http://localhost:4318/v1/metrics').optional(),
  headers: z.record(z.string().min(1), text()).default({}),
  timeout: durationField({ min: 100 }).optional(),
  compression: z.enum(['gzip', 'none']).optional(),
  export_interval: durationField({ min: 100 }).optional(),
  /** Histograms over OTLP: explicit buckets (the catalog's), or exponential (base-2, up to 160 buckets). */
  histograms: z.enum(['explicit', 'exponential']).default('explicit'),
  /** prometheus (default): the names of /metrics; semconv: OpenTelemetry semantic conventions (catalog/semconv.ts). */
  naming: z.enum(['prometheus', 'semconv']).optional(),
});

/**
 * Exemplars: a histogram measurement made in a sampled OpenTelemetry span keeps its trace and span id, one per
 * bucket per collection interval, shown on /metrics to OpenMetrics scrapers.
 */
export const exemplarsSection = z.strictObject({
  enabled: z.boolean().default(true),
});
