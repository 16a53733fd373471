import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/lib/clock.js';
import { MemoryLogger } from '../../../../src/lib/logger.js';
import {
  PROCESS_METRICS,
  ProcessProbe,
  parseBootTime,
  parseMaxOpenFiles,
  parseProcStat,
} from '../../../../src/probes/runtime/process.js';
import { catalogEntry } from '../../../../src/catalog/catalog.js';
import { fixture, fixturePaths } from '../system/helpers.js';

const TREE = 'node-process';

describe('parseProcStat', () => {
  it('should read CPU time, start and virtual size from the fields after the command name', () => {
    const stat = parseProcStat(fixture(TREE, 'proc/self/stat'));
    // utime 1 + stime 2 ticks; starttime 2394197 ticks; vsize 1238671360 bytes (VmSize 1209640 kB).
    expect(stat).toEqual({ cpuSeconds: 0.03, startAfterBootSeconds: 23941.97, virtualBytes: 1238671360 });
  });

  it('should count fields from the last parenthesis, whatever the command name holds', () => {
    const line = fixture(TREE, 'proc/self/stat').replace('(MainThread)', '(a) b (c) d)');
    expect(parseProcStat(line)?.virtualBytes).toBe(1238671360);
  });

  it('should give undefined for a line it cannot read', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('1 (x) R 1 2')).toBeUndefined();
  });
});

describe('parseMaxOpenFiles and parseBootTime', () => {
  it('should read the soft limit of open files and the boot time', () => {
    expect(parseMaxOpenFiles(fixture(TREE, 'proc/self/limits'))).toBe(20000);
    expect(parseBootTime(fixture(TREE, 'proc/stat'))).toBe(1796318718);
  });

  it('should give undefined for an unlimited or absent limit and a missing btime', () => {
    expect(
      parseMaxOpenFiles('Max open files            unlimited            unlimited            files\n'),
    ).toBe(undefined);
    expect(parseMaxOpenFiles('Max processes 10 10 processes\n')).toBeUndefined();
    expect(parseBootTime('cpu 1 2 3\n')).toBeUndefined();
  });
});

