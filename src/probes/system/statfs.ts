/**
 * The real statfs(2): through Node's fs.promises.statfs (on the libuv thread pool), and synchronously for
 * local filesystems.
 */
import fs from 'node:fs';
import type { FsStats, StatFs, StatFsSync } from '../probe.js';

export const nodeStatFs: StatFs = async (target: string): Promise<FsStats> => {
  const s = await fs.promises.statfs(target);
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail };
};

export const nodeStatFsSync: StatFsSync = (target: string): FsStats => {
  const s = fs.statfsSync(target);
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail };
};
