/**
 * The shape of a catalog entry and the one way to write one (`entry`), shared by the catalog's group files.
 */
import type { MetricKind } from '../model/metric.js';
export type MetricGroup = 'system' | 'container' | 'application' | 'neo4j' | 'self' | 'runtime';

export interface CatalogEntry {
  /** Name in config and rules. */
  name: string;
  /** Name exported (before the prefix); Prometheus adds `_total` to counters. */
  exportedName: string;
  kind: MetricKind;
  /** UCUM unit as OTel writes it: `%`, `By`, `s`, `MHz`, `{packet}`. */
  unit: string;
  description: string;
  labels: readonly string[];
  group: MetricGroup;
  /** Which config list enables or disables it; self-metrics are always on. */
  configList?: 'system_metrics' | 'application_metrics' | 'neo4j_metrics';
  /** Default histogram bucket boundaries. */
  buckets?: readonly number[];
  /**
   * Counters only: exported only in collections whose source reported them, so a server that is down makes
   * them absent rather than frozen at their last total (the default, as the SDK's observable counters do).
   */
  absentWhenUnreported?: boolean;
}

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export function entry(
  group: MetricGroup,
  name: string,
  kind: MetricKind,
  unit: string,
  description: string,
  labels: readonly string[] = [],
  extra: Partial<CatalogEntry> = {},
): CatalogEntry {
  const configList =
    group === 'system' || group === 'container'
      ? 'system_metrics'
      : group === 'application' || group === 'runtime'
        ? 'application_metrics'
        : group === 'neo4j'
          ? 'neo4j_metrics'
          : undefined;
  return { name, exportedName: name, kind, unit, description, labels, group, configList, ...extra };
}
