/**
 * The route template of Koa requests routed by @koa/router. Koa publishes no diagnostics channel and keeps
 * everything on its own context object (`ctx`), which nothing links to Node.js's request; @koa/router
 * writes the matched route there (`ctx._matchedRoute`: the most specific matched route with methods;
 * `ctx.routerPath`, documented: the path of the layer that ran), prefixes included.
 *
 * How: as for neo4j-driver, a synchronous module hook (module.registerHooks, CommonJS and ESM alike; Koa's
 * ESM entry imports the CommonJS lib/application.js) appends one line to koa's lib/application.js that hands
 * the Application class to this file, which wraps `createContext(req, res)`: it calls Koa's own, writes the
 * context it returns on the raw request under a symbol, and returns it unchanged. The HTTP request metrics
 * read the route from that context when the response finishes.
 */
import module from 'node:module';
import type { GuardLogger } from '../../../lib/guard.js';
import type { ModuleHook } from '../../../lib/module-hook.js';
import { guarded } from '../../../lib/guard.js';
import { appendExportsCall } from '../../../lib/module-hook.js';
import { boundTemplate } from './route-slot.js';

const SLOT_NAME = 'perf-monitor-agent.koa';
const SLOT = Symbol.for(SLOT_NAME);
/** The Koa context of a raw request. */
export const KOA_CONTEXT = Symbol.for('perf-monitor-agent.koa-context');
const ORIGINAL = Symbol('perf-monitor-agent.koa-original');
const APPLICATION_FILE = /[\\/]koa[\\/]lib[\\/]application\.js$/;

type CreateContext = ((this: unknown, req: unknown, res: unknown) => unknown) & {
  [ORIGINAL]?: CreateContext;
};

export type KoaRequest = { [KOA_CONTEXT]?: { _matchedRoute?: unknown; routerPath?: unknown } };

/** What Koa says about a request: not a Koa request, or one with or without a matched route. */
export type KoaRoute = { koa: false } | { koa: true; route: string | undefined };

const NOT_KOA: KoaRoute = { koa: false };

export function koaRoute(req: KoaRequest): KoaRoute {
  const ctx = req[KOA_CONTEXT];
  if (typeof ctx !== 'object' || ctx === null) return NOT_KOA;
  const matched = ctx._matchedRoute;
  const route = typeof matched === 'string' ? matched : ctx.routerPath;
  return { koa: true, route: typeof route === 'string' && route !== '' ? boundTemplate(route) : undefined };
}

const link = guarded(undefined, 'koa context', (req: unknown, ctx: unknown): void => {
  if (typeof req === 'object' && req !== null)
    (req as KoaRequest)[KOA_CONTEXT] = ctx as KoaRequest[typeof KOA_CONTEXT];
});

/** Wraps `createContext` of Koa's Application class; returns what undoes it. */
export function wrapCreateContext(application: unknown): () => void {
  const proto = (application as { prototype?: { createContext?: unknown } } | null)?.prototype;
  const original = proto?.createContext as CreateContext | undefined;
  if (proto === undefined || typeof original !== 'function' || original[ORIGINAL] !== undefined)
    return () => undefined;
  const wrapped: CreateContext = function (this: unknown, req: unknown, res: unknown): unknown {
    const ctx = original.call(this, req, res);
    link(req, ctx);
    return ctx;
  };
  wrapped[ORIGINAL] = original;
  proto.createContext = wrapped;
  return () => {
    if (proto.createContext === wrapped) proto.createContext = original;
  };
}

type Slot = { [SLOT]?: (exports: unknown) => void };

export class KoaRoutes {
  private readonly _logger: GuardLogger;
  private _hooks: ModuleHook | undefined;
  private readonly _restore: (() => void)[] = [];

  constructor(logger: GuardLogger) {
    this._logger = logger;
  }

  start(): void {
    if (this._hooks !== undefined || typeof module.registerHooks !== 'function') return;
    // Called from the application's require of koa: a throw would fail that require.
    (globalThis as Slot)[SLOT] = guarded(this._logger, 'koa patch', (exports: unknown) =>
      this._restore.push(wrapCreateContext(exports)),
    );
    // A failure of the hook leaves Koa as the application would have had it: its routes are then not known.
    this._hooks = appendExportsCall(APPLICATION_FILE, SLOT_NAME, this._logger, 'koa module hook');
  }

  shutdown(): void {
    this._hooks?.deregister();
    this._hooks = undefined;
    delete (globalThis as Slot)[SLOT];
    for (const restore of this._restore.splice(0)) restore();
  }
}
