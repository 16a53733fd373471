/**
 * The route of an Express 4 or 5 request (NestJS on its Express adapter included), read from what Express
 * documents on the request when the response finishes: `req.route.path` (the matched route's path, a
 * string, an array of strings or a RegExp) and `req.baseUrl` (the path the router was mounted on, as
 * matched). A request with a route is taken as Express's whatever else it has (as before framework
 * detection existed); one without is Express's when it has `req.app` (the application, a function) and
 * `req.originalUrl`, which Express sets on every request it handles.
 */
import { boundTemplate } from './route-slot.js';

export type ExpressRequest = {
  app?: unknown;
  originalUrl?: unknown;
  baseUrl?: unknown;
  route?: { path?: unknown };
};

/** What Express says about a request: not an Express request, or one with or without a route. */
export type ExpressRoute = { express: false } | { express: true; base: string; path: string | undefined };

const NOT_EXPRESS: ExpressRoute = { express: false };

function pathText(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  if (
    Array.isArray(path) &&
    path.length > 0 &&
    path.every((p) => typeof p === 'string' || p instanceof RegExp)
  )
    return path.map(String).join(',');
  return undefined;
}

/**
 * The route Express matched for `req`: `base` is `req.baseUrl` (the raw matched mount path, for the
 * caller to normalize), `path` the route's own path (undefined when no route matched).
 */
export function expressRoute(req: ExpressRequest): ExpressRoute {
  const route = req.route;
  const path = typeof route === 'object' && route !== null ? pathText(route.path) : undefined;
  if (path === undefined && (typeof req.app !== 'function' || typeof req.originalUrl !== 'string'))
    return NOT_EXPRESS;
  const base = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  return { express: true, base, path: path === undefined ? undefined : boundTemplate(path) };
}
