/** Keys whose values are credentials: never logged, never printed. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|credential/i;

/**
 * URL query parameters that carry credentials, besides the names SECRET_KEY matches: `key`, `sig`, `auth`
 * and the like on their own or as the last word of a longer name (`subscription-key`, `X-Amz-Signature`).
 */
const SECRET_PARAM = /(^|[-_.])(key|sig|signature|auth|pwd|session|sessionid|sid)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Whether a URL query parameter named `name` carries a credential (token, api_key, sig, …). */
export function isSecretParam(name: string): boolean {
  return SECRET_KEY.test(name) || SECRET_PARAM.test(name);
}
