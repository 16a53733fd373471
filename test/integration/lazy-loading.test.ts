/**
 * Pay only for what is on: what a real process loads, recorded by a module hook (module.registerHooks) in
 * the process itself. The preload on its default configuration loads the pipeline and the application's own
 * sources, and none of the rule engine, notifications, history, host probes, Neo4j, OTLP or bcrypt; the daemon
 * on the shipped default configuration loads alerting, notifications (rules are on) and history (on by default
 * for the daemon) but not Neo4j, OTLP or bcrypt; importing the package loads none of the subsystems.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { CLI, NODE, REPO_ROOT, builtCliAvailable, tempDir } from './agent-harness.js';

const run = promisify(execFile);
const DIST = path.join(REPO_ROOT, 'dist', 'src');

/**
 * A preload module that writes every module URL the process resolves, and Node's list of the built-in modules
 * it loaded (`NativeModule name`), to $LOADED_FILE when it exits.
 */
const HOOKS = `
import fs from 'node:fs';
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    seen.add(r.url);
    return r;
  },
});
process.on('exit', () =>
  fs.writeFileSync(process.env.LOADED_FILE, [...seen, ...process.moduleLoadList].join('\\n')),
);
`;

/** An application that serves one request to itself and ends once the agent has collected. */
const APP = `
const http = require('node:http');
const server = http.createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1', () => {
  http.get('http://127.0.0.1:' + server.address().port + '/users/1', (res) => {
    res.resume();
    res.on('end', () => setTimeout(() => server.close(), 1500));
  });
});
`;

/** What each subsystem's modules look like among the resolved URLs. */
const SUBSYSTEMS: Record<string, RegExp> = {
  'rule engine': /\/dist\/src\/alerts\/engine\.js$/,
  notifications: /\/dist\/src\/alerts\/dispatcher\.js$/,
  'SQLite (outbox, history)': /^node:sqlite$/,
  history: /\/dist\/src\/trends\//,
  'host probes': /\/dist\/src\/probes\/system\//,
  'Neo4j collector': /\/dist\/src\/probes\/neo4j\/collector\.js$/,
  'neo4j-driver': /\/node_modules\/neo4j-driver/,
  'OTLP exporter': /exporter-metrics-otlp/,
  'semconv naming': /\/dist\/src\/(export\/otlp-semconv|catalog\/semconv)\.js$/,
  bcrypt: /\/node_modules\/bcryptjs\//,
  'status page': /\/dist\/src\/export\/status-page\.js$/,
  'protobuf exposition (native histograms)': /\/dist\/src\/export\/prometheus-protobuf\.js$/,
  'OpenTelemetry SDK': /\/node_modules\/@opentelemetry\/sdk-metrics\//,
  'YAML parser and schema library': /\/node_modules\/(yaml|zod)\//,
  // The route hooks of the preload only wait for the application to load its framework.
  'web frameworks': /\/node_modules\/(express|fastify|koa|@koa\/router|hono|@hono\/node-server)\//,
  // Node's bundled fetch and HTTP/2 (an ES import of node:http loads both), TLS and crypto: 6 MB of RSS that
  // the daemon does not need without TLS; src/lib/builtins.ts loads them only when used.
  'fetch (undici) and HTTP/2': /^NativeModule (internal\/deps\/undici\/undici|http2)$/,
  'TLS and crypto': /^NativeModule (tls|crypto)$/,
};

/**
 * Modules that a started agent may need but the package's entry point must not load: the OpenTelemetry API
 * (the exemplar capture reads the application's registered context manager from globalThis instead) and
 * worker_threads (the configuration loader's worker, the worker-thread bridge).
 */
const OTEL_API = /\/node_modules\/@opentelemetry\/api\//;
/** The in-app probes (HTTP server and client requests, neo4j-driver queries) and the framework route hooks. */
const IN_APP_PROBES =
  /\/dist\/src\/(probes\/runtime\/(http-requests|http-client|neo4j-driver)|lib\/module-hook)\.js$/;
const WORKER_THREADS = /^NativeModule worker_threads$/;

function loadedAny(file: string, re: RegExp): boolean {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .some((u) => re.test(u));
}

function loadedSubsystems(file: string): string[] {
  const urls = fs.readFileSync(file, 'utf8').split('\n');
  return Object.entries(SUBSYSTEMS)
    .filter(([, re]) => urls.some((u) => re.test(u)))
    .map(([name]) => name);
}

/** The environment without PERF_MONITOR_CONFIG, so that the preload takes its default. */
function withoutConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { PERF_MONITOR_CONFIG: _unused, ...rest } = env;
  return rest;
}

function setup(): { dir: string; hooks: string; loaded: string } {
  const dir = tempDir('lazy');
  const hooks = path.join(dir, 'hooks.mjs');
  fs.writeFileSync(hooks, HOOKS);
  return { dir, hooks, loaded: path.join(dir, 'loaded.txt') };
}

