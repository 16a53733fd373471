import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskIoProbe, parseDiskstats } from '../../../../src/probes/system/disk-io.js';
import { byKey, fixture, fixturePaths, makeContext, signal, TempHost } from './helpers.js';

/** A diskstats line in the kernel's 17-field-after-name layout; only fields 4, 6, 8, 10 matter here. */
function line(
  name: string,
  reads: number,
  sectorsRead: number,
  writes: number,
  sectorsWritten: number,
): string {
  return ` 254       0 ${name} ${reads} 0 ${sectorsRead} 0 ${writes} 0 ${sectorsWritten} 0 0 0 0 0 0 0 0 0 0`;
}

describe('parseDiskstats', () => {
  it('should read every device of the real fixture', () => {
    const disks = parseDiskstats(fixture('linux-vm', 'proc/diskstats'));
    expect(disks.map((d) => d.device)).toEqual([
      'loop0',
      'loop1',
      'loop2',
      'loop3',
      'loop4',
      'loop5',
      'loop6',
      'loop7',
      'vda',
      'zram0',
    ]);
    // 254 0 vda 34136 5939 1871458 6327 21278 152968 9702424 …
    expect(disks[8]).toEqual({
      major: 254,
      minor: 0,
      device: 'vda',
      readsCompleted: 34136,
      sectorsRead: 1871458,
      writesCompleted: 21278,
      sectorsWritten: 9702424,
    });
    expect(disks[9]).toMatchObject({ major: 253, minor: 0, device: 'zram0', readsCompleted: 0 });
  });

  it('should skip lines too short to hold the counters', () => {
    expect(parseDiskstats('   8   1 sda1 10 20 30 40\n\n')).toEqual([]);
  });
});

describe('DiskIoProbe', () => {
  let host: TempHost;

  beforeEach(() => {
    host = new TempHost();
  });

  afterEach(() => {
    host.dispose();
  });

  it('should report the whole disks of the real fixture and skip loop and zram devices', async () => {
    const snap = await new DiskIoProbe(makeContext(fixturePaths('linux-vm'))).collect(signal());
    expect(snap.status).toBe('ok');
    expect(byKey(snap.points)).toEqual(
      new Map([
        ['disk_io_read_count{device=vda}', 34136],
        ['disk_io_read_bytes{device=vda}', 958186496], // 1871458 × 512
        ['disk_io_write_count{device=vda}', 21278],
        ['disk_io_write_bytes{device=vda}', 4967641088], // 9702424 × 512
      ]),
    );
  });

  it('should skip partitions by default and report what the option allows', async () => {
    host.write(
      'proc/diskstats',
      [
        line('sda', 1, 2, 3, 4),
        line('sda1', 1, 2, 3, 4),
        line('nvme0n1', 5, 6, 7, 8),
        line('nvme0n1p2', 5, 6, 7, 8),
      ].join('\n'),
    );
    const defaults = await new DiskIoProbe(makeContext(host.paths)).collect(signal());
    expect([...new Set(defaults.points.map((p) => p.labels.device))]).toEqual(['sda', 'nvme0n1']);

    const custom = await new DiskIoProbe(makeContext(host.paths), { excludeDevices: /^sda$/ }).collect(
      signal(),
    );
    expect([...new Set(custom.points.map((p) => p.labels.device))]).toEqual(['sda1', 'nvme0n1', 'nvme0n1p2']);
  });

  it('should keep totals rising when a device is removed and added again', async () => {
    host.write('proc/diskstats', fixture('linux-vm', 'proc/diskstats'));
    const probe = new DiskIoProbe(makeContext(host.paths));
    await probe.collect(signal());

    host.write('proc/diskstats', line('zram0', 0, 0, 0, 0));
    const gone = await probe.collect(signal());
    expect(gone.points).toEqual([]);

    host.write('proc/diskstats', line('vda', 100, 800, 50, 400));
    const back = byKey((await probe.collect(signal())).points);
    expect(back.get('disk_io_read_count{device=vda}')).toBe(34236); // 34136 + 100
    expect(back.get('disk_io_read_bytes{device=vda}')).toBe(958596096); // (1871458 + 800) × 512
    expect(back.get('disk_io_write_count{device=vda}')).toBe(21328); // 21278 + 50
    expect(back.get('disk_io_write_bytes{device=vda}')).toBe(4967845888); // (9702424 + 400) × 512
    expect(probe.counterResets).toBe(0);
  });

  it('should absorb counters that drop while the device stays and count the resets', async () => {
    host.write('proc/diskstats', fixture('linux-vm', 'proc/diskstats'));
    const probe = new DiskIoProbe(makeContext(host.paths));
    await probe.collect(signal());

    host.write('proc/diskstats', line('vda', 100, 800, 50, 400));
    const after = byKey((await probe.collect(signal())).points);
    expect(after.get('disk_io_read_count{device=vda}')).toBe(34236);
    expect(after.get('disk_io_write_bytes{device=vda}')).toBe(4967845888);
    expect(probe.counterResets).toBe(4);
  });

  it('should continue across a 32-bit wrap of the sector counter without decreasing', async () => {
    host.write('proc/diskstats', line('vda', 10, 4294967000, 20, 1000));
    const probe = new DiskIoProbe(makeContext(host.paths));
    const before = byKey((await probe.collect(signal())).points);
    expect(before.get('disk_io_read_bytes{device=vda}')).toBe(2199023104000); // 4294967000 × 512

    host.write('proc/diskstats', line('vda', 10, 100, 20, 1000));
    const after = byKey((await probe.collect(signal())).points);
    // 4294967000 + (100 + 2^32 − 4294967000) = 4294967396 sectors
    expect(after.get('disk_io_read_bytes{device=vda}')).toBe(2199023306752); // 4294967396 × 512
    expect(after.get('disk_io_read_count{device=vda}')).toBe(10);
    expect(probe.counterResets).toBe(1);
  });

  it('should be unavailable without diskstats and log that once', async () => {
    const ctx = makeContext(host.paths);
    const probe = new DiskIoProbe(ctx);
    for (let i = 0; i < 3; i++) expect((await probe.collect(signal())).status).toBe('unavailable');
    expect(ctx.logger.find('debug', 'unavailable')).toHaveLength(1);
  });
});
