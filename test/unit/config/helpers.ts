/** Shared by the config and CLI tests: fixture paths and a way to catch a ConfigError. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/lib/errors.js';

export const CONFIG_FIXTURES = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
export const INVALID_FIXTURES = path.join(CONFIG_FIXTURES, 'invalid');
export const SEED_EXAMPLE = path.join(CONFIG_FIXTURES, 'seed-example.yaml');
export const DEFAULT_CONFIG = fileURLToPath(
  new URL('../../../config/performance_monitor_config.yaml', import.meta.url),
);

export function invalidFixture(name: string): string {
  return path.join(INVALID_FIXTURES, name);
}

/** Runs `fn` and returns the ConfigError it throws; fails when it throws anything else or nothing. */
export async function configErrorOf(fn: () => unknown): Promise<ConfigError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}
