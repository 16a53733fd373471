/**
 * An application's OpenTelemetry context, for tests: a context manager on AsyncLocalStorage (what
 * @opentelemetry/context-async-hooks provides; the agent itself needs none) and a helper that runs a function
 * inside a span context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import type { Context, ContextManager } from '@opentelemetry/api';

export class AlsContextManager implements ContextManager {
  private readonly _als = new AsyncLocalStorage<Context>();

  active(): Context {
    return this._als.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this._als.run(ctx, () => fn.call(thisArg, ...args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, () => fn(...args))) as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this._als.disable();
    return this;
  }
}

/** Registers an AlsContextManager as the global one; returns the function that unregisters it. */
export function installContextManager(): () => void {
  context.setGlobalContextManager(new AlsContextManager());
  return () => context.disable();
}

/** Runs `fn` with a span of these ids active (sampled unless said otherwise). */
export function inSpan<T>(traceId: string, spanId: string, fn: () => T, sampled = true): T {
  const ctx = trace.setSpanContext(context.active(), {
    traceId,
    spanId,
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  });
  return context.with(ctx, fn);
}
