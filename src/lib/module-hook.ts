/**
 * Synchronous module hooks (module.registerHooks: CommonJS and ESM alike, in this thread) that append one
 * line of code to the modules whose URL matches `file` when the application loads them; the line calls the
 * function stored on globalThis under `Symbol.for(slot)`, if any. That is how the in-app sources reach a
 * library's classes without loading it themselves:
 * - appendExportsCall (CommonJS modules): the function gets the module's exports;
 * - appendBindingCall (CommonJS or ES modules): the function gets the value of one top-level binding of the
 *   module and a setter for it, to put a wrapper in its place.
 *
 * A failure of the hook's own part is reported under `where` and the module is left as the application
 * would have had it; what nextLoad throws is the application's own module error and reaches it.
 */
import fs from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { AgentError } from './errors.js';
import type { GuardLogger } from './guard.js';
import { reportCaught } from './guard.js';

export interface ModuleHook {
  deregister(): void;
}

/** Registers a load hook that passes the source of the matching modules through `edit`. */
function appendToSource(
  file: RegExp,
  edit: (source: string, format: module.LoadFnOutput['format']) => string,
  logger: GuardLogger,
  where: string,
): ModuleHook | undefined {
  if (typeof module.registerHooks !== 'function') return undefined;
  return module.registerHooks({
    load: (url, context, nextLoad) => {
      const loaded = nextLoad(url, context);
      if (!file.test(url) || !url.startsWith('file:')) return loaded;
      try {
        const raw = loaded.source ?? fs.readFileSync(fileURLToPath(url));
        const source = typeof raw === 'string' ? raw : Buffer.from(raw as Uint8Array).toString('utf8');
        return { ...loaded, source: edit(source, loaded.format) };
      } catch (err) {
        reportCaught(logger, where, err);
        return loaded;
      }
    },
  });
}

/** Installs the hook, or returns undefined on a Node.js without module.registerHooks. */
export function appendExportsCall(
  file: RegExp,
  slot: string,
  logger: GuardLogger,
  where: string,
): ModuleHook | undefined {
  const line = `\n;globalThis[Symbol.for(${JSON.stringify(slot)})]?.(module.exports);\n`;
  return appendToSource(file, (source) => `${source}${line}`, logger, where);
}

/** The bindings withBindingCall accepts; the `$` names of its own line cannot clash with them. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `source` with the line that calls the slot's function with the top-level binding `binding` and a setter
 * for it. The module must declare the binding with `var` or `let` at the start of a line. An ES module must
 * export it under its own name (`export { …, binding, … }`), so that its importers see what the setter
 * puts in it; in a CommonJS module the setter also replaces `module.exports[binding]` when that is a
 * writable property holding the binding (what bundlers write: `exports.X = X`; an export through a getter
 * of the binding follows by itself). Throws when the source does not have that shape.
 */
export function withBindingCall(source: string, format: unknown, slot: string, binding: string): string {
  if (!IDENTIFIER.test(binding)) throw new AgentError('E_INVALID_ARGUMENT', `not an identifier: ${binding}`);
  if (!new RegExp(`^(?:var|let) ${binding} =`, 'm').test(source))
    throw new AgentError('E_PROBE_READ', `no top-level var or let ${binding} to wrap`);
  const call = `globalThis[Symbol.for(${JSON.stringify(slot)})]?.`;
  if (format === 'module') {
    if (!new RegExp(`\\bexport\\s*\\{(?:[^}]*,)?\\s*${binding}\\s*[,}]`).test(source))
      throw new AgentError('E_PROBE_READ', `${binding} is not exported under its own name`);
    return `${source}\n;${call}(${binding}, (value$) => { ${binding} = value$; });\n`;
  }
  if (format !== 'commonjs')
    throw new AgentError('E_PROBE_READ', `unexpected module format ${String(format)}`);
  const exported =
    `const export$ = Object.getOwnPropertyDescriptor(module.exports, ${JSON.stringify(binding)}); ` +
    `if (export$?.writable === true && export$.value === ${binding}) module.exports.${binding} = value$;`;
  return `${source}\n;${call}(${binding}, (value$) => { ${exported} ${binding} = value$; });\n`;
}

/**
 * Installs the hook that hands the function under `Symbol.for(slot)` the top-level binding `binding` of
 * the matching modules and a setter for it (withBindingCall); returns undefined on a Node.js without
 * module.registerHooks. A module of another shape is left as it is and reported under `where`.
 */
export function appendBindingCall(
  file: RegExp,
  slot: string,
  binding: string,
  logger: GuardLogger,
  where: string,
): ModuleHook | undefined {
  return appendToSource(
    file,
    (source, format) => withBindingCall(source, format, slot, binding),
    logger,
    where,
  );
}
