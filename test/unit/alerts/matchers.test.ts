import { describe, expect, it } from 'vitest';
import {
  MAX_LABEL_NAME_LENGTH,
  MAX_MATCHER_VALUE_LENGTH,
  MatcherSet,
  formatMatchers,
  makeMatcher,
  parseMatcher,
  parseMatchers,
} from '../../../src/alerts/matchers.js';

describe('parseMatchers', () => {
  it('should read the four operators, quoted and bare values, with or without braces', () => {
    expect(parseMatchers('{alertname="cpu",severity!="info", instance=~"web-.*",job!~db|cache}')).toEqual([
      { name: 'alertname', type: '=', value: 'cpu' },
      { name: 'severity', type: '!=', value: 'info' },
      { name: 'instance', type: '=~', value: 'web-.*' },
      { name: 'job', type: '!~', value: 'db|cache' },
    ]);
  });

  it('should keep commas and escaped quotes inside quoted values', () => {
    expect(parseMatchers('summary="a, \\"b\\"",x=1')).toEqual([
      { name: 'summary', type: '=', value: 'a, "b"' },
      { name: 'x', type: '=', value: '1' },
    ]);
  });

  it('should reject an empty list, a bad name and a bad regex with a usage error', () => {
    expect(() => parseMatchers('{}')).toThrow(/at least one matcher/);
    expect(() => parseMatcher('1x="a"')).toThrow(/invalid matcher/);
    expect(() => parseMatcher('x=~"("')).toThrow(/not a valid regular expression/);
  });

  it('should refuse regex syntax RE2 lacks with a message that says so', () => {
    expect(() => parseMatcher(String.raw`x=~"(a)\\1"`)).toThrow(
      /invalid matcher .*backreferences are not supported/,
    );
    expect(() => parseMatcher('x!~"(?!a).*"')).toThrow(/lookahead and lookbehind are not supported/);
  });

  it('should bound the label name, the value and the regex, and cut long texts short in the message', () => {
    const name = 'n'.repeat(MAX_LABEL_NAME_LENGTH);
    const value = 'v'.repeat(MAX_MATCHER_VALUE_LENGTH);
    expect(parseMatcher(`${name}="${value}"`)).toEqual({ name, type: '=', value });
    expect(parseMatcher(`x=~"${value}"`).value).toBe(value);
    expect(() => parseMatcher(`${name}n="1"`)).toThrow(/label name longer than 128 characters/);
    expect(() => parseMatcher(`x="${value}v"`)).toThrow(/value longer than 1024 characters/);
    expect(() => parseMatcher(`x=~"${value}v"`)).toThrow(/value longer than 1024 characters/);
    try {
      parseMatcher(`x="${value}v"`);
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(200);
    }
  });

  it('should parse a long run of blanks after the operator in linear time', () => {
    // The former pattern (.*?)\s*$ took quadratic time here: minutes for this text.
    const text = `a=x${' '.repeat(500_000)}x`;
    expect(() => parseMatcher(text)).toThrow(/value longer than 1024 characters/);
    expect(parseMatcher(`a=x${' '.repeat(500_000)}`)).toEqual({ name: 'a', type: '=', value: 'x' });
  });

  it('should refuse a list longer than the maximum before compiling any of it', () => {
    expect(parseMatchers('a=~"1",b=~"2"', 2)).toHaveLength(2);
    expect(() => parseMatchers('a=~"1",b=~"2",c=~"(("', 2)).toThrow(/3 matchers, at most 2/);
  });

  it('should check a matcher given as parts without reading its name as matcher syntax', () => {
    expect(makeMatcher('team', '!~', 'db|cache', 'team!~"db|cache"')).toEqual({
      name: 'team',
      type: '!~',
      value: 'db|cache',
    });
    expect(() => makeMatcher('team!', '=', 'x', 'team!="x"')).toThrow(/letters, digits and underscores/);
    expect(() => makeMatcher('team', '=~', '(', 'team=~"("')).toThrow(/missing closing \)/);
  });

  it('should print matchers back in a form it reads', () => {
    const ms = parseMatchers('a="1",b=~"x|y"');
    expect(parseMatchers(formatMatchers(ms))).toEqual(ms);
  });
});

describe('MatcherSet', () => {
  const labels = { alertname: 'cpu', instance: 'web-1' };

  it('should need every matcher to hold, with regexes anchored at both ends', () => {
    expect(new MatcherSet(parseMatchers('alertname="cpu",instance=~"web-.*"')).matches(labels)).toBe(true);
    expect(new MatcherSet(parseMatchers('alertname="cpu",instance=~"web"')).matches(labels)).toBe(false);
    expect(new MatcherSet(parseMatchers('instance!~"db.*"')).matches(labels)).toBe(true);
    expect(new MatcherSet(parseMatchers('alertname!="cpu"')).matches(labels)).toBe(false);
  });

  it('should match a catastrophic regex against a long label, and answer right', () => {
    // A backtracking RegExp takes about 3^n steps on n word characters without the final "!".
    const set = new MatcherSet(parseMatchers(String.raw`instance=~"(\\w|\\w|\\w)*!"`));
    expect(set.matches({ instance: 'a'.repeat(1000) })).toBe(false);
    expect(set.matches({ instance: `${'a'.repeat(1000)}!` })).toBe(true);
    const negated = new MatcherSet(parseMatchers('instance!~"(a+)+b"'));
    expect(negated.matches({ instance: 'a'.repeat(1000) })).toBe(true);
  });

  it('should count the instructions of its regexes', () => {
    expect(new MatcherSet(parseMatchers('a="1",b!="2"')).regexProgramSize).toBe(0);
    const one = new MatcherSet(parseMatchers('a=~"web-.*"')).regexProgramSize;
    expect(one).toBeGreaterThan(0);
    expect(new MatcherSet(parseMatchers('a=~"web-.*",b!~"web-.*"')).regexProgramSize).toBe(2 * one);
  });

  it('should treat a missing label as the empty string', () => {
    expect(new MatcherSet(parseMatchers('team=""')).matches(labels)).toBe(true);
    expect(new MatcherSet(parseMatchers('team!=""')).matches(labels)).toBe(false);
  });
});
