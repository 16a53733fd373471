/**
 * Basic auth under a flood of wrong passwords, in the same run:
 *
 *   (a) the built agent (`node dist/src/cli/main.js run -c FILE`, a copy of the default config with
 *       `basic_auth_users` at bcrypt cost 10, as docs/configuration.md suggests): latency of a correct, already
 *       remembered `/metrics` scrape with no other traffic, and while 20 concurrent clients send wrong
 *       passwords as fast as they are answered (alternating rounds); how long a login whose credentials are
 *       not remembered yet takes under the same flood, from another address and from the flood's address;
 *       the time of a wrong password for a known user against that of an unknown user (username
 *       enumeration by timing);
 *   (b) the baseline of the earlier design: the same HttpServer (dist/src/export/http-server.js) with bcrypt
 *       on the main thread (bcryptjs' async compare, which runs in slices of up to 100 ms), serving a fixed
 *       body, in a child process (`--serve main-thread`), idle and under the same flood.
 *
 * The scrapes run in this process, the flood in a child process (`--flood PORT`), all over loopback, with no
 * CPU pinning: the agent's bcrypt worker and main thread share the machine's CPUs with the clients.
 * Latency = request start → last body byte.
 *
 *   npm run build && node test/bench/auth-flood.js
 */
import { Buffer } from 'node:buffer';
import console from 'node:console';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setInterval, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import {
  DEFAULT_CONFIG,
  DIST,
  fmt,
  freePort,
  installSafetyNets,
  makeTempDir,
  median,
  printMachine,
  printTable,
  quantile,
  sleep,
  spawnChild,
  waitForHttp,
} from './common.js';

const COST = 10;
const FLOOD_CLIENTS = 20;
const WARMUP = 20;
const ROUNDS = 2;
const PER_ROUND = 100;
const RAMP_MS = 500;
const RATIO_SAMPLES = 20;
const FRESH_LOGINS = 3;
const FRESH_MAX_MS = 30_000;
const FRESH_RETRY_MS = 250;
const LIMIT_MS = 170_000;

const SCRAPER = { user: 'prometheus', password: 'scrape-secret' };
const FRESH_USERS = Array.from({ length: 2 * FRESH_LOGINS }, (_, i) => ({
  user: `fresh${i}`,
  password: `fresh-secret-${i}`,
}));

const authHeader = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** One GET with an Authorization header; resolves with the status and the latency in ms. */
function get(port, urlPath, { authorization, agent, localAddress, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        agent: agent ?? false,
        localAddress,
        headers: authorization === undefined ? {} : { Authorization: authorization },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on('error', reject);
  });
}

/** FLOOD_CLIENTS loops sending wrong passwords for the scrape user, each on its own keep-alive connection. */
function runFlood(port) {
  const counts = { 401: 0, 429: 0, other: 0, errors: 0 };
  let running = true;
  let n = 0;
  const started = performance.now();
  const loops = Array.from({ length: FLOOD_CLIENTS }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (running) {
      try {
        const r = await get(port, '/metrics', {
          agent,
          authorization: authHeader(SCRAPER.user, `wrong-${n++}`),
        });
        if (r.status === 401 || r.status === 429) counts[r.status]++;
        else counts.other++;
      } catch {
        counts.errors++;
        await sleep(5);
      }
    }
    agent.destroy();
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    return { ...counts, seconds: (performance.now() - started) / 1000 };
  };
}

/**
 * The flood runs in a child process (`--flood PORT`), so that its event loop does not delay the scrapes
 * measured here; stop() ends it and returns its counts.
 */
async function startFlood(port) {
  const proc = spawnChild(process.execPath, [fileURLToPath(import.meta.url), '--flood', String(port)], {
    name: 'flood',
    stdout: 'pipe',
  });
  if ((await proc.nextLine()) !== 'flooding') throw new Error('the flood did not start');
  return {
    async stop() {
      process.kill(proc.pid, 'SIGTERM');
      const counts = JSON.parse(await proc.nextLine());
      await proc.stop();
      return counts;
    },
  };
}

