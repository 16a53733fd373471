/**
 * Durations in the configuration: a number is seconds (the seed's `duration: 300`), a string carries its
 * unit as Prometheus writes it (`500ms`, `15s`, `5m`, `1h30m`, `7d`). Nothing longer than MAX_DURATION_MS is a
 * duration: every duration from outside (configuration, CLI, HTTP) then stays a safe integer, and now plus it a
 * time a Date can hold.
 */

/** The longest duration: 100 years (of 365 days, as `y` counts). */
export const MAX_DURATION_MS = 100 * 31_536_000_000;

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

/** Milliseconds of a duration text or number, without the upper bound; undefined when it is not one. */
function unbounded(value: number | string): number | undefined {
  if (typeof value === 'number') return value >= 0 ? value * 1000 : undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(PART_RE)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}

/** Parses a duration; returns undefined when the text is not one or it is longer than MAX_DURATION_MS. */
export function parseDurationMs(value: number | string): number | undefined {
  const ms = unbounded(value);
  return ms !== undefined && Number.isFinite(ms) && ms <= MAX_DURATION_MS ? Math.round(ms) : undefined;
}

/** Whether `value` is written as a duration but is longer than MAX_DURATION_MS. */
export function isDurationTooLong(value: number | string): boolean {
  const ms = unbounded(value);
  return ms !== undefined && !(ms <= MAX_DURATION_MS);
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
