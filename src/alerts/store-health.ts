/**
 * Logging of the notification store's writes as a state: the first failed write is an error, the failures
 * that follow it only debug lines, and the first write that works again says so once.
 */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export class StoreHealth {
  private readonly _log: Logger;
  private readonly _storePath: string;
  /** The store failed its last write: the next failure is not logged again, the next success is. */
  private _failing = false;

  constructor(log: Logger, storePath: string) {
    this._log = log;
    this._storePath = storePath;
  }

  /** Logs a failed store write, unless the previous one failed too. */
  failed(msg: string, fields: Record<string, string>, err: unknown): void {
    if (this._failing) {
      this._log.debug(msg, { ...fields, error: errorMessage(err) });
      return;
    }
    this._failing = true;
    this._log.error(msg, { ...fields, error: errorMessage(err) });
  }

  /** A store write succeeded: says so once after failures. */
  writable(): void {
    if (!this._failing) return;
    this._failing = false;
    this._log.info('the notification store is writable again', { store: this._storePath });
  }
}
