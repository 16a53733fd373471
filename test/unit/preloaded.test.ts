import { afterEach, describe, expect, it } from 'vitest';
import { claimWorkerHooks } from '../../src/preloaded.js';

const KEY = Symbol.for('perf-monitor-agent.worker-hooks');
const slots = globalThis as Record<symbol, unknown>;

describe('claimWorkerHooks', () => {
  afterEach(() => {
    delete slots[KEY];
  });

  it('should grant the hooks of a thread once', () => {
    expect(claimWorkerHooks()).toBe(true);
    expect(claimWorkerHooks()).toBe(false);
    expect(claimWorkerHooks()).toBe(false);
  });

  it('should keep the claim under a registered symbol, which another copy of the package sees', () => {
    slots[KEY] = true; // as another copy's claim leaves it
    expect(claimWorkerHooks()).toBe(false);
  });
});
