import path from 'node:path';
import { packageInfo } from '../lib/package-root.js';

/** The configuration shipped with the package: the full catalog, the seed's layout. */
export function defaultConfigPath(): string {
  return path.join(packageInfo().root, 'config', 'performance_monitor_config.yaml');
}
