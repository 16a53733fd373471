/**
 * Test doubles for the system probes: fixture paths, a probe context over a fixture tree, a fake
 * statfs, and throw-away proc trees whose files a test rewrites between collections.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock, settle } from '../../../../src/lib/clock.js';
import { MemoryLogger } from '../../../../src/lib/logger.js';
import type { FsStats, HostPaths, ProbeContext, StatFs } from '../../../../src/probes/probe.js';
import type { MetricPoint } from '../../../../src/model/metric.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/host/', import.meta.url));

/** Contents of a fixture file, e.g. fixture('linux-vm', 'proc/stat'). */
export function fixture(tree: string, file: string): string {
  return fs.readFileSync(path.join(FIXTURES, tree, file), 'utf8');
}

export function fixturePaths(tree: string): HostPaths {
  const root = path.join(FIXTURES, tree);
  return { proc: path.join(root, 'proc'), sys: path.join(root, 'sys'), rootfs: '/' };
}

export interface TestContext extends ProbeContext {
  clock: ManualClock;
  logger: MemoryLogger;
}

export function makeContext(paths: HostPaths, statfs: StatFs = rejectAll): TestContext {
  return { clock: new ManualClock(), logger: new MemoryLogger(), paths, statfs };
}

const rejectAll: StatFs = (p) =>
  Promise.reject(Object.assign(new Error(`no stats for ${p}`), { code: 'ENOENT' }));

/** An Error carrying a system error code, as fs would reject. */
export function systemError(code: string): Error {
  return Object.assign(new Error(`${code}: fake`), { code });
}

/**
 * A statfs backed by a map. A value that is an Error rejects; `'hang'` returns a promise that settles
 * only when the test calls release(path). Every call is counted.
 */
export class FakeStatFs {
  readonly calls: string[] = [];
  private readonly _table: Map<string, FsStats | Error | 'hang'>;
  private readonly _waiting = new Map<string, (stats: FsStats) => void>();

  constructor(table: Iterable<[string, FsStats | Error | 'hang']>) {
    this._table = new Map(table);
  }

  readonly statfs: StatFs = (p: string) => {
    this.calls.push(p);
    const entry = this._table.get(p);
    if (entry === undefined) return Promise.reject(systemError('ENOENT'));
    if (entry instanceof Error) return Promise.reject(entry);
    if (entry === 'hang') return new Promise<FsStats>((resolve) => this._waiting.set(p, resolve));
    return Promise.resolve(entry);
  };

  callsFor(p: string): number {
    return this.calls.filter((c) => c === p).length;
  }

  set(p: string, value: FsStats | Error | 'hang'): void {
    this._table.set(p, value);
  }

  /** Lets a hung call return with `stats`. */
  release(p: string, stats: FsStats): void {
    const resolve = this._waiting.get(p);
    if (resolve === undefined) throw new Error(`no hung call for ${p}`);
    this._waiting.delete(p);
    resolve(stats);
  }
}

/** A temporary host tree; write() replaces files between collections. */
export class TempHost {
  readonly root: string;
  readonly paths: HostPaths;

  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'pma-host-'));
    this.paths = { proc: path.join(this.root, 'proc'), sys: path.join(this.root, 'sys'), rootfs: '/' };
    fs.mkdirSync(this.paths.proc);
  }

  /** Writes `text` at a path relative to the tree root, e.g. write('proc/stat', …). */
  write(relative: string, text: string): void {
    const file = path.join(this.root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }

  remove(relative: string): void {
    fs.rmSync(path.join(this.root, relative), { force: true });
  }

  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Points as `metric{k=v} → value`, for readable assertions. */
export function byKey(points: readonly MetricPoint[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of points) {
    const labels = Object.entries(p.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out.set(labels === '' ? p.metric : `${p.metric}{${labels}}`, p.value);
  }
  return out;
}

/** Runs the event loop (no timers, no sleeping) until `done()` holds; fails after many rounds. */
export async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (done()) return;
    await settle();
  }
  throw new Error('condition not reached');
}

export function signal(): AbortSignal {
  return new AbortController().signal;
}
