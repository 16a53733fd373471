/**
 * Tools of the hostile HTTP suites: `hostile-http.test.ts` (the `perf-monitor` executable) and
 * `hostile-http-preload.test.ts` (the agent preloaded into a small application). Both run the same battery
 * of malformed, oversized, out-of-range and adversarial requests ({@link hostileBattery}) against a real
 * agent on loopback, while {@link LatencyMonitor}s keep requesting the endpoints that must stay served.
 *
 * - {@link request}: one request over a fresh connection (any method, any Host header, any raw path);
 * - {@link rawExchange}: bytes over a plain socket, for what an HTTP client refuses to send (broken framing,
 *   partial requests, pipelining, HTTP/1.0, CONNECT); the answers are parsed back by {@link parseResponses};
 * - {@link hostileAgentYaml}: the agent's configuration, with a rule that fires at once (so silences are
 *   matched against a firing alert's labels), notifications (so the silences API is served) and trends.
 *
 * Every loop is bounded in count and time; every socket has a timeout.
 */
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { expect, it } from 'vitest';
import { waitFor } from './agent-harness.js';

/** The alert rule's name: a long label value (`alertname`) for silence matchers to run against. */
export const RULE_NAME = `hostile_${'x'.repeat(56)}`;

/** `request_timeout` of the agents under test: partial requests are cut after this long. */
export const REQUEST_TIMEOUT_MS = 2_000;

/** The agents collect (and evaluate their rules) this often. */
export const INTERVAL_MS = 500;

/** Bounds of the silences API (the contract the suites check). */
export const LIMITS = {
  bodyBytes: 64 * 1024,
  openSilences: 500,
  matchers: 16,
  labelName: 128,
  matcherValue: 1024,
  createdBy: 256,
  comment: 4096,
  horizonMs: 10 * 365.25 * 86_400_000,
};

export interface HostileConfigOptions {
  port: number;
  stateDir: string;
  collectors: readonly string[];
  /** A metric of those collectors that is always above 0: the rule fires on the first evaluation. */
  ruleMetric: string;
  /** user → bcrypt hash. */
  basicAuthUsers?: Readonly<Record<string, string>>;
}

/** The agent's YAML: alerting with notifications (log channel) and trends, state files under `stateDir`. */
export function hostileAgentYaml(o: HostileConfigOptions): string {
  const file = (name: string): string => JSON.stringify(path.join(o.stateDir, name));
  const users =
    o.basicAuthUsers === undefined
      ? ''
      : `    basic_auth_users:\n${Object.entries(o.basicAuthUsers)
          .map(([user, hash]) => `      ${user}: ${JSON.stringify(hash.replaceAll('$', '$$$$'))}`)
          .join('\n')}\n`;
  return `performance_monitor:
  collection_interval: ${INTERVAL_MS}ms
  enabled_collectors: [${o.collectors.join(', ')}]
  prometheus:
    host: 127.0.0.1
    port: ${o.port}
    request_timeout: ${REQUEST_TIMEOUT_MS}ms
${users}  alerting:
    state_file: ${file('alert_state.json')}
    notifications:
      group_wait: 0s
      group_interval: 1s
      store_path: ${file('notifications.db')}
      channels:
        - type: log
    rules:
      - name: ${RULE_NAME}
        metric: ${o.ruleMetric}
        condition: '>'
        threshold: 0
        severity: warning
trend_analysis:
  enabled: true
  storage:
    path: ${file('history')}
logging:
  level: warning
`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** One request over a new connection to 127.0.0.1:port; rejects on a connection error or after the timeout. */
export function request(port: number, rawPath: string, o: RequestOptions = {}): Promise<Answer> {
  const { method = 'GET', headers = {}, body, timeoutMs = 5_000 } = o;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: rawPath, method, headers, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${rawPath.slice(0, 80)}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A JSON POST to the silences API. */
export function postSilence(
  port: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return request(port, '/api/v1/silences', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The complete HTTP/1.x responses at the start of `data` (Content-Length, chunked, or until the end). */
export function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < data.length && out.length < 100) {
    const headEnd = data.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const lines = data.subarray(pos, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (m === null) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(m[1]);
    let p = headEnd + 4;
    let body: Buffer;
    if (status < 200 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', p);
        if (lineEnd < 0) return out;
        const size = parseInt(data.subarray(p, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size) || lineEnd + 2 + size + 2 > data.length) return out;
        p = lineEnd + 2 + size + 2;
        if (size === 0) break;
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const size = Number(headers['content-length']);
      if (p + size > data.length) break;
      body = data.subarray(p, p + size);
      p += size;
    } else {
      body = data.subarray(p);
      p = data.length;
    }
    out.push({ status, headers, body: body.toString('utf8') });
    pos = p;
  }
  return out;
}

export interface RawExchange {
  responses: RawResponse[];
  /** The server closed (or reset) the connection before the timeout. */
  closedByServer: boolean;
}

/**
 * Opens a socket to 127.0.0.1:port, writes `parts` one after the other (`gapMs` apart), and collects what
 * comes back until the server closes the connection or `timeoutMs` passes (then the client closes it).
 * Write errors (the server hung up) are expected and ignored: what arrived before counts.
 */
export function rawExchange(
  port: number,
  parts: readonly (string | Buffer)[],
  o: { gapMs?: number; timeoutMs?: number } = {},
): Promise<RawExchange> {
  const { gapMs = 0, timeoutMs = 5_000 } = o;
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses: parseResponses(Buffer.concat(chunks)), closedByServer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined); // ECONNRESET / EPIPE: 'close' follows
    socket.once('connect', () => {
      void (async () => {
        for (const part of parts) {
          if (done || socket.destroyed) return;
          socket.write(part);
          if (gapMs > 0) await delay(gapMs);
        }
      })();
    });
  });
}

