/**
 * Basic auth for the HTTP endpoint (bcrypt hashes, as Prometheus' web config), safe under a flood of wrong
 * passwords:
 *
 * - a successful check is remembered by digest (never the password), as Prometheus' exporter-toolkit does,
 *   so a scraper pays bcrypt once;
 * - bcrypt runs in one lazily started, unref'd worker thread at the lowest CPU priority (bcryptjs is pure
 *   JavaScript: a cost-10 compare blocks for 60–300 ms, and its async form still blocks in 100 ms slices), one
 *   compare at a time;
 * - at most `maxPending` checks wait (`maxPendingPerClient` per client address, an IPv6 client by its /64);
 *   the excess is answered `busy` (the server's 429). When all places are taken, a client with none takes
 *   one from the client with the most;
 * - the next check is that of the client served least recently, so a flood from one address cannot starve
 *   a login from another; one client's checks run in arrival order. Requests are held, not turned away, so a
 *   flooding client has one request per connection in line and a login sharing its address (the same host,
 *   the same proxy) waits for at most the `maxPendingPerClient` checks ahead of it. Only a flood that keeps
 *   more requests waiting than that from the very same address can turn such a login away: the two cannot be
 *   told apart. A check whose request went away (its connection closed) leaves the queue;
 * - an unknown user is compared against a dummy hash of the configured users' (highest) cost: the same work
 *   as a wrong password, so timing does not tell which users exist.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import { guarded } from '../lib/guard.js';
import { AgentError } from '../lib/errors.js';

/** Compares a password with a bcrypt hash. */
export type PasswordCheck = (password: string, hash: string) => Promise<boolean>;

export type AuthOutcome = 'ok' | 'denied' | 'busy';

export interface BasicAuthOptions {
  /** user → bcrypt hash. */
  users: Readonly<Record<string, string>>;
  /** Defaults to a BcryptWorker (closed by close()). */
  check?: PasswordCheck;
  maxPending?: number;
  maxPendingPerClient?: number;
  /** Successful credentials remembered. */
  cacheSize?: number;
}

const DEFAULT_MAX_PENDING = 128;
export const DEFAULT_MAX_PENDING_PER_CLIENT = 32;
const DEFAULT_CACHE_SIZE = 64;
const DEFAULT_COST = 10;
const COST = /^\$2[abxy]?\$(\d{2})\$/;

/** The cost of a bcrypt hash, or undefined when the hash is not one. */
export function bcryptCost(hash: string): number | undefined {
  const m = COST.exec(hash);
  return m === null ? undefined : Number(m[1]);
}

/**
 * A well-formed bcrypt hash of the given cost that no password matches (a random salt and a random digest):
 * comparing against it costs what comparing against a real hash of that cost does. No hashing is done here.
 */
export function dummyHash(cost: number): string {
  return bcrypt.genSaltSync(cost) + bcrypt.encodeBase64(randomBytes(23), 23);
}

/**
 * The client a check is accounted to: the IPv4 address (also when IPv4-mapped), or the /64 prefix of an IPv6
 * address (one host usually has a whole /64).
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1]!;
  const plain = address.split('%')[0]!;
  if (net.isIPv6(plain)) {
    const [head = '', tail] = plain.split('::');
    const headGroups = head === '' ? [] : head.split(':');
    const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
    const missing = 8 - headGroups.length - tailGroups.length;
    const groups = [...headGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups];
    return `${groups
      .slice(0, 4)
      .map((g) => parseInt(g, 16).toString(16))
      .join(':')}::/64`;
  }
  return plain;
}

/** `user:password` of an `Authorization: Basic …` header (the scheme in any case, RFC 7617), or undefined. */
export function parseBasicAuth(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^basic[ \t]+([^ \t]*)[ \t]*$/i.exec(header);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  return decoded.includes(':') ? decoded : undefined;
}

