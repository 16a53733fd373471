import fs from 'node:fs';
import { loadConfigFile } from '../../agent/load-config.js';
import type { Env } from '../../config/load.js';
import { AgentError, errorMessage } from '../../lib/errors.js';
import { renderPrometheusRules } from '../../alerts/prometheus-rules.js';
import { RuleCompileError } from '../../alerts/rules.js';
import { formatRuleTestResult, runRuleTestFile } from '../../alerts/rule-test.js';
import type { CliIo } from '../io.js';

/** `rules export`: the configured rules as a Prometheus rule file, on stdout or into `out`. */
export async function rulesExportCommand(
  file: string,
  env: Env,
  out: string | undefined,
  io: CliIo,
): Promise<number> {
  const { config } = await loadConfigFile(file, env);
  let text: string;
  try {
    text = renderPrometheusRules(config, undefined);
  } catch (err) {
    if (err instanceof RuleCompileError) {
      io.err(`${file}: alerting rule ${err.rule}, field ${err.field}: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (out === undefined) {
    io.out(text.trimEnd());
    return 0;
  }
  try {
    fs.writeFileSync(out, text);
  } catch (err) {
    throw new AgentError('E_USAGE', `cannot write ${out}: ${errorMessage(err)}`, { cause: err });
  }
  io.err(`wrote ${out}`);
  return 0;
}

/** `rules test FILE...`: promtool-format rule unit tests against this engine. Exit 1 when one fails. */
export async function rulesTestCommand(files: readonly string[], env: Env, io: CliIo): Promise<number> {
  if (files.length === 0) throw new AgentError('E_USAGE', 'rules test needs at least one test file');
  let failed = false;
  for (const f of files) {
    const result = await runRuleTestFile(f, { loadConfig: loadConfigFile, env });
    for (const line of formatRuleTestResult(result)) io.out(line);
    if (!result.ok) failed = true;
  }
  return failed ? 1 : 0;
}
