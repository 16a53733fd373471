/**
 * Worker-thread side of loadConfigIsolated: loads and validates one file and posts the result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Env } from '../config/load.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import { loadConfigFile } from './load-config.js';

const { file, env } = workerData as { file: string; env: Env };

loadConfigFile(file, env).then(
  ({ config }) => parentPort?.postMessage({ ok: true, config }),
  (err: unknown) =>
    parentPort?.postMessage(
      err instanceof ConfigError
        ? { ok: false, code: err.code, issues: err.issues }
        : { ok: false, message: errorMessage(err) },
    ),
);
