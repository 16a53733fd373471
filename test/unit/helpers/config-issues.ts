/** The configuration's validation issues for a YAML text, as `path: message` lines (none when it is valid). */
import { parseConfigText } from '../../../src/agent/load-config.js';
import { ConfigError } from '../../../src/lib/errors.js';

export function configIssues(yaml: string): string[] {
  try {
    parseConfigText(yaml, 'c.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}