/** Runs `fn` over `items` with at most `concurrency` at a time; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export interface Sample {
  /** performance.now() when the request was sent. */
  atMs: number;
  ms: number;
  /** HTTP status; 0 when no answer came (refused, reset, timed out). */
  status: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** How many samples a monitor keeps (about 10 minutes of them). */
const MAX_SAMPLES = 10_000;
/** One monitoring request gives up after this long (a frozen event loop shows as a failed sample). */
const SAMPLE_TIMEOUT_MS = 3_000;
/** Pause between two monitoring requests. */
const SAMPLE_GAP_MS = 40;

/**
 * Keeps requesting one endpoint, one request at a time over a new connection, and records every latency and
 * status: the baseline before the attacks, then the samples taken during each attack and just after it.
 */
export class LatencyMonitor {
  readonly samples: Sample[] = [];
  /** Median latency of the samples taken before any attack. */
  baselineMs = NaN;
  private _running = false;
  private _loop: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly _port: number,
    private readonly _path: string,
    private readonly _headers: Record<string, string> = {},
  ) {}

  start(): void {
    if (this._running) return;
    this._running = true;
    this._loop = (async () => {
      while (this._running) {
        const atMs = performance.now();
        const status = await request(this._port, this._path, {
          headers: this._headers,
          timeoutMs: SAMPLE_TIMEOUT_MS,
        }).then(
          (a) => a.status,
          () => 0,
        );
        this.samples.push({ atMs, ms: performance.now() - atMs, status });
        if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
        await delay(SAMPLE_GAP_MS);
      }
    })();
  }

  async stop(): Promise<void> {
    this._running = false;
    await this._loop;
  }

  /** Waits for `count` samples sent from now on (bounded), then takes their median as the baseline. */
  async measureBaseline(count = 20): Promise<number> {
    const from = performance.now();
    await this.waitForSamples(from, count, 0);
    this.baselineMs = median(this.since(from).map((s) => s.ms));
    return this.baselineMs;
  }

  since(fromMs: number): Sample[] {
    return this.samples.filter((s) => s.atMs >= fromMs);
  }

  /** Waits until `count` samples were sent after `fromMs` and `minWaitMs` has passed, at most 15 s. */
  async waitForSamples(fromMs: number, count: number, minWaitMs: number): Promise<void> {
    const deadline = performance.now() + 15_000;
    const earliest = performance.now() + minWaitMs;
    while (performance.now() < deadline) {
      const done = this.samples.filter((s) => s.atMs >= fromMs).length;
      if (done >= count && performance.now() >= earliest) return;
      await delay(20);
    }
  }
}

/**
 * The latency a monitored endpoint may show while it is attacked: 10× its baseline median of the same run, at
 * least 200 ms. Loose on purpose, and relative to the same run, because the machine is shared and noisy: what
 * this catches is a starved or frozen event loop (seconds, or no answer), not a slowdown of a few milliseconds.
 */
export function latencyLimitMs(baselineMs: number): number {
  return Math.max(10 * baselineMs, 200);
}

/**
 * Checks that every monitor kept answering 200 within its latency limit since `fromMs`: waits for at least
 * two more samples after the attack ended, and `settleMs` (for effects that show at the next collection).
 */
export async function expectServedSince(
  monitors: readonly LatencyMonitor[],
  fromMs: number,
  settleMs = 0,
): Promise<void> {
  const attackEnd = performance.now();
  await Promise.all(monitors.map((m) => m.waitForSamples(attackEnd, 2, settleMs)));
  for (const m of monitors) {
    const window = m.since(fromMs);
    expect(m.since(attackEnd).length, `${m.name}: samples after the attack`).toBeGreaterThanOrEqual(2);
    expect(
      window.filter((s) => s.status !== 200).map((s) => `${s.status} after ${Math.round(s.ms)} ms`),
      `${m.name}: answers other than 200 during the attack`,
    ).toEqual([]);
    const limit = latencyLimitMs(m.baselineMs);
    expect(
      median(window.map((s) => s.ms)),
      `${m.name}: median latency during the attack (baseline ${m.baselineMs.toFixed(1)} ms, limit ${limit.toFixed(0)} ms)`,
    ).toBeLessThan(limit);
  }
}

