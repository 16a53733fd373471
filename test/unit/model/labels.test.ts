import { describe, expect, it } from 'vitest';
import { SeriesKeys, escapeLabelValue, labelsText, sampleKey, seriesKey } from '../../../src/model/labels.js';

describe('seriesKey', () => {
  it('should not depend on the order of the labels', () => {
    expect(seriesKey('m', { b: '2', a: '1' })).toBe(seriesKey('m', { a: '1', b: '2' }));
    expect(seriesKey('m', { a: '1', b: '2' })).toBe('m\u0000a\u00011\u0000b\u00012');
  });

  it('should build the keys of no label and of one label as of several (their short path)', () => {
    expect(seriesKey('m', {})).toBe('m');
    expect(seriesKey('m', { a: '1' })).toBe('m\u0000a\u00011');
    expect(seriesKey('', { a: '1' })).toBe('\u0000a\u00011');
    // Only own labels count, as with Object.keys.
    const inherited = Object.create({ z: '9' }) as Record<string, string>;
    inherited.a = '1';
    expect(seriesKey('m', inherited)).toBe('m\u0000a\u00011');
    expect(seriesKey('m', Object.create({ z: '9' }) as Record<string, string>)).toBe('m');
  });

  it('should tell apart metrics, label names and values, and label sets that only join alike', () => {
    const keys = [
      seriesKey('', {}),
      seriesKey('m', {}),
      seriesKey('', { m: '' }),
      seriesKey('m', { a: '1' }),
      seriesKey('n', { a: '1' }),
      seriesKey('m', { a: '2' }),
      seriesKey('m', { b: '1' }),
      seriesKey('m', { a: '1,b=2' }),
      seriesKey('m', { a: '1', b: '2' }),
      seriesKey('m', { a: '', b: '' }),
      seriesKey('m', { ab: '' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('SeriesKeys', () => {
  it('should give the seriesKey of a metric and labels object, per metric, and key a new object anew', () => {
    const keys = new SeriesKeys();
    const eth0 = { interface: 'eth0', direction: 'in' };
    expect(keys.of('network_bytes_recv', eth0)).toBe(seriesKey('network_bytes_recv', eth0));
    // One labels object shared by two metrics (a probe's interface labels): a key for each.
    expect(keys.of('network_bytes_sent', eth0)).toBe(seriesKey('network_bytes_sent', eth0));
    expect(keys.of('network_bytes_recv', eth0)).toBe(seriesKey('network_bytes_recv', eth0));
    const lo = { interface: 'lo', direction: 'in' };
    expect(keys.of('network_bytes_recv', lo)).toBe(seriesKey('network_bytes_recv', lo));
    expect(keys.of('cpu_count', {})).toBe('cpu_count');
  });

  it("should leave a sample's attached key to sampleKey, and build one for a sample without", () => {
    const labels = { queue_name: 'jobs' };
    expect(sampleKey({ metric: 'queue_length', labels })).toBe(seriesKey('queue_length', labels));
    expect(sampleKey({ metric: 'queue_length', labels, key: 'kept' })).toBe('kept');
  });
});

describe('escapeLabelValue', () => {
  it('should escape backslash, newline and double quote as the text exposition does', () => {
    expect(escapeLabelValue('a\\b\n"c"')).toBe('a\\\\b\\n\\"c\\"');
    expect(escapeLabelValue('\\n')).toBe('\\\\n');
  });

  it('should leave every other character as it is', () => {
    const plain = "tab\there, cr\r, 'single', ünïcødé, {}=,";
    expect(escapeLabelValue(plain)).toBe(plain);
    expect(escapeLabelValue('')).toBe('');
  });
});

describe('labelsText', () => {
  it('should write the labels in their order with escaped values', () => {
    expect(labelsText({ b: 'x"y', a: '1' })).toBe('{b="x\\"y",a="1"}');
    expect(labelsText({ b: '2', a: '1' }, ', ', '')).toBe('{b="2", a="1"}');
  });

  it('should give `empty` for no labels', () => {
    expect(labelsText({})).toBe('{}');
    expect(labelsText({}, ', ', '')).toBe('');
  });
});
