/**
 * Node built-ins that the daemon loads through require, when first used, instead of an ES import. Node
 * evaluates every export of a built-in imported as an ES module, getters included: `node:http`'s lazy
 * `WebSocket`, `CloseEvent` and `MessageEvent` then load the bundled undici (fetch) and `http2`, 3 MB of
 * resident memory for code the agent never runs. `node:https` (TLS) and `node:crypto` cost 2–3 MB more and
 * are needed only with TLS, a webhook secret or a new silence (docs/benchmarks.md, "Why RSS was over 70 MB").
 */
import type * as NodeCrypto from 'node:crypto';
import type * as NodeHttp from 'node:http';
import type * as NodeHttps from 'node:https';
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

let http: typeof NodeHttp | undefined;
let https: typeof NodeHttps | undefined;
let crypto: typeof NodeCrypto | undefined;

/** `node:http`, without its ES-module namespace (see above). */
export function nodeHttp(): typeof NodeHttp {
  return (http ??= load('node:http') as typeof NodeHttp);
}

/** `node:https`, loaded on the first call. */
export function nodeHttps(): typeof NodeHttps {
  return (https ??= load('node:https') as typeof NodeHttps);
}

/** `node:crypto`, loaded on the first call. */
export function nodeCrypto(): typeof NodeCrypto {
  return (crypto ??= load('node:crypto') as typeof NodeCrypto);
}
