/**
 * Sparklines: a line of Unicode block characters for the terminal, an inline SVG path for the status page.
 */

const BLOCKS = '▁▂▃▄▅▆▇█';

/** Averages `v` into at most `width` columns. */
function downsample(v: ArrayLike<number>, width: number): number[] {
  const n = v.length;
  if (n <= width) return Array.from(v);
  const out: number[] = [];
  for (let c = 0; c < width; c++) {
    const a = Math.floor((c * n) / width);
    const b = Math.max(a + 1, Math.floor(((c + 1) * n) / width));
    let s = 0;
    for (let i = a; i < b; i++) s += v[i]!;
    out.push(s / (b - a));
  }
  return out;
}

/** A Unicode sparkline of at most `width` characters ('' for no data). */
export function textSparkline(v: ArrayLike<number>, width = 40): string {
  const cols = downsample(v, width).filter(Number.isFinite);
  if (cols.length === 0) return '';
  const min = Math.min(...cols);
  const max = Math.max(...cols);
  const span = max - min;
  return cols.map((x) => BLOCKS[span === 0 ? 3 : Math.min(7, Math.floor(((x - min) / span) * 8))]!).join('');
}

/** An inline SVG polyline of `v` over `t`, `width`×`height` user units, with a title for screen readers. */
export function svgSparkline(
  t: ArrayLike<number>,
  v: ArrayLike<number>,
  opts: { width?: number; height?: number; title: string; fromMs: number; toMs: number },
): string {
  const width = opts.width ?? 240;
  const height = opts.height ?? 40;
  const pts: string[] = [];
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) continue;
    if (v[i]! < min) min = v[i]!;
    if (v[i]! > max) max = v[i]!;
  }
  const span = max - min || 1;
  const tspan = opts.toMs - opts.fromMs || 1;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) continue;
    const x = ((t[i]! - opts.fromMs) / tspan) * width;
    const y = height - 2 - ((v[i]! - min) / span) * (height - 4);
    pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  const title = opts.title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return (
    `<svg class="spark" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img">` +
    `<title>${title}</title>` +
    (pts.length > 0
      ? `<polyline fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" points="${pts.join(' ')}"/>`
      : '') +
    `</svg>`
  );
}
