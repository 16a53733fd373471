import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { openNotificationDb } from '../../../src/alerts/notification-store.js';
import { silenceRoutes } from '../../../src/alerts/silences-api.js';
import { SilenceStore } from '../../../src/alerts/silences.js';
import { main } from '../../../src/cli/cli.js';
import type { CliIo } from '../../../src/cli/io.js';
import { HttpServer } from '../../../src/export/http-server.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { MemoryLogger } from '../../../src/lib/logger.js';

const servers: HttpServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.shutdown();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function api(
  opts: { auth?: boolean } = {},
): Promise<{ url: string; store: SilenceStore; clock: ManualClock }> {
  const clock = new ManualClock();
  const store = new SilenceStore(await openNotificationDb(':memory:'));
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    requestTimeoutMs: 5000,
    logger: new MemoryLogger(),
    routes: silenceRoutes(() => store, clock),
    ...(opts.auth === true ? { basicAuthUsers: { ops: bcrypt.hashSync('pw', 4) } } : {}),
  });
  servers.push(server);
  await server.start();
  return { url: server.url, store, clock };
}

async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  return { code: await main(argv, io, env), out, err };
}

describe('silences HTTP API', () => {
  it('should add, list, show and expire a silence', async () => {
    const { url, clock } = await api();
    const post = await fetch(`${url}/api/v1/silences`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        matchers: 'alertname="cpu",instance=~"web-.*"',
        endsAt: '2h',
        createdBy: 'me',
        comment: 'deploy',
      }),
    });
    expect(post.status).toBe(200);
    const { silenceID } = (await post.json()) as { silenceID: string };
    const list = (await (await fetch(`${url}/api/v1/silences`)).json()) as { silences: unknown[] };
    expect(list.silences).toEqual([
      {
        id: silenceID,
        matchers: [
          { name: 'alertname', type: '=', value: 'cpu' },
          { name: 'instance', type: '=~', value: 'web-.*' },
        ],
        startsAt: new Date(clock.nowMs()).toISOString(),
        endsAt: new Date(clock.nowMs() + 7_200_000).toISOString(),
        createdBy: 'me',
        comment: 'deploy',
        status: { state: 'active' },
      },
    ]);
    const del = await fetch(`${url}/api/v1/silences/${silenceID}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const one = (await (await fetch(`${url}/api/v1/silences/${silenceID}`)).json()) as {
      status: { state: string };
    };
    expect(one.status.state).toBe('expired');
    expect((await fetch(`${url}/api/v1/silences/${silenceID}`, { method: 'DELETE' })).status).toBe(409);
    expect((await fetch(`${url}/api/v1/silences/nope`, { method: 'DELETE' })).status).toBe(404);
  });

  it('should refuse bad silences, non-JSON bodies and other methods', async () => {
    const { url } = await api();
    const post = (body: string, type = 'application/json'): Promise<Response> =>
      fetch(`${url}/api/v1/silences`, { method: 'POST', headers: { 'Content-Type': type }, body });
    expect((await post(JSON.stringify({ matchers: [], endsAt: '1h' }))).status).toBe(400);
    expect((await post(JSON.stringify({ matchers: 'a=~"("', endsAt: '1h' }))).status).toBe(400);
    expect((await post(JSON.stringify({ matchers: 'a="1"', endsAt: '2000-01-01T00:00:00Z' }))).status).toBe(
      400,
    );
    expect((await post('{not json')).status).toBe(400);
    expect((await post('matchers=a', 'application/x-www-form-urlencoded')).status).toBe(415);
    const put = await fetch(`${url}/api/v1/silences`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('should refuse an end 10 years or more ahead, or past what a Date holds, and store nothing', async () => {
    const { url, store, clock } = await api();
    const post = (body: unknown): Promise<Response> =>
      fetch(`${url}/api/v1/silences`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const endsAt of ['300000y', '10y', '3650d', '+275761-01-01T00:00:00Z', '9999999999999999999999s']) {
      const res = await post({ matchers: 'a="1"', endsAt });
      expect(res.status, endsAt).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^endsAt: /);
    }
    const start = await post({ matchers: 'a="1"', startsAt: '20y', endsAt: '1h' });
    expect(start.status).toBe(400);
    expect(((await start.json()) as { error: string }).error).toMatch(/^startsAt: /);
    expect(store.list(clock.nowMs())).toEqual([]);
    const list = await fetch(`${url}/api/v1/silences`);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ silences: [] });
    expect((await post({ matchers: 'a="1"', endsAt: '9y' })).status).toBe(200);
  });

  it('should answer 413 to a body over 64 KiB and 400 naming the field to input past the limits', async () => {
    const { url, store, clock } = await api();
    const post = (body: string): Promise<Response> =>
      fetch(`${url}/api/v1/silences`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
    const huge = await post(JSON.stringify({ matchers: 'a="1"', endsAt: '1h', comment: 'x'.repeat(70_000) }));
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toMatch(/larger than 65536 bytes/);
    const cases: [unknown, RegExp][] = [
      [
        { matchers: Array.from({ length: 17 }, (_, i) => `l${i}="x"`).join(','), endsAt: '1h' },
        /^matchers: 17/,
      ],
      [
        { matchers: Array.from({ length: 17 }, (_, i) => ({ name: `l${i}`, value: 'x' })), endsAt: '1h' },
        /^matchers: 17/,
      ],
      [{ matchers: `a=~"${'x'.repeat(1025)}"`, endsAt: '1h' }, /^matchers: .*longer than 1024/],
      [{ matchers: `${'n'.repeat(129)}="1"`, endsAt: '1h' }, /^matchers: .*longer than 128/],
      [{ matchers: [{ name: 'a!', value: '1' }], endsAt: '1h' }, /^matchers: .*letters, digits/],
      [
        { matchers: [{ name: 'a', type: '=~', value: String.raw`(a)\1` }], endsAt: '1h' },
        /^matchers: .*backreferences/,
      ],
      [{ matchers: 'a="1"', endsAt: '1h', createdBy: 'u'.repeat(257) }, /^createdBy: longer than 256/],
      [{ matchers: 'a="1"', endsAt: '1h', comment: 'c'.repeat(4097) }, /^comment: longer than 4096/],
      [{ matchers: 'a="1"', endsAt: '1h', comment: 5 }, /^comment: expected a string/],
      [{ matchers: 'a="1"', endsAt: 5 }, /^endsAt: expected a timestamp or a duration/],
      [null, /^body: expected a JSON object/],
      [[1], /^body: expected a JSON object/],
    ];
    for (const [body, error] of cases) {
      const res = await post(JSON.stringify(body));
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(error);
    }
    expect(store.list(clock.nowMs())).toEqual([]);
  });

  it('should answer 400 to a silence id with a malformed percent-encoding', async () => {
    const { url } = await api();
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${url}/api/v1/silences/%E0%A4%A`, { method });
      expect(res.status, method).toBe(400);
      expect(await res.json()).toEqual({ error: 'silence id: malformed percent-encoding' });
    }
    expect((await fetch(`${url}/api/v1/silences/no%20such`)).status).toBe(404);
  });

  it('should need basic auth for every method when the server has users', async () => {
    const { url } = await api({ auth: true });
    const res = await fetch(`${url}/api/v1/silences`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ matchers: 'a="1"', endsAt: '1h' }),
    });
    expect(res.status).toBe(401);
  });
});

