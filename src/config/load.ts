/**
 * Loads the YAML configuration: parse with positions, expand `${VAR}` / `${VAR:-default}` from the
 * environment (the only place that reads it), validate against the schema and the checks the loader is
 * built with (configLoader: the layers above add theirs), and report every problem at once as
 * `file:line:column: key.path: message`, with a "did you mean" hint for misspelt keys and values. The
 * result is deep-frozen.
 *
 * The work is linear in the size of the file, also for a file with a hundred thousand problems: the source
 * is walked once (duplicate keys, environment expansion and the position of every key and value), and
 * problems are located through that index. A message never echoes a value that came from an environment
 * variable whose name looks secret or that lands in a secret key, and URLs in messages lose their
 * credentials.
 */
import fs from 'node:fs/promises';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode, Scalar } from 'yaml';
import type { z } from 'zod';
import { ConfigError, errorMessage, systemErrorCode } from '../lib/errors.js';
import { deepFreeze } from '../lib/deep-freeze.js';
import type { ConfigIssue } from '../lib/errors.js';
import { redactUrlsIn } from '../lib/redact-url.js';
import { isSecretKey } from '../lib/secrets.js';
import { REDACTED, isSecretEntry } from './redact.js';
import { closest } from './suggest.js';
import { configSchema, configSchemaWith } from './schema.js';
import type { AgentConfig, ConfigCheck } from './schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadedConfig {
  config: AgentConfig;
  /** The file it came from, as given. */
  file: string;
  /** The file holds no settings (empty, or comments only): every setting has its default. */
  empty?: boolean;
}

/** Reads and validates configuration: the schema and the checks of the layers above it (ConfigCheck). */
export interface ConfigLoader {
  /** Reads and validates a configuration file. Throws ConfigError listing every issue. */
  readonly loadConfigFile: (file: string, env?: Env) => Promise<LoadedConfig>;
  /** Parses and validates configuration text; `file` is used in messages only. */
  readonly parseConfigText: (text: string, file: string, env?: Env) => AgentConfig;
}

/**
 * A loader that validates with the schema and `checks`. The product's loader, with the checks of every layer,
 * is src/agent/load-config.ts.
 */
export function configLoader(checks: readonly ConfigCheck[]): ConfigLoader {
  const schema = configSchemaWith(checks);
  return {
    loadConfigFile: (file, env = process.env) => loadFile(schema, file, env),
    parseConfigText: (text, file, env = process.env) => parseConfig(schema, text, file, env).config,
  };
}

type ConfigSchema = typeof configSchema;

