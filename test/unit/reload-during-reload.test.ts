/**
 * SIGHUPs in quick succession: a reload asked for while one runs may bring a file written after the running
 * reload read its file, so it must not simply join that reload; the file written last is the one in force.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureAgent, fixtureConfigText, scrape } from './helpers/fixture-agent.js';

describe('reload asked for during a reload', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should apply the file written while the running reload was already past reading it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-reload-storm-'));
    dirs.push(dir);
    const file = path.join(dir, 'agent.yaml');
    const withEnv = (env: string): string =>
      fixtureConfigText('linux-vm').replace('environment: test', `environment: ${env}`);
    fs.writeFileSync(file, withEnv('test'));
    const fx = fixtureAgent('linux-vm', { configPath: file, config: undefined });
    await fx.agent.start();
    try {
      let armed = false;
      let second: Promise<void> | undefined;
      // The reload's first collection runs after it has read the file: write the next file and ask again then.
      fx.agent.onCollection('storm', () => {
        if (!armed || second !== undefined) return;
        fs.writeFileSync(file, withEnv('second'));
        second = fx.agent.reload();
      });
      fs.writeFileSync(file, withEnv('first'));
      armed = true;
      const first = fx.agent.reload();
      await first;
      expect(second).toBeDefined();
      await second;
      const { text } = await scrape(fx.agent);
      expect(text).toContain('environment="second"');
      expect(text).not.toContain('environment="first"');
      // Requests during one reload share one more reload.
      expect(fx.logger.find('info', 'configuration reloaded')).toHaveLength(2);
    } finally {
      await fx.agent.stop();
    }
  });
});
