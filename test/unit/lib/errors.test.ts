import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RuleCompileError } from '../../../src/alerts/rules.js';
import { compileTemplate } from '../../../src/alerts/template.js';
import {
  AgentError,
  ConfigError,
  ERROR_CODES,
  TimeoutError,
  errorMessage,
  formatConfigIssue,
  systemErrorCode,
} from '../../../src/lib/errors.js';
import type { ErrorCode } from '../../../src/lib/errors.js';
import { RowShapeError } from '../../../src/probes/neo4j/custom-queries.js';
import { Unavailable } from '../../../src/probes/neo4j/sources.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('ERROR_CODES', () => {
  it.each(CODES)('should make %s an AgentError code with a description', (code) => {
    expect(code).toMatch(/^E_[A-Z]+(_[A-Z]+)*$/);
    expect(ERROR_CODES[code].length).toBeGreaterThan(0);
    expect(new AgentError(code, 'x').code).toBe(code);
  });

  it('should give every code a distinct description', () => {
    expect(new Set(Object.values(ERROR_CODES)).size).toBe(CODES.length);
  });

  it('should list every E_ code the sources use', () => {
    const used = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/['"`](E_[A-Z0-9_]+)['"`]/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  it('should be thrown: every code is given to an error constructed somewhere in the sources', () => {
    const constructed = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(CONSTRUCTED_WITH_CODE)) constructed.add(m[1]!);
    }
    expect(CODES.filter((c) => !constructed.has(c))).toEqual([]);
  });
});

