import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/lib/errors.js';
import {
  MAX_REGEX_LENGTH,
  MAX_REGEX_PROGRAM_SIZE,
  compileSafeRegex,
  dfaBudgetBytes,
} from '../../../src/lib/safe-regex.js';

describe('compileSafeRegex', () => {
  it('should match the whole text when anchored and any part when not', () => {
    const anchored = compileSafeRegex('web-.*|db', { anchored: true });
    expect(anchored.test('web-1')).toBe(true);
    expect(anchored.test('db')).toBe(true);
    expect(anchored.test('xdb')).toBe(false);
    expect(anchored.test('dbx')).toBe(false);
    const search = compileSafeRegex('^/(dev|proc)($|/)', { anchored: false });
    expect(search.test('/dev/shm')).toBe(true);
    expect(search.test('/devices')).toBe(false);
    expect(compileSafeRegex('loop', { anchored: false }).test('xloop1')).toBe(true);
  });

  it('should not let . match a newline, as RE2 and RegExp do by default', () => {
    expect(compileSafeRegex('a.*', { anchored: true }).test('ab\nc')).toBe(false);
  });

  it('should finish a catastrophic pattern on a long text, with the right answer', () => {
    // On a backtracking RegExp each of these runs for longer than the age of the universe.
    const text = 'a'.repeat(50_000);
    expect(compileSafeRegex('(\\w|\\w|\\w)*!', { anchored: true }).test(text)).toBe(false);
    expect(compileSafeRegex('(\\w|\\w|\\w)*!', { anchored: true }).test(`${text}!`)).toBe(true);
    expect(compileSafeRegex('(a+)+$', { anchored: false }).test(`${text}b`)).toBe(false);
    expect(compileSafeRegex('(a|aa)+b', { anchored: false }).test(text)).toBe(false);
  });

  it('should refuse backreferences and lookaround with a message that says so', () => {
    expect(() => compileSafeRegex('(a)\\1', { anchored: true })).toThrow(/backreferences are not supported/);
    expect(() => compileSafeRegex('(?<n>a)\\k<n>', { anchored: true })).toThrow(
      /backreferences are not supported/,
    );
    for (const p of ['(?=a)a', '(?!a)b', '(?<=a)b', '(?<!a)b']) {
      expect(() => compileSafeRegex(p, { anchored: true })).toThrow(
        /lookahead and lookbehind are not supported/,
      );
    }
  });

  it('should refuse invalid syntax with a usage error naming the problem', () => {
    let error: unknown;
    try {
      compileSafeRegex('(', { anchored: true });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('E_USAGE');
    expect((error as AgentError).message).toMatch(/missing closing \)/);
    expect(() => compileSafeRegex('a**', { anchored: true })).toThrow(/not a valid regular expression/);
  });

  it('should refuse a source longer than the limit and accept one at the limit', () => {
    expect(compileSafeRegex('a'.repeat(MAX_REGEX_LENGTH), { anchored: true }).test('a')).toBe(false);
    expect(() => compileSafeRegex('a'.repeat(MAX_REGEX_LENGTH + 1), { anchored: true })).toThrow(
      new RegExp(`longer than ${MAX_REGEX_LENGTH} characters`),
    );
  });

  it('should refuse a short source that compiles to a huge program', () => {
    const source = `(?:${['\\w', '\\d', '\\s', 'x', 'y', 'z', 'q', 'r', 't', 'u', 'v', 'k'].map((p) => `${p}{999}`).join('|')})`;
    expect(source.length).toBeLessThanOrEqual(MAX_REGEX_LENGTH);
    expect(() => compileSafeRegex(source, { anchored: true })).toThrow(
      new RegExp(`too large: it compiles to \\d+ instructions, at most ${MAX_REGEX_PROGRAM_SIZE}`),
    );
  });

  it('should give each pattern a DFA budget in proportion to its program', () => {
    const small = compileSafeRegex('web-.*', { anchored: true });
    const big = compileSafeRegex('[\\p{L}\\p{N}]{1000}', { anchored: true });
    expect(small.dfaBudgetBytes).toBe(16 * 1024);
    expect(big.dfaBudgetBytes).toBe(big.programSize * 512);
    expect(dfaBudgetBytes(small.programSize)).toBe(small.dfaBudgetBytes);
    expect(dfaBudgetBytes(100_000)).toBe(1024 * 1024);
  });

  it('should keep matching correctly once the DFA budget is spent', () => {
    const re = compileSafeRegex('[\\p{L}\\p{N}]{3,40}', { anchored: true });
    fc.assert(
      fc.property(fc.string({ maxLength: 60, unit: 'grapheme' }), (text) => {
        expect(re.test(text)).toBe(/^[\p{L}\p{N}]{3,40}$/u.test(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('should agree with RegExp on simple patterns, anchored and not', () => {
    const patterns = ['a|b', 'x*y+', '[0-9]{2,3}', 'web-.*', '(ab)*c?', '\\d+\\.\\d+'];
    fc.assert(
      fc.property(
        fc.constantFrom(...patterns),
        fc.string({
          maxLength: 12,
          unit: fc.constantFrom('a', 'b', 'c', 'x', 'y', '1', '2', '.', '-', 'w', 'e'),
        }),
        fc.boolean(),
        (pattern, text, anchored) => {
          const expected = new RegExp(anchored ? `^(?:${pattern})$` : pattern).test(text);
          expect(compileSafeRegex(pattern, { anchored }).test(text)).toBe(expected);
        },
      ),
    );
  });
});
