import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/lib/redact-url.js';

describe('redactUrl', () => {
  it('should remove credentials and the query string and keep the rest', () => {
    expect(redactUrl('https://user:s3cret@otel.example:4318/v1/metrics?token=abc')).toBe(
      'https://otel.example:4318/v1/metrics?<redacted>',
    );
    expect(redactUrl('http://127.0.0.1:4318/v1/metrics')).toBe('http://127.0.0.1:4318/v1/metrics');
  });

  it('should never echo an unparsable value', () => {
    expect(redactUrl('not a url with secret')).toBe('<unparsable URL>');
  });
});