describe('ProcessProbe', () => {
  const temps: string[] = [];
  afterEach(() => {
    for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('should declare only catalog metrics of the runtime group', () => {
    for (const m of PROCESS_METRICS) expect(catalogEntry(m)?.group, m).toBe('runtime');
  });

  it('should report the fixture process in the Prometheus client conventions', async () => {
    const probe = new ProcessProbe({
      enabled: new Set(PROCESS_METRICS),
      logger: new MemoryLogger(),
      clock: new ManualClock(),
      proc: fixturePaths(TREE).proc,
    });
    await probe.start();
    const snap = await probe.collect();
    await probe.shutdown();
    expect(snap.status).toBe('ok');
    const values = Object.fromEntries(snap.points.map((p) => [p.metric, p.value]));
    expect(values).toEqual({
      process_cpu_seconds_total: 0.03,
      process_start_time_seconds: 1796318718 + 23941.97,
      process_resident_memory_bytes: 42768 * 1024,
      process_virtual_memory_bytes: 1209640 * 1024,
      process_heap_bytes: 573252 * 1024,
      // 23 entries listed, one of which was the descriptor of the listing itself.
      process_open_fds: 22,
      process_max_fds: 20000,
    });
    for (const p of snap.points) expect(p.labels).toEqual({});
  });

  it("should count this process's open descriptors on the real /proc as its listing does", () => {
    const probe = new ProcessProbe({
      enabled: new Set(['process_open_fds']),
      logger: new MemoryLogger(),
      clock: new ManualClock(),
    });
    // Each listing holds one descriptor of its own while it reads.
    const before = fs.readdirSync('/proc/self/fd').length - 1;
    const snap = probe.collectSync();
    const after = fs.readdirSync('/proc/self/fd').length - 1;
    const open = snap.points.find((p) => p.metric === 'process_open_fds')?.value;
    expect(open).toBeGreaterThanOrEqual(Math.min(before, after));
    expect(open).toBeLessThanOrEqual(Math.max(before, after));
  });

  it('should read only the enabled metrics', async () => {
    const probe = new ProcessProbe({
      enabled: new Set(['process_open_fds']),
      logger: new MemoryLogger(),
      clock: new ManualClock(),
      proc: fixturePaths(TREE).proc,
    });
    const snap = await probe.collect();
    expect(snap.points.map((p) => p.metric)).toEqual(['process_open_fds']);
  });

  it('should be unavailable, logged once at debug, where there is no /proc/self', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'process-probe-'));
    temps.push(dir);
    const logger = new MemoryLogger();
    const probe = new ProcessProbe({
      enabled: new Set(PROCESS_METRICS),
      logger,
      clock: new ManualClock(),
      proc: dir,
    });
    expect((await probe.collect()).status).toBe('unavailable');
    expect((await probe.collect()).status).toBe('unavailable');
    expect(logger.records.filter((r) => r.msg === 'probe source unavailable')).toHaveLength(1);
  });

  it('should report a partial read when status lacks a field, with the values it did read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'process-probe-'));
    temps.push(dir);
    fs.mkdirSync(path.join(dir, 'self', 'fd'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'self', 'stat'), fixture(TREE, 'proc/self/stat'));
    fs.writeFileSync(path.join(dir, 'self', 'status'), 'VmRSS:\t 100 kB\n');
    const probe = new ProcessProbe({
      enabled: new Set(['process_resident_memory_bytes', 'process_heap_bytes', 'process_cpu_seconds_total']),
      logger: new MemoryLogger(),
      clock: new ManualClock(),
      proc: dir,
    });
    const snap = await probe.collect();
    expect(snap.status).toBe('partial');
    expect(snap.failures).toBe(1);
    expect(snap.points.map((p) => [p.metric, p.value])).toEqual([
      ['process_cpu_seconds_total', 0.03],
      ['process_resident_memory_bytes', 102400],
    ]);
  });

  it('should re-read stat and status at every collection and the descriptor limit once a minute', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'process-probe-'));
    temps.push(dir);
    fs.mkdirSync(path.join(dir, 'self', 'fd'), { recursive: true });
    const stat = fixture(TREE, 'proc/self/stat');
    const limits = fixture(TREE, 'proc/self/limits');
    fs.writeFileSync(path.join(dir, 'stat'), fixture(TREE, 'proc/stat'));
    fs.writeFileSync(path.join(dir, 'self', 'stat'), stat);
    fs.writeFileSync(path.join(dir, 'self', 'status'), 'VmRSS:\t 100 kB\n');
    fs.writeFileSync(path.join(dir, 'self', 'limits'), limits);
    const clock = new ManualClock();
    const probe = new ProcessProbe({
      enabled: new Set(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_max_fds']),
      logger: new MemoryLogger(),
      clock,
      proc: dir,
    });
    const values = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await probe.collect()).points.map((p) => [p.metric, p.value]));
    expect(await values()).toEqual({
      process_cpu_seconds_total: 0.03,
      process_resident_memory_bytes: 102400,
      process_max_fds: 20000,
    });
    // utime 1 -> 101 ticks: the same descriptor reads the new content; so does status. The limit waits.
    const fields = stat.split(') ');
    const after = fields[1]!.split(' ');
    after[11] = '101';
    fs.writeFileSync(path.join(dir, 'self', 'stat'), `${fields[0]}) ${after.join(' ')}`);
    fs.writeFileSync(path.join(dir, 'self', 'status'), 'VmRSS:\t 200 kB\n');
    fs.writeFileSync(path.join(dir, 'self', 'limits'), limits.replace('20000', '30000'));
    expect(await values()).toEqual({
      process_cpu_seconds_total: 1.03,
      process_resident_memory_bytes: 204800,
      process_max_fds: 20000,
    });
    await clock.advance(60_000);
    expect((await values()).process_max_fds).toBe(30000);
    await probe.shutdown();
  });
});
