/**
 * Where the pipeline in force is found: the HTTP routes and the in-app sources read it at request time, and a
 * new pipeline takes over from the one in it (pipeline.ts).
 */
import type { MetricsPayload } from '../export/prometheus.js';
import type { Pipeline, PipelineHolder } from './pipeline.js';

/** Where the pipeline in force is found; the HTTP routes and the in-app sources read it at request time. */
export class PipelineSlot implements PipelineHolder {
  current: Pipeline | undefined;
  /** What /metrics serves while a reload waits for the new pipeline's first collection. */
  swappedOut: MetricsPayload | undefined;

  /** The Prometheus payload to serve now. */
  payload(): MetricsPayload | undefined {
    return this.current?.snapshot.current() ?? this.swappedOut;
  }
}
