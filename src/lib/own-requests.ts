/**
 * The agent's own outgoing HTTP requests (OTLP push, webhooks, Alertmanager, Prometheus history) carry a
 * User-Agent whose first product token is AGENT_PRODUCT, and the preload's outgoing-HTTP hook skips every
 * request that does, so the application's http_client_* metrics hold only what the application asked for.
 * A header works for both sources the hook reads: undici's request (fetch) lists its headers, and node's
 * ClientRequest (http.request) has getHeader(). It also tells the receiving server who is calling.
 */

/** The first product token of the agent's User-Agent. */
export const AGENT_PRODUCT = 'perf-monitor-agent';

/** True when a User-Agent value starts with the agent's product token. */
export function isAgentUserAgent(value: unknown): boolean {
  if (typeof value !== 'string' || !value.startsWith(AGENT_PRODUCT)) return false;
  const next = value.charCodeAt(AGENT_PRODUCT.length);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x20; /* space */
}

/**
 * The User-Agent of an agent request: the agent's product token alone, or before a User-Agent the
 * configuration sets (which is kept after it, as the OTLP exporter keeps its own).
 */
export function agentUserAgent(configured?: string | null): string {
  if (configured === undefined || configured === null || configured === '') return AGENT_PRODUCT;
  return isAgentUserAgent(configured) ? configured : `${AGENT_PRODUCT} ${configured}`;
}
