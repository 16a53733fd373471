/**
 * CPU utilisation, CPU count and current frequency from /proc/stat, /sys/devices/system/cpu and
 * /proc/cpuinfo.
 */
import path from 'node:path';
import type { ProbeContext, Snapshot } from '../probe.js';
import type { MetricPoint } from '../../model/metric.js';
import { splitFields, SyncSystemProbe } from './source.js';

/** Jiffies spent in each state since boot (USER_HZ units), as the `cpu` lines of /proc/stat give them. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  /** Already included in `user`. */
  guest: number;
  /** Already included in `nice`. */
  guestNice: number;
}

export interface ProcStat {
  /** The aggregate `cpu` line: all CPUs together. */
  total: CpuTimes | undefined;
  /** Number of per-CPU `cpuN` lines, i.e. CPUs online. */
  cpuCount: number;
}

function toTimes(fields: readonly string[]): CpuTimes {
  // fields[0] is the label; kernels before 2.6.11 lack steal, before 2.6.24 guest, before 2.6.33 guest_nice.
  const n = (i: number): number => {
    const v = fields[i];
    return v === undefined ? 0 : Number(v);
  };
  return {
    user: n(1),
    nice: n(2),
    system: n(3),
    idle: n(4),
    iowait: n(5),
    irq: n(6),
    softirq: n(7),
    steal: n(8),
    guest: n(9),
    guestNice: n(10),
  };
}

/** Parses the `cpu` and `cpuN` lines of /proc/stat; the rest of the file is not looked at. */
export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  let cpuCount = 0;
  let pos = 0;
  // The cpu lines come first; stop at the first other line so the long `intr` line is never split.
  while (pos < text.length && text.startsWith('cpu', pos)) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const fields = splitFields(text.slice(pos, end));
    const label = fields[0];
    if (label === 'cpu') total = toTimes(fields);
    else if (label !== undefined && label.length > 3) cpuCount++;
    pos = end + 1;
  }
  return { total, cpuCount };
}

/** The `cpu MHz` values of /proc/cpuinfo, one per CPU that reports it (x86 does, most ARM kernels do not). */
export function parseCpuinfoMhz(text: string): number[] {
  const out: number[] = [];
  let pos = text.indexOf('cpu MHz');
  while (pos >= 0) {
    const colon = text.indexOf(':', pos);
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    if (colon >= 0 && colon < end) {
      const value = Number(text.slice(colon + 1, end).trim());
      if (Number.isFinite(value)) out.push(value);
    }
    pos = text.indexOf('cpu MHz', end);
  }
  return out;
}

/** Busy jiffies and all jiffies. idle and iowait are idle; steal is busy; guest time is inside user/nice. */
function busyAndTotal(t: CpuTimes): { busy: number; total: number } {
  const idle = t.idle + t.iowait;
  const busy = t.user + t.nice + t.system + t.irq + t.softirq + t.steal;
  return { busy, total: busy + idle };
}

function clampPercent(v: number): number {
  return v < 0 ? 0 : v > 100 ? 100 : v;
}

/**
 * How long a frequency read from /proc/cpuinfo is reused. Without a cpufreq driver (most VMs) the value is
 * the nominal one and does not move, while generating cpuinfo is the costliest read of the whole probe set.
 */
const CPUINFO_REFRESH_MS = 60_000;

export class CpuProbe extends SyncSystemProbe {
  private _prev: { busy: number; total: number } | undefined;
  private _lastPercent: number | undefined;
  private _cpuinfoMhz: { value: number | undefined; readAtMs: number } | undefined;
  private readonly _statFile: string;
  private readonly _cpuDir: string;
  /** The cpufreq files of the CPUs in `_listing` (the listing of `_cpuDir` they were made from). */
  private _freqFiles: string[] = [];
  private _listing: string[] | undefined;

  constructor(ctx: ProbeContext) {
    super('cpu', ctx);
    this._statFile = path.join(ctx.paths.proc, 'stat');
    this._cpuDir = path.join(ctx.paths.sys, 'devices', 'system', 'cpu');
  }

  protected _collect(): Snapshot {
    const statFile = this._statFile;
    const statText = this._files.read(statFile);
    const mhz = this._frequencyMhz();
    if (statText === undefined) return this._unavailable.unavailable(`${statFile} does not exist`);
    const stat = parseProcStat(statText);
    if (stat.total === undefined) return this._unavailable.unavailable(`${statFile} has no cpu line`);
    this._unavailable.available();

    const points: MetricPoint[] = [
      { metric: 'cpu_percent', labels: {}, value: this._percent(stat.total) },
      { metric: 'cpu_count', labels: {}, value: stat.cpuCount },
    ];
    if (mhz !== undefined) points.push({ metric: 'cpu_freq_current', labels: {}, value: mhz });
    return { status: 'ok', points };
  }

  /** Non-idle share since the previous collection, or since boot on the first one. */
  private _percent(times: CpuTimes): number {
    const now = busyAndTotal(times);
    const prev = this._prev;
    this._prev = now;
    let percent: number;
    if (prev === undefined) {
      percent = now.total > 0 ? (now.busy / now.total) * 100 : 0;
    } else {
      const dTotal = now.total - prev.total;
      // Two reads within one tick see no change: repeat the last value rather than invent 0.
      if (dTotal <= 0) return this._lastPercent ?? 0;
      percent = ((now.busy - prev.busy) / dTotal) * 100;
    }
    this._lastPercent = clampPercent(percent);
    return this._lastPercent;
  }

  /**
   * Average current frequency in MHz: cpufreq's scaling_cur_freq (kHz) over the CPUs that have it, else
   * the `cpu MHz` lines of /proc/cpuinfo (re-read every CPUINFO_REFRESH_MS), else undefined.
   */
  private _frequencyMhz(): number | undefined {
    // The listing is kept for a minute (SourceFiles.list): the file names are made again only when it changes.
    const listing = this._files.list(this._cpuDir);
    if (listing !== this._listing) {
      this._listing = listing;
      this._freqFiles = (listing ?? [])
        .filter(isCpuDirName)
        .map((cpu) => path.join(this._cpuDir, cpu, 'cpufreq', 'scaling_cur_freq'));
    }
    if (this._freqFiles.length > 0) {
      let sumKhz = 0;
      let n = 0;
      for (let i = 0; i < this._freqFiles.length; i++) {
        const text = this._files.read(this._freqFiles[i]!);
        if (text === undefined) continue;
        const trimmed = text.trim();
        const khz = Number(trimmed);
        if (trimmed === '' || !Number.isFinite(khz)) continue;
        sumKhz += khz;
        n++;
      }
      if (n > 0) return sumKhz / n / 1000;
    }
    const now = this._ctx.clock.monotonicMs();
    if (this._cpuinfoMhz === undefined || now - this._cpuinfoMhz.readAtMs >= CPUINFO_REFRESH_MS) {
      this._cpuinfoMhz = { value: this._cpuinfoAverage(), readAtMs: now };
    }
    return this._cpuinfoMhz.value;
  }

  private _cpuinfoAverage(): number | undefined {
    const cpuinfo = this._files.read(path.join(this._ctx.paths.proc, 'cpuinfo'));
    if (cpuinfo === undefined) return undefined;
    const values = parseCpuinfoMhz(cpuinfo);
    if (values.length === 0) return undefined;
    let sum = 0;
    for (const v of values) sum += v;
    return sum / values.length;
  }
}

/** `cpu0`, `cpu17`; not `cpufreq`, `cpuidle`. */
function isCpuDirName(name: string): boolean {
  if (name.length <= 3 || !name.startsWith('cpu')) return false;
  for (let i = 3; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
