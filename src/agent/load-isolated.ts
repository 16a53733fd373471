/**
 * Loads a configuration file in a short-lived worker thread, with the product's loader (./load-config.ts).
 * The YAML parser and the schema library are then never loaded into the agent's own isolate, where they
 * would stay for the life of the process (about 17 MB of a running agent's RSS, docs/benchmarks.md); the
 * worker's memory goes away with it. Where the worker script is not next to this module (a bundled
 * application), the file is loaded in-process.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Env, LoadedConfig } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { deepFreeze } from '../lib/deep-freeze.js';
import { nodeWorkerThreads } from '../lib/builtins.js';
import { AgentError, ConfigError } from '../lib/errors.js';
import { guardPromise } from '../lib/guard.js';
import type { ConfigIssue } from '../lib/errors.js';

type WorkerReply =
  | { ok: true; config: AgentConfig }
  | { ok: false; code: 'E_CONFIG_INVALID' | 'E_CONFIG_READ' | 'E_CONFIG_PARSE'; issues: ConfigIssue[] }
  | { ok: false; message: string };

const WORKER = new URL('./load-worker.js', import.meta.url);

export async function loadConfigIsolated(file: string, env: Env = process.env): Promise<LoadedConfig> {
  if (!fs.existsSync(fileURLToPath(WORKER))) {
    const { loadConfigFile } = await import('./load-config.js');
    return loadConfigFile(file, env);
  }
  const reply = await new Promise<WorkerReply>((resolve, reject) => {
    const worker = new (nodeWorkerThreads().Worker)(WORKER, { workerData: { file, env: { ...env } } });
    worker.once('message', (m: WorkerReply) => {
      resolve(m);
      void guardPromise(undefined, 'configuration loader stop', worker.terminate());
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new AgentError('E_CONFIG_READ', `the configuration loader stopped (exit code ${code})`)),
    );
  });
  if (reply.ok) return { config: deepFreeze(reply.config), file };
  if ('issues' in reply) throw new ConfigError(reply.code, reply.issues);
  throw new AgentError('E_CONFIG_READ', reply.message);
}
