import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import {
  MemoryLogger,
  RotatingFileSink,
  StructuredLogger,
  createLogger,
  formatRecord,
  redactFields,
  toLogLevel,
} from '../../../src/lib/logger.js';
import type { LogFormat, LogLevel, LogSink } from '../../../src/lib/logger.js';

const T0 = Date.UTC(2026, 0, 1);
const ISO0 = '2026-01-01T00:00:00.000Z';

class ArraySink implements LogSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
}

function makeLogger(level: LogLevel, format: LogFormat = 'text') {
  const sink = new ArraySink();
  const clock = new ManualClock(T0);
  const logger = new StructuredLogger({ level, format, sinks: [sink], clock });
  return { logger, sink, clock };
}

describe('StructuredLogger', () => {
  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ] as const)('should write only records at or above %s', (level, expected) => {
    const { logger, sink } = makeLogger(level, 'json');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(sink.lines.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(expected);
  });

  it('should format a text line with the clock time, the level and the fields', async () => {
    const { logger, sink, clock } = makeLogger('debug');
    logger.warn('probe failed', { probe: 'cpu', attempts: 3 });
    await clock.advance(1500);
    logger.info('started');
    expect(sink.lines).toEqual([
      `${ISO0} WARN  probe failed probe=cpu attempts=3`,
      '2026-01-01T00:00:01.500Z INFO  started',
    ]);
  });

  it('should quote text field values with blanks, quotes or =, and write other values as JSON', () => {
    const { logger, sink } = makeLogger('info');
    logger.info('m', {
      path: '/a b',
      eq: 'a=b',
      plain: 'ok',
      n: 2,
      list: [1, 2],
      obj: { x: 1 },
      gone: undefined,
    });
    expect(sink.lines[0]).toBe(
      `${ISO0} INFO  m path="/a b" eq="a=b" plain=ok n=2 list=[1,2] obj="{\\"x\\":1}"`,
    );
  });

  it('should write one JSON object per line in json format', () => {
    const { logger, sink } = makeLogger('info', 'json');
    logger.error('export failed', { exporter: 'otlp', status: 503 });
    expect(JSON.parse(sink.lines[0]!)).toEqual({
      time: ISO0,
      level: 'error',
      msg: 'export failed',
      exporter: 'otlp',
      status: 503,
    });
  });

  it('should add the fields of child() to every record, the call fields winning', () => {
    const { logger, sink } = makeLogger('info', 'json');
    const child = logger.child({ component: 'probe', probe: 'cpu' });
    const grandchild = child.child({ probe: 'memory' });
    child.info('a');
    grandchild.info('b', { extra: 1 });
    grandchild.info('c', { probe: 'disk' });
    logger.info('d');
    expect(sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { time: ISO0, level: 'info', msg: 'a', component: 'probe', probe: 'cpu' },
      { time: ISO0, level: 'info', msg: 'b', component: 'probe', probe: 'memory', extra: 1 },
      { time: ISO0, level: 'info', msg: 'c', component: 'probe', probe: 'disk' },
      { time: ISO0, level: 'info', msg: 'd' },
    ]);
  });

  it('should keep the level of its parent in a child', () => {
    const { logger, sink } = makeLogger('warn');
    logger.child({ probe: 'cpu' }).info('hidden');
    expect(sink.lines).toEqual([]);
  });

  it.each(['text', 'json'] as const)('should never write a secret field value in %s format', (format) => {
    const { logger, sink } = makeLogger('info', format);
    const secrets = {
      password: 'pw-1',
      neo4jPassword: 'pw-2',
      hmac_secret: 'sec-3',
      token: 'tok-4',
      Authorization: 'Bearer tok-5',
      api_key: 'key-6',
      credentials: 'cred-7',
    };
    logger
      .child({ password: 'pw-0' })
      .warn('connect', { ...secrets, nested: { apiKey: 'key-8' }, user: 'neo4j' });
    const line = sink.lines[0]!;
    for (const value of ['pw-0', ...Object.values(secrets), 'key-8']) expect(line).not.toContain(value);
    expect(line).toContain('[redacted]');
    expect(line).toContain('neo4j');
  });

  it('should keep writing to the other sinks when one throws', () => {
    const good = new ArraySink();
    const broken: LogSink = {
      write: () => {
        throw new Error('disk full');
      },
    };
    const logger = new StructuredLogger({
      level: 'info',
      format: 'text',
      sinks: [broken, good],
      clock: new ManualClock(T0),
    });
    expect(() => logger.error('still here')).not.toThrow();
    expect(good.lines).toEqual([`${ISO0} ERROR still here`]);
  });
});

describe('redactFields', () => {
  it('should replace credential-like keys at any depth and leave the rest', () => {
    expect(
      redactFields({
        user: 'neo4j',
        password: 'x',
        list: [{ token: 'y', id: 1 }],
        deep: { deeper: { client_secret: 'z' } },
      }),
    ).toEqual({
      user: 'neo4j',
      password: '[redacted]',
      list: [{ token: '[redacted]', id: 1 }],
      deep: { deeper: { client_secret: '[redacted]' } },
    });
  });

  it('should leave empty and missing secrets as they are', () => {
    expect(redactFields({ password: '', token: undefined })).toEqual({ password: '', token: undefined });
  });

  it('should reduce an Error to its message and code', () => {
    const err = Object.assign(new Error('refused'), { code: 'ECONNREFUSED', password: 'x' });
    expect(redactFields({ error: err })).toEqual({ error: { message: 'refused', code: 'ECONNREFUSED' } });
  });

  it('should pass scalars through', () => {
    expect(redactFields('text')).toBe('text');
    expect(redactFields(null)).toBeNull();
  });

  it('should redact the credentials of URLs in any field and in error messages', () => {
    const err = new Error('POST https://u:pw@hooks.example/a?token=t1 failed');
    expect(
      redactFields({
        url: 'bolt://neo4j:hunter2@db:7687',
        endpoints: ['https://otel.example/v1/metrics?api_key=k&region=eu'],
        error: err,
      }),
    ).toEqual({
      url: 'bolt://<redacted>@db:7687',
      endpoints: ['https://otel.example/v1/metrics?api_key=<redacted>&region=eu'],
      error: { message: 'POST https://<redacted>@hooks.example/a?token=<redacted> failed', code: undefined },
    });
  });
});

