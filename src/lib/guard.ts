/**
 * Guards for the agent's own callbacks: timers, event listeners, diagnostics_channel subscribers, hooks
 * and promises nobody awaits. Inside an application (the preload) an exception escaping one of them would
 * become the application's uncaughtException or unhandledRejection and could end it. A guarded callback
 * catches what it throws or rejects with, counts it by place, logs it the 1st, 10th, 100th, … time at that
 * place (so a callback failing on every tick cannot flood the log), and returns undefined. A catch block
 * that goes on without its result reports the failure the same way (reportCaught). The counts are served as
 * monitor_internal_errors{where}.
 */
import type { Logger } from './logger.js';

/** Places are fixed strings in the code; the bound only keeps a caller that builds them from growing this. */
const MAX_PLACES = 256;
/** Where failures of places beyond MAX_PLACES are counted. */
const OVERFLOW_PLACE = 'other';
const MAX_MESSAGE_LENGTH = 500;

const failures = new Map<string, number>();

/** Failures caught so far in this process, by place. */
export function guardedFailures(): ReadonlyMap<string, number> {
  return failures;
}

function describe(err: unknown): string {
  try {
    const text = err instanceof Error ? String(err.message) : String(err);
    return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
  } catch {
    return '(an error that cannot be printed)';
  }
}

/** Whether a count from `before` (excluded) to `after` (included) reaches 1, 10, 100, …: the ones logged. */
function reachesLogged(before: number, after: number): boolean {
  let power = 1;
  while (power <= before) power *= 10;
  return power <= after;
}

/** A logger, a function that returns the one in force when a failure happens (it may change), or none. */
export type GuardLogger = Logger | (() => Logger | undefined) | undefined;

function report(to: GuardLogger, where: string, err: unknown, count = 1): void {
  try {
    const logger = typeof to === 'function' ? to() : to;
    const place = failures.has(where) || failures.size < MAX_PLACES ? where : OVERFLOW_PLACE;
    const before = failures.get(place) ?? 0;
    const n = before + count;
    failures.set(place, n);
    if (logger !== undefined && reachesLogged(before, n))
      logger.error('internal error caught; the agent goes on', {
        where,
        occurrences: n,
        error: describe(err),
      });
  } catch {
    // A logger that throws must not make the guard the next thing that throws.
  }
}

/**
 * `fn` as a callback that never throws and never leaves a rejected promise behind: a synchronous throw and
 * the rejection of a returned promise are caught and reported under `where`. Without a logger at hand the
 * failure is only counted.
 */
export function guarded<A extends unknown[]>(
  logger: GuardLogger,
  where: string,
  fn: (...args: A) => unknown,
): (...args: A) => void {
  const onRejected = (err: unknown): void => report(logger, where, err);
  return function (this: unknown, ...args: A): void {
    try {
      const result = fn.apply(this, args);
      if (
        typeof result === 'object' &&
        result !== null &&
        typeof (result as PromiseLike<unknown>).then === 'function'
      )
        (result as PromiseLike<unknown>).then(undefined, onRejected);
    } catch (err) {
      report(logger, where, err);
    }
  };
}

/**
 * `call()` as a promise: its value (or the promise it returns), or a rejection with what it threw synchronously
 * (a non-Error wrapped), so that a caller with a timer and a race around it sees one kind of failure.
 */
export function promiseOf<T>(call: () => T | PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * `promise` for a caller that does not await it: resolves with its value, or with undefined once a
 * rejection has been reported under `where`. Never rejects.
 */
export function guardPromise<T>(
  logger: GuardLogger,
  where: string,
  promise: PromiseLike<T>,
): Promise<T | undefined> {
  return Promise.resolve(promise).then(
    (value) => value,
    (err: unknown) => {
      report(logger, where, err);
      return undefined;
    },
  );
}

/**
 * A failure that the caller's own catch block handles (it goes on without the result): counted under `where`
 * and logged the 1st, 10th, 100th, … time, as a guarded callback's would be, so that it is not silent.
 * `count` failures at once (a number reported from elsewhere). Never throws.
 */
export function reportCaught(logger: GuardLogger, where: string, err: unknown, count = 1): void {
  if (Number.isSafeInteger(count) && count > 0) report(logger, where, err, count);
}
