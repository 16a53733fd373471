import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/cli.js';
import { demoCommand } from '../../../src/cli/commands/demo.js';
import type { CliIo } from '../../../src/cli/io.js';
import { ManualClock } from '../../../src/lib/clock.js';

function io(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

describe('perf-monitor demo (usage)', () => {
  it('should reject a --spike-at that is not a duration with one line and exit code 2', async () => {
    const out = io();
    expect(await main(['demo', '--spike-at', 'soon'], out, {})).toBe(2);
    expect(out.errLines).toEqual([
      'perf-monitor: --spike-at: "soon" is not a duration (examples: 90s, 2m, 500ms)',
    ]);
  });

  it('should reject a --tick shorter than 10ms', async () => {
    const out = io();
    expect(await main(['demo', '--tick', '1ms'], out, {})).toBe(2);
    expect(out.errLines[0]).toMatch(/--tick: 1ms is too short/);
  });

  it('should list the demo command and its options in the help', async () => {
    const out = io();
    expect(await main(['demo', '--help'], out, {})).toBe(0);
    const help = out.outLines.join('\n');
    for (const flag of ['--spike-at DURATION', '--alert-at DURATION', '--tick DURATION', '--config FILE']) {
      expect(help).toContain(flag);
    }
  });
});

describe('perf-monitor demo (running)', () => {
  it(
    'should run the agent with the workload, spike on SIGUSR2 and key s, alert on key a and at --alert-at, stop on key q',
    { timeout: 30_000 },
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-demo-'));
      const file = path.join(dir, 'demo.yaml');
      // No HTTP endpoint and no OTLP: the test only drives the command's triggers and stop.
      fs.writeFileSync(
        file,
        'performance_monitor:\n  collection_interval: 1h\n  enabled_collectors: [application]\n  prometheus:\n    enabled: false\nlogging:\n  level: error\n',
      );
      const out = io();
      const handlers = new Map<string, () => void>();
      let keyHandler: ((key: string) => void) | undefined;
      let keysStopped = false;
      const clock = new ManualClock();
      const done = demoCommand(
        file,
        {},
        { alertAt: '2m', tick: '100ms' },
        { on: (signal, handler) => handlers.set(signal, handler) },
        {
          onKey: (handler) => {
            keyHandler = handler;
            return () => {
              keysStopped = true;
            };
          },
        },
        out,
        clock,
      );
      // Starting the agent reads its config in a worker: on a loaded machine that alone can take over a second.
      await vi.waitFor(() => expect(keyHandler).toBeDefined(), { timeout: 15_000 });
      expect(out.outLines[0]).toMatch(
        /agent and synthetic workload running; metrics at no HTTP endpoint configured/,
      );
      expect([...handlers.keys()].sort()).toEqual(['SIGINT', 'SIGTERM', 'SIGUSR2']);
      handlers.get('SIGUSR2')!();
      keyHandler!('s');
      keyHandler!('a');
      await clock.advance(120_000);
      expect(out.outLines.slice(2)).toEqual([
        'perf-monitor demo: spike started (SIGUSR2)',
        'perf-monitor demo: spike started (key s)',
        'perf-monitor demo: alert values started (key a); the default rules fire after their 5 min duration',
        'perf-monitor demo: alert values started (--alert-at 2m); the default rules fire after their 5 min duration',
      ]);
      keyHandler!('q');
      expect(await done).toBe(0);
      expect(keysStopped).toBe(true);
      handlers.get('SIGTERM')!(); // a second stop is a no-op
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
});
