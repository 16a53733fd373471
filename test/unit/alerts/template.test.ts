import { describe, expect, it } from 'vitest';
import { compileTemplate, expandTemplate, formatGoExp, formatGoFloat } from '../../../src/alerts/template.js';

describe('templates', () => {
  it('should expand labels, the value and a fixed-point value', () => {
    const t = compileTemplate(
      'Disk {{ $labels.mount_point }} at {{$value}}% ({{ $value | printf "%.1f" }}) {{ $labels.none }}.',
    );
    expect(expandTemplate(t, { mount_point: '/data' }, 93.25)).toBe('Disk /data at 93.25% (93.3) .');
  });

  it('should reject what it cannot expand, naming the action', () => {
    expect(() => compileTemplate('{{ humanize $value }}')).toThrow(
      /unsupported template action \{\{ humanize \$value \}\}/,
    );
    expect(() => compileTemplate('open {{ $value')).toThrow(/unclosed/);
  });
});

describe('formatGoFloat', () => {
  it.each([
    [90, '90'],
    [0.1, '0.1'],
    [1.5, '1.5'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [1e6, '1e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [0, '0'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('should print %d as Go does: %s', (v, text) => {
    expect(formatGoFloat(v)).toBe(text);
  });

  it("should print API values as Go's %e", () => {
    expect(formatGoExp(1.5)).toBe('1.5e+00');
    expect(formatGoExp(1234)).toBe('1.234e+03');
    expect(formatGoExp(0.05)).toBe('5e-02');
  });
});
