import { describe, expect, it } from 'vitest';
import { parseKeyValueList } from '../../../src/lib/key-value-list.js';

describe('parseKeyValueList', () => {
  it('should return an empty record for nothing', () => {
    expect(parseKeyValueList(undefined)).toEqual({});
    expect(parseKeyValueList('')).toEqual({});
  });

  it('should read comma-separated key=value pairs, trimming blanks around them', () => {
    expect(parseKeyValueList('service.name=api, deployment.environment = prod ,team=a')).toEqual({
      'service.name': 'api',
      'deployment.environment': 'prod',
      team: 'a',
    });
  });

  it('should percent-decode values', () => {
    expect(parseKeyValueList('Authorization=Bearer%20abc%3D%3D,list=a%2Cb,pct=100%25')).toEqual({
      Authorization: 'Bearer abc==',
      list: 'a,b',
      pct: '100%',
    });
  });

  it('should keep everything after the first = as the value', () => {
    expect(parseKeyValueList('token=abc=def')).toEqual({ token: 'abc=def' });
  });

  it('should keep an empty value', () => {
    expect(parseKeyValueList('a=')).toEqual({ a: '' });
  });

  it('should skip malformed entries and keep the good ones', () => {
    expect(parseKeyValueList('novalue,=orphan,a=1,,  =x, b=2')).toEqual({ a: '1', b: '2' });
  });

  it('should keep the raw text of a value that is not valid percent-encoding', () => {
    expect(parseKeyValueList('bad=%E0%A4%A,ok=%41')).toEqual({ bad: '%E0%A4%A', ok: 'A' });
  });

  it('should let a later duplicate key win', () => {
    expect(parseKeyValueList('a=1,a=2')).toEqual({ a: '2' });
  });
});
