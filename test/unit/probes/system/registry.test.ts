import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalogEntry } from '../../../../src/catalog/catalog.js';
import type { FsStats } from '../../../../src/probes/probe.js';
import { SYSTEM_PROBES } from '../../../../src/probes/system/registry.js';
import { FakeStatFs, fixture, fixturePaths, makeContext, signal, TempHost } from './helpers.js';

const ROOT_STATS = (JSON.parse(fixture('linux-vm', 'statfs.json')) as Record<string, FsStats>)['/']!;

describe('SYSTEM_PROBES', () => {
  let host: TempHost;

  beforeEach(() => {
    host = new TempHost();
  });

  afterEach(() => {
    host.dispose();
  });

  it('should list the six system probes once each', () => {
    expect(SYSTEM_PROBES.map((d) => d.name)).toEqual([
      'cpu',
      'memory',
      'disk_usage',
      'disk_io',
      'network',
      'cgroup',
    ]);
  });

  it('should declare only catalog metrics, each claimed by one probe', () => {
    const all = SYSTEM_PROBES.flatMap((d) => d.metrics);
    expect(new Set(all).size).toBe(all.length);
    for (const name of all) expect(catalogEntry(name), name).toBeDefined();
    // every system and container metric of the catalog has a probe
    expect(all).toHaveLength(21);
  });

  it('should create probes named as their definitions that start and shut down safely', async () => {
    for (const def of SYSTEM_PROBES) {
      const probe = def.create(makeContext(fixturePaths('linux-vm')), {});
      expect(probe.name).toBe(def.name);
      await expect(probe.shutdown()).resolves.toBeUndefined(); // before start
      await expect(probe.start()).resolves.toBeUndefined();
      await expect(probe.start()).resolves.toBeUndefined();
      await expect(probe.shutdown()).resolves.toBeUndefined();
      await expect(probe.shutdown()).resolves.toBeUndefined();
    }
  });

  it('should emit only declared metrics with their catalog labels on both fixture trees', async () => {
    const seen = new Set<string>();
    for (const tree of ['linux-vm', 'container-limited']) {
      for (const def of SYSTEM_PROBES) {
        const fake = new FakeStatFs([['/', ROOT_STATS]]);
        const snap = await def.create(makeContext(fixturePaths(tree), fake.statfs), {}).collect(signal());
        expect(['ok', 'unavailable'], `${tree}/${def.name}`).toContain(snap.status);
        for (const point of snap.points) {
          expect(def.metrics, `${def.name} emitted ${point.metric}`).toContain(point.metric);
          expect(Object.keys(point.labels)).toEqual(catalogEntry(point.metric)?.labels);
          expect(Number.isFinite(point.value)).toBe(true);
          seen.add(point.metric);
        }
      }
    }
    // cpu_freq_current comes from cpuinfo here; everything declared was produced by some tree
    expect([...seen].sort()).toEqual(SYSTEM_PROBES.flatMap((d) => d.metrics).sort());
  });

  it('should make every probe unavailable on an empty proc tree, logged once each', async () => {
    const ctx = makeContext(host.paths);
    for (const def of SYSTEM_PROBES) {
      const probe = def.create(ctx, {});
      for (let i = 0; i < 3; i++) {
        const snap = await probe.collect(signal());
        expect(snap.status, def.name).toBe('unavailable');
        expect(snap.reason, def.name).toBeTruthy();
      }
    }
    const logs = ctx.logger.find('debug', 'unavailable');
    expect(logs.map((r) => r.fields.probe)).toEqual(SYSTEM_PROBES.map((d) => d.name));
  });
});
