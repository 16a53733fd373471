import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/cli.js';
import { DEFAULT_CONFIG, invalidFixture } from '../config/helpers.js';

const RULES = fileURLToPath(new URL('../../fixtures/rules/', import.meta.url));

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out, err };
}

describe('validate with wrong alert rules', () => {
  const rules = 'performance_monitor.alerting.rules';

  it('should name the rule and the field: bad duration, unknown condition', async () => {
    const file = invalidFixture('rule-field-errors.yaml');
    const r = await run(['validate', '-c', file]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `${file}:9:19: ${rules}[0].duration: rule bad_for: invalid duration "5 minutes": use seconds (30) or a number with a unit (500ms, 15s, 5m, 1h, 7d)`,
      `${file}:12:20: ${rules}[1].condition: rule bad_condition: expected one of ">", "<", ">=", "<=", "==", "!=", got "=>" (did you mean ">"?)`,
      `${file}:18:26: ${rules}[2].keep_firing_for: rule bad_keep_firing: invalid duration "soon": use seconds (30) or a number with a unit (500ms, 15s, 5m, 1h, 7d)`,
      `${file}: 3 problem(s)`,
    ]);
  });

  it('should name the rule and the field: unknown metric, aggregation, template', async () => {
    const file = invalidFixture('rule-expression-errors.yaml');
    const r = await run(['validate', '-c', file]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `${file}:7:17: ${rules}[0].metric: rule cpu_typo: unknown metric "cpu_percnt" (did you mean "cpu_percent"?)`,
      `${file}:12:22: ${rules}[1].aggregation: rule max_of_histogram: max is not defined on histogram api_request_duration; use p99/p50 or mean (the mean observation)`,
      `${file}:19:18: ${rules}[2].message: rule bad_template: unsupported template action {{ $value | humanize }}: use {{ $labels.<name> }}, {{ $value }} or {{ $value | printf "%.2f" }}`,
      `${file}: 3 problem(s)`,
    ]);
  });
});

describe('rules export', () => {
  it('should print the default rules as a Prometheus rule file on stdout', async () => {
    const r = await run(['rules', 'export', '-c', DEFAULT_CONFIG]);
    expect(r.code).toBe(0);
    interface Exported {
      alert: string;
      expr: string;
      annotations?: Record<string, string>;
    }
    const doc = parse(r.out.join('\n')) as { groups: { name: string; rules: Exported[] }[] };
    expect(doc.groups).toHaveLength(1);
    const byName: Record<string, Exported> = Object.fromEntries(
      doc.groups[0]!.rules.map((x) => [x.alert, x]),
    );
    expect(Object.keys(byName)).toHaveLength(13);
    expect(byName.high_cpu_usage).toEqual({
      alert: 'high_cpu_usage',
      expr: 'multi_agent_system_cpu_percent > 85',
      for: '5m',
      labels: { severity: 'warning' },
      annotations: { summary: 'CPU usage above 85% for 5 minutes' },
    });
    expect(byName.slow_api_requests!.expr).toBe(
      'histogram_quantile(0.95, rate(multi_agent_system_api_request_duration_bucket[5m])) > 1',
    );
    expect(byName.high_api_error_rate!.expr).toBe('rate(multi_agent_system_api_error_count_total[5m]) > 1');
    expect(byName.neo4j_heap_pressure!.expr).toBe('multi_agent_system_neo4j_jvm_heap_used_ratio > 0.9');
    expect(byName.neo4j_gc_overhead!.expr).toBe(
      'rate(multi_agent_system_neo4j_jvm_gc_time_seconds_total[5m]) > 0.1',
    );
    expect(byName.high_disk_usage!.annotations).toEqual({
      summary: 'Disk {{ $labels.mount_point }} above 90% full',
    });
  });

  it('should write matchers, windows, keep_firing_for and hysteresis', async () => {
    const r = await run(['rules', 'export', '-c', path.join(RULES, 'configs/hysteresis.yaml')]);
    const doc = parse(r.out.join('\n')) as { groups: { rules: Record<string, unknown>[] }[] };
    expect(doc.groups[0]!.rules[0]!.expr).toBe(
      'multi_agent_system_cpu_percent > 85 or (multi_agent_system_cpu_percent > 70 and ignoring(alertname, alertstate, severity) ALERTS{alertname="cpu_hot"})',
    );
    const m = await run(['rules', 'export', '-c', path.join(RULES, 'configs/matchers.yaml')]);
    expect(m.out.join('\n')).toContain('expr: multi_agent_system_disk_usage_percent{mount_point="/"} > 90');
    const k = await run(['rules', 'export', '-c', path.join(RULES, 'configs/keep-firing.yaml')]);
    expect(k.out.join('\n')).toContain('keep_firing_for: 2m');
  });
});

describe('rules test', () => {
  it('should print SUCCESS for a passing file and exit 0', async () => {
    const r = await run(['rules', 'test', path.join(RULES, 'keep-firing-for.yaml')]);
    expect(r.out).toEqual([`Unit Testing:  ${path.join(RULES, 'keep-firing-for.yaml')}`, '  SUCCESS']);
    expect(r.code).toBe(0);
  });

  it('should print what it expected and what it got, and exit 1', async () => {
    const file = path.join(RULES, 'cli/failing.yaml');
    const r = await run(['rules', 'test', file]);
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toBe(
      [
        `Unit Testing:  ${file}`,
        '  FAILED:',
        '    alertname: cpu_high, time: 2m,',
        '        exp:[',
        '            0: Labels:{alertname="cpu_high", severity="warning"} Annotations:{summary="CPU at 90%"}',
        '            ],',
        '        got:[]',
      ].join('\n'),
    );
  });

  it('should refuse promql_expr_test and a missing file', async () => {
    const r = await run([
      'rules',
      'test',
      path.join(RULES, 'cli/unsupported.yaml'),
      path.join(RULES, 'nope.yaml'),
    ]);
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/promql_expr_test is not supported/);
    expect(r.out.join('\n')).toMatch(/cannot read .*nope\.yaml/);
  });

  it('should want at least one file', async () => {
    const r = await run(['rules', 'test']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['perf-monitor: rules test needs at least one test file']);
  });
});

describe('alerts', () => {
  it('should list the alerts an agent serves, and say when there are none', async () => {
    let body = {
      status: 'success',
      data: {
        alerts: [
          {
            labels: { alertname: 'disk_full', severity: 'warning', mount_point: '/' },
            annotations: { summary: 'Disk / full' },
            state: 'firing',
            activeAt: '2026-01-01T00:00:00.000Z',
            value: '9.5e+01',
          },
        ],
      },
    };
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/api/v1/alerts' ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const r = await run(['alerts', '--url', url]);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([
        'firing   disk_full {severity="warning", mount_point="/"} since 2026-01-01T00:00:00.000Z value 9.5e+01  Disk / full',
      ]);
      body = { status: 'success', data: { alerts: [] } };
      expect((await run(['alerts', '--url', url])).out).toEqual(['no active alerts']);
    } finally {
      server.close();
    }
  });

  it('should exit 1 with one line when the agent cannot be reached', async () => {
    const r = await run(['alerts', '--url', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^perf-monitor: cannot read http:\/\/127\.0\.0\.1:1\/api\/v1\/alerts: /);
  });
});
