/**
 * Property-based fuzzing of the configuration loader: random YAML text, random mutations of real
 * configurations (values of every type, durations, numbers at the edges, unknown keys), and random `${…}`
 * expansions (with and without defaults, nested, `$$`). Loading never throws anything but a ConfigError, and
 * never hangs; every problem names the file, line and column and (once the YAML parses) the key; every
 * message is one line; what loads is within its documented ranges, and expands as documented.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../../../src/agent/load-config.js';
import type { AgentConfig } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { DEFAULT_CONFIG, SEED_EXAMPLE } from '../config/helpers.js';
import { FUZZ_TIMEOUT_MS, anyText, edgyNumber, fuzzParams } from './fuzz-settings.js';

type Env = Record<string, string>;

const VAR_NAMES = ['A', 'B', 'PORT', 'EMPTY', 'X_1', '_', 'UNSET'];

/** An environment: some of VAR_NAMES set (EMPTY to ""), to numbers, text with `$` and braces, or nothing. */
const env: fc.Arbitrary<Env> = fc
  .dictionary(
    fc.constantFrom(...VAR_NAMES.filter((n) => n !== 'UNSET')),
    fc.oneof(
      fc.constantFrom('', '9091', '-1', '1e400', '0x10', ' 42 ', 'true', '5m', '$', '${A}', '}'),
      anyText(8),
    ),
  )
  .map((e) => ('EMPTY' in e ? { ...e, EMPTY: '' } : e));

/** Text with environment references of every documented form, near misses and literal dollars. */
const expansionText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...VAR_NAMES).map((n) => `\${${n}}`),
      fc
        .tuple(fc.constantFrom(...VAR_NAMES), fc.constantFrom(':-', '-'), anyText(6))
        .map(([n, op, d]) => `\${${n}${op}${d}}`),
      fc.constantFrom(
        '$$',
        '$',
        '${',
        '}',
        '${1X}',
        '${A:-${B}}',
        '${A-}',
        '${ A }',
        '$${A}',
        '${A:=x}',
        'a',
      ),
      anyText(4),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

/** The documented expansion, written as a scanner (the loader uses a regular expression). */
function expand(text: string, e: Env): { value: string; unset?: string } {
  let out = '';
  let unset: string | undefined;
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$$', i)) {
      out += '$';
      i += 2;
      continue;
    }
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-)([^}]*))?\}/.exec(text.slice(i, i + 4096));
    if (m === null) {
      out += text[i];
      i++;
      continue;
    }
    const [whole, name, op, fallback] = m as unknown as [
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    const value = Object.hasOwn(e, name) ? e[name] : undefined;
    if (op === ':-') out += value === undefined || value === '' ? fallback : value;
    else if (op === '-') out += value ?? fallback;
    else if (value === undefined) unset ??= name;
    else out += value;
    i += whole.length;
  }
  return { value: out, unset };
}

/** Leaves of every type the loader may meet. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  edgyNumber,
  fc.boolean(),
  fc.constant(null),
  anyText(12),
  expansionText,
  fc.constantFrom(
    '15s',
    '0s',
    '-5m',
    '1e308',
    `${'9'.repeat(400)}ms`,
    '1h30m',
    '',
    '0.5',
    '65536',
    '.inf',
    '~',
  ),
  fc.constantFrom([], {}, ['system'], [1, 'a'], { a: 1 }),
);

interface Mutation {
  at: number;
  op: 'set' | 'delete' | 'add';
  key: string;
  value: unknown;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Mutation['op']>('set', 'set', 'delete', 'add'),
  key: fc.oneof(
    fc.constantFrom('enabled', 'port', 'name', 'rules', 'interval', '__proto__', 'constructor'),
    anyText(6),
  ),
  value: leaf,
});

const BASES = [SEED_EXAMPLE, DEFAULT_CONFIG].map((file) => parse(fs.readFileSync(file, 'utf8')) as unknown);

/** Every container (mapping or list) of a tree, with the path to it. */
function containers(
  tree: unknown,
  path: (string | number)[] = [],
  out: [unknown, (string | number)[]][] = [],
) {
  if (tree !== null && typeof tree === 'object') {
    out.push([tree, path]);
    for (const [k, v] of Object.entries(tree))
      containers(v, [...path, Array.isArray(tree) ? Number(k) : k], out);
  }
  return out;
}

function mutate(base: unknown, mutations: readonly Mutation[]): unknown {
  const tree = structuredClone(base);
  for (const m of mutations) {
    const all = containers(tree);
    const [node] = all[m.at % all.length]!;
    const keys = Object.keys(node as object);
    const target = keys.length === 0 ? m.key : keys[m.at % keys.length]!;
    if (Array.isArray(node)) {
      const i = Number(target);
      if (m.op === 'delete' && keys.length > 0) node.splice(i, 1);
      else if (m.op === 'add') node.push(m.value);
      else if (keys.length > 0) node[i] = m.value;
    } else {
      const obj = node as Record<string, unknown>;
      if (m.op === 'delete') delete obj[target];
      else
        Object.defineProperty(obj, m.op === 'add' ? m.key : target, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
  }
  return tree;
}

/** Loads; anything thrown must be a ConfigError whose every issue is located (and, past YAML, named). */
function load(text: string, e: Env = {}): AgentConfig | ConfigError {
  try {
    return parseConfigText(text, 'fuzz.yaml', e);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.issues.length).toBeGreaterThan(0);
    expect(err.message, 'one line').not.toMatch(/[\n\r]/);
    for (const issue of err.issues) {
      expect(issue.file).toBe('fuzz.yaml');
      expect(issue.line, `no line: ${JSON.stringify(issue)}`).toEqual(expect.any(Number));
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.column, `no column: ${JSON.stringify(issue)}`).toEqual(expect.any(Number));
      expect(issue.column).toBeGreaterThanOrEqual(1);
      expect(issue.message, 'one line').not.toMatch(/[\n\r]/);
      // Past YAML parsing, a problem names its key (an unknown key named "" has the empty path and says so; an
      // unset variable in a document that is one scalar has no key and names the variable).
      if (
        err.code === 'E_CONFIG_INVALID' &&
        !/^(the top level|unknown key ""|environment variable)/.test(issue.message)
      )
        expect(issue.path, issue.message).not.toBe('');
    }
    return err;
  }
}

