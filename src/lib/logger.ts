/**
 * Structured logging. Components receive a Logger and narrow it with child({ probe: 'cpu' }); messages
 * are fixed strings and the variable parts go in fields. Secrets never reach a sink: fields whose key
 * looks like a credential are replaced before formatting, and so are the credentials inside URLs in any
 * field (user information, `?token=`/`api_key=`/`sig=`… values).
 */
import fs from 'node:fs';
import path from 'node:path';
import { APPEND_FILE_FLAGS, PRIVATE_FILE_MODE, ensurePrivateDir } from './private-files.js';
import { redactUrlsIn } from './redact-url.js';
import { isSecretKey } from './secrets.js';
import type { Clock } from './clock.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Replaces the values of credential-like keys and the credentials in URLs, at any depth. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactUrlsIn(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error)
    return { message: redactUrlsIn(value.message), code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== '' ? '[redacted]' : redactFields(v, depth + 1);
  }
  return out;
}

export interface LogRecord {
  timeMs: number;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

/** Where formatted lines go. */
export interface LogSink {
  write(line: string): void;
  close?(): void;
}

export type LogFormat = 'text' | 'json';

export function formatRecord(record: LogRecord, format: LogFormat): string {
  const fields = redactFields(record.fields) as LogFields;
  const time = new Date(record.timeMs).toISOString();
  if (format === 'json') {
    return JSON.stringify({ time, level: record.level, msg: record.msg, ...fields });
  }
  let line = `${time} ${record.level.toUpperCase().padEnd(5)} ${record.msg}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
  }
  return line;
}

export interface StructuredLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  sinks: LogSink[];
  clock: Clock;
}

/** A Logger whose four levels go to one method. */
abstract class LevelLogger implements Logger {
  debug(msg: string, fields?: LogFields): void {
    this._log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this._log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this._log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this._log('error', msg, fields);
  }

  abstract child(fields: LogFields): Logger;

  protected abstract _log(level: LogLevel, msg: string, fields?: LogFields): void;
}

export class StructuredLogger extends LevelLogger {
  private readonly _opts: StructuredLoggerOptions;
  private readonly _fields: LogFields;

  constructor(opts: StructuredLoggerOptions, fields: LogFields = {}) {
    super();
    this._opts = opts;
    this._fields = fields;
  }

  child(fields: LogFields): Logger {
    return new StructuredLogger(this._opts, { ...this._fields, ...fields });
  }

  protected _log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVEL_RANK[level] < LEVEL_RANK[this._opts.level]) return;
    const record: LogRecord = {
      timeMs: this._opts.clock.nowMs(),
      level,
      msg,
      fields: fields === undefined ? this._fields : { ...this._fields, ...fields },
    };
    const line = formatRecord(record, this._opts.format);
    for (const sink of this._opts.sinks) {
      try {
        sink.write(line);
      } catch {
        // A broken sink (full disk, closed stderr) must not break the agent; the other sinks still get the line.
      }
    }
  }
}

/** Writes lines to a stream such as process.stderr. */
class StreamSink implements LogSink {
  constructor(private readonly _stream: NodeJS.WritableStream) {}
  write(line: string): void {
    this._stream.write(`${line}\n`);
  }
}

export interface RotatingFileSinkOptions {
  file: string;
  /** Rotate when the file would grow past this size; 0 disables rotation. */
  maxBytes: number;
  /** How many rotated files (file.1 … file.N) to keep. */
  backupCount: number;
}

/**
 * Appends lines to a file and rotates it by size, as Python's RotatingFileHandler does: file → file.1 →
 * … → file.N, the oldest dropped. Writes are synchronous: the agent logs a few lines a minute, and a line
 * written before a crash must be on disk.
 */
export class RotatingFileSink implements LogSink {
  private readonly _opts: RotatingFileSinkOptions;
  private _fd: number | undefined;
  private _size = 0;

  constructor(opts: RotatingFileSinkOptions) {
    this._opts = opts;
    ensurePrivateDir(path.dirname(opts.file));
    this._open();
  }

  write(line: string): void {
    const data = Buffer.from(`${line}\n`);
    if (this._opts.maxBytes > 0 && this._size > 0 && this._size + data.length > this._opts.maxBytes) {
      this._rotate();
    }
    if (this._fd === undefined) this._open();
    fs.writeSync(this._fd!, data);
    this._size += data.length;
  }

  close(): void {
    if (this._fd !== undefined) {
      fs.closeSync(this._fd);
      this._fd = undefined;
    }
  }

  private _open(): void {
    this._fd = fs.openSync(this._opts.file, APPEND_FILE_FLAGS, PRIVATE_FILE_MODE);
    this._size = fs.fstatSync(this._fd).size;
  }

  private _rotate(): void {
    this.close();
    const { file, backupCount } = this._opts;
    if (backupCount <= 0) {
      fs.rmSync(file, { force: true });
    } else {
      fs.rmSync(`${file}.${backupCount}`, { force: true });
      for (let i = backupCount - 1; i >= 1; i--) {
        if (fs.existsSync(`${file}.${i}`)) fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      }
      if (fs.existsSync(file)) fs.renameSync(file, `${file}.1`);
    }
    this._open();
  }
}

/** Keeps records in memory; for tests. */
export class MemoryLogger extends LevelLogger {
  readonly records: LogRecord[];
  private readonly _fields: LogFields;

  constructor(records: LogRecord[] = [], fields: LogFields = {}) {
    super();
    this.records = records;
    this._fields = fields;
  }

  child(fields: LogFields): Logger {
    return new MemoryLogger(this.records, { ...this._fields, ...fields });
  }

  /** Records at or above `level` whose message contains `text`. */
  find(level: LogLevel, text = ''): LogRecord[] {
    return this.records.filter((r) => LEVEL_RANK[r.level] >= LEVEL_RANK[level] && r.msg.includes(text));
  }

  protected _log(level: LogLevel, msg: string, fields?: LogFields): void {
    this.records.push({ timeMs: 0, level, msg, fields: { ...this._fields, ...fields } });
  }
}

/** Discards everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

export interface LoggerSetup {
  level: LogLevel;
  format: LogFormat;
  /** Also append to this file, rotated by size. */
  file?: string;
  maxBytes: number;
  backupCount: number;
  /** Where to write besides the file; usually process.stderr. */
  stream?: NodeJS.WritableStream;
  clock: Clock;
}

export interface OwnedLogger {
  logger: Logger;
  /** Closes the file sink, if any. */
  close(): void;
}

/** Builds the agent's logger from its logging settings. */
export function createLogger(setup: LoggerSetup): OwnedLogger {
  const sinks: LogSink[] = [];
  if (setup.stream !== undefined) sinks.push(new StreamSink(setup.stream));
  if (setup.file !== undefined) {
    sinks.push(
      new RotatingFileSink({ file: setup.file, maxBytes: setup.maxBytes, backupCount: setup.backupCount }),
    );
  }
  return {
    logger: new StructuredLogger({ level: setup.level, format: setup.format, sinks, clock: setup.clock }),
    close: () => {
      for (const sink of sinks) sink.close?.();
    },
  };
}

/** Maps the config's level names (the seed uses Python's: warning, critical) to the logger's. */
export function toLogLevel(name: string): LogLevel {
  if (name === 'warning') return 'warn';
  if (name === 'critical') return 'error';
  return (LOG_LEVELS as readonly string[]).includes(name) ? (name as LogLevel) : 'info';
}