/** `count` sequential scrapes with the remembered credentials on one keep-alive connection. */
async function scrapes(port, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ms = [];
  try {
    for (let i = 0; i < count; i++) {
      const r = await get(port, '/metrics', {
        agent,
        authorization: authHeader(SCRAPER.user, SCRAPER.password),
      });
      if (r.status !== 200) throw new Error(`scrape answered ${r.status}`);
      ms.push(r.ms);
    }
  } finally {
    agent.destroy();
  }
  return ms;
}

/** Idle and flooded rounds, alternating; returns the latencies of each kind. */
async function latencyRounds(port, rounds) {
  await scrapes(port, WARMUP);
  const idle = [];
  const flooded = [];
  const floods = [];
  for (let r = 0; r < rounds; r++) {
    idle.push(...(await scrapes(port, PER_ROUND)));
    const flood = await startFlood(port);
    await sleep(RAMP_MS);
    flooded.push(...(await scrapes(port, PER_ROUND)));
    floods.push(await flood.stop());
  }
  return { idle, flooded, floods };
}

/** Time until a login with not yet remembered credentials gets 200, trying again after a 429, for at most FRESH_MAX_MS. */
async function freshLogin(port, { user, password }, localAddress) {
  const started = performance.now();
  let tries = 0;
  while (performance.now() - started < FRESH_MAX_MS) {
    tries++;
    const r = await get(port, '/metrics', {
      authorization: authHeader(user, password),
      localAddress,
      timeoutMs: FRESH_MAX_MS,
    });
    if (r.status === 200) return { ms: performance.now() - started, tries };
    if (r.status !== 429) throw new Error(`login of ${user} answered ${r.status}`);
    await sleep(FRESH_RETRY_MS);
  }
  return { ms: NaN, tries };
}

function floodSummary(floods) {
  const total = floods.reduce(
    (t, f) => ({
      401: t[401] + f[401],
      429: t[429] + f[429],
      errors: t.errors + f.errors + f.other,
      seconds: t.seconds + f.seconds,
    }),
    { 401: 0, 429: 0, errors: 0, seconds: 0 },
  );
  return `${fmt((total[401] + total[429]) / total.seconds, 0)} req/s: ${total[401]}× 401, ${total[429]}× 429, ${total.errors} errors`;
}

function latencyRow(name, ms) {
  return [
    name,
    ms.length,
    fmt(median(ms)),
    fmt(quantile(ms, 0.9)),
    fmt(quantile(ms, 0.99)),
    fmt(Math.max(...ms)),
  ];
}

// ---------------------------------------------------------------- (b): the main-thread baseline server

async function serveMainThread(port, hash) {
  const { HttpServer } = await import(path.join(DIST, 'export', 'http-server.js'));
  const { silentLogger } = await import(path.join(DIST, 'lib', 'logger.js'));
  const body = `${'# a fixed body of about 20 KB\n'.repeat(700)}`;
  const server = new HttpServer({
    host: '127.0.0.1',
    port,
    requestTimeoutMs: 10_000,
    logger: silentLogger,
    basicAuthUsers: { [SCRAPER.user]: hash },
    // bcrypt on the main thread, as before the worker: bcryptjs' async form.
    passwordCheck: (password, h) => bcrypt.compare(password, h),
    routes: [
      {
        path: '/metrics',
        description: 'fixed body',
        handler: (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
          res.end(body);
        },
      },
      {
        path: '/-/ready',
        description: 'ready',
        public: true,
        handler: (_req, res) => {
          res.writeHead(200);
          res.end('ready\n');
        },
      },
    ],
  });
  await server.start();
}

// ---------------------------------------------------------------- client

