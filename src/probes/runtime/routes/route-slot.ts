/**
 * What a framework left on a raw request about the route it matched, for the HTTP request metrics to read
 * when the response finishes. A framework hook writes the route template (`/users/:id`, mounted prefix
 * included) under ROUTE_SLOT, or NO_ROUTE when the framework handled the request and matched no route.
 */

/** Symbol.for: the same key whichever copy of the agent (CommonJS or ESM build) wrote it. */
export const ROUTE_SLOT = Symbol.for('perf-monitor-agent.route');

/** The framework saw the request and no route matched it. */
export const NO_ROUTE = null;

/** The endpoint label of a request a framework answered with 404 without matching a route. */
export const UNMATCHED_ENDPOINT = 'unmatched';

/** Route templates longer than this are cut (a template comes from code, but a RegExp route can be long). */
export const MAX_TEMPLATE_LENGTH = 256;

export type RouteSlotted = { [ROUTE_SLOT]?: string | typeof NO_ROUTE };

/** A template as a label: cut to MAX_TEMPLATE_LENGTH characters. */
export function boundTemplate(template: string): string {
  return template.length > MAX_TEMPLATE_LENGTH ? `${template.slice(0, MAX_TEMPLATE_LENGTH)}…` : template;
}
