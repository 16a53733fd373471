/**
 * Filesystem space in use per mount point, from the mount table and statfs(2). A statfs that hangs
 * (a dead NFS server) is given up on after a timeout and not called again until it returns, so stuck
 * calls never pile up in libuv's small thread pool.
 */
import path from 'node:path';
import type { TimerHandle } from '../../lib/clock.js';
import { AgentError, systemErrorCode } from '../../lib/errors.js';
import { promiseOf } from '../../lib/guard.js';
import type { FsStats, ProbeContext, Snapshot } from '../probe.js';
import type { MetricPoint } from '../../model/metric.js';
import { fieldLines, SystemProbe } from './source.js';
import type { TextPattern } from '../../lib/safe-regex.js';

export interface MountEntry {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string[];
}

/** Pseudo and read-only image filesystems that hold no user data; `overlay` is kept (it is `/` in containers). */
const DEFAULT_EXCLUDE_FS_TYPES =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devfs|devpts|devtmpfs|efivarfs|erofs|fusectl|fuse\.(lxcfs|portal|gvfsd-fuse|snapfuse)|hugetlbfs|iso9660|mqueue|nfsd|nsfs|proc|procfs|pstore|ramfs|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tmpfs|tracefs)$/;

/** Kernel and container-runtime mount points (node_exporter's list plus /run/credentials itself). */
const DEFAULT_EXCLUDE_MOUNT_POINTS =
  /^\/(dev|proc|sys|run\/credentials|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;

const DEFAULT_STATFS_TIMEOUT_MS = 1000;

/**
 * Filesystems whose statfs never waits on a network or a user-space daemon; they are asked synchronously.
 * Everything else (nfs, cifs, fuse.*, ceph, …) goes through the thread pool with a timeout.
 */
const LOCAL_FS_TYPES =
  /^(ext[234]|xfs|btrfs|zfs|f2fs|overlay|vfat|exfat|ntfs3?|jfs|reiserfs|bcachefs|hfsplus|udf|nilfs2)$/;

/** statfs failures that mean "cannot look at this mount from here", not a fault of the agent. */
const INACCESSIBLE_CODES: ReadonlySet<string> = new Set([
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTDIR',
  'ENOTCONN',
  'ESTALE',
  'EIO',
  'ELOOP',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ENODEV',
  'ENXIO',
  'ENOSYS',
]);

/** Decodes the octal escapes the kernel writes for space, tab, newline and backslash (`\040` = space). */
export function decodeMountField(field: string): string {
  if (!field.includes('\\')) return field;
  let out = '';
  let i = 0;
  while (i < field.length) {
    const c = field[i]!;
    if (
      c === '\\' &&
      i + 3 < field.length &&
      isOctal(field, i + 1) &&
      isOctal(field, i + 2) &&
      isOctal(field, i + 3)
    ) {
      out += String.fromCharCode(parseInt(field.slice(i + 1, i + 4), 8));
      i += 4;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function isOctal(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 55;
}

/** Parses /proc/self/mounts (fstab format): device, mount point, fstype, options, dump, pass. */
export function parseMounts(text: string): MountEntry[] {
  return fieldLines(text, 4).map((fields) => ({
    device: decodeMountField(fields[0]!),
    mountPoint: decodeMountField(fields[1]!),
    fsType: decodeMountField(fields[2]!),
    options: fields[3]!.split(','),
  }));
}

export interface DiskUsageProbeOptions {
  /** Filesystem types to skip; replaces DEFAULT_EXCLUDE_FS_TYPES. */
  excludeFsTypes?: TextPattern;
  /** Mount points to skip; replaces DEFAULT_EXCLUDE_MOUNT_POINTS. */
  excludeMountPoints?: TextPattern;
  /** How long one statfs may take before the mount is skipped for this collection. */
  statfsTimeoutMs?: number;
}

const TIMED_OUT = Symbol('timed out');

type MountResult =
  { kind: 'ok'; percent: number } | { kind: 'skipped' } | { kind: 'hung' } | { kind: 'failed'; code: string };

export class DiskUsageProbe extends SystemProbe {
  private readonly _excludeFsTypes: TextPattern;
  private readonly _excludeMountPoints: TextPattern;
  private readonly _timeoutMs: number;
  /** statfs calls that outlived their timeout and have not returned yet, by mount point. */
  private readonly _hung = new Map<string, Promise<FsStats>>();
  /** Mount points already logged, so each is logged once and not on every collection. */
  private readonly _loggedInaccessible = new Set<string>();
  private readonly _loggedHung = new Set<string>();
  private readonly _loggedFailed = new Set<string>();
  /** The mount table changes rarely: its selection is kept until the text differs. */
  private _mountsText: string | undefined;
  private _mounts: MountEntry[] = [];

  constructor(ctx: ProbeContext, options: DiskUsageProbeOptions = {}) {
    super('disk_usage', ctx);
    this._excludeFsTypes = options.excludeFsTypes ?? DEFAULT_EXCLUDE_FS_TYPES;
    this._excludeMountPoints = options.excludeMountPoints ?? DEFAULT_EXCLUDE_MOUNT_POINTS;
    this._timeoutMs = options.statfsTimeoutMs ?? DEFAULT_STATFS_TIMEOUT_MS;
    if (!(this._timeoutMs > 0))
      throw new AgentError('E_INVALID_ARGUMENT', 'statfsTimeoutMs must be greater than 0');
  }

  protected async _collect(signal: AbortSignal): Promise<Snapshot> {
    const selfMounts = this._procPath('self/mounts');
    const text = this._files.read(selfMounts) ?? this._files.read(this._procPath('mounts'));
    if (text === undefined) return this._unavailable.unavailable(`${selfMounts} does not exist`);
    this._unavailable.available();

    if (text !== this._mountsText) {
      this._mountsText = text;
      this._mounts = this._selectMounts(parseMounts(text));
      this._forgetGone(this._mounts.map((m) => m.mountPoint));
    }
    const mounts = this._mounts;
    signal.throwIfAborted();

    const results = await Promise.all(mounts.map(async (m) => this._usage(m)));
    const points: MetricPoint[] = [];
    const failed: string[] = [];
    results.forEach((result, i) => {
      const mountPoint = mounts[i]!.mountPoint;
      if (result.kind === 'ok') {
        points.push({
          metric: 'disk_usage_percent',
          labels: { mount_point: mountPoint },
          value: result.percent,
        });
      } else if (result.kind === 'hung' || result.kind === 'failed') {
        failed.push(mountPoint);
      }
    });
    if (failed.length === 0) return { status: 'ok', points };
    return {
      status: 'partial',
      points,
      failures: failed.length,
      reason: `statfs timed out or failed for ${failed.join(', ')}`,
    };
  }

  /** The last entry for each mount point is the one visible; pseudo filesystems are then dropped. */
  private _selectMounts(entries: readonly MountEntry[]): MountEntry[] {
    const last = new Map<string, MountEntry>();
    for (const e of entries) {
      last.delete(e.mountPoint);
      last.set(e.mountPoint, e);
    }
    const out: MountEntry[] = [];
    for (const e of last.values()) {
      if (this._excludeFsTypes.test(e.fsType) || this._excludeMountPoints.test(e.mountPoint)) continue;
      out.push(e);
    }
    return out;
  }

  /** Keeps the once-only log marks bounded to the mounts that still exist. */
  private _forgetGone(mountPoints: readonly string[]): void {
    const current = new Set(mountPoints);
    for (const set of [this._loggedInaccessible, this._loggedHung, this._loggedFailed]) {
      for (const mp of set) if (!current.has(mp)) set.delete(mp);
    }
  }

  private _usage(mount: MountEntry): MountResult | Promise<MountResult> {
    const { mountPoint } = mount;
    // Still waiting for an earlier call: do not queue another one behind it.
    if (this._hung.has(mountPoint)) return { kind: 'hung' };
    const { rootfs } = this._ctx.paths;
    const target = mountPoint === '/' ? rootfs : path.join(rootfs, mountPoint);
    const statfsSync = this._ctx.statfsSync;
    if (statfsSync !== undefined && LOCAL_FS_TYPES.test(mount.fsType)) {
      // A local filesystem answers statfs from its in-memory superblock: no thread pool round trip.
      let stats: FsStats;
      try {
        stats = statfsSync(target);
      } catch (err) {
        return this._failed(mountPoint, err);
      }
      return this._percent(mountPoint, stats);
    }
    return this._usageAsync(mountPoint, target);
  }

  /** statfs on the thread pool with a time budget: network and FUSE filesystems can hang. */
  private async _usageAsync(mountPoint: string, target: string): Promise<MountResult> {
    const call = promiseOf(() => this._ctx.statfs(target));
    let timer: TimerHandle | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = this._ctx.clock.setTimeout(() => resolve(TIMED_OUT), this._timeoutMs);
    });

    let stats: FsStats | typeof TIMED_OUT;
    try {
      stats = await Promise.race([call, timeout]);
    } catch (err) {
      return this._failed(mountPoint, err);
    } finally {
      timer?.cancel();
    }

    if (stats === TIMED_OUT) {
      this._hung.set(mountPoint, call);
      const release = (): void => {
        if (this._hung.get(mountPoint) !== call) return;
        this._hung.delete(mountPoint);
        this._logger.debug('statfs returned after its timeout', { mount_point: mountPoint });
      };
      call.then(release, release);
      if (!this._loggedHung.has(mountPoint)) {
        this._loggedHung.add(mountPoint);
        this._logger.warn('statfs timed out; mount skipped until the call returns', {
          mount_point: mountPoint,
          timeout_ms: this._timeoutMs,
        });
      }
      return { kind: 'hung' };
    }

    return this._percent(mountPoint, stats);
  }

  private _percent(mountPoint: string, stats: FsStats): MountResult {
    this._loggedHung.delete(mountPoint);
    this._loggedFailed.delete(mountPoint);
    if (stats.blocks <= 0) return { kind: 'skipped' };
    const used = stats.blocks - stats.bfree;
    const denominator = used + stats.bavail;
    if (denominator <= 0) return { kind: 'skipped' };
    return { kind: 'ok', percent: (used / denominator) * 100 };
  }

  private _failed(mountPoint: string, err: unknown): MountResult {
    const code = systemErrorCode(err) ?? 'UNKNOWN';
    if (INACCESSIBLE_CODES.has(code)) {
      if (!this._loggedInaccessible.has(mountPoint)) {
        this._loggedInaccessible.add(mountPoint);
        this._logger.debug('mount not accessible; skipped', { mount_point: mountPoint, code });
      }
      return { kind: 'skipped' };
    }
    if (!this._loggedFailed.has(mountPoint)) {
      this._loggedFailed.add(mountPoint);
      this._logger.warn('statfs failed', { mount_point: mountPoint, code, err });
    }
    return { kind: 'failed', code };
  }
}
