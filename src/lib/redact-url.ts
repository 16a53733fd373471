/**
 * URLs fit for logs, error messages and `config print`: the user information (`user:password@`) and the
 * values of query parameters that carry credentials (`token`, `api_key`, `sig`, … see isSecretParam) are
 * replaced by `<redacted>`, and so is a fragment; everything else is kept as written.
 */
import { isSecretParam } from './secrets.js';

const REDACTED_PART = '<redacted>';

/** A URL for logs and pages; a value that is not a URL at all is not echoed. */
export function redactUrl(url: string): string {
  return URL.canParse(url) ? redactUrlParts(url) : '<unparsable URL>';
}

function isSchemeChar(c: number, first: boolean): boolean {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (first) return letter;
  return letter || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46; // digits + - .
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0 || eq === pair.length - 1) return pair;
      return isSecretParam(decodeName(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=${REDACTED_PART}` : pair;
    })
    .join('&');
}

/**
 * Redacts one URL-like text without parsing it as a URL (so that it stays as written): the part between
 * `scheme://` (or the start, when there is no scheme) and the last `@` of the authority, secret query
 * parameter values and the fragment.
 */
export function redactUrlParts(text: string): string {
  let start = 0;
  const sep = text.indexOf('://');
  if (sep > 0) {
    let scheme = true;
    for (let i = 0; i < sep && scheme; i++) scheme = isSchemeChar(text.charCodeAt(i), i === 0);
    if (scheme) start = sep + 3;
  }
  let end = text.length;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '/' || c === '?' || c === '#') {
      end = i;
      break;
    }
  }
  const authority = text.slice(start, end);
  const at = authority.lastIndexOf('@');
  let out = text.slice(0, start) + (at < 0 ? authority : `${REDACTED_PART}@${authority.slice(at + 1)}`);
  let rest = text.slice(end);
  const hash = rest.indexOf('#');
  const fragment = hash < 0 || hash === rest.length - 1 ? '' : `#${REDACTED_PART}`;
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  out += q < 0 ? rest : `${rest.slice(0, q + 1)}${redactQuery(rest.slice(q + 1))}`;
  return out + fragment;
}

/** Characters that end a URL in free text (URLs of logs and error messages are quoted or stand alone). */
const URL_END = new Set([' ', '\t', '\n', '\r', '"', "'", '<', '>', '`']);

/**
 * Redacts every `scheme://…` URL inside free text (an error message, a log field), leaving the words
 * around them alone. Linear in the length of the text.
 */
export function redactUrlsIn(text: string): string {
  if (!text.includes('://')) return text;
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const sep = text.indexOf('://', from);
    if (sep < 0) break;
    let begin = sep;
    while (begin > copied && isSchemeChar(text.charCodeAt(begin - 1), false)) begin--;
    let end = sep + 3;
    while (end < text.length && !URL_END.has(text[end]!)) end++;
    if (begin < sep && isSchemeChar(text.charCodeAt(begin), true)) {
      out += text.slice(copied, begin) + redactUrlParts(text.slice(begin, end));
      copied = end;
    }
    from = end;
  }
  return out + text.slice(copied);
}
