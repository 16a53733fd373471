/**
 * Checks a layer above the configuration adds to a loader (ConfigCheck): their problems are reported with the
 * schema's own, at file:line, and they run when a field's check or a check across sections would.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { configLoader } from '../../../src/config/load.js';
import type { ConfigTextCheck, ConfigValuesCheck } from '../../../src/config/schema.js';
import type { ConfigIssue } from '../../../src/lib/errors.js';
import { configErrorOf } from './helpers.js';

/** Reports each rule whose threshold is negative, at its threshold. */
const negativeThresholds: ConfigValuesCheck = {
  kind: 'values',
  reads: [['performance_monitor', 'alerting']],
  check: (config) =>
    config.performance_monitor.alerting.rules.flatMap((r, i) =>
      r.threshold < 0
        ? [{ path: ['performance_monitor', 'alerting', 'rules', i, 'threshold'], message: 'is negative' }]
        : [],
    ),
};

/** Reports each window matcher that is not lower case. */
const lowerCaseMatchers: ConfigTextCheck = {
  kind: 'text',
  at: ['performance_monitor', 'alerting', 'notifications', 'maintenance_windows', '*', 'matchers', '*'],
  check: (text) => (text === text.toLowerCase() ? undefined : 'is not lower case'),
};

const RULES = `performance_monitor:
  alerting:
    rules:
      - name: low
        metric: cpu_percent
        condition: "<"
        threshold: -1
`;

const WINDOWS = `performance_monitor:
  alerting:
    notifications:
      maintenance_windows:
        - name: nightly
          matchers: ['a="1"', 'B="2"', 7]
          start_time: "25:00"
          end_time: "03:00"
`;

function issuesOf(checks: Parameters<typeof configLoader>[0], text: string): Promise<readonly ConfigIssue[]> {
  return configErrorOf(() => configLoader(checks).parseConfigText(text, 'c.yaml', {})).then((e) => e.issues);
}

describe('configuration checks added to a loader', () => {
  it('should report a values check with the schema, at file:line, when what it reads is valid', async () => {
    expect(
      configLoader([]).parseConfigText(RULES, 'c.yaml', {}).performance_monitor.alerting.rules,
    ).toHaveLength(1);
    const issues = await issuesOf([negativeThresholds], `${RULES}logging:\n  level: loud\n`);
    expect(issues.map((i) => [i.path, i.line, i.column, i.message])).toEqual([
      ['performance_monitor.alerting.rules[0].threshold', 7, 20, 'rule low: is negative'],
      ['logging.level', 9, 10, expect.stringContaining('expected one of') as unknown],
    ]);
  });

  it('should skip a values check while what it reads has a problem, unless it passes over that problem', async () => {
    const broken = RULES.replace('    rules:', '    evaluation_interval: never\n    rules:');
    const paths = async (check: ConfigValuesCheck): Promise<string[]> =>
      (await issuesOf([check], broken)).map((i) => i.path);
    expect(await paths(negativeThresholds)).toEqual(['performance_monitor.alerting.evaluation_interval']);
    expect(await paths({ ...negativeThresholds, despite: (p) => p[2] === 'evaluation_interval' })).toEqual([
      'performance_monitor.alerting.evaluation_interval',
      'performance_monitor.alerting.rules[0].threshold',
    ]);
  });

  it('should run a text check on every text at its place, whatever else is wrong there', async () => {
    const issues = await issuesOf([lowerCaseMatchers], WINDOWS);
    expect(issues.map((i) => [i.path, i.line, i.message])).toEqual([
      [
        'performance_monitor.alerting.notifications.maintenance_windows[0].matchers[1]',
        6,
        'is not lower case',
      ],
      [
        'performance_monitor.alerting.notifications.maintenance_windows[0].matchers[2]',
        6,
        'expected a string, got a number',
      ],
      [
        'performance_monitor.alerting.notifications.maintenance_windows[0].start_time',
        7,
        'expected HH:MM (24-hour clock)',
      ],
    ]);
  });

  it("should check alert rules and matchers in the product's loader, which the schema alone does not", async () => {
    const rule = RULES.replace('cpu_percent', 'api_request_duration').concat('        aggregation: max\n');
    const window = WINDOWS.replace(`'B="2"', 7`, `'x=~"("'`).replace('25:00', '01:00');
    const issues = async (text: string): Promise<string[]> =>
      (await configErrorOf(() => parseConfigText(text, 'c.yaml', {}))).issues.map(
        (i) => `${i.line}: ${i.path}: ${i.message}`,
      );
    for (const text of [rule, window])
      expect(() => configLoader([]).parseConfigText(text, 'c.yaml', {})).not.toThrow();
    expect(await issues(rule)).toEqual([
      '8: performance_monitor.alerting.rules[0].aggregation: rule low: max is not defined on histogram api_request_duration; use p99/p50 or mean (the mean observation)',
    ]);
    expect(await issues(window)).toEqual([
      '6: performance_monitor.alerting.notifications.maintenance_windows[0].matchers[1]: invalid matcher "x=~\\"(\\"": not a valid regular expression (RE2 syntax): missing closing ): `(`',
    ]);
  });
});