/** A 4xx answer of a JSON route: the status, a JSON `{ "error": "..." }` body, optionally naming `field`. */
export function expectJsonError(
  a: { status: number; headers: Record<string, string | string[] | undefined>; body: string },
  status: number,
  field?: string,
): void {
  expect(a.status, a.body.slice(0, 300)).toBe(status);
  expect(String(a.headers['content-type'])).toMatch(/^application\/json/);
  const body = JSON.parse(a.body) as { error?: unknown };
  expect(typeof body.error).toBe('string');
  expect((body.error as string).length).toBeGreaterThan(0);
  if (field !== undefined) expect(body.error as string).toContain(field);
}

export interface SilenceJson {
  id: string;
  matchers: { name: string; type: string; value: string }[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: string };
}

export async function listSilences(
  port: number,
  headers: Record<string, string> = {},
): Promise<SilenceJson[]> {
  const a = await request(port, '/api/v1/silences', { headers });
  expect(a.status, `GET /api/v1/silences: ${a.body.slice(0, 300)}`).toBe(200);
  return (JSON.parse(a.body) as { silences: SilenceJson[] }).silences;
}

export async function silenceIds(port: number): Promise<string[]> {
  return (await listSilences(port)).map((s) => s.id).sort();
}

/** The problems of a listed silence against the contracted bounds (none for a valid one). */
export function silenceProblems(s: SilenceJson, nowMs: number): string[] {
  const problems: string[] = [];
  const starts = Date.parse(s.startsAt);
  const ends = Date.parse(s.endsAt);
  if (!Number.isFinite(starts)) problems.push(`startsAt ${s.startsAt}`);
  if (!Number.isFinite(ends) || ends > nowMs + LIMITS.horizonMs) problems.push(`endsAt ${s.endsAt}`);
  if (!(ends > starts)) problems.push('endsAt not after startsAt');
  if (s.matchers.length === 0 || s.matchers.length > LIMITS.matchers)
    problems.push(`${s.matchers.length} matchers`);
  for (const m of s.matchers) {
    if (m.name.length > LIMITS.labelName) problems.push(`label name of ${m.name.length} chars`);
    if (m.value.length > LIMITS.matcherValue) problems.push(`matcher value of ${m.value.length} chars`);
  }
  if (s.createdBy.length > LIMITS.createdBy) problems.push(`createdBy of ${s.createdBy.length} chars`);
  if (s.comment.length > LIMITS.comment) problems.push(`comment of ${s.comment.length} chars`);
  return problems.map((p) => `${s.id}: ${p}`);
}

export interface HostileTarget {
  /** The agent's port on 127.0.0.1. */
  port: number;
  /** The endpoints that must keep answering (the agent's /metrics; in an application also its own). */
  monitors: readonly LatencyMonitor[];
  /** A metric this agent collects (its history answers trend queries). */
  collectedMetric: string;
}

interface PostCase {
  what: string;
  body: (nowMs: number) => unknown;
  status?: number;
  /** The field the error must name. */
  field?: string;
}

const valid = { matchers: 'severity="none"', endsAt: '2h', createdBy: 'hostile-suite', comment: 'valid' };
const iso = (ms: number): string => new Date(ms).toISOString();

