/**
 * Every error the agent throws is an AgentError with a stable code. The CLI maps codes to exit codes;
 * users see `message`, one line, never a stack.
 */

export const ERROR_CODES = {
  E_CONFIG_INVALID: 'the configuration does not validate',
  E_CONFIG_READ: 'the configuration file cannot be read',
  E_CONFIG_PARSE: 'the configuration file is not valid YAML',
  E_USAGE: 'the command line is wrong',
  E_PORT_IN_USE: 'the listen port is taken',
  E_LISTEN: 'the HTTP server cannot listen',
  E_TLS: 'TLS material cannot be loaded',
  E_PROBE_READ: 'a probe could not read its source, or its source cannot serve it here',
  E_TIMEOUT: 'an operation took longer than its time budget',
  E_SHUTDOWN: 'a component failed to shut down',
  E_STATE: 'an operation was called in the wrong lifecycle state',
  E_NOTIFY: 'a notification could not be delivered',
  E_OUTBOX: 'the notification store cannot be read or written',
  E_AGENT_API: "the running agent's HTTP API could not be reached or refused the request",
  E_REDIRECT: 'a server redirected a request to another origin (or too often); it was not followed',
  E_HISTORY_STORE: 'the trend history file cannot be used (foreign, corrupt or unreadable)',
  E_HISTORY_QUERY: 'a trend history query failed',
  E_ALERT_STATE: 'the alert state file cannot be read',
  E_RULE_TEST: 'a rule test file is wrong',
  E_RULE_INVALID: 'an alerting rule does not compile (its metric, aggregation or a template)',
  E_RULE_EVAL: 'an alerting rule cannot be evaluated',
  E_INSTALL: "the agent's own installation is incomplete (its package.json cannot be found)",
  E_INVALID_ARGUMENT:
    'a function of the agent was called with an argument it does not accept (a bug of its caller)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AgentErrorOptions {
  cause?: unknown;
}

export class AgentError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: AgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** One configuration problem, located in its file. */
export interface ConfigIssue {
  /** Key path such as `performance_monitor.alerting.rules[3].threshold`. */
  path: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where =
    issue.file === undefined
      ? ''
      : issue.line === undefined
        ? `${issue.file}: `
        : `${issue.file}:${issue.line}:${issue.column ?? 1}: `;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}${path}${issue.message}`;
}

/** Text with its line breaks written as `\n`, `\r` (and U+2028/U+2029 as `\u2028`, `\u2029`). */
export function oneLine(text: string): string {
  return /[\n\r\u2028\u2029]/.test(text)
    ? text.replace(/[\n\r\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1))
    : text;
}

export class ConfigError extends AgentError {
  readonly issues: readonly ConfigIssue[];

  constructor(
    code: 'E_CONFIG_INVALID' | 'E_CONFIG_READ' | 'E_CONFIG_PARSE',
    issues: ConfigIssue[],
    options: AgentErrorOptions = {},
  ) {
    // A key or a rule name may hold a line break; each issue stays one line (`\n` written out).
    const lines = issues.map((i) => ({ ...i, path: oneLine(i.path), message: oneLine(i.message) }));
    const first = lines[0];
    const summary = first === undefined ? ERROR_CODES[code] : formatConfigIssue(first);
    const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : '';
    super(code, `${summary}${more}`, options);
    this.issues = lines;
  }
}

export class TimeoutError extends AgentError {
  constructor(what: string, timeoutMs: number) {
    super('E_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`);
  }
}

/** The message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The `code` of a Node.js system error (ENOENT, EACCES, …), if any. */
export function systemErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
