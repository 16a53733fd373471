/**
 * Keeps unguarded callbacks from coming back: every timer, event listener, diagnostics_channel subscriber,
 * observer, hook and promise left un-awaited in src/ goes through lib/guard.ts (guarded / guardPromise),
 * or is listed below with the reason it cannot throw into the process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** What registers a callback that runs later, outside any caller's try, or drops a promise. */
const REGISTRATIONS: readonly { kind: string; re: RegExp }[] = [
  { kind: 'timer', re: /\b(setTimeout|setInterval|setImmediate)\(/ },
  { kind: 'listener', re: /\.(on|once|addListener|prependListener|prependOnceListener|addEventListener)\(/ },
  { kind: 'handler property', re: /\.on[a-z]+\s*=[^=]/ },
  { kind: 'subscriber', re: /\bsubscribe\(/ },
  { kind: 'observer', re: /\bnew PerformanceObserver\(/ },
  { kind: 'hook', re: /\bregisterHooks\(/ },
  { kind: 'dropped promise', re: /^\s*void\s+[^\s;]/ },
  { kind: 'promise chain', re: /^\s*[\w$.[\]()]+\.(then|catch|finally)\(/ },
];

/** A registration counts as guarded when its statement (this line or the next two) goes through the guard. */
const GUARD = /\bguarded\(|\bguardPromise\(/;

interface Allowed {
  file: string;
  /** Text of the registration line (trimmed), or a prefix of it. */
  line: string;
  reason: string;
}

/** Directories whose code runs only in the perf-monitor command's own process, never inside an application. */
const OWN_PROCESS_ONLY: readonly { dir: string; reason: string }[] = [
  { dir: 'cli/', reason: 'the command-line tool: its own process, where signals and exit are its business' },
  { dir: 'demo/', reason: 'the demo workload of `perf-monitor demo`, never loaded by the preload' },
];

const ALLOWED: readonly Allowed[] = [
  {
    file: 'lib/clock.ts',
    line: 'setTimeout(fn: () => void, delayMs: number): TimerHandle',
    reason: "the Clock's own declaration and implementations, not a call",
  },
  {
    file: 'lib/clock.ts',
    line: '? setTimeout(() => arm(remainingMs - MAX_TIMER_MS), MAX_TIMER_MS)',
    reason: 'the Clock primitive waiting out a long delay in steps: it only re-arms itself',
  },
  {
    file: 'lib/clock.ts',
    line: ': setTimeout(fn, remainingMs);',
    reason: 'the Clock primitive: every caller passes a guarded callback (checked at the call site)',
  },
  {
    file: 'export/basic-auth.ts',
    line: 'outcome.then(forget, forget);',
    reason: 'both outcomes handled; forget only deletes a Map entry',
  },
  {
    file: 'export/basic-auth.ts',
    line: 'inflight.outcome.then(unwatch, unwatch);',
    reason: 'both outcomes handled; unwatch only removes an abort listener',
  },
  {
    file: 'export/basic-auth.ts',
    line: "parentPort.on('message', ({ id, password, hash }) => {",
    reason: 'source text of the password-check worker thread, which catches around its one call',
  },
  {
    file: 'export/basic-auth.ts',
    line: "signal.addEventListener('abort', onAbort, { once: true });",
    reason: 'onAbort is made by guarded() just above',
  },
  {
    file: 'export/basic-auth.ts',
    line: "worker.on('error', fail);",
    reason: 'fail is made by guarded() just above',
  },
  {
    file: 'export/http-server.ts',
    line: "res.once('close', onClose);",
    reason: 'onClose is made by guarded() just above',
  },
  {
    file: 'export/http-server.ts',
    line: 'if (!socket.destroyed && (socket.timeout ?? 0) > 0) socket.setTimeout(KEEP_ALIVE_MS);',
    reason: "a socket's idle timeout, no callback (inside a guarded 'finish' listener)",
  },
  {
    file: 'lib/clock.ts',
    line: 'await new Promise<void>((resolve) => setImmediate(resolve));',
    reason: 'only resolves a promise',
  },
  { file: 'lib/clock.ts', line: 'clock.setTimeout(resolve, ms);', reason: 'only resolves a promise' },
  {
    file: 'lib/lifecycle.ts',
    line: 'timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);',
    reason: 'only rejects the promise withTimeout returns, which its caller awaits',
  },
  {
    file: 'lib/yield.ts',
    line: 'return new Promise((resolve) => setImmediate(resolve));',
    reason: 'only resolves',
  },
  {
    file: 'probes/probe-runner.ts',
    line: "timer = this._clock.setTimeout(() => resolve('timeout'), this._timeoutMs);",
    reason: 'only resolves the time-budget promise',
  },
  {
    file: 'probes/probe-runner.ts',
    line: 'run.then(',
    reason: 'both callbacks only clear a field',
  },
  {
    file: 'probes/system/disk-usage.ts',
    line: 'timer = this._ctx.clock.setTimeout(() => resolve(TIMED_OUT), this._timeoutMs);',
    reason: 'only resolves the time-budget promise',
  },
  {
    file: 'probes/system/disk-usage.ts',
    line: 'call.then(release, release);',
    reason: 'release only updates a map and logs at debug; the logger never throws (its sinks are guarded)',
  },
  {
    file: 'probes/neo4j/client.ts',
    line: 'timer = this._clock.setTimeout(',
    reason: 'only rejects the time-budget promise, which the query awaits',
  },
  {
    file: 'probes/neo4j/collector.ts',
    line: 'this._cycle.finally(() => this._schedule(this._nextDelayMs())),',
    reason: 'an argument of the guardPromise(...) call just above it',
  },
  {
    file: 'telemetry/worker-bridge.ts',
    line: 'setImmediate(this._flush);',
    reason: '_flush is guarded where it is defined',
  },
  {
    file: 'preload-start.ts',
    line: 'requests.start().catch((err: unknown) => report(',
    reason: 'the rejection is handled and report() cannot throw',
  },
  {
    file: 'preload-start.ts',
    line: 'agent.start().catch((err: unknown) => report(',
    reason: 'the rejection is handled and report() cannot throw',
  },
  {
    file: 'preload-start.ts',
    line: 'client.start().catch((err: unknown) => report(',
    reason: 'the rejection is handled and report() cannot throw',
  },
  {
    file: 'probes/runtime/http-client.ts',
    line: 'for (const [channel, fn] of this._subscriptions()) diagnostics.subscribe(',
    reason: 'the six subscribers are guarded where they are defined',
  },
  {
    file: 'probes/runtime/http-requests.ts',
    line: "diagnostics.subscribe('http.server.",
    reason: 'the subscribers _onStart and _onFinish are guarded where they are defined',
  },
  {
    file: 'lib/module-hook.ts',
    line: 'return module.registerHooks({',
    reason:
      "the hook's own part is inside try/catch; what nextLoad throws is the application's own module error and must reach it",
  },
  {
    file: 'probes/runtime/routes/fastify.ts',
    line: 'diagnostics.subscribe(FASTIFY_INIT_CHANNEL, this._onInit);',
    reason: '_onInit is guarded where it is defined, and so is the marking the Fastify hook it adds calls',
  },
  {
    file: 'export/http-server.ts',
    line: "server.once('error', onError);",
    reason: 'settles the listen promise that start() awaits',
  },
  {
    file: 'export/http-server.ts',
    line: "server.once('listening', onListening);",
    reason: 'settles the listen promise that start() awaits',
  },
  {
    file: 'export/http-server.ts',
    line: "server.on('connection', (socket: Socket) => {",
    reason: 'only unrefs the socket',
  },
  {
    file: 'agent/load-isolated.ts',
    line: "worker.once('",
    reason: 'each settles the promise loadConfigIsolated awaits',
  },
  {
    file: 'agent/load-worker.ts',
    line: 'loadConfigFile(file, env).then(',
    reason:
      "runs in the configuration loader's own worker; a failure there ends the worker, which loadConfigIsolated reports",
  },
  {
    file: 'analysis/collection-reader.ts',
    line: 'subscribe(name: string, subscriber: CollectionSubscriber): () => void {',
    reason: 'the definition; subscribers run through deliverBatch, which settles and logs each',
  },
  {
    file: 'agent/pipeline.ts',
    line: 'this.reader.subscribe(',
    reason: 'collection subscribers run through deliverBatch, which settles and logs each',
  },
  {
    file: 'agent/pipeline.ts',
    line: "this._detachOtlp = this.reader.subscribe('otlp'",
    reason: 'collection subscribers run through deliverBatch, which settles and logs each',
  },
];

export interface Finding {
  file: string;
  lineNo: number;
  kind: string;
  text: string;
}

/** Registrations in `source` that neither go through the guard nor are allowed. */
export function unguarded(file: string, source: string, allowed: readonly Allowed[] = []): Finding[] {
  const lines = source.split('\n');
  const out: Finding[] = [];
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (text.startsWith('//') || text.startsWith('*') || text.startsWith('/*')) return;
    const hit = REGISTRATIONS.find((r) => r.re.test(raw));
    if (hit === undefined) return;
    if (GUARD.test(lines.slice(i, i + 3).join('\n'))) return;
    if (allowed.some((a) => a.file === file && text.startsWith(a.line))) return;
    out.push({ file, lineNo: i + 1, kind: hit.kind, text });
  });
  return out;
}

function sourceFiles(): string[] {
  return (fs.readdirSync(SRC, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

describe('guarded callbacks in src/', () => {
  const files = sourceFiles().filter((f) => !OWN_PROCESS_ONLY.some((d) => f.startsWith(d.dir)));

  it('should route every timer, listener, subscriber and dropped promise through lib/guard.ts', () => {
    const findings = files.flatMap((f) => unguarded(f, fs.readFileSync(path.join(SRC, f), 'utf8'), ALLOWED));
    expect(findings.map((f) => `src/${f.file}:${f.lineNo} (${f.kind}) ${f.text}`)).toEqual([]);
  });

  it('should have no stale allow-list entry', () => {
    const stale = ALLOWED.filter(
      (a) =>
        !fs
          .readFileSync(path.join(SRC, a.file), 'utf8')
          .split('\n')
          .some((l) => l.trim().startsWith(a.line)),
    );
    expect(stale).toEqual([]);
  });

  it('should find the guarded registrations too (the scan sees what it should)', () => {
    const guardedLines = files.flatMap((f) =>
      fs
        .readFileSync(path.join(SRC, f), 'utf8')
        .split('\n')
        .filter((l) => GUARD.test(l) && !l.includes('import ')),
    );
    expect(guardedLines.length).toBeGreaterThanOrEqual(20);
  });
});

describe('the scan', () => {
  it('should report unguarded registrations of every kind', () => {
    const source = [
      'setTimeout(() => work(), 10);',
      'clock.setTimeout(() => work(), 10);',
      "server.on('error', (e) => log(e));",
      'channel.onmessage = (e) => handle(e);',
      "diagnostics.subscribe('x', onMessage);",
      'const o = new PerformanceObserver((l) => use(l));',
      'module.registerHooks({ load });',
      'void this.runCycle();',
      'promise.then(() => next());',
      '// setTimeout(() => work(), 10); in a comment',
      '  function f(): void {',
    ].join('\n');
    expect(unguarded('x.ts', source).map((f) => f.kind)).toEqual([
      'timer',
      'timer',
      'listener',
      'handler property',
      'subscriber',
      'observer',
      'hook',
      'dropped promise',
      'promise chain',
    ]);
  });

  it('should accept a registration whose statement goes through the guard, or an allowed one', () => {
    const source = [
      'clock.setTimeout(',
      "  guarded(logger, 'tick', () => work()),",
      '  10,',
      ');',
      "void guardPromise(logger, 'cycle', this.runCycle());",
      'setImmediate(resolve);',
    ].join('\n');
    expect(
      unguarded('x.ts', source, [{ file: 'x.ts', line: 'setImmediate(resolve);', reason: 'resolves' }]),
    ).toEqual([]);
  });
});
