import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemErrorCode } from '../../../../src/lib/errors.js';
import { nodeStatFs } from '../../../../src/probes/system/statfs.js';

describe('nodeStatFs', () => {
  it('should map statfs(2) to consistent FsStats for an existing directory', async () => {
    const s = await nodeStatFs(os.tmpdir());
    expect(Object.keys(s).sort()).toEqual(['bavail', 'bfree', 'blocks', 'bsize']);
    expect(s.bsize).toBeGreaterThan(0);
    expect(s.blocks).toBeGreaterThan(0);
    expect(s.bfree).toBeLessThanOrEqual(s.blocks);
    expect(s.bavail).toBeLessThanOrEqual(s.bfree);
  });

  it('should reject with ENOENT for a path that does not exist', async () => {
    const missing = path.join(os.tmpdir(), 'pma-no-such-dir', 'x');
    const err: unknown = await nodeStatFs(missing).catch((e: unknown) => e);
    expect(systemErrorCode(err)).toBe('ENOENT');
  });
});
