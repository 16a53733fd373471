/**
 * The engine's durable state: pending start times, firing alerts and keep-firing timers, in one JSON file.
 * Every write goes to a temporary file in the same directory, is fsync'd, then renamed over the old file
 * (and the directory fsync'd), so a crash at any moment leaves either the old or the new state, never a torn
 * file. Writes are serialized; a save while one is in flight replaces the queued one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AgentError, errorMessage, systemErrorCode } from '../lib/errors.js';
import {
  NEW_FILE_FLAGS,
  PRIVATE_FILE_MODE,
  ensurePrivateDir,
  ensurePrivateDirAsync,
} from '../lib/private-files.js';
import type { AlertState } from './types.js';

export const STATE_FILE_VERSION = 1;

export interface PersistedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: Exclude<AlertState, 'inactive'>;
  value: number | null;
  activeAtMs: number;
  firedAtMs?: number;
  keepFiringSinceMs?: number;
}

export interface PersistedRule {
  name: string;
  identity: string;
  alerts: PersistedAlert[];
}

export interface PersistedState {
  version: number;
  savedAtMs: number;
  rules: PersistedRule[];
}

export class AlertStateStore {
  readonly file: string;
  private _writing: Promise<void> | undefined;
  private _queued: PersistedState | undefined;
  private _seq = 0;
  private _lastError: string | undefined;

  constructor(file: string) {
    this.file = file;
  }

  /** The last write error, if the last write failed. */
  get lastError(): string | undefined {
    return this._lastError;
  }

  /** Reads the state; undefined when there is no file. Throws an AgentError for a file that is not a state. */
  load(): PersistedState | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if (systemErrorCode(err) === 'ENOENT') return undefined;
      throw new AgentError('E_ALERT_STATE', `cannot read alert state ${this.file}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new AgentError('E_ALERT_STATE', `alert state ${this.file} is not JSON: ${errorMessage(err)}`);
    }
    if (!isState(parsed))
      throw new AgentError(
        'E_ALERT_STATE',
        `alert state ${this.file} has an unknown layout (version 1 expected)`,
      );
    return parsed;
  }

  /** Queues `state` to be written; resolves when it (or a later state) is on disk. */
  save(state: PersistedState): Promise<void> {
    this._queued = state;
    this._writing ??= this._drain().finally(() => {
      this._writing = undefined;
    });
    return this._writing;
  }

  /** Waits for queued writes. */
  async flush(): Promise<void> {
    while (this._writing !== undefined) await this._writing;
  }

  /** Writes `state` at once, synchronously (tests and the final save). */
  saveSync(state: PersistedState): void {
    writeAtomicSync(this.file, `${JSON.stringify(state)}\n`, ++this._seq);
  }

  private async _drain(): Promise<void> {
    while (this._queued !== undefined) {
      const state = this._queued;
      this._queued = undefined;
      try {
        await writeAtomic(this.file, `${JSON.stringify(state)}\n`, ++this._seq);
        this._lastError = undefined;
      } catch (err) {
        this._lastError = errorMessage(err);
      }
    }
  }
}

function tempName(file: string, seq: number): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${seq}.tmp`);
}

async function writeAtomic(file: string, text: string, seq: number): Promise<void> {
  const dir = path.dirname(file);
  await ensurePrivateDirAsync(dir);
  const tmp = tempName(file, seq);
  const handle = await fs.promises.open(tmp, NEW_FILE_FLAGS, PRIVATE_FILE_MODE);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (err) {
    // A failed write (a full disk) leaves no temporary file behind.
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

function writeAtomicSync(file: string, text: string, seq: number): void {
  const dir = path.dirname(file);
  ensurePrivateDir(dir);
  const tmp = tempName(file, seq);
  const fd = fs.openSync(tmp, NEW_FILE_FLAGS, PRIVATE_FILE_MODE);
  try {
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const d = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(d);
    } finally {
      fs.closeSync(d);
    }
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic.
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

function isState(v: unknown): v is PersistedState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<PersistedState>;
  return (
    s.version === STATE_FILE_VERSION &&
    typeof s.savedAtMs === 'number' &&
    Array.isArray(s.rules) &&
    s.rules.every(
      (r) =>
        typeof r === 'object' &&
        r !== null &&
        typeof r.name === 'string' &&
        typeof r.identity === 'string' &&
        Array.isArray(r.alerts) &&
        r.alerts.every(
          (a) =>
            typeof a === 'object' &&
            a !== null &&
            typeof a.activeAtMs === 'number' &&
            (a.state === 'pending' || a.state === 'firing') &&
            typeof a.labels === 'object' &&
            a.labels !== null,
        ),
    )
  );
}
