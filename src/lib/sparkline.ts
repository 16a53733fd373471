/**
 * Sparklines: a line of Unicode block characters for the terminal, an inline SVG path for the status page.
 */

const BLOCKS = '▁▂▃▄▅▆▇█';

/** Averages `v` into at most `width` columns. */
function downsample(v: ArrayLike<number>, width: number): number[] {
  return Array.from(downsampleSeries(v, v, width).v);
}

/**
 * A series of at most `width` points: consecutive runs of points averaged (times and values), so a chart
 * reads a bounded number of points whatever the window holds. Non-finite values are left out of the means.
 */
export function downsampleSeries(
  t: ArrayLike<number>,
  v: ArrayLike<number>,
  width: number,
): { t: Float64Array; v: Float64Array } {
  const n = v.length;
  if (n <= width) return { t: Float64Array.from(t), v: Float64Array.from(v) };
  const ot = new Float64Array(width);
  const ov = new Float64Array(width);
  for (let c = 0; c < width; c++) {
    const a = Math.floor((c * n) / width);
    const b = Math.max(a + 1, Math.floor(((c + 1) * n) / width));
    let st = 0;
    let sv = 0;
    let k = 0;
    for (let i = a; i < b; i++) {
      st += t[i]!;
      if (!Number.isFinite(v[i]!)) continue;
      sv += v[i]!;
      k++;
    }
    ot[c] = st / (b - a);
    ov[c] = k === 0 ? NaN : sv / k;
  }
  return { t: ot, v: ov };
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
