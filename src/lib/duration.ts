/**
 * Durations in the configuration: a number is seconds (the seed's `duration: 300`), a string carries its
 * unit as Prometheus writes it (`500ms`, `15s`, `5m`, `1h30m`, `7d`).
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION_RE = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;

/**
 * Parses a duration; returns undefined when the text is not one, or when it is too long to be a number of
 * milliseconds (`1e306` seconds, a unit after 400 digits): such a duration would be Infinity.
 */
export function parseDurationMs(value: number | string): number | undefined {
  if (typeof value === 'number') {
    return value >= 0 ? finiteMs(value * 1000) : undefined;
  }
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return finiteMs(Number(text) * 1000);
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(PART_RE)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return finiteMs(total);
}

function finiteMs(ms: number): number | undefined {
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** Formats milliseconds the way Prometheus does (`1h30m`, `15s`, `250ms`). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
