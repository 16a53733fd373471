/**
 * Child-process helpers for integration tests that run real servers (Prometheus, the OTel Collector, …).
 *
 * Loopback only: every listener and every target is on 127.0.0.1, on a port picked at runtime by
 * {@link freePort}. Node built-ins only.
 */
import { rm } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** Bytes of combined stdout+stderr kept per server for `output()` and error messages. */
export const OUTPUT_TAIL_BYTES = 64 * 1024;

/** How often a ready probe function is polled. */
export const READY_POLL_INTERVAL_MS = 100;

/** How long `stop()` waits after the first signal before it sends SIGKILL. */
export const STOP_GRACE_MS = 10_000;

const DEFAULT_START_TIMEOUT_MS = 60_000;

export interface StartServerOptions {
  /**
   * When the server counts as ready: a pattern tested against its combined output, or a probe
   * (e.g. an HTTP check) polled every 100 ms until it resolves `true`. A probe that throws counts as `false`.
   */
  ready: RegExp | (() => Promise<boolean>);
  /** Added to (and overriding) `process.env`. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Give up (and kill the process) after this long. Default 60 s. */
  timeoutMs?: number;
}

export interface ServerHandle {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last 64 KiB of combined stdout and stderr. */
  output(): string;
  /** Sends `signal` (default SIGTERM), waits up to 10 s for exit, then SIGKILLs. Safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL, for crash tests. Resolves when the process has exited. */
  kill9(): Promise<void>;
}

/** Keeps the last `limitBytes` bytes written to it. */
export class OutputTail {
  private _chunks: Buffer[] = [];
  private _bytes = 0;

  constructor(private readonly _limitBytes: number = OUTPUT_TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this._chunks.push(chunk);
    this._bytes += chunk.length;
    while (this._chunks.length > 1 && this._bytes - this._chunks[0]!.length >= this._limitBytes) {
      this._bytes -= this._chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = Buffer.concat(this._chunks);
    return all.subarray(Math.max(0, all.length - this._limitBytes)).toString('utf8');
  }
}

/** A readable one-line description of anything thrown (fetch errors keep their cause, e.g. ECONNREFUSED). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return typeof err === 'string' ? err : JSON.stringify(err);
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Spawns `cmd args` and resolves once it is ready. Rejects (after killing it) if it exits first,
 * fails to spawn, or is not ready within `timeoutMs`; the error carries the output tail.
 */
export async function startServer(
  cmd: string,
  args: readonly string[],
  options: StartServerOptions,
): Promise<ServerHandle> {
  const { ready, env = {}, cwd, timeoutMs = DEFAULT_START_TIMEOUT_MS } = options;
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = new OutputTail();
  const commandLine = [cmd, ...args].join(' ');

  // Settles once: on 'exit', or on a spawn 'error' (ENOENT, EACCES) when there will be no 'exit'.
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    });
    child.on('error', (err) => {
      if (child.pid === undefined) {
        spawnError ??= err;
        resolve();
      } else {
        tail.push(Buffer.from(`[startServer] child process error: ${err.message}\n`));
      }
    });
  });

  // A server left running when the test process exits would keep its port: kill it synchronously.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  let stopping: Promise<void> | undefined;
  const isRunning = (): boolean => exitInfo === undefined && spawnError === undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    stopping ??= (async () => {
      if (!isRunning()) return;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
        timer.unref();
      });
      const outcome = await Promise.race([exited.then(() => 'exited' as const), graceOver]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };
  const kill9 = async (): Promise<void> => {
    if (isRunning()) child.kill('SIGKILL');
    await exited;
  };

  const handle: ServerHandle = {
    process: child,
    get pid(): number {
      return child.pid ?? -1;
    },
    output: () => tail.toString(),
    stop,
    kill9,
  };

  const readyOrFailed = new Promise<void>((resolve, reject) => {
    let settled = false;
    let lastProbeError: unknown;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const fail = (why: string): Error => {
      const probeNote =
        lastProbeError === undefined ? '' : `\nlast ready-probe error: ${describeError(lastProbeError)}`;
      return new Error(
        `${why}: ${commandLine}${probeNote}\n--- output (last 64 KiB) ---\n${tail.toString()}`,
      );
    };
    const timer = setTimeout(
      () =>
        settle(
          fail(
            `not ready after ${timeoutMs} ms (${ready instanceof RegExp ? String(ready) : 'ready probe never returned true'})`,
          ),
        ),
      timeoutMs,
    );
    timer.unref();

    void exited.then(() => {
      if (spawnError) settle(fail(`failed to start (${spawnError.message})`));
      else if (exitInfo)
        settle(fail(`exited before ready with ${describeExit(exitInfo.code, exitInfo.signal)}`));
    });

    const onData = (chunk: Buffer): void => {
      tail.push(chunk);
      if (!settled && ready instanceof RegExp && ready.test(tail.toString())) settle();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    if (typeof ready === 'function') {
      void (async () => {
        while (!settled && isRunning()) {
          try {
            if (await ready()) {
              settle();
              return;
            }
          } catch (err) {
            lastProbeError = err;
          }
          await delay(READY_POLL_INTERVAL_MS);
        }
      })();
    }
  });

  try {
    await readyOrFailed;
  } catch (err) {
    await stop();
    throw err;
  }
  return handle;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it; close and reuse). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => {
        if (port === undefined) reject(new Error('freePort: no port assigned'));
        else resolve(port);
      });
    });
  });
}

/** Throws unless `hostname` is a loopback name or address (tests never touch other hosts). */
export function assertLoopback(hostname: string, what = 'host'): void {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)) return;
  throw new Error(`${what} must be a loopback address (127.0.0.1), got "${hostname}"`);
}

/** Whether a TCP connection to host:port is accepted right now. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  assertLoopback(host);
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A ready probe for {@link startServer}: true once `url` answers with `status` (any status if omitted). */
export function httpProbe(url: string, status?: number): () => Promise<boolean> {
  assertLoopback(new URL(url).hostname, 'url');
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return status === undefined || res.status === status;
  };
}

export interface RunResult {
  exitCode: number;
  /** Combined stdout and stderr. */
  output: string;
}

/**
 * Runs a short command to completion (e.g. `promtool check metrics`), optionally feeding `stdin`.
 * Rejects only if it cannot be started or is killed by a signal; a non-zero exit is a result.
 */
export function runCommand(
  cmd: string,
  args: readonly string[],
  options: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const { stdin, timeoutMs = 30_000, env = {} } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    const out = new OutputTail(4 * OUTPUT_TAIL_BYTES);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => out.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === null) {
        reject(new Error(`${cmd} ${args.join(' ')} ended by ${String(signal)}\n${out.toString()}`));
      } else {
        resolve({ exitCode: code, output: out.toString() });
      }
    });
    if (stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE if the command exits without reading: the exit code tells
      child.stdin.end(stdin);
    }
  });
}

/** A stop function for a server that owns a temp dir: stops it, then removes the dir; safe to call twice. */
export function stopAndRemove(server: ServerHandle, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      try {
        await server.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    return stopping;
  };
}
