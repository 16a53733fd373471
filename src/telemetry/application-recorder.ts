/**
 * What an application records about its own work, with the seed's method names in camelCase. Two
 * classes implement it: ApplicationMetrics (the agent's own tables, in the thread that runs the agent)
 * and WorkerApplicationMetrics (in a worker thread, forwarding to the agent in the main thread). The
 * timing helpers are shared here.
 */
import type { Clock } from '../lib/clock.js';
import { reportCaught } from '../lib/guard.js';

export type Status = string | number;

export interface ApplicationRecorder {
  recordAgentExecution(agentName: string, durationSeconds: number, status?: Status): void;
  recordAgentError(agentName: string, errorType: string): void;
  recordApiRequest(endpoint: string, method: string, durationSeconds: number, status: Status): void;
  recordApiError(endpoint: string, method: string, errorType: string): void;
  setQueueLength(queueName: string, length: number): void;
  recordQueueProcessing(queueName: string, durationSeconds: number, items?: number): void;
  recordEntityProcessing(entityType: string, operation: string, durationSeconds: number): void;
  recordCacheHit(cacheName: string): void;
  recordCacheMiss(cacheName: string): void;
  setCacheSize(cacheName: string, size: number): void;
  /**
   * Records a custom metric declared in the config's application_metrics (with its `type` and
   * `labels`): a histogram observes `value`, a counter adds it, a gauge takes it. `labelValues` are in
   * the order of the configured labels.
   */
  record(name: string, value: number, labelValues?: readonly string[]): void;
  /**
   * Runs `fn` (sync or async), records its duration as an agent execution with status `success` or
   * `error`, and on error also an agent error typed by the error's name. Returns what `fn` returns; an
   * error thrown by `fn` is rethrown unchanged.
   */
  timeAgent<T>(agentName: string, fn: () => T): T;
  /** The same for an API request: status `success` or `error`, and an API error on error. */
  timeApiRequest<T>(endpoint: string, method: string, fn: () => T): T;
}

/**
 * What the preload's outgoing-HTTP hook records (not part of the application's API): one request that got a
 * response (its status) or failed (status `error`), and a failure by type.
 */
export interface HttpClientRecorder {
  recordHttpClientRequest(
    serverAddress: string,
    method: string,
    durationSeconds: number,
    status: Status,
  ): void;
  recordHttpClientError(serverAddress: string, method: string, errorType: string): void;
}

function errorType(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** timeAgent/timeApiRequest over the record methods. */
export abstract class ApplicationRecorderBase implements ApplicationRecorder {
  protected abstract readonly _timeClock: Clock;

  abstract recordAgentExecution(agentName: string, durationSeconds: number, status?: Status): void;
  abstract recordAgentError(agentName: string, errorType: string): void;
  abstract recordApiRequest(endpoint: string, method: string, durationSeconds: number, status: Status): void;
  abstract recordApiError(endpoint: string, method: string, errorType: string): void;
  abstract setQueueLength(queueName: string, length: number): void;
  abstract recordQueueProcessing(queueName: string, durationSeconds: number, items?: number): void;
  abstract recordEntityProcessing(entityType: string, operation: string, durationSeconds: number): void;
  abstract recordCacheHit(cacheName: string): void;
  abstract recordCacheMiss(cacheName: string): void;
  abstract setCacheSize(cacheName: string, size: number): void;
  abstract record(name: string, value: number, labelValues?: readonly string[]): void;

  timeAgent<T>(agentName: string, fn: () => T): T {
    return this._time(fn, (seconds, err) => {
      this.recordAgentExecution(agentName, seconds, err === undefined ? 'success' : 'error');
      if (err !== undefined) this.recordAgentError(agentName, errorType(err.error));
    });
  }

  timeApiRequest<T>(endpoint: string, method: string, fn: () => T): T {
    return this._time(fn, (seconds, err) => {
      this.recordApiRequest(endpoint, method, seconds, err === undefined ? 'success' : 'error');
      if (err !== undefined) this.recordApiError(endpoint, method, errorType(err.error));
    });
  }

  private _time<T>(fn: () => T, done: (seconds: number, err: { error: unknown } | undefined) => void): T {
    const clock = this._timeClock;
    const t0 = clock.monotonicMs();
    const finish = (err: { error: unknown } | undefined): void => {
      try {
        done((clock.monotonicMs() - t0) / 1000, err);
      } catch (err) {
        // Recording never throws into the caller. The record methods count bad input themselves, so a throw
        // here is the agent's own fault: counted (in the thread that runs the agent).
        reportCaught(undefined, 'application metrics timing', err);
      }
    };
    let result: T;
    try {
      result = fn();
    } catch (error) {
      finish({ error });
      throw error;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (v) => {
          finish(undefined);
          return v;
        },
        (error: unknown) => {
          finish({ error });
          throw error;
        },
      ) as T;
    }
    finish(undefined);
    return result;
  }
}
