/**
 * The real statfs(2), through Node's fs.promises.statfs (runs on the libuv thread pool).
 */
import fs from 'node:fs';
import type { FsStats, StatFs } from '../probe.js';

export const nodeStatFs: StatFs = async (target: string): Promise<FsStats> => {
  const s = await fs.promises.statfs(target);
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail };
};
