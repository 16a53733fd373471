import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FsStats } from '../../../../src/probes/probe.js';
import { decodeMountField, DiskUsageProbe, parseMounts } from '../../../../src/probes/system/disk-usage.js';
import {
  byKey,
  FakeStatFs,
  fixture,
  fixturePaths,
  makeContext,
  signal,
  systemError,
  TempHost,
  until,
} from './helpers.js';

const REAL_ROOT = JSON.parse(fixture('linux-vm', 'statfs.json')) as Record<string, FsStats>;
const ROOT_STATS = REAL_ROOT['/']!;

/** 25% used: used 250, bavail 750. */
const QUARTER: FsStats = { bsize: 4096, blocks: 1000, bfree: 750, bavail: 750 };
/** used 600 of 600 + 200 available (200 reserved for root): 75%. */
const RESERVED: FsStats = { bsize: 4096, blocks: 1000, bfree: 400, bavail: 200 };

const MOUNTS = [
  '/dev/vda / ext4 rw,relatime 0 0',
  'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0',
  'tmpfs /run tmpfs rw,nosuid,nodev 0 0',
  'server:/export /mnt/nfs nfs4 rw,relatime,vers=4.2 0 0',
  '/dev/vdb /data xfs rw,relatime 0 0',
  '/dev/vdc /mnt/secret ext4 rw,relatime 0 0',
  'overlay /var/lib/docker/overlay2/0123abcd/merged overlay rw,relatime 0 0',
  '',
].join('\n');

describe('parseMounts', () => {
  it('should parse every line of the real fixture', () => {
    const mounts = parseMounts(fixture('linux-vm', 'proc/self/mounts'));
    expect(mounts).toHaveLength(19);
    expect(mounts[0]).toEqual({
      device: 'proc',
      mountPoint: '/proc',
      fsType: 'proc',
      options: ['rw', 'relatime'],
    });
    expect(mounts[5]).toEqual({
      device: '/dev/vda',
      mountPoint: '/',
      fsType: 'ext4',
      options: ['rw', 'relatime', 'discard', 'resv_strict', 'resuid=65534', 'resgid=65534'],
    });
    expect(mounts[18]).toEqual({
      device: 'cgroup2',
      mountPoint: '/sys/fs/cgroup/unified',
      fsType: 'cgroup2',
      options: ['rw', 'relatime'],
    });
  });

  it('should decode octal escapes in device and mount point', () => {
    const [m] = parseMounts('/dev/sdb1 /mnt/my\\040disk\\011x ext4 rw 0 0\n');
    expect(m?.mountPoint).toBe('/mnt/my disk\tx');
    expect(decodeMountField('a\\134b')).toBe('a\\b');
    expect(decodeMountField('a\\012b')).toBe('a\nb');
    expect(decodeMountField('trailing\\04')).toBe('trailing\\04');
  });
});

