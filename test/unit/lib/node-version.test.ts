/**
 * The Node.js version check of the entry points (lib/node-version.ts), and that the entry points run it
 * before they load anything that an older Node.js cannot load.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  MINIMUM_NODE,
  REQUIRED_NODE,
  isAtLeast,
  parseNodeVersion,
  unsupportedNode,
} from '../../../src/lib/node-version.js';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

describe('parseNodeVersion', () => {
  it.each([
    ['22.15.0', [22, 15, 0]],
    ['v20.20.2', [20, 20, 2]],
    ['24.21.0', [24, 21, 0]],
    ['23.0.0-pre', [23, 0, 0]],
    [' v18.19.1 ', [18, 19, 1]],
    ['100.2.30', [100, 2, 30]],
  ] as const)('should read %j as %j', (text, version) => {
    expect(parseNodeVersion(text)).toEqual(version);
  });

  it.each(['', 'v22', '22.15', 'x22.15.0', '>=22.15.0', 'node'])('should not read %j', (text) => {
    expect(parseNodeVersion(text)).toBeUndefined();
  });
});

describe('isAtLeast', () => {
  it.each([
    [[22, 15, 0], true],
    [[22, 15, 1], true],
    [[22, 16, 0], true],
    [[23, 0, 0], true],
    [[24, 0, 0], true],
    [[22, 14, 99], false],
    [[22, 0, 0], false],
    [[21, 99, 99], false],
    [[20, 20, 2], false],
    [[18, 20, 0], false],
  ] as const)('should compare %j with 22.15.0 as %s', (found, expected) => {
    expect(isAtLeast(found, [22, 15, 0])).toBe(expected);
  });
});

describe('unsupportedNode', () => {
  it('should name the Node.js needed and the one found, on one line', () => {
    expect(unsupportedNode('20.20.2')).toBe('needs Node.js >=22.15.0, found v20.20.2');
    expect(unsupportedNode('v22.14.0')).toBe('needs Node.js >=22.15.0, found v22.14.0');
    expect(unsupportedNode('18.0.0')).toBe('needs Node.js >=22.15.0, found v18.0.0');
  });

  it.each(['22.15.0', '22.20.1', '23.0.0', '24.21.0'])('should accept %s', (found) => {
    expect(unsupportedNode(found)).toBeUndefined();
  });

  it('should not refuse a version it cannot read', () => {
    expect(unsupportedNode('unknown')).toBeUndefined();
  });

  it('should accept the Node.js that runs the tests by default', () => {
    expect(process.versions.node).toMatch(/^\d+\.\d+\.\d+/);
    expect(unsupportedNode()).toBe(unsupportedNode(process.versions.node));
    expect(unsupportedNode()).toBeUndefined();
  });

  it("should require what package.json's engines.node says", () => {
    const pkg = JSON.parse(fs.readFileSync(root('package.json'), 'utf8')) as { engines: { node: string } };
    expect(REQUIRED_NODE).toBe(pkg.engines.node);
    expect(REQUIRED_NODE).toBe(`>=${MINIMUM_NODE.join('.')}`);
  });
});

/** The modules a file imports statically (`import … from '…'`, `import '…'`; not `import type`). */
function staticImports(file: string): string[] {
  const text = fs.readFileSync(root(file), 'utf8');
  return [...text.matchAll(/^import\s+(?!type\b)(?:[^;]*?\bfrom\s+)?'([^']+)'/gm)].map((m) => m[1]!);
}

describe('the entry points on an older Node.js', () => {
  it('should check the version before the command line or the agent is loaded', () => {
    expect(staticImports('src/cli/main.ts')).toEqual(['../lib/node-version.js']);
    expect(staticImports('src/register.ts')).toEqual(['node:module', './lib/node-version.js']);
    expect(staticImports('src/lib/node-version.ts')).toEqual([]);
  });

  it('should see static imports (the check itself)', () => {
    expect(staticImports('src/preload-start.ts')).toContain('./agent/agent.js');
  });

  it('should give `--require` a CommonJS entry that loads the preload only after its own check', () => {
    const pkg = JSON.parse(fs.readFileSync(root('package.json'), 'utf8')) as {
      exports: Record<string, Record<string, string>>;
      files: string[];
    };
    expect(pkg.exports['./register']!.require).toBe('./register.cjs');
    expect(pkg.files).toContain('register.cjs');
    const text = fs.readFileSync(root('register.cjs'), 'utf8');
    const check = text.indexOf("require('./package.json').engines.node");
    const load = text.indexOf("require('./dist/src/preload-start.js')");
    expect(check).toBeGreaterThan(0);
    expect(load).toBeGreaterThan(check);
  });
});
