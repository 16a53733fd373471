/**
 * The README is the front door: the set-up commands come first, the page stays short (the reference is in
 * docs/), and its minimal config is a config the agent accepts as written.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileRules } from '../../../src/alerts/rules.js';
import { parseConfigText } from '../../../src/agent/load-config.js';

const README = fs.readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe('README', () => {
  it('should open with the commands that run the agent and the whole test suite', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(README)![1]!;
    const commands = firstBlock.split('\n').map((l) => l.replace(/#.*$/, '').trim());
    expect(commands.slice(0, 2)).toEqual(['npm install && npm start', 'npm test']);
    expect(README.indexOf('```sh')).toBeLessThan(README.indexOf('\n## '));
  });

  it('should stay a front door of at most 30 KB', () => {
    expect(Buffer.byteLength(README)).toBeLessThanOrEqual(30 * 1024);
  });

  it('should hold a minimal config that loads as written, with its alert rule', () => {
    const at = README.indexOf('## A minimal config');
    expect(at).toBeGreaterThanOrEqual(0);
    const yaml = /```yaml\n([\s\S]*?)```/.exec(README.slice(at))![1]!;
    const config = parseConfigText(yaml, 'README.md', {});
    expect(config.performance_monitor.prometheus.port).toBe(9091);
    expect(config.performance_monitor.enabled_collectors).toEqual(['system', 'application']);
    expect(compileRules(config).map((r) => r.name)).toEqual(['high_disk_usage']);
  });
});
