import { describe, expect, it } from 'vitest';
import { lowerBound, upperBound } from '../../../src/lib/sorted-search.js';

describe('lowerBound and upperBound', () => {
  const a = [1, 2, 2, 2, 5, 9];

  it('should find the first value ≥ x and the first value > x', () => {
    expect(lowerBound(a, 2)).toBe(1);
    expect(upperBound(a, 2)).toBe(4);
    expect(lowerBound(a, 3)).toBe(4);
    expect(upperBound(a, 3)).toBe(4);
    expect(lowerBound(a, 0)).toBe(0);
    expect(upperBound(a, 9)).toBe(6);
  });

  it('should search only [from, to)', () => {
    expect(lowerBound(a, 1, 2)).toBe(2);
    expect(upperBound(a, 9, 0, 4)).toBe(4);
    const f = Float64Array.from([3, 4, 0, 0]);
    expect(lowerBound(f, 5, 0, 2)).toBe(2);
  });

  it('should agree with a linear scan on random arrays', () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 200; trial++) {
      const values = Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 10)).sort(
        (x, y) => x - y,
      );
      const x = Math.floor(rand() * 12) - 1;
      const first = (pred: (v: number) => boolean) => {
        const i = values.findIndex(pred);
        return i < 0 ? values.length : i;
      };
      expect(lowerBound(values, x)).toBe(first((v) => v >= x));
      expect(upperBound(values, x)).toBe(first((v) => v > x));
    }
  });
});
