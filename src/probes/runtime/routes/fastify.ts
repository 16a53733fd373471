/**
 * The route template of Fastify 4 and 5 requests (NestJS on its Fastify adapter included). Fastify
 * publishes every instance it creates on the diagnostics channel `fastify.initialization` (both major
 * versions, inside `fastify()`, before the application registers anything); the subscriber adds one
 * `onRequest` hook to the instance through the public `addHook`, which writes `request.routeOptions.url`
 * (the template, plugin prefixes included; undefined for Fastify's 404 handler) on the raw request, where
 * the HTTP request metrics read it when the response finishes. The hook is the first of the instance, so
 * a request that a later hook rejects (authentication, rate limit) still has its route. It changes nothing
 * in the request and always calls `done`; after shutdown it does nothing.
 *
 * Fastify 5 also has the `tracing:fastify.request.handler:*` channels, but they fire only when the handler
 * runs (not for Fastify's 404s nor for requests a hook answered) and Fastify 4 has no such channel.
 */
import diagnostics from 'node:diagnostics_channel';
import type { GuardLogger } from '../../../lib/guard.js';
import { guarded } from '../../../lib/guard.js';
import { boundTemplate, NO_ROUTE, ROUTE_SLOT } from './route-slot.js';
import type { RouteSlotted } from './route-slot.js';

export const FASTIFY_INIT_CHANNEL = 'fastify.initialization';

interface FastifyRequestLike {
  raw?: unknown;
  routeOptions?: { url?: unknown };
}

interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void,
  ): unknown;
}

/** Writes the route of `request` on its raw request (a template, or NO_ROUTE). */
export function markFastifyRoute(request: FastifyRequestLike): void {
  const raw = request.raw;
  if (typeof raw !== 'object' || raw === null) return;
  const url = request.routeOptions?.url;
  (raw as RouteSlotted)[ROUTE_SLOT] = typeof url === 'string' && url !== '' ? boundTemplate(url) : NO_ROUTE;
}

export class FastifyRoutes {
  private _active = false;
  private readonly _mark: (request: FastifyRequestLike) => void;
  private readonly _onInit: (message: unknown) => void;

  constructor(logger: GuardLogger) {
    this._mark = guarded(logger, 'fastify route', (request: FastifyRequestLike): void => {
      if (this._active) markFastifyRoute(request);
    });
    const mark = this._mark;
    // Fastify's hook signature; `done` is called whatever marking did (the guard keeps it from throwing).
    const onRequest = (request: FastifyRequestLike, _reply: unknown, done: () => void): void => {
      mark(request);
      done();
    };
    this._onInit = guarded(logger, 'fastify initialization', (message: unknown): void => {
      const fastify = (message as { fastify?: FastifyLike } | undefined)?.fastify;
      if (typeof fastify?.addHook !== 'function') return;
      fastify.addHook('onRequest', onRequest);
    });
  }

  start(): void {
    if (this._active) return;
    this._active = true;
    diagnostics.subscribe(FASTIFY_INIT_CHANNEL, this._onInit);
  }

  /** Stops adding hooks to new instances; the hooks already added do nothing from now on. */
  shutdown(): void {
    if (!this._active) return;
    this._active = false;
    diagnostics.unsubscribe(FASTIFY_INIT_CHANNEL, this._onInit);
  }
}
