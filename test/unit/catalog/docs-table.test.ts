import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../../src/catalog/catalog.js';
import { TABLE_BEGIN, TABLE_END, renderMetricTable } from '../../../src/catalog/markdown.js';

const METRICS_DOC = fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url));

describe('metric table of docs/metrics.md', () => {
  it('should match the catalog (UPDATE_GOLDEN=1 rewrites it)', () => {
    const text = fs.readFileSync(METRICS_DOC, 'utf8');
    const begin = text.indexOf(TABLE_BEGIN);
    const end = text.indexOf(TABLE_END);
    expect(begin, 'docs/metrics.md lacks the table markers').toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const current = text.slice(begin, end + TABLE_END.length);
    const wanted = renderMetricTable();
    if (process.env.UPDATE_GOLDEN === '1' && current !== wanted) {
      fs.writeFileSync(METRICS_DOC, text.slice(0, begin) + wanted + text.slice(end + TABLE_END.length));
      return;
    }
    expect(current).toBe(wanted);
  });

  it('should name every catalog metric', () => {
    const text = fs.readFileSync(METRICS_DOC, 'utf8');
    for (const e of CATALOG) expect(text, e.name).toContain(`\`${e.name}\``);
  });
});
