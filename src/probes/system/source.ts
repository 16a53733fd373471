/**
 * Shared plumbing of the system probes: their source files (source-files.ts), and reporting an absent source
 * once rather than on every collection.
 */
import path from 'node:path';
import type { Logger } from '../../lib/logger.js';
import { promiseOf } from '../../lib/guard.js';
import type { Probe, ProbeContext, Snapshot } from '../probe.js';
import { SourceFiles } from '../source-files.js';

/**
 * Builds `unavailable` snapshots and logs the reason at debug the first time it is seen, not on every
 * collection. A source that comes back and goes away again is logged again.
 */
class UnavailableReporter {
  private readonly _logger: Logger;
  private _lastReason: string | undefined;

  constructor(logger: Logger) {
    this._logger = logger;
  }

  unavailable(reason: string): Snapshot {
    if (this._lastReason !== reason) {
      this._lastReason = reason;
      this._logger.debug('probe source unavailable', { reason });
    }
    return { status: 'unavailable', points: [], reason };
  }

  /** Call when the source was read, so that a later absence is logged again. */
  available(): void {
    this._lastReason = undefined;
  }
}

/** Splits on runs of spaces and tabs, without a regular expression per line. */
export function splitFields(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const blank = c === 32 || c === 9;
    if (blank) {
      if (start >= 0) {
        out.push(line.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(line.slice(start));
  return out;
}

/** The fields of every line of `text` that has at least `min` of them (shorter lines are skipped). */
export function fieldLines(text: string, min: number): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    const fields = splitFields(line);
    if (fields.length >= min) out.push(fields);
  }
  return out;
}

function joined(cache: Map<string, string>, root: string, rel: string): string {
  let p = cache.get(rel);
  if (p === undefined) {
    p = path.join(root, rel);
    cache.set(rel, p);
  }
  return p;
}

/**
 * What every system probe shares: its context, a logger narrowed to it, unavailable reports logged once,
 * and the source files it keeps open between collections (closed on shutdown).
 */
export abstract class SystemProbe implements Probe {
  readonly name: string;
  protected readonly _ctx: ProbeContext;
  protected readonly _logger: Logger;
  protected readonly _unavailable: UnavailableReporter;
  protected readonly _files: SourceFiles;
  private readonly _procPaths = new Map<string, string>();
  private readonly _sysPaths = new Map<string, string>();

  constructor(name: string, ctx: ProbeContext) {
    this.name = name;
    this._ctx = ctx;
    this._logger = ctx.logger.child({ probe: name });
    this._unavailable = new UnavailableReporter(this._logger);
    this._files = new SourceFiles(ctx.clock);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Runs `_collect`, turning a synchronous throw into a rejection as the Probe contract says. */
  collect(signal: AbortSignal): Promise<Snapshot> {
    return promiseOf(() => this._collect(signal));
  }

  /** `path.join(<proc root>, rel)`, made once per probe: path.join normalizes on every call. */
  protected _procPath(rel: string): string {
    return joined(this._procPaths, this._ctx.paths.proc, rel);
  }

  /** `path.join(<sys root>, rel)`, made once per probe. */
  protected _sysPath(rel: string): string {
    return joined(this._sysPaths, this._ctx.paths.sys, rel);
  }

  /** Closes the probe's open source files. */
  shutdown(): Promise<void> {
    this._files.close();
    return Promise.resolve();
  }

  /** Reads the source; most probes do it synchronously (see SourceFiles). */
  protected abstract _collect(signal: AbortSignal): Snapshot | Promise<Snapshot>;
}

/** A system probe whose read never waits: the runner calls collectSync (see Probe.collectSync). */
export abstract class SyncSystemProbe extends SystemProbe {
  collectSync(): Snapshot {
    return this._collect();
  }

  protected abstract override _collect(): Snapshot;
}
