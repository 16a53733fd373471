/**
 * The route template of Hono 4 requests served by @hono/node-server. Hono publishes no diagnostics channel
 * and keeps the matched route on its own Context, which it builds per request inside a private method
 * (`#dispatch`: `new Context(request, { path, matchResult, env, … })`); @hono/node-server passes
 * `{ incoming, outgoing }` as `env`, so the constructor's arguments are where Hono's routing result and
 * Node.js's request meet.
 *
 * How: as for Koa, a synchronous module hook (module.registerHooks, CommonJS and ESM alike) appends one line
 * to Hono's dist/context.js and dist/cjs/context.js that hands the exported Context class to this file,
 * which puts in its place a Proxy of it with only a `construct` trap: Hono's own constructor runs with the
 * same arguments (and the class itself as new.target), the instance is linked to `env.incoming` under a
 * symbol and returned unchanged. No middleware is added, so `app.routes` and the handler chains are the
 * application's (a middleware would not even run for a request that matched no route).
 *
 * The label is what Hono's own routePath(c) (hono/route, the `http.route` of Hono's OpenTelemetry
 * middleware) gives once the response is made: the path, base paths and `app.route()` prefixes included,
 * of the matched route at `c.req.routeIndex`, the handler that answered. A request that matched no route,
 * or whose last handler was a wildcard `ALL` route (`app.use()` middleware, `app.mount()`) and that ended
 * in a 404, went to Hono's not-found handler: it has no route.
 */
import module from 'node:module';
import type { GuardLogger } from '../../../lib/guard.js';
import type { ModuleHook } from '../../../lib/module-hook.js';
import { guarded, reportCaught } from '../../../lib/guard.js';
import { appendBindingCall } from '../../../lib/module-hook.js';
import { boundTemplate } from './route-slot.js';

const SLOT_NAME = 'perf-monitor-agent.hono';
const SLOT = Symbol.for(SLOT_NAME);
/** What Hono made of a raw request: its Context and its router's match result. */
export const HONO_CONTEXT = Symbol.for('perf-monitor-agent.hono-context');
const CONTEXT_FILE = /[\\/]hono[\\/]dist[\\/](?:cjs[\\/])?context\.js$/;
const NOT_FOUND_STATUS = 404;

export interface HonoLink {
  context: unknown;
  /** The router's result: `[[[handler, route], params], …]` first, the route being `{ method, path, … }`. */
  match: unknown;
}

export type HonoRequest = { [HONO_CONTEXT]?: HonoLink };

/** What Hono says about a request: not a Hono request, or one with or without a route. */
export type HonoRoute = { hono: false } | { hono: true; route: string | undefined };

const NOT_HONO: HonoRoute = { hono: false };
const NO_ROUTE: HonoRoute = { hono: true, route: undefined };

type RouteLike = { method?: unknown; path?: unknown };

/** The route of one entry of the match result (`[[handler, route], params]`). */
function routeOf(entry: unknown): RouteLike | undefined {
  const pair = Array.isArray(entry) ? (entry[0] as unknown) : undefined;
  const route = Array.isArray(pair) ? (pair[1] as unknown) : undefined;
  return typeof route === 'object' && route !== null ? route : undefined;
}

/** Which matched route answered: `c.req.routeIndex`, set by Hono's compose for chains of 2 or more. */
function answeringIndex(context: unknown, matched: number): number {
  // A single match is called directly (index 0), and reading c.req would only build a HonoRequest for it.
  if (matched === 1) return 0;
  const index = (context as { req?: { routeIndex?: unknown } } | null)?.req?.routeIndex;
  return typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < matched ? index : 0;
}

