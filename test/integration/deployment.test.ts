/**
 * The shipped deployment files, checked by the tools that run them: the systemd unit with
 * `systemd-analyze verify` and `systemd-analyze security --offline`, the Prometheus config with
 * `promtool check config`. Each check is shown to fail on a broken copy, so a pass means something.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { Availability } from '../services/availability.js';
import { describeService } from '../services/availability.js';
import { promtoolAvailable, PROMTOOL_BIN } from '../services/prometheus.js';
import { describeError, runCommand } from '../services/process.js';
import { tempDir } from './agent-harness.js';

const UNIT = fileURLToPath(new URL('../../config/systemd/perf-monitor.service', import.meta.url));
const PROMETHEUS_YML = fileURLToPath(new URL('../../config/prometheus/prometheus.yml', import.meta.url));
const SHIPPED_RULES = fileURLToPath(
  new URL('../../config/prometheus/rules/perf-monitor.rules.yml', import.meta.url),
);
/** `systemd-analyze security` exposure (0 = locked down, 10 = none); 2.0 is well inside "OK". */
const MAX_EXPOSURE = 2;

async function systemdAnalyzeAvailable(): Promise<Availability> {
  try {
    const { exitCode, output } = await runCommand('systemd-analyze', ['--version'], { timeoutMs: 10_000 });
    return exitCode === 0
      ? { ok: true }
      : { ok: false, reason: `systemd-analyze --version exited ${exitCode}: ${output}` };
  } catch (err) {
    return {
      ok: false,
      reason: `systemd-analyze is not runnable (Debian: apt-get install systemd): ${describeError(err)}`,
    };
  }
}

/** A copy of the unit with `edit` applied, under its own name in a temp dir. */
function unitCopy(edit: (text: string) => string): string {
  const dir = tempDir('unit');
  const file = path.join(dir, 'perf-monitor.service');
  writeFileSync(file, edit(readFileSync(UNIT, 'utf8')));
  return file;
}

describeService('systemd-analyze', await systemdAnalyzeAvailable(), () => {
  it('should verify the unit with no warning at all', async () => {
    const { exitCode, output } = await runCommand('systemd-analyze', ['verify', UNIT]);
    expect(output.trim()).toBe('');
    expect(exitCode).toBe(0);
  });

  it('should report a broken copy of the unit (the check can fail)', async () => {
    const broken = unitCopy((t) => t.replace('ProtectSystem=strict', 'ProtectSystem=everything'));
    const { output } = await runCommand('systemd-analyze', ['verify', broken]);
    expect(output).toMatch(/perf-monitor\.service:\d+: Failed to parse protect system value/);
  });

  it(`should be hardened: exposure at most ${MAX_EXPOSURE} by systemd-analyze security, a dedicated user, only the data dir writable`, async () => {
    const { exitCode, output } = await runCommand('systemd-analyze', [
      'security',
      '--offline=yes',
      `--threshold=${MAX_EXPOSURE * 10}`,
      UNIT,
    ]);
    const level = /Overall exposure level for perf-monitor\.service: ([\d.]+)/.exec(output);
    console.log(`systemd-analyze security: exposure ${level?.[1] ?? '?'} (at most ${MAX_EXPOSURE} required)`);
    expect(Number(level?.[1])).toBeLessThanOrEqual(MAX_EXPOSURE);
    expect(exitCode).toBe(0);
    const text = readFileSync(UNIT, 'utf8');
    const directives = (key: string): string[] =>
      [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
    expect(directives('User')).toEqual(['perf-monitor']);
    expect(directives('NoNewPrivileges')).toEqual(['yes']);
    expect(directives('ProtectSystem')).toEqual(['strict']);
    expect(directives('ProtectHome')).toEqual(['yes']);
    expect(directives('PrivateTmp')).toEqual(['yes']);
    expect(directives('ReadWritePaths')).toEqual(['/var/lib/perf-monitor']);
    expect(directives('StateDirectory')).toEqual(['perf-monitor']);
  });

  it('should score an unhardened unit above the threshold (the security check can fail)', async () => {
    const dir = tempDir('unit');
    mkdirSync(dir, { recursive: true });
    const bare = path.join(dir, 'bare.service');
    writeFileSync(bare, '[Service]\nExecStart=/bin/true\n');
    const { exitCode } = await runCommand('systemd-analyze', [
      'security',
      '--offline=yes',
      `--threshold=${MAX_EXPOSURE * 10}`,
      bare,
    ]);
    expect(exitCode).not.toBe(0);
  });
});

describeService('promtool', await promtoolAvailable(), () => {
  it('should accept config/prometheus/prometheus.yml with promtool check config', async () => {
    const { exitCode, output } = await runCommand(PROMTOOL_BIN, ['check', 'config', PROMETHEUS_YML]);
    expect(output).toContain('SUCCESS');
    expect(exitCode).toBe(0);
  });

  it('should load rule files from config/prometheus/rules/ (a broken rule file fails the check)', async () => {
    const dir = tempDir('prometheus');
    copyFileSync(PROMETHEUS_YML, path.join(dir, 'prometheus.yml'));
    mkdirSync(path.join(dir, 'rules'));
    writeFileSync(
      path.join(dir, 'rules', 'broken.rules.yml'),
      'groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: "rate("\n',
    );
    const { exitCode, output } = await runCommand(PROMTOOL_BIN, [
      'check',
      'config',
      path.join(dir, 'prometheus.yml'),
    ]);
    expect(output).toContain('broken.rules.yml');
    expect(exitCode).not.toBe(0);
  });

  it('should accept the shipped rules (exported from the default config) with promtool check rules', async () => {
    const { exitCode, output } = await runCommand(PROMTOOL_BIN, ['check', 'rules', SHIPPED_RULES]);
    expect(output).toContain('SUCCESS: 13 rules found');
    expect(exitCode).toBe(0);
    // The same check fails on a copy with one expression broken.
    const dir = tempDir('prometheus-rules');
    const broken = path.join(dir, 'perf-monitor.rules.yml');
    writeFileSync(broken, readFileSync(SHIPPED_RULES, 'utf8').replace(/expr: (.*)\n/, 'expr: rate($1\n'));
    const bad = await runCommand(PROMTOOL_BIN, ['check', 'rules', broken]);
    expect(bad.exitCode).not.toBe(0);
  });
});
