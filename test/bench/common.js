/**
 * Shared plumbing of the benchmarks: statistics, machine description, CPU pinning, child processes that
 * are always cleaned up, /proc readings, loopback HTTP and a time limit for the whole script.
 *
 * Plain ESM JavaScript (the package is `"type": "module"`), run by Node 24 against `dist/`.
 */
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import console from 'node:console';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export { sleep };

/** The repository root (test/bench/../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = path.join(REPO_ROOT, 'dist', 'src');
export const DEFAULT_CONFIG = path.join(REPO_ROOT, 'config', 'performance_monitor_config.yaml');

/** The node_exporter collectors that cover our system catalog. */
export const NODE_EXPORTER_COLLECTORS = [
  '--collector.disable-defaults',
  '--collector.cpu',
  '--collector.cpufreq',
  '--collector.meminfo',
  '--collector.filesystem',
  '--collector.diskstats',
  '--collector.netdev',
];

// ---------------------------------------------------------------- statistics

export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

export function sum(values) {
  let t = 0;
  for (const v of values) t += v;
  return t;
}

/** Formats a number with a fixed number of decimals (NaN → "n/a"). */
export function fmt(v, digits = 2) {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** Prints a Markdown table (so that the output can be pasted into docs/benchmarks.md). */
export function printTable(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(cells[0]));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of cells.slice(1)) console.log(line(r));
}

// ---------------------------------------------------------------- machine

export function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const CLK_TCK = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

/** CPUs of the machine (not of this process's affinity mask, which pinSelf narrows). */
export const ONLINE_CPUS = os.cpus().length;

export function machineInfo() {
  let model = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    // not Linux
  }
  return {
    nproc: ONLINE_CPUS,
    model,
    node: process.version,
    kernel: os.release(),
    clkTck: CLK_TCK,
    taskset: hasCommand('taskset'),
  };
}

export function printMachine(title) {
  const m = machineInfo();
  console.log(`# ${title}`);
  console.log(
    `machine: ${m.nproc} CPUs, ${m.model}; Linux ${m.kernel}; Node ${m.node}; CLK_TCK=${m.clkTck}; taskset ${m.taskset ? 'yes' : 'no'}`,
  );
  return m;
}

/**
 * Pins this process (all its threads, libuv's pool included) to one CPU, so that the servers under
 * test can have the other one. Returns the CPU used, or undefined when pinning is not possible.
 */
export function pinSelf(cpu) {
  if (!hasCommand('taskset') || ONLINE_CPUS < 2) return undefined;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return cpu;
  } catch {
    return undefined;
  }
}

/** Lets this process (all its threads) run on every CPU again. */
export function unpinSelf() {
  if (!hasCommand('taskset')) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', `0-${ONLINE_CPUS - 1}`, String(process.pid)], {
      stdio: 'ignore',
    });
  } catch {
    // stays pinned
  }
}

/** The CPU a server child is pinned to (CPU 1, the other one than this process), or undefined. */
export function serverCpu() {
  return hasCommand('taskset') && ONLINE_CPUS >= 2 ? 1 : undefined;
}

// ---------------------------------------------------------------- /proc

/** utime, stime, cutime, cstime of a process, in clock ticks (fields 14-17 of /proc/PID/stat). */
export function procTicks(pid = 'self') {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const f = (n) => Number(rest[n - 3]);
  return { utime: f(14), stime: f(15), cutime: f(16), cstime: f(17) };
}

/** CPU seconds (user + system) of a process, from /proc (resolution 1/CLK_TCK). */
export function procCpuSeconds(pid) {
  const t = procTicks(pid);
  return (t.utime + t.stime) / CLK_TCK;
}

/**
 * CPU seconds of every thread the process has now, from each thread's schedstat (its run time in nanoseconds),
 * or undefined where the kernel keeps no schedstat. Ticks (procCpuSeconds) sample the same time at 1/CLK_TCK:
 * a process using half a percent of a core gets one tick every two seconds, so over a minute they are exact to
 * about a sixth; schedstat is exact. A thread that has ended no longer counts (a bench reads steady processes).
 */
