/**
 * The built package on a Node.js older than package.json's `engines.node`: the command line says which
 * Node.js it needs in one line and exits with code 2; the preload (`--require` through register.cjs,
 * `--import` through dist/src/register.js) writes one line on stderr and leaves the application's own output
 * and exit code as they are. And the same entry points on the Node.js that runs the tests start the agent.
 *
 * The older Node.js is the system's /usr/bin/node (PERF_MONITOR_OLD_NODE names another one). Without one
 * older than the requirement the suite is skipped with a banner, or fails under CI=true.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REQUIRED_NODE, isAtLeast, MINIMUM_NODE, parseNodeVersion } from '../../src/lib/node-version.js';
import { allAvailable, describeService } from '../services/availability.js';
import type { Availability } from '../services/availability.js';
import { CLI, NODE, REPO_ROOT, builtCliAvailable, freePort, tempDir } from './agent-harness.js';

const OLD_NODE = process.env.PERF_MONITOR_OLD_NODE ?? '/usr/bin/node';
const APPS = path.join(REPO_ROOT, 'test', 'fixtures', 'apps');
const APP = 'exit-code-app.cjs';
const REGISTER_CJS = path.join(REPO_ROOT, 'register.cjs');
const REGISTER_MJS = path.join(REPO_ROOT, 'dist', 'src', 'register.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(node: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(node, args, {
    cwd: APPS,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oldNodeAvailable(): Availability {
  if (!fs.existsSync(OLD_NODE)) return { ok: false, reason: `${OLD_NODE} is missing` };
  const r = spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = parseNodeVersion(r.stdout ?? '');
  if (version === undefined) return { ok: false, reason: `${OLD_NODE} --version did not answer a version` };
  if (isAtLeast(version, MINIMUM_NODE))
    return { ok: false, reason: `${OLD_NODE} is v${version.join('.')}, not older than ${REQUIRED_NODE}` };
  return { ok: true };
}

/** `v20.20.2`; '' when there is no such executable (the suite is skipped or failed then). */
const oldVersion = (): string =>
  (spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout ?? '').trim();
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describeService(
  `a Node.js older than ${REQUIRED_NODE}`,
  allAvailable(builtCliAvailable(), oldNodeAvailable()),
  () => {
    const found = oldVersion();
    const needs = `needs Node.js ${escape(REQUIRED_NODE)}, found ${escape(found)}`;

    it.each([['version'], ['run', '--config', 'missing.yaml'], ['--help'], []])(
      'should make `perf-monitor %s` say which Node.js it needs, in one line, and exit with code 2',
      (...args) => {
        const r = run(OLD_NODE, [CLI, ...args]);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(new RegExp(`^perf-monitor: ${needs}\\n$`));
        expect(r.status).toBe(2);
      },
    );

    it('should leave an application without a preload as it is (the baseline)', () => {
      expect(run(OLD_NODE, [APP])).toEqual({ status: 3, stdout: 'app ran\n', stderr: '' });
    });

    it('should let an application import the package and find no agent (getApplicationMetrics() is undefined)', () => {
      const r = run(OLD_NODE, [
        '--input-type=module',
        '-e',
        "const m = await import('perf-monitor-agent'); console.log(String(m.getApplicationMetrics()));",
      ]);
      expect(r).toEqual({ status: 0, stdout: 'undefined\n', stderr: '' });
    });

    it.each([
      ['--require', REGISTER_CJS],
      ['--require', 'perf-monitor-agent/register'],
      ['--import', REGISTER_MJS],
      ['--import', 'perf-monitor-agent/register'],
      ['--require', REGISTER_MJS],
    ])(
      'should let the application run on unmonitored with `%s %s`, with one line on stderr',
      (flag, entry) => {
        const r = run(OLD_NODE, [flag, entry, APP]);
        expect(r.stdout).toBe('app ran\n');
        expect(r.stderr).toMatch(
          new RegExp(`^perf-monitor-agent: not started: ${needs}; the application runs without it\\n$`),
        );
        expect(r.status).toBe(3);
      },
    );
  },
  'the built package on an older Node.js',
);

describeService('built package (dist/)', builtCliAvailable(), () => {
  describe.each([
    ['--require', REGISTER_CJS],
    ['--require', 'perf-monitor-agent/register'],
    ['--import', REGISTER_MJS],
    ['--import', 'perf-monitor-agent/register'],
  ])(`on Node.js ${process.version}, \`%s %s\``, (flag, entry) => {
    it("should start the agent before the application's code runs, and keep its output and exit code", async () => {
      const dir = tempDir('old-node');
      const config = path.join(dir, 'agent.yaml');
      fs.writeFileSync(
        config,
        'performance_monitor:\n  enabled_collectors: [application]\n  prometheus:\n    host: 127.0.0.1\n    port: ${PERF_MONITOR_PORT}\n',
      );
      const r = run(NODE, [flag, entry, APP], {
        PERF_MONITOR_CONFIG: config,
        PERF_MONITOR_PORT: String(await freePort()),
        SHOW_PRELOAD: '1',
      });
      expect(r.stdout).toBe('app ran\npreloaded true\n');
      expect(r.stderr).not.toContain('not started');
      expect(r.status).toBe(3);
    });
  });
});
