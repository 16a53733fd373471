/**
 * The limits of the cgroup (v2) the agent runs in: CPU quota, memory limit, and memory charged. A limit
 * that is set nowhere on the path to the root is absent, never reported as 0 or as the host's size.
 */
import path from 'node:path';
import { AgentError } from '../../lib/errors.js';
import type { ProbeContext, Snapshot } from '../probe.js';
import type { MetricPoint } from '../../model/metric.js';
import { SyncSystemProbe } from './source.js';

/** One line of /proc/self/cgroup: `hierarchy-id:controller-list:path`. */
export interface CgroupEntry {
  hierarchyId: number;
  /** Empty for the cgroup v2 line (`0::/path`). */
  controllers: string[];
  path: string;
}

/** Parses /proc/self/cgroup. The path may itself contain colons, so only the first two split. */
export function parseCgroupFile(text: string): CgroupEntry[] {
  const out: CgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const list = line.slice(first + 1, second);
    out.push({
      hierarchyId: Number(line.slice(0, first)),
      controllers: list === '' ? [] : list.split(','),
      path: line.slice(second + 1),
    });
  }
  return out;
}

/** The cgroup v2 path (`0::<path>`), or undefined on a v1-only system. */
export function cgroupV2Path(entries: readonly CgroupEntry[]): string | undefined {
  return entries.find((e) => e.hierarchyId === 0 && e.controllers.length === 0)?.path;
}

export interface CpuMax {
  /** Microseconds of CPU per period; undefined for `max` (no limit). */
  quotaUs: number | undefined;
  periodUs: number;
  /** quota / period, the limit in CPUs; undefined for no limit. */
  cores: number | undefined;
}

/** Parses cgroup v2 `cpu.max`: `max 100000` (no limit) or `<quota> <period>` (`200000 100000` = 2 CPUs). */
export function parseCpuMax(text: string): CpuMax {
  const [quotaText, periodText] = text.trim().split(' ');
  const periodUs = periodText === undefined ? 100000 : Number(periodText);
  if (!(periodUs > 0)) throw new AgentError('E_PROBE_READ', `malformed cpu.max: ${JSON.stringify(text)}`);
  if (quotaText === 'max') return { quotaUs: undefined, periodUs, cores: undefined };
  const quotaUs = Number(quotaText);
  if (quotaText === undefined || quotaText === '' || !(quotaUs >= 0)) {
    throw new AgentError('E_PROBE_READ', `malformed cpu.max: ${JSON.stringify(text)}`);
  }
  return { quotaUs, periodUs, cores: quotaUs / periodUs };
}

/** Parses cgroup v2 `memory.max` (or `memory.current`): bytes, or undefined for `max` (no limit). */
export function parseMemoryMax(text: string): number | undefined {
  const t = text.trim();
  if (t === 'max') return undefined;
  const value = Number(t);
  if (t === '' || !(value >= 0))
    throw new AgentError('E_PROBE_READ', `malformed memory value: ${JSON.stringify(text)}`);
  return value;
}

/**
 * The cgroup directories from the leaf up to the root of the v2 mount. A path that leaves the visible
 * hierarchy (`/../..` when the agent sits outside its cgroup namespace) falls back to the root.
 */
function cgroupDirs(root: string, cgroupPath: string): string[] {
  const segments = cgroupPath.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return [root];
  const dirs: string[] = [];
  for (let n = segments.length; n >= 0; n--) dirs.push(path.join(root, ...segments.slice(0, n)));
  return dirs;
}

function minDefined(values: readonly (number | undefined)[]): number | undefined {
  let min: number | undefined;
  for (const v of values) if (v !== undefined && (min === undefined || v < min)) min = v;
  return min;
}

export class CgroupProbe extends SyncSystemProbe {
  /** The files read for the cgroup path last seen, from the leaf up (made again when the path changes). */
  private _files3:
    { path: string; cpuMax: string[]; memoryMax: string[]; memoryCurrent: string[] } | undefined;

  constructor(ctx: ProbeContext) {
    super('cgroup', ctx);
  }

  protected _collect(): Snapshot {
    const selfFile = this._procPath('self/cgroup');
    const root = this._sysPath('fs/cgroup');
    const selfText = this._files.read(selfFile);
    const controllers = this._files.read(this._sysPath('fs/cgroup/cgroup.controllers'));
    if (selfText === undefined)
      return this._unavailable.unavailable(`${selfFile} does not exist (not Linux?)`);
    const cgroupPath = cgroupV2Path(parseCgroupFile(selfText));
    if (cgroupPath === undefined) return this._unavailable.unavailable('no cgroup v2 entry (cgroup v1 only)');
    if (controllers === undefined) {
      return this._unavailable.unavailable(
        `${root} is not a cgroup v2 mount (cgroup v1 or hybrid hierarchy)`,
      );
    }
    this._unavailable.available();

    if (this._files3?.path !== cgroupPath) {
      const dirs = cgroupDirs(root, cgroupPath);
      const inEach = (file: string): string[] => dirs.map((dir) => path.join(dir, file));
      this._files3 = {
        path: cgroupPath,
        cpuMax: inEach('cpu.max'),
        memoryMax: inEach('memory.max'),
        memoryCurrent: inEach('memory.current'),
      };
    }
    const read = (files: string[]): (string | undefined)[] => files.map((f) => this._files.read(f));
    const cpuMax = read(this._files3.cpuMax);
    const memoryMax = read(this._files3.memoryMax);
    const memoryCurrent = read(this._files3.memoryCurrent);

    const points: MetricPoint[] = [];
    const cores = minDefined(cpuMax.map((t) => (t === undefined ? undefined : parseCpuMax(t).cores)));
    if (cores !== undefined) points.push({ metric: 'cgroup_cpu_limit_cores', labels: {}, value: cores });
    const memLimit = minDefined(memoryMax.map((t) => (t === undefined ? undefined : parseMemoryMax(t))));
    if (memLimit !== undefined)
      points.push({ metric: 'cgroup_memory_limit_bytes', labels: {}, value: memLimit });
    // The leaf's charge; if the leaf is not visible (no cgroup namespace), the deepest directory that is.
    const current = memoryCurrent.find((t) => t !== undefined);
    const usage = current === undefined ? undefined : parseMemoryMax(current);
    if (usage !== undefined) points.push({ metric: 'cgroup_memory_usage_bytes', labels: {}, value: usage });
    return { status: 'ok', points };
  }
}
