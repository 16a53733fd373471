/**
 * Pure parts of the real-server harness in test/services/. No servers are started here; the one spawned
 * process is build-otelcol.sh on its cached fast path, with `go` off PATH so it can never build.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { allAvailable, gateDecision, skipBanner } from '../../services/availability.js';
import {
  BUILDER_MANIFEST_PATH,
  collectorBinaryPath,
  collectorConfig,
  deepMerge,
  manifestKey,
  toolsDir,
} from '../../services/otelcol.js';
import { assertLoopback, OutputTail } from '../../services/process.js';
import { prometheusConfig } from '../../services/prometheus.js';

const execFileAsync = promisify(execFile);

describe('OutputTail', () => {
  it('should keep everything below the limit', () => {
    const tail = new OutputTail(10);
    tail.push(Buffer.from('abc'));
    tail.push(Buffer.from('def'));
    expect(tail.toString()).toBe('abcdef');
  });

  it('should keep only the last limit bytes', () => {
    const tail = new OutputTail(5);
    for (const s of ['0123', '4567', '89']) tail.push(Buffer.from(s));
    expect(tail.toString()).toBe('56789');
  });

  it('should cut a single oversized chunk', () => {
    const tail = new OutputTail(4);
    tail.push(Buffer.from('abcdefgh'));
    expect(tail.toString()).toBe('efgh');
  });
});

describe('assertLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])('should accept %s', (host) => {
    expect(() => assertLoopback(host)).not.toThrow();
  });

  it.each(['0.0.0.0', '192.0.2.1', 'example.com', '10.0.0.1', '1127.0.0.1'])('should reject %s', (host) => {
    expect(() => assertLoopback(host)).toThrow(/loopback/);
  });
});

describe('prometheusConfig', () => {
  it('should scrape the targets as job perf-monitor every second by default', () => {
    expect(prometheusConfig({ targets: ['127.0.0.1:9464'] })).toEqual({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [
        {
          job_name: 'perf-monitor',
          scrape_interval: '1s',
          scrape_timeout: '1s',
          static_configs: [{ targets: ['127.0.0.1:9464'] }],
        },
      ],
    });
  });

  it('should merge extraScrapeConfig into the job', () => {
    const config = prometheusConfig({
      targets: ['localhost:1'],
      scrapeIntervalSeconds: 2,
      extraScrapeConfig: { metrics_path: '/prom', honor_labels: true },
    });
    expect(config.scrape_configs).toEqual([
      expect.objectContaining({ scrape_interval: '2s', metrics_path: '/prom', honor_labels: true }),
    ]);
  });

  it('should refuse non-loopback targets and targets without a port', () => {
    expect(() => prometheusConfig({ targets: ['192.0.2.1:9100'] })).toThrow(/loopback/);
    expect(() => prometheusConfig({ targets: ['127.0.0.1'] })).toThrow(/host:port/);
  });
});

describe('collectorConfig', () => {
  const ports = { otlpHttpPort: 4318, otlpGrpcPort: 4317, prometheusPort: 8889 };

  it('should listen on loopback only and disable self-metrics', () => {
    const config = collectorConfig({}, ports);
    expect(config).toMatchObject({
      receivers: {
        otlp: { protocols: { grpc: { endpoint: '127.0.0.1:4317' }, http: { endpoint: '127.0.0.1:4318' } } },
      },
      processors: { batch: { timeout: '200ms' } },
      exporters: {
        prometheus: { endpoint: '127.0.0.1:8889', metric_expiration: '5m' },
        debug: { verbosity: 'basic' },
      },
      service: {
        telemetry: { metrics: { level: 'none' } },
        pipelines: {
          metrics: {
            receivers: ['otlp'],
            processors: ['memory_limiter', 'batch'],
            exporters: ['prometheus', 'debug'],
          },
        },
      },
    });
    const prometheus = (config.exporters as Record<string, Record<string, unknown>>).prometheus;
    expect(prometheus).not.toHaveProperty('namespace');
    expect(prometheus).not.toHaveProperty('translation_strategy');
  });

  it('should set namespace, translation_strategy and extra exporter keys', () => {
    const config = collectorConfig(
      {
        namespace: 'pm',
        translationStrategy: 'UnderscoreEscapingWithoutSuffixes',
        prometheusExporter: { const_labels: { env: 'test' } },
      },
      ports,
    );
    expect(config.exporters).toMatchObject({
      prometheus: {
        namespace: 'pm',
        translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
        const_labels: { env: 'test' },
      },
    });
  });

  it('should deep-merge extraConfig, replacing arrays', () => {
    const config = collectorConfig(
      {
        extraConfig: {
          receivers: { prometheus: { config: { scrape_configs: [] } } },
          service: { pipelines: { metrics: { receivers: ['otlp', 'prometheus'] } } },
        },
      },
      ports,
    );
    expect(Object.keys(config.receivers as object)).toEqual(['otlp', 'prometheus']);
    expect(config.service).toMatchObject({
      telemetry: { metrics: { level: 'none' } },
      pipelines: { metrics: { receivers: ['otlp', 'prometheus'], exporters: ['prometheus', 'debug'] } },
    });
  });
});

describe('deepMerge', () => {
  it('should not modify its inputs', () => {
    const base = { a: { b: 1 } };
    const merged = deepMerge(base, { a: { c: 2 } });
    expect(merged).toEqual({ a: { b: 1, c: 2 } });
    expect(base).toEqual({ a: { b: 1 } });
  });
});

describe('toolsDir', () => {
  it('should prefer PERF_MONITOR_TOOLS_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(toolsDir({ PERF_MONITOR_TOOLS_DIR: '/t', XDG_CACHE_HOME: '/x' }, '/h')).toBe('/t');
    expect(toolsDir({ XDG_CACHE_HOME: '/x' }, '/h')).toBe('/x/perf-monitor-agent');
    expect(toolsDir({ XDG_CACHE_HOME: '' }, '/h')).toBe('/h/.cache/perf-monitor-agent');
    expect(toolsDir({}, '/h')).toBe('/h/.cache/perf-monitor-agent');
  });
});

describe('manifestKey', () => {
  it('should be the first 16 hex digits of sha256', () => {
    // printf abc | sha256sum
    expect(manifestKey('abc')).toBe('ba7816bf8f01cfea');
  });
});

describe('build-otelcol.sh', () => {
  const script = fileURLToPath(new URL('../../services/build-otelcol.sh', import.meta.url));
  let dir: string | undefined;

  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('should find a cached binary at the path collectorBinaryPath() computes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'perf-monitor-build-otelcol-'));
    const env = { PERF_MONITOR_TOOLS_DIR: join(dir, 'tools') };
    const expected = await collectorBinaryPath(env);
    mkdirSync(dirname(expected), { recursive: true });
    writeFileSync(expected, '#!/bin/sh\n[ "$1" = components ]\n');
    chmodSync(expected, 0o755);
    // Only the tools the fast path needs: if the paths ever disagree, the script stops at "go is not on PATH".
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['dirname', 'sha256sum', 'cut', 'mkdir', 'flock', 'sh']) {
      const { stdout } = await execFileAsync('bash', ['-c', `command -v ${tool}`]);
      symlinkSync(stdout.trim(), join(bin, tool));
    }
    const bash = (await execFileAsync('bash', ['-c', 'command -v bash'])).stdout.trim();
    const { stdout } = await execFileAsync(bash, [script], { env: { ...env, PATH: bin, HOME: dir } });
    expect(stdout).toBe(`${expected}\n`);
    expect(expected).toContain(`/otelcol/${manifestKey(await readFile(BUILDER_MANIFEST_PATH))}/`);
  });
});

describe('gateDecision', () => {
  const missing = { ok: false as const, reason: 'not installed' };

  it('should run when the service is available, whatever CI says', () => {
    expect(gateDecision({ ok: true }, { CI: 'true' })).toBe('run');
    expect(gateDecision({ ok: true }, {})).toBe('run');
  });

  it('should fail a missing service on CI and skip it elsewhere', () => {
    expect(gateDecision(missing, { CI: 'true' })).toBe('fail');
    expect(gateDecision(missing, { PERF_MONITOR_REQUIRE_SERVICES: '1' })).toBe('fail');
    expect(gateDecision(missing, { CI: 'false' })).toBe('skip');
    expect(gateDecision(missing, {})).toBe('skip');
  });
});

describe('skipBanner', () => {
  it('should name the service and the reason', () => {
    expect(skipBanner('Prometheus', 'not on PATH')).toContain(
      'SKIPPED: Prometheus integration tests: not on PATH',
    );
  });
});

describe('allAvailable', () => {
  it('should join the reasons of every unavailable service', () => {
    expect(allAvailable({ ok: true }, { ok: true })).toEqual({ ok: true });
    expect(allAvailable({ ok: false, reason: 'a' }, { ok: true }, { ok: false, reason: 'b' })).toEqual({
      ok: false,
      reason: 'a; b',
    });
  });
});