/** `new SomeError('E_X'` or `super('E_X'`, the code possibly on the next line. */
const CONSTRUCTED_WITH_CODE = /(?:\bnew\s+[A-Z]\w*|\bsuper)\(\s*['"`](E_[A-Z0-9_]+)['"`]/g;

/** A built-in error thrown or rejected with, or a class extending one: the agent throws AgentErrors. */
const NOT_AN_AGENT_ERROR =
  /\b(?:throw|reject\()\s*new\s+(?:Error|TypeError|RangeError|SyntaxError|ReferenceError)\(|\bextends\s+(?:Error|TypeError|RangeError|SyntaxError|ReferenceError)\b/g;

/** Lines of `source` (1-based) where NOT_AN_AGENT_ERROR matches. */
function builtInErrors(source: string): number[] {
  return [...source.matchAll(NOT_AN_AGENT_ERROR)].map((m) => source.slice(0, m.index).split('\n').length);
}

describe('errors thrown by the sources', () => {
  it('should all be AgentErrors: no built-in error thrown or extended outside lib/errors.ts', () => {
    const findings = sourceFiles(SRC)
      .filter((file) => path.relative(SRC, file) !== path.join('lib', 'errors.ts'))
      .flatMap((file) =>
        builtInErrors(fs.readFileSync(file, 'utf8')).map((line) => `${path.relative(SRC, file)}:${line}`),
      );
    expect(findings).toEqual([]);
  });

  it('should find what it looks for (the scan sees what it should)', () => {
    const source = [
      "throw new Error('x');",
      'throw new TypeError(',
      "  'y',",
      ');',
      "return Promise.reject(new RangeError('z'));",
      'export class OwnError extends Error {}',
      "throw new AgentError('E_USAGE', 'fine');",
      'class Fine extends AgentError {}',
      'const wrapped = err instanceof Error ? err : new Error(String(err)); // not thrown as it is',
    ].join('\n');
    expect(builtInErrors(source)).toEqual([1, 2, 5, 6]);
    expect([...source.matchAll(CONSTRUCTED_WITH_CODE)].map((m) => m[1])).toEqual(['E_USAGE']);
    expect([..."super(\n  'E_STATE', 'x')".matchAll(CONSTRUCTED_WITH_CODE)].map((m) => m[1])).toEqual([
      'E_STATE',
    ]);
  });

  it('should include the agent errors of the subsystems, with their codes and messages', () => {
    expect(new RuleCompileError('r', 'metric', 'rule r: unknown metric "x"')).toMatchObject({
      code: 'E_RULE_INVALID',
      name: 'RuleCompileError',
      message: 'rule r: unknown metric "x"',
      rule: 'r',
      field: 'metric',
    });
    expect(() => compileTemplate('{{ $labels.x ')).toThrow(
      expect.objectContaining({ code: 'E_RULE_INVALID', message: 'unclosed template action "{{"' }),
    );
    expect(new Unavailable('no JMX beans')).toMatchObject({ code: 'E_PROBE_READ', message: 'no JMX beans' });
    expect(new RowShapeError('has no column "v"')).toBeInstanceOf(AgentError);
  });
});

describe('AgentError', () => {
  it('should carry its code, message, name and cause', () => {
    const cause = new Error('EACCES');
    const err = new AgentError('E_PROBE_READ', 'reading /proc/stat', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('E_PROBE_READ');
    expect(err.message).toBe('reading /proc/stat');
    expect(err.name).toBe('AgentError');
    expect(err.cause).toBe(cause);
  });

  it('should have no cause property when none is given', () => {
    expect('cause' in new AgentError('E_STATE', 'not started')).toBe(false);
  });

  it('should take the name of the subclass', () => {
    expect(new TimeoutError('x', 1).name).toBe('TimeoutError');
    expect(new ConfigError('E_CONFIG_INVALID', []).name).toBe('ConfigError');
  });
});

describe('TimeoutError', () => {
  it('should say what did not finish and within how long', () => {
    const err = new TimeoutError('shutdown of exporter', 250);
    expect(err).toBeInstanceOf(AgentError);
    expect(err.code).toBe('E_TIMEOUT');
    expect(err.message).toBe('shutdown of exporter did not finish within 250 ms');
  });
});

describe('formatConfigIssue', () => {
  it.each([
    [{ file: 'a.yaml', line: 3, column: 5, path: 'x.y', message: 'bad' }, 'a.yaml:3:5: x.y: bad'],
    [{ file: 'a.yaml', line: 3, path: 'x.y', message: 'bad' }, 'a.yaml:3:1: x.y: bad'],
    [{ file: 'a.yaml', path: 'x.y', message: 'bad' }, 'a.yaml: x.y: bad'],
    [{ file: 'a.yaml', line: 2, column: 1, path: '', message: 'bad yaml' }, 'a.yaml:2:1: bad yaml'],
    [{ file: 'a.yaml', path: '', message: 'no such file' }, 'a.yaml: no such file'],
    [{ path: 'rules[3].threshold', message: 'expected number' }, 'rules[3].threshold: expected number'],
    [{ path: '', message: 'bad' }, 'bad'],
  ])('should format %j as %j', (issue, text) => {
    expect(formatConfigIssue(issue)).toBe(text);
  });
});

describe('ConfigError', () => {
  it('should keep every issue and summarize the first in its message', () => {
    const issues = [
      { file: 'a.yaml', line: 1, column: 2, path: 'p', message: 'first' },
      { file: 'a.yaml', line: 5, column: 1, path: 'q', message: 'second' },
      { file: 'a.yaml', line: 9, column: 1, path: 'r', message: 'third' },
    ];
    const err = new ConfigError('E_CONFIG_INVALID', issues);
    expect(err.code).toBe('E_CONFIG_INVALID');
    expect(err.issues).toEqual(issues);
    expect(err.message).toBe('a.yaml:1:2: p: first (and 2 more)');
  });

  it('should not mention more issues when there is one', () => {
    expect(
      new ConfigError('E_CONFIG_READ', [{ file: 'a.yaml', path: '', message: 'no such file' }]).message,
    ).toBe('a.yaml: no such file');
  });

  it('should fall back to the code description when there is no issue', () => {
    expect(new ConfigError('E_CONFIG_PARSE', []).message).toBe(ERROR_CODES.E_CONFIG_PARSE);
  });
});

describe('errorMessage', () => {
  it('should read the message of an Error and stringify anything else', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('text')).toBe('text');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});

describe('systemErrorCode', () => {
  it('should return the string code of a system error', () => {
    expect(systemErrorCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('ENOENT');
  });

  it('should return undefined when there is no string code', () => {
    expect(systemErrorCode(new Error('x'))).toBeUndefined();
    expect(systemErrorCode({ code: 7 })).toBeUndefined();
    expect(systemErrorCode(null)).toBeUndefined();
    expect(systemErrorCode('ENOENT')).toBeUndefined();
  });
});
