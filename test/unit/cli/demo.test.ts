import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/cli.js';
import type { CliIo } from '../../../src/cli/io.js';

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
