/**
 * The command line as data: commands, their options and help text. main.ts parses with node:util's
 * parseArgs from this table, and --help is printed from it.
 */
import type { ParseArgsConfig } from 'node:util';

export interface CliOption {
  long: string;
  short?: string;
  arg?: string;
  description: string;
}

export interface CliCommand {
  /** Words that select it: `run`, `config print`. */
  name: string;
  /** Name of the positional arguments it takes (`FILE...`), if any. */
  positionals?: string;
  summary: string;
  options: readonly CliOption[];
}

const CONFIG_OPTION: CliOption = {
  long: 'config',
  short: 'c',
  arg: 'FILE',
  description:
    'configuration file (default: the packaged config/performance_monitor_config.yaml, or $PERF_MONITOR_CONFIG)',
};
const HELP_OPTION: CliOption = { long: 'help', short: 'h', description: 'show this help' };

export const COMMANDS: readonly CliCommand[] = [
  {
    name: 'run',
    summary:
      'run the agent: collect, serve /metrics, push OTLP; SIGHUP reloads the config, SIGTERM/SIGINT stop',
    options: [CONFIG_OPTION, HELP_OPTION],
  },
  {
    name: 'validate',
    summary:
      'check a configuration file; prints every problem with file:line:column and exits 2 if there is one',
    options: [CONFIG_OPTION, HELP_OPTION],
  },
  {
    name: 'config print',
    summary: 'print the effective configuration (defaults filled in, environment expanded, secrets redacted)',
    options: [CONFIG_OPTION, { long: 'json', description: 'print JSON instead of YAML' }, HELP_OPTION],
  },
  { name: 'version', summary: 'print the agent version', options: [HELP_OPTION] },
  {
    name: 'demo',
    summary:
      'run the agent plus a synthetic application recording every application metric; SIGUSR2 or key s: spike, key a: alert',
    options: [
      CONFIG_OPTION,
      {
        long: 'spike-at',
        arg: 'DURATION',
        description: 'trigger a latency and load spike (an anomaly) after DURATION, e.g. 60s',
      },
      {
        long: 'alert-at',
        arg: 'DURATION',
        description: 'push values past the default alert thresholds after DURATION, e.g. 2m',
      },
      { long: 'tick', arg: 'DURATION', description: 'time between workload rounds (default 250ms)' },
      HELP_OPTION,
    ],
  },
  ...silenceCommands(),
  {
    name: 'trends',
    positionals: '<metric>',
    summary:
      "window statistics and a sparkline of a metric, read from the history the config names (default: the daemon's, in its state directory) or from Prometheus",
    options: [
      CONFIG_OPTION,
      {
        long: 'window',
        short: 'w',
        arg: 'DURATION',
        description: 'window length: 1h, 24h, 7d, 90m … (default 1h)',
      },
      { long: 'labels', short: 'l', arg: 'K=V[,K=V]', description: 'only series with these label values' },
      { long: 'json', description: 'print JSON for scripts' },
      HELP_OPTION,
    ],
  },
  {
    name: 'rules export',
    summary: 'write the alert rules as a Prometheus rule file (PromQL over the exported metric names)',
    options: [
      CONFIG_OPTION,
      { long: 'output', short: 'o', arg: 'OUT', description: 'write to OUT instead of stdout' },
      HELP_OPTION,
    ],
  },
  {
    name: 'neo4j check',
    summary:
      'connect to neo4j_metrics.uri and print, per Neo4j metric, its source on this server or why it is unavailable',
    options: [CONFIG_OPTION, HELP_OPTION],
  },
  {
    name: 'rules test',
    summary:
      "run rule unit tests written in promtool's test-file format against this engine; exit 1 on a failure",
    positionals: 'FILE...',
    options: [HELP_OPTION],
  },
  {
    name: 'alerts',
    summary: 'list the pending and firing alerts of a running agent (GET /api/v1/alerts)',
    options: [
      CONFIG_OPTION,
      {
        long: 'url',
        arg: 'URL',
        description: 'agent endpoint (default: host and port from the configuration)',
      },
      { long: 'json', description: 'print the alerts as JSON' },
      HELP_OPTION,
    ],
  },
];

/** `silence add|list|expire`: talk to the running agent's /api/v1/silences. */
function silenceCommands(): CliCommand[] {
  const common: CliOption[] = [
    CONFIG_OPTION,
    {
      long: 'url',
      arg: 'URL',
      description: "the agent's URL (default: from the config's prometheus host/port)",
    },
    {
      long: 'user',
      short: 'u',
      arg: 'USER',
      description: 'basic-auth user; the password is read from $PERF_MONITOR_PASSWORD',
    },
  ];
  const json: CliOption = { long: 'json', description: 'print JSON' };
  return [
    {
      name: 'silence add',
      summary: 'silence matching alerts until --end or for --duration (default 1h)',
      options: [
        ...common,
        {
          long: 'matchers',
          short: 'm',
          arg: 'M',
          description: 'label matchers: \'alertname="x",severity=~"warn.*"\'',
        },
        { long: 'duration', short: 'd', arg: 'D', description: 'how long from now (2h, 30m)' },
        { long: 'end', arg: 'TIME', description: 'end time, e.g. 2026-12-01T06:00:00Z' },
        { long: 'comment', arg: 'TEXT', description: 'why' },
        { long: 'author', arg: 'NAME', description: 'who (default: $USER)' },
        json,
        HELP_OPTION,
      ],
    },
    { name: 'silence list', summary: "list the agent's silences", options: [...common, json, HELP_OPTION] },
    {
      name: 'silence expire',
      summary: 'end a silence now',
      options: [...common, { long: 'id', arg: 'ID', description: 'the silence to end' }, HELP_OPTION],
    },
  ];
}

export function parseArgsConfig(command: CliCommand): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const o of command.options) {
    options[o.long] = {
      type: o.arg === undefined ? 'boolean' : 'string',
      ...(o.short === undefined ? {} : { short: o.short }),
    };
  }
  return options;
}

function optionLine(o: CliOption): string {
  const flags = `${o.short === undefined ? '    ' : `-${o.short}, `}--${o.long}${o.arg === undefined ? '' : ` ${o.arg}`}`;
  return `  ${flags.padEnd(24)} ${o.description}`;
}

export function commandHelp(command: CliCommand): string {
  return [
    `Usage: perf-monitor ${command.name} [options]${command.positionals === undefined ? '' : ` ${command.positionals}`}`,
    '',
    command.summary,
    '',
    'Options:',
    ...command.options.map(optionLine),
    '',
  ].join('\n');
}

export function mainHelp(): string {
  return [
    'Usage: perf-monitor <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`),
    '',
    'Run `perf-monitor <command> --help` for the options of a command.',
    'Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage, 3 cannot listen (port in use, TLS).',
    '',
  ].join('\n');
}
