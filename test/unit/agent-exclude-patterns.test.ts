/**
 * The configuration's exclude patterns run on the linear-time engine: a pattern that makes a backtracking
 * RegExp run for ages against a long interface name leaves the collection finishing with the right answer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PerformanceMonitorAgent } from '../../src/agent/agent.js';
import { ConfigError } from '../../src/lib/errors.js';
import { parseConfigText } from '../../src/agent/load-config.js';
import { HOST_FIXTURES, fixtureAgent, scrape } from './helpers/fixture-agent.js';

const dirs: string[] = [];
let running: PerformanceMonitorAgent | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of the linux-vm proc tree whose /proc/net/dev also lists the given interfaces. */
function procWith(interfaces: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exclude-patterns-'));
  dirs.push(dir);
  fs.cpSync(path.join(HOST_FIXTURES, 'linux-vm', 'proc'), dir, { recursive: true });
  const lines = interfaces.map((name) => `${name}: 1 1 0 0 0 0 0 0 2 2 0 0 0 0 0 0\n`);
  fs.appendFileSync(path.join(dir, 'net', 'dev'), lines.join(''));
  return dir;
}

function config(proc: string, excludeInterfaces: string): string {
  return `
performance_monitor:
  collection_interval: 15s
  enabled_collectors: [system]
  system:
    proc_path: ${JSON.stringify(proc)}
    sys_path: ${JSON.stringify(path.join(HOST_FIXTURES, 'linux-vm', 'sys'))}
    exclude_interfaces: ${JSON.stringify(excludeInterfaces)}
  prometheus:
    host: 127.0.0.1
    port: 0
`;
}

describe('exclude patterns from the configuration', () => {
  it('should match a catastrophic pattern against a long interface name, and exclude the right ones', async () => {
    const long = 'a'.repeat(200);
    const proc = procWith([long, `${long}!`]);
    // On a backtracking RegExp, (\w|\w|\w)*! tries about 3^200 ways on the first name.
    const parsed = parseConfigText(config(proc, String.raw`^(\w|\w|\w)*!$|^lo$`), 'c.yaml', {});
    const { agent } = fixtureAgent('linux-vm', { config: parsed });
    running = agent;
    await agent.start();
    const { text } = await scrape(agent);
    const interfaces = new Set(
      [...text.matchAll(/network_bytes_recv[^{]*\{[^}]*interface="([^"]+)"/g)].map((m) => m[1]),
    );
    expect(interfaces).toEqual(new Set(['ifb0', 'ifb1', 'eth0', long]));
  });

  it('should refuse syntax RE2 lacks, naming the key', () => {
    let err: unknown;
    try {
      parseConfigText(config('/proc', '^(?!lo$).*'), 'c.yaml', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(
      /c\.yaml:\d+:\d+: performance_monitor\.system\.exclude_interfaces: lookahead and lookbehind are not supported/,
    );
  });
});
