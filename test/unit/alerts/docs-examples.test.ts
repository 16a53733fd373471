import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAlertDispatcher } from '../../../src/alerts/create-dispatcher.js';
import { loadConfigFile, parseConfigText } from '../../../src/agent/load-config.js';
import { runRuleTestFile } from '../../../src/alerts/rule-test.js';
import { compileRules } from '../../../src/alerts/rules.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';

const doc = (name: string): string =>
  fs.readFileSync(fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url)), 'utf8');

/** The first ```yaml block after `heading`. */
function yamlAfter(text: string, heading: string): string {
  const at = text.indexOf(heading);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const m = /```yaml\n([\s\S]*?)```/.exec(text.slice(at));
  expect(m, `a yaml block after ${heading}`).not.toBeNull();
  return m![1]!;
}

describe('docs/alerting.md examples', () => {
  it('should pass the rule unit test example against the rule format example', async () => {
    const text = doc('alerting.md');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-doc-rules-'));
    try {
      fs.mkdirSync(path.join(dir, 'tests'));
      fs.writeFileSync(path.join(dir, 'my-config.yaml'), yamlAfter(text, '## Rule format'));
      const testFile = path.join(dir, 'tests', 'disk.yaml');
      fs.writeFileSync(testFile, yamlAfter(text, '## Rule unit tests'));
      const result = await runRuleTestFile(testFile, { loadConfig: loadConfigFile });
      expect(result.errors).toEqual([]);
      expect(result.groups.flatMap((g) => g.failures)).toEqual([]);
      expect(result.ok).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/notifications.md example', () => {
  it('should validate the rule and channels example, with the HMAC secret from the environment', async () => {
    const text = doc('notifications.md');
    const yaml = yamlAfter(text, 'A rule and two channels');
    const config = parseConfigText(yaml, 'docs/notifications.md', { HOOK_HMAC_SECRET: 'from-env' });
    const alerting = config.performance_monitor.alerting;
    expect(alerting.rules.map((r) => [r.name, r.metric, r.duration.ms])).toEqual([
      ['few_cpu_cores', 'cpu_count', 60_000],
    ]);
    expect(compileRules(config).map((r) => r.name)).toEqual(['few_cpu_cores']);
    expect(alerting.notifications.channels.map((c) => c.type)).toEqual(['webhook', 'alertmanager']);
    expect(alerting.notifications.channels[0]!.hmac_secret).toBe('from-env');
    const dispatcher = createAlertDispatcher(config, {
      clock: new ManualClock(0),
      logger: new MemoryLogger(),
    });
    expect([...dispatcher.stats().keys()]).toEqual(['webhook', 'alertmanager']);
    await dispatcher.shutdown();
  });
});
