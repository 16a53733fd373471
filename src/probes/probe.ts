/**
 * The contract between a data source and the pipeline. A probe reads its source when the scheduler asks
 * (at most once per collection interval) and returns a Snapshot; observable instruments then report the
 * latest snapshot. Probes know nothing of exporters, readers, alerts or trends.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { MetricPoint } from '../model/metric.js';

export type SnapshotStatus = 'ok' | 'partial' | 'unavailable';

export interface Snapshot {
  /**
   * `ok`: everything was read. `partial`: some parts failed (failures counts them); the points are the
   * good ones. `unavailable`: the source does not exist here (no cgroup v2, wrong platform); not an error.
   */
  status: SnapshotStatus;
  points: MetricPoint[];
  /** Why the probe is unavailable, or what failed in a partial read. */
  reason?: string;
  failures?: number;
}

export interface Probe {
  /** Stable name, used as the `probe` label of the self-metrics. */
  readonly name: string;
  start(): Promise<void>;
  /**
   * Reads the source. Resolves with a Snapshot; a missing source is `unavailable`, not a rejection.
   * Rejects only on an unexpected failure, which the scheduler records and logs. `signal` aborts when
   * the probe's time budget is spent.
   */
  collect(signal: AbortSignal): Promise<Snapshot>;
  /**
   * The same read, for a probe whose read never waits (kernel files read synchronously, counters in memory).
   * The runner calls it instead of collect(), without a time budget (a timer cannot interrupt a synchronous read
   * anyway) and so without the abort signal, timer and race of each asynchronous run. Throws on an unexpected
   * failure.
   */
  collectSync?(): Snapshot;
  shutdown(): Promise<void>;
}

/** Filesystem roots, injected like node_exporter's --path.procfs/--path.sysfs/--path.rootfs. */
export interface HostPaths {
  proc: string;
  sys: string;
  rootfs: string;
}

/** Result of statfs(2), the fields a disk-usage probe needs. */
export interface FsStats {
  /** Fundamental block size in bytes. */
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
}

/** Reads filesystem statistics for a path; injected so tests need no real mounts. */
export type StatFs = (path: string) => Promise<FsStats>;

/** The same, synchronously; used only for local filesystems, whose statfs cannot hang. */
export type StatFsSync = (path: string) => FsStats;

export interface ProbeContext {
  clock: Clock;
  logger: Logger;
  paths: HostPaths;
  statfs: StatFs;
  /** Optional fast path for local filesystems; without it every statfs goes through `statfs`. */
  statfsSync?: StatFsSync;
}