/** Every number in a loaded configuration is finite, and every duration a finite, non-negative ms. */
function checkRanges(value: unknown, path = ''): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), path).toBe(true);
  } else if (value !== null && typeof value === 'object') {
    if ('ms' in value && 'text' in value)
      expect((value as { ms: number }).ms, path).toBeGreaterThanOrEqual(0);
    for (const [k, v] of Object.entries(value)) checkRanges(v, `${path}.${k}`);
  }
}

function checkLoaded(config: AgentConfig): void {
  checkRanges(config);
  const pm = config.performance_monitor;
  expect(pm.prometheus.port).toBeGreaterThanOrEqual(0);
  expect(pm.prometheus.port).toBeLessThanOrEqual(65535);
  expect(Number.isInteger(pm.prometheus.port)).toBe(true);
  expect(pm.collection_interval.ms).toBeGreaterThanOrEqual(100);
  expect(pm.collection_interval.ms).toBeLessThanOrEqual(3_600_000);
  expect(config.trend_analysis.storage.retention_days).toBeGreaterThan(0);
}

/** YAML-ish token soup: indentation, flow and block syntax, anchors, aliases, tags, directives. */
const yamlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'performance_monitor:',
        '\n',
        '\n  ',
        '\n    ',
        ': ',
        '- ',
        '{',
        '}',
        '[',
        ']',
        ', ',
        '&a ',
        '*a',
        '!!str ',
        '!!binary ',
        '%YAML 1.2\n',
        '---\n',
        '...\n',
        '"',
        "'",
        '|',
        '>',
        '#',
        '? ',
        '<<: *a',
        'port',
        'rules',
        '${A}',
        '\t',
      ),
      anyText(5),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

describe('configuration loader (fuzz)', () => {
  it(
    'should refuse random YAML text with a located ConfigError, or load it',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      fc.assert(
        fc.property(yamlSoup, env, (text, e) => {
          const config = load(text, e);
          if (!(config instanceof ConfigError)) checkLoaded(config);
        }),
        fuzzParams<[string, Env]>(400, [
          // Found by this property: an alias without its anchor was refused without a line and column.
          ['*a', {}],
          ['performance_monitor:\n  service_name: *nope\n', {}],
          ['&a [*a]', {}],
          ['a: &a\n  b: *a\n', {}],
          ['performance_monitor: !!binary x', {}],
          // Found by the rule property: a duration too long for a number of milliseconds loaded as Infinity.
          [
            `performance_monitor:\n  alerting:\n    notifications:\n      group_wait: ${'9'.repeat(400)}ms\n`,
            {},
          ],
          ['performance_monitor:\n  alerting:\n    notifications:\n      repeat_interval: 1e306\n', {}],
        ]),
      );
    },
  );

  it(
    'should load a mutated configuration within range or name file:line:col and key',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      fc.assert(
        fc.property(
          fc.nat(BASES.length - 1),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          env,
          (b, ms, e) => {
            const config = load(stringify(mutate(BASES[b], ms)), e);
            if (!(config instanceof ConfigError)) checkLoaded(config);
          },
        ),
        fuzzParams(80),
      );
    },
  );

  it('should expand environment references as documented', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(expansionText, expansionText, env, (name, port, e) => {
        const text = `performance_monitor:\n  service_name: ${JSON.stringify(name)}\n  prometheus:\n    port: ${port}\n`;
        // The port goes in unquoted: text YAML would read as something else than a scalar is left out.
        fc.pre(
          !/[#\n\r\u0085\u2028\u2029]/.test(name + port) &&
            !/^[-?:,[\]{}&*!|>'"%@`\s]|[:{}[\],]|\s$/.test(port),
        );
        const config = load(text, e);
        const nameExp = expand(name, e);
        const portExp = expand(port, e);
        if (config instanceof ConfigError) {
          const paths = config.issues.map((i) => i.path);
          const nameBad = nameExp.unset !== undefined || nameExp.value === '';
          const portBad =
            portExp.unset !== undefined ||
            !/^\d+$/.test(portExp.value.trim()) ||
            Number(portExp.value) > 65535;
          expect(nameBad || portBad, config.message).toBe(true);
          if (!nameBad) expect(paths).not.toContain('performance_monitor.service_name');
          if (!portBad) expect(paths).not.toContain('performance_monitor.prometheus.port');
          return;
        }
        expect(config.performance_monitor.service_name).toBe(nameExp.value);
        expect(config.performance_monitor.prometheus.port).toBe(Number(portExp.value));
      }),
      fuzzParams<[string, string, Env]>(300, [
        ['${A:-${B}}', '${PORT:-9091}', { B: 'b' }],
        ['$${A}', '${PORT-1}', { PORT: '' }],
        ['${EMPTY:-d}${EMPTY-e}', '${EMPTY:-80}', { EMPTY: '' }],
      ]),
    );
  });
});
