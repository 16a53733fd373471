import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { MISSING_RECHECK_MS, SourceFiles } from '../../../src/probes/source-files.js';

describe('SourceFiles', () => {
  let dir: string;
  let clock: ManualClock;
  let files: SourceFiles;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'source-files-'));
    clock = new ManualClock();
    files = new SourceFiles(clock);
  });

  afterEach(() => {
    files.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should read a file again through the same descriptor and see new content', () => {
    const f = path.join(dir, 'stat');
    fs.writeFileSync(f, 'first\n');
    expect(files.read(f)).toBe('first\n');
    fs.writeFileSync(f, 'second, longer\n');
    expect(files.read(f)).toBe('second, longer\n');
    fs.writeFileSync(f, 'x\n');
    expect(files.read(f)).toBe('x\n');
  });

  it('should read /proc files with fresh content on every read', () => {
    const uptime = (): number => Number(files.read('/proc/uptime')!.split(' ')[0]);
    const first = uptime();
    // /proc/uptime counts in hundredths of a second; spin until it has moved on.
    const start = Date.now();
    while (Date.now() - start < 50) {
      /* spin */
    }
    expect(uptime()).toBeGreaterThan(first);
  });

  it('should check that a file still exists before each read, except on procfs and sysfs', () => {
    const fstat = vi.spyOn(fs, 'fstatSync');
    try {
      const f = path.join(dir, 'stat');
      fs.writeFileSync(f, 'x\n');
      files.read(f);
      files.read(f);
      expect(fstat).toHaveBeenCalledTimes(2);
      fstat.mockClear();
      const kernel = ['/proc/uptime', '/sys/devices/system/cpu/online'].filter((k) => fs.existsSync(k));
      for (const k of kernel) {
        expect(files.read(k)).not.toBe('');
        expect(files.read(k)).not.toBe('');
      }
      expect(fstat).not.toHaveBeenCalled();
    } finally {
      fstat.mockRestore();
    }
  });

  it('should read files larger than its buffer', () => {
    const f = path.join(dir, 'big');
    const text = 'line of text\n'.repeat(10_000);
    fs.writeFileSync(f, text);
    expect(files.read(f)).toBe(text);
    expect(files.read(f)).toBe(text);
  });

  it('should follow a file replaced or deleted after it was opened', () => {
    const f = path.join(dir, 'mounts');
    fs.writeFileSync(f, 'old\n');
    expect(files.read(f)).toBe('old\n');
    fs.writeFileSync(`${f}.new`, 'new\n');
    fs.renameSync(`${f}.new`, f);
    expect(files.read(f)).toBe('new\n');
    fs.rmSync(f);
    expect(files.read(f)).toBeUndefined();
  });

  it('should remember a missing file and look again only after the recheck interval', async () => {
    const f = path.join(dir, 'cpu.max');
    expect(files.read(f)).toBeUndefined();
    fs.writeFileSync(f, 'max 100000\n');
    expect(files.read(f)).toBeUndefined();
    await clock.advance(MISSING_RECHECK_MS - 1);
    expect(files.read(f)).toBeUndefined();
    await clock.advance(1);
    expect(files.read(f)).toBe('max 100000\n');
  });

  it('should list directories and remember a missing one', async () => {
    fs.mkdirSync(path.join(dir, 'cpu', 'cpu0'), { recursive: true });
    expect(files.list(path.join(dir, 'cpu'))).toEqual(['cpu0']);
    expect(files.list(path.join(dir, 'nope'))).toBeUndefined();
    fs.mkdirSync(path.join(dir, 'nope'));
    expect(files.list(path.join(dir, 'nope'))).toBeUndefined();
    await clock.advance(MISSING_RECHECK_MS);
    expect(files.list(path.join(dir, 'nope'))).toEqual([]);
  });

  it('should throw E_PROBE_READ naming the file for errors other than absence', () => {
    const d = path.join(dir, 'a-directory');
    fs.mkdirSync(d);
    expect(() => files.read(d)).toThrow(
      expect.objectContaining({ code: 'E_PROBE_READ', message: `cannot read ${d}` }) as Error,
    );
  });

  it('should close every descriptor', () => {
    const f = path.join(dir, 'x');
    fs.writeFileSync(f, '1');
    files.read(f);
    const before = fs.readdirSync('/proc/self/fd').length;
    files.close();
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before - 1);
  });
});
