/**
 * Parsers shared by the probes that read /proc: the host probes (src/probes/system) and the process probe of
 * the Node.js runtime (src/probes/runtime), which the preload loads without the host probes.
 */

/**
 * Parses a `Key: value [kB]` file (/proc/meminfo, /proc/<pid>/status) into a map from field name to value. Values given in `kB` (KiB, in fact) are
 * converted to bytes; the few unit-less fields (`HugePages_Total`, …) are counts and are kept as they are.
 */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', pos);
    if (colon > pos && colon < end) {
      const value = fieldValue(text, colon, end);
      if (value !== undefined) out.set(text.slice(pos, colon), value);
    }
    pos = end + 1;
  }
  return out;
}

/**
 * One field of a `Key: value [kB]` file, as parseMeminfo reads it (the first line with that key; the kernel
 * writes each once), without splitting the other lines: the probes that run every collection need a few of
 * the fifty.
 */
export function meminfoField(text: string, key: string): number | undefined {
  let pos: number;
  if (text.startsWith(key) && text.charCodeAt(key.length) === COLON) pos = 0;
  else {
    const at = text.indexOf(`\n${key}:`);
    if (at < 0) return undefined;
    pos = at + 1;
  }
  let end = text.indexOf('\n', pos);
  if (end < 0) end = text.length;
  return fieldValue(text, pos + key.length, end);
}

const COLON = 58;

/** The value after the colon at `colon` of the line ending at `end`: `kB` converted to bytes. */
function fieldValue(text: string, colon: number, end: number): number | undefined {
  let rest = text.slice(colon + 1, end).trim();
  let factor = 1;
  if (rest.endsWith(' kB')) {
    rest = rest.slice(0, -3).trimEnd();
    factor = 1024;
  }
  const value = Number(rest);
  return rest !== '' && Number.isFinite(value) ? value * factor : undefined;
}
