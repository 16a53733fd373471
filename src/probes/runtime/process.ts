/**
 * The process the agent runs in (the daemon, or the application under the preload), in the Prometheus client
 * conventions (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from /proc/self: CPU time
 * and start time from `stat`, memory from `status`, open descriptors from the `fd` listing, the descriptor
 * limit from `limits`. The files are the process's own, so they are read under the process's /proc, not the
 * host paths of the system collector (a daemon in a container that reads the host's /proc still describes
 * itself). Worker threads share the process: their CPU and memory are in these numbers. Elsewhere than
 * Linux the probe is unavailable. `stat` and `status` are kept open and re-read in place (source-files.ts);
 * the descriptor limit, which only setrlimit(2) moves, is read again once a minute.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AgentError, systemErrorCode } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { promiseOf } from '../../lib/guard.js';
import type { MetricPoint } from '../../model/metric.js';
import { meminfoField } from '../proc-fields.js';
import type { Probe, Snapshot } from '../probe.js';
import { MISSING_RECHECK_MS, SourceFiles, onProcfs } from '../source-files.js';

export const PROCESS_METRICS = [
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'process_start_time_seconds',
] as const;

/**
 * Clock ticks per second of the times in /proc/<pid>/stat: USER_HZ, which the kernel fixes at 100 in its
 * interface to user space on the architectures Node.js runs on (sysconf(_SC_CLK_TCK)).
 */
export const USER_HZ = 100;

/** The metrics read from /proc/self/status, and their fields. */
const STATUS_FIELDS: readonly (readonly [string, string])[] = [
  ['process_resident_memory_bytes', 'VmRSS'],
  ['process_virtual_memory_bytes', 'VmSize'],
  ['process_heap_bytes', 'VmData'],
];

export interface ProcStat {
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  /** Start time in seconds after boot. */
  startAfterBootSeconds: number;
  /** vsize, in bytes. */
  virtualBytes: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold spaces and parentheses
 * itself, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string, ticksPerSecond = USER_HZ): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ")": state is field 3, so field n is at index n - 3.
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const start = Number(f[19]);
  const vsize = Number(f[20]);
  if (![utime, stime, start, vsize].every((v) => Number.isFinite(v) && v >= 0)) return undefined;
  return {
    cpuSeconds: (utime + stime) / ticksPerSecond,
    startAfterBootSeconds: start / ticksPerSecond,
    virtualBytes: vsize,
  };
}

/** The soft limit of `Max open files` in /proc/<pid>/limits; undefined when unlimited or absent. */
export function parseMaxOpenFiles(text: string): number | undefined {
  const label = 'Max open files';
  const at = text.indexOf(label);
  if (at < 0) return undefined;
  let end = text.indexOf('\n', at);
  if (end < 0) end = text.length;
  const soft = text
    .slice(at + label.length, end)
    .trim()
    .split(/\s+/)[0];
  const n = Number(soft);
  return soft !== undefined && soft !== '' && Number.isFinite(n) ? n : undefined;
}

/** Boot time in seconds since the epoch, from the `btime` line of /proc/stat. */
export function parseBootTime(text: string): number | undefined {
  const m = /^btime (\d+)$/m.exec(text);
  const n = m === null ? NaN : Number(m[1]);
  return n > 0 ? n : undefined;
}

export interface ProcessProbeOptions {
  /** Metrics to report (catalog names); the others are not read. */
  enabled: ReadonlySet<string>;
  logger: Logger;
  clock: Clock;
  /** The /proc whose `self` is this process; tests point it at a fixture tree. */
  proc?: string;
}

function isMissing(err: unknown): boolean {
  const code = systemErrorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** `read()` of `file`, or undefined when `file` does not exist; any other failure is an E_PROBE_READ naming it. */
function unlessMissing<T>(file: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw new AgentError('E_PROBE_READ', `cannot read ${file}`, { cause: err });
  }
}

export class ProcessProbe implements Probe {
  readonly name = 'process';
  private readonly _opts: ProcessProbeOptions;
  private readonly _proc: string;
  private readonly _files: SourceFiles;
  private readonly _statFile: string;
  private readonly _statusFile: string;
  private readonly _fdDir: string;
  /** Computed once: a process does not move its start. */
  private _startTime: number | undefined;
  /** The descriptor limit and when it was read (monotonic ms). */
  private _maxFds: { value: number | undefined; atMs: number } | undefined;
  private _unavailableLogged = false;
  /** Whether `proc` is a procfs (whose fd directory's size is the count of descriptors); read once. */
  private _procfs: boolean | undefined;

