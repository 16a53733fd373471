/**
 * A throwaway single-node Kafka broker (KRaft: broker and controller in one JVM) from the Maven Central jars
 * that fetch-kafka.sh caches, on free 127.0.0.1 ports with its own temp log dir. Needs Java 17+.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Availability } from './availability.js';
import { canConnect, describeError, freePort, runCommand, startServer } from './process.js';
import type { ServerHandle } from './process.js';

const SERVICES_DIR = dirname(fileURLToPath(import.meta.url));
const FETCH_SCRIPT = join(SERVICES_DIR, 'fetch-kafka.sh');
const LOG4J_CONFIG = join(SERVICES_DIR, 'kafka', 'log4j2.properties');

export interface KafkaServer {
  /** `127.0.0.1:<port>` */
  readonly bootstrap: string;
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

/** The jar directory (fetching the jars on first use; minutes cold, milliseconds cached). */
export async function kafkaLibDir(): Promise<string> {
  const { exitCode, output } = await runCommand('bash', [FETCH_SCRIPT], { timeoutMs: 600_000 });
  const lines = output.trim().split('\n');
  if (exitCode !== 0) throw new Error(`fetch-kafka.sh exited ${exitCode}: ${output.slice(-2000)}`);
  return lines[lines.length - 1]!;
}

export async function kafkaAvailable(): Promise<Availability> {
  try {
    const java = await runCommand('java', ['-version'], { timeoutMs: 30_000 });
    if (java.exitCode !== 0) return { ok: false, reason: `java -version exited ${java.exitCode}` };
    await kafkaLibDir();
    return { ok: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { ok: false, reason: 'java is not on PATH (Debian: apt-get install openjdk-17-jre-headless)' };
    }
    return { ok: false, reason: `Kafka broker jars unavailable: ${describeError(err)}` };
  }
}

export function serverProperties(dir: string, port: number, controllerPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(dir, 'kraft-logs')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    '',
  ].join('\n');
}

export async function startKafka(options: { timeoutMs?: number } = {}): Promise<KafkaServer> {
  const lib = await kafkaLibDir();
  const dir = await mkdtemp(join(tmpdir(), 'perf-monitor-kafka-'));
  const port = await freePort();
  const controllerPort = await freePort();
  const props = join(dir, 'server.properties');
  await writeFile(props, serverProperties(dir, port, controllerPort));
  const jvm = [
    '-Xms128m',
    '-Xmx384m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    '-cp',
    `${lib}/*`,
  ];
  // A cluster id is a base64url UUID; one that starts with '-' reads as an option to the
  // storage tool's argument parser, so draw again (Kafka's own Uuid.randomUuid does the same).
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const format = await runCommand(
    'java',
    [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, '--ignore-formatted'],
    { timeoutMs: 120_000 },
  );
  if (format.exitCode !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`kafka storage format exited ${format.exitCode}: ${format.output.slice(-3000)}`);
  }
  let server: ServerHandle;
  try {
    server = await startServer('java', [...jvm, 'kafka.Kafka', props], {
      ready: () => canConnect(port),
      cwd: dir,
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    output: () => server.output(),
    stop: () => {
      stopping ??= server.stop().finally(() => rm(dir, { recursive: true, force: true }));
      return stopping;
    },
  };
}
