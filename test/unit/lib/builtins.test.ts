import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nodeCrypto, nodeHttp, nodeHttps } from '../../../src/lib/builtins.js';

const require = createRequire(import.meta.url);

describe('builtins', () => {
  it('should give the modules require gives, the same object on every call', () => {
    expect(nodeHttp()).toBe(require('node:http'));
    expect(nodeHttps()).toBe(require('node:https'));
    expect(nodeCrypto()).toBe(require('node:crypto'));
    expect(nodeHttp()).toBe(nodeHttp());
    expect(typeof nodeHttp().createServer).toBe('function');
    expect(nodeCrypto().createHash('sha256').update('a').digest('hex')).toBe(
      'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb',
    );
  });
});
