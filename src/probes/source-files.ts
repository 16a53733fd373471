/**
 * Reading /proc and /sys files where absence is expected, with the descriptor kept open between reads. Shared
 * by the host probes (system/) and the process probe, which also runs inside applications.
 */
import fs from 'node:fs';
import { AgentError, systemErrorCode } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';

/** Error codes that mean "this file is not here", as opposed to "this file could not be read". */
const MISSING_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR']);

/** True when `err` says the path does not exist. */
function isMissing(err: unknown): boolean {
  const code = systemErrorCode(err);
  return code !== undefined && MISSING_CODES.has(code);
}

/**
 * statfs(2) f_type of the kernel's own file systems (procfs, sysfs, cgroup2): their files are generated on each
 * read and never deleted or replaced under an open descriptor, so they need no check that they still exist.
 */
const PROC_SUPER_MAGIC = 0x9fa0;
const KERNEL_FS_TYPES: ReadonlySet<number> = new Set([PROC_SUPER_MAGIC, 0x62656572, 0x63677270]);

/** How long a file found missing is taken as missing before it is looked for again. */
export const MISSING_RECHECK_MS = 60_000;

/**
 * Reads /proc and /sys files the cheap way. Each file is opened once and re-read with pread(2) at offset 0
 * on every collection (procfs and sysfs produce fresh content on each such read), synchronously: these
 * files live in kernel memory and answer in microseconds, so the thread pool, the promise chain and the
 * open/fstat/close of fs.promises.readFile would cost more than the read itself (measured: 2.5x the CPU
 * for the same files, see docs/benchmarks.md). A missing file is remembered and looked for again only after
 * MISSING_RECHECK_MS, so absent sources (no cpufreq driver, cgroup v1) cost nothing per collection.
 */
export class SourceFiles {
  private readonly _clock: Clock;
  private readonly _fds = new Map<string, number>();
  /** Open files on a kernel file system (KERNEL_FS_TYPES), read without the fstat that others get. */
  private readonly _kernel = new Set<string>();
  private readonly _missingSince = new Map<string, number>();
  private readonly _listings = new Map<string, { names: string[]; atMs: number }>();
  private _buffer = Buffer.allocUnsafe(16 * 1024);

  constructor(clock: Clock) {
    this._clock = clock;
  }

  /**
   * The text of `file`, or undefined when it does not exist. Any other failure throws an `E_PROBE_READ`
   * AgentError naming the file.
   */
  read(file: string): string | undefined {
    let fd = this._open(file);
    if (fd === undefined) return undefined;
    try {
      if (!this._kernel.has(file) && fs.fstatSync(fd).nlink === 0) {
        // Deleted or replaced since it was opened (not something procfs does; files on a real disk can).
        this._forget(file);
        fd = this._open(file);
        if (fd === undefined) return undefined;
      }
      let total = 0;
      for (;;) {
        if (total === this._buffer.length) {
          const bigger = Buffer.allocUnsafe(this._buffer.length * 2);
          this._buffer.copy(bigger, 0, 0, total);
          this._buffer = bigger;
        }
        const n = fs.readSync(fd, this._buffer, total, this._buffer.length - total, total);
        if (n === 0) break;
        total += n;
      }
      return this._buffer.toString('utf8', 0, total);
    } catch (err) {
      // The file went away under the open descriptor (a cgroup removed, a device unplugged): forget it.
      this._forget(file);
      if (isMissing(err) || systemErrorCode(err) === 'ENODEV') {
        this._missingSince.set(file, this._clock.monotonicMs());
        return undefined;
      }
      throw new AgentError('E_PROBE_READ', `cannot read ${file}`, { cause: err });
    }
  }

  /**
   * Names in a directory (such as the CPUs under /sys), listed again at most every MISSING_RECHECK_MS;
   * undefined when it does not exist (remembered like a missing file).
   */
  list(dir: string): string[] | undefined {
    if (this._stillMissing(dir)) return undefined;
    const cached = this._listings.get(dir);
    const now = this._clock.monotonicMs();
    if (cached !== undefined && now - cached.atMs < MISSING_RECHECK_MS) return cached.names;
    try {
      const names = fs.readdirSync(dir);
      this._listings.set(dir, { names, atMs: now });
      return names;
    } catch (err) {
      if (!isMissing(err)) throw new AgentError('E_PROBE_READ', `cannot read ${dir}`, { cause: err });
      this._missingSince.set(dir, this._clock.monotonicMs());
      return undefined;
    }
  }

  /** Closes every descriptor; reads afterwards open the files again. */
  close(): void {
    for (const file of [...this._fds.keys()]) this._forget(file);
    this._missingSince.clear();
    this._listings.clear();
  }

  private _open(file: string): number | undefined {
    const cached = this._fds.get(file);
    if (cached !== undefined) return cached;
    if (this._stillMissing(file)) return undefined;
    try {
      const fd = fs.openSync(file, 'r');
      this._fds.set(file, fd);
      if (onKernelFs(file)) this._kernel.add(file);
      this._missingSince.delete(file);
      return fd;
    } catch (err) {
      if (!isMissing(err)) throw new AgentError('E_PROBE_READ', `cannot open ${file}`, { cause: err });
      this._missingSince.set(file, this._clock.monotonicMs());
      return undefined;
    }
  }

  private _stillMissing(file: string): boolean {
    const since = this._missingSince.get(file);
    return since !== undefined && this._clock.monotonicMs() - since < MISSING_RECHECK_MS;
  }

  private _forget(file: string): void {
    const fd = this._fds.get(file);
    this._fds.delete(file);
    this._kernel.delete(file);
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Closing a descriptor whose file is gone can fail; there is nothing left to release.
      }
    }
  }
}

/** The statfs(2) f_type of `file`'s file system, or undefined when it cannot be read. */
function fsType(file: string): number | undefined {
  try {
    return fs.statfsSync(file).type;
  } catch {
    return undefined;
  }
}

function onKernelFs(file: string): boolean {
  const type = fsType(file);
  // Not known: then the file is checked on every read, as any other.
  return type !== undefined && KERNEL_FS_TYPES.has(type);
}

/** Whether `file` is on a procfs (not a copy of one, as the tests' fixture trees are). */
export function onProcfs(file: string): boolean {
  return fsType(file) === PROC_SUPER_MAGIC;
}