/** POST bodies that are JSON but not a valid silence: 400, naming the field. */
const INVALID_SILENCES: readonly PostCase[] = [
  { what: 'a JSON array', body: () => [valid] },
  { what: 'a JSON number', body: () => 42 },
  { what: 'JSON null', body: () => null },
  { what: 'a JSON string', body: () => 'severity="none"' },
  { what: 'no matchers', body: () => ({ ...valid, matchers: undefined }), field: 'matchers' },
  { what: 'matchers as an object', body: () => ({ ...valid, matchers: {} }), field: 'matchers' },
  { what: 'matchers as a number', body: () => ({ ...valid, matchers: 7 }), field: 'matchers' },
  { what: 'an empty matcher list', body: () => ({ ...valid, matchers: [] }), field: 'matchers' },
  {
    what: '17 matchers',
    body: () => ({ ...valid, matchers: Array.from({ length: 17 }, (_, i) => `l${i}="v"`) }),
    field: 'matcher',
  },
  {
    what: 'a label name of 129 characters',
    body: () => ({ ...valid, matchers: [{ name: `l${'n'.repeat(128)}`, type: '=', value: 'v' }] }),
    field: 'matcher',
  },
  {
    what: 'a matcher value of 1025 characters',
    body: () => ({ ...valid, matchers: [{ name: 'job', type: '=', value: 'v'.repeat(1025) }] }),
    field: 'matcher',
  },
  {
    what: 'a regex of 2000 characters',
    body: () => ({ ...valid, matchers: [{ name: 'job', type: '=~', value: 'a|'.repeat(1000) }] }),
    field: 'matcher',
  },
  {
    what: 'a regex with a backreference (RE2 has none)',
    body: () => ({ ...valid, matchers: 'job=~"(a)\\\\1"' }),
    field: 'matcher',
  },
  {
    what: 'a regex with a lookahead (RE2 has none)',
    body: () => ({ ...valid, matchers: [{ name: 'job', type: '!~', value: '(?=a)a' }] }),
    field: 'matcher',
  },
  {
    what: 'a matcher of an unknown type',
    body: () => ({ ...valid, matchers: [{ name: 'job', type: '~~', value: 'a' }] }),
    field: 'matcher',
  },
  {
    what: 'createdBy of 300 characters',
    body: () => ({ ...valid, createdBy: 'c'.repeat(300) }),
    field: 'createdBy',
  },
  { what: 'createdBy as an object', body: () => ({ ...valid, createdBy: {} }), field: 'createdBy' },
  {
    what: 'a comment of 4097 characters',
    body: () => ({ ...valid, comment: 'c'.repeat(4097) }),
    field: 'comment',
  },
  { what: 'no endsAt', body: () => ({ ...valid, endsAt: undefined }), field: 'endsAt' },
  { what: 'endsAt "300000y"', body: () => ({ ...valid, endsAt: '300000y' }), field: 'endsAt' },
  {
    what: 'endsAt at the end of the Date range (+275760-09-13)',
    body: () => ({ ...valid, endsAt: '+275760-09-13T00:00:00.000Z' }),
    field: 'endsAt',
  },
  {
    what: 'endsAt past year 275760',
    body: () => ({ ...valid, endsAt: '+275761-01-01T00:00:00.000Z' }),
    field: 'endsAt',
  },
  {
    what: 'endsAt "11y" (past the 10-year horizon)',
    body: () => ({ ...valid, endsAt: '11y' }),
    field: 'endsAt',
  },
  { what: 'endsAt 1e308', body: () => ({ ...valid, endsAt: 1e308 }), field: 'endsAt' },
  {
    what: 'endsAt in the past',
    body: (now) => ({ ...valid, endsAt: iso(now - 3_600_000) }),
    field: 'endsAt',
  },
  { what: 'endsAt "0s"', body: () => ({ ...valid, endsAt: '0s' }), field: 'endsAt' },
  { what: 'endsAt "-1h"', body: () => ({ ...valid, endsAt: '-1h' }), field: 'endsAt' },
  { what: 'endsAt as a list', body: () => ({ ...valid, endsAt: ['2h'] }), field: 'endsAt' },
  {
    what: 'startsAt "300000y" and endsAt "300001y"',
    body: () => ({ ...valid, startsAt: '300000y', endsAt: '300001y' }),
    field: 'At',
  },
  { what: 'startsAt after endsAt', body: () => ({ ...valid, startsAt: '3h', endsAt: '2h' }), field: 'At' },
  {
    what: 'startsAt after endsAt (timestamps)',
    body: (now) => ({ ...valid, startsAt: iso(now + 7_200_000), endsAt: iso(now + 3_600_000) }),
    field: 'At',
  },
  {
    what: '__proto__ carrying the fields',
    body: () => JSON.parse(`{"__proto__": ${JSON.stringify(valid)}}`) as unknown,
    field: 'matcher',
  },
];

/** Not `valid`: the values just inside every bound must be accepted. */
function atTheBounds(): unknown {
  return {
    matchers: [
      { name: `l${'n'.repeat(LIMITS.labelName - 1)}`, type: '=~', value: 'v'.repeat(LIMITS.matcherValue) },
      ...Array.from({ length: LIMITS.matchers - 1 }, (_, i) => ({ name: `l${i}`, type: '!=', value: 'x' })),
    ],
    endsAt: '9y',
    createdBy: 'c'.repeat(LIMITS.createdBy),
    comment: 'c'.repeat(LIMITS.comment),
  };
}

