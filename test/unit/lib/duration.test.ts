import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs } from '../../../src/lib/duration.js';

describe('parseDurationMs', () => {
  it.each([
    [30, 30_000],
    [0, 0],
    [0.5, 500],
    ['30', 30_000],
    ['1.5', 1500],
    ['500ms', 500],
    ['15s', 15_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m30s500ms', 150_500],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    [' 15s ', 15_000],
  ] as const)('should read %j as %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['5x', '-1s', '', '   ', 's', '1 s', '1h 30m', '15S', '1.s', 'ms', '+5s', '5s-', 'NaN'])(
    'should reject %j',
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
    },
  );

  it.each([`${'9'.repeat(400)}ms`, `${'9'.repeat(400)}`, '1e308'])(
    'should reject %j, which is no finite number of milliseconds',
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
    },
  );

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1e306])('should reject the number %d', (n) => {
    expect(parseDurationMs(n)).toBeUndefined();
  });
});

describe('formatDurationMs', () => {
  it.each([
    [0, '0s'],
    [1, '1ms'],
    [250, '250ms'],
    [1000, '1s'],
    [15_000, '15s'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [604_800_000, '7d'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('should write %d ms as %j', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });

  it('should round to whole milliseconds', () => {
    expect(formatDurationMs(1500.4)).toBe('1s500ms');
  });

  it.each([0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 86_400_001, 123_456_789])(
    'should parse back what it writes for %d ms',
    (ms) => {
      expect(parseDurationMs(formatDurationMs(ms))).toBe(ms);
    },
  );

  it.each(['0s', '250ms', '15s', '1m30s', '1h30m', '2d3h', '1d1h1m1s1ms'])(
    'should write a canonical text back unchanged: %j',
    (text) => {
      expect(formatDurationMs(parseDurationMs(text)!)).toBe(text);
    },
  );

  it('should normalize texts to the largest units', () => {
    expect(formatDurationMs(parseDurationMs('90s')!)).toBe('1m30s');
    expect(formatDurationMs(parseDurationMs('1w')!)).toBe('7d');
    expect(formatDurationMs(parseDurationMs(300)!)).toBe('5m');
  });
});
