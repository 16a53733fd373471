import fs from 'node:fs';
import os from 'node:os';
import bcrypt from 'bcryptjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BasicAuth,
  BcryptWorker,
  bcryptCost,
  clientKey,
  dummyHash,
  parseBasicAuth,
} from '../../../src/export/basic-auth.js';
import type { PasswordCheck } from '../../../src/export/basic-auth.js';
import { settle } from '../../../src/lib/clock.js';
import { basicAuth } from './helpers.js';

const closers: { close(): void }[] = [];

afterEach(() => {
  for (const c of closers.splice(0)) c.close();
});

/** A password check whose answers wait until the test releases them, oldest first. */
function gatedCheck(): { check: PasswordCheck; asked: string[]; release: () => Promise<void> } {
  const asked: string[] = [];
  const waiting: (() => void)[] = [];
  return {
    asked,
    check: (password, hash) =>
      new Promise<boolean>((resolve) => {
        asked.push(password);
        waiting.push(() => resolve(bcrypt.compareSync(password, hash)));
      }),
    release: async () => {
      // The check is asked for a promise turn after verify().
      await settle();
      const next = waiting.shift();
      if (next === undefined) throw new Error('no password check is waiting');
      next();
      await settle();
    },
  };
}

describe('parseBasicAuth', () => {
  it.each(['Basic', 'basic', 'BASIC', 'bAsIc'])('should read the scheme written %s', (scheme) => {
    expect(parseBasicAuth(`${scheme} ${Buffer.from('u:p:q').toString('base64')}`)).toBe('u:p:q');
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Bearer dTpw'],
    ['no colon', `Basic ${Buffer.from('user').toString('base64')}`],
    ['no credentials', 'Basic'],
    ['two tokens', 'Basic dTpw dTpw'],
  ])('should find nothing with %s', (_what, header) => {
    expect(parseBasicAuth(header)).toBeUndefined();
  });
});

describe('clientKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('should account %s to %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });

  it('should put the addresses of one IPv6 /64 together and keep other /64s apart', () => {
    expect(clientKey('2001:db8:a:b::1')).toBe(clientKey('2001:db8:a:b:9:9:9:9'));
    expect(clientKey('2001:db8:a:b::1')).not.toBe(clientKey('2001:db8:a:c::1'));
  });
});

describe('dummyHash', () => {
  it.each([4, 10, 12])('should make a well-formed hash of cost %i that no password matches', (cost) => {
    const hash = dummyHash(cost);
    expect(hash).toMatch(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/);
    expect(bcryptCost(hash)).toBe(cost);
    expect(dummyHash(cost)).not.toBe(hash);
  });

  it('should be checked at full cost and fail', () => {
    expect(bcrypt.compareSync('', dummyHash(4))).toBe(false);
    expect(bcrypt.compareSync('password', dummyHash(4))).toBe(false);
  });
});

