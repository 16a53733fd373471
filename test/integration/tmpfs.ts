/**
 * tmpfs mounts for the disk tests: a small filesystem a test can fill, or mount read-only. Mounting needs
 * root (CI); tmpfsAvailable() says why not elsewhere, for a loud skip.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Availability } from '../services/availability.js';
import { tempDir } from './agent-harness.js';

/** Mounts a tmpfs with the given options (`size=8m,mode=0700`, `ro`) on `dir`. */
export function mount(dir: string, options: string): { ok: true } | { ok: false; reason: string } {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.error !== undefined) return { ok: false, reason: `mount: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `mount -t tmpfs exited ${r.status}: ${r.stderr.trim()}` };
  return { ok: true };
}

export function unmount(dir: string): void {
  // Lazy: a process that still holds a file there (a failed test) does not keep the mount.
  spawnSync('umount', ['-l', dir], { encoding: 'utf8' });
}

/** Whether this machine lets the test mount a tmpfs (tried on a scratch directory). */
export function tmpfsAvailable(): Availability {
  if (process.platform !== 'linux') return { ok: false, reason: 'tmpfs mounts need Linux' };
  const dir = tempDir('tmpfs-probe');
  const r = mount(dir, 'size=1m');
  if (r.ok) unmount(dir);
  return r.ok ? { ok: true } : { ok: false, reason: `cannot mount a tmpfs (needs root): ${r.reason}` };
}

/** Writes zeros into `file` until the filesystem is full. */
export function fill(file: string): number {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) written += fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  // Small writes can still fit in the last partly used page: fill that too.
  const small = fs.openSync(`${file}.tail`, 'w');
  try {
    for (;;) written += fs.writeSync(small, Buffer.alloc(512));
  } catch {
    // full
  } finally {
    fs.closeSync(small);
  }
  return written;
}
