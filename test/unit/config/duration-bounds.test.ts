/**
 * Durations in the configuration have upper bounds: at most what a timer can wait (24 days) where a timer
 * waits for them, else a bound of their own; nothing beyond 100 years is a duration at all.
 */
import { describe, expect, it } from 'vitest';
import { configIssues as issues } from '../helpers/config-issues.js';

describe('duration bounds in the configuration', () => {
  it('should refuse a timer interval beyond 24 days, naming the key', () => {
    expect(
      issues(
        'performance_monitor:\n  alerting:\n    evaluation_interval: 300000y\n    notifications:\n      group_interval: 30d\n',
      ),
    ).toEqual([
      'performance_monitor.alerting.evaluation_interval: must be at most 24d',
      'performance_monitor.alerting.notifications.group_interval: must be at most 24d',
    ]);
  });

  it('should accept long retention and repeat intervals up to 10 years', () => {
    expect(
      issues(
        'performance_monitor:\n  alerting:\n    notifications:\n      repeat_interval: 365d\ntrend_analysis:\n  storage:\n    raw_retention: 3650d\n    rollup_1m_retention: 3650d\n',
      ),
    ).toEqual([]);
    expect(issues('trend_analysis:\n  storage:\n    raw_retention: 3651d\n')).toEqual([
      'trend_analysis.storage.raw_retention: must be at most 3650d',
    ]);
  });
});