interface Job {
  client: string;
  password: string;
  hash: string;
  /** true/false: the password matched or not; busy: dropped before it ran. */
  result: Promise<boolean | 'busy'>;
  settle: (ok: boolean | 'busy' | Error) => void;
}

/** A check under way or waiting, shared by the requests that carry the same credentials. */
interface Inflight {
  job: Job;
  outcome: Promise<AuthOutcome>;
  /** Requests waiting for it that may still go away. */
  requests: number;
  /** A request that cannot go away (no signal) waits for it too. */
  kept: boolean;
}

/** A client with checks waiting or running. */
interface ClientChecks {
  /** Waiting and running. */
  pending: number;
  waiting: Job[];
  /** When one of its checks last started (a sequence number; 0: none yet). */
  lastServed: number;
}

export class BasicAuth {
  private readonly _users: Readonly<Record<string, string>>;
  private readonly _check: PasswordCheck;
  private readonly _worker: BcryptWorker | undefined;
  private readonly _maxPending: number;
  private readonly _maxPerClient: number;
  private readonly _cacheSize: number;
  /** Compared against when the user is unknown. */
  readonly dummyHash: string;
  /** Digests of credentials that passed, oldest first. */
  private readonly _cache = new Set<string>();
  /** Checks under way or waiting, by credential digest: a second identical request waits for the first. */
  private readonly _inflight = new Map<string, Inflight>();
  /** Clients with checks waiting or running. */
  private readonly _clients = new Map<string, ClientChecks>();
  private _pending = 0;
  private _running = false;
  private _served = 0;

  constructor(opts: BasicAuthOptions) {
    this._users = opts.users;
    if (opts.check === undefined) {
      this._worker = new BcryptWorker();
      this._check = (password, hash) => this._worker!.compare(password, hash);
    } else {
      this._check = opts.check;
    }
    this._maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this._maxPerClient = opts.maxPendingPerClient ?? DEFAULT_MAX_PENDING_PER_CLIENT;
    this._cacheSize = opts.cacheSize ?? DEFAULT_CACHE_SIZE;
    const costs = Object.values(opts.users)
      .map(bcryptCost)
      .filter((c): c is number => c !== undefined);
    this.dummyHash = dummyHash(costs.length === 0 ? DEFAULT_COST : Math.max(...costs));
  }

  /**
   * Checks an Authorization header from the client at `address`. When `signal` aborts (the request went
   * away) before the check has started, the check is dropped and the answer is busy. Rejects only if the
   * check itself fails.
   */
  verify(
    header: string | undefined,
    address: string | undefined,
    signal?: AbortSignal,
  ): Promise<AuthOutcome> {
    const credential = parseBasicAuth(header);
    if (credential === undefined) return Promise.resolve('denied');
    const key = createHash('sha256').update(credential).digest('base64');
    if (this._cache.has(key)) {
      this._cache.delete(key);
      this._cache.add(key);
      return Promise.resolve('ok');
    }
    let inflight = this._inflight.get(key);
    if (inflight === undefined) {
      const colon = credential.indexOf(':');
      const user = credential.slice(0, colon);
      // Own keys only: `constructor` or `__proto__` must not find Object.prototype's members.
      const hash = Object.hasOwn(this._users, user) ? this._users[user] : undefined;
      const job = this._enqueue(clientKey(address), credential.slice(colon + 1), hash ?? this.dummyHash);
      if (job === undefined) return Promise.resolve('busy');
      const outcome = job.result.then((ok): AuthOutcome => {
        if (ok === 'busy') return 'busy';
        if (!ok || hash === undefined) return 'denied';
        if (this._cache.size >= this._cacheSize) this._cache.delete(this._cache.values().next().value!);
        this._cache.add(key);
        return 'ok';
      });
      const entry: Inflight = { job, outcome, requests: 0, kept: false };
      const forget = (): void => {
        if (this._inflight.get(key) === entry) this._inflight.delete(key);
      };
      outcome.then(forget, forget);
      this._inflight.set(key, entry);
      inflight = entry;
    }
    if (signal === undefined) inflight.kept = true;
    else this._watch(inflight, signal);
    return inflight.outcome;
  }

