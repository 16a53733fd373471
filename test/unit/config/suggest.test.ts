import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../../src/config/suggest.js';

describe('editDistance', () => {
  it('should count insertions, deletions and substitutions', () => {
    expect(editDistance('port', 'port')).toBe(0);
    expect(editDistance('prot', 'port')).toBe(2);
    expect(editDistance('metric_prefx', 'metric_prefix')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closest', () => {
  const KEYS = ['collection_interval', 'enabled_collectors', 'prometheus', 'port'];

  it('should suggest the nearest candidate within about a third of the input', () => {
    expect(closest('colection_interval', KEYS)).toBe('collection_interval');
    expect(closest('promethues', KEYS)).toBe('prometheus');
    expect(closest('prt', KEYS)).toBe('port');
  });

  it('should suggest nothing when no candidate is close', () => {
    expect(closest('xyzzy', KEYS)).toBeUndefined();
    expect(closest('anything', [])).toBeUndefined();
  });

  it('should suggest a candidate that differs only in case, but never the input itself', () => {
    expect(closest('Port', KEYS)).toBe('port');
    expect(closest('port', KEYS)).toBeUndefined();
  });
});
