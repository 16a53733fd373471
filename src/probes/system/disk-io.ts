/**
 * Block device I/O counters from /proc/diskstats, as monotonic totals.
 */
import { CounterRound, CounterTracker } from '../counter-tracker.js';
import type { ProbeContext, Snapshot } from '../probe.js';
import { fieldLines, SyncSystemProbe } from './source.js';
import type { TextPattern } from '../../lib/safe-regex.js';

/** One line of /proc/diskstats, raw kernel values. */
export interface DiskStatsLine {
  major: number;
  minor: number;
  device: string;
  readsCompleted: number;
  /** 512-byte sectors, whatever the device's real sector size. */
  sectorsRead: number;
  writesCompleted: number;
  sectorsWritten: number;
}

/** /proc/diskstats counts in 512-byte units (Documentation/admin-guide/iostats.rst). */
const DISKSTATS_SECTOR_BYTES = 512;

/** node_exporter's default: partitions, RAM disks, loop and floppy devices. */
const DEFAULT_EXCLUDE_DEVICES = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

/**
 * Parses /proc/diskstats. Fields are numbered as in iostats.rst (1 major, 2 minor, 3 name): reads
 * completed is field 4, sectors read 6, writes completed 8, sectors written 10.
 */
export function parseDiskstats(text: string): DiskStatsLine[] {
  return fieldLines(text, 10).map((f) => ({
    major: Number(f[0]),
    minor: Number(f[1]),
    device: f[2]!,
    readsCompleted: Number(f[3]),
    sectorsRead: Number(f[5]),
    writesCompleted: Number(f[7]),
    sectorsWritten: Number(f[9]),
  }));
}

export interface DiskIoProbeOptions {
  /** Devices to skip; replaces DEFAULT_EXCLUDE_DEVICES. */
  excludeDevices?: TextPattern;
}

export class DiskIoProbe extends SyncSystemProbe {
  private readonly _exclude: TextPattern;
  private readonly _tracker = new CounterTracker();

  constructor(ctx: ProbeContext, options: DiskIoProbeOptions = {}) {
    super('disk_io', ctx);
    this._exclude = options.excludeDevices ?? DEFAULT_EXCLUDE_DEVICES;
  }

  /** Counter decreases absorbed so far (devices re-added, wrapped counters). */
  get counterResets(): number {
    return this._tracker.resets;
  }

  protected _collect(): Snapshot {
    const file = this._procPath('diskstats');
    const text = this._files.read(file);
    if (text === undefined) return this._unavailable.unavailable(`${file} does not exist`);
    this._unavailable.available();

    const round = new CounterRound(this._tracker, 'device');
    for (const d of parseDiskstats(text)) {
      if (this._exclude.test(d.device)) continue;
      round.add('disk_io_read_count', d.device, d.readsCompleted);
      // Sectors go through the tracker, not bytes, so that a 32-bit sector counter's wrap is recognised.
      round.add('disk_io_read_bytes', d.device, d.sectorsRead, DISKSTATS_SECTOR_BYTES);
      round.add('disk_io_write_count', d.device, d.writesCompleted);
      round.add('disk_io_write_bytes', d.device, d.sectorsWritten, DISKSTATS_SECTOR_BYTES);
    }
    return { status: 'ok', points: round.finish() };
  }
}
