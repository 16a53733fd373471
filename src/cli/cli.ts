/**
 * The perf-monitor command line: parses argv, runs a command, maps errors to exit codes. main.ts runs it.
 */
import { parseArgs } from 'node:util';
import { defaultConfigPath } from '../config/default-path.js';
import { AgentError, ConfigError, errorMessage } from '../lib/errors.js';
import { redactUrlsIn } from '../lib/redact-url.js';
import type { ErrorCode } from '../lib/errors.js';
import { packageInfo } from '../lib/package-root.js';
import { runCommand } from './commands/run.js';
import { processIo } from './io.js';
import type { CliIo } from './io.js';
import { COMMANDS, commandHelp, mainHelp, parseArgsConfig } from './options.js';
import { problemLines } from './problems.js';

export const EXIT_CODES: Record<ErrorCode, number> = {
  E_CONFIG_INVALID: 2,
  E_CONFIG_READ: 2,
  E_CONFIG_PARSE: 2,
  E_USAGE: 2,
  E_PORT_IN_USE: 3,
  E_LISTEN: 3,
  E_TLS: 3,
  E_PROBE_READ: 1,
  E_TIMEOUT: 1,
  E_SHUTDOWN: 1,
  E_STATE: 1,
  E_NOTIFY: 1,
  E_OUTBOX: 1,
  E_AGENT_API: 1,
  E_REDIRECT: 1,
  E_HISTORY_STORE: 2,
  E_HISTORY_QUERY: 1,
  E_ALERT_STATE: 1,
  E_RULE_TEST: 2,
  E_RULE_INVALID: 2,
  E_RULE_EVAL: 1,
  E_INSTALL: 1,
  E_INVALID_ARGUMENT: 1,
};

/** Runs the command line `argv` (without node and script); resolves with the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo,
  env = process.env,
): Promise<number> {
  if (argv.length === 0) {
    io.err(mainHelp());
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(mainHelp());
    return 0;
  }
  if (argv[0] === '--version') argv = ['version'];
  const words = commandWords(argv);
  const command = COMMANDS.find((c) => c.name.split(' ').every((w, i) => words[i] === w));
  if (command === undefined) {
    io.err(`perf-monitor: unknown command "${words.join(' ')}"; run perf-monitor --help`);
    return 2;
  }
  const rest = [...argv];
  for (const w of command.name.split(' ')) rest.splice(rest.indexOf(w), 1);
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: parseArgsConfig(command),
      allowPositionals: command.positionals !== undefined,
      strict: true,
    }));
  } catch (err) {
    io.err(`perf-monitor ${command.name}: ${errorMessage(err)}`);
    return 2;
  }
  if (values.help === true) {
    io.out(commandHelp(command));
    return 0;
  }
  const file = (values.config as string | undefined) ?? env.PERF_MONITOR_CONFIG ?? defaultConfigPath();

  try {
    switch (command.name) {
      case 'version':
        io.out(`perf-monitor ${packageInfo().version} (node ${process.version})`);
        return 0;
      case 'validate':
        // Imported on demand: `run` should not carry the YAML parser and schema library (see load-isolated.ts).
        return await (await import('./commands/validate.js')).validateCommand(file, env, io);
      case 'config print':
        return await (
          await import('./commands/config-print.js')
        ).configPrintCommand(file, env, values.json === true, io);
      case 'trends':
        return await (await import('./commands/trends.js')).trendsCommand(file, env, positionals, values, io);
      case 'neo4j check':
        return await (await import('./commands/neo4j-check.js')).neo4jCheckCommand(file, env, io);
      case 'rules export':
        return await (
          await import('./commands/rules.js')
        ).rulesExportCommand(file, env, values.output as string | undefined, io);
      case 'rules test':
        return await (await import('./commands/rules.js')).rulesTestCommand(positionals, env, io);
      case 'alerts':
        return await (
          await import('./commands/alerts.js')
        ).alertsCommand(file, env, values.url as string | undefined, values.json === true, io);
      case 'run':
        return await runCommand(file, env, { on: (signal, handler) => process.on(signal, handler) }, io);
      case 'demo':
        return await (
          await import('./commands/demo.js')
        ).demoCommand(
          file,
          env,
          {
            spikeAt: values['spike-at'] as string | undefined,
            alertAt: values['alert-at'] as string | undefined,
            tick: values.tick as string | undefined,
          },
          { on: (signal, handler) => process.on(signal, handler) },
          (await import('./commands/demo.js')).terminalKeys,
          io,
        );
      case 'silence add':
      case 'silence list':
      case 'silence expire':
        return await (
          await import('./commands/silence.js')
        ).silenceCommand(command.name.slice(8) as 'add' | 'list' | 'expire', { file, ...values }, env, io);
      default:
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of problemLines(err.issues)) io.err(line);
      return EXIT_CODES[err.code];
    }
    if (err instanceof AgentError) {
      io.err(`perf-monitor: ${redactUrlsIn(err.message)}`);
      return EXIT_CODES[err.code];
    }
    io.err(`perf-monitor: unexpected failure: ${redactUrlsIn(errorMessage(err))}`);
    return 1;
  }
}

/** The words that name the command: everything but options and the values of options that take one. */
function commandWords(argv: readonly string[]): string[] {
  const withValue = new Set(
    COMMANDS.flatMap((c) =>
      c.options
        .filter((o) => o.arg !== undefined)
        .flatMap((o) => [`--${o.long}`, ...(o.short === undefined ? [] : [`-${o.short}`])]),
    ),
  );
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  return words;
}
