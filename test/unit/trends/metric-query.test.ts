import { describe, expect, it } from 'vitest';
import { checkMetricName, promqlSelector } from '../../../src/trends/metric-query.js';

const KNOWN = new Set(['cpu_percent', 'queue_length']);

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code: 'E_USAGE' });
    return (err as Error).message;
  }
  throw new Error('expected an E_USAGE error');
}

describe('checkMetricName', () => {
  it('should accept a known metric name', () => {
    expect(() => checkMetricName('cpu_percent', KNOWN)).not.toThrow();
    expect(() => checkMetricName('anything_in_grammar')).not.toThrow();
  });

  it.each([
    'cpu_percent{job=~".+"}',
    'cpu_percent or vector(1)',
    'sum(cpu_percent)',
    'cpu_percent[5m]',
    '1cpu',
    '',
    'cpu-percent',
  ])('should refuse %j, which is not a metric name', (name) => {
    expect(usageError(() => checkMetricName(name, KNOWN))).toMatch(/^bad metric name/);
  });

  it('should refuse a name in grammar that the configuration does not know', () => {
    expect(usageError(() => checkMetricName('up', KNOWN))).toBe('unknown metric "up"');
  });

  it('should refuse a name longer than 200 characters without echoing it', () => {
    const message = usageError(() => checkMetricName('a'.repeat(201)));
    expect(message).toBe('metric name longer than 200 characters');
    expect(() => checkMetricName('a'.repeat(200))).not.toThrow();
  });
});

describe('promqlSelector', () => {
  it('should escape label values so that they stay one string literal', () => {
    expect(promqlSelector('p_cpu_percent', { job: 'a"} or up{x="\\', host: 'l1\nl2\r' })).toBe(
      'p_cpu_percent{job="a\\"} or up{x=\\"\\\\",host="l1\\nl2\\r"}',
    );
  });

  it('should refuse a label name out of grammar', () => {
    expect(usageError(() => promqlSelector('p_cpu_percent', { 'a="1"} or up{b': 'x' }))).toMatch(
      /^bad label name/,
    );
  });
});
