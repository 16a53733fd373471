/**
 * withBindingCall: the line that module hooks append to hand a module's top-level binding and a setter for
 * it to the agent, run here on module sources of both formats (CommonJS in a function of module and
 * exports, as Node.js wraps it; ES modules through data: imports).
 */
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { withBindingCall } from '../../../src/lib/module-hook.js';

const SLOT_NAME = 'perf-monitor-agent.test-binding';
const SLOT = Symbol.for(SLOT_NAME);
type Slot = { [SLOT]?: (value: unknown, set: (v: unknown) => void) => void };

/** Puts `replace` under the slot: it gets the binding and returns what the setter is to put in its place. */
function replacing(replace: (value: unknown) => unknown): unknown[] {
  const seen: unknown[] = [];
  (globalThis as Slot)[SLOT] = (value, set) => {
    seen.push(value);
    set(replace(value));
  };
  return seen;
}

/** Runs CommonJS source as Node.js does (module, exports); returns module.exports. */
function runCommonJs(source: string): Record<string, unknown> {
  const mod = { exports: {} as Record<string, unknown> };
  const run = vm.compileFunction(source, ['module', 'exports']) as (m: unknown, e: unknown) => void;
  run(mod, mod.exports);
  return mod.exports;
}

afterEach(() => {
  delete (globalThis as Slot)[SLOT];
});

describe('withBindingCall', () => {
  it('should replace a plain CommonJS export and the binding the module itself uses', () => {
    const seen = replacing((v) => `wrapped ${String(v)}`);
    const source = [
      '"use strict";',
      'var Thing = "thing";',
      'exports.Thing = Thing;',
      'exports.useThing = () => Thing;',
    ].join('\n');
    const exports = runCommonJs(withBindingCall(source, 'commonjs', SLOT_NAME, 'Thing'));
    expect(seen).toEqual(['thing']);
    expect(exports.Thing).toBe('wrapped thing');
    expect((exports.useThing as () => unknown)()).toBe('wrapped thing');
  });

  it('should leave a CommonJS export through a getter alone: the getter reads the replaced binding', () => {
    replacing(() => 'wrapped');
    const source = [
      '"use strict";',
      'var Thing = "thing";',
      'Object.defineProperty(exports, "Thing", { enumerable: true, get: () => Thing });',
    ].join('\n');
    const exports = runCommonJs(withBindingCall(source, 'commonjs', SLOT_NAME, 'Thing'));
    expect(exports.Thing).toBe('wrapped');
  });

  it('should leave the module as it was without a function in the slot', () => {
    const source = 'var Thing = "thing";\nexports.Thing = Thing;';
    expect(runCommonJs(withBindingCall(source, 'commonjs', SLOT_NAME, 'Thing')).Thing).toBe('thing');
  });

  it("should replace an ES module's exported binding for its importers", async () => {
    const seen = replacing((v) => `wrapped ${String(v)}`);
    const source = [
      'var Thing = "thing";',
      'const useThing = () => Thing;',
      'export { Thing, useThing };',
    ].join('\n');
    const edited = withBindingCall(source, 'module', SLOT_NAME, 'Thing');
    const ns = (await import(`data:text/javascript,${encodeURIComponent(edited)}`)) as {
      Thing: unknown;
      useThing: () => unknown;
    };
    expect(seen).toEqual(['thing']);
    expect(ns.Thing).toBe('wrapped thing');
    expect(ns.useThing()).toBe('wrapped thing');
  });

  it.each([
    ['const Thing = 1;\nexports.Thing = Thing;', 'commonjs', /no top-level var or let Thing/],
    ['function f() {\n  var Thing = 1;\n}', 'commonjs', /no top-level var or let Thing/],
    ['var Thing = 1;\nexport { Thing as Other };', 'module', /not exported under its own name/],
    ['var Thing = 1;\nexport { Thing };', 'json', /unexpected module format json/],
  ])('should refuse %j (%s)', (source, format, error) => {
    expect(() => withBindingCall(source, format, SLOT_NAME, 'Thing')).toThrow(error);
  });

  it('should refuse a binding that is not an identifier', () => {
    expect(() => withBindingCall('var x = 1;', 'commonjs', SLOT_NAME, 'x;evil()')).toThrow(
      /not an identifier/,
    );
  });
});
