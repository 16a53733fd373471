/**
 * The shape of src/ that lint cannot see whole: no import cycle between files (type-only imports included,
 * which eslint's no-cycle skips), none between the top-level folders, and files small enough to read (the
 * composition root under 300 lines, every other file under 600). The layer order itself is enforced by
 * eslint (import-x/no-restricted-paths, see eslint.config.js).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** Every module specifier: static imports and re-exports (type-only included) and dynamic import(). */
const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|(?:^|\n)import\s+'([^']+)'/g;

function sourceFiles(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [path.relative(SRC, p)] : [];
  });
}

/** File → the src files it imports (relative to src/). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const text = fs.readFileSync(path.join(SRC, file), 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      deps.push(path.relative(SRC, path.resolve(SRC, path.dirname(file), spec.replace(/\.js$/, '.ts'))));
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Strongly connected components with more than one member (or a self-loop): the cycles. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** The top-level folder of a src file; files directly in src/ are the entry points. */
function folderOf(file: string): string {
  const parts = file.split(path.sep);
  return parts.length > 1 ? parts[0]! : '(entry points)';
}

describe('architecture of src/', () => {
  const graph = importGraph();

  it('should read every file and see its imports (the check itself)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(path.join('agent', 'agent.ts'))).toContain(path.join('agent', 'assembly.ts'));
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['a']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b']]);
  });

  it('should have no import cycle between files, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('should have no import cycle between the top-level folders', () => {
    const folders = new Map<string, string[]>();
    for (const [file, deps] of graph) {
      const from = folderOf(file);
      const to = new Set(folders.get(from));
      for (const d of deps) if (folderOf(d) !== from) to.add(folderOf(d));
      folders.set(from, [...to]);
    }
    expect(cycles(folders)).toEqual([]);
  });

  it('should keep the composition root under 300 lines and every other file under 600', () => {
    const lines = (f: string): number => fs.readFileSync(path.join(SRC, f), 'utf8').split('\n').length;
    expect(lines(path.join('agent', 'agent.ts'))).toBeLessThan(300);
    expect([...graph.keys()].filter((f) => lines(f) > 600).map((f) => `${f}: ${lines(f)} lines`)).toEqual([]);
  });
});