  /** Drops the check once every request that waits for it and can go away has gone. */
  private _watch(inflight: Inflight, signal: AbortSignal): void {
    inflight.requests++;
    const onAbort = guarded(undefined, 'password check abort', (): void => {
      if (--inflight.requests === 0 && !inflight.kept) this._drop(inflight.job);
    });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const unwatch = (): void => signal.removeEventListener('abort', onAbort);
    inflight.outcome.then(unwatch, unwatch);
  }

  /** Removes a check that has not started yet; it is answered busy. */
  private _drop(job: Job): void {
    const waiting = this._clients.get(job.client)?.waiting;
    const i = waiting?.indexOf(job) ?? -1;
    if (i < 0) return;
    waiting!.splice(i, 1);
    this._release(job.client);
    job.settle('busy');
  }

  /** Checks waiting or running (for tests and diagnostics). */
  get pending(): number {
    return this._pending;
  }

  /** Stops the worker thread, if one runs; waiting checks fail. */
  close(): void {
    this._worker?.close();
  }

  /** Queues a check, or returns undefined when the client or the whole queue is at its bound. */
  private _enqueue(client: string, password: string, hash: string): Job | undefined {
    const mine = this._clients.get(client);
    const count = mine?.pending ?? 0;
    if (count >= this._maxPerClient) return undefined;
    if (this._pending >= this._maxPending && (count > 0 || !this._evictForNewcomer())) return undefined;
    let settle!: Job['settle'];
    const result = new Promise<boolean | 'busy'>((resolve, reject) => {
      settle = (r) => (r instanceof Error ? reject(r) : resolve(r));
    });
    const job: Job = { client, password, hash, result, settle };
    if (mine === undefined) this._clients.set(client, { pending: 1, waiting: [job], lastServed: 0 });
    else {
      mine.pending++;
      mine.waiting.push(job);
    }
    this._pending++;
    this._pump();
    return job;
  }

  /**
   * All places are taken and a client with none asks: the client with the most checks waiting gives up its
   * newest one (answered busy), so that a few addresses cannot hold every place.
   */
  private _evictForNewcomer(): boolean {
    let most: ClientChecks | undefined;
    for (const checks of this._clients.values()) {
      if (checks.waiting.length > 0 && (most === undefined || checks.waiting.length > most.waiting.length))
        most = checks;
    }
    if (most === undefined) return false;
    this._drop(most.waiting[most.waiting.length - 1]!);
    return true;
  }

  private _release(client: string): void {
    this._pending--;
    const checks = this._clients.get(client);
    if (checks !== undefined && --checks.pending === 0) this._clients.delete(client);
  }

  /** Runs the next check, one at a time: the oldest waiting one of the client served least recently. */
  private _pump(): void {
    if (this._running) return;
    let next: ClientChecks | undefined;
    for (const checks of this._clients.values()) {
      if (checks.waiting.length > 0 && (next === undefined || checks.lastServed < next.lastServed))
        next = checks;
    }
    if (next === undefined) return;
    const job = next.waiting.shift();
    next.lastServed = ++this._served;
    this._running = true;
    // Through a promise, so that a check that throws is a failed check too.
    Promise.resolve(job)
      .then((j) => this._check(j!.password, j!.hash))
      .then(
        (ok) => this._done(job!, ok),
        (err: unknown) =>
          this._done(
            job!,
            err instanceof Error ? err : new AgentError('E_STATE', 'password check failed', { cause: err }),
          ),
      );
  }

  private _done(job: Job, result: boolean | Error): void {
    this._running = false;
    this._release(job.client);
    job.settle(result);
    this._pump();
  }
}

