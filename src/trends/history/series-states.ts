/**
 * The append state of the series the history store holds in memory: each live series' row id, last time,
 * open chunk and value mode, keyed by its seriesKey (and histogram part), so that an append builds no JSON
 * for a series it knows. A series not appended to during a whole block is forgotten (gone interfaces,
 * mounts, processes): its state is in the file and read back if it returns, so the map holds the live
 * series only.
 */
import type { HistogramValue, Sample } from '../../model/metric.js';
import type { HistoryStatements } from './schema.js';
import { canonicalLabels, leText } from './series-labels.js';
import type { ValueEncoder } from './values.js';

/** A series' chunk in the open time block. */
export interface OpenChunk {
  enc: ValueEncoder;
  startMs: number;
  blockId: number;
  first: number;
}

export interface SeriesState {
  id: number;
  lastT: number;
  open: OpenChunk | undefined;
  /** The value mode the series' last chunk ended in (values.ts); the next chunk starts there. */
  mode: number;
  /** Appended to since the last write (then it is in the store's dirty list, once). */
  dirty: boolean;
}

/** A histogram's part states (its buckets, then sum and count), for the bucket bounds they were made for. */
interface HistogramParts {
  bounds: number[];
  parts: SeriesState[];
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SeriesStates {
  private readonly _series = new Map<string, SeriesState>();
  /** The live histograms' part states by seriesKey (cleared when a series is forgotten). */
  private readonly _histograms = new Map<string, HistogramParts>();
  /** Series not appended to during the block the last seal closed: forgotten at the next append. */
  private readonly _idle: string[] = [];

  /** Series held in memory (the live ones). */
  get size(): number {
    return this._series.size;
  }

  values(): IterableIterator<SeriesState> {
    return this._series.values();
  }

  /**
   * The state of one stored series: `series` is the sample's seriesKey, `part` the histogram part ('' for
   * other kinds). The labels' stored text is only built for a series not in memory (found or added in the
   * file).
   */
  state(stmts: HistoryStatements, series: string, smp: Sample, part: string, kind: string): SeriesState {
    const key = part === '' ? series : `${series}\u0002${part}`;
    let s = this._series.get(key);
    if (s === undefined) {
      const labels = canonicalLabels(smp.labels);
      let row = stmts.findSeries.get(smp.metric, labels, part) as { id: number } | undefined;
      if (row === undefined) {
        const r = stmts.insertSeries.run(smp.metric, labels, part, kind);
        row = { id: Number(r.lastInsertRowid) };
      }
      const last = (stmts.lastEnd.get(row.id, row.id) as { e: number | null }).e;
      s = { id: row.id, lastT: last ?? -Infinity, open: undefined, mode: 0, dirty: false };
      this._series.set(key, s);
    }
    return s;
  }

  /** The part states of a histogram series, made (and kept) for its bucket bounds. */
  histogramParts(stmts: HistoryStatements, series: string, smp: Sample, h: HistogramValue): SeriesState[] {
    const known = this._histograms.get(series);
    if (known?.parts.length === h.counts.length + 2 && sameBounds(known.bounds, h.boundaries))
      return known.parts;
    const parts: SeriesState[] = [];
    for (let i = 0; i < h.counts.length; i++)
      parts.push(this.state(stmts, series, smp, `le:${leText(h.boundaries[i])}`, 'counter'));
    parts.push(this.state(stmts, series, smp, 'sum', 'counter'));
    parts.push(this.state(stmts, series, smp, 'count', 'histogram'));
    this._histograms.set(series, { bounds: [...h.boundaries], parts });
    return parts;
  }

  /** The open block closed: every series starts a new chunk; those without one in it are idle. */
  sealed(): void {
    for (const [key, s] of this._series) {
      if (s.open === undefined) this._idle.push(key);
      s.open = undefined;
      s.dirty = false;
    }
  }

  /** Forgets the series that were idle for a whole block and still are. */
  forgetIdle(): void {
    for (const key of this._idle)
      if (this._series.get(key)?.open === undefined && this._series.delete(key)) this._histograms.clear();
    this._idle.length = 0;
  }

  clear(): void {
    this._series.clear();
    this._histograms.clear();
    this._idle.length = 0;
  }
}
