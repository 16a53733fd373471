/**
 * A real Neo4j Community 5.26 for integration tests: the embedded DBMS with its Bolt connector, run by
 * test/services/neo4j/Neo4jLauncher.java on jars that test/services/fetch-neo4j.sh fetched from Maven
 * Central. Bolt only (no HTTP), on 127.0.0.1 and a free port, with a known password.
 *
 * ```ts
 * const gate = await serviceGate('Neo4j', neo4jAvailable);
 * gate.describe(() => {
 *   let neo4j: Neo4jServer;
 *   beforeAll(async () => { neo4j = await startNeo4j(); }, 180_000);
 *   afterAll(() => neo4j?.stop());
 *   // neo4j.boltUrl, neo4j.user, neo4j.password; neo4j.kill() (SIGKILL) then neo4j.restart()
 * });
 * ```
 */
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError, freePort, startServer } from './process.js';
import type { ServerHandle } from './process.js';
import type { Availability } from './availability.js';
import { toolsDir } from './otelcol.js';

export const FETCH_SCRIPT = 'bash test/services/fetch-neo4j.sh';
const SOURCE_DIR = fileURLToPath(new URL('./neo4j/', import.meta.url));

/** Password of the user `neo4j` on every test server. */
export const NEO4J_TEST_PASSWORD = 'perf-monitor-test';

/** Neo4j on a 2-core machine shared with other work can take a while to start. */
const DEFAULT_START_TIMEOUT_MS = 180_000;

/** Where fetch-neo4j.sh installs the jars and the compiled launcher (the same key as the script). */
export async function neo4jInstallDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const pom = await readFile(join(SOURCE_DIR, 'pom.xml'));
  const launcher = await readFile(join(SOURCE_DIR, 'Neo4jLauncher.java'));
  const key = createHash('sha256').update(pom).update(launcher).digest('hex').slice(0, 16);
  return join(toolsDir(env), 'neo4j', key);
}

/** Whether the jars are fetched and a `java` runs; the reason names the fix when not. */
export async function neo4jAvailable(): Promise<Availability> {
  let dir: string;
  try {
    dir = await neo4jInstallDir();
  } catch (err) {
    return { ok: false, reason: `cannot read ${SOURCE_DIR}: ${describeError(err)}` };
  }
  try {
    await access(join(dir, '.complete'));
  } catch {
    return { ok: false, reason: `Neo4j jars not fetched (${dir} missing); run \`${FETCH_SCRIPT}\`` };
  }
  return { ok: true };
}

export interface StartNeo4jOptions {
  /** Bolt port; a free one if omitted. */
  boltPort?: number;
  /** Password of `neo4j`; default NEO4J_TEST_PASSWORD. Null turns authentication off. */
  password?: string | null;
  /** An existing home directory (data, logs) to start on; a fresh temp dir if omitted. */
  homeDir?: string;
  /** JVM heap limit, e.g. `768m`. */
  maxHeap?: string;
  timeoutMs?: number;
}

export interface Neo4jServer {
  /** `bolt://127.0.0.1:<port>` */
  readonly boltUrl: string;
  readonly boltPort: number;
  readonly user: string;
  readonly password: string | null;
  /** The DBMS home (data/, logs/); survives kill() and restart(). */
  readonly homeDir: string;
  /** Process id of the running JVM (changes on restart). */
  readonly pid: number;
  /** The last 64 KiB of the JVM's output. */
  output(): string;
  /** SIGKILL the JVM (no shutdown hook runs); resolves when it has exited. */
  kill(): Promise<void>;
  /** Starts the JVM again on the same port and home directory (after kill()). */
  restart(): Promise<void>;
  /** Stops the JVM (SIGTERM, then SIGKILL after 10 s) and deletes the home dir. Safe to call twice. */
  stop(): Promise<void>;
}

async function launch(
  installDir: string,
  homeDir: string,
  port: number,
  password: string | null,
  maxHeap: string,
  timeoutMs: number,
): Promise<ServerHandle> {
  const cp = `${join(installDir, 'classes')}:${join(installDir, 'lib', '*')}`;
  return startServer(
    'java',
    [
      '-Xms128m',
      `-Xmx${maxHeap}`,
      '-XX:+UseG1GC',
      '--add-opens=java.base/java.nio=ALL-UNNAMED',
      '--add-opens=java.base/java.io=ALL-UNNAMED',
      '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
      '--add-opens=java.base/java.lang=ALL-UNNAMED',
      '-Dio.netty.tryReflectionSetAccessible=true',
      '-cp',
      cp,
      'Neo4jLauncher',
    ],
    {
      ready: /NEO4J_READY/,
      env: {
        NEO4J_HOME_DIR: homeDir,
        NEO4J_BOLT_PORT: String(port),
        ...(password === null ? {} : { NEO4J_PASSWORD: password }),
      },
      timeoutMs,
    },
  );
}

/** Starts Neo4j; resolves once Bolt accepts connections. */
export async function startNeo4j(options: StartNeo4jOptions = {}): Promise<Neo4jServer> {
  const availability = await neo4jAvailable();
  if (!availability.ok) throw new Error(`Neo4j unavailable: ${availability.reason}`);
  const installDir = await neo4jInstallDir();
  const port = options.boltPort ?? (await freePort());
  const password = options.password === undefined ? NEO4J_TEST_PASSWORD : options.password;
  const ownDir = options.homeDir === undefined;
  const homeDir = options.homeDir ?? (await mkdtemp(join(tmpdir(), 'perf-monitor-neo4j-')));
  const maxHeap = options.maxHeap ?? '768m';
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;

  let handle: ServerHandle;
  try {
    handle = await launch(installDir, homeDir, port, password, maxHeap, timeoutMs);
  } catch (err) {
    if (ownDir) await rm(homeDir, { recursive: true, force: true });
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    boltUrl: `bolt://127.0.0.1:${port}`,
    boltPort: port,
    user: 'neo4j',
    password,
    homeDir,
    get pid(): number {
      return handle.pid;
    },
    output: () => handle.output(),
    kill: () => handle.kill9(),
    restart: async () => {
      await handle.stop();
      handle = await launch(installDir, homeDir, port, password, maxHeap, timeoutMs);
    },
    stop: () => {
      stopping ??= (async () => {
        try {
          await handle.stop();
        } finally {
          if (ownDir) await rm(homeDir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}
