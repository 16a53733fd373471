/**
 * SIGHUP storms while a client scrapes: the real executable gets 50 SIGHUPs in quick succession, with files
 * that change labels, that do not validate, and at last one that moves the endpoint to another port. Every
 * scrape answers 200 until the endpoint moves, the file written last is the one in force, and no listener,
 * file descriptor or timer is left behind: the process has the same files, pipes and sockets open after the
 * storm as before it (the listener on the new port instead of the old one), and SIGTERM ends it with code 0.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { describeError } from '../services/process.js';
import type { ServerHandle } from '../services/process.js';
import {
  agentConfigText,
  builtCliAvailable,
  freePort,
  getText,
  startCliAgent,
  tempDir,
  waitFor,
} from './agent-harness.js';

const SIGHUPS = 50;

/** TCP sockets by inode: `listen <port>` or `tcp <local port>-<remote port>` (from /proc/<pid>/net/tcp*). */
function tcpSockets(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const table of ['tcp', 'tcp6']) {
    const file = `/proc/${pid}/net/${table}`;
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (addr: string): number => parseInt(addr.split(':')[1]!, 16);
      out.set(
        f[9]!,
        f[3] === '0A' ? `listen ${port(f[1]!)}` : `tcp ${port(f[1]!)}-${port(f[2]!)} state ${f[3]}`,
      );
    }
  }
  return out;
}

/**
 * What the process has open: files, pipes, and sockets (TCP ones by port, the others by kind). Connections
 * that clients opened to `endpoints` are theirs (keep-alive) and left out.
 */
function fdTargets(pid: number, endpoints: readonly number[]): string[] {
  const tcp = tcpSockets(pid);
  return fs
    .readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode !== undefined) return tcp.get(inode) ?? 'socket';
        return target.replace(/\d+/g, 'N');
      } catch {
        return 'gone';
      }
    })
    .filter((t) => !endpoints.some((p) => t.startsWith(`tcp ${p}-`)))
    .sort();
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/**
 * Replaces the file in one step (write a temporary file, rename it), as an editor or a configuration tool
 * does: a SIGHUP never finds it half written (an empty file is a valid configuration: every default).
 */
function writeAtomically(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeService(
  'perf-monitor executable',
  builtCliAvailable(),
  () => {
    let handle: ServerHandle | undefined;
    afterAll(async () => {
      await handle?.stop();
    });

    it('should answer every scrape, apply the last file and leak nothing through 50 SIGHUPs', async () => {
      const port = await freePort();
      const newPort = await freePort();
      const file = path.join(tempDir('sighup-storm'), 'agent.yaml');
      const config = (p: number, env: string): string =>
        agentConfigText({ port: p, interval: '200ms', labels: { environment: env } }).replace(
          'level: debug',
          'level: info',
        );
      writeAtomically(file, config(port, 'start'));
      handle = await startCliAgent(file, port);
      const h = handle;
      const url = `http://127.0.0.1:${port}/metrics`;
      await sleep(1000); // past start-up: what is open now stays open
      expect((await getText(url)).status).toBe(200); // the scraper's keep-alive connection, open from now on
      const targetsBefore = fdTargets(h.pid, [port, newPort]);

      // A client that scrapes without pause during the storm.
      const statuses: number[] = [];
      const failures: string[] = [];
      let scraping = true;
      const scraper = (async () => {
        while (scraping) {
          try {
            statuses.push((await getText(url)).status);
          } catch (err) {
            failures.push(`${Date.now()} ${describeError(err)}`);
          }
        }
      })();

      for (let i = 0; i < SIGHUPS; i++) {
        // Every third file does not validate; the others change a label.
        const text = config(port, `storm-${i}`);
        writeAtomically(
          file,
          i % 3 === 1 ? text.replace('collection_interval: 200ms', 'collection_interval: soon') : text,
        );
        h.process.kill('SIGHUP');
        await sleep(20 + (i % 5) * 10);
      }
      writeAtomically(file, config(port, 'last'));
      h.process.kill('SIGHUP');
      await waitFor('the last file to be in force', async () =>
        (await getText(url)).text.includes('environment="last"') ? true : undefined,
      );
      await sleep(1000); // a reload queued behind the last one would show up now
      scraping = false;
      await scraper;
      expect(statuses.length).toBeGreaterThan(SIGHUPS);
      expect(failures, h.output().slice(-4000)).toEqual([]);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      const after = (await getText(url)).text;
      expect(after).toContain('environment="last"');
      expect(after).not.toMatch(/environment="storm-/);
      expect(h.process.exitCode).toBeNull();
      expect(fdTargets(h.pid, [port, newPort])).toEqual(targetsBefore);

      // The endpoint moves to another port: the old one is closed, the new one serves the new file.
      writeAtomically(file, config(newPort, 'moved'));
      for (let i = 0; i < 5; i++) {
        h.process.kill('SIGHUP');
        await sleep(30);
      }
      await waitFor('the endpoint on the new port', async () => {
        try {
          return (await getText(`http://127.0.0.1:${newPort}/metrics`)).text.includes('environment="moved"')
            ? true
            : undefined;
        } catch {
          return undefined;
        }
      });
      await sleep(1000);
      expect(await refused(port)).toBe(true);
      // The same, the listener on the new port instead of the old one.
      expect(fdTargets(h.pid, [port, newPort])).toEqual(
        targetsBefore.map((t) => (t === `listen ${port}` ? `listen ${newPort}` : t)).sort(),
      );

      // Nothing left running keeps the process alive: SIGTERM ends it with code 0.
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        h.process.once('exit', (code, signal) => resolve({ code, signal })),
      );
      h.process.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      handle = undefined;
    });
  },
  'SIGHUP storm while scraping (perf-monitor executable)',
);