  constructor(opts: ProcessProbeOptions) {
    this._opts = opts;
    this._proc = opts.proc ?? '/proc';
    this._files = new SourceFiles(opts.clock);
    this._statFile = path.join(this._proc, 'self/stat');
    this._statusFile = path.join(this._proc, 'self/status');
    this._fdDir = path.join(this._proc, 'self/fd');
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  collectSync(): Snapshot {
    return this._collect();
  }

  collect(): Promise<Snapshot> {
    return promiseOf(() => this._collect());
  }

  shutdown(): Promise<void> {
    this._files.close();
    return Promise.resolve();
  }

  /** The text of a /proc file, or undefined when it does not exist. These are kernel files: read at once. */
  private _read(file: string): string | undefined {
    const at = path.join(this._proc, file);
    return unlessMissing(at, () => fs.readFileSync(at, 'utf8'));
  }

  private _collect(): Snapshot {
    const on = this._opts.enabled;
    const points: MetricPoint[] = [];
    const statText = this._files.read(this._statFile);
    if (statText === undefined) {
      const reason = `${this._statFile} does not exist`;
      if (!this._unavailableLogged) this._opts.logger.debug('probe source unavailable', { reason });
      this._unavailableLogged = true;
      return { status: 'unavailable', points, reason };
    }
    let failures = 0;
    const stat = parseProcStat(statText);
    if (stat === undefined) failures++;
    else {
      if (on.has('process_cpu_seconds_total'))
        points.push({ metric: 'process_cpu_seconds_total', labels: {}, value: stat.cpuSeconds });
      if (on.has('process_start_time_seconds')) {
        this._startTime ??= this._startTimeOf(stat);
        if (this._startTime !== undefined)
          points.push({ metric: 'process_start_time_seconds', labels: {}, value: this._startTime });
      }
    }
    if (
      on.has('process_resident_memory_bytes') ||
      on.has('process_virtual_memory_bytes') ||
      on.has('process_heap_bytes')
    ) {
      const status = this._files.read(this._statusFile) ?? '';
      for (let i = 0; i < STATUS_FIELDS.length; i++) {
        // Indexed, no destructuring: under --lite-mode that would allocate an iterator per field.
        const metric = STATUS_FIELDS[i]![0];
        if (!on.has(metric)) continue;
        const v = meminfoField(status, STATUS_FIELDS[i]![1]);
        if (v === undefined) failures++;
        else points.push({ metric, labels: {}, value: v });
      }
    }
    if (on.has('process_open_fds')) {
      const open = this._openFds();
      if (open === undefined) failures++;
      else points.push({ metric: 'process_open_fds', labels: {}, value: open });
    }
    if (on.has('process_max_fds')) {
      const now = this._opts.clock.monotonicMs();
      if (this._maxFds === undefined || now - this._maxFds.atMs >= MISSING_RECHECK_MS)
        this._maxFds = { value: parseMaxOpenFiles(this._read('self/limits') ?? ''), atMs: now };
      const max = this._maxFds.value;
      if (max !== undefined) points.push({ metric: 'process_max_fds', labels: {}, value: max });
    }
    return failures === 0
      ? { status: 'ok', points }
      : { status: 'partial', points, failures, reason: `${failures} process value(s) not read` };
  }

  /**
   * The process's open descriptors. Linux 6.2 and later give their number as the size of /proc/PID/fd (one
   * stat instead of opening, listing and closing the directory and a string per descriptor, every collection);
   * elsewhere, or when that size is 0 (an older kernel), the listing's length less the descriptor that reads it.
   */
  private _openFds(): number | undefined {
    this._procfs ??= onProcfs(this._proc);
    if (this._procfs) {
      const size = unlessMissing(this._fdDir, () => fs.statSync(this._fdDir).size);
      if (size === undefined) return undefined;
      if (size > 0) return size;
    }
    const names = this._list('self/fd');
    return names === undefined ? undefined : Math.max(0, names.length - 1);
  }

  private _list(dir: string): string[] | undefined {
    const at = path.join(this._proc, dir);
    return unlessMissing(at, () => fs.readdirSync(at));
  }

  private _startTimeOf(stat: ProcStat): number | undefined {
    const boot = parseBootTime(this._read('stat') ?? '');
    return boot === undefined ? undefined : boot + stat.startAfterBootSeconds;
  }
}
