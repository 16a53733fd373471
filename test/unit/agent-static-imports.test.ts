/**
 * What importing the agent loads before any configuration is read. The schema library and the YAML parser
 * are paid for while a configuration is validated, in a worker (agent/load-isolated.ts), not kept resident
 * in the agent: a static import of config/schema.ts from the agent's graph would keep zod (about 5 MB) in
 * every process, the preloaded application's too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** `import … from '…'` and `export … from '…'`, but not `import type` / `export type` (erased when compiled). */
const STATIC_IMPORT = /^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'|^import\s+'([^']+)'/gm;

/** Every module a static import chain reaches from `entry` (src files by relative path, packages by name). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    const rel = path.relative(SRC, file);
    if (seen.has(rel)) return;
    seen.add(rel);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(STATIC_IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else seen.add(spec);
    }
  };
  visit(path.join(SRC, entry));
  return seen;
}

describe('static imports of the agent', () => {
  it.each(['agent/agent.ts', 'preload-start.ts'])(
    'should not reach the config schema, zod or yaml from %s',
    (entry) => {
      const graph = staticGraph(entry);
      expect(graph.has('agent/agent.ts')).toBe(true);
      expect(
        [...graph].filter((m) =>
          ['config/schema.ts', 'config/load.ts', 'agent/load-config.ts', 'zod', 'yaml'].includes(m),
        ),
      ).toEqual([]);
    },
  );

  it('should see a static import chain (the check itself)', () => {
    expect(staticGraph('config/load.ts').has('config/schema.ts')).toBe(true);
    expect(staticGraph('config/load.ts').has('yaml')).toBe(true);
  });

  it("should load a file in the worker with the product's loader, the alerting checks included", () => {
    const worker = staticGraph('agent/load-worker.ts');
    expect(worker.has('agent/load-config.ts')).toBe(true);
    expect(worker.has('alerts/config-checks.ts')).toBe(true);
  });
});