describe('BasicAuth', () => {
  let users: Record<string, string>;

  beforeAll(() => {
    users = { alice: bcrypt.hashSync('right', 4) };
  });

  function auth(check: PasswordCheck, opts: { maxPending?: number; maxPendingPerClient?: number } = {}) {
    const a = new BasicAuth({ users, check, ...opts });
    closers.push(a);
    return a;
  }

  it('should answer ok, denied, and ok from memory for a credential that passed once', async () => {
    const gate = gatedCheck();
    const a = auth(gate.check);
    const first = a.verify(basicAuth('alice', 'right'), '10.0.0.1');
    await gate.release();
    expect(await first).toBe('ok');
    const wrong = a.verify(basicAuth('alice', 'wrong'), '10.0.0.1');
    await gate.release();
    expect(await wrong).toBe('denied');
    expect(await a.verify(basicAuth('alice', 'right'), '10.0.0.2')).toBe('ok');
    expect(gate.asked).toEqual(['right', 'wrong']);
  });

  it('should forget the credential used least recently when its memory is full', async () => {
    const calls: string[] = [];
    const check: PasswordCheck = (password, hash) => {
      calls.push(password);
      return Promise.resolve(bcrypt.compareSync(password, hash));
    };
    const a = new BasicAuth({
      users: { u1: bcrypt.hashSync('p1', 4), u2: bcrypt.hashSync('p2', 4), u3: bcrypt.hashSync('p3', 4) },
      check,
      cacheSize: 2,
    });
    closers.push(a);
    for (const n of [1, 2, 1, 3, 1, 2]) expect(await a.verify(basicAuth(`u${n}`, `p${n}`), 'c')).toBe('ok');
    // u1 stays remembered (used again before u3 came); u2 was the least recent when u3 came.
    expect(calls).toEqual(['p1', 'p2', 'p3', 'p2']);
  });

  it('should turn away a client that already has its checks waiting, and no one else', async () => {
    const gate = gatedCheck();
    const a = auth(gate.check, { maxPendingPerClient: 2 });
    const mine = [1, 2].map((n) => a.verify(basicAuth('alice', `w${n}`), '10.0.0.1'));
    expect(await a.verify(basicAuth('alice', 'w3'), '10.0.0.1')).toBe('busy');
    const other = a.verify(basicAuth('alice', 'right'), '10.0.0.2');
    expect(a.pending).toBe(3);
    for (let i = 0; i < 3; i++) await gate.release();
    expect(await Promise.all([...mine, other])).toEqual(['denied', 'denied', 'ok']);
    expect(a.pending).toBe(0);
  });

  it('should check clients in turn: the one served least recently first', async () => {
    const gate = gatedCheck();
    const a = auth(gate.check, { maxPendingPerClient: 3 });
    const results = [
      ...[1, 2, 3].map((n) => a.verify(basicAuth('alice', `a${n}`), '10.0.0.1')),
      ...[1, 2].map((n) => a.verify(basicAuth('alice', `b${n}`), '10.0.0.2')),
      a.verify(basicAuth('alice', 'c1'), '10.0.0.3'),
    ];
    for (let i = 0; i < 6; i++) await gate.release();
    await Promise.all(results);
    expect(gate.asked).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('should make room for a new client when all places are taken, at the expense of the client with the most waiting', async () => {
    const gate = gatedCheck();
    const a = auth(gate.check, { maxPending: 4, maxPendingPerClient: 3 });
    const flood = [
      a.verify(basicAuth('alice', 'a1'), '10.0.0.1'),
      a.verify(basicAuth('alice', 'a2'), '10.0.0.1'),
      a.verify(basicAuth('alice', 'b1'), '10.0.0.2'),
      a.verify(basicAuth('alice', 'b2'), '10.0.0.2'),
    ];
    expect(a.pending).toBe(4);
    // A client that already waits gets no more room…
    const c1 = a.verify(basicAuth('alice', 'c1'), '10.0.0.3');
    expect(a.pending).toBe(4);
    expect(await a.verify(basicAuth('alice', 'c2'), '10.0.0.3')).toBe('busy');
    // …and the newcomer took the newest waiting place of the client with the most waiting (b2: a1 runs).
    expect(await flood[3]).toBe('busy');
    for (let i = 0; i < 4; i++) await gate.release();
    expect(await Promise.all([flood[0], flood[1], flood[2], c1])).toEqual([
      'denied',
      'denied',
      'denied',
      'denied',
    ]);
    expect(gate.asked).toEqual(['a1', 'b1', 'c1', 'a2']);
  });

  it('should answer busy when every place is taken by a running check', async () => {
    const gate = gatedCheck();
    const a = auth(gate.check, { maxPending: 1 });
    const running = a.verify(basicAuth('alice', 'x'), '10.0.0.1');
    expect(await a.verify(basicAuth('alice', 'right'), '10.0.0.2')).toBe('busy');
    await gate.release();
    expect(await running).toBe('denied');
  });

  it("should run one client's checks in arrival order", async () => {
    const gate = gatedCheck();
    const a = auth(gate.check, { maxPendingPerClient: 5 });
    const all = [0, 1, 2, 3, 4].map((n) => a.verify(basicAuth('alice', `w${n}`), '10.0.0.1'));
    for (let i = 0; i < 5; i++) await gate.release();
    await Promise.all(all);
    expect(gate.asked).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
  });

  it('should drop a waiting check whose request went away, unless another request waits for it', async () => {
    const gate = gatedCheck();
    const a = auth(gate.check);
    const running = a.verify(basicAuth('alice', 'first'), '10.0.0.1');
    const gone = new AbortController();
    const dropped = a.verify(basicAuth('alice', 'dropped'), '10.0.0.1', gone.signal);
    const sharedGone = new AbortController();
    const shared = [
      a.verify(basicAuth('alice', 'right'), '10.0.0.1', sharedGone.signal),
      a.verify(basicAuth('alice', 'right'), '10.0.0.1'),
    ];
    expect(a.pending).toBe(3);
    gone.abort();
    sharedGone.abort();
    expect(await dropped).toBe('busy');
    expect(a.pending).toBe(2);
    await gate.release();
    await gate.release();
    expect(await running).toBe('denied');
    expect(await Promise.all(shared)).toEqual(['ok', 'ok']);
    expect(gate.asked).toEqual(['first', 'right']);
  });

  it('should leave a check that has started alone when its request goes away', async () => {
    const gate = gatedCheck();
    const a = auth(gate.check);
    const gone = new AbortController();
    const running = a.verify(basicAuth('alice', 'right'), '10.0.0.1', gone.signal);
    await settle();
    gone.abort();
    await gate.release();
    expect(await running).toBe('ok');
    // Remembered: the next request needs no check.
    expect(await a.verify(basicAuth('alice', 'right'), '10.0.0.1')).toBe('ok');
    expect(gate.asked).toEqual(['right']);
  });

  it('should compare an unknown user against its dummy hash, of the users cost', async () => {
    const gate = gatedCheck();
    const hashes: string[] = [];
    const a = auth((password, hash) => {
      hashes.push(hash);
      return gate.check(password, hash);
    });
    const unknown = a.verify(basicAuth('mallory', 'right'), 'c');
    await gate.release();
    expect(await unknown).toBe('denied');
    expect(hashes).toEqual([a.dummyHash]);
    expect(bcryptCost(a.dummyHash)).toBe(4);
  });

  it('should reject the waiting requests when the check fails, and keep checking later ones', async () => {
    let fail = true;
    const a = auth((password, hash) =>
      fail ? Promise.reject(new Error('worker gone')) : Promise.resolve(bcrypt.compareSync(password, hash)),
    );
    await expect(a.verify(basicAuth('alice', 'right'), 'c')).rejects.toThrow('worker gone');
    fail = false;
    expect(await a.verify(basicAuth('alice', 'right'), 'c')).toBe('ok');
    expect(a.pending).toBe(0);
  });
});

describe('BcryptWorker', () => {
  it('should compare in one worker thread, started on the first compare', async () => {
    const worker = new BcryptWorker();
    closers.push(worker);
    expect(worker.running).toBe(false);
    const hash = bcrypt.hashSync('pw', 4);
    expect(await Promise.all([worker.compare('pw', hash), worker.compare('nope', hash)])).toEqual([
      true,
      false,
    ]);
    expect(await worker.compare('pw', hash)).toBe(true);
    expect(worker.running).toBe(true);
    expect(worker.started).toBe(1);
  });

  it.runIf(process.platform === 'linux')(
    'should run at the lowest CPU priority without changing the priority of the calling thread',
    async () => {
      /** Threads of this process at nice 19 (field 19 of /proc/self/task/TID/stat). */
      const lowest = (): string[] =>
        fs.readdirSync('/proc/self/task').filter((tid) => {
          try {
            const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
            return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3] === '19';
          } catch {
            return false; // the thread ended meanwhile
          }
        });
      const before = new Set(lowest());
      const priority = os.getPriority();
      const worker = new BcryptWorker();
      closers.push(worker);
      expect(await worker.compare('pw', bcrypt.hashSync('pw', 4))).toBe(true);
      // One new thread at nice 19: the worker (earlier tests' workers may still be ending).
      expect(lowest().filter((tid) => !before.has(tid))).toHaveLength(1);
      expect(os.getPriority()).toBe(priority);
    },
  );

  it('should answer false for a malformed hash', async () => {
    const worker = new BcryptWorker();
    closers.push(worker);
    expect(await worker.compare('pw', 'not a hash')).toBe(false);
  });

  it('should fail the waiting compares when closed and start a new worker for the next', async () => {
    const worker = new BcryptWorker();
    closers.push(worker);
    const hash = bcrypt.hashSync('pw', 4);
    const waiting = worker.compare('pw', hash);
    worker.close();
    await expect(waiting).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
    expect(worker.running).toBe(false);
    expect(await worker.compare('pw', hash)).toBe(true);
    expect(worker.started).toBe(2);
  });
});
