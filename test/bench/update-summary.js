/**
 * Rewrites the generated block of docs/benchmarks.md from the saved benchmark outputs. The benchmarks write
 * nothing themselves: a run is saved by hand, e.g.
 *
 *   node test/bench/soak.js | tee test/bench/results/soak.txt
 *   node test/bench/update-summary.js          # rewrites the block; --check: exit 1 if it is out of date
 *
 * Every `test/bench/results/<bench>.txt` contributes its headline `key=value` lines (a line that is exactly
 * `name=value`, name in lower snake case) as rows: bench, key, value. The command that produced the file is
 * the one in the file's first line when it starts with `$ `, else `node test/bench/<bench>.js`. A file whose
 * output says it is a try-out (a line starting with `# TRY-OUT`) is listed as such. The block sits between
 * the two marker comments below; everything else in docs/benchmarks.md is left as it is.
 */
import console from 'node:console';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './common.js';

export const BEGIN_MARKER =
  '<!-- BEGIN GENERATED: node test/bench/update-summary.js; do not edit by hand -->';
export const END_MARKER = '<!-- END GENERATED -->';
const HEADLINE = /^([a-z][a-z0-9_]*)=(\S.*)$/;

/** The headline rows of one results file. */
export function parseResults(bench, text) {
  const lines = text.split(/\r?\n/);
  const command = lines[0]?.startsWith('$ ') ? lines[0].slice(2).trim() : `node test/bench/${bench}.js`;
  const tryOut = lines.some((l) => l.startsWith('# TRY-OUT'));
  const rows = [];
  for (const line of lines) {
    const m = HEADLINE.exec(line);
    if (m) rows.push({ bench, key: m[1], value: m[2].trim() });
  }
  return { bench, command, tryOut, rows };
}

/** The Markdown of the generated block (without the markers). */
export function renderBlock(results) {
  const rows = [['bench', 'key', 'value']];
  for (const r of results) for (const row of r.rows) rows.push([r.bench, `\`${row.key}\``, row.value]);
  // Padded as Prettier formats a Markdown table, so that the file stays as `prettier --check` wants it.
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((cells) => cells[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const out = [
    line(rows[0]),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ];
  out.push('', 'Produced by:', '');
  for (const r of results)
    out.push(
      `- ${r.bench}: \`${r.command}\`, saved in \`test/bench/results/${r.bench}.txt\`` +
        `${r.tryOut ? ' (a try-out run, not a headline run)' : ''}${r.rows.length === 0 ? ' (no headline lines)' : ''}`,
    );
  return out.join('\n');
}

/** `doc` with the text between the markers replaced by `block`; throws when the markers are missing. */
export function replaceBlock(doc, block) {
  const start = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (start < 0 || end < start)
    throw new Error(`docs/benchmarks.md lacks the markers ${BEGIN_MARKER} … ${END_MARKER}`);
  return `${doc.slice(0, start + BEGIN_MARKER.length)}\n\n${block}\n\n${doc.slice(end)}`;
}

function main() {
  const resultsDir = path.join(REPO_ROOT, 'test', 'bench', 'results');
  const docFile = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  const files = fs.existsSync(resultsDir)
    ? fs
        .readdirSync(resultsDir)
        .filter((f) => f.endsWith('.txt'))
        .sort()
    : [];
  const results = files.map((f) =>
    parseResults(f.slice(0, -4), fs.readFileSync(path.join(resultsDir, f), 'utf8')),
  );
  const doc = fs.readFileSync(docFile, 'utf8');
  const next = replaceBlock(doc, renderBlock(results));
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('docs/benchmarks.md is out of date: run node test/bench/update-summary.js');
      process.exit(1);
    }
    console.log('docs/benchmarks.md is up to date');
    return;
  }
  if (next !== doc) fs.writeFileSync(docFile, next);
  const rows = results.reduce((n, r) => n + r.rows.length, 0);
  console.log(`docs/benchmarks.md: ${rows} headline values from ${results.length} results file(s)`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
