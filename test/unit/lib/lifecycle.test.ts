import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentError, TimeoutError } from '../../../src/lib/errors.js';
import { shutdownAll, withTimeout } from '../../../src/lib/lifecycle.js';
import type { NamedLifecycle } from '../../../src/lib/lifecycle.js';
import { MemoryLogger } from '../../../src/lib/logger.js';

/** withTimeout uses the global timers; vitest's fake timers stand in for them, so nothing waits. */
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const never = () => new Promise<never>(() => undefined);

describe('withTimeout', () => {
  it('should resolve with the value of a promise that settles in time and clear its timer', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, 'answer')).resolves.toBe(42);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should reject with the error of a promise that fails in time', async () => {
    const boom = new Error('boom');
    await expect(withTimeout(Promise.reject(boom), 1000, 'x')).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should reject with a TimeoutError once the time is up, not before', async () => {
    let settled: unknown;
    const p = withTimeout(never(), 5000, 'shutdown of exporter').catch((err: unknown) => {
      settled = err;
    });
    await vi.advanceTimersByTimeAsync(4999);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(settled).toBeInstanceOf(TimeoutError);
    expect((settled as TimeoutError).code).toBe('E_TIMEOUT');
    expect((settled as TimeoutError).message).toBe('shutdown of exporter did not finish within 5000 ms');
  });
});

function part(name: string, calls: string[], shutdown?: () => Promise<void>): NamedLifecycle {
  return {
    name,
    shutdown: () => {
      calls.push(name);
      return shutdown === undefined ? Promise.resolve() : shutdown();
    },
  };
}

describe('shutdownAll', () => {
  it('should shut parts down in reverse order', async () => {
    const calls: string[] = [];
    const logger = new MemoryLogger();
    await shutdownAll([part('a', calls), part('b', calls), part('c', calls)], 1000, logger);
    expect(calls).toEqual(['c', 'b', 'a']);
    expect(logger.records).toEqual([]);
  });

  it('should resolve for no parts', async () => {
    await expect(shutdownAll([], 1000, new MemoryLogger())).resolves.toBeUndefined();
  });

  it('should give every part its chance and report all failures together', async () => {
    const calls: string[] = [];
    const logger = new MemoryLogger();
    const parts = [
      part('server', calls, () => Promise.reject(new Error('close failed'))),
      part('exporter', calls),
      part('reader', calls, () => {
        throw new Error('sync throw');
      }),
      part('probes', calls),
    ];
    const err = await shutdownAll(parts, 1000, logger).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(calls).toEqual(['probes', 'reader', 'exporter', 'server']);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('E_SHUTDOWN');
    expect((err as AgentError).message).toBe('shutdown incomplete: reader: sync throw; server: close failed');
    expect(logger.find('warn', 'component shutdown failed').map((r) => r.fields)).toEqual([
      { component: 'reader', error: 'sync throw' },
      { component: 'server', error: 'close failed' },
    ]);
  });

  it('should time out a part that hangs and go on with the next', async () => {
    const calls: string[] = [];
    const logger = new MemoryLogger();
    let result: unknown = 'pending';
    const done = shutdownAll([part('first', calls), part('stuck', calls, never)], 2000, logger).then(
      () => (result = 'resolved'),
      (e: unknown) => (result = e),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['stuck']);
    await vi.advanceTimersByTimeAsync(2000);
    await done;
    expect(calls).toEqual(['stuck', 'first']);
    expect(result).toBeInstanceOf(AgentError);
    expect((result as AgentError).message).toBe(
      'shutdown incomplete: stuck: shutdown of stuck did not finish within 2000 ms',
    );
  });
});
