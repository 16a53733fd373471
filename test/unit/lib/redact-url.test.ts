import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlParts, redactUrlsIn } from '../../../src/lib/redact-url.js';
import { isSecretParam } from '../../../src/lib/secrets.js';

describe('redactUrl', () => {
  it('should replace the user information and secret query values and keep the rest', () => {
    expect(redactUrl('https://user:s3cret@otel.example:4318/v1/metrics?token=abc')).toBe(
      'https://<redacted>@otel.example:4318/v1/metrics?token=<redacted>',
    );
    expect(redactUrl('http://127.0.0.1:4318/v1/metrics')).toBe('http://127.0.0.1:4318/v1/metrics');
  });

  it('should never echo an unparsable value', () => {
    expect(redactUrl('not a url with secret')).toBe('<unparsable URL>');
  });
});

describe('redactUrlParts', () => {
  it.each([
    ['bolt://neo4j:hunter2@db:7687', 'bolt://<redacted>@db:7687'],
    ['neo4j+s://monitor:p%40ss@db.example:7687/neo4j', 'neo4j+s://<redacted>@db.example:7687/neo4j'],
    ['https://tok3n@hooks.example/x', 'https://<redacted>@hooks.example/x'],
    ['http://a:b@c@host/x', 'http://<redacted>@host/x'],
    ['http://user:pw@[::1]:9090/api?x=1', 'http://<redacted>@[::1]:9090/api?x=1'],
    ['user:pw@db:7687', '<redacted>@db:7687'],
  ])('should redact the user information of %s', (url, expected) => {
    expect(redactUrlParts(url)).toBe(expected);
  });

  it('should redact the values of secret query parameters, whatever their case, and keep the others', () => {
    expect(
      redactUrlParts(
        'https://otel.example/v1/metrics?region=eu&API_KEY=k1&apikey=k2&Token=t&sig=s&X-Amz-Signature=a&subscription-key=b&page=2',
      ),
    ).toBe(
      'https://otel.example/v1/metrics?region=eu&API_KEY=<redacted>&apikey=<redacted>&Token=<redacted>' +
        '&sig=<redacted>&X-Amz-Signature=<redacted>&subscription-key=<redacted>&page=2',
    );
    expect(redactUrlParts('https://h/x?access%5Ftoken=zzz&password=p&client_secret=c&auth=a')).toBe(
      'https://h/x?access%5Ftoken=<redacted>&password=<redacted>&client_secret=<redacted>&auth=<redacted>',
    );
  });

  it('should redact a fragment, where implicit-flow tokens travel', () => {
    expect(redactUrlParts('https://h/cb#access_token=abc')).toBe('https://h/cb#<redacted>');
  });

  it('should leave a URL without credentials as written', () => {
    for (const url of ['bolt://localhost:7687', 'http://HOST:9090', 'http://h/p?a=1&b=&c', 'relative/path'])
      expect(redactUrlParts(url)).toBe(url);
  });
});

describe('redactUrlsIn', () => {
  it('should redact every URL inside free text and leave the words around them', () => {
    expect(
      redactUrlsIn(
        'POST https://u:p@hooks.example/a?token=t1 failed; retry "http://x.example/b?key=k2" and ' +
          "bolt://neo4j:pw@db:7687's pool",
      ),
    ).toBe(
      'POST https://<redacted>@hooks.example/a?token=<redacted> failed; retry ' +
        '"http://x.example/b?key=<redacted>" and bolt://<redacted>@db:7687\'s pool',
    );
  });

  it('should return text without URLs unchanged', () => {
    expect(redactUrlsIn('no url: a@b, c=d?token=x')).toBe('no url: a@b, c=d?token=x');
    expect(redactUrlsIn(':// at the start')).toBe(':// at the start');
  });
});

describe('isSecretParam', () => {
  it.each([
    'token',
    'key',
    'api_key',
    'apikey',
    'api-key',
    'secret',
    'password',
    'sig',
    'signature',
    'auth',
    'access_token',
    'AUTHORIZATION',
    'private_key',
    'X-Amz-Credential',
  ])('should call %s secret', (name) => expect(isSecretParam(name)).toBe(true));

  it.each(['region', 'page', 'keyword', 'author', 'monkey_business', 'step', 'query'])(
    'should not call %s secret',
    (name) => expect(isSecretParam(name)).toBe(false),
  );
});