function head(method: string, p: string, port: number, extra: string[] = []): string {
  return [`${method} ${p} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...extra, '', ''].join('\r\n');
}

/**
 * Registers the battery of attacks as tests (call inside a describe whose hooks start the target and keep it
 * healthy between tests). Each test checks the contracted answer, that nothing invalid was stored (the list
 * of silences is unchanged), and that every monitored endpoint kept answering within its latency limit.
 */
export function hostileBattery(target: () => HostileTarget): void {
  const t = (): HostileTarget => target();

  /** Runs an attack and checks that the monitored endpoints were served throughout. */
  async function underAttack<T>(fn: () => Promise<T>, settleMs?: number): Promise<T> {
    const from = performance.now();
    const result = await fn();
    await expectServedSince(t().monitors, from, settleMs);
    return result;
  }

  it('should accept a valid silence and list it', async () => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() => postSilence(t().port, valid));
    expect(a.status, a.body).toBe(200);
    const id = (JSON.parse(a.body) as { silenceID: string }).silenceID;
    expect(await silenceIds(t().port)).toEqual([...before, id].sort());
  });

  it('should accept a silence with every field just inside its bound', async () => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() => postSilence(t().port, atTheBounds()));
    expect(a.status, a.body.slice(0, 300)).toBe(200);
    const id = (JSON.parse(a.body) as { silenceID: string }).silenceID;
    expect(await silenceIds(t().port)).toEqual([...before, id].sort());
  });

  it.each(INVALID_SILENCES)('should answer 400 to a silence with $what and store nothing', async (c) => {
    const before = await silenceIds(t().port);
    // Settle past the next collection and notification round: a stored bad time broke those.
    const a = await underAttack(() => postSilence(t().port, c.body(Date.now())), INTERVAL_MS + 100);
    expectJsonError(a, c.status ?? 400, c.field);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should answer 400 to a body that is not JSON', async () => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() =>
      request(t().port, '/api/v1/silences', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"matchers": "a=1", "endsAt": ',
      }),
    );
    expectJsonError(a, 400);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should answer 400 to JSON nested 30000 levels deep', async () => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() =>
      request(t().port, '/api/v1/silences', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
      }),
    );
    expectJsonError(a, 400);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it.each([
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['form data', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['no content type', {}],
  ] as const)('should answer 415 to a silence sent as %s', async (_what, headers) => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() =>
      request(t().port, '/api/v1/silences', { method: 'POST', headers, body: JSON.stringify(valid) }),
    );
    expectJsonError(a, 415);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should answer 413 to a 70 KiB body (Content-Length)', async () => {
    const before = await silenceIds(t().port);
    const body = JSON.stringify({ ...valid, comment: 'c'.repeat(70 * 1024) });
    const x = await underAttack(() =>
      rawExchange(t().port, [
        head('POST', '/api/v1/silences', t().port, [
          'Content-Type: application/json',
          `Content-Length: ${Buffer.byteLength(body)}`,
          'Connection: close',
        ]),
        body,
      ]),
    );
    expect(x.responses[0]?.status).toBe(413);
    expectJsonError(x.responses[0]!, 413);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should answer 413 to a 70 KiB body sent in chunks', async () => {
    const before = await silenceIds(t().port);
    const chunk = 'c'.repeat(7 * 1024);
    const parts = [
      head('POST', '/api/v1/silences', t().port, [
        'Content-Type: application/json',
        'Transfer-Encoding: chunked',
        'Connection: close',
      ]),
      ...Array.from({ length: 10 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`),
      '0\r\n\r\n',
    ];
    const x = await underAttack(() => rawExchange(t().port, parts, { gapMs: 10 }));
    expect(x.responses[0]?.status).toBe(413);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should answer 413 at once to a declared body of 1 GB, without waiting for it', async () => {
    const before = await silenceIds(t().port);
    const x = await underAttack(() =>
      rawExchange(
        t().port,
        [
          head('POST', '/api/v1/silences', t().port, [
            'Content-Type: application/json',
            'Content-Length: 1000000000',
          ]),
          '{"matchers": "a=1", "comment": "',
        ],
        { timeoutMs: REQUEST_TIMEOUT_MS * 3 },
      ),
    );
    expect(x.responses[0]?.status).toBe(413);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should stay served under 40 concurrent 60 KiB invalid bodies', async () => {
    const before = await silenceIds(t().port);
    const body = JSON.stringify({ ...valid, comment: 'c'.repeat(60 * 1024) });
    const answers = await underAttack(() =>
      mapLimit(Array.from({ length: 40 }), 40, () =>
        request(t().port, '/api/v1/silences', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          timeoutMs: 20_000,
        }),
      ),
    );
    expect([...new Set(answers.map((a) => a.status))]).toEqual([400]);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should cut a POST whose body never completes after the request timeout', async () => {
    const before = await silenceIds(t().port);
    const x = await underAttack(() =>
      rawExchange(
        t().port,
        [
          head('POST', '/api/v1/silences', t().port, [
            'Content-Type: application/json',
            'Content-Length: 1000',
          ]),
          '{"matchers"',
        ],
        { timeoutMs: REQUEST_TIMEOUT_MS + 8_000 },
      ),
    );
    expect(x.closedByServer).toBe(true);
    expect(x.responses.filter((r) => r.status < 400)).toEqual([]);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should keep serving while a catastrophic regex silence meets a firing alert with a long label value', async () => {
    const alerts = async (): Promise<string[]> =>
      (
        JSON.parse((await request(t().port, '/api/v1/alerts')).body) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        }
      ).data.alerts
        .filter((x) => x.state === 'firing')
        .map((x) => x.labels.alertname ?? '');
    // Right after a start the first evaluation may still be on its way.
    await waitFor(
      'the rule to fire',
      async () => ((await alerts()).includes(RULE_NAME) ? true : undefined),
      10_000,
    );
    const before = await silenceIds(t().port);
    // Backtracking engines take 3^64 steps for this pattern against the 64-character alertname; RE2 takes 64.
    const a = await underAttack(
      () => postSilence(t().port, { ...valid, matchers: 'alertname=~"(\\\\w|\\\\w|\\\\w)*!"' }),
      INTERVAL_MS * 4,
    );
    expect(a.status, a.body).toBe(200);
    const silence = (JSON.parse(a.body) as { silence: SilenceJson }).silence;
    expect(silence.matchers).toEqual([{ name: 'alertname', type: '=~', value: '(\\w|\\w|\\w)*!' }]);
    expect(await silenceIds(t().port)).toEqual([...before, silence.id].sort());
    // The pattern does not match (no "!"), so the alert is not silenced and still fires.
    expect(await alerts()).toContain(RULE_NAME);
  });

  it('should keep serving while a regex silence that matches the alert is evaluated', async () => {
    const before = await silenceIds(t().port);
    const a = await underAttack(
      () =>
        postSilence(t().port, {
          ...valid,
          matchers: [{ name: 'alertname', type: '=~', value: '(hostile_x*)+' }],
        }),
      INTERVAL_MS * 4,
    );
    expect(a.status, a.body).toBe(200);
    expect((await silenceIds(t().port)).length).toBe(before.length + 1);
  });

  it.each([
    ['GET', '/api/v1/silences/%E0%A4%A'],
    ['DELETE', '/api/v1/silences/%E0%A4%A'],
    ['GET', '/api/v1/silences/%zz'],
    ['DELETE', '/api/v1/silences/%'],
  ])('should answer 400 to %s %s (malformed percent-encoding)', async (method, p) => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() => request(t().port, p, { method }));
    expectJsonError(a, 400);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it.each([
    ['an unknown id', '/api/v1/silences/0b7f1e0c-0000-4000-8000-000000000000'],
    ['an id of 10 KB', `/api/v1/silences/${'i'.repeat(10_000)}`],
    ['a path behind an id', '/api/v1/silences/abc/def'],
    ['a dot-dot path', '/api/v1/silences/../../metrics'],
    ['an empty id', '/api/v1/silences/'],
  ])('should answer 404 with a JSON error to GET and DELETE of %s', async (_what, p) => {
    const before = await silenceIds(t().port);
    for (const method of ['GET', 'DELETE']) {
      const a = await underAttack(() => request(t().port, p, { method }));
      expectJsonError(a, 404);
    }
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should expire a silence once and answer 409 the second time', async () => {
    const a = await postSilence(t().port, valid);
    expect(a.status, a.body).toBe(200);
    const id = (JSON.parse(a.body) as { silenceID: string }).silenceID;
    const first = await request(t().port, `/api/v1/silences/${id}`, { method: 'DELETE' });
    expect(first.status, first.body).toBe(200);
    const second = await underAttack(() => request(t().port, `/api/v1/silences/${id}`, { method: 'DELETE' }));
    expectJsonError(second, 409);
    const listed = (await listSilences(t().port)).find((s) => s.id === id);
    expect(listed?.status.state).toBe('expired');
  });

  it.each([
    ['127.0.0.1', (port: number) => `127.0.0.1:${port}`],
    ['localhost', (port: number) => `localhost:${port}`],
    ['[::1]', (port: number) => `[::1]:${port}`],
  ])('should accept POST and DELETE with the Host header %s:<port>', async (_what, host) => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() => postSilence(t().port, valid, { Host: host(t().port) }));
    expect(a.status, a.body).toBe(200);
    const id = (JSON.parse(a.body) as { silenceID: string }).silenceID;
    expect(await silenceIds(t().port)).toEqual([...before, id].sort());
    const d = await request(t().port, `/api/v1/silences/${id}`, {
      method: 'DELETE',
      headers: { Host: host(t().port) },
    });
    expect(d.status, d.body).toBe(200);
  });

  it.each([
    ['TRACE', '/metrics', false],
    ['PROPFIND', '/metrics', false],
    ['POST', '/metrics', false],
    ['POST', '/healthz', false],
    ['DELETE', '/-/ready', false],
    ['PUT', '/', false],
    ['TRACE', '/api/v1/silences', true],
    ['PROPFIND', '/api/v1/silences', true],
    ['PUT', '/api/v1/silences', true],
    ['DELETE', '/api/v1/silences', true],
    ['PATCH', '/api/v1/silences/abc', true],
    ['POST', '/api/v1/alerts', true],
    ['DELETE', '/api/v1/trends', true],
  ] as const)('should answer 405 to %s %s', async (method, p, isJson) => {
    const before = await silenceIds(t().port);
    const a = await underAttack(() =>
      request(t().port, p, { method, headers: { 'Content-Type': 'application/json' }, body: '{}' }),
    );
    expect(a.status).toBe(405);
    expect(String(a.headers.allow)).toMatch(/GET/);
    if (isJson) expectJsonError(a, 405);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should grant no cross-origin request (OPTIONS preflight)', async () => {
    const a = await underAttack(() =>
      request(t().port, '/api/v1/silences', {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://evil.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      }),
    );
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
    expect(a.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('should close a CONNECT request without tunnelling anything', async () => {
    const x = await underAttack(() =>
      rawExchange(t().port, [
        `CONNECT 127.0.0.1:${t().port} HTTP/1.1\r\nHost: 127.0.0.1:${t().port}\r\n\r\n`,
      ]),
    );
    expect(x.closedByServer).toBe(true);
    expect(x.responses.filter((r) => r.status < 400)).toEqual([]);
  });

  it.each([
    ['an unknown path', '/nope'],
    ['an unknown API path', '/api/v1/nope'],
    ['a path of 10 KB', `/${'a'.repeat(10_000)}`],
    ['a double slash', '//metrics'],
    ['a path with a NUL escape', '/metrics%00'],
  ])('should answer 404 to %s', async (_what, p) => {
    const a = await underAttack(() => request(t().port, p));
    expect(a.status).toBe(404);
  });

  it('should refuse a request line of 20 KB with a 4xx and close', async () => {
    const x = await underAttack(() =>
      rawExchange(t().port, [head('GET', `/${'a'.repeat(20_000)}`, t().port)]),
    );
    expect(x.responses[0]?.status).toBeGreaterThanOrEqual(400);
    expect(x.responses[0]?.status).toBeLessThan(500);
    expect(x.closedByServer).toBe(true);
  });

  it('should answer HTTP/1.0 and close', async () => {
    const x = await underAttack(() => rawExchange(t().port, ['GET /metrics HTTP/1.0\r\n\r\n']));
    expect(x.responses.map((r) => r.status)).toEqual([200]);
    expect(x.responses[0]!.body).toContain('# TYPE');
    expect(x.closedByServer).toBe(true);
  });

  it('should answer 400 to HTTP/1.1 without a Host header', async () => {
    const x = await underAttack(() => rawExchange(t().port, ['GET /metrics HTTP/1.1\r\n\r\n']));
    expect(x.responses.map((r) => r.status)).toEqual([400]);
  });

  it('should answer 400 to a request with both Content-Length and Transfer-Encoding', async () => {
    const before = await silenceIds(t().port);
    const body = JSON.stringify(valid);
    const x = await underAttack(() =>
      rawExchange(t().port, [
        head('POST', '/api/v1/silences', t().port, [
          'Content-Type: application/json',
          `Content-Length: ${body.length}`,
          'Transfer-Encoding: chunked',
        ]),
        `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      ]),
    );
    expect(x.responses.map((r) => r.status)).toEqual([400]);
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should answer pipelined requests in order', async () => {
    const before = await silenceIds(t().port);
    const bad = '{"matchers": ';
    const x = await underAttack(() =>
      rawExchange(t().port, [
        head('GET', '/healthz', t().port) +
          head('POST', '/api/v1/silences', t().port, [
            'Content-Type: application/json',
            `Content-Length: ${bad.length}`,
          ]) +
          bad +
          head('GET', '/api/v1/silences/no-such-id', t().port) +
          head('GET', '/-/ready', t().port, ['Connection: close']),
      ]),
    );
    expect(x.responses.map((r) => r.status)).toEqual([200, 400, 404, 200]);
    expect(x.responses[3]!.body).toBe('ready\n');
    expect(await silenceIds(t().port)).toEqual(before);
  });

  it('should serve a request with 500 small headers (within the header limits of Node.js)', async () => {
    const headers = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-h${i}`, '1']));
    const a = await underAttack(() => request(t().port, '/metrics', { headers }));
    expect(a.status).toBe(200);
  });

  it('should answer 431 to 20 concurrent connections flooding 64 KiB of headers', async () => {
    const flood = Array.from({ length: 1024 }, (_, i) => `X-Flood-${i}: ${'f'.repeat(48)}`);
    const xs = await underAttack(() =>
      mapLimit(Array.from({ length: 20 }), 20, () =>
        rawExchange(t().port, [head('GET', '/metrics', t().port, flood)], { timeoutMs: 10_000 }),
      ),
    );
    for (const x of xs) {
      expect(x.responses.map((r) => r.status)).toEqual([431]);
      expect(x.closedByServer).toBe(true);
    }
  });

  it('should close 20 slowloris connections (headers dribbled a byte at a time) after the request timeout', async () => {
    const dribble = Array.from({ length: 48 }, () => 'a');
    const xs = await underAttack(() =>
      mapLimit(Array.from({ length: 20 }), 20, () =>
        rawExchange(t().port, [`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, ...dribble], {
          gapMs: 250,
          timeoutMs: REQUEST_TIMEOUT_MS + 10_000,
        }),
      ),
    );
    for (const x of xs) {
      expect(x.closedByServer).toBe(true);
      expect(x.responses.filter((r) => r.status < 400)).toEqual([]);
    }
  });

  it('should put nosniff on JSON and HTML answers and a Content-Security-Policy on HTML', async () => {
    const page = await request(t().port, '/');
    expect(page.status).toBe(200);
    expect(String(page.headers['content-type'])).toMatch(/^text\/html/);
    expect(String(page.headers['x-content-type-options'])).toBe('nosniff');
    expect(page.headers['content-security-policy']).toBeDefined();
    const bad = await postSilence(t().port, { ...valid, endsAt: 'never' });
    for (const [p, a] of [
      ['/healthz', await request(t().port, '/healthz')],
      ['/api/v1/alerts', await request(t().port, '/api/v1/alerts')],
      ['/api/v1/silences', await request(t().port, '/api/v1/silences')],
      ['/api/v1/trends', await request(t().port, `/api/v1/trends?metric=${t().collectedMetric}`)],
      ['/api/v1/anomalies', await request(t().port, '/api/v1/anomalies')],
      ['POST /api/v1/silences (400)', bad],
    ] as const) {
      expect(String(a.headers['content-type']), p).toMatch(/^application\/json/);
      expect(String(a.headers['x-content-type-options']), p).toBe('nosniff');
    }
  });

  it('should answer the known metric on /api/v1/trends with its history', async () => {
    const a = await underAttack(() =>
      request(t().port, `/api/v1/trends?metric=${t().collectedMetric}&window=1h`),
    );
    expect(a.status, a.body.slice(0, 300)).toBe(200);
    const body = JSON.parse(a.body) as { series: { count: number }[] };
    expect(body.series.length).toBeGreaterThan(0);
    expect(body.series[0]!.count).toBeGreaterThan(0);
  });

  it.each([
    ['a PromQL injection', 'up) or vector(1'],
    ['a selector', 'x{a="b"}'],
    ['a name of 10 KB', 'm'.repeat(10_000)],
    ['a name of 201 characters', `m${'_'.repeat(200)}`],
    ['an unknown metric', 'no_such_metric'],
    ['a malformed percent-encoding', '%E0%A4%A'],
    ['an empty name', ''],
  ])('should answer 400 to /api/v1/trends?metric= with %s', async (_what, metric) => {
    const q = metric.startsWith('%') ? metric : encodeURIComponent(metric);
    const a = await underAttack(() => request(t().port, `/api/v1/trends?metric=${q}&window=1h`));
    expectJsonError(a, 400);
  });

  it('should not widen a trends query by a label value that carries PromQL', async () => {
    const labels = encodeURIComponent('a="b"}) or vector(1) or up{x="');
    const a = await underAttack(() =>
      request(t().port, `/api/v1/trends?metric=${t().collectedMetric}&window=1h&labels=${labels}`),
    );
    if (a.status === 200) expect((JSON.parse(a.body) as { series: unknown[] }).series).toEqual([]);
    else expectJsonError(a, 400);
  });

  it.each([
    ['300000y', '300000y'],
    ['-1h', '-1h'],
    ['NaN', 'NaN'],
    ['10 KB of digits', '9'.repeat(10_000)],
  ])('should answer a trends window of %s without a server error', async (_what, window) => {
    const a = await underAttack(() =>
      request(t().port, `/api/v1/trends?metric=${t().collectedMetric}&window=${window}`),
    );
    if (a.status === 200)
      expect(Array.isArray((JSON.parse(a.body) as { series: unknown }).series)).toBe(true);
    else expectJsonError(a, 400);
  });

  it.each([
    ['a PromQL injection', 'up) or vector(1'],
    ['an unknown metric', 'no_such_metric'],
    ['a name of 10 KB', 'm'.repeat(10_000)],
  ])('should answer 400 to /api/v1/anomalies?metric= with %s', async (_what, metric) => {
    const a = await underAttack(() =>
      request(t().port, `/api/v1/anomalies?metric=${encodeURIComponent(metric)}&window=1h`),
    );
    expectJsonError(a, 400);
  });

  it('should answer /api/v1/alerts and / whatever the query string', async () => {
    const junk = `?${'%E0%A4%A&'.repeat(100)}x=${'<script>'.repeat(100)}`;
    const [alerts, page] = await underAttack(() =>
      Promise.all([request(t().port, `/api/v1/alerts${junk}`), request(t().port, `/${junk}`)]),
    );
    expect(alerts.status).toBe(200);
    expect((JSON.parse(alerts.body) as { status: string }).status).toBe('success');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script><script>');
  });

  it(`should refuse silence number ${LIMITS.openSilences + 1} while ${LIMITS.openSilences} are open, and take one once another expired`, async () => {
    const open = (await listSilences(t().port)).filter((s) => s.status.state !== 'expired').length;
    expect(open).toBeLessThan(LIMITS.openSilences);
    const added = await underAttack(() =>
      mapLimit(Array.from({ length: LIMITS.openSilences - open }), 4, (_, i) =>
        postSilence(t().port, { ...valid, matchers: `job="bulk-${i}"`, comment: `bulk ${i}` }),
      ),
    );
    expect(added.filter((a) => a.status !== 200).map((a) => a.body)).toEqual([]);
    const full = await silenceIds(t().port);
    const refused = await underAttack(() =>
      postSilence(t().port, { ...valid, matchers: 'job="one-too-many"' }),
    );
    expectJsonError(refused, 400);
    expect(await silenceIds(t().port)).toEqual(full);
    const firstId = (JSON.parse(added[0]!.body) as { silenceID: string }).silenceID;
    const expired = await request(t().port, `/api/v1/silences/${firstId}`, { method: 'DELETE' });
    expect(expired.status, expired.body).toBe(200);
    const again = await postSilence(t().port, { ...valid, matchers: 'job="fits-again"' });
    expect(again.status, again.body).toBe(200);
  });

  it('should list only silences within the contracted bounds', async () => {
    const listed = await listSilences(t().port);
    expect(listed.length).toBeGreaterThan(0);
    const now = Date.now();
    expect(listed.flatMap((s) => silenceProblems(s, now))).toEqual([]);
  });
}

/** The fields of a silence that a restart must keep. */
export function storedFields(silences: readonly SilenceJson[]): Omit<SilenceJson, 'status'>[] {
  return silences
    .map(({ id, matchers, startsAt, endsAt, createdBy, comment }) => ({
      id,
      matchers,
      startsAt,
      endsAt,
      createdBy,
      comment,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Whether the agent answers its health check and its silences list (a frozen or broken agent does not). */
export async function agentHealthy(port: number): Promise<boolean> {
  try {
    const [health, silences] = await Promise.all([
      request(port, '/healthz', { timeoutMs: 3_000 }),
      request(port, '/api/v1/silences', { timeoutMs: 3_000 }),
    ]);
    return health.status === 200 && silences.status === 200;
  } catch {
    return false;
  }
}
