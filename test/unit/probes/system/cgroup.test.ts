import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CgroupProbe,
  cgroupV2Path,
  parseCgroupFile,
  parseCpuMax,
  parseMemoryMax,
} from '../../../../src/probes/system/cgroup.js';
import { byKey, fixture, fixturePaths, makeContext, signal, TempHost } from './helpers.js';

describe('parseCgroupFile', () => {
  it('should read the hybrid v1 + v2 file of the real fixture', () => {
    const entries = parseCgroupFile(fixture('linux-vm', 'proc/self/cgroup'));
    expect(entries).toHaveLength(10);
    expect(entries[0]).toEqual({ hierarchyId: 9, controllers: ['name=systemd'], path: '/' });
    expect(entries[5]).toEqual({
      hierarchyId: 4,
      controllers: ['memory'],
      path: '/process_api/494dda8318f6062552952f5fb925eb7e',
    });
    expect(entries[9]).toEqual({ hierarchyId: 0, controllers: [], path: '/' });
    expect(cgroupV2Path(entries)).toBe('/');
  });

  it('should keep colons inside the path and find no v2 path on a v1-only host', () => {
    const entries = parseCgroupFile('3:cpu,cpuacct:/a:b\n');
    expect(entries).toEqual([{ hierarchyId: 3, controllers: ['cpu', 'cpuacct'], path: '/a:b' }]);
    expect(cgroupV2Path(entries)).toBeUndefined();
  });
});

describe('parseCpuMax', () => {
  it('should read the container fixture as 1.5 CPUs', () => {
    expect(parseCpuMax(fixture('container-limited', 'sys/fs/cgroup/cpu.max'))).toEqual({
      quotaUs: 150000,
      periodUs: 100000,
      cores: 1.5,
    });
  });

  it('should read max as no limit and a 2-CPU quota as 2', () => {
    expect(parseCpuMax('max 100000\n')).toEqual({ quotaUs: undefined, periodUs: 100000, cores: undefined });
    expect(parseCpuMax('200000 100000\n').cores).toBe(2);
  });

  it('should reject malformed content', () => {
    expect(() => parseCpuMax('lots\n')).toThrow(/cpu\.max/);
    expect(() => parseCpuMax('100 0\n')).toThrow(/cpu\.max/);
  });
});

describe('parseMemoryMax', () => {
  it('should read bytes from the container fixture and max as no limit', () => {
    expect(parseMemoryMax(fixture('container-limited', 'sys/fs/cgroup/memory.max'))).toBe(536870912);
    expect(parseMemoryMax('max\n')).toBeUndefined();
    expect(() => parseMemoryMax('\n')).toThrow();
  });
});

describe('CgroupProbe', () => {
  let host: TempHost;

  beforeEach(() => {
    host = new TempHost();
  });

  afterEach(() => {
    host.dispose();
  });

  it('should be unavailable on the real hybrid host and log that once', async () => {
    const ctx = makeContext(fixturePaths('linux-vm'));
    const probe = new CgroupProbe(ctx);
    for (let i = 0; i < 3; i++) {
      const snap = await probe.collect(signal());
      expect(snap.status).toBe('unavailable');
      expect(snap.reason).toContain('hybrid');
      expect(snap.points).toEqual([]);
    }
    expect(ctx.logger.find('debug', 'unavailable')).toHaveLength(1);
  });

  it('should report the limits and usage of the container fixture', async () => {
    const snap = await new CgroupProbe(makeContext(fixturePaths('container-limited'))).collect(signal());
    expect(snap.status).toBe('ok');
    expect(byKey(snap.points)).toEqual(
      new Map([
        ['cgroup_cpu_limit_cores', 1.5],
        ['cgroup_memory_limit_bytes', 536870912],
        ['cgroup_memory_usage_bytes', 3776512],
      ]),
    );
  });

  it('should be unavailable on cgroup v1 (no 0:: line)', async () => {
    const v1Only = fixture('linux-vm', 'proc/self/cgroup')
      .split('\n')
      .filter((l) => !l.startsWith('0::'))
      .join('\n');
    host.write('proc/self/cgroup', v1Only);
    host.write('sys/fs/cgroup/cgroup.controllers', 'cpu memory\n');
    const snap = await new CgroupProbe(makeContext(host.paths)).collect(signal());
    expect(snap.status).toBe('unavailable');
    expect(snap.reason).toContain('v1');
  });

  it('should be unavailable without /proc/self/cgroup', async () => {
    const snap = await new CgroupProbe(makeContext(host.paths)).collect(signal());
    expect(snap.status).toBe('unavailable');
  });

  it('should emit no limit point when the limits are max', async () => {
    host.write('proc/self/cgroup', '0::/\n');
    host.write('sys/fs/cgroup/cgroup.controllers', 'cpu memory\n');
    host.write('sys/fs/cgroup/cpu.max', 'max 100000\n');
    host.write('sys/fs/cgroup/memory.max', 'max\n');
    host.write('sys/fs/cgroup/memory.current', '123\n');
    const snap = await new CgroupProbe(makeContext(host.paths)).collect(signal());
    expect(snap.status).toBe('ok');
    expect(byKey(snap.points)).toEqual(new Map([['cgroup_memory_usage_bytes', 123]]));
  });

  it('should emit no point at all where the files do not exist (host root cgroup)', async () => {
    host.write('proc/self/cgroup', '0::/\n');
    host.write('sys/fs/cgroup/cgroup.controllers', 'cpu memory\n');
    const snap = await new CgroupProbe(makeContext(host.paths)).collect(signal());
    expect(snap).toEqual({ status: 'ok', points: [] });
  });

  it('should take the smallest limit on the path from the leaf to the root', async () => {
    host.write('proc/self/cgroup', '0::/kubepods/pod1/ctr\n');
    host.write('sys/fs/cgroup/cgroup.controllers', 'cpu memory\n');
    host.write('sys/fs/cgroup/kubepods/cpu.max', 'max 100000\n');
    host.write('sys/fs/cgroup/kubepods/memory.max', '8589934592\n');
    host.write('sys/fs/cgroup/kubepods/memory.current', '999999\n');
    host.write('sys/fs/cgroup/kubepods/pod1/cpu.max', '200000 100000\n');
    host.write('sys/fs/cgroup/kubepods/pod1/memory.max', '1073741824\n');
    host.write('sys/fs/cgroup/kubepods/pod1/ctr/cpu.max', '400000 100000\n');
    host.write('sys/fs/cgroup/kubepods/pod1/ctr/memory.max', 'max\n');
    host.write('sys/fs/cgroup/kubepods/pod1/ctr/memory.current', '5000\n');
    const snap = await new CgroupProbe(makeContext(host.paths)).collect(signal());
    expect(byKey(snap.points)).toEqual(
      new Map([
        ['cgroup_cpu_limit_cores', 2],
        ['cgroup_memory_limit_bytes', 1073741824],
        ['cgroup_memory_usage_bytes', 5000],
      ]),
    );
  });

  it('should not leave the cgroup mount for a path outside the namespace', async () => {
    host.write('proc/self/cgroup', '0::/../../foo\n');
    host.write('sys/fs/cgroup/cgroup.controllers', 'cpu memory\n');
    host.write('sys/fs/cgroup/cpu.max', '100000 100000\n');
    host.write('sys/foo/cpu.max', '50000 100000\n');
    const snap = await new CgroupProbe(makeContext(host.paths)).collect(signal());
    expect(byKey(snap.points)).toEqual(new Map([['cgroup_cpu_limit_cores', 1]]));
  });
});
