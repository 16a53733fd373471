/**
 * A throwaway Alertmanager (Debian package `prometheus-alertmanager`, 0.25) on a free 127.0.0.1 port, gossip
 * off, routing every alert to one webhook receiver (normally a WebhookReceiver in the test process) with
 * short grouping times, so a posted alert reaches the receiver about a second later.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Availability } from './availability.js';
import { assertLoopback, describeError, freePort, httpProbe, runCommand, startServer } from './process.js';
import type { ServerHandle } from './process.js';

export const ALERTMANAGER_BIN = 'prometheus-alertmanager';

export interface StartAlertmanagerOptions {
  /** Where Alertmanager sends notifications (loopback). */
  webhookUrl: string;
  /** Listen on this port (to bring a stopped Alertmanager back on its old address); default a free one. */
  port?: number;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  timeoutMs?: number;
}

export interface AlertmanagerServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** GET /api/v2/alerts. */
  alerts(): Promise<{ labels: Record<string, string>; status: { state: string }; fingerprint: string }[]>;
  output(): string;
  /** Stops the server and deletes its temp dir; safe twice. */
  stop(): Promise<void>;
}

/** The alertmanager.yml for `options` (pure). */
export function alertmanagerConfig(options: StartAlertmanagerOptions): Record<string, unknown> {
  assertLoopback(new URL(options.webhookUrl).hostname, 'webhook receiver');
  return {
    route: {
      receiver: 'sink',
      group_by: ['alertname'],
      group_wait: options.groupWait ?? '1s',
      group_interval: options.groupInterval ?? '1s',
      repeat_interval: options.repeatInterval ?? '1h',
    },
    receivers: [{ name: 'sink', webhook_configs: [{ url: options.webhookUrl, send_resolved: true }] }],
  };
}

export async function startAlertmanager(options: StartAlertmanagerOptions): Promise<AlertmanagerServer> {
  const dir = await mkdtemp(join(tmpdir(), 'perf-monitor-alertmanager-'));
  const configPath = join(dir, 'alertmanager.yml');
  await writeFile(configPath, stringify(alertmanagerConfig(options)));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let server: ServerHandle;
  try {
    server = await startServer(
      ALERTMANAGER_BIN,
      [
        `--config.file=${configPath}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--web.external-url=${url}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { ready: httpProbe(`${url}/-/ready`, 200), cwd: dir, timeoutMs: options.timeoutMs ?? 60_000 },
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    alerts: async () => {
      const res = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5_000) });
      return (await res.json()) as Awaited<ReturnType<AlertmanagerServer['alerts']>>;
    },
    output: () => server.output(),
    stop: () => {
      stopping ??= server.stop().finally(() => rm(dir, { recursive: true, force: true }));
      return stopping;
    },
  };
}

/** Whether `prometheus-alertmanager` is on PATH and runs. */
export async function alertmanagerAvailable(): Promise<Availability> {
  try {
    const { exitCode, output } = await runCommand(ALERTMANAGER_BIN, ['--version'], { timeoutMs: 10_000 });
    if (exitCode === 0) return { ok: true };
    return {
      ok: false,
      reason: `\`${ALERTMANAGER_BIN} --version\` exited ${exitCode}: ${output.slice(0, 300)}`,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return {
        ok: false,
        reason: `\`${ALERTMANAGER_BIN}\` is not on PATH (Debian/Ubuntu: apt-get install prometheus-alertmanager)`,
      };
    }
    return { ok: false, reason: `\`${ALERTMANAGER_BIN} --version\` failed: ${describeError(err)}` };
  }
}
