/**
 * Lets Node run the dashboard generator from its TypeScript sources (`node --import ./grafana/ts-imports.js
 * grafana/generate-dashboard.ts`): a relative `.js` import from a `.ts` file whose `.js` file does not exist
 * resolves to the `.ts` file next to it, as the TypeScript compiler resolves it.
 */
import fs from 'node:fs';
import { registerHooks } from 'node:module';
import { URL, fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const target = new URL(specifier, context.parentURL);
      if (!fs.existsSync(fileURLToPath(target))) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    return nextResolve(specifier, context);
  },
});
