/**
 * Network interface counters from /proc/net/dev, as monotonic totals.
 */
import { CounterRound, CounterTracker } from '../counter-tracker.js';
import type { ProbeContext, Snapshot } from '../probe.js';
import { splitFields, SyncSystemProbe } from './source.js';
import type { TextPattern } from '../../lib/safe-regex.js';

/** One interface line of /proc/net/dev, raw kernel values. */
export interface NetDevLine {
  interface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
}

/**
 * Parses /proc/net/dev: two header lines, then `name: rx bytes packets errs drop fifo frame compressed
 * multicast tx bytes packets errs drop fifo colls carrier compressed`. Old kernels write no space after
 * the colon, so the name is split at the colon (interface names cannot contain one).
 */
export function parseNetDev(text: string): NetDevLine[] {
  const out: NetDevLine[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const f = splitFields(line.slice(colon + 1));
    if (f.length < 11) continue;
    out.push({
      interface: line.slice(0, colon).trim(),
      rxBytes: Number(f[0]),
      rxPackets: Number(f[1]),
      rxErrors: Number(f[2]),
      txBytes: Number(f[8]),
      txPackets: Number(f[9]),
      txErrors: Number(f[10]),
    });
  }
  return out;
}

export interface NetworkProbeOptions {
  /** Interfaces to skip; by default every interface is reported. */
  excludeInterfaces?: TextPattern;
}

export class NetworkProbe extends SyncSystemProbe {
  private readonly _exclude: TextPattern | undefined;
  private readonly _tracker = new CounterTracker();

  constructor(ctx: ProbeContext, options: NetworkProbeOptions = {}) {
    super('network', ctx);
    this._exclude = options.excludeInterfaces;
  }

  /** Counter decreases absorbed so far (interfaces re-created, wrapped 32-bit counters). */
  get counterResets(): number {
    return this._tracker.resets;
  }

  protected _collect(): Snapshot {
    const file = this._procPath('net/dev');
    const text = this._files.read(file);
    if (text === undefined) return this._unavailable.unavailable(`${file} does not exist`);
    this._unavailable.available();

    const round = new CounterRound(this._tracker, 'interface');
    for (const n of parseNetDev(text)) {
      if (this._exclude?.test(n.interface)) continue;
      round.add('network_bytes_recv', n.interface, n.rxBytes);
      round.add('network_packets_recv', n.interface, n.rxPackets);
      round.add('network_errors_in', n.interface, n.rxErrors);
      round.add('network_bytes_sent', n.interface, n.txBytes);
      round.add('network_packets_sent', n.interface, n.txPackets);
      round.add('network_errors_out', n.interface, n.txErrors);
    }
    return { status: 'ok', points: round.finish() };
  }
}
