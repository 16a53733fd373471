/**
 * The lifecycle every long-lived part follows: start() returns quickly, shutdown() is safe before start
 * and safe twice. shutdownAll stops parts in reverse order of start, each within a time budget.
 */
import { AgentError, TimeoutError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';

export interface NamedLifecycle {
  name: string;
  shutdown(): Promise<void>;
}

/** Resolves with `promise`, or rejects with TimeoutError after `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Shuts down `parts` in reverse order. Every part gets its chance even when an earlier one fails;
 * failures are logged and reported together at the end.
 */
export async function shutdownAll(
  parts: readonly NamedLifecycle[],
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const failures: string[] = [];
  for (const part of [...parts].reverse()) {
    try {
      await withTimeout(part.shutdown(), timeoutMs, `shutdown of ${part.name}`);
    } catch (err) {
      failures.push(`${part.name}: ${errorMessage(err)}`);
      logger.warn('component shutdown failed', { component: part.name, error: errorMessage(err) });
    }
  }
  if (failures.length > 0) {
    throw new AgentError('E_SHUTDOWN', `shutdown incomplete: ${failures.join('; ')}`);
  }
}
