import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MISSING_RECHECK_MS } from '../../../../src/probes/source-files.js';
import { meminfoField } from '../../../../src/probes/proc-fields.js';
import { MemoryProbe, parseMeminfo } from '../../../../src/probes/system/memory.js';
import { byKey, fixture, fixturePaths, makeContext, signal, TempHost } from './helpers.js';

describe('parseMeminfo', () => {
  it('should convert kB fields of the real fixture to bytes', () => {
    const info = parseMeminfo(fixture('linux-vm', 'proc/meminfo'));
    expect(info.get('MemTotal')).toBe(24684092 * 1024); // 25276510208
    expect(info.get('MemTotal')).toBe(25276510208);
    expect(info.get('MemFree')).toBe(19533484032); // 19075668 kB
    expect(info.get('MemAvailable')).toBe(24821035008); // 24239292 kB
    expect(info.get('Active(anon)')).toBe(1544192); // 1508 kB
    expect(info.get('VmallocTotal')).toBe(35184372087808); // 34359738367 kB
    expect(info.get('SwapTotal')).toBe(0);
    expect(info.get('Hugepagesize')).toBe(2097152); // 2048 kB
  });

  it('should keep unit-less counts as they are', () => {
    const info = parseMeminfo('HugePages_Total:      12\nHugePages_Free:        3\n');
    expect(info.get('HugePages_Total')).toBe(12);
    expect(info.get('HugePages_Free')).toBe(3);
  });

  it('should hold one entry per line of the real fixture', () => {
    const text = fixture('linux-vm', 'proc/meminfo');
    const lines = text.split('\n').filter((l) => l !== '').length;
    expect(lines).toBe(54); // wc -l of the fixture
    expect(parseMeminfo(text).size).toBe(54);
  });
});

describe('meminfoField', () => {
  it('should read every field of the real fixture as parseMeminfo does, the first line and odd names included', () => {
    const text = fixture('linux-vm', 'proc/meminfo');
    const all = parseMeminfo(text);
    for (const [key, value] of all) expect([key, meminfoField(text, key)]).toEqual([key, value]);
    const status = fixture('node-process', 'proc/self/status');
    for (const [key, value] of parseMeminfo(status))
      expect([key, meminfoField(status, key)]).toEqual([key, value]);
    expect(meminfoField(status, 'VmRSS')).toBeGreaterThan(0);
    expect(meminfoField(text, 'MemTotal')).toBe(25276510208);
    // A name that is the start of others (Active, Active(anon)) or inside one (Free in MemFree) is not them.
    expect(meminfoField(text, 'Active')).toBe(all.get('Active'));
    expect(meminfoField(text, 'Free')).toBeUndefined();
    expect(meminfoField(text, 'NoSuchField')).toBeUndefined();
    expect(meminfoField('HugePages_Total:      12', 'HugePages_Total')).toBe(12);
    expect(meminfoField('VmRSS:\t  1234 kB\nVmData: junk kB\n', 'VmData')).toBeUndefined();
    expect(meminfoField('', 'VmRSS')).toBeUndefined();
  });
});

describe('MemoryProbe', () => {
  let host: TempHost;

  beforeEach(() => {
    host = new TempHost();
  });

  afterEach(() => {
    host.dispose();
  });

  it('should report memory and swap use on the real fixture', async () => {
    const probe = new MemoryProbe(makeContext(fixturePaths('linux-vm')));
    const snap = await probe.collect(signal());
    expect(snap.status).toBe('ok');
    const points = byKey(snap.points);
    expect(points.size).toBe(4);
    expect(points.get('memory_available_bytes')).toBe(24821035008);
    // (24684092 - 24239292) kB = 444800 kB
    expect(points.get('memory_used_bytes')).toBe(455475200);
    expect(points.get('memory_percent')).toBeCloseTo(1.80197027300012, 12);
    expect(points.get('swap_percent')).toBe(0); // SwapTotal 0: no swap
  });

  it('should estimate available memory on kernels without MemAvailable and compute swap use', async () => {
    host.write(
      'proc/meminfo',
      'MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  50 kB\nCached:  250 kB\nSwapTotal:  2000 kB\nSwapFree:  500 kB\n',
    );
    const points = byKey((await new MemoryProbe(makeContext(host.paths)).collect(signal())).points);
    expect(points.get('memory_available_bytes')).toBe(400 * 1024);
    expect(points.get('memory_used_bytes')).toBe(600 * 1024);
    expect(points.get('memory_percent')).toBeCloseTo(60, 12);
    expect(points.get('swap_percent')).toBeCloseTo(75, 12);
  });

  it('should be unavailable without meminfo, log once, and log again after it came and went', async () => {
    const ctx = makeContext(host.paths);
    const probe = new MemoryProbe(ctx);
    expect((await probe.collect(signal())).status).toBe('unavailable');
    expect((await probe.collect(signal())).status).toBe('unavailable');
    expect(ctx.logger.find('debug', 'unavailable')).toHaveLength(1);

    host.write('proc/meminfo', fixture('linux-vm', 'proc/meminfo'));
    // A missing file is looked for again once MISSING_RECHECK_MS has passed.
    expect((await probe.collect(signal())).status).toBe('unavailable');
    await ctx.clock.advance(MISSING_RECHECK_MS);
    expect((await probe.collect(signal())).status).toBe('ok');
    host.remove('proc/meminfo');
    expect((await probe.collect(signal())).status).toBe('unavailable');
    expect(ctx.logger.find('debug', 'unavailable')).toHaveLength(2);
  });

  it('should reject when meminfo has no MemTotal', async () => {
    host.write('proc/meminfo', 'MemFree:  100 kB\n');
    await expect(new MemoryProbe(makeContext(host.paths)).collect(signal())).rejects.toMatchObject({
      code: 'E_PROBE_READ',
    });
  });

  it('should reject with E_PROBE_READ on a read error other than ENOENT', async () => {
    host.write('proc/meminfo/inside', '');
    await expect(new MemoryProbe(makeContext(host.paths)).collect(signal())).rejects.toMatchObject({
      code: 'E_PROBE_READ',
    });
  });
});
