/**
 * One copy of each OpenTelemetry SDK package: a second copy of sdk-metrics, core or resources breaks
 * `instanceof` checks inside the SDK and doubles what is loaded (the 0.301 exporters pin 3.1.0 exactly).
 * Copies nested inside a benchmark's peer (a dev dependency the agent never loads, measured against it) are
 * that peer's own and are left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Dev dependencies that are peers of a benchmark, with the OpenTelemetry versions they pin for themselves. */
const BENCH_PEERS = new Set(['@fastify/otel']);
const SINGLE = [
  '@opentelemetry/api',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/core',
  '@opentelemetry/resources',
];

/** Every installed copy of `name`: its path and version, found by walking node_modules. */
function copies(name: string): { dir: string; version: string }[] {
  const found: { dir: string; version: string }[] = [];
  const walk = (nodeModules: string): void => {
    if (!fs.existsSync(nodeModules)) return;
    const candidate = path.join(nodeModules, name, 'package.json');
    if (fs.existsSync(candidate)) {
      found.push({
        dir: path.dirname(candidate),
        version: (JSON.parse(fs.readFileSync(candidate, 'utf8')) as { version: string }).version,
      });
    }
    for (const entry of fs.readdirSync(nodeModules)) {
      const dirs = entry.startsWith('@')
        ? fs.readdirSync(path.join(nodeModules, entry)).map((e) => path.join(entry, e))
        : [entry];
      for (const d of dirs) if (!BENCH_PEERS.has(d)) walk(path.join(nodeModules, d, 'node_modules'));
    }
  };
  walk(path.join(ROOT, 'node_modules'));
  return found;
}

describe('installed OpenTelemetry packages', () => {
  it.each(SINGLE)('should have exactly one copy of %s', (name) => {
    const found = copies(name);
    expect(found.map((f) => path.relative(ROOT, f.dir))).toEqual([path.join('node_modules', name)]);
  });
});
