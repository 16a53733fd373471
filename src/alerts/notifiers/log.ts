/** Writes each notified alert as one structured log line. */
import type { LogLevel, Logger } from '../../lib/logger.js';
import { alertStatus } from '../payload.js';
import type { NotificationBatch, Notifier } from '../types.js';

export interface LogNotifierOptions {
  name: string;
  logger: Logger;
  /** Level of firing alerts; resolutions are logged at info. */
  level: LogLevel;
}

export class LogNotifier implements Notifier {
  readonly name: string;
  private readonly _logger: Logger;
  private readonly _level: LogLevel;

  constructor(opts: LogNotifierOptions) {
    this.name = opts.name;
    this._logger = opts.logger;
    this._level = opts.level;
  }

  send(batch: NotificationBatch): Promise<void> {
    for (const a of batch.alerts) {
      const status = alertStatus(a);
      const level = status === 'firing' ? this._level : 'info';
      this._logger[level](status === 'firing' ? 'alert firing' : 'alert resolved', {
        alertname: a.labels.alertname,
        severity: a.labels.severity,
        fingerprint: a.fingerprint,
        group: batch.groupKey,
        value: a.value,
        labels: a.labels,
        summary: a.annotations.summary ?? a.annotations.message,
      });
    }
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
