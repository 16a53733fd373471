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
      const key = text.slice(pos, colon);
      let rest = text.slice(colon + 1, end).trim();
      let factor = 1;
      if (rest.endsWith(' kB')) {
        rest = rest.slice(0, -3).trimEnd();
        factor = 1024;
      }
      const value = Number(rest);
      if (rest !== '' && Number.isFinite(value)) out.set(key, value * factor);
    }
    pos = end + 1;
  }
  return out;
}
