/**
 * The configuration as it can be shown to a person: durations as text, secrets replaced. A value is
 * secret when its key names a credential (password, secret, token, …), when it is a header value, or when
 * it is a basic-auth hash.
 */
import { isSecretKey } from '../lib/secrets.js';

const SECRET_MAPS = new Set(['headers', 'basic_auth_users']);
export const REDACTED = '<redacted>';

function isDuration(v: unknown): v is { ms: number; text: string } {
  return typeof v === 'object' && v !== null && 'ms' in v && 'text' in v && Object.keys(v).length === 2;
}

export function redactConfig(value: unknown, key = '', parentKey = ''): unknown {
  if (isDuration(value)) return value.text;
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, '', key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactConfig(v, k, key);
    return out;
  }
  const secret = SECRET_MAPS.has(parentKey) || isSecretKey(key);
  return secret && value !== undefined && value !== '' ? REDACTED : value;
}
