/**
 * Block device I/O counters from /proc/diskstats, as monotonic totals.
 */
import path from 'node:path';
import { CounterTracker } from '../counter-tracker.js';
import type { ProbeContext, Snapshot } from '../probe.js';
import type { MetricPoint } from '../../model/metric.js';
import { splitFields, SystemProbe } from './source.js';
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
  const out: DiskStatsLine[] = [];
  for (const line of text.split('\n')) {
    const f = splitFields(line);
    if (f.length < 10) continue;
    out.push({
      major: Number(f[0]),
      minor: Number(f[1]),
      device: f[2]!,
      readsCompleted: Number(f[3]),
      sectorsRead: Number(f[5]),
      writesCompleted: Number(f[7]),
      sectorsWritten: Number(f[9]),
    });
  }
  return out;
}

export interface DiskIoProbeOptions {
  /** Devices to skip; replaces DEFAULT_EXCLUDE_DEVICES. */
  excludeDevices?: TextPattern;
}

export class DiskIoProbe extends SystemProbe {
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
    const file = path.join(this._ctx.paths.proc, 'diskstats');
    const text = this._files.read(file);
    if (text === undefined) return this._unavailable.unavailable(`${file} does not exist`);
    this._unavailable.available();

    const points: MetricPoint[] = [];
    const seen = new Set<string>();
    const track = (metric: string, device: string, raw: number, scale = 1): void => {
      // A NUL cannot occur in a device name, so the key is unambiguous.
      const key = `${metric}\0${device}`;
      seen.add(key);
      points.push({ metric, labels: { device }, value: this._tracker.update(key, raw) * scale });
    };
    for (const d of parseDiskstats(text)) {
      if (this._exclude.test(d.device)) continue;
      track('disk_io_read_count', d.device, d.readsCompleted);
      // Sectors go through the tracker, not bytes, so that a 32-bit sector counter's wrap is recognised.
      track('disk_io_read_bytes', d.device, d.sectorsRead, DISKSTATS_SECTOR_BYTES);
      track('disk_io_write_count', d.device, d.writesCompleted);
      track('disk_io_write_bytes', d.device, d.sectorsWritten, DISKSTATS_SECTOR_BYTES);
    }
    this._tracker.retain(seen);
    return { status: 'ok', points };
  }
}
