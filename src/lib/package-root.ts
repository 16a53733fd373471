/**
 * Where this package is installed, and its version: found by walking up from this module to the
 * package.json named perf-monitor-agent, so it works from the sources (tests) and from dist/ alike.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentError } from './errors.js';

const PACKAGE_NAME = 'perf-monitor-agent';

export interface PackageInfo {
  root: string;
  version: string;
}

export function packageInfo(): PackageInfo {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME) return { root: dir, version: pkg.version ?? '0.0.0' };
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new AgentError(
        'E_INSTALL',
        `cannot find the ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`,
      );
    dir = parent;
  }
}