describe('DiskUsageProbe', () => {
  let host: TempHost;

  beforeEach(() => {
    host = new TempHost();
  });

  afterEach(() => {
    host.dispose();
  });

  it('should report only the real root filesystem of the fixture, as df computes it', async () => {
    const fake = new FakeStatFs([['/', ROOT_STATS]]);
    const probe = new DiskUsageProbe(makeContext(fixturePaths('linux-vm'), fake.statfs));
    const snap = await probe.collect(signal());
    expect(snap.status).toBe('ok');
    // used = 66053021 - 62129592 = 3923429; used + bavail = 3923429 + 19951887 = 23875316
    expect(snap.points).toHaveLength(1);
    expect(snap.points[0]?.metric).toBe('disk_usage_percent');
    expect(snap.points[0]?.labels).toEqual({ mount_point: '/' });
    expect(snap.points[0]?.value).toBeCloseTo(16.432992970648, 12);
    // proc, sysfs, tmpfs, devpts, cgroup… were never statfs'd
    expect(fake.calls).toEqual(['/']);
  });

  it('should skip pseudo filesystems and runtime mount points and join the rootfs', async () => {
    host.write('proc/self/mounts', MOUNTS);
    const fake = new FakeStatFs([
      ['/host', QUARTER],
      ['/host/data', RESERVED],
      ['/host/mnt/nfs', QUARTER],
      ['/host/mnt/secret', QUARTER],
    ]);
    const probe = new DiskUsageProbe(makeContext({ ...host.paths, rootfs: '/host' }, fake.statfs));
    const snap = await probe.collect(signal());
    expect(byKey(snap.points)).toEqual(
      new Map([
        ['disk_usage_percent{mount_point=/}', 25],
        ['disk_usage_percent{mount_point=/mnt/nfs}', 25],
        ['disk_usage_percent{mount_point=/data}', 75],
        ['disk_usage_percent{mount_point=/mnt/secret}', 25],
      ]),
    );
    expect(fake.calls.sort()).toEqual(['/host', '/host/data', '/host/mnt/nfs', '/host/mnt/secret']);
  });

  it('should use the options in place of the default exclusions', async () => {
    host.write('proc/self/mounts', MOUNTS);
    const fake = new FakeStatFs([
      ['/', QUARTER],
      ['/run', QUARTER],
      ['/mnt/nfs', QUARTER],
      ['/mnt/secret', QUARTER],
      ['/var/lib/docker/overlay2/0123abcd/merged', QUARTER],
    ]);
    const probe = new DiskUsageProbe(makeContext(host.paths, fake.statfs), {
      excludeFsTypes: /^(proc|nfs4)$/,
      excludeMountPoints: /^\/data$/,
    });
    const labels = (await probe.collect(signal())).points.map((p) => p.labels.mount_point).sort();
    expect(labels).toEqual(['/', '/mnt/secret', '/run', '/var/lib/docker/overlay2/0123abcd/merged']);
  });

  it('should keep the last entry of a mount point that is mounted over', async () => {
    host.write(
      'proc/self/mounts',
      [
        '/dev/vdb /data xfs rw 0 0',
        'tmpfs /data tmpfs rw 0 0',
        'tmpfs /srv tmpfs rw 0 0',
        '/dev/vdd /srv ext4 rw 0 0',
        '/dev/vda /my\\040space ext4 rw 0 0',
      ].join('\n'),
    );
    const fake = new FakeStatFs([
      ['/data', QUARTER],
      ['/srv', RESERVED],
      ['/my space', QUARTER],
    ]);
    const snap = await new DiskUsageProbe(makeContext(host.paths, fake.statfs)).collect(signal());
    expect(byKey(snap.points)).toEqual(
      new Map([
        ['disk_usage_percent{mount_point=/srv}', 75],
        ['disk_usage_percent{mount_point=/my space}', 25],
      ]),
    );
  });

  it('should fall back to proc/mounts and skip a filesystem with 0 blocks', async () => {
    host.write('proc/mounts', '/dev/vda / ext4 rw 0 0\nnone /zero fuse.weird rw 0 0\n');
    const fake = new FakeStatFs([
      ['/', RESERVED],
      ['/zero', { bsize: 4096, blocks: 0, bfree: 0, bavail: 0 }],
    ]);
    const snap = await new DiskUsageProbe(makeContext(host.paths, fake.statfs)).collect(signal());
    expect(snap.status).toBe('ok');
    expect(byKey(snap.points)).toEqual(new Map([['disk_usage_percent{mount_point=/}', 75]]));
    expect(fake.callsFor('/zero')).toBe(1);
  });

  it('should skip an inaccessible mount without a partial status and log it once at debug', async () => {
    host.write('proc/self/mounts', '/dev/vda / ext4 rw 0 0\n/dev/vdc /mnt/secret ext4 rw 0 0\n');
    const fake = new FakeStatFs([
      ['/', QUARTER],
      ['/mnt/secret', systemError('EACCES')],
    ]);
    const ctx = makeContext(host.paths, fake.statfs);
    const probe = new DiskUsageProbe(ctx);
    for (let i = 0; i < 3; i++) {
      const snap = await probe.collect(signal());
      expect(snap.status).toBe('ok');
      expect(snap.failures).toBeUndefined();
      expect(byKey(snap.points)).toEqual(new Map([['disk_usage_percent{mount_point=/}', 25]]));
    }
    const logs = ctx.logger.find('debug', 'not accessible');
    expect(logs).toHaveLength(1);
    expect(logs[0]?.fields).toMatchObject({ mount_point: '/mnt/secret', code: 'EACCES' });
    expect(ctx.logger.find('warn')).toHaveLength(0);
  });

  it('should report an unexpected statfs error as a partial read, warned once', async () => {
    host.write('proc/self/mounts', '/dev/vda / ext4 rw 0 0\n/dev/vdb /data xfs rw 0 0\n');
    const fake = new FakeStatFs([
      ['/', QUARTER],
      ['/data', systemError('EOVERFLOW')],
    ]);
    const ctx = makeContext(host.paths, fake.statfs);
    const probe = new DiskUsageProbe(ctx);
    const first = await probe.collect(signal());
    const second = await probe.collect(signal());
    for (const snap of [first, second]) {
      expect(snap.status).toBe('partial');
      expect(snap.failures).toBe(1);
      expect(snap.points.map((p) => p.labels.mount_point)).toEqual(['/']);
    }
    expect(ctx.logger.find('warn', 'statfs failed')).toHaveLength(1);
  });

  it('should give up on a hung statfs after the timeout and not call it again until it returns', async () => {
    host.write('proc/self/mounts', MOUNTS);
    const fake = new FakeStatFs([
      ['/', QUARTER],
      ['/data', RESERVED],
      ['/mnt/nfs', 'hang'],
      ['/mnt/secret', QUARTER],
    ]);
    const ctx = makeContext(host.paths, fake.statfs);
    const probe = new DiskUsageProbe(ctx, { statfsTimeoutMs: 500 });

    // 1st collection: waits for the NFS mount until the clock passes the timeout.
    let done = false;
    const pending = probe.collect(signal()).finally(() => {
      done = true;
    });
    await until(() => fake.callsFor('/mnt/nfs') === 1);
    await ctx.clock.advance(499);
    expect(done).toBe(false);
    await ctx.clock.advance(1);
    const first = await pending;
    expect(first.status).toBe('partial');
    expect(first.failures).toBe(1);
    expect(first.points.map((p) => p.labels.mount_point).sort()).toEqual(['/', '/data', '/mnt/secret']);
    expect(ctx.logger.find('warn', 'timed out')).toHaveLength(1);
    expect(ctx.logger.find('warn', 'timed out')[0]?.fields).toMatchObject({ mount_point: '/mnt/nfs' });
    expect(ctx.clock.pendingTimers).toBe(0);

    // 2nd and 3rd: the NFS call is still pending, so it is skipped at once and not called again.
    for (let i = 0; i < 2; i++) {
      const snap = await probe.collect(signal());
      expect(snap.points.map((p) => p.labels.mount_point).sort()).toEqual(['/', '/data', '/mnt/secret']);
    }
    expect(fake.callsFor('/mnt/nfs')).toBe(1);
    expect(fake.callsFor('/')).toBe(3);
    expect(ctx.logger.find('warn')).toHaveLength(1);

    // The hung call returns: the next collection asks again and reports the mount.
    fake.set('/mnt/nfs', QUARTER);
    fake.release('/mnt/nfs', QUARTER);
    await until(() => ctx.logger.find('debug', 'returned after its timeout').length === 1);
    const after = await probe.collect(signal());
    expect(after.status).toBe('ok');
    expect(byKey(after.points).get('disk_usage_percent{mount_point=/mnt/nfs}')).toBe(25);
    expect(fake.callsFor('/mnt/nfs')).toBe(2);
    expect(ctx.logger.find('warn')).toHaveLength(1);
  });

  it('should be unavailable without a mount table and log that once', async () => {
    const ctx = makeContext(host.paths);
    const probe = new DiskUsageProbe(ctx);
    for (let i = 0; i < 3; i++) expect((await probe.collect(signal())).status).toBe('unavailable');
    expect(ctx.logger.find('debug', 'unavailable')).toHaveLength(1);
  });

  it('should reject a timeout that is not positive', () => {
    expect(() => new DiskUsageProbe(makeContext(host.paths), { statfsTimeoutMs: 0 })).toThrow(
      expect.objectContaining({
        code: 'E_INVALID_ARGUMENT',
        message: 'statfsTimeoutMs must be greater than 0',
      }),
    );
  });
});

