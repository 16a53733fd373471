/**
 * The configured queries of `neo4j_metrics.queries`: each row of a result becomes one series. Label
 * columns are the ones the config names in `labels`; the value is `value_column`, else the only column
 * left, else the column called `value`.
 */
import { AgentError } from '../../lib/errors.js';
import type { MetricPoint } from '../../model/metric.js';
import type { Row } from './client.js';

export interface CustomQuery {
  name: string;
  query: string;
  labels: readonly string[];
  valueColumn?: string;
  timeoutMs: number;
}

/** A result that cannot become points: the reason is one line for the log. */
export class RowShapeError extends AgentError {
  constructor(message: string) {
    super('E_PROBE_READ', message);
  }
}

function valueColumnOf(q: CustomQuery, row: Row): string {
  if (q.valueColumn !== undefined) return q.valueColumn;
  const rest = Object.keys(row).filter((k) => !q.labels.includes(k));
  if (rest.length === 1) return rest[0]!;
  if (rest.includes('value')) return 'value';
  throw new RowShapeError(
    `returns columns ${rest.join(', ')}; name the value with value_column or return one column besides the labels`,
  );
}

/** Turns the rows of a configured query into points; throws RowShapeError when they do not fit. */
export function customQueryPoints(q: CustomQuery, rows: readonly Row[]): MetricPoint[] {
  if (rows.length > 1 && q.labels.length === 0)
    throw new RowShapeError(`returned ${rows.length} rows but names no label columns (labels: [...])`);
  const points: MetricPoint[] = [];
  for (const row of rows) {
    const column = valueColumnOf(q, row);
    if (!(column in row)) throw new RowShapeError(`has no column ${JSON.stringify(column)}`);
    const v = row[column];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      const shown = typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : v === null ? 'null' : typeof v;
      throw new RowShapeError(`column ${JSON.stringify(column)} is ${shown}, expected a number`);
    }
    const labels: Record<string, string> = {};
    for (const l of q.labels) {
      if (!(l in row)) throw new RowShapeError(`has no label column ${JSON.stringify(l)}`);
      const lv = row[l];
      labels[l] = typeof lv === 'string' ? lv : JSON.stringify(lv);
    }
    points.push({ metric: q.name, labels, value: v });
  }
  return points;
}
