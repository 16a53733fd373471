import { describe, expect, it } from 'vitest';
import { RowShapeError, customQueryPoints } from '../../../../src/probes/neo4j/custom-queries.js';
import type { CustomQuery } from '../../../../src/probes/neo4j/custom-queries.js';

const q = (over: Partial<CustomQuery> = {}): CustomQuery => ({
  name: 'm',
  query: 'RETURN 1',
  labels: [],
  timeoutMs: 1000,
  ...over,
});

describe('customQueryPoints', () => {
  it('should take a single value from the only column', () => {
    expect(customQueryPoints(q(), [{ n: 3 }])).toEqual([{ metric: 'm', labels: {}, value: 3 }]);
  });

  it('should give one series per row with the named label columns', () => {
    const rows = [
      { building: 'A', zones: 12 },
      { building: 'B', zones: 4 },
    ];
    expect(customQueryPoints(q({ labels: ['building'] }), rows)).toEqual([
      { metric: 'm', labels: { building: 'A' }, value: 12 },
      { metric: 'm', labels: { building: 'B' }, value: 4 },
    ]);
  });

  it('should use value_column, else a column called value', () => {
    expect(customQueryPoints(q({ valueColumn: 'b' }), [{ a: 1, b: 2 }])[0]!.value).toBe(2);
    expect(customQueryPoints(q(), [{ a: 1, value: 5 }])[0]!.value).toBe(5);
    expect(customQueryPoints(q(), [])).toEqual([]);
  });

  it('should refuse strings, nulls, missing columns and unlabelled multi-row results with a clear reason', () => {
    const cases: [CustomQuery, Record<string, unknown>[], string][] = [
      [q(), [{ value: 'twelve' }], 'column "value" is "twelve", expected a number'],
      [q(), [{ value: null }], 'column "value" is null, expected a number'],
      [q({ valueColumn: 'x' }), [{ value: 1 }], 'has no column "x"'],
      [q({ labels: ['l'] }), [{ value: 1 }], 'has no label column "l"'],
      [q(), [{ value: 1 }, { value: 2 }], 'returned 2 rows but names no label columns'],
      [q(), [{ a: 1, b: 2 }], 'returns columns a, b; name the value with value_column'],
    ];
    for (const [query, rows, message] of cases) {
      expect(() => customQueryPoints(query, rows)).toThrow(RowShapeError);
      expect(() => customQueryPoints(query, rows)).toThrow(message);
    }
  });
});
