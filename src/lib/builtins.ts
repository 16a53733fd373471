/**
 * Node built-ins that the daemon loads through require, when first used, instead of an ES import. Node
 * evaluates every export of a built-in imported as an ES module, getters included: `node:http`'s lazy
 * `WebSocket`, `CloseEvent` and `MessageEvent` then load the bundled undici (fetch) and `http2`, 3 MB of
 * resident memory for code the agent never runs. `node:https` (TLS) and `node:crypto` cost 2–3 MB more and
 * are needed only with TLS, a webhook secret or a new silence (docs/benchmarks.md, "Why RSS was over 70 MB").
 * `node:util` as an ES module evaluates its lazy getters too (parseArgs, diff, colors: 0.7 MB more than by
 * require), and `node:worker_threads` (0.9 MB) is needed only once a worker thread exists.
 */
import type * as NodeCrypto from 'node:crypto';
import type * as NodeHttp from 'node:http';
import type * as NodeHttps from 'node:https';
import type * as NodeUtil from 'node:util';
import type * as NodeV8 from 'node:v8';
import type * as NodeWorkerThreads from 'node:worker_threads';
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

let http: typeof NodeHttp | undefined;
let https: typeof NodeHttps | undefined;
let crypto: typeof NodeCrypto | undefined;
let util: typeof NodeUtil | undefined;
let workerThreads: typeof NodeWorkerThreads | undefined;
let mainThread: boolean | undefined;
let v8: typeof NodeV8 | undefined;

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

/** `node:util`, without its ES-module namespace (see above). */
export function nodeUtil(): typeof NodeUtil {
  return (util ??= load('node:util') as typeof NodeUtil);
}

/** `node:worker_threads`, loaded on the first call. */
export function nodeWorkerThreads(): typeof NodeWorkerThreads {
  return (workerThreads ??= load('node:worker_threads') as typeof NodeWorkerThreads);
}

/** Node's list of what this isolate has loaded (`process.moduleLoadList`), or undefined if Node has none. */
function moduleLoadList(): readonly string[] | undefined {
  const list = (process as { moduleLoadList?: readonly string[] }).moduleLoadList;
  return Array.isArray(list) ? list : undefined;
}

/**
 * `node:v8` when the process has already loaded it (the daemon does, for its flags), else undefined: its heap
 * statistics cost a fifth of `process.memoryUsage()`, but loading it for them would cost 0.5 MB of an
 * application's memory.
 */
export function loadedNodeV8(): typeof NodeV8 | undefined {
  if (v8 === undefined && moduleLoadList()?.includes('NativeModule v8') === true)
    v8 = load('node:v8') as typeof NodeV8;
  return v8;
}

/**
 * Whether this isolate has loaded `node:worker_threads`: every worker thread has (Node loads it to run one),
 * and so has a main thread that created a worker. True when Node does not say (no `process.moduleLoadList`).
 */
export function workerThreadsLoaded(): boolean {
  if (workerThreads !== undefined) return true;
  const list = moduleLoadList();
  return list === undefined || list.includes('NativeModule worker_threads');
}

/**
 * `isMainThread` of `node:worker_threads`, without loading it in a main thread that has no worker: an isolate
 * that has not loaded it is the main thread (see workerThreadsLoaded). The answer never changes, so it is kept.
 */
export function isMainThread(): boolean {
  return (mainThread ??= !workerThreadsLoaded() || nodeWorkerThreads().isMainThread);
}