describe('formatRecord', () => {
  it('should redact before formatting', () => {
    const line = formatRecord({ timeMs: T0, level: 'info', msg: 'm', fields: { secret: 's3' } }, 'text');
    expect(line).toBe(`${ISO0} INFO  m secret=[redacted]`);
  });
});

describe('toLogLevel', () => {
  it.each([
    ['debug', 'debug'],
    ['info', 'info'],
    ['warn', 'warn'],
    ['warning', 'warn'],
    ['error', 'error'],
    ['critical', 'error'],
    ['verbose', 'info'],
    ['', 'info'],
  ])('should map %j to %j', (name, level) => {
    expect(toLogLevel(name)).toBe(level);
  });
});

describe('MemoryLogger', () => {
  it('should share records with its children and find them by level and text', () => {
    const logger = new MemoryLogger();
    logger.child({ probe: 'cpu' }).warn('probe slow', { ms: 5 });
    logger.info('probe ok');
    logger.debug('probe detail');
    expect(logger.records).toHaveLength(3);
    expect(logger.find('warn')).toEqual([
      { timeMs: 0, level: 'warn', msg: 'probe slow', fields: { probe: 'cpu', ms: 5 } },
    ]);
    expect(logger.find('debug', 'probe ').map((r) => r.msg)).toEqual([
      'probe slow',
      'probe ok',
      'probe detail',
    ]);
  });
});

describe('RotatingFileSink', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-log-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
  /** Nine characters plus the newline: ten bytes a line. */
  const line = (i: number) => `line-${String(i).padStart(4, '0')}`;

  it('should rotate by size and keep backup_count files, the oldest dropped', () => {
    const file = path.join(dir, 'agent.log');
    const sink = new RotatingFileSink({ file, maxBytes: 20, backupCount: 2 });
    for (let i = 1; i <= 7; i++) sink.write(line(i));
    sink.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['agent.log', 'agent.log.1', 'agent.log.2']);
    expect(read('agent.log')).toBe('line-0007\n');
    expect(read('agent.log.1')).toBe('line-0005\nline-0006\n');
    expect(read('agent.log.2')).toBe('line-0003\nline-0004\n');
  });

  it('should start over in the same file when backup_count is 0', () => {
    const file = path.join(dir, 'agent.log');
    const sink = new RotatingFileSink({ file, maxBytes: 20, backupCount: 0 });
    for (let i = 1; i <= 5; i++) sink.write(line(i));
    sink.close();
    expect(fs.readdirSync(dir)).toEqual(['agent.log']);
    expect(read('agent.log')).toBe('line-0005\n');
  });

  it('should never rotate when max_bytes is 0', () => {
    const file = path.join(dir, 'agent.log');
    const sink = new RotatingFileSink({ file, maxBytes: 0, backupCount: 2 });
    for (let i = 1; i <= 5; i++) sink.write(line(i));
    sink.close();
    expect(fs.readdirSync(dir)).toEqual(['agent.log']);
    expect(read('agent.log').split('\n')).toHaveLength(6);
  });

  it('should write a line longer than max_bytes whole into an empty file', () => {
    const file = path.join(dir, 'agent.log');
    const sink = new RotatingFileSink({ file, maxBytes: 5, backupCount: 1 });
    sink.write('a-rather-long-line');
    sink.close();
    expect(fs.readdirSync(dir)).toEqual(['agent.log']);
    expect(read('agent.log')).toBe('a-rather-long-line\n');
  });

  it('should append to an existing file and count its size towards the limit', () => {
    const file = path.join(dir, 'agent.log');
    fs.writeFileSync(file, 'old-line-1\nold-2\n');
    const sink = new RotatingFileSink({ file, maxBytes: 20, backupCount: 1 });
    sink.write(line(1));
    sink.close();
    expect(read('agent.log.1')).toBe('old-line-1\nold-2\n');
    expect(read('agent.log')).toBe('line-0001\n');
  });

  it('should create missing parent directories', () => {
    const file = path.join(dir, 'logs', 'nested', 'agent.log');
    const sink = new RotatingFileSink({ file, maxBytes: 100, backupCount: 1 });
    sink.write('hello');
    sink.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('hello\n');
  });

  it('should reopen the file when written after close', () => {
    const file = path.join(dir, 'agent.log');
    const sink = new RotatingFileSink({ file, maxBytes: 100, backupCount: 1 });
    sink.write('before');
    sink.close();
    sink.close();
    sink.write('after');
    sink.close();
    expect(read('agent.log')).toBe('before\nafter\n');
  });
});

describe('createLogger', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-log-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should write the same lines to the stream and the file', () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const file = path.join(dir, 'agent.log');
    const owned = createLogger({
      level: 'info',
      format: 'text',
      file,
      maxBytes: 1000,
      backupCount: 1,
      stream,
      clock: new ManualClock(T0),
    });
    owned.logger.debug('hidden');
    owned.logger.info('shown', { password: 'pw' });
    owned.close();
    const expected = `${ISO0} INFO  shown password=[redacted]\n`;
    expect(fs.readFileSync(file, 'utf8')).toBe(expected);
    expect(chunks.join('')).toBe(expected);
  });
});
