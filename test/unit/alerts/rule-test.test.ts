import { describe, expect, it } from 'vitest';
import { expandSeriesValues, parseSeriesSelector } from '../../../src/alerts/rule-test.js';

describe('expandSeriesValues', () => {
  it("should expand promtool's notation", () => {
    expect(expandSeriesValues('1+2x3 _ 7x2 _x2 stale 10-5x2')).toEqual([
      1,
      3,
      5,
      7,
      undefined,
      7,
      7,
      7,
      undefined,
      undefined,
      'stale',
      10,
      5,
      0,
    ]);
    expect(expandSeriesValues('Inf -Inf 1e3 -2')).toEqual([Infinity, -Infinity, 1000, -2]);
    expect(expandSeriesValues('NaN')[0]).toBeNaN();
  });

  it('should reject a value it cannot read', () => {
    expect(() => expandSeriesValues('1 two 3')).toThrow(/bad series value "two"/);
  });
});

describe('parseSeriesSelector', () => {
  it('should read the name and labels, with escapes', () => {
    expect(parseSeriesSelector('up{job="a", path="C:\\\\x", q="say \\"hi\\""}')).toEqual({
      metric: 'up',
      labels: { job: 'a', path: 'C:\\x', q: 'say "hi"' },
    });
    expect(parseSeriesSelector('{__name__="x", a="1"}')).toEqual({ metric: 'x', labels: { a: '1' } });
    expect(parseSeriesSelector('plain')).toEqual({ metric: 'plain', labels: {} });
  });

  it('should reject broken labels', () => {
    expect(() => parseSeriesSelector('x{a=1}')).toThrow(/bad labels/);
  });
});
