import { describe, expect, it } from 'vitest';
import {
  MAX_DURATION_MS,
  formatDurationMs,
  isDurationTooLong,
  parseDurationMs,
} from '../../../src/lib/duration.js';

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

  it('should accept up to 100 years and nothing longer', () => {
    expect(parseDurationMs('100y')).toBe(MAX_DURATION_MS);
    expect(parseDurationMs(MAX_DURATION_MS / 1000)).toBe(MAX_DURATION_MS);
    expect(new Date(Date.UTC(2200, 0, 1) + MAX_DURATION_MS).toISOString()).toMatch(/^2299-/);
  });

  it.each(['101y', '300000y', '100y1ms', `${'9'.repeat(400)}s`, '5300w', `${MAX_DURATION_MS / 1000 + 1}`])(
    'should reject %j, longer than 100 years',
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
      expect(isDurationTooLong(text)).toBe(true);
    },
  );

  it('should tell a duration that is too long from text that is no duration', () => {
    expect(isDurationTooLong('100y')).toBe(false);
    expect(isDurationTooLong('soon')).toBe(false);
    expect(isDurationTooLong(-1)).toBe(false);
    expect(isDurationTooLong(Number.POSITIVE_INFINITY)).toBe(true);
  });

  it('should reject a number of seconds longer than 100 years', () => {
    expect(parseDurationMs(MAX_DURATION_MS / 1000 + 1)).toBeUndefined();
    expect(parseDurationMs(1e300)).toBeUndefined();
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
