import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../../src/agent/load-config.js';
import { defaultConfigPath } from '../../../src/config/load.js';
import type { Env } from '../../../src/config/load.js';
import type { AgentConfig } from '../../../src/config/schema.js';
import { DEFAULT_CONFIG, INVALID_FIXTURES, SEED_EXAMPLE, configErrorOf, invalidFixture } from './helpers.js';

/** One expected issue: where it is (1-based line and column, counted by hand in the fixture) and what it says. */
interface ExpectedIssue {
  path: string;
  line: number | undefined;
  column: number | undefined;
  /** A substring of the message. */
  message: string;
}

function issue(path: string, line: number, column: number, message: string): ExpectedIssue {
  return { path, line, column, message };
}

interface InvalidCase {
  fixture: string;
  code?: 'E_CONFIG_INVALID' | 'E_CONFIG_PARSE';
  env?: Env;
  issues: ExpectedIssue[];
}

const PM = 'performance_monitor';
const RULES = `${PM}.alerting.rules`;
const CHANNELS = `${PM}.alerting.notifications.channels`;
const APP = `${PM}.application_metrics`;

/** One fixture per rule the loader enforces, in test/fixtures/config/invalid/. */
const INVALID: InvalidCase[] = [
  // Structure
  {
    fixture: 'unknown-key-top-level.yaml',
    issues: [issue('trend_analyss', 4, 1, 'unknown key "trend_analyss" (did you mean "trend_analysis"?)')],
  },
  {
    fixture: 'unknown-key-nested.yaml',
    issues: [
      issue(
        `${PM}.prometheus.metric_prefx`,
        5,
        5,
        'unknown key "metric_prefx" (did you mean "metric_prefix"?)',
      ),
      issue(`${PM}.xyzzy`, 6, 3, 'unknown key "xyzzy"'),
    ],
  },
  {
    fixture: 'wrong-type.yaml',
    issues: [
      issue(`${PM}.neo4j_metrics.max_connection_pool_size`, 4, 31, 'expected a number, got a list'),
      issue(`${PM}.prometheus.enabled`, 6, 14, 'expected a boolean (true or false), got a string'),
      issue('logging.max_bytes', 8, 14, 'expected a whole number, got a number'),
    ],
  },
  {
    fixture: 'section-not-a-mapping.yaml',
    issues: [
      issue(PM, 2, 21, 'expected a mapping, got null'),
      issue('logging', 3, 10, 'expected a mapping, got a string'),
    ],
  },
  {
    fixture: 'enum-value.yaml',
    issues: [
      issue(
        `${PM}.enabled_collectors[1]`,
        3,
        32,
        'expected one of "system", "application", "neo4j", got "applicaton" (did you mean "application"?)',
      ),
      issue(`${RULES}[0].severity`, 10, 19, 'got "critcal" (did you mean "critical"?)'),
      issue('trend_analysis.anomaly_detection.algorithm', 13, 16, 'got "zscor" (did you mean "zscore"?)'),
    ],
  },
  {
    fixture: 'number-out-of-range.yaml',
    issues: [
      issue(`${PM}.prometheus.port`, 4, 11, 'must be <= 65535, got 70000'),
      issue(`${PM}.neo4j_metrics.max_connection_pool_size`, 6, 31, 'must be >= 1, got 0'),
      issue('trend_analysis.storage.retention_days', 9, 21, 'must be > 0, got 0'),
      issue('logging.backup_count', 11, 17, 'must be >= 0, got -1'),
    ],
  },
  // Durations
  {
    fixture: 'bad-duration.yaml',
    issues: [
      issue(`${PM}.collection_interval`, 3, 24, 'invalid duration "5x"'),
      issue(`${PM}.neo4j_metrics.query_timeout`, 5, 20, 'invalid duration "-1s"'),
      issue(`${PM}.alerting.evaluation_interval`, 7, 26, 'invalid duration ""'),
    ],
  },
  {
    fixture: 'duration-out-of-range.yaml',
    issues: [
      issue(`${PM}.collection_interval`, 3, 24, 'must be at most 1h'),
      issue(`${PM}.prometheus.request_timeout`, 5, 22, 'must be at least 100ms'),
    ],
  },
  // Metrics
  {
    fixture: 'unknown-system-metric.yaml',
    issues: [
      issue(
        `${PM}.system_metrics[1].name`,
        5,
        13,
        'unknown system metric "memory_percnt" (did you mean "memory_percent"?)',
      ),
    ],
  },
  {
    fixture: 'metric-type-mismatch.yaml',
    issues: [
      issue(`${PM}.system_metrics[0].type`, 4, 41, 'network_bytes_sent is a counter, not a gauge'),
      issue(`${APP}[0].type`, 6, 33, 'cache_size is a gauge, not a histogram'),
    ],
  },
  {
    fixture: 'application-metric-from-another-group.yaml',
    issues: [issue(`${APP}[0].name`, 4, 15, 'cpu_percent is a system metric, not an application metric')],
  },
  {
    fixture: 'bad-metric-name.yaml',
    issues: [
      issue(`${APP}[0].name`, 4, 15, 'metric names use letters, digits and underscores'),
      issue(`${PM}.prometheus.metric_prefix`, 6, 20, 'the prefix uses letters, digits and underscores'),
    ],
  },
  {
    fixture: 'duplicate-names.yaml',
    issues: [
      issue(`${PM}.enabled_collectors[2]`, 3, 45, '"system" is listed twice'),
      issue(`${PM}.system_metrics[1].name`, 6, 15, '"cpu_percent" is listed twice'),
      issue(`${APP}[1].name`, 9, 15, '"queue_length" is listed twice'),
      issue(`${PM}.neo4j_metrics.queries[1].name`, 13, 17, '"neo4j_node_count" is listed twice'),
      issue(`${RULES}[1].name`, 17, 17, '"high_cpu" is listed twice'),
    ],
  },
  {
    // The type key is absent, so the issue points at the metric's mapping.
    fixture: 'custom-metric-without-type.yaml',
    issues: [issue(`${APP}[0].type`, 4, 7, 'a custom metric needs a type (gauge, counter or histogram)')],
  },
  {
    fixture: 'buckets-on-non-histogram.yaml',
    issues: [
      issue(`${APP}[0].buckets`, 5, 16, 'only histograms have buckets'),
      issue(`${APP}[1].buckets`, 8, 16, 'only histograms have buckets'),
    ],
  },
  {
    fixture: 'non-increasing-buckets.yaml',
    issues: [
      issue(`${APP}[0].buckets`, 5, 16, 'buckets must be strictly increasing'),
      issue(`${APP}[1].buckets`, 8, 16, 'needs at least 1 item(s)'),
    ],
  },
  // Labels
  {
    fixture: 'reserved-default-label.yaml',
    issues: [
      issue(`${PM}.prometheus.default_labels.job`, 6, 12, '"job" is reserved by Prometheus'),
      issue(`${PM}.prometheus.default_labels.le`, 7, 11, '"le" is reserved by Prometheus'),
    ],
  },
  {
    fixture: 'label-collision.yaml',
    issues: [
      issue(
        `${PM}.prometheus.default_labels.device`,
        5,
        15,
        '"device" is already a label of disk_io_read_bytes',
      ),
      issue(`${PM}.application_metrics[0].labels[1]`, 9, 28, '"team" is an identity label on every series'),
    ],
  },
  {
    fixture: 'bad-label-name.yaml',
    issues: [
      issue(`${APP}[0].labels[1]`, 4, 58, 'do not start with a digit'),
      // A bad key of a mapping is reported at the key itself.
      issue(`${PM}.prometheus.default_labels.__meta`, 7, 7, 'label names starting with __ are reserved'),
    ],
  },
  // System section and cross-field rules
  {
    fixture: 'bad-regex.yaml',
    issues: [issue(`${PM}.system.exclude_mount_points`, 4, 27, 'not a valid regular expression')],
  },
  {
    fixture: 'probe-timeout-exceeds-interval.yaml',
    issues: [issue(`${PM}.system.probe_timeout`, 5, 20, 'must not exceed collection_interval (10s)')],
  },
  {
    fixture: 'otlp-export-interval-too-short.yaml',
    issues: [issue(`${PM}.otlp.export_interval`, 6, 22, 'must be at least collection_interval (1m)')],
  },
  {
    fixture: 'bad-url.yaml',
    issues: [issue(`${PM}.otlp.endpoint`, 4, 15, 'expected a URL such as http://localhost:4318/v1/metrics')],
  },
  {
    fixture: 'otlp-enabled-without-endpoint.yaml',
    env: {},
    issues: [issue(`${PM}.otlp.enabled`, 4, 14, 'OTLP export is enabled but no endpoint is set')],
  },
  {
    fixture: 'tls-without-key-file.yaml',
    issues: [issue(`${PM}.prometheus.tls.key_file`, 5, 7, 'is required')],
  },
  {
    fixture: 'bad-bcrypt-hash.yaml',
    issues: [issue(`${PM}.prometheus.basic_auth_users.prometheus`, 5, 19, 'expected a bcrypt hash')],
  },
  {
    fixture: 'bcrypt-cost-too-high.yaml',
    issues: [issue(`${PM}.prometheus.basic_auth_users.prometheus`, 5, 19, 'of cost 4 to 14')],
  },
  // Alerting
  {
    fixture: 'webhook-channel-without-url.yaml',
    issues: [
      issue(`${CHANNELS}[1].url`, 7, 11, 'a webhook channel needs a url'),
      issue(`${CHANNELS}[2].url`, 10, 16, 'expected url'),
    ],
  },
  {
    fixture: 'kafka-channel-without-brokers-topic.yaml',
    issues: [
      issue(`${CHANNELS}[0].topic`, 6, 11, 'a kafka channel needs a topic'),
      issue(`${CHANNELS}[0].brokers`, 7, 20, 'a kafka channel needs brokers'),
    ],
  },
  {
    fixture: 'rule-unknown-metric.yaml',
    issues: [
      issue(
        `${RULES}[0].metric`,
        6,
        17,
        'rule high_cpu_usage: unknown metric "cpu_precent" (did you mean "cpu_percent"?)',
      ),
      issue(`${RULES}[1].metric`, 10, 17, 'rule queue_backlog: unknown metric "my_queue_depth"'),
    ],
  },
  {
    fixture: 'rule-field-errors.yaml',
    issues: [
      issue(`${RULES}[0].duration`, 9, 19, 'rule bad_for: invalid duration "5 minutes"'),
      issue(`${RULES}[1].condition`, 12, 20, 'rule bad_condition: expected one of ">"'),
      issue(`${RULES}[2].keep_firing_for`, 18, 26, 'rule bad_keep_firing: invalid duration "soon"'),
    ],
  },
  {
    fixture: 'rule-expression-errors.yaml',
    issues: [
      issue(`${RULES}[0].metric`, 7, 17, 'rule cpu_typo: unknown metric "cpu_percnt"'),
      issue(`${RULES}[1].aggregation`, 12, 22, 'rule max_of_histogram: max is not defined on histogram'),
      issue(`${RULES}[2].message`, 19, 18, 'rule bad_template: unsupported template action'),
    ],
  },
  {
    fixture: 'rule-missing-fields.yaml',
    issues: [
      issue(`${RULES}[0].condition`, 5, 9, 'is required'),
      issue(`${RULES}[0].threshold`, 5, 9, 'is required'),
    ],
  },
  {
    fixture: 'bad-aggregation.yaml',
    issues: [issue(`${RULES}[0].aggregation`, 7, 22, 'expected last, mean, max, min, p50, p90, p95, p99')],
  },
  {
    fixture: 'resolve-threshold-wrong-side.yaml',
    issues: [
      issue(`${RULES}[0].resolve_threshold`, 9, 28, 'healthy side of the threshold (condition > 85)'),
      issue(`${RULES}[1].resolve_threshold`, 14, 28, 'healthy side of the threshold (condition < 1000)'),
      issue(`${RULES}[2].resolve_threshold`, 19, 28, 'needs a condition of >, >=, < or <= (not !=)'),
    ],
  },
  // Trend analysis
  {
    fixture: 'prometheus-trend-backend-without-url.yaml',
    issues: [issue('trend_analysis.storage.url', 5, 5, 'the prometheus backend needs the url')],
  },
  // YAML itself
  {
    fixture: 'invalid-yaml-syntax.yaml',
    code: 'E_CONFIG_PARSE',
    issues: [issue('', 4, 3, 'Implicit map keys need to be followed by map values')],
  },
  {
    fixture: 'tab-indentation.yaml',
    code: 'E_CONFIG_PARSE',
    issues: [issue('', 3, 1, 'Tabs are not allowed as indentation')],
  },
  {
    fixture: 'duplicate-yaml-key.yaml',
    code: 'E_CONFIG_PARSE',
    issues: [issue('', 6, 5, 'Map keys must be unique')],
  },
  {
    fixture: 'unresolved-alias.yaml',
    code: 'E_CONFIG_PARSE',
    issues: [{ path: '', line: 3, column: 15, message: 'Unresolved alias' }],
  },
  {
    // Points at the list, below the comment line.
    fixture: 'top-level-not-mapping.yaml',
    issues: [issue('', 2, 1, 'the top level must be a mapping with a performance_monitor: section')],
  },
  // Environment
  {
    // The port's own type error (an empty string) is not reported on top of the unset variable.
    fixture: 'unset-env-var.yaml',
    env: {},
    issues: [
      issue(
        `${PM}.neo4j_metrics.password`,
        4,
        15,
        'environment variable PERF_MONITOR_TEST_UNSET_PASSWORD is not set (write ${PERF_MONITOR_TEST_UNSET_PASSWORD:-default}',
      ),
      issue(`${PM}.prometheus.port`, 6, 11, 'environment variable PERF_MONITOR_TEST_UNSET_PORT is not set'),
    ],
  },
];

