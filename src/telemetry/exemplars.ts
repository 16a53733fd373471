/**
 * The span a measurement is made in, read from the application's own OpenTelemetry context
 * (`@opentelemetry/api`'s global context manager: the agent needs no tracing SDK, and without a context
 * manager the active context is always the root one, so nothing is kept). Only a valid, sampled span
 * counts: an exemplar should point at a trace that was recorded.
 */
import { TraceFlags, context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';

/** The last span context found valid: checking one is a regex test, and a span records many measurements. */
let lastValid: SpanContext | undefined;

/** The active span's context when it is valid and sampled, else undefined. */
export function activeSampledSpan(): SpanContext | undefined {
  try {
    const span = trace.getSpan(context.active());
    if (span === undefined) return undefined;
    const sc = span.spanContext();
    if (sc === lastValid) return sc;
    if ((sc.traceFlags & TraceFlags.SAMPLED) === 0 || !isSpanContextValid(sc)) return undefined;
    lastValid = sc;
    return sc;
  } catch {
    // The application's context manager or span threw: the measurement is kept, without an exemplar.
    return undefined;
  }
}
