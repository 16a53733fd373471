import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertStateStore } from '../../../src/alerts/state-store.js';
import type { PersistedState } from '../../../src/alerts/state-store.js';

function state(savedAtMs: number): PersistedState {
  return {
    version: 1,
    savedAtMs,
    rules: [
      {
        name: 'r',
        identity: 'id',
        alerts: [{ labels: { alertname: 'r' }, annotations: {}, state: 'firing', value: 1, activeAtMs: 5 }],
      },
    ],
  };
}

describe('AlertStateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should answer undefined when there is no file, and read back what it saved', async () => {
    const store = new AlertStateStore(path.join(dir, 'sub', 'state.json'));
    expect(store.load()).toBeUndefined();
    await store.save(state(1));
    expect(store.load()).toEqual(state(1));
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['state.json']);
  });

  it('should write the latest of several saves made while one is in flight', async () => {
    const store = new AlertStateStore(path.join(dir, 'state.json'));
    const writes = [store.save(state(1)), store.save(state(2)), store.save(state(3))];
    await Promise.all(writes);
    await store.flush();
    expect(store.load()?.savedAtMs).toBe(3);
  });

  it('should refuse a file that is not JSON or not a state, naming the file', () => {
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, '{"version": 1, "savedAtMs": 1, "rules": [');
    expect(() => new AlertStateStore(file).load()).toThrow(/alert state .*state\.json is not JSON/);
    fs.writeFileSync(file, JSON.stringify({ version: 2, savedAtMs: 1, rules: [] }));
    expect(() => new AlertStateStore(file).load()).toThrow(/unknown layout/);
    fs.writeFileSync(
      file,
      JSON.stringify({ ...state(1), rules: [{ name: 'r', identity: 'x', alerts: [{ state: 'inactive' }] }] }),
    );
    expect(() => new AlertStateStore(file).load()).toThrow(/unknown layout/);
  });

  it('should keep the error of a failed write and succeed again later', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, '');
    const store = new AlertStateStore(path.join(blocker, 'state.json'));
    await store.save(state(1));
    expect(store.lastError).toMatch(/EEXIST|ENOTDIR/);
    expect(() => store.saveSync(state(1))).toThrow();
  });
});
