import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpuProbe, parseCpuinfoMhz, parseProcStat } from '../../../../src/probes/system/cpu.js';
import { byKey, fixture, fixturePaths, makeContext, signal, TempHost } from './helpers.js';

describe('parseProcStat', () => {
  it('should read the aggregate cpu line and count the per-CPU lines of the real fixture', () => {
    // cpu  36579 0 6587 70785 453 0 288 114 0 0 ; cpu0 and cpu1 follow
    expect(parseProcStat(fixture('linux-vm', 'proc/stat'))).toEqual({
      total: {
        user: 36579,
        nice: 0,
        system: 6587,
        idle: 70785,
        iowait: 453,
        irq: 0,
        softirq: 288,
        steal: 114,
        guest: 0,
        guestNice: 0,
      },
      cpuCount: 2,
    });
  });

  it('should default the fields old kernels lack to 0', () => {
    expect(parseProcStat('cpu  10 1 20 300\ncpu0 10 1 20 300\nintr 1 2 3\n').total).toEqual({
      user: 10,
      nice: 1,
      system: 20,
      idle: 300,
      iowait: 0,
      irq: 0,
      softirq: 0,
      steal: 0,
      guest: 0,
      guestNice: 0,
    });
  });

  it('should report no total when there is no cpu line', () => {
    expect(parseProcStat('intr 1 2 3\nctxt 5\n')).toEqual({ total: undefined, cpuCount: 0 });
  });
});

describe('parseCpuinfoMhz', () => {
  it('should return one value per CPU from the real fixture', () => {
    expect(parseCpuinfoMhz(fixture('linux-vm', 'proc/cpuinfo'))).toEqual([2100, 2100]);
  });

  it('should return nothing for a cpuinfo without MHz lines (ARM)', () => {
    expect(parseCpuinfoMhz('processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd\n')).toEqual([]);
  });
});

describe('CpuProbe', () => {
  let host: TempHost;

  beforeEach(() => {
    host = new TempHost();
  });

  afterEach(() => {
    host.dispose();
  });

  it('should report since-boot utilisation, CPU count and cpuinfo frequency on the real fixture', async () => {
    const probe = new CpuProbe(makeContext(fixturePaths('linux-vm')));
    const snap = await probe.collect(signal());
    expect(snap.status).toBe('ok');
    const points = byKey(snap.points);
    expect([...points.keys()].sort()).toEqual(['cpu_count', 'cpu_freq_current', 'cpu_percent']);
    // busy = 36579+0+6587+0+288+114 = 43568; total = busy + 70785 + 453 = 114806
    expect(points.get('cpu_percent')).toBeCloseTo(37.9492361026427, 9);
    expect(points.get('cpu_count')).toBe(2);
    expect(points.get('cpu_freq_current')).toBe(2100);
  });

  it('should report the share over the delta between two real readings', async () => {
    host.write('proc/stat', fixture('linux-vm', 'proc/stat'));
    const probe = new CpuProbe(makeContext(host.paths));
    const first = byKey((await probe.collect(signal())).points);
    expect(first.get('cpu_percent')).toBeCloseTo(37.9492361026427, 9);

    host.write('proc/stat', fixture('linux-vm', 'proc/stat.later'));
    const second = byKey((await probe.collect(signal())).points);
    // later: busy 36780+6588+288+114 = 43770 (+202), total 43770+71585+453 = 115808 (+1002)
    expect(second.get('cpu_percent')).toBeCloseTo(20.1596806387226, 9);
  });

  it('should count steal as busy and not count guest time twice', async () => {
    // guest (60) is already part of user (100): busy = 100+50 = 150 of 1000
    host.write('proc/stat', 'cpu  100 0 50 800 50 0 0 0 60 0\ncpu0 100 0 50 800 50 0 0 0 60 0\n');
    const probe = new CpuProbe(makeContext(host.paths));
    expect(byKey((await probe.collect(signal())).points).get('cpu_percent')).toBeCloseTo(15, 9);

    // +100 steal, +100 idle: busy delta 100 of 200
    host.write('proc/stat', 'cpu  100 0 50 900 50 0 0 100 60 0\ncpu0 100 0 50 900 50 0 0 100 60 0\n');
    expect(byKey((await probe.collect(signal())).points).get('cpu_percent')).toBeCloseTo(50, 9);
  });

  it('should repeat the last value when no time passed between two readings', async () => {
    host.write('proc/stat', fixture('linux-vm', 'proc/stat'));
    const probe = new CpuProbe(makeContext(host.paths));
    await probe.collect(signal());
    host.write('proc/stat', fixture('linux-vm', 'proc/stat.later'));
    await probe.collect(signal());
    const again = byKey((await probe.collect(signal())).points);
    expect(again.get('cpu_percent')).toBeCloseTo(20.1596806387226, 9);
  });

  it('should prefer scaling_cur_freq over cpuinfo and average only the CPUs that have it', async () => {
    host.write('proc/stat', fixture('linux-vm', 'proc/stat'));
    host.write('proc/cpuinfo', fixture('linux-vm', 'proc/cpuinfo'));
    host.write('sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq', '3000000\n');
    host.write('sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq', '1500000\n');
    host.write('sys/devices/system/cpu/cpu2/online', '1\n');
    host.write('sys/devices/system/cpu/cpufreq/boost', '1\n');
    const probe = new CpuProbe(makeContext(host.paths));
    // (3000000 + 1500000) / 2 kHz = 2250 MHz; cpuinfo would say 2100
    expect(byKey((await probe.collect(signal())).points).get('cpu_freq_current')).toBe(2250);
  });

  it('should omit the frequency when neither cpufreq nor cpuinfo gives one', async () => {
    host.write('proc/stat', fixture('linux-vm', 'proc/stat'));
    const probe = new CpuProbe(makeContext(host.paths));
    const snap = await probe.collect(signal());
    expect(snap.status).toBe('ok');
    expect(snap.points.map((p) => p.metric).sort()).toEqual(['cpu_count', 'cpu_percent']);
  });

  it('should be unavailable without /proc/stat and log that once', async () => {
    const ctx = makeContext(host.paths);
    const probe = new CpuProbe(ctx);
    for (let i = 0; i < 3; i++) {
      const snap = await probe.collect(signal());
      expect(snap.status).toBe('unavailable');
      expect(snap.reason).toContain('stat');
      expect(snap.points).toEqual([]);
    }
    expect(ctx.logger.find('debug', 'unavailable')).toHaveLength(1);
    expect(ctx.logger.find('info')).toHaveLength(0);
  });

  it('should reject with E_PROBE_READ when /proc/stat cannot be read', async () => {
    host.write('proc/stat/not-a-file', '');
    const probe = new CpuProbe(makeContext(host.paths));
    await expect(probe.collect(signal())).rejects.toMatchObject({ code: 'E_PROBE_READ' });
  });
});
