/**
 * The query-duration histogram an instrumented application records (`neo4j_query_duration`, seconds,
 * labels database and query_kind), read from the agent's latest collection when the application shares
 * the process with the agent; the collector turns it into p50/p95/p99.
 */
import type { Sample } from '../../model/metric.js';
import type { BucketCounts } from './answers.js';

const QUERY_DURATION_METRIC = 'neo4j_query_duration';

/** All series of `database` (every query kind) summed into one histogram; undefined when there are none. */
export function queryDurationHistogram(
  samples: readonly Sample[],
  database: string,
): BucketCounts | undefined {
  let boundaries: readonly number[] | undefined;
  let counts: number[] | undefined;
  for (const s of samples) {
    if (s.metric !== QUERY_DURATION_METRIC || s.histogram === undefined) continue;
    if (s.labels.database !== undefined && s.labels.database !== database) continue;
    const h = s.histogram;
    if (boundaries === undefined) {
      boundaries = h.boundaries;
      counts = [...h.counts];
    } else if (
      h.boundaries.length === boundaries.length &&
      h.boundaries.every((b, i) => b === boundaries![i])
    ) {
      h.counts.forEach((c, i) => (counts![i] = (counts![i] ?? 0) + c));
    }
  }
  return boundaries === undefined ? undefined : { boundaries, counts: counts! };
}
