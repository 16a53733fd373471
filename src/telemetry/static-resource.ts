/**
 * The resource collections are reported under when there is no OTLP push: fixed attributes, nothing detected
 * asynchronously. The exposition (target_info) and the samples read only its attributes, so the SDK's
 * `@opentelemetry/resources` (and `@opentelemetry/core` with it) need not be loaded for it; with an OTLP push the
 * pipeline uses the SDK's own Resource, which the exporter is loaded with anyway.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';

export class StaticResource implements Resource {
  readonly attributes: Attributes;

  constructor(attributes: Attributes) {
    this.attributes = { ...attributes };
  }

  /** Another resource's attributes take precedence, as the SDK's merge does. */
  merge(other: Resource | null): Resource {
    return other === null ? this : new StaticResource({ ...this.attributes, ...other.attributes });
  }

  getRawAttributes(): ReturnType<Resource['getRawAttributes']> {
    return Object.entries(this.attributes);
  }
}
