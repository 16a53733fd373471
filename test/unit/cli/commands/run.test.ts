import { describe, expect, it } from 'vitest';
import { daemonV8Flags } from '../../../../src/cli/commands/run.js';

describe('daemonV8Flags', () => {
  it('should size the daemon heap for memory by default', () => {
    expect(daemonV8Flags(['--max-semi-space-size=1'], undefined)).toEqual(['--optimize-for-size']);
    expect(daemonV8Flags([], '--max-old-space-size=200')).toEqual(['--optimize-for-size']);
  });

  it('should leave the choice to a command line or NODE_OPTIONS that makes it', () => {
    expect(daemonV8Flags(['--no-optimize-for-size'], undefined)).toEqual([]);
    expect(daemonV8Flags(['--optimize_for_size'], undefined)).toEqual([]);
    expect(daemonV8Flags([], '--enable-source-maps --no-optimize-for-size')).toEqual([]);
    expect(daemonV8Flags(['--optimize-for-size-x'], undefined)).toEqual(['--optimize-for-size']);
  });
});
