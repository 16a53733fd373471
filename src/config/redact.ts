/**
 * The configuration as it can be shown to a person: durations as text, secrets replaced. A value is
 * secret when its key names a credential (password, secret, token, …), when it is a header value, or when
 * it is a basic-auth hash. URLs keep their shape but lose their credentials: the user information
 * (`bolt://user:pw@db` → `bolt://<redacted>@db`) and the values of secret query parameters (`?api_key=`,
 * `token=`, `sig=`, …).
 */
import { redactUrlParts, redactUrlsIn } from '../lib/redact-url.js';
import { isSecretKey } from '../lib/secrets.js';

const SECRET_MAPS = new Set(['headers', 'basic_auth_users']);
/** Keys whose values are URLs (also without a scheme, such as `user:pw@db:7687`). */
const URL_KEYS = new Set(['url', 'uri', 'endpoint', 'external_url']);
export const REDACTED = '<redacted>';

function isDuration(v: unknown): v is { ms: number; text: string } {
  return typeof v === 'object' && v !== null && 'ms' in v && 'text' in v && Object.keys(v).length === 2;
}

/** Whether the value under `key` (in the mapping under `parentKey`) is a secret. */
export function isSecretEntry(key: string, parentKey: string): boolean {
  return SECRET_MAPS.has(parentKey) || isSecretKey(key);
}

export function redactConfig(value: unknown, key = '', parentKey = ''): unknown {
  if (isDuration(value)) return value.text;
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, '', key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactConfig(v, k, key);
    return out;
  }
  if (isSecretEntry(key, parentKey)) return value !== undefined && value !== '' ? REDACTED : value;
  if (typeof value !== 'string') return value;
  return URL_KEYS.has(key) ? redactUrlParts(value) : redactUrlsIn(value);
}