async function loadFile(schema: ConfigSchema, file: string, env: Env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = systemErrorCode(err);
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot read (${code ?? 'error'})`;
    throw new ConfigError('E_CONFIG_READ', [{ file, path: '', message: why }], { cause: err });
  }
  const { config, empty } = parseConfig(schema, text, file, env);
  return { config, file, empty };
}

function parseConfig(
  schema: ConfigSchema,
  text: string,
  file: string,
  env: Env,
): { config: AgentConfig; empty: boolean } {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by the source walk: yaml's own check compares each key with every earlier
  // key of its mapping, quadratic in the size of a mapping.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const locate = (offset: number | undefined): { line?: number; column?: number } => {
    if (offset === undefined) return {};
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  const parseError = (at: readonly { message: string; offset: number | undefined }[]): ConfigError =>
    new ConfigError(
      'E_CONFIG_PARSE',
      at.map(({ message, offset }) => ({ file, path: '', message, ...locate(offset) })),
    );
  if (doc.errors.length > 0) {
    throw parseError(
      doc.errors.map((e) => ({ message: e.message.split('\n')[0] ?? e.message, offset: e.pos[0] })),
    );
  }

  const source = walkSource(doc, env);
  if (source.duplicateKeys.length > 0) {
    throw parseError(source.duplicateKeys.map((offset) => ({ message: 'Map keys must be unique', offset })));
  }

  // Unset variables are reported with everything else; they expand to empty text meanwhile.
  const issues: ConfigIssue[] = source.envIssues.map((i) => ({
    file,
    path: i.path,
    message: i.message,
    ...locate(i.offset),
  }));

  let input: unknown;
  try {
    input = doc.contents === null ? {} : doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Unresolved aliases and alias bombs surface only here, as plain errors.
    const message = errorMessage(err).split('\n')[0] ?? '';
    throw new ConfigError(
      'E_CONFIG_PARSE',
      [{ file, path: '', message, line: 1, column: 1, ...locate(firstAliasOffset(doc)) }],
      { cause: err },
    );
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('E_CONFIG_INVALID', [
      {
        file,
        path: '',
        message: 'the top level must be a mapping with a performance_monitor: section',
        line: 1,
        column: 1,
        ...locate(doc.contents?.range?.[0]),
      },
    ]);
  }

  const result = schema.safeParse(input);
  if (!result.success) {
    const unsetPaths = new Set(issues.map((i) => i.path));
    const hints: HintBudget = { left: MAX_HINTS };
    for (const zi of result.error.issues) {
      for (const issue of describeIssue(zi, input, hints)) {
        if (unsetPaths.has(issue.path)) continue; // already reported as an unset variable
        let message = withRuleName(issue.keyPath, issue.message, input);
        if (source.secretPaths.has(pathKey(issue.keyPath)) || isSecretPath(issue.keyPath))
          message = conceal(message, valueAt(input, issue.keyPath));
        issue.message = redactUrlsIn(message);
        issues.push({ file, ...issue, ...locate(source.offsetOf(issue.keyPath, issue.atKey)) });
      }
    }
  } else if (issues.length === 0) {
    for (const issue of environmentRules(result.data, env)) {
      issues.push({ file, ...issue, ...locate(source.offsetOf(issue.keyPath, false)) });
    }
  }
  if (issues.length > 0) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new ConfigError(
      'E_CONFIG_INVALID',
      issues.map(({ file: f, path, message, line, column }) => ({ file: f, path, message, line, column })),
    );
  }
  return { config: deepFreeze(result.data!), empty: doc.contents === null };
}

// ---------------------------------------------------------------------------------------------------
// The source walk: duplicate keys, environment expansion, positions

const ENV_REF = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g;

interface EnvIssue {
  path: string;
  message: string;
  offset: number | undefined;
}

interface SourceWalk {
  envIssues: EnvIssue[];
  /** Offsets of keys that repeat an earlier key of the same mapping. */
  duplicateKeys: number[];
  /** Keys (pathKey) of values that hold a secret from the environment: never echoed. */
  secretPaths: Set<string>;
  /** Source offset of the value (or key) at a key path, or of its nearest existing ancestor. */
  offsetOf(keyPath: readonly (string | number)[], atKey: boolean): number | undefined;
}

/** A key path as a map key (unlike formatPath, `a.b` and `["a.b"]` differ). */
function pathKey(parts: readonly (string | number)[]): string {
  return JSON.stringify(parts);
}

/** Whether the value at `parts` is a secret by its key (password, token, a header value, …). */
function isSecretPath(parts: readonly (string | number)[]): boolean {
  const key = parts[parts.length - 1];
  const parent = parts[parts.length - 2];
  return isSecretEntry(typeof key === 'string' ? key : '', typeof parent === 'string' ? parent : '');
}

/** `message` with every spelling of `value` replaced by <redacted>. */
function conceal(message: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return message;
  const text = String(value);
  if (text === '') return message;
  return message.split(JSON.stringify(value)).join(REDACTED).split(text).join(REDACTED);
}

/**
 * Walks the document once, iteratively (no recursion to overflow on deep nesting): finds duplicate keys,
 * expands environment references in every string scalar and records the offset of every key and value by
 * key path. An unquoted scalar that becomes a number or a boolean after expansion takes that type, so
 * `port: ${PORT:-9091}` is a number.
 */
function walkSource(doc: Document, env: Env): SourceWalk {
  const envIssues: EnvIssue[] = [];
  const duplicateKeys: number[] = [];
  const secretPaths = new Set<string>();
  const valueOffsets = new Map<string, number>();
  const keyOffsets = new Map<string, number>();

  const expand = (node: Scalar, parts: readonly (string | number)[], isKey: boolean): void => {
    if (typeof node.value !== 'string' || !node.value.includes('$')) return;
    const original = node.value;
    let missing: string | undefined;
    let fromSecretVariable = false;
    const expanded = original.replace(
      ENV_REF,
      (whole, name: string | undefined, op: string | undefined, fallback: string | undefined) => {
        if (whole === '$$') return '$';
        const value = env[name!];
        if (value !== undefined && value !== '' && isSecretKey(name!)) fromSecretVariable = true;
        if (op === ':-') return value === undefined || value === '' ? (fallback ?? '') : value;
        if (op === '-') return value === undefined ? (fallback ?? '') : value;
        if (value === undefined) {
          missing ??= name;
          return '';
        }
        return value;
      },
    );
    const path = formatPath(parts);
    if (missing !== undefined) {
      envIssues.push({
        path,
        message: `environment variable ${missing} is not set (write \${${missing}:-default} to give a default)`,
        offset: node.range?.[0],
      });
    }
    if (!isKey && expanded !== original && (fromSecretVariable || isSecretPath(parts)))
      secretPaths.add(pathKey(parts));
    node.value = node.type === 'PLAIN' ? retype(expanded) : expanded;
  };

  const stack: { node: unknown; parts: (string | number)[] }[] = [{ node: doc.contents, parts: [] }];
  while (stack.length > 0) {
    const { node, parts } = stack.pop()!;
    if (node === null || typeof node !== 'object' || isAlias(node)) continue;
    const range = (node as YamlNode).range;
    if (range !== undefined && range !== null) valueOffsets.set(pathKey(parts), range[0]);
    if (isScalar(node)) {
      expand(node, parts, false);
    } else if (isMap(node)) {
      const seen = new Set<unknown>();
      const children: { node: unknown; parts: (string | number)[] }[] = [];
      for (const pair of node.items) {
        const key = pair.key;
        if (!isScalar(key)) continue;
        if (seen.has(key.value)) duplicateKeys.push(key.range?.[0] ?? range?.[0] ?? 0);
        else seen.add(key.value);
        expand(key, parts, true);
        const childParts = [...parts, String(key.value)];
        if (key.range !== undefined && key.range !== null) keyOffsets.set(pathKey(childParts), key.range[0]);
        children.push({ node: pair.value, parts: childParts });
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--)
        stack.push({ node: node.items[i], parts: [...parts, i] });
    }
  }

  return {
    envIssues,
    duplicateKeys,
    secretPaths,
    offsetOf(keyPath, atKey) {
      for (let n = keyPath.length; n >= 0; n--) {
        const key = pathKey(keyPath.slice(0, n));
        const offset = atKey && n === keyPath.length && n > 0 ? keyOffsets.get(key) : valueOffsets.get(key);
        if (offset !== undefined) return offset;
      }
      return undefined;
    },
  };
}

function retype(text: string): string | number | boolean {
  if (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text.trim())) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}

/** Checks that need the environment after the schema passed. */
function environmentRules(
  cfg: AgentConfig,
  env: Env,
): { path: string; keyPath: (string | number)[]; message: string }[] {
  const otlp = cfg.performance_monitor.otlp;
  const fromEnv = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (otlp.enabled === true && otlp.endpoint === undefined && (fromEnv === undefined || fromEnv === '')) {
    const keyPath = ['performance_monitor', 'otlp', 'enabled'];
    return [
      {
        path: formatPath(keyPath),
        keyPath,
        message: 'OTLP export is enabled but no endpoint is set (here or in OTEL_EXPORTER_OTLP_ENDPOINT)',
      },
    ];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------
// Issue description and location

interface DescribedIssue {
  path: string;
  keyPath: (string | number)[];
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey: boolean;
}

/** Where the first alias without its anchor stands, else the first alias (an alias bomb): toJS names neither. */
function firstAliasOffset(doc: Document): number | undefined {
  let first: number | undefined;
  let unresolved: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      first ??= node.range?.[0];
      if (node.resolve(doc) === undefined) {
        unresolved = node.range?.[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return unresolved ?? first;
}

/** Names the alert rule an issue is about (`rule high_cpu: …`), so that the rule is found by name too. */
function withRuleName(keyPath: readonly (string | number)[], message: string, input: unknown): string {
  const [pm, section, rules, index] = keyPath;
  if (
    pm !== 'performance_monitor' ||
    section !== 'alerting' ||
    rules !== 'rules' ||
    typeof index !== 'number'
  )
    return message;
  const name = valueAt(input, [pm, section, rules, index, 'name']);
  if (typeof name !== 'string' || message.startsWith('rule ')) return message;
  return `rule ${name}: ${message}`;
}

function formatPath(parts: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

const EXPECTED_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  object: 'a mapping',
  array: 'a list',
  int: 'a whole number',
};

/** At most this many problems of one file get a "did you mean" hint (each costs edit distances). */
const MAX_HINTS = 1000;

interface HintBudget {
  left: number;
}

function hint(value: unknown, candidates: readonly string[], budget: HintBudget): string {
  if (typeof value !== 'string' || budget.left <= 0) return '';
  budget.left--;
  const best = closest(value, candidates);
  return best === undefined ? '' : ` (did you mean ${JSON.stringify(best)}?)`;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, hints: HintBudget): DescribedIssue[] {
  const keyPath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const path = formatPath(keyPath);
  const value = valueAt(input, keyPath);
  const one = (message: string, atKey = false): DescribedIssue[] => [{ path, keyPath, message, atKey }];

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(keyPath);
      return issue.keys.map((key) => {
        const kp = [...keyPath, key];
        return {
          path: formatPath(kp),
          keyPath: kp,
          message: `unknown key ${JSON.stringify(key)}${hint(key, allowed, hints)}`,
          atKey: true,
        };
      });
    }
    case 'invalid_type':
      if (value === undefined) return one('is required');
      return one(`expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}, got ${typeName(value)}`);
    case 'invalid_value': {
      if (value === undefined) return one('is required');
      const values = issue.values.map((v) => String(v));
      return one(
        `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}${hint(value, values, hints)}`,
      );
    }
    case 'invalid_union': {
      if (value === undefined) return one('is required');
      const expected = [
        ...new Set(
          issue.errors
            .flat()
            .map((e) => (e.code === 'invalid_type' ? (EXPECTED_NAMES[e.expected] ?? e.expected) : e.message)),
        ),
      ];
      return one(`expected ${expected.join(' or ')}, got ${typeName(value)}`);
    }
    case 'too_small':
      if (issue.origin === 'array') return one(`needs at least ${String(issue.minimum)} item(s)`);
      if (issue.origin === 'string')
        return one(
          issue.minimum === 1 ? 'must not be empty' : `must be at least ${String(issue.minimum)} characters`,
        );
      return one(
        `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}, got ${JSON.stringify(value)}`,
      );
    case 'too_big':
      return one(
        `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}, got ${JSON.stringify(value)}`,
      );
    case 'invalid_format':
      return one(issue.message.startsWith('Invalid') ? `expected ${issue.format}` : issue.message);
    case 'invalid_key':
      // A record key (label name, user name) that fails its own schema: say why, at the key.
      return one(issue.issues.map((i) => i.message).join('; '), true);
    case 'custom': {
      const from = (issue.params as { suggestFrom?: string[] } | undefined)?.suggestFrom;
      return one(`${issue.message}${from === undefined ? '' : hint(value, from, hints)}`);
    }
    default:
      return one(issue.message);
  }
}

/** The keys the schema allows at `keyPath`, for suggestions. */
function allowedKeys(keyPath: readonly (string | number)[]): string[] {
  let schema: unknown = configSchema;
  const unwrap = (s: unknown): unknown => {
    for (let i = 0; i < 10; i++) {
      const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
      if (def === undefined) return s;
      if (
        def.type === 'default' ||
        def.type === 'prefault' ||
        def.type === 'optional' ||
        def.type === 'nullable' ||
        def.type === 'readonly'
      )
        s = def.innerType;
      else if (def.type === 'pipe') s = def.in;
      else return s;
    }
    return s;
  };
  schema = unwrap(schema);
  for (const p of keyPath) {
    const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(p)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return [];
    if (schema === undefined) return [];
    schema = unwrap(schema);
  }
  const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
}

export { defaultConfigPath } from './default-path.js';