describe('perf-monitor silence', () => {
  it('should add, list and expire silences of a running agent, with basic auth from the environment', async () => {
    const { url, store, clock } = await api({ auth: true });
    const env = { PERF_MONITOR_PASSWORD: 'pw' };
    const added = await cli(
      [
        'silence',
        'add',
        '--url',
        url,
        '-u',
        'ops',
        '-m',
        'alertname="cpu"',
        '-d',
        '30m',
        '--comment',
        'upgrade',
        '--author',
        'ana',
      ],
      env,
    );
    expect(added.err).toEqual([]);
    expect(added.code).toBe(0);
    const id = added.out[0]!.split(' ')[0]!;
    expect(store.get(id)).toMatchObject({
      createdBy: 'ana',
      comment: 'upgrade',
      endsAtMs: clock.nowMs() + 1_800_000,
    });
    const listed = await cli(['silence', 'list', '--url', url, '-u', 'ops'], env);
    expect(listed.out).toEqual([
      `${id}  active   until ${new Date(clock.nowMs() + 1_800_000).toISOString()}  {alertname="cpu"} by ana: upgrade`,
    ]);
    expect((await cli(['silence', 'expire', '--url', url, '-u', 'ops', '--id', id], env)).code).toBe(0);
    expect(store.silencedBy({ alertname: 'cpu' }, clock.nowMs())).toBeUndefined();
  });

  it('should exit 1 naming the agent when the password is wrong or nothing listens', async () => {
    const { url } = await api({ auth: true });
    const denied = await cli(['silence', 'list', '--url', url, '-u', 'ops'], {
      PERF_MONITOR_PASSWORD: 'wrong',
    });
    expect(denied.code).toBe(1);
    expect(denied.err[0]).toContain('401');
    const down = await cli(['silence', 'list', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.err[0]).toContain('cannot reach the agent at http://127.0.0.1:1');
  });

  it('should exit 2 on a bad matcher or duration, before calling the agent', async () => {
    expect((await cli(['silence', 'add', '--url', 'http://127.0.0.1:1', '-m', '1x=2'])).code).toBe(2);
    expect(
      (await cli(['silence', 'add', '--url', 'http://127.0.0.1:1', '-m', 'a=1', '-d', 'soon'])).code,
    ).toBe(2);
    expect((await cli(['silence', 'add', '--url', 'http://127.0.0.1:1'])).code).toBe(2);
    expect((await cli(['silence', 'expire', '--url', 'http://127.0.0.1:1'])).code).toBe(2);
  });

  it('should exit 2 on an end 10 years or more ahead, or too many matchers, before calling the agent', async () => {
    const add = (...extra: string[]): Promise<{ code: number; err: string[] }> =>
      cli(['silence', 'add', '--url', 'http://127.0.0.1:1', ...extra]);
    const long = await add('-m', 'a=1', '-d', '300000y');
    expect(long.code).toBe(2);
    expect((await add('-m', 'a=1', '-d', '10y')).err[0]).toContain('--duration: must be less than 10 years');
    expect((await add('-m', 'a=1', '--end', '2999-01-01T00:00:00Z')).err[0]).toContain(
      '--end: must lie in the future and before now + 10 years',
    );
    const many = Array.from({ length: 17 }, (_, i) => `l${i}=x`).join(',');
    expect((await add('-m', many)).err[0]).toContain('17 matchers, at most 16');
  });

  it("should find the agent from the configuration's prometheus listener", async () => {
    const { url } = await api();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'silence-cli-'));
    dirs.push(dir);
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(
      file,
      `performance_monitor:\n  prometheus:\n    host: 0.0.0.0\n    port: ${new URL(url).port}\n`,
    );
    const r = await cli(['silence', 'list', '-c', file]);
    expect(r.err).toEqual([]);
    expect(r.out).toEqual(['no silences']);
  });
});
