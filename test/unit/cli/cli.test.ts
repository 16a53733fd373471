import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EXIT_CODES, main } from '../../../src/cli/cli.js';
import type { CliIo } from '../../../src/cli/io.js';
import { COMMANDS } from '../../../src/cli/options.js';
import { ERROR_CODES } from '../../../src/lib/errors.js';
import { DEFAULT_CONFIG, SEED_EXAMPLE, invalidFixture } from '../config/helpers.js';

interface Captured {
  code: number;
  out: string[];
  err: string[];
}

/** Runs the command line with an in-memory io; `env` replaces process.env entirely. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const code = await main(argv, io, env);
  return { code, out, err };
}

const PACKAGE_VERSION = (
  JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const NEO4J_SECRET = 'n3o4j-s3cret-from-env';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a config file in a fresh temporary directory. */
function tempConfig(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-cli-'));
  tempDirs.push(dir);
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('main', () => {
  describe('validate', () => {
    it('should exit 0 and say the seed example is valid', async () => {
      const r = await run(['validate', '-c', SEED_EXAMPLE]);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([
        `${SEED_EXAMPLE}: valid (system, application, neo4j collectors, every 30s, 1 alert rule(s))`,
      ]);
      expect(r.err).toEqual([]);
    });

    it('should exit 0 for the packaged default config, with the long option too', async () => {
      const r = await run(['validate', '--config', DEFAULT_CONFIG]);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([
        `${DEFAULT_CONFIG}: valid (system, application collectors, every 15s, 14 alert rule(s))`,
      ]);
    });

    it('should validate the file named by PERF_MONITOR_CONFIG when there is no -c', async () => {
      const r = await run(['validate'], { PERF_MONITOR_CONFIG: SEED_EXAMPLE });
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(new RegExp(`^${SEED_EXAMPLE.replaceAll('.', '\\.')}: valid`));
    });

    it('should validate the packaged default config when nothing names a file', async () => {
      const r = await run(['validate']);
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(/performance_monitor_config\.yaml: valid \(/);
    });

    it('should exit 2 and print one file:line:col: path: message line per issue, then a count', async () => {
      const file = invalidFixture('many-mistakes.yaml');
      const r = await run(['validate', '-c', file]);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(8);
      for (const line of r.err.slice(0, 7)) {
        expect(line).toMatch(/^.+many-mistakes\.yaml:\d+:\d+: [\w.[\]]+: \S.*$/);
      }
      expect(r.err[1]).toBe(`${file}:7:11: performance_monitor.prometheus.port: must be <= 65535, got 99999`);
      expect(r.err[2]).toBe(
        `${file}:8:5: performance_monitor.prometheus.prot: unknown key "prot" (did you mean "port"?)`,
      );
      expect(r.err[7]).toBe(`${file}: 7 problem(s)`);
    });

    it('should name the rule and the field of a bad alert rule (unknown metric, duration, condition)', async () => {
      const metric = invalidFixture('rule-unknown-metric.yaml');
      const m = await run(['validate', '-c', metric]);
      expect(m.code).toBe(2);
      expect(m.err[0]).toBe(
        `${metric}:6:17: performance_monitor.alerting.rules[0].metric: rule high_cpu_usage: unknown metric "cpu_precent" (did you mean "cpu_percent"?)`,
      );
      const fields = invalidFixture('rule-field-errors.yaml');
      const f = await run(['validate', '-c', fields]);
      expect(f.code).toBe(2);
      expect(f.err[0]).toBe(
        `${fields}:9:19: performance_monitor.alerting.rules[0].duration: rule bad_for: invalid duration "5 minutes": use seconds (30) or a number with a unit (500ms, 15s, 5m, 1h, 7d)`,
      );
      expect(f.err[1]).toMatch(
        /^.+:12:20: performance_monitor\.alerting\.rules\[1\]\.condition: rule bad_condition: expected one of ">"/,
      );
    });

    it('should print a YAML syntax error as file:line:col: message', async () => {
      const file = invalidFixture('duplicate-yaml-key.yaml');
      const r = await run(['validate', '-c', file]);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([`${file}:6:5: Map keys must be unique`, `${file}: 1 problem(s)`]);
    });

    it('should exit 2 with one line when the file does not exist', async () => {
      const file = invalidFixture('no-such-file.yaml');
      const r = await run(['validate', '-c', file]);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([`${file}: no such file`]);
      expect(r.out).toEqual([]);
    });

    it('should list the first 100 problems and count the rest', async () => {
      const keys = Array.from({ length: 250 }, (_, i) => `  unknown_${i}: ${i}\n`).join('');
      const file = tempConfig(`performance_monitor:\n${keys}`);
      const r = await run(['validate', '-c', file]);
      expect(r.code).toBe(2);
      expect(r.err).toHaveLength(102);
      expect(r.err[0]).toBe(`${file}:2:3: performance_monitor.unknown_0: unknown key "unknown_0"`);
      expect(r.err[99]).toContain('performance_monitor.unknown_99: unknown key');
      expect(r.err.slice(100)).toEqual(['… and 150 more problem(s)', `${file}: 250 problem(s)`]);
    });

    it.each([
      ['empty', ''],
      ['comments only', '# nothing set yet\n'],
    ])('should say that defaults are used when the file is %s', async (_what, text) => {
      const file = tempConfig(text);
      const r = await run(['validate', '-c', file]);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([
        `${file}: valid (empty: every setting has its default; system, application collectors, every 30s, 0 alert rule(s))`,
      ]);
    });
  });

  describe('errors', () => {
    it('should not print the credentials of a URL in an error', async () => {
      const r = await run(['alerts', '--url', 'http://monitor:hunter2@127.0.0.1:1/?token=t0k3n']);
      expect(r.code).toBe(1);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(
        /^perf-monitor: cannot read http:\/\/<redacted>@127\.0\.0\.1:1\/\?token=<redacted>/,
      );
      expect(r.err[0]).not.toMatch(/hunter2|t0k3n/);
    });
  });

  describe('config print', () => {
    it('should print the effective configuration as YAML with secrets redacted', async () => {
      const r = await run(['config', 'print', '-c', DEFAULT_CONFIG], { NEO4J_PASSWORD: NEO4J_SECRET });
      expect(r.code).toBe(0);
      expect(r.err).toEqual([]);
      const text = r.out.join('\n');
      expect(text).not.toContain(NEO4J_SECRET);
      expect(text.split('\n')[0]).toBe(`# effective configuration of ${DEFAULT_CONFIG}`);
      const printed = parseYaml(text) as {
        performance_monitor: {
          collection_interval: unknown;
          neo4j_metrics: { password: unknown };
          prometheus: { port: unknown; request_timeout: unknown };
        };
      };
      expect(printed.performance_monitor.collection_interval).toBe('15s');
      expect(printed.performance_monitor.neo4j_metrics.password).toBe('<redacted>');
      expect(printed.performance_monitor.prometheus.port).toBe(9091);
      expect(printed.performance_monitor.prometheus.request_timeout).toBe('10s');
    });

    it('should print parseable JSON with --json, the same data as the YAML', async () => {
      const env = { NEO4J_PASSWORD: NEO4J_SECRET, PERF_MONITOR_PORT: '9200' };
      const json = await run(['config', 'print', '--json', '-c', DEFAULT_CONFIG], env);
      expect(json.code).toBe(0);
      const text = json.out.join('\n');
      expect(text).not.toContain(NEO4J_SECRET);
      const printed = JSON.parse(text) as {
        performance_monitor: { neo4j_metrics: { password: unknown }; prometheus: { port: unknown } };
      };
      expect(printed.performance_monitor.neo4j_metrics.password).toBe('<redacted>');
      expect(printed.performance_monitor.prometheus.port).toBe(9200);
      const yaml = await run(['config', 'print', '-c', DEFAULT_CONFIG], env);
      expect(parseYaml(yaml.out.join('\n'))).toEqual(printed);
    });

    it('should list the first 100 problems of a file that does not validate and count the rest', async () => {
      const keys = Array.from({ length: 150 }, (_, i) => `  unknown_${i}: ${i}\n`).join('');
      const r = await run(['config', 'print', '-c', tempConfig(`performance_monitor:\n${keys}`)]);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(101);
      expect(r.err[100]).toBe('… and 50 more problem(s)');
    });

    it('should exit 2 with the issues when the file does not validate', async () => {
      const file = invalidFixture('bad-regex.yaml');
      const r = await run(['config', 'print', '-c', file]);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toEqual([
        `${file}:4:27: performance_monitor.system.exclude_mount_points: not a valid regular expression (RE2 syntax): missing closing ): \`^/(proc|sys\``,
      ]);
    });

    it('should exit 2 with one line when the file does not exist', async () => {
      const file = invalidFixture('no-such-file.yaml');
      const r = await run(['config', 'print', '-c', file]);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([`${file}: no such file`]);
    });
  });

  describe('version', () => {
    it('should print the package.json version', async () => {
      const r = await run(['version']);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([`perf-monitor ${PACKAGE_VERSION} (node ${process.version})`]);
    });

    it('should treat --version as the version command', async () => {
      const r = await run(['--version']);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([`perf-monitor ${PACKAGE_VERSION} (node ${process.version})`]);
    });
  });

  describe('usage', () => {
    it('should exit 2 and name an unknown command', async () => {
      const r = await run(['frobnicate']);
      expect(r.code).toBe(2);
      expect(r.err).toEqual(['perf-monitor: unknown command "frobnicate"; run perf-monitor --help']);
    });

    it('should exit 2 and name an unknown option', async () => {
      const r = await run(['validate', '--frobnicate']);
      expect(r.code).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^perf-monitor validate: .*--frobnicate/);
    });

    it('should exit 2 for an option given to a command that does not take it', async () => {
      const r = await run(['validate', '--json', '-c', SEED_EXAMPLE]);
      expect(r.code).toBe(2);
      expect(r.err[0]).toMatch(/^perf-monitor validate: .*--json/);
    });

    it('should exit 2 for a stray argument', async () => {
      const r = await run(['validate', SEED_EXAMPLE]);
      expect(r.code).toBe(2);
      expect(r.err[0]).toMatch(/^perf-monitor validate: /);
    });

    it('should exit 2 for an option that lacks its value', async () => {
      const r = await run(['validate', '-c']);
      expect(r.code).toBe(2);
      expect(r.err[0]).toMatch(/^perf-monitor validate: .*--config/);
    });

    it.each([['--help'], ['-h'], ['help']])('should exit 0 with the command list for %s', async (flag) => {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      const text = r.out.join('\n');
      expect(text).toContain('Usage: perf-monitor <command> [options]');
      for (const c of COMMANDS) expect(text).toContain(`  ${c.name}`);
    });

    it.each(COMMANDS.map((c) => [c.name]))('should exit 0 with the options of "%s --help"', async (name) => {
      const r = await run([...name.split(' '), '--help']);
      expect(r.code).toBe(0);
      const text = r.out.join('\n');
      expect(text).toContain(`Usage: perf-monitor ${name} [options]`);
      expect(text).toContain('-h, --help');
    });

    it('should list --config and --json in the help of config print', async () => {
      const r = await run(['config', 'print', '-h']);
      expect(r.out.join('\n')).toMatch(/-c, --config FILE +configuration file/);
      expect(r.out.join('\n')).toMatch(/ {4}--json +print JSON instead of YAML/);
    });

    it('should exit 2 and show the usage when there are no arguments', async () => {
      const r = await run([]);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err.join('\n')).toContain('Usage: perf-monitor <command> [options]');
    });
  });
});

describe('EXIT_CODES', () => {
  it('should give every error code an exit code, 2 for configuration and usage problems', () => {
    expect(Object.keys(EXIT_CODES).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(EXIT_CODES.E_CONFIG_INVALID).toBe(2);
    expect(EXIT_CODES.E_CONFIG_READ).toBe(2);
    expect(EXIT_CODES.E_CONFIG_PARSE).toBe(2);
    expect(EXIT_CODES.E_USAGE).toBe(2);
    expect(EXIT_CODES.E_PORT_IN_USE).toBe(3);
    for (const code of Object.values(EXIT_CODES)) expect([1, 2, 3]).toContain(code);
  });
});

describe('options before the command', () => {
  it('should find the command after -c FILE', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const code = await main(['-c', 'test/fixtures/config/seed-example.yaml', 'validate'], io, {});
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain('seed-example.yaml: valid');
  });
});
