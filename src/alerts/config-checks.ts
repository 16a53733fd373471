/**
 * What the alerting code checks of a configuration while it is loaded, so that a rule the engine could not
 * compile, or a matcher it could not parse, is reported with every other problem of the file, at its line,
 * before the agent starts. The configuration layer does not import alerting; a loader is built with these
 * checks (src/agent/load-config.ts).
 */
import type { ConfigCheck, ConfigCheckIssue, ConfigTextCheck, ConfigValuesCheck } from '../config/schema.js';
import { errorMessage } from '../lib/errors.js';
import { parseMatcher } from './matchers.js';
import { RuleCompileError, compileRule, metricDirectory } from './rules.js';

/** Each matcher of each maintenance window, checked in full as silences write it (a regex runs on the linear-time engine). */
const maintenanceMatcherCheck: ConfigTextCheck = {
  kind: 'text',
  at: ['performance_monitor', 'alerting', 'notifications', 'maintenance_windows', '*', 'matchers', '*'],
  check(text) {
    try {
      parseMatcher(text);
      return undefined;
    } catch (err) {
      return errorMessage(err);
    }
  },
};

/**
 * Aggregations a rule's metric cannot take (max on a histogram) and templates the engine cannot expand. It
 * reads the rules and the metrics they may name; a rule whose metric is unknown is left to the schema, which
 * reports that.
 */
const ruleExpressionCheck: ConfigValuesCheck = {
  kind: 'values',
  reads: [
    ['performance_monitor', 'alerting'],
    ['performance_monitor', 'application_metrics'],
    ['performance_monitor', 'neo4j_metrics'],
  ],
  despite: (path) => path[1] === 'alerting' && path[2] === 'rules' && path[4] === 'metric',
  check(config) {
    const dir = metricDirectory(config);
    const issues: ConfigCheckIssue[] = [];
    config.performance_monitor.alerting.rules.forEach((r, i) => {
      if (!dir.has(r.metric)) return;
      try {
        compileRule(r, dir);
      } catch (err) {
        if (!(err instanceof RuleCompileError)) throw err;
        issues.push({
          path: ['performance_monitor', 'alerting', 'rules', i, ...err.field.split('.')],
          message: err.message,
        });
      }
    });
    return issues;
  },
};

/** The alerting code's checks of a configuration. */
export const ALERT_CONFIG_CHECKS: readonly ConfigCheck[] = [maintenanceMatcherCheck, ruleExpressionCheck];
