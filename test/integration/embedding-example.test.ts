/**
 * The library example of docs/embedding.md, run as written against the built package (it imports
 * 'perf-monitor-agent', which resolves to this package by its own name).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { NODE, REPO_ROOT, agentConfigText, builtCliAvailable, freePort, tempDir } from './agent-harness.js';

function exampleCode(): string {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'embedding.md'), 'utf8');
  const match = /```js\n\/\/ example: library\n([\s\S]*?)```/.exec(doc);
  if (match === null) throw new Error('docs/embedding.md has no "// example: library" block');
  return match[1]!;
}

describeService('perf-monitor build', builtCliAvailable(), () => {
  it('should run the library example of docs/embedding.md as written', async () => {
    const dir = tempDir('example');
    const config = path.join(dir, 'example.yaml');
    fs.writeFileSync(config, agentConfigText({ port: await freePort() }));
    // Inside the repository so that the package resolves itself by name.
    const script = path.join(REPO_ROOT, 'dist', `embedding-example-${process.pid}.mjs`);
    fs.writeFileSync(script, exampleCode());
    try {
      const run = spawnSync(NODE, [script], {
        encoding: 'utf8',
        env: { ...process.env, EXAMPLE_CONFIG: config },
        timeout: 30_000,
      });
      expect(run.stderr).not.toMatch(/Error|not started/);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^cpu_percent \d+(\.\d+)?$/m);
      expect(run.stdout).toMatch(/^probes cpu:ok memory:ok disk_usage:ok disk_io:ok network:ok/m);
    } finally {
      fs.rmSync(script, { force: true });
    }
  });
});