describe('DiskUsageProbe statfs paths', () => {
  const MOUNTS = [
    '/dev/sda1 / ext4 rw 0 0',
    'server:/export /mnt/nfs nfs4 rw 0 0',
    'fuse-thing /mnt/fuse fuse.sshfs rw 0 0',
    '',
  ].join('\n');

  it('should ask local filesystems synchronously and network or FUSE ones on the thread pool', async () => {
    const host = new TempHost();
    try {
      host.write('proc/self/mounts', MOUNTS);
      const asyncCalls: string[] = [];
      const syncCalls: string[] = [];
      const ctx = makeContext(host.paths, (p) => {
        asyncCalls.push(p);
        return Promise.resolve(RESERVED);
      });
      ctx.statfsSync = (p) => {
        syncCalls.push(p);
        return RESERVED;
      };
      const snap = await new DiskUsageProbe(ctx).collect(signal());
      expect(snap.status).toBe('ok');
      expect(snap.points.map((p) => p.labels.mount_point)).toEqual(['/', '/mnt/nfs', '/mnt/fuse']);
      expect(syncCalls).toEqual(['/']);
      expect(asyncCalls).toEqual(['/mnt/nfs', '/mnt/fuse']);
    } finally {
      host.dispose();
    }
  });

  it('should treat a synchronous EACCES like an inaccessible mount', async () => {
    const host = new TempHost();
    try {
      host.write('proc/self/mounts', '/dev/sdb1 /secret xfs rw 0 0\n/dev/sda1 / ext4 rw 0 0\n');
      const ctx = makeContext(host.paths);
      ctx.statfsSync = (p) => {
        if (p.endsWith('secret')) throw systemError('EACCES');
        return RESERVED;
      };
      const snap = await new DiskUsageProbe(ctx).collect(signal());
      expect(snap.status).toBe('ok');
      expect(snap.points.map((p) => p.labels.mount_point)).toEqual(['/']);
    } finally {
      host.dispose();
    }
  });
});
