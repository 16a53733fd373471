/**
 * Shared plumbing of the system probes: reading a /proc or /sys file where absence is expected, and
 * reporting an absent source once rather than on every collection.
 */
import fs from 'node:fs';
import { AgentError, systemErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Probe, ProbeContext, Snapshot } from '../probe.js';

/** Error codes that mean "this file is not here", as opposed to "this file could not be read". */
const MISSING_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR']);

/** True when `err` says the path does not exist. */
export function isMissing(err: unknown): boolean {
  const code = systemErrorCode(err);
  return code !== undefined && MISSING_CODES.has(code);
}

/**
 * Reads a text file. Resolves with undefined when it does not exist; any other failure rejects with an
 * `E_PROBE_READ` AgentError naming the file (an abort passes through as it is).
 */
export async function readOptional(file: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(file, { encoding: 'utf8', signal });
  } catch (err) {
    if (isMissing(err)) return undefined;
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new AgentError('E_PROBE_READ', `cannot read ${file}`, { cause: err });
  }
}

/**
 * Builds `unavailable` snapshots and logs the reason at debug the first time it is seen, not on every
 * collection. A source that comes back and goes away again is logged again.
 */
export class UnavailableReporter {
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

/**
 * What every system probe shares: its context, a logger narrowed to it, unavailable reports logged once,
 * and nothing to start or stop (they read files on demand and hold no handles).
 */
export abstract class SystemProbe implements Probe {
  readonly name: string;
  protected readonly _ctx: ProbeContext;
  protected readonly _logger: Logger;
  protected readonly _unavailable: UnavailableReporter;

  constructor(name: string, ctx: ProbeContext) {
    this.name = name;
    this._ctx = ctx;
    this._logger = ctx.logger.child({ probe: name });
    this._unavailable = new UnavailableReporter(this._logger);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  abstract collect(signal: AbortSignal): Promise<Snapshot>;
}