/** The route template of a finished request that Hono handled (`status`: the response's). */
export function honoRoute(req: HonoRequest, status: number): HonoRoute {
  const link = req[HONO_CONTEXT];
  if (typeof link !== 'object' || link === null) return NOT_HONO;
  const matched = Array.isArray(link.match) ? (link.match[0] as unknown) : undefined;
  if (!Array.isArray(matched) || matched.length === 0) return NO_ROUTE;
  const route = routeOf(matched[answeringIndex(link.context, matched.length)]);
  const path = route?.path;
  if (typeof path !== 'string' || path === '') return NO_ROUTE;
  // Middleware that passed the request on to Hono's not-found handler.
  if (status === NOT_FOUND_STATUS && route!.method === 'ALL' && path.endsWith('*')) return NO_ROUTE;
  return { hono: true, route: boundTemplate(path) };
}

/** Links a Context to the raw request in its options' env, if any. Runs on every Hono request: no closure. */
function link(context: object, options: unknown): void {
  try {
    if (typeof options !== 'object' || options === null) return;
    const { env, matchResult } = options as { env?: unknown; matchResult?: unknown };
    const incoming = (env as { incoming?: unknown } | null | undefined)?.incoming;
    if (typeof incoming !== 'object' || incoming === null) return;
    const req = incoming as HonoRequest;
    // The first Context wins: a Hono app mounted inside another (app.mount) gets the same env.
    if (req[HONO_CONTEXT] === undefined) req[HONO_CONTEXT] = { context, match: matchResult };
  } catch (err) {
    // Inside Hono's request dispatch: counted (and logged) like a guarded callback's failure, never thrown.
    reportCaught(undefined, 'hono context', err);
  }
}

type Constructor = new (...args: unknown[]) => object;

/** Whether `value` looks like Hono's Context class: a class whose prototype has the `req` getter. */
function isContextClass(value: unknown): value is Constructor {
  if (typeof value !== 'function') return false;
  const proto = (value as { prototype?: unknown }).prototype;
  if (typeof proto !== 'object' || proto === null) return false;
  return typeof Object.getOwnPropertyDescriptor(proto, 'req')?.get === 'function';
}

const wrappers = new WeakSet<object>();

/**
 * A Proxy of Hono's Context class whose `construct` trap links each instance to its raw request; `context`
 * itself when it is not that class or is already wrapped.
 */
export function wrapContextClass(context: unknown): unknown {
  if (!isContextClass(context) || wrappers.has(context)) return context;
  const wrapper: Constructor = new Proxy(context, {
    construct(target, args, newTarget) {
      // new.target is the class itself, as without the Proxy (and V8 keeps its fast path); a subclass's
      // stays the subclass.
      const instance = Reflect.construct(target, args, newTarget === wrapper ? target : newTarget) as object;
      link(instance, (args as unknown[])[1]);
      return instance;
    },
  });
  wrappers.add(wrapper);
  return wrapper;
}

type Slot = { [SLOT]?: (value: unknown, set: (v: unknown) => void) => void };

export class HonoRoutes {
  private readonly _logger: GuardLogger;
  private _hooks: ModuleHook | undefined;
  private readonly _restore: (() => void)[] = [];

  constructor(logger: GuardLogger) {
    this._logger = logger;
  }

  start(): void {
    if (this._hooks !== undefined || typeof module.registerHooks !== 'function') return;
    // Called from the application's require or import of hono: a throw would fail it.
    (globalThis as Slot)[SLOT] = guarded(
      this._logger,
      'hono patch',
      (value: unknown, set: (v: unknown) => void) => {
        const wrapper = wrapContextClass(value);
        if (wrapper === value) return;
        set(wrapper);
        this._restore.push(() => set(value));
      },
    );
    // A failure of the hook leaves Hono as the application would have had it: its routes are then not known.
    this._hooks = appendBindingCall(CONTEXT_FILE, SLOT_NAME, 'Context', this._logger, 'hono module hook');
  }

  shutdown(): void {
    this._hooks?.deregister();
    this._hooks = undefined;
    delete (globalThis as Slot)[SLOT];
    for (const restore of this._restore.splice(0)) restore();
  }
}
