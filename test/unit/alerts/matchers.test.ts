import { describe, expect, it } from 'vitest';
import { MatcherSet, formatMatchers, parseMatcher, parseMatchers } from '../../../src/alerts/matchers.js';

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

  it('should treat a missing label as the empty string', () => {
    expect(new MatcherSet(parseMatchers('team=""')).matches(labels)).toBe(true);
    expect(new MatcherSet(parseMatchers('team!=""')).matches(labels)).toBe(false);
  });
});
