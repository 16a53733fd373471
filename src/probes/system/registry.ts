/**
 * The system probes, as data: each with the catalog names it emits and a factory. Adding a probe means
 * adding a file and one entry here.
 */
import type { Probe, ProbeContext } from '../probe.js';
import { CgroupProbe } from './cgroup.js';
import { CpuProbe } from './cpu.js';
import { DiskIoProbe } from './disk-io.js';
import type { DiskIoProbeOptions } from './disk-io.js';
import { DiskUsageProbe } from './disk-usage.js';
import type { DiskUsageProbeOptions } from './disk-usage.js';
import { MemoryProbe } from './memory.js';
import { NetworkProbe } from './network.js';
import type { NetworkProbeOptions } from './network.js';

/** The filters of every system probe, as the config's `system:` section sets them. */
export type SystemProbeOptions = DiskUsageProbeOptions & DiskIoProbeOptions & NetworkProbeOptions;

export interface SystemProbeDefinition {
  /** Equals the `name` of the probe it creates. */
  name: string;
  /** Catalog names the probe emits. */
  metrics: readonly string[];
  create(ctx: ProbeContext, options: SystemProbeOptions): Probe;
}

export const SYSTEM_PROBES: readonly SystemProbeDefinition[] = [
  {
    name: 'cpu',
    metrics: ['cpu_percent', 'cpu_count', 'cpu_freq_current'],
    create: (ctx) => new CpuProbe(ctx),
  },
  {
    name: 'memory',
    metrics: ['memory_percent', 'memory_used_bytes', 'memory_available_bytes', 'swap_percent'],
    create: (ctx) => new MemoryProbe(ctx),
  },
  {
    name: 'disk_usage',
    metrics: ['disk_usage_percent'],
    create: (ctx, options) => new DiskUsageProbe(ctx, options),
  },
  {
    name: 'disk_io',
    metrics: ['disk_io_read_bytes', 'disk_io_write_bytes', 'disk_io_read_count', 'disk_io_write_count'],
    create: (ctx, options) => new DiskIoProbe(ctx, options),
  },
  {
    name: 'network',
    metrics: [
      'network_bytes_sent',
      'network_bytes_recv',
      'network_packets_sent',
      'network_packets_recv',
      'network_errors_in',
      'network_errors_out',
    ],
    create: (ctx, options) => new NetworkProbe(ctx, options),
  },
  {
    name: 'cgroup',
    metrics: ['cgroup_cpu_limit_cores', 'cgroup_memory_limit_bytes', 'cgroup_memory_usage_bytes'],
    create: (ctx) => new CgroupProbe(ctx),
  },
];