export function schedCpuSeconds(pid) {
  let names;
  try {
    names = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const t of names) {
    let text;
    try {
      text = fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT' && fs.existsSync(`/proc/${pid}/task/${t}`)) return undefined; // no schedstat
      continue; // the thread ended between the listing and the read
    }
    ns += Number(text.split(' ')[0]);
  }
  return ns / 1e9;
}

/** CPU seconds of the waited-for children of this process (cutime + cstime). */
export function childrenCpuSeconds() {
  const t = procTicks('self');
  return (t.cutime + t.cstime) / CLK_TCK;
}

/** Resident set size in MB (VmRSS of /proc/PID/status). */
export function rssMb(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Memory of a process from /proc/PID/status, in MB: VmRSS (rss), RssAnon (anon: private memory, the heap
 * among it), RssFile (file: mapped files, the `node` executable's pages among them, shared with other
 * processes) and RssShmem (shmem).
 */
export function procMemoryMb(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : NaN;
  };
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

// ---------------------------------------------------------------- cleanup and time limit

const children = new Set();
const tempDirs = new Set();
const cleanups = [];

/** Registers extra cleanup work (servers, timers) run on exit, error or signal. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

function killChild(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
    // A stopped process keeps SIGTERM pending until it runs again.
    process.kill(child.pid, 'SIGCONT');
  } catch {
    // already gone
  }
}

function cleanupSync() {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  for (const child of children) killChild(child, 'SIGKILL');
  children.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;

/**
 * Installs the safety nets once: children are killed and temp dirs removed on exit, on SIGINT/SIGTERM
 * and on an uncaught error; the whole script is stopped after `limitMs`.
 */
export function installSafetyNets(limitMs) {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\nbenchmark interrupted by ${sig}; cleaning up`);
      cleanupSync();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error('benchmark failed:', err);
    cleanupSync();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error('benchmark failed:', err);
    cleanupSync();
    process.exit(1);
  });
  const watchdog = setTimeout(() => {
    console.error(`benchmark exceeded its time limit of ${limitMs / 1000} s; stopping`);
    cleanupSync();
    process.exit(1);
  }, limitMs);
  watchdog.unref();
}

export function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/**
 * Spawns a long-lived child, pinned to `cpu` with taskset when given (taskset execs the command, so the
 * pid is the command's), in `cwd` when given. Its stderr is kept (last 8 KB) for error messages.
 */
export function spawnChild(
  cmd,
  args,
  { cpu, cwd, env, name = cmd, stdout = 'ignore', stdin = 'ignore' } = {},
) {
  const argv = cpu === undefined ? [cmd, ...args] : ['taskset', '-c', String(cpu), cmd, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    env: env ?? process.env,
    stdio: [stdin, stdout, 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8192);
  });
  // stdout lines, read one by one with nextLine().
  const lines = [];
  const waiters = [];
  if (stdout === 'pipe') {
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      partial += d;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        lines.push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
      while (lines.length > 0 && waiters.length > 0) waiters.shift().resolve(lines.shift());
    });
  }
  children.add(child);
  child.once('exit', () => {
    children.delete(child);
    for (const w of waiters.splice(0)) w.reject(new Error(`${name} exited early:\n${stderr}`));
  });
  return {
    child,
    name,
    /** Writes one line to the child's stdin (spawned with `stdin: 'pipe'`). */
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    /** The next line of stdout (spawned with `stdout: 'pipe'`). */
    nextLine(timeoutMs = 60_000) {
      if (lines.length > 0) return Promise.resolve(lines.shift());
      if (child.exitCode !== null || child.signalCode !== null)
        return Promise.reject(new Error(`${name} exited early:\n${stderr}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} wrote nothing within ${timeoutMs} ms:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
    },
    get pid() {
      return child.pid;
    },
    get stderr() {
      return stderr;
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    /** Pauses / resumes the process (between measurement rounds). */
    pause: () => process.kill(child.pid, 'SIGSTOP'),
    resume: () => process.kill(child.pid, 'SIGCONT'),
    async stop(timeoutMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      killChild(child, 'SIGTERM');
      const timer = setTimeout(() => killChild(child, 'SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------- network

/** A free TCP port on 127.0.0.1 (bound with port 0, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One GET over loopback. Resolves with status, body (decompressed when gzip was asked for and given),
 * raw byte count and the client-side latency in ms (request start to last byte).
 */
export function httpGet(port, urlPath, { agent, gzip = false, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        agent,
        headers: gzip ? { 'Accept-Encoding': 'gzip' } : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - started;
          const raw = Buffer.concat(chunks);
          const body = res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
          resolve({ status: res.statusCode, body, rawBytes: raw.length, ms });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET 127.0.0.1:${port}${urlPath} timed out`)));
    req.on('error', reject);
  });
}

/** Polls until GET `urlPath` answers 200, or throws after `timeoutMs` (with the child's stderr). */
export async function waitForHttp(port, urlPath, { timeoutMs = 15_000, proc } = {}) {
  const deadline = performance.now() + timeoutMs;
  let lastError;
  while (performance.now() < deadline) {
    if (proc?.exited) throw new Error(`${proc.name} exited early:\n${proc.stderr}`);
    try {
      const r = await httpGet(port, urlPath, { timeoutMs: 2000 });
      if (r.status === 200) return r;
      lastError = new Error(`status ${r.status}`);
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(
    `127.0.0.1:${port}${urlPath} not ready after ${timeoutMs} ms (${lastError?.message ?? 'no answer'})${
      proc ? `\n${proc.name} stderr:\n${proc.stderr}` : ''
    }`,
  );
}

/** Number of samples (non-comment, non-empty lines) in a Prometheus text body. */
export function countSamples(text) {
  let n = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) n++;
  return n;
}

/** The value of the first sample of `metric` in a Prometheus text body. */
export function sampleValue(text, metric) {
  const re = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : NaN;
}

// ---------------------------------------------------------------- the servers under test

/** Starts prometheus-node-exporter on a free loopback port with the collectors of our catalog. */
export async function startNodeExporter({ cpu } = {}) {
  if (!hasCommand('prometheus-node-exporter'))
    throw new Error('prometheus-node-exporter is not installed (Debian package prometheus-node-exporter)');
  const port = await freePort();
  const proc = spawnChild(
    'prometheus-node-exporter',
    [`--web.listen-address=127.0.0.1:${port}`, ...NODE_EXPORTER_COLLECTORS],
    { cpu, name: 'node_exporter' },
  );
  await waitForHttp(port, '/metrics', { proc });
  return { proc, port, url: `http://127.0.0.1:${port}` };
}

/**
 * Writes a copy of the default configuration with a fixed collection interval and port, and starts
 * `node dist/src/cli/main.js run -c FILE` on it.
 */
export async function startAgentProcess({
  intervalText,
  cpu,
  dir,
  nodeFlags = [],
  name = 'perf-monitor agent',
  extraEnv = {},
  configText = (text) => text,
}) {
  const port = await freePort();
  const text = fs
    .readFileSync(DEFAULT_CONFIG, 'utf8')
    .replace('${PERF_MONITOR_INTERVAL:-15s}', intervalText)
    .replace('${PERF_MONITOR_PORT:-9091}', String(port))
    .replace("'${PERF_MONITOR_HOST:-127.0.0.1}'", "'127.0.0.1'");
  if (!text.includes(`collection_interval: ${intervalText}`) || !text.includes(`port: ${port}`))
    throw new Error(`could not set interval/port in a copy of ${DEFAULT_CONFIG}`);
  const file = path.join(dir, `agent-${port}.yaml`);
  fs.writeFileSync(file, configText(text));
  const env = { ...process.env };
  // Keep the agent's behaviour independent of the caller's environment.
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || k.startsWith('PERF_MONITOR_')) delete env[k];
  delete env.NODE_OPTIONS;
  // The agent's state directory (history, alert state, outbox): its own in the run's directory, not the account's.
  env.STATE_DIRECTORY = path.join(dir, `state-${port}`);
  Object.assign(env, extraEnv);
  const proc = spawnChild(
    process.execPath,
    [...nodeFlags, path.join(DIST, 'cli', 'main.js'), 'run', '-c', file],
    {
      cpu,
      env,
      name,
    },
  );
  await waitForHttp(port, '/-/ready', { proc });
  return { proc, port, configFile: file, url: `http://127.0.0.1:${port}` };
}
