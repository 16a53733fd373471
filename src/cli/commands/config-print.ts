import { stringify } from 'yaml';
import { loadConfigFile } from '../../agent/load-config.js';
import type { Env } from '../../config/load.js';
import { redactConfig } from '../../config/redact.js';
import type { CliIo } from '../io.js';

/** Prints the effective configuration with secrets redacted. */
export async function configPrintCommand(file: string, env: Env, json: boolean, io: CliIo): Promise<number> {
  const { config } = await loadConfigFile(file, env);
  const printable = redactConfig(config);
  io.out(
    json
      ? JSON.stringify(printable, null, 2)
      : `# effective configuration of ${file}\n${stringify(printable, { lineWidth: 0 })}`.trimEnd(),
  );
  return 0;
}
