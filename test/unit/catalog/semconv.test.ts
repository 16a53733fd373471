/**
 * The semconv mapping (src/catalog/semconv.ts) against the catalog and against the conventions as
 * `@opentelemetry/semantic-conventions` ships them: every catalog metric is mapped, every convention name and
 * attribute is one the package exports and not deprecated, our own names are under our namespace, and the
 * table in docs/metrics.md is the rendered mapping.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOG, catalogEntry } from '../../../src/catalog/catalog.js';
import { SEMCONV_BEGIN, SEMCONV_END, renderSemconvTable } from '../../../src/catalog/markdown.js';
import {
  INT_ATTRIBUTES,
  OWN_NAMESPACE,
  RESOURCE_LABEL_ATTRIBUTES,
  mappedNames,
  semconvMapping,
} from '../../../src/catalog/semconv.js';
import type { SemconvMapping } from '../../../src/catalog/semconv.js';

const METRICS_DOC = fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url));

/** Mapped ahead of their catalog entries; none at present. */
const ANTICIPATED = new Set<string>();

const DIST = path.dirname(createRequire(import.meta.url).resolve('@opentelemetry/semantic-conventions'));

/** `value → deprecated?` of every `declare const <PREFIX>…: "value"` in the package's declaration files. */
function declared(prefix: 'METRIC_' | 'ATTR_'): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const file of fs.readdirSync(DIST).filter((f) => f.endsWith('.d.mts'))) {
    const text = fs.readFileSync(path.join(DIST, file), 'utf8');
    const re = new RegExp(
      `/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*declare const ${prefix}\\w+: "([^"]+)"`,
      'g',
    );
    for (const m of text.matchAll(re)) {
      const deprecated = m[1]!.includes('@deprecated');
      out.set(m[2]!, (out.get(m[2]!) ?? true) && deprecated);
    }
  }
  return out;
}

const METRICS = declared('METRIC_');
const ATTRIBUTES = declared('ATTR_');
const MAPPED = CATALOG.map((e) => ({ entry: e, m: semconvMapping(e.name)! }));

describe('semconv mapping', () => {
  it('should map every catalog metric, and nothing else but anticipated names', () => {
    for (const e of CATALOG) expect(semconvMapping(e.name), e.name).toBeDefined();
    for (const name of mappedNames())
      expect(catalogEntry(name) !== undefined || ANTICIPATED.has(name), name).toBe(true);
    expect(semconvMapping('orders_placed')).toBeUndefined();
  });

  it('should use only metric names the package declares, none deprecated', () => {
    expect(METRICS.size).toBeGreaterThan(100);
    for (const { entry, m } of MAPPED.filter((x) => x.m.convention)) {
      expect(METRICS.has(m.name), `${entry.name} → ${m.name}`).toBe(true);
      expect(METRICS.get(m.name), `${m.name} is deprecated`).toBe(false);
    }
  });

  it('should use only attribute names the package declares, or ours under the namespace', () => {
    const names = (m: SemconvMapping): string[] => [
      ...Object.values(m.attributes),
      ...Object.keys(m.constant),
    ];
    for (const { entry, m } of MAPPED) {
      for (const a of names(m)) {
        if (a.startsWith(`${OWN_NAMESPACE}.`)) continue;
        expect(ATTRIBUTES.has(a), `${entry.name}: ${a}`).toBe(true);
        expect(ATTRIBUTES.get(a), `${a} is deprecated`).toBe(false);
      }
    }
    // A convention's metric carries no label of ours: each is renamed to one of its attributes.
    for (const { entry, m } of MAPPED.filter((x) => x.m.convention))
      for (const l of entry.labels) expect(m.attributes[l], `${entry.name}: label ${l}`).toBeDefined();
    for (const a of [...INT_ATTRIBUTES, ...Object.values(RESOURCE_LABEL_ATTRIBUTES)])
      expect(ATTRIBUTES.get(a), a).toBe(false);
  });

  it('should put our own metrics under the namespace, in dotted lower case', () => {
    for (const { entry, m } of MAPPED) {
      expect(m.name, entry.name).toMatch(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/);
      expect(m.name.startsWith(`${OWN_NAMESPACE}.`), entry.name).toBe(!m.convention);
      expect(m.name, entry.name).not.toMatch(/_total$/);
    }
  });

  it('should keep counters monotonic sums and histograms histograms, in their units', () => {
    for (const { entry, m } of MAPPED) {
      if (entry.kind === 'counter') expect(m.instrument, entry.name).toBe('counter');
      if (entry.kind === 'histogram') {
        expect(m.instrument, entry.name).toBe('histogram');
        expect(m.scale, `${entry.name}: buckets are not scaled`).toBe(1);
      }
      if (entry.kind === 'gauge') expect(['gauge', 'updowncounter'], entry.name).toContain(m.instrument);
      if (entry.unit === '%') expect([m.unit, m.scale], entry.name).toEqual(['1', 0.01]);
    }
  });

  it('should tell the parts of a merged convention apart, with one instrument and unit', () => {
    const byName = new Map<string, typeof MAPPED>();
    for (const x of MAPPED) byName.set(x.m.name, [...(byName.get(x.m.name) ?? []), x]);
    for (const [name, parts] of byName) {
      if (parts.length === 1) continue;
      expect(new Set(parts.map((p) => `${p.m.instrument} ${p.m.unit}`)).size, name).toBe(1);
      expect(new Set(parts.map((p) => p.entry.labels.join())).size, name).toBe(1);
      const keys = parts.map((p) => JSON.stringify(Object.entries(p.m.constant).sort()));
      expect(new Set(keys).size, `${name}: constants differ`).toBe(parts.length);
    }
    expect(byName.get('system.disk.io')?.map((p) => p.entry.name)).toEqual([
      'disk_io_read_bytes',
      'disk_io_write_bytes',
    ]);
  });

  it('should be the table of docs/metrics.md (UPDATE_GOLDEN=1 rewrites it)', () => {
    const text = fs.readFileSync(METRICS_DOC, 'utf8');
    const begin = text.indexOf(SEMCONV_BEGIN);
    const end = text.indexOf(SEMCONV_END);
    expect(begin, 'docs/metrics.md lacks the semconv table markers').toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const wanted = renderSemconvTable();
    const current = text.slice(begin, end + SEMCONV_END.length);
    if (process.env.UPDATE_GOLDEN === '1' && current !== wanted) {
      fs.writeFileSync(METRICS_DOC, text.slice(0, begin) + wanted + text.slice(end + SEMCONV_END.length));
      return;
    }
    expect(current).toBe(wanted);
    for (const e of CATALOG)
      expect(wanted, e.name).toContain(`| \`${e.name}\` | \`${semconvMapping(e.name)!.name}\``);
  });
});
