import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { REDACTED, redactConfig } from '../../../src/config/redact.js';

const HASH = '$2b$04$x9n5zyJmkmSXMt8gNWHIcOMaOQofdEoUOj8TPWsvIYFNvp8/LrkQ.';

const ENV = {
  NEO4J_PASSWORD: 'neo4j-pw-from-env',
  OTLP_TOKEN: 'Bearer otlp-token-value',
  HMAC: 'hmac-secret-value',
};

const TEXT = [
  'performance_monitor:',
  '  collection_interval: 90',
  '  neo4j_metrics:',
  '    uri: bolt://db:7687',
  '    user: monitor',
  '    password: ${NEO4J_PASSWORD}',
  '  prometheus:',
  '    port: 9100',
  '    default_labels: { environment: production }',
  '    basic_auth_users:',
  `      prometheus: '${HASH}'`,
  '  otlp:',
  '    endpoint: http://collector:4318/v1/metrics',
  '    headers:',
  '      Authorization: ${OTLP_TOKEN}',
  '      X-Tenant: team-a',
  '  alerting:',
  '    notifications:',
  '      channels:',
  '        - type: webhook',
  '          url: http://hooks.example/alert',
  '          hmac_secret: ${HMAC}',
  '          headers: { X-Api-Key: webhook-key-value }',
  '    rules:',
  '      - { name: high_cpu, metric: cpu_percent, condition: ">", threshold: 85, duration: 300 }',
].join('\n');

type Printable = Record<string, Record<string, Record<string, unknown>>>;

function printable(): Printable {
  return redactConfig(parseConfigText(TEXT, 'inline.yaml', ENV)) as Printable;
}

describe('redactConfig', () => {
  it('should redact the Neo4j password', () => {
    const neo4j = printable().performance_monitor!.neo4j_metrics as Record<string, unknown>;
    expect(neo4j.password).toBe(REDACTED);
  });

  it('should redact every OTLP header value but keep the header names', () => {
    expect(printable().performance_monitor!.otlp).toMatchObject({
      endpoint: 'http://collector:4318/v1/metrics',
      headers: { Authorization: REDACTED, 'X-Tenant': REDACTED },
    });
  });

  it('should redact basic-auth hashes but keep the user names', () => {
    const prometheus = printable().performance_monitor!.prometheus as Record<string, unknown>;
    expect(prometheus.basic_auth_users).toEqual({ prometheus: REDACTED });
  });

  it('should redact a notification channel hmac_secret and its headers', () => {
    const alerting = printable().performance_monitor!.alerting as {
      notifications: { channels: Record<string, unknown>[] };
    };
    expect(alerting.notifications.channels[0]).toMatchObject({
      url: 'http://hooks.example/alert',
      hmac_secret: REDACTED,
      headers: { 'X-Api-Key': REDACTED },
    });
  });

  it('should leave no secret anywhere in the printable form', () => {
    const text = JSON.stringify(printable());
    for (const secret of [...Object.values(ENV), HASH, 'webhook-key-value', 'team-a']) {
      expect(text).not.toContain(secret);
    }
  });

  it('should print durations as their text', () => {
    const pm = printable().performance_monitor!;
    expect(pm.collection_interval).toBe('1m30s');
    expect((pm.neo4j_metrics as Record<string, unknown>).query_timeout).toBe('5s');
    const rules = (pm.alerting as { rules: Record<string, unknown>[] }).rules;
    expect(rules[0]!.duration).toBe('5m');
  });

  it('should leave everything that is not a secret untouched', () => {
    const pm = printable().performance_monitor!;
    expect(pm.neo4j_metrics).toMatchObject({ uri: 'bolt://db:7687', user: 'monitor', database: 'neo4j' });
    expect(pm.prometheus).toMatchObject({
      port: 9100,
      host: '127.0.0.1',
      metric_prefix: 'multi_agent_system',
      default_labels: { environment: 'production' },
    });
    expect((pm.alerting as { rules: unknown[] }).rules[0]).toMatchObject({
      name: 'high_cpu',
      metric: 'cpu_percent',
      condition: '>',
      threshold: 85,
      enabled: true,
    });
  });

  it('should leave an empty secret empty, so that "not set" stays visible', () => {
    const config = parseConfigText(
      'performance_monitor:\n  neo4j_metrics:\n    password: ""\n',
      'x.yaml',
      {},
    );
    const out = redactConfig(config) as Printable;
    expect(out.performance_monitor!.neo4j_metrics!.password).toBe('');
  });

  it('should not change the configuration it is given', () => {
    const config = parseConfigText(TEXT, 'inline.yaml', ENV);
    redactConfig(config);
    expect(config.performance_monitor.neo4j_metrics.password).toBe(ENV.NEO4J_PASSWORD);
    expect(config.performance_monitor.collection_interval).toEqual({ ms: 90_000, text: '1m30s' });
  });

  it('should redact credential-like keys in any plain object', () => {
    expect(
      redactConfig({ api_key: 'k', apiKey: 'k', access_token: 't', passphrase: 'p', name: 'n', count: 3 }),
    ).toEqual({
      api_key: REDACTED,
      apiKey: REDACTED,
      access_token: REDACTED,
      passphrase: REDACTED,
      name: 'n',
      count: 3,
    });
  });

  it('should redact credentials inside every URL-valued key and keep the URL readable', () => {
    const text = [
      'performance_monitor:',
      '  neo4j_metrics:',
      '    uri: ${NEO4J_URI}',
      '  otlp:',
      '    endpoint: https://tenant:otlp-pass@otel.example:4318/v1/metrics?api_key=otlp-key&region=eu',
      '  alerting:',
      '    notifications:',
      '      external_url: https://ops:ext-pass@perf.example/',
      '      channels:',
      '        - type: webhook',
      '          url: https://hooks.example/alert?token=hook-token&Signature=hook-sig',
      'trend_analysis:',
      '  storage:',
      '    url: http://prom:prom-pass@prometheus:9090',
    ].join('\n');
    const config = parseConfigText(text, 'urls.yaml', { NEO4J_URI: 'bolt://monitor:neo-pass@db:7687' });
    const out = redactConfig(config) as Printable;
    const pm = out.performance_monitor!;
    expect(pm.neo4j_metrics!.uri).toBe('bolt://<redacted>@db:7687');
    expect(pm.otlp!.endpoint).toBe(
      'https://<redacted>@otel.example:4318/v1/metrics?api_key=<redacted>&region=eu',
    );
    const notifications = pm.alerting!.notifications as Record<string, unknown> & {
      channels: Record<string, unknown>[];
    };
    expect(notifications.external_url).toBe('https://<redacted>@perf.example/');
    const channels = notifications.channels;
    expect(channels[0]!.url).toBe('https://hooks.example/alert?token=<redacted>&Signature=<redacted>');
    expect((out.trend_analysis as Record<string, Record<string, unknown>>).storage!.url).toBe(
      'http://<redacted>@prometheus:9090',
    );
    const printed = JSON.stringify(out);
    for (const secret of [
      'neo-pass',
      'otlp-pass',
      'otlp-key',
      'ext-pass',
      'hook-token',
      'hook-sig',
      'prom-pass',
    ])
      expect(printed).not.toContain(secret);
  });
});
