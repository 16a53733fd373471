import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runRuleTestFile } from '../../../src/alerts/rule-test.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The first ```yaml block after `heading`. */
function yamlAfter(text: string, heading: string): string {
  const at = text.indexOf(heading);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const m = /```yaml\n([\s\S]*?)```/.exec(text.slice(at));
  expect(m, `a yaml block after ${heading}`).not.toBeNull();
  return m![1]!;
}

describe('README alerting examples', () => {
  it('should pass the rule unit test example against the rule format example', async () => {
    const text = fs.readFileSync(README, 'utf8');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-readme-rules-'));
    try {
      fs.mkdirSync(path.join(dir, 'tests'));
      fs.writeFileSync(path.join(dir, 'my-config.yaml'), yamlAfter(text, '### Rule format'));
      const testFile = path.join(dir, 'tests', 'disk.yaml');
      fs.writeFileSync(testFile, yamlAfter(text, '### Rule unit tests'));
      const result = await runRuleTestFile(testFile);
      expect(result.errors).toEqual([]);
      expect(result.groups.flatMap((g) => g.failures)).toEqual([]);
      expect(result.ok).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
