/**
 * The span a measurement is made in, read from the application's own OpenTelemetry context without loading
 * `@opentelemetry/api` ourselves (5 MB of RSS in a process that may never trace). The API keeps what an
 * application registers on `globalThis[Symbol.for('opentelemetry.js.api.1')]`: its context manager under
 * `context`, and the active span in a context under `Symbol.for('OpenTelemetry Context Key SPAN')` (what
 * `trace.getSpan(context.active())` reads). Without a registered context manager the active context is always
 * the root one, so nothing is kept. Only a valid, sampled span counts: an exemplar should point at a trace
 * that was recorded.
 */
import type { Context, ContextManager, Span, SpanContext } from '@opentelemetry/api';

/** Where every 1.x `@opentelemetry/api` registers its globals (`internal/global-utils`). */
const GLOBAL_API_KEY = Symbol.for('opentelemetry.js.api.1');
/** The context key of the active span (`trace/context-utils`: `createContextKey` is `Symbol.for`). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
/** `TraceFlags.SAMPLED`. */
const SAMPLED = 1;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

type GlobalApi = { context?: ContextManager } | undefined;

/** The last span context found valid: checking one walks both ids, and a span records many measurements. */
let lastValid: SpanContext | undefined;

function isHexOfLength(id: unknown, length: number): boolean {
  if (typeof id !== 'string' || id.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = id.charCodeAt(i);
    // 0-9, A-F, a-f (the API's own isValidTraceId accepts either case).
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** `isSpanContextValid` of the API: ids of the right length in hex, and not all zeros. */
function isValid(sc: SpanContext): boolean {
  return (
    isHexOfLength(sc.traceId, 32) &&
    sc.traceId !== INVALID_TRACE_ID &&
    isHexOfLength(sc.spanId, 16) &&
    sc.spanId !== INVALID_SPAN_ID
  );
}

/** The active span's context when it is valid and sampled, else undefined. */
export function activeSampledSpan(): SpanContext | undefined {
  try {
    const manager = (globalThis as { [GLOBAL_API_KEY]?: GlobalApi })[GLOBAL_API_KEY]?.context;
    if (manager === undefined) return undefined;
    const span = (manager.active() as Context | undefined)?.getValue(SPAN_KEY) as Span | undefined;
    if (!span) return undefined;
    const sc = span.spanContext();
    if (sc === lastValid) return sc;
    if ((sc.traceFlags & SAMPLED) === 0 || !isValid(sc)) return undefined;
    lastValid = sc;
    return sc;
  } catch {
    // The application's context manager or span threw: the measurement is kept, without an exemplar.
    return undefined;
  }
}