/** Parses inline YAML; the file name only appears in messages. */
function parse(text: string, env: Env = {}): AgentConfig {
  return parseConfigText(text, 'inline.yaml', env);
}

function parseErrors(text: string, env: Env = {}) {
  return configErrorOf(() => parse(text, env));
}

describe('loadConfigFile', () => {
  describe('the shipped configurations', () => {
    it('should find the packaged default config', () => {
      expect(path.resolve(defaultConfigPath())).toBe(path.resolve(DEFAULT_CONFIG));
    });

    it('should load the packaged default config with its defaults when no variable is set', async () => {
      const { config, file } = await loadConfigFile(DEFAULT_CONFIG, {});
      const pm = config.performance_monitor;
      expect(file).toBe(DEFAULT_CONFIG);
      expect(pm.collection_interval).toEqual({ ms: 15_000, text: '15s' });
      expect(pm.enabled_collectors).toEqual(['system', 'application']);
      expect(pm.system).toEqual({ proc_path: '/proc', sys_path: '/sys', rootfs_path: '/' });
      expect(pm.system_metrics).toHaveLength(21);
      expect(pm.application_metrics).toHaveLength(29); // 14 of the seed + 6 runtime + 7 process + 2 outgoing HTTP
      expect(pm.neo4j_metrics.queries).toHaveLength(29); // the seed's 13 + 16 of server health
      expect(pm.neo4j_metrics.password).toBe('');
      expect(pm.prometheus.host).toBe('127.0.0.1');
      expect(pm.prometheus.port).toBe(9091);
      expect(pm.prometheus.metric_prefix).toBe('multi_agent_system');
      expect(pm.prometheus.default_labels).toEqual({ environment: 'development' });
      expect(pm.otlp.enabled).toBeUndefined();
      expect(pm.otlp.endpoint).toBeUndefined();
      expect(pm.alerting.rules).toHaveLength(14);
      expect(pm.alerting.rules.map((r) => r.name)).toContain('slow_neo4j_queries');
      expect(pm.alerting.rules.find((r) => r.name === 'neo4j_gc_overhead')).toMatchObject({
        metric: 'neo4j_jvm_gc_time_seconds',
        aggregation: 'rate_5m',
        threshold: 0.1,
      });
      expect(pm.alerting.rules[0]).toMatchObject({
        name: 'high_cpu_usage',
        metric: 'cpu_percent',
        condition: '>',
        threshold: 85,
        duration: { ms: 300_000, text: '5m' },
        severity: 'warning',
      });
      // The daemon keeps history and scores anomalies out of the box, in its state directory (agent/paths.ts).
      expect(config.trend_analysis.enabled).toBe(true);
      expect(config.trend_analysis.anomaly_detection.enabled).toBe(true);
      expect(config.trend_analysis.storage.path).toBeUndefined();
      expect(pm.alerting.state_file).toBeUndefined();
      expect(pm.alerting.notifications.store_path).toBeUndefined();
      expect(config.logging).toEqual({
        level: 'info',
        format: 'text',
        max_bytes: 10_485_760,
        backup_count: 5,
      });
    });

    it('should take the default config values from the environment when set', async () => {
      const { config } = await loadConfigFile(DEFAULT_CONFIG, {
        PERF_MONITOR_INTERVAL: '5s',
        PERF_MONITOR_PORT: '9100',
        PERF_MONITOR_PROC_PATH: '/host/proc',
        NEO4J_PASSWORD: 'from-env',
        ENVIRONMENT: 'production',
        PERF_MONITOR_LOG_LEVEL: 'debug',
      });
      const pm = config.performance_monitor;
      expect(pm.collection_interval).toEqual({ ms: 5000, text: '5s' });
      expect(pm.prometheus.port).toBe(9100);
      expect(pm.system.proc_path).toBe('/host/proc');
      expect(pm.neo4j_metrics.password).toBe('from-env');
      expect(pm.prometheus.default_labels).toEqual({ environment: 'production' });
      expect(config.logging.level).toBe('debug');
    });

    it('should load the seed example unchanged and fill in the defaults it leaves out', async () => {
      const { config } = await loadConfigFile(SEED_EXAMPLE, {});
      const pm = config.performance_monitor;
      // What the file says
      expect(pm.collection_interval).toEqual({ ms: 30_000, text: '30s' });
      expect(pm.enabled_collectors).toEqual(['system', 'application', 'neo4j']);
      expect(pm.system_metrics).toEqual([{ name: 'cpu_percent', type: 'gauge', enabled: true }]);
      expect(pm.application_metrics).toEqual([
        {
          name: 'agent_execution_time',
          type: 'histogram',
          labels: ['agent_name', 'status'],
          buckets: [0.1, 1, 5, 10],
          enabled: true,
        },
      ]);
      expect(pm.neo4j_metrics).toMatchObject({
        uri: 'bolt://localhost:7687',
        user: 'neo4j',
        password: 'password',
        database: 'neo4j',
      });
      expect(pm.prometheus).toMatchObject({
        host: '0.0.0.0',
        port: 9091,
        metric_prefix: 'multi_agent_system',
      });
      expect(pm.prometheus.default_labels).toEqual({ environment: 'development', instance: 'localhost' });
      expect(pm.alerting.rules).toHaveLength(1);
      expect(pm.alerting.rules[0]!.duration).toEqual({ ms: 300_000, text: '5m' });
      expect(config.trend_analysis).toMatchObject({
        enabled: true,
        storage: { backend: 'file', path: 'logs/metrics_history', retention_days: 30 },
        anomaly_detection: { enabled: true, algorithm: 'zscore', sensitivity: 2, min_samples: 100 },
      });
      // Defaults where the file is silent
      expect(pm.system).toEqual({ proc_path: '/proc', sys_path: '/sys', rootfs_path: '/' });
      expect(pm.neo4j_metrics.max_connection_pool_size).toBe(5);
      expect(pm.neo4j_metrics.connection_timeout).toEqual({ ms: 5000, text: '5s' });
      expect(pm.neo4j_metrics.query_timeout).toEqual({ ms: 5000, text: '5s' });
      expect(pm.neo4j_metrics.queries[0]).toMatchObject({ name: 'neo4j_query_duration_p95', enabled: true });
      expect(pm.prometheus.enabled).toBe(true);
      expect(pm.prometheus.request_timeout).toEqual({ ms: 10_000, text: '10s' });
      expect(pm.prometheus.tls).toBeUndefined();
      expect(pm.prometheus.basic_auth_users).toBeUndefined();
      expect(pm.otlp).toEqual({ headers: {}, histograms: 'explicit' });
      expect(pm.prometheus.native_histograms).toBe(false);
      expect(pm.alerting.rules[0]).toMatchObject({ enabled: true, severity: 'warning' });
      expect(pm.alerting.notifications.channels).toEqual([{ type: 'log', level: 'warning', enabled: true }]);
      expect(config.logging).toEqual({
        level: 'info',
        format: 'text',
        max_bytes: 10 * 1024 * 1024,
        backup_count: 5,
      });
    });

    it('should take the seed example variables from the environment', async () => {
      const { config } = await loadConfigFile(SEED_EXAMPLE, {
        NEO4J_URI: 'neo4j://db:7687',
        NEO4J_PASSWORD: 'from-env',
        HOSTNAME: 'box-1',
      });
      expect(config.performance_monitor.neo4j_metrics).toMatchObject({
        uri: 'neo4j://db:7687',
        password: 'from-env',
      });
      expect(config.performance_monitor.prometheus.default_labels.instance).toBe('box-1');
    });

    it('should give a complete configuration for an empty file', () => {
      const config = parse('');
      expect(config.performance_monitor.collection_interval).toEqual({ ms: 30_000, text: '30s' });
      expect(config.performance_monitor.prometheus).toMatchObject({
        enabled: true,
        host: '127.0.0.1',
        port: 9091,
      });
      expect(config.performance_monitor.alerting.rules).toEqual([]);
    });
  });

  describe('invalid files', () => {
    it('should have one table entry for every fixture in test/fixtures/config/invalid', () => {
      const listed = [...INVALID.map((c) => c.fixture), 'many-mistakes.yaml'].sort();
      expect(fs.readdirSync(INVALID_FIXTURES).sort()).toEqual(listed);
    });

    it.each(INVALID)('should reject $fixture with its exact issues', async (c) => {
      const file = invalidFixture(c.fixture);
      const err = await configErrorOf(() => loadConfigFile(file, c.env ?? {}));
      expect(err.code).toBe(c.code ?? 'E_CONFIG_INVALID');
      expect(err.issues).toEqual(
        c.issues.map((i) => ({
          file,
          path: i.path,
          line: i.line,
          column: i.column,
          message: expect.stringContaining(i.message) as unknown,
        })),
      );
    });

    it('should report every independent mistake at once, sorted by line', async () => {
      const file = invalidFixture('many-mistakes.yaml');
      const err = await configErrorOf(() => loadConfigFile(file, {}));
      expect(err.issues.map((i) => [i.line, i.column, i.path])).toEqual([
        [3, 10, 'logging.level'],
        [7, 11, `${PM}.prometheus.port`],
        [8, 5, `${PM}.prometheus.prot`],
        [10, 22, `${PM}.system.exclude_devices`],
        [12, 15, `${PM}.system_metrics[0].name`],
        [15, 35, `${RULES}[0].metric`],
        [18, 5, 'trend_analysis.storage.url'],
      ]);
      expect(err.issues[5]!.message).toBe(
        'rule high_cpu: unknown metric "memory_percnt" (did you mean "memory_percent"?)',
      );
      expect(err.message).toBe(
        `${file}:3:10: logging.level: expected one of "debug", "info", "warning", "warn", "error", "critical", got "verbose" (and 6 more)`,
      );
    });

    it('should not suggest anything for an unknown key that resembles no known key', async () => {
      const err = await parseErrors('performance_monitor:\n  xyzzy: 1\n');
      expect(err.issues).toHaveLength(1);
      expect(err.issues[0]!.message).toBe('unknown key "xyzzy"');
    });

    it('should suggest the right spelling for a value that differs only in case', async () => {
      const err = await parseErrors('performance_monitor:\n  enabled_collectors: [Neo4j]\n');
      expect(err.issues[0]!.message).toContain('got "Neo4j" (did you mean "neo4j"?)');
    });

    it('should report an unknown rule metric even when an unrelated section is wrong too', async () => {
      const err = await parseErrors(
        [
          'logging: {level: loud}',
          'performance_monitor:',
          '  alerting:',
          '    rules: [{name: r, metric: cpu_pct, condition: ">", threshold: 1}]',
        ].join('\n'),
      );
      expect(err.issues.map((i) => i.path)).toEqual(['logging.level', `${RULES}[0].metric`]);
    });

    it('should accept rule metrics by exported name, custom application metric and Neo4j query name', () => {
      const config = parse(
        [
          'performance_monitor:',
          '  application_metrics: [{name: jobs_done, type: counter}]',
          '  neo4j_metrics:',
          '    queries: [{name: orders_open, query: "MATCH (o:Order) RETURN count(o)"}]',
          '  alerting:',
          '    rules:',
          '      - {name: few_cores, metric: cpu_cores, condition: "<", threshold: 2}',
          '      - {name: no_jobs, metric: jobs_done, aggregation: rate_5m, condition: "==", threshold: 0}',
          '      - {name: backlog, metric: orders_open, condition: ">", threshold: 100, resolve_threshold: 80}',
        ].join('\n'),
      );
      expect(config.performance_monitor.alerting.rules.map((r) => r.metric)).toEqual([
        'cpu_cores',
        'jobs_done',
        'orders_open',
      ]);
    });

    it('should load with OTLP enabled when the endpoint comes from the standard variables', () => {
      const text = fs.readFileSync(invalidFixture('otlp-enabled-without-endpoint.yaml'), 'utf8');
      expect(
        parse(text, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).performance_monitor.otlp,
      ).toMatchObject({ enabled: true });
      expect(
        parse(text, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4318/v1/metrics' })
          .performance_monitor.otlp.enabled,
      ).toBe(true);
    });

    it('should take otlp.naming prometheus or semconv, and name the key for anything else', async () => {
      const otlp = (naming: string): string =>
        `performance_monitor:\n  otlp:\n    endpoint: http://collector:4318/v1/metrics\n    naming: ${naming}\n`;
      expect(parse(otlp('semconv')).performance_monitor.otlp.naming).toBe('semconv');
      expect(parse(otlp('prometheus')).performance_monitor.otlp.naming).toBe('prometheus');
      const err = await parseErrors(otlp('otel'));
      expect(err.issues.map((i) => i.path)).toEqual([`${PM}.otlp.naming`]);
      expect(err.issues[0]!.message).toContain('"semconv"');
    });

    it('should not count an empty OTEL_EXPORTER_OTLP_ENDPOINT as an endpoint', async () => {
      const text = fs.readFileSync(invalidFixture('otlp-enabled-without-endpoint.yaml'), 'utf8');
      const err = await parseErrors(text, { OTEL_EXPORTER_OTLP_ENDPOINT: '' });
      expect(err.issues.map((i) => i.path)).toEqual([`${PM}.otlp.enabled`]);
    });

    it('should name the file in a read error', async () => {
      const missing = path.join(INVALID_FIXTURES, 'does-not-exist.yaml');
      const err = await configErrorOf(() => loadConfigFile(missing, {}));
      expect(err.code).toBe('E_CONFIG_READ');
      expect(err.issues).toEqual([{ file: missing, path: '', message: 'no such file' }]);
      expect(err.message).toBe(`${missing}: no such file`);
    });

    it('should say so when the path is a directory', async () => {
      const err = await configErrorOf(() => loadConfigFile(INVALID_FIXTURES, {}));
      expect(err.code).toBe('E_CONFIG_READ');
      expect(err.issues[0]!.message).toBe('is a directory');
    });

    it('should refuse an alias bomb as a parse error', async () => {
      const text = [
        'a: &a [x, x, x, x, x, x, x, x, x, x]',
        'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
        'c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      ].join('\n');
      const err = await parseErrors(text);
      expect(err.code).toBe('E_CONFIG_PARSE');
      expect(err.issues[0]!.message).toContain('Excessive alias count');
    });
  });

  describe('environment expansion', () => {
    const prefixOf = (text: string, env: Env) =>
      parse(`performance_monitor:\n  prometheus:\n    metric_prefix: ${text}\n`, env).performance_monitor
        .prometheus.metric_prefix;

    it('should replace ${VAR} with its value', () => {
      expect(prefixOf('${P}', { P: 'acme' })).toBe('acme');
      expect(prefixOf("'${A}_${B}'", { A: 'acme', B: 'prod' })).toBe('acme_prod');
    });

    it('should use the default of ${VAR:-d} when the variable is unset or empty', () => {
      expect(prefixOf('${P:-fallback}', {})).toBe('fallback');
      expect(prefixOf('${P:-fallback}', { P: '' })).toBe('fallback');
      expect(prefixOf('${P:-fallback}', { P: 'set' })).toBe('set');
    });

    it('should use the default of ${VAR-d} only when the variable is unset', () => {
      expect(prefixOf('${P-fallback}', {})).toBe('fallback');
      expect(prefixOf("'${P-fallback}'", { P: '' })).toBe('');
      expect(prefixOf('${P-fallback}', { P: 'set' })).toBe('set');
    });

    it('should allow an empty default', () => {
      expect(prefixOf("'${P:-}'", {})).toBe('');
    });

    it('should turn $$ into a literal $ and not expand what follows it', () => {
      const config = parse('performance_monitor:\n  service_name: "cost$$5 $${HOME} ${USER}"\n', {
        HOME: '/root',
        USER: 'ops',
      });
      expect(config.performance_monitor.service_name).toBe('cost$5 ${HOME} ops');
    });

    it('should accept a bcrypt hash written with $$ as well as a plain one', () => {
      const hash = '$2b$04$x9n5zyJmkmSXMt8gNWHIcOMaOQofdEoUOj8TPWsvIYFNvp8/LrkQ.';
      const config = parse(
        [
          'performance_monitor:',
          '  prometheus:',
          '    basic_auth_users:',
          `      escaped: '${hash.replaceAll('$', '$$$$')}'`,
          `      plain: '${hash}'`,
        ].join('\n'),
      );
      expect(config.performance_monitor.prometheus.basic_auth_users).toEqual({ escaped: hash, plain: hash });
    });

    it('should give an unquoted expansion the type of its text: number or boolean', () => {
      const text = [
        'performance_monitor:',
        '  prometheus:',
        '    port: ${P:-9091}',
        '    enabled: ${E:-false}',
        '  neo4j_metrics:',
        '    max_connection_pool_size: ${POOL}',
        'trend_analysis:',
        '  anomaly_detection:',
        '    sensitivity: ${S:-2.5}',
      ].join('\n');
      const defaults = parse(text, { POOL: '7' });
      expect(defaults.performance_monitor.prometheus.port).toBe(9091);
      expect(defaults.performance_monitor.prometheus.enabled).toBe(false);
      expect(defaults.performance_monitor.neo4j_metrics.max_connection_pool_size).toBe(7);
      expect(defaults.trend_analysis.anomaly_detection.sensitivity).toBe(2.5);
      const fromEnv = parse(text, { P: '9100', E: 'true', POOL: '3', S: '1e1' });
      expect(fromEnv.performance_monitor.prometheus.port).toBe(9100);
      expect(fromEnv.performance_monitor.prometheus.enabled).toBe(true);
      expect(fromEnv.trend_analysis.anomaly_detection.sensitivity).toBe(10);
    });

    it('should keep a quoted expansion a string, which then fails as a port', async () => {
      const text = "performance_monitor:\n  prometheus:\n    port: '${P:-9091}'\n";
      const err = await parseErrors(text);
      expect(err.issues).toEqual([
        {
          file: 'inline.yaml',
          path: `${PM}.prometheus.port`,
          message: 'expected a number, got a string',
          line: 3,
          column: 11,
        },
      ]);
    });

    it('should keep a quoted numeric value a string where a string is expected', () => {
      const config = parse("performance_monitor:\n  neo4j_metrics:\n    user: '${U}'\n", { U: '1234' });
      expect(config.performance_monitor.neo4j_metrics.user).toBe('1234');
    });

    it('should report an unset variable even inside a quoted value, once per value', async () => {
      const err = await parseErrors('performance_monitor:\n  service_name: "${A}-${B}"\n');
      expect(err.issues).toEqual([
        {
          file: 'inline.yaml',
          path: `${PM}.service_name`,
          message: 'environment variable A is not set (write ${A:-default} to give a default)',
          line: 2,
          column: 17,
        },
      ]);
    });

    it('should locate an unset variable inside a list item', async () => {
      const err = await parseErrors(
        'performance_monitor:\n  enabled_collectors:\n    - system\n    - ${C}\n',
      );
      expect(err.issues.map((i) => [i.path, i.line, i.column])).toEqual([
        [`${PM}.enabled_collectors[1]`, 4, 7],
      ]);
    });

    it('should never echo a secret value from the environment in an error', async () => {
      const env = {
        NEO4J_PASSWORD: '918273645',
        HMAC: 'true',
        TOKEN: '31337',
        HASH: 'not-a-hash-but-a-password',
      };
      const err = await parseErrors(
        [
          'performance_monitor:',
          '  neo4j_metrics:',
          '    password: ${NEO4J_PASSWORD}',
          '  prometheus:',
          '    basic_auth_users:',
          '      admin: ${HASH}',
          '  otlp:',
          '    headers:',
          '      Authorization: ${TOKEN}',
          '  alerting:',
          '    notifications:',
          '      channels:',
          '        - type: webhook',
          '          url: http://hooks.example/alert',
          '          hmac_secret: ${HMAC}',
        ].join('\n'),
        env,
      );
      // Numeric and boolean secrets are text again after expansion; only the bad hash is an error.
      expect(err.issues.map((i) => i.path)).toEqual([`${PM}.prometheus.basic_auth_users.admin`]);
      const everything = `${err.message}\n${JSON.stringify(err.issues)}`;
      for (const secret of Object.values(env)) expect(everything).not.toContain(secret);
    });

    it('should read nothing from process.env when an env is given', () => {
      const name = Object.keys(process.env).find((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && process.env[k]);
      expect(name).toBeDefined();
      expect(prefixOf(`'\${${name!}:-from_given_env}'`, {})).toBe('from_given_env');
    });
  });

  describe('the result', () => {
    let config: AgentConfig;
    beforeEach(async () => {
      config = (await loadConfigFile(DEFAULT_CONFIG, {})).config;
    });

    it('should be deep-frozen', () => {
      const pm = config.performance_monitor;
      for (const part of [
        config,
        pm,
        pm.collection_interval,
        pm.prometheus.default_labels,
        pm.alerting.rules,
        pm.alerting.rules[0],
        pm.application_metrics[0]!.buckets,
        config.logging,
      ]) {
        expect(part).toBeTypeOf('object');
        expect(Object.isFrozen(part)).toBe(true);
      }
      expect(() => {
        (config.logging as { level: string }).level = 'debug';
      }).toThrow(TypeError);
      expect(() => {
        (pm.alerting.rules as unknown[]).push({});
      }).toThrow(TypeError);
      expect(() => {
        (pm.collection_interval as { ms: number }).ms = 1;
      }).toThrow(TypeError);
    });

    it('should be the same on a second load: freezing one result does not affect the next', async () => {
      const again = (await loadConfigFile(DEFAULT_CONFIG, {})).config;
      expect(again).toEqual(config);
      const first = parse('');
      const second = parse('');
      expect(second).toEqual(first);
      expect(second.performance_monitor.alerting.notifications.channels).toEqual([
        { type: 'log', enabled: true, level: 'warning' },
      ]);
    });
  });

  describe('files on disk', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-config-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('should report issues against the file name it was given', async () => {
      const file = path.join(dir, 'agent.yaml');
      fs.writeFileSync(file, 'logging:\n  format: xml\n');
      const err = await configErrorOf(() => loadConfigFile(file, {}));
      expect(err.issues).toEqual([
        {
          file,
          path: 'logging.format',
          message: 'expected one of "text", "json", got "xml"',
          line: 2,
          column: 11,
        },
      ]);
    });
  });
});

describe('unquoted environment values in text fields', () => {
  it('should keep a numeric or boolean secret as text', () => {
    const cfg = parseConfigText(
      'performance_monitor:\n  neo4j_metrics:\n    password: ${P}\n  otlp:\n    headers:\n      X-Key: ${K}\n',
      'env.yaml',
      { P: '918273645', K: 'true' },
    );
    expect(cfg.performance_monitor.neo4j_metrics.password).toBe('918273645');
    expect(cfg.performance_monitor.otlp.headers['X-Key']).toBe('true');
  });
});

describe('messages never echo secrets', () => {
  const messagesOf = async (text: string, env: Env): Promise<string> => {
    const err = await configErrorOf(() => parseConfigText(text, 'secret.yaml', env));
    return err.issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  };

  it('should not echo a value that came from an environment variable with a secret-looking name', async () => {
    const text = [
      'performance_monitor:',
      '  collection_interval: ${API_SECRET}',
      '  alerting:',
      '    notifications:',
      '      channels:',
      '        - type: kafka',
      '          brokers: [k:9092]',
      '          topic: alerts',
      '          sasl: { mechanism: "${KAFKA_TOKEN}", username: u, password: p }',
    ].join('\n');
    const messages = await messagesOf(text, { API_SECRET: 'sk-live-4242', KAFKA_TOKEN: 'tok-9f8e7d' });
    expect(messages).toContain('performance_monitor.collection_interval: invalid duration <redacted>');
    expect(messages).toContain('sasl.mechanism: expected one of "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"');
    expect(messages).not.toContain('sk-live-4242');
    expect(messages).not.toContain('tok-9f8e7d');
  });

  it('should still echo a value from an ordinary variable', async () => {
    const messages = await messagesOf('performance_monitor:\n  collection_interval: ${INTERVAL}\n', {
      INTERVAL: 'fast',
    });
    expect(messages).toContain('invalid duration "fast"');
  });

  it('should redact the credentials of a URL a message echoes', async () => {
    const messages = await messagesOf(
      'performance_monitor:\n  otlp:\n    compression: "https://u:hunter2@x.example/?token=abc123"\n',
      {},
    );
    expect(messages).toContain('got "https://<redacted>@x.example/?token=<redacted>"');
    expect(messages).not.toContain('hunter2');
    expect(messages).not.toContain('abc123');
  });
});

describe('work linear in the number of problems', () => {
  /**
   * Elements the Array search methods (some, find, indexOf, …) look at while `fn` runs: the way a loader
   * turns quadratic is a search through a whole mapping per key, which this counts without a clock.
   */
  function arrayScans(fn: () => void): number {
    const proto = Array.prototype as unknown as Record<
      string,
      (this: unknown[], ...args: unknown[]) => unknown
    >;
    const names = ['some', 'every', 'find', 'findIndex', 'indexOf', 'includes', 'filter'];
    const originals = names.map((n) => proto[n]!);
    let scanned = 0;
    names.forEach((n, i) => {
      proto[n] = function (this: unknown[], ...args: unknown[]) {
        scanned += this.length;
        return originals[i]!.apply(this, args);
      };
    });
    try {
      fn();
    } finally {
      names.forEach((n, i) => {
        proto[n] = originals[i]!;
      });
    }
    return scanned;
  }

  const unknownKeys = (n: number): string =>
    `performance_monitor:\n${Array.from({ length: n }, (_, i) => `  unknown_key_${i}: ${i}\n`).join('')}`;
  const badRules = (n: number): string =>
    `performance_monitor:\n  alerting:\n    rules:\n${Array.from(
      { length: n },
      (_, i) => `      - { name: r${i}, metric: cpu_percent, condition: ">", threshold: "\${T${i}}" }\n`,
    ).join('')}`;

  it.each([
    ['unknown keys in one mapping', unknownKeys],
    ['bad rules with environment references in one list', badRules],
  ])('should do twice the work for twice as many %s, not four times', (_what, generate) => {
    const work = (n: number): { scans: number; issues: number } => {
      let issues = 0;
      const scans = arrayScans(() => {
        try {
          parseConfigText(generate(n), 'big.yaml', {});
        } catch (err) {
          issues = (err as { issues: unknown[] }).issues.length;
        }
      });
      return { scans, issues };
    };
    const small = work(600);
    const large = work(1200);
    expect(small.issues).toBeGreaterThanOrEqual(600);
    expect(large.issues).toBe(2 * small.issues);
    expect(large.scans / small.scans).toBeLessThan(2.5);
  });

  it('should give "did you mean" hints to the first 1000 problems only, and list every problem', async () => {
    const keys = Array.from({ length: 1100 }, (_, i) => `  collection_interv${i}: 1\n`).join('');
    const err = await configErrorOf(() => parseConfigText(`performance_monitor:\n${keys}`, 'typos.yaml', {}));
    expect(err.issues).toHaveLength(1100);
    const hinted = err.issues.filter((i) => i.message.endsWith('(did you mean "collection_interval"?)'));
    expect(hinted).toHaveLength(1000);
  });

  it('should still report a key given twice in one mapping, at the second one', async () => {
    const err = await configErrorOf(() =>
      parseConfigText('performance_monitor:\n  prometheus:\n    port: 1\n    port: 2\n', 'dup.yaml', {}),
    );
    expect(err.code).toBe('E_CONFIG_PARSE');
    expect(err.issues).toEqual([
      { file: 'dup.yaml', path: '', message: 'Map keys must be unique', line: 4, column: 5 },
    ]);
  });
});
