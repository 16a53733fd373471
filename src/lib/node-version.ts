/**
 * The Node.js version the package needs (package.json `engines.node`) and the check every entry point runs
 * before it loads anything else: the CLI (cli/main.ts) and the preload (register.ts, and register.cjs at the
 * package root, the `--require` entry, which has its own CommonJS copy of the comparison).
 *
 * This module is loaded on any Node.js, old ones included, to say what is wrong instead of crashing on a
 * missing built-in: it imports nothing and uses only syntax and built-ins that Node.js 18 has.
 */

/** A version as major, minor, patch. */
export type NodeVersion = readonly [number, number, number];

/** The oldest Node.js the package runs on; package.json `engines.node` says the same (a unit test checks). */
export const MINIMUM_NODE: NodeVersion = [22, 15, 0];

/** The requirement as package.json `engines.node` writes it. */
export const REQUIRED_NODE = `>=${MINIMUM_NODE.join('.')}`;

/** `22.15.0`, `v24.1.2` or `23.0.0-pre` → major, minor, patch; undefined for anything else. */
export function parseNodeVersion(text: string): NodeVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Whether `found` is `minimum` or newer (major, then minor, then patch). */
export function isAtLeast(found: NodeVersion, minimum: NodeVersion): boolean {
  for (let i = 0; i < 3; i++) {
    if (found[i] !== minimum[i]) return found[i]! > minimum[i]!;
  }
  return true;
}

/**
 * Undefined when `found` (default: the running Node.js) is new enough, else one sentence naming what is
 * needed and what was found: "needs Node.js >=22.15.0, found v20.20.2". A version that cannot be read is
 * not refused: nothing says it is too old.
 */
export function unsupportedNode(found: string = process.versions.node): string | undefined {
  const version = parseNodeVersion(found);
  if (version === undefined || isAtLeast(version, MINIMUM_NODE)) return undefined;
  return `needs Node.js ${REQUIRED_NODE}, found v${version.join('.')}`;
}
