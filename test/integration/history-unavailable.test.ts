/**
 * History on by default must not cost the agent its life: the daemon on the shipped configuration, with its
 * state directory ($STATE_DIRECTORY) on a read-only tmpfs, then on a full one, says once that there is no
 * trend history, and keeps collecting and serving /metrics; the trends API answers with no series. (The alert
 * state and the outbox are placed elsewhere: an outbox that cannot open still stops the start, as before.)
 *
 * Needs permission to mount a tmpfs (root on CI). Skipped with a banner on a developer machine where mounting
 * is not permitted; a failure under CI=true (test/services/availability.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { allAvailable, describeService } from '../services/availability.js';
import type { ServerHandle } from '../services/process.js';
import {
  REPO_ROOT,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';
import { fill, mount, tmpfsAvailable, unmount } from './tmpfs.js';

const mounts: string[] = [];

function mounted(options: string): string {
  const dir = tempDir('state-dir');
  expect(mount(dir, options)).toEqual({ ok: true });
  mounts.push(dir);
  return dir;
}

/** Runs the daemon on the shipped configuration with its state directory at `stateDir`. */
async function runWithStateDir(stateDir: string): Promise<{ handle: ServerHandle; port: number }> {
  const dir = tempDir('state-dir-config');
  const config = path.join(dir, 'config.yaml');
  const shipped = fs.readFileSync(path.join(REPO_ROOT, 'config', 'performance_monitor_config.yaml'), 'utf8');
  const placed = shipped
    .replace('# state_file: alert_state.json', `state_file: ${JSON.stringify(path.join(dir, 'alerts.json'))}`)
    .replace(
      '    notifications:\n',
      `    notifications:\n      store_path: ${JSON.stringify(path.join(dir, 'outbox.db'))}\n`,
    );
  expect(placed).not.toBe(shipped);
  fs.writeFileSync(config, placed);
  const port = await freePort();
  const handle = await startCliAgent(config, port, {
    STATE_DIRECTORY: stateDir,
    PERF_MONITOR_PORT: String(port),
    PERF_MONITOR_INTERVAL: '200ms',
  });
  return { handle, port };
}

/** Collections done, as /metrics counts them. */
async function collections(port: number): Promise<number> {
  const { status, text } = await getText(`http://127.0.0.1:${port}/metrics`);
  expect(status).toBe(200);
  return seriesValue(text, 'multi_agent_system_monitor_collections_total') ?? 0;
}

async function expectRunsWithoutHistory(handle: ServerHandle, port: number): Promise<void> {
  const first = await collections(port);
  await waitFor('five more collections', async () =>
    (await collections(port)) >= first + 5 ? true : undefined,
  );
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/trends?metric=cpu_percent&window=1h`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { series: unknown[] }).series).toEqual([]);
  const lines = handle.output().split('\n');
  expect(lines.filter((l) => l.includes('no trend history'))).toHaveLength(1);
  expect(lines.filter((l) => l.includes('cannot append to the trend history'))).toEqual([]);
}

describeService(
  'tmpfs mount and perf-monitor executable',
  allAvailable(builtCliAvailable(), tmpfsAvailable()),
  () => {
    let handle: ServerHandle | undefined;
    afterEach(async () => {
      await handle?.stop();
      handle = undefined;
      for (const dir of mounts.splice(0)) unmount(dir);
    });

    it('should run without history, saying so once, when the state directory is read-only', async () => {
      const dir = mounted('ro,size=1m');
      const run = await runWithStateDir(dir);
      handle = run.handle;
      await expectRunsWithoutHistory(handle, run.port);
      expect(fs.readdirSync(dir)).toEqual([]);
    });

    it('should run without history, saying so once, when the state directory is full', async () => {
      const dir = mounted('size=256k,mode=0700');
      fill(path.join(dir, 'filler'));
      const run = await runWithStateDir(dir);
      handle = run.handle;
      await expectRunsWithoutHistory(handle, run.port);
    });
  },
  'read-only and full state directory (tmpfs)',
);