describeService('what a process loads (built package)', builtCliAvailable(), () => {
  it('should load only the pipeline and the in-app sources under the preload on its default configuration', async () => {
    const { dir, hooks, loaded } = setup();
    const app = path.join(dir, 'app.cjs');
    fs.writeFileSync(app, APP);
    const { stderr } = await run(
      NODE,
      ['--import', hooks, '--require', path.join(DIST, 'register.js'), app],
      {
        env: { ...withoutConfig(process.env), LOADED_FILE: loaded, PERF_MONITOR_PORT: '0' },
        timeout: 30_000,
      },
    );
    expect(stderr).toContain('agent started');
    expect(stderr).toContain('preload_config.yaml');
    // The configuration is read in a worker thread, whose modules are not this isolate's; the pipeline builds
    // the SDK's data shapes itself, so without an OTLP push not even the OpenTelemetry SDK is loaded; the
    // request's duration is recorded (exemplar capture included) without the OpenTelemetry API either.
    expect(loadedSubsystems(loaded)).toEqual([]);
    expect(loadedAny(loaded, OTEL_API)).toBe(false);
  });

  it('should load the OTLP exporter (and the SDK with it) under the preload when an OTLP endpoint is set', async () => {
    const { dir, hooks, loaded } = setup();
    const app = path.join(dir, 'app.cjs');
    fs.writeFileSync(app, APP);
    await run(NODE, ['--import', hooks, '--require', path.join(DIST, 'register.js'), app], {
      env: {
        ...withoutConfig(process.env),
        LOADED_FILE: loaded,
        PERF_MONITOR_PORT: '0',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:1/v1/metrics',
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '500',
      },
      timeout: 30_000,
    });
    // The OTLP exporter's HTTP transport is where fetch, HTTP/2, TLS and crypto come in.
    expect(loadedSubsystems(loaded)).toEqual([
      'OTLP exporter',
      'OpenTelemetry SDK',
      'fetch (undici) and HTTP/2',
      'TLS and crypto',
    ]);
  });

  it('should load the semconv mapping only with otlp.naming semconv', async () => {
    const { dir, hooks, loaded } = setup();
    const app = path.join(dir, 'app.cjs');
    fs.writeFileSync(app, APP);
    const config = path.join(dir, 'semconv.yaml');
    fs.writeFileSync(
      config,
      [
        'performance_monitor:',
        '  enabled_collectors: [application]',
        '  prometheus:',
        '    port: 0',
        '  otlp:',
        '    endpoint: http://127.0.0.1:1/v1/metrics',
        '    timeout: 500ms',
        '    naming: semconv',
        '',
      ].join('\n'),
    );
    const { stderr } = await run(
      NODE,
      ['--import', hooks, '--require', path.join(DIST, 'register.js'), app],
      {
        env: { ...withoutConfig(process.env), LOADED_FILE: loaded, PERF_MONITOR_CONFIG: config },
        timeout: 30_000,
      },
    );
    expect(stderr).toContain('agent started');
    expect(loadedSubsystems(loaded)).toEqual([
      'OTLP exporter',
      'semconv naming',
      'OpenTelemetry SDK',
      'fetch (undici) and HTTP/2',
      'TLS and crypto',
    ]);
  });

  it('should load alerting, notifications and history, and no Neo4j, OTLP or bcrypt, as the daemon on the default configuration', async () => {
    const { dir, hooks, loaded } = setup();
    const config = path.join(dir, 'config.yaml');
    fs.copyFileSync(path.join(REPO_ROOT, 'config', 'performance_monitor_config.yaml'), config);
    const child = execFile(NODE, ['--import', hooks, CLI, 'run', '-c', config], {
      cwd: dir,
      env: {
        ...process.env,
        LOADED_FILE: loaded,
        PERF_MONITOR_PORT: '0',
        PERF_MONITOR_INTERVAL: '500ms',
        STATE_DIRECTORY: dir,
      },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!stderr.includes('agent started') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toContain('agent started');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(loadedSubsystems(loaded)).toEqual([
      'rule engine',
      'notifications',
      'SQLite (outbox, history)',
      'history',
      'host probes',
    ]);
    // The in-app probes are the preload's (which loads them before this hook can see them: --require runs
    // first); the OpenTelemetry API comes with an OTLP push (its diag logger).
    for (const file of ['http-requests', 'http-client', 'neo4j-driver'])
      expect(IN_APP_PROBES.test(pathToFileURL(path.join(DIST, 'probes', 'runtime', `${file}.js`)).href)).toBe(
        true,
      );
    expect(loadedAny(loaded, IN_APP_PROBES)).toBe(false);
    expect(loadedAny(loaded, OTEL_API)).toBe(false);
  });

  it('should load none of the subsystems when the package is imported', async () => {
    const { hooks, loaded } = setup();
    await run(
      NODE,
      [
        '--import',
        hooks,
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(path.join(DIST, 'index.js'))});`,
      ],
      {
        env: { ...process.env, LOADED_FILE: loaded },
        timeout: 30_000,
      },
    );
    expect(loadedSubsystems(loaded)).toEqual([]);
    expect(loadedAny(loaded, OTEL_API)).toBe(false);
    expect(loadedAny(loaded, WORKER_THREADS)).toBe(false);
  });

  it('should load worker_threads from the package only when a worker thread needs it', async () => {
    const { hooks, loaded } = setup();
    const index = JSON.stringify(path.join(DIST, 'index.js'));
    // getApplicationMetrics() in a main thread without a worker: isMainThread is known without the module (every
    // worker thread has it loaded: Node loads it to run one).
    const { stdout } = await run(
      NODE,
      [
        '--import',
        hooks,
        '--input-type=module',
        '-e',
        `const m = await import(${index});
         console.log('main:', m.getApplicationMetrics() === undefined);
         console.log('loaded:', process.moduleLoadList.includes('NativeModule worker_threads'));`,
      ],
      { env: { ...process.env, LOADED_FILE: loaded }, timeout: 30_000 },
    );
    expect(stdout).toContain('main: true');
    expect(stdout).toContain('loaded: false');
    expect(loadedAny(loaded, WORKER_THREADS)).toBe(false);
  });
});
