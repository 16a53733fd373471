/**
 * Every relative link and `#anchor` in the Markdown pages resolves: the file exists, and the anchor names a
 * heading of that file as GitHub renders it (lowercase, spaces become '-', punctuation is dropped, a repeated
 * heading gets -1, -2, …). Links inside code blocks and code spans are not links and are left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Link {
  line: number;
  target: string;
}

/** The lines of a Markdown text outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker !== undefined) {
      if (fence === null) fence = marker[0]!;
      else if (marker[0] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text: raw });
  });
  return out;
}

/** Inline links and images of a Markdown text, code spans left out. */
function linksOf(text: string): Link[] {
  const links: Link[] = [];
  for (const { line, text: l } of proseLines(text)) {
    const prose = l.replace(/(`+)[^`]*?\1/g, '');
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line, target: m[1]! });
    }
  }
  return links;
}

/** GitHub's anchor for a heading text. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown text offers: its headings' slugs (repeats numbered) and HTML `id`/`name`s. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: l } of proseLines(text)) {
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (h !== null) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of l.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

/** The problems of the links in `file` (a path relative to the repository), as readable lines. */
function brokenLinks(file: string, read: (p: string) => string | undefined): string[] {
  const text = read(file);
  if (text === undefined) return [`${file}: missing`];
  const problems: string[] = [];
  for (const { line, target } of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    const hashAt = target.indexOf('#');
    const filePart = decodeURI(hashAt < 0 ? target : target.slice(0, hashAt));
    const anchor = hashAt < 0 ? null : decodeURIComponent(target.slice(hashAt + 1));
    const where = `${file}:${line}: ${target}`;
    if (filePart.startsWith('/')) {
      problems.push(`${where}: an absolute path`);
      continue;
    }
    const resolved =
      filePart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), filePart));
    if (resolved.startsWith('..')) {
      problems.push(`${where}: outside the repository`);
      continue;
    }
    const targetText = read(resolved.replace(/\/$/, ''));
    if (targetText === undefined) {
      problems.push(`${where}: no file ${resolved}`);
      continue;
    }
    if (anchor !== null && !anchorsOf(targetText).has(anchor)) {
      problems.push(`${where}: no heading #${anchor} in ${resolved}`);
    }
  }
  return problems;
}

/** A reader of repository files: the text of a Markdown file, '' for any other file or a directory. */
function repoReader(p: string): string | undefined {
  const abs = path.join(ROOT, p);
  if (!fs.existsSync(abs)) return undefined;
  if (fs.statSync(abs).isDirectory() || !p.endsWith('.md')) return '';
  return fs.readFileSync(abs, 'utf8');
}

const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

describe('Markdown links', () => {
  it.each(PAGES)('should resolve every relative link and anchor in %s', (page) => {
    expect(brokenLinks(page, repoReader)).toEqual([]);
  });

  it('should link the README to every page of docs/, and the docs index too', () => {
    const pages = PAGES.filter((p) => p.startsWith('docs/') && p !== 'docs/README.md');
    const fromReadme = new Set(linksOf(repoReader('README.md')!).map((l) => l.target.split('#')[0]));
    const fromIndex = new Set(
      linksOf(repoReader('docs/README.md')!).map((l) => `docs/${l.target.split('#')[0]}`),
    );
    for (const p of pages) {
      expect(fromReadme, p).toContain(p);
      expect(fromIndex, p).toContain(p);
    }
  });
});

describe('the link check', () => {
  it("should compute GitHub's anchors", () => {
    expect(slug('Moving rules to Prometheus: `rules export`')).toBe(
      'moving-rules-to-prometheus-rules-export',
    );
    expect(slug('10. Basic auth under a wrong-password flood — `test/bench/auth-flood.js`')).toBe(
      '10-basic-auth-under-a-wrong-password-flood--testbenchauth-floodjs',
    );
    expect(slug('Inside an application: the preload')).toBe('inside-an-application-the-preload');
    expect(slug('Alerts & Anomalies of `trend_analysis`')).toBe('alerts--anomalies-of-trend_analysis');
    expect(slug('[Unreleased]')).toBe('unreleased');
    expect([...anchorsOf('# A\n\n## Notes\n\n```\n# not a heading\n```\n\n## Notes\n')]).toEqual([
      'a',
      'notes',
      'notes-1',
    ]);
  });

  it('should report a missing file, a missing anchor, an absolute path and a link out of the repository', () => {
    const files: Record<string, string> = {
      'docs/a.md': [
        '# A',
        '',
        'See [b](b.md#second), [gone](c.md), [no anchor](b.md#third), [self](#a), [up](../../x.md)',
        'and [root](/etc/passwd), [web](https://example.com/#x), `[code](missing.md)`.',
        '',
        '```',
        '[fenced](missing.md)',
        '```',
      ].join('\n'),
      'docs/b.md': '# B\n\n## Second\n',
    };
    expect(brokenLinks('docs/a.md', (p) => files[p])).toEqual([
      'docs/a.md:3: c.md: no file docs/c.md',
      'docs/a.md:3: b.md#third: no heading #third in docs/b.md',
      'docs/a.md:3: ../../x.md: outside the repository',
      'docs/a.md:4: /etc/passwd: an absolute path',
    ]);
  });
});
