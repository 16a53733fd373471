/**
 * The `key=value,key2=value2` lists of the OpenTelemetry environment variables (OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_EXPORTER_OTLP_HEADERS), values percent-encoded. Malformed entries are skipped, as the spec says.
 */
export function parseKeyValueList(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw text when it is not valid percent-encoding
    }
    if (key !== '') out[key] = value;
  }
  return out;
}
