import { describe, expect, it } from 'vitest';
import { settle } from '../../../src/lib/clock.js';
import { guarded, guardedFailures, guardPromise, promiseOf, reportCaught } from '../../../src/lib/guard.js';
import { MemoryLogger } from '../../../src/lib/logger.js';
import type { Logger } from '../../../src/lib/logger.js';

/** Every test uses places of its own: the failure counts are process-wide. */
let seq = 0;
const place = (what: string): string => `guard test ${what} ${++seq}`;

describe('guarded', () => {
  it('should pass the arguments and `this` through and return undefined', () => {
    const seen: unknown[] = [];
    const target = {
      name: 'target',
      cb: guarded(undefined, place('pass'), function (this: { name: string }, a: number, b: string) {
        seen.push(this.name, a, b);
        return 42;
      }),
    };
    expect(target.cb(1, 'x')).toBeUndefined();
    expect(seen).toEqual(['target', 1, 'x']);
  });

  it('should catch a synchronous throw, count it under its place and log it once', () => {
    const logger = new MemoryLogger();
    const where = place('sync');
    const cb = guarded(logger, where, () => {
      throw new Error('boom');
    });
    expect(() => cb()).not.toThrow();
    expect(guardedFailures().get(where)).toBe(1);
    expect(logger.records).toEqual([
      {
        timeMs: 0,
        level: 'error',
        msg: 'internal error caught; the agent goes on',
        fields: { where, occurrences: 1, error: 'boom' },
      },
    ]);
  });

  it('should catch the rejection of a returned promise', async () => {
    const logger = new MemoryLogger();
    const where = place('async');
    const cb = guarded(logger, where, async () => {
      await settle();
      throw new Error('later');
    });
    cb();
    await settle();
    await settle();
    expect(guardedFailures().get(where)).toBe(1);
    expect(logger.find('error')[0]?.fields).toEqual({ where, occurrences: 1, error: 'later' });
  });

  it('should log the 1st, 10th and 100th failure of a place, and count every one', () => {
    const logger = new MemoryLogger();
    const where = place('repeat');
    const cb = guarded(logger, where, () => {
      throw new Error('again');
    });
    for (let i = 0; i < 150; i++) cb();
    expect(guardedFailures().get(where)).toBe(150);
    expect(logger.records.map((r) => r.fields.occurrences)).toEqual([1, 10, 100]);
  });

  it('should survive a thrown value that cannot be printed and a logger that throws', () => {
    const throwing: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: () => {
        throw new Error('sink broken');
      },
      child: () => throwing,
    };
    const where = place('hostile');
    const unprintable = new Error('hidden');
    Object.defineProperty(unprintable, 'message', {
      get: () => {
        throw new Error('message getter');
      },
    });
    expect(() =>
      guarded(throwing, where, () => {
        throw unprintable;
      })(),
    ).not.toThrow();
    const logger = new MemoryLogger();
    guarded(logger, `${where} logged`, () => {
      throw unprintable;
    })();
    expect(logger.records[0]?.fields.error).toBe('(an error that cannot be printed)');
    expect(guardedFailures().get(where)).toBe(1);
  });

  it('should cut a long error message', () => {
    const logger = new MemoryLogger();
    guarded(logger, place('long'), () => {
      throw new Error('x'.repeat(100_000));
    })();
    expect(String(logger.records[0]?.fields.error).length).toBeLessThanOrEqual(501);
  });

  it('should survive a returned thenable whose then() throws', () => {
    const where = place('thenable');
    const cb = guarded(undefined, where, () => ({
      then: () => {
        throw new Error('bad thenable');
      },
    }));
    expect(() => cb()).not.toThrow();
    expect(guardedFailures().get(where)).toBe(1);
  });
});

describe('guardPromise', () => {
  it('should resolve with the value of a promise that fulfils', async () => {
    await expect(guardPromise(undefined, place('value'), Promise.resolve(7))).resolves.toBe(7);
  });

  it('should resolve with undefined and report a rejection', async () => {
    const logger = new MemoryLogger();
    const where = place('rejected');
    await expect(guardPromise(logger, where, Promise.reject(new Error('nope')))).resolves.toBeUndefined();
    expect(guardedFailures().get(where)).toBe(1);
    expect(logger.find('error', 'internal error caught')).toHaveLength(1);
  });
});

describe('promiseOf', () => {
  it("should give a call's value or promise, and turn a synchronous throw into a rejection with an Error", async () => {
    await expect(promiseOf(() => 3)).resolves.toBe(3);
    await expect(promiseOf(() => Promise.resolve(4))).resolves.toBe(4);
    await expect(
      promiseOf(() => {
        throw new RangeError('bad');
      }),
    ).rejects.toThrow(RangeError);
    await expect(
      promiseOf(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a foreign callback may throw
        throw 'text';
      }),
    ).rejects.toThrow(/^text$/);
  });
});

describe('reportCaught', () => {
  it('should count and log a failure its caller caught, as a guarded callback would', () => {
    const logger = new MemoryLogger();
    const where = place('caught');
    reportCaught(logger, where, new Error('handled here'));
    expect(guardedFailures().get(where)).toBe(1);
    expect(logger.find('error', 'internal error caught')[0]?.fields).toEqual({
      where,
      occurrences: 1,
      error: 'handled here',
    });
  });

  it('should count several failures at once and log when the count passes 1, 10, 100, …', () => {
    const logger = new MemoryLogger();
    const where = place('several');
    reportCaught(logger, where, 'lost', 3);
    reportCaught(logger, where, 'lost', 5);
    reportCaught(logger, where, 'lost', 2);
    reportCaught(logger, where, 'lost', 150);
    expect(guardedFailures().get(where)).toBe(160);
    expect(logger.records.map((r) => r.fields.occurrences)).toEqual([3, 10, 160]);
  });

  it('should ignore a count that is not a positive whole number', () => {
    const where = place('bad count');
    for (const n of [0, -1, 1.5, Number.NaN, Infinity]) reportCaught(undefined, where, 'x', n);
    expect(guardedFailures().has(where)).toBe(false);
  });
});

// Last: it fills the table of places for the rest of this file.
describe('guarded places', () => {
  it('should count failures of more places than it keeps under one overflow place', () => {
    const before = guardedFailures().get('other') ?? 0;
    for (let i = 0; i < 300; i++)
      guarded(undefined, place('many'), () => {
        throw new Error('x');
      })();
    expect(guardedFailures().size).toBeLessThanOrEqual(257);
    expect(guardedFailures().get('other')).toBeGreaterThan(before);
  });
});
