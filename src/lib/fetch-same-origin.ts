/**
 * fetch() that follows redirects only within the origin it was given. A receiver that answers a redirect to
 * another origin would otherwise get the request again there, with its secret headers, signature and body:
 * such a redirect is refused with a RedirectError naming both URLs redacted. Within the origin, at most
 * MAX_REDIRECTS hops are followed: any redirect for GET/HEAD; for other methods only 307 and 308, which keep
 * the method and body (301/302/303 would turn a POST into a body-less GET and are refused). Every request
 * carries the agent's User-Agent (own-requests.ts), so the preload does not count it as the application's.
 */
import { AgentError } from './errors.js';
import { agentUserAgent } from './own-requests.js';
import { redactUrl } from './redact-url.js';

export const MAX_REDIRECTS = 3;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class RedirectError extends AgentError {
  constructor(message: string) {
    super('E_REDIRECT', message);
  }
}

export interface SameOriginInit extends RequestInit {
  /** The fetch to use (tests inject one). */
  fetch?: typeof fetch;
}

export async function fetchSameOrigin(url: string, init: SameOriginInit = {}): Promise<Response> {
  const { fetch: doFetch = fetch, ...request } = init;
  const headers = new Headers(request.headers);
  headers.set('user-agent', agentUserAgent(headers.get('user-agent')));
  request.headers = headers;
  const method = (request.method ?? 'GET').toUpperCase();
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; ; hop++) {
    const res = await doFetch(current, { ...request, redirect: 'manual' });
    if (!REDIRECTS.has(res.status)) return res;
    // The redirect's body is discarded unread; a failure to discard it changes nothing (deliberately quiet).
    await res.body?.cancel().catch(() => undefined);
    const location = res.headers.get('location');
    const what = `${method} ${redactUrl(current)} answered ${res.status}`;
    if (location === null) throw new RedirectError(`${what} without a Location`);
    const target = URL.canParse(location, current) ? new URL(location, current) : undefined;
    const shown = target === undefined ? '<unparsable URL>' : redactUrl(target.href);
    if (target === undefined || target.origin !== origin)
      throw new RedirectError(`${what}, a redirect to ${shown}: not followed to another origin`);
    if (method !== 'GET' && method !== 'HEAD' && res.status !== 307 && res.status !== 308)
      throw new RedirectError(`${what}, a redirect to ${shown}: only 307 and 308 keep a ${method}`);
    if (hop >= MAX_REDIRECTS)
      throw new RedirectError(`${what}: more than ${MAX_REDIRECTS} redirects, not followed`);
    current = target.href;
  }
}
