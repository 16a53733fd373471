import path from 'node:path';
import { packageInfo } from '../lib/package-root.js';

/** The configuration shipped with the package: the full catalog, the seed's layout. */
export function defaultConfigPath(): string {
  return path.join(packageInfo().root, 'config', 'performance_monitor_config.yaml');
}

/**
 * The preload's default configuration: the application's own metrics (API, HTTP server requests, runtime)
 * and the exposition, without host probes, alert rules, notifications or history (see the file).
 */
export function defaultPreloadConfigPath(): string {
  return path.join(packageInfo().root, 'config', 'preload_config.yaml');
}
