/**
 * A synchronous module hook (module.registerHooks: CommonJS and ESM alike, in this thread) that appends one
 * line of code to the CommonJS modules whose URL matches `file` when the application loads them. The line
 * calls the function stored on globalThis under `Symbol.for(slot)`, if any, with the module's exports:
 * that is how the in-app sources reach a library's classes without loading it themselves.
 *
 * A failure of the hook's own part is reported under `where` and the module is left as the application
 * would have had it; what nextLoad throws is the application's own module error and reaches it.
 */
import fs from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import type { GuardLogger } from './guard.js';
import { reportCaught } from './guard.js';

export interface ModuleHook {
  deregister(): void;
}

/** Installs the hook, or returns undefined on a Node.js without module.registerHooks. */
export function appendExportsCall(
  file: RegExp,
  slot: string,
  logger: GuardLogger,
  where: string,
): ModuleHook | undefined {
  if (typeof module.registerHooks !== 'function') return undefined;
  const line = `\n;globalThis[Symbol.for(${JSON.stringify(slot)})]?.(module.exports);\n`;
  return module.registerHooks({
    load: (url, context, nextLoad) => {
      const loaded = nextLoad(url, context);
      if (!file.test(url) || !url.startsWith('file:')) return loaded;
      try {
        const raw = loaded.source ?? fs.readFileSync(fileURLToPath(url));
        const source = typeof raw === 'string' ? raw : Buffer.from(raw as Uint8Array).toString('utf8');
        return { ...loaded, source: `${source}${line}` };
      } catch (err) {
        reportCaught(logger, where, err);
        return loaded;
      }
    },
  });
}