/**
 * The worker's code (CommonJS, evaluated): bcryptjs' synchronous compare, one message at a time. On Linux the
 * nice value is per thread: the worker lowers its own to 19, so that password checks (a flood of wrong ones
 * included) only use CPU time that the agent's main thread and the application leave over. (Elsewhere the
 * same call would lower the whole process.)
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (process.platform === 'linux') {
  try {
    require('node:os').setPriority(19);
  } catch {
    // Not allowed to lower it (a sandbox): checks then run at normal priority, which is only slower.
  }
}
const bcrypt = require(workerData.bcrypt);
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(password, hash);
  } catch {
    // A malformed hash or password matches nothing: the answer is no.
    ok = false;
  }
  parentPort.postMessage({ id, ok });
});
`;

/** How long an idle worker is kept before it is stopped (its memory given back). */
const WORKER_IDLE_MS = 10_000;

/**
 * bcrypt compares in a worker thread, started on the first compare, unref'd (it never keeps the process alive)
 * and stopped after WORKER_IDLE_MS without work. Where bcryptjs cannot be located for the worker (a bundled
 * application), compares run in-process with bcryptjs' async form.
 */
export class BcryptWorker {
  private _worker: Worker | undefined;
  private readonly _waiting = new Map<
    number,
    { resolve: (ok: boolean) => void; reject: (e: Error) => void }
  >();
  private _nextId = 0;
  private _idle: NodeJS.Timeout | undefined;
  private _bcryptPath: string | null | undefined;
  /** Workers started so far (for tests and diagnostics). */
  started = 0;

  compare(password: string, hash: string): Promise<boolean> {
    const worker = this._start();
    if (worker === undefined) return bcrypt.compare(password, hash);
    if (this._idle !== undefined) clearTimeout(this._idle);
    this._idle = undefined;
    const id = this._nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this._waiting.set(id, { resolve, reject });
      worker.postMessage({ id, password, hash });
    });
  }

  get running(): boolean {
    return this._worker !== undefined;
  }

  close(): void {
    this._stop(new AgentError('E_SHUTDOWN', 'the password check worker was stopped'));
  }

  private _start(): Worker | undefined {
    if (this._worker !== undefined) return this._worker;
    if (this._bcryptPath === undefined) {
      try {
        this._bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
      } catch {
        // Not resolvable (a bundled application): compares run in-process, as the class comment says.
        this._bcryptPath = null;
      }
    }
    if (this._bcryptPath === null) return undefined;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { bcrypt: this._bcryptPath },
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
    });
    worker.unref();
    worker.on(
      'message',
      guarded(undefined, 'password check worker', ({ id, ok }: { id: number; ok: boolean }) => {
        const waiting = this._waiting.get(id);
        this._waiting.delete(id);
        waiting?.resolve(ok);
        if (this._waiting.size === 0 && this._worker === worker) {
          this._idle = setTimeout(
            guarded(undefined, 'password check worker idle', () => this._stop()),
            WORKER_IDLE_MS,
          );
          this._idle.unref();
        }
      }),
    );
    const fail = guarded(undefined, 'password check worker', (err: Error): void => {
      if (this._worker === worker) this._stop(err);
    });
    worker.on('error', fail);
    worker.on(
      'exit',
      guarded(undefined, 'password check worker', (code: number) =>
        fail(new AgentError('E_STATE', `the password check worker stopped (exit code ${code})`)),
      ),
    );
    this._worker = worker;
    this.started++;
    return worker;
  }

  private _stop(err?: Error): void {
    if (this._idle !== undefined) clearTimeout(this._idle);
    this._idle = undefined;
    const worker = this._worker;
    this._worker = undefined;
    if (worker !== undefined) void worker.terminate();
    const waiting = [...this._waiting.values()];
    this._waiting.clear();
    for (const w of waiting) w.reject(err ?? new AgentError('E_STATE', 'the password check worker stopped'));
  }
}
