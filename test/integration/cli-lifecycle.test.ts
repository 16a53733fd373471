/**
 * The real `perf-monitor` executable: SIGTERM stops it cleanly with a final OTLP push, SIGHUP reloads the
 * config (and keeps the running one when the new file is broken), a taken port is one clear line and
 * exit code 3.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { collectorBinary, startCollector } from '../services/otelcol.js';
import type { CollectorServer } from '../services/otelcol.js';
import type { ServerHandle } from '../services/process.js';
import {
  CLI,
  NODE,
  agentConfigText,
  builtCliAvailable,
  freePort,
  getText,
  seriesValue,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';

function exitOf(handle: ServerHandle): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const p = handle.process;
  if (p.exitCode !== null || p.signalCode !== null)
    return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((resolve) => p.once('exit', (code, signal) => resolve({ code, signal })));
}

describeService(
  'perf-monitor executable',
  builtCliAvailable(),
  () => {
    let handle: ServerHandle | undefined;
    afterEach(async () => {
      await handle?.stop();
      handle = undefined;
    });

    it('should exit 0 on SIGTERM and SIGINT', async () => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const dir = tempDir('term');
        const port = await freePort();
        const file = path.join(dir, 'agent.yaml');
        fs.writeFileSync(file, agentConfigText({ port }));
        handle = await startCliAgent(file, port);
        const exited = exitOf(handle);
        handle.process.kill(signal);
        expect(await exited).toEqual({ code: 0, signal: null });
        expect(handle.output()).toContain('agent stopped');
        handle = undefined;
      }
    });

    it('should keep serving on the old config when SIGHUP brings a broken file, and apply a good one', async () => {
      const dir = tempDir('hup');
      const port = await freePort();
      const file = path.join(dir, 'agent.yaml');
      fs.writeFileSync(file, agentConfigText({ port, labels: { environment: 'before' } }));
      handle = await startCliAgent(file, port);
      const url = `http://127.0.0.1:${port}/metrics`;
      expect((await getText(url)).text).toContain('environment="before"');

      fs.writeFileSync(
        file,
        agentConfigText({ port, labels: { environment: 'broken' } }).replace(
          'collection_interval: 1s',
          'collection_interval: soon',
        ),
      );
      handle.process.kill('SIGHUP');
      await waitFor('the rejected reload', () =>
        Promise.resolve(handle!.output().includes('keeping the running configuration') ? true : undefined),
      );
      expect(handle.output()).toMatch(
        /agent\.yaml:2:\d+: performance_monitor\.collection_interval: invalid duration/,
      );
      const still = await getText(url);
      expect(still.status).toBe(200);
      expect(still.text).toContain('environment="before"');
      expect(handle.process.exitCode).toBeNull();

      fs.writeFileSync(file, agentConfigText({ port, labels: { environment: 'after' } }));
      handle.process.kill('SIGHUP');
      await waitFor('the new label', async () =>
        (await getText(url)).text.includes('environment="after"') ? true : undefined,
      );
      expect(handle.output()).toContain('configuration reloaded');
    });

    it('should print one line naming the port and the config key, and exit 3, when the port is taken', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        const dir = tempDir('busy');
        const file = path.join(dir, 'agent.yaml');
        fs.writeFileSync(file, agentConfigText({ port }));
        const run = spawnSync(NODE, [CLI, 'run', '-c', file], { encoding: 'utf8', timeout: 30_000 });
        expect(run.status).toBe(3);
        const errors = run.stderr.split('\n').filter((l) => l.startsWith('perf-monitor:'));
        expect(errors).toEqual([
          `perf-monitor: port ${port} is already in use on 127.0.0.1 (set by performance_monitor.prometheus.port)`,
        ]);
      } finally {
        blocker.close();
      }
    });

    it('should exit 2 with file:line:column lines for a bad config', () => {
      const dir = tempDir('bad');
      const file = path.join(dir, 'bad.yaml');
      fs.writeFileSync(file, 'performance_monitor:\n  prometheus:\n    prot: 9091\n');
      for (const cmd of [['validate'], ['run']]) {
        const run = spawnSync(NODE, [CLI, ...cmd, '-c', file], { encoding: 'utf8', timeout: 30_000 });
        expect(run.status, cmd.join(' ')).toBe(2);
        expect(run.stderr).toContain(
          `${file}:3:5: performance_monitor.prometheus.prot: unknown key "prot" (did you mean "port"?)`,
        );
      }
    });
  },
  'perf-monitor executable (dist/)',
);

const binary = await collectorBinary();

describe('final OTLP flush', () => {
  describeService('OpenTelemetry Collector', binary, () => {
    let collector: CollectorServer | undefined;
    afterEach(async () => {
      await collector?.stop();
    });

    it('should push one last collection when SIGTERM stops the agent', async () => {
      collector = await startCollector({
        translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
        prometheusExporter: { without_scope_info: true },
      });
      const dir = tempDir('flush');
      const port = await freePort();
      const file = path.join(dir, 'agent.yaml');
      // One collection an hour: only the start-up collection and the final one are ever exported.
      fs.writeFileSync(file, agentConfigText({ port, interval: '1h', otlpEndpoint: collector.otlpHttpUrl }));
      const handle = await startCliAgent(file, port);
      const c = collector;
      const collections = (text: string): number | undefined =>
        seriesValue(text, 'multi_agent_system_monitor_collections_total');
      // The start-up export carries the count before its own collection finished: 0.
      await waitFor('the start-up export', async () =>
        collections((await getText(c.prometheusUrl)).text) === 0 ? true : undefined,
      );
      const exited = exitOf(handle);
      handle.process.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      await waitFor('the final export', async () =>
        collections((await getText(c.prometheusUrl)).text) === 1 ? true : undefined,
      );
    });
  });
});