async function client() {
  installSafetyNets(LIMIT_MS);
  if (!fs.existsSync(path.join(DIST, 'cli', 'main.js')))
    throw new Error('dist/src/cli/main.js is missing — run `npm run build` first');
  const started = performance.now();
  printMachine('basic auth under a wrong-password flood');
  console.log(
    `bcrypt cost ${COST}; ${FLOOD_CLIENTS} flood clients; ${ROUNDS} rounds × ${PER_ROUND} scrapes idle and under flood`,
  );

  const users = {};
  for (const u of [SCRAPER, ...FRESH_USERS]) users[u.user] = bcrypt.hashSync(u.password, COST);
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) bcrypt.compareSync('x', users[SCRAPER.user]);
  console.log(
    `one bcrypt compare at cost ${COST} on this machine: ${fmt((performance.now() - t0) / 3, 1)} ms`,
  );

  // (a) the agent
  const dir = makeTempDir('auth-flood-');
  const port = await freePort();
  const lines = Object.entries(users)
    .map(([u, h]) => `      ${u}: '${h.replaceAll('$', '$$$$')}'`)
    .join('\n');
  const text = fs
    .readFileSync(DEFAULT_CONFIG, 'utf8')
    .replace('${PERF_MONITOR_INTERVAL:-15s}', '5s')
    .replace('${PERF_MONITOR_PORT:-9091}', String(port))
    .replace("'${PERF_MONITOR_HOST:-127.0.0.1}'", "'127.0.0.1'")
    .replace('    request_timeout: 10s\n', `    request_timeout: 10s\n    basic_auth_users:\n${lines}\n`);
  if (!text.includes('basic_auth_users:\n') || !text.includes(`port: ${port}`))
    throw new Error(`could not set the port and basic_auth_users in a copy of ${DEFAULT_CONFIG}`);
  const file = path.join(dir, 'agent.yaml');
  fs.writeFileSync(file, text);
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || k.startsWith('PERF_MONITOR_')) delete env[k];
  delete env.NODE_OPTIONS;
  const agent = spawnChild(process.execPath, [path.join(DIST, 'cli', 'main.js'), 'run', '-c', file], {
    env,
    name: 'perf-monitor agent',
  });
  await waitForHttp(port, '/-/ready', { proc: agent });
  const first = await get(port, '/metrics', { authorization: authHeader(SCRAPER.user, SCRAPER.password) });
  if (first.status !== 200) throw new Error(`the first scrape answered ${first.status}`);

  const ours = await latencyRounds(port, ROUNDS);

  // Logins not remembered yet, under the flood: from another loopback address, then from the flood's own.
  const flood = await startFlood(port);
  await sleep(RAMP_MS);
  const fresh = { other: [], same: [] };
  for (let i = 0; i < FRESH_LOGINS; i++)
    fresh.other.push(await freshLogin(port, FRESH_USERS[i], '127.0.0.2'));
  for (let i = 0; i < FRESH_LOGINS; i++)
    fresh.same.push(await freshLogin(port, FRESH_USERS[FRESH_LOGINS + i], '127.0.0.1'));
  const freshFlood = await flood.stop();

  // Username enumeration by timing: alternate a wrong password of a known user and an unknown user.
  const timing = { known: [], unknown: [] };
  for (let i = 0; i < RATIO_SAMPLES; i++) {
    const k = await get(port, '/metrics', { authorization: authHeader(SCRAPER.user, `nope-${i}`) });
    const u = await get(port, '/metrics', { authorization: authHeader(`nobody-${i}`, `nope-${i}`) });
    if (k.status !== 401 || u.status !== 401) throw new Error(`expected 401, got ${k.status} / ${u.status}`);
    timing.known.push(k.ms);
    timing.unknown.push(u.ms);
  }
  await agent.stop();

  // (b) the main-thread baseline
  const basePort = await freePort();
  const base = spawnChild(
    process.execPath,
    [fileURLToPath(import.meta.url), '--serve', 'main-thread', String(basePort), users[SCRAPER.user]],
    { name: 'main-thread baseline' },
  );
  await waitForHttp(basePort, '/-/ready', { proc: base });
  const baseline = await latencyRounds(basePort, 1);
  await base.stop();

  console.log('\n## /metrics latency of a remembered login, ms\n');
  printTable(
    ['variant', 'n', 'p50', 'p90', 'p99', 'max'],
    [
      latencyRow('(a) agent, idle', ours.idle),
      latencyRow(`(a) agent, ${FLOOD_CLIENTS} wrong-password clients`, ours.flooded),
      latencyRow('(b) bcrypt on the main thread, idle', baseline.idle),
      latencyRow(`(b) bcrypt on the main thread, ${FLOOD_CLIENTS} wrong-password clients`, baseline.flooded),
    ],
  );
  console.log(`\nflood against (a): ${floodSummary(ours.floods)}`);
  console.log(`flood against (b): ${floodSummary(baseline.floods)}`);

  console.log('\n## A login not remembered yet, under the flood (tried again after a 429)\n');
  const freshRow = (name, list) => [
    name,
    list.map((f) => fmt(f.ms, 0)).join(', '),
    list.map((f) => f.tries).join(', '),
  ];
  printTable(
    ['from', 'ms to 200', 'tries'],
    [
      freshRow('127.0.0.2 (not the flood’s address)', fresh.other),
      freshRow('127.0.0.1 (the flood’s address)', fresh.same),
    ],
  );
  console.log(`\nflood meanwhile: ${floodSummary([freshFlood])}`);

  console.log('\n## Wrong password of a known user vs unknown user, ms (no flood)\n');
  printTable(
    ['request', 'n', 'p50', 'min', 'max'],
    [
      [
        'known user, wrong password',
        RATIO_SAMPLES,
        fmt(median(timing.known)),
        fmt(Math.min(...timing.known)),
        fmt(Math.max(...timing.known)),
      ],
      [
        'unknown user',
        RATIO_SAMPLES,
        fmt(median(timing.unknown)),
        fmt(Math.min(...timing.unknown)),
        fmt(Math.max(...timing.unknown)),
      ],
    ],
  );

  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log('\n## Headline\n');
  console.log(`scrape_p50_ms_idle=${fmt(median(ours.idle))}`);
  console.log(`scrape_p99_ms_idle=${fmt(quantile(ours.idle, 0.99))}`);
  console.log(`scrape_p50_ms_under_auth_flood=${fmt(median(ours.flooded))}`);
  console.log(`scrape_p99_ms_under_auth_flood=${fmt(quantile(ours.flooded, 0.99))}`);
  console.log(`main_thread_bcrypt_scrape_p99_ms_under_auth_flood=${fmt(quantile(baseline.flooded, 0.99))}`);
  console.log(
    `fresh_login_ms_under_auth_flood_other_address=${fmt(median(fresh.other.map((f) => f.ms)), 0)}`,
  );
  console.log(`fresh_login_ms_under_auth_flood_same_address=${fmt(median(fresh.same.map((f) => f.ms)), 0)}`);
  console.log(
    `unknown_user_to_wrong_password_time_ratio=${fmt(median(timing.unknown) / median(timing.known), 3)}`,
  );
  process.exit(0);
}

const serveIndex = process.argv.indexOf('--serve');
const floodIndex = process.argv.indexOf('--flood');
if (serveIndex >= 0 || floodIndex >= 0) {
  // A server lives until its parent stops it or goes away, and at most 3 minutes.
  setTimeout(() => process.exit(0), 180_000).unref();
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000).unref();
  process.on('SIGTERM', () => process.exit(0));
  if (floodIndex >= 0) {
    const stop = runFlood(Number(process.argv[floodIndex + 1]));
    process.removeAllListeners('SIGTERM');
    process.on('SIGTERM', () => {
      void stop().then((counts) =>
        process.stdout.write(`${JSON.stringify(counts)}\n`, () => process.exit(0)),
      );
    });
    process.stdout.write('flooding\n');
  } else {
    await serveMainThread(Number(process.argv[serveIndex + 2]), process.argv[serveIndex + 3]);
  }
} else {
  await client();
}
