import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkProbe, parseNetDev } from '../../../../src/probes/system/network.js';
import { byKey, fixture, fixturePaths, makeContext, signal, TempHost } from './helpers.js';

const HEADER =
  'Inter-|   Receive                                                |  Transmit\n' +
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';

/** A /proc/net/dev line: rx bytes packets errs …(5 zeros) tx bytes packets errs …(5 zeros). */
function line(name: string, rx: [number, number, number], tx: [number, number, number]): string {
  return `${name.padStart(6)}: ${rx.join(' ')} 0 0 0 0 0 ${tx.join(' ')} 0 0 0 0 0\n`;
}

describe('parseNetDev', () => {
  it('should read every interface of the real fixture', () => {
    const ifaces = parseNetDev(fixture('linux-vm', 'proc/net/dev'));
    expect(ifaces.map((i) => i.interface)).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(ifaces[0]).toEqual({
      interface: 'lo',
      rxBytes: 3193,
      rxPackets: 29,
      rxErrors: 0,
      txBytes: 3193,
      txPackets: 29,
      txErrors: 0,
    });
    // eth0: 895761139   46157    0 … 3835485   37718    0 …
    expect(ifaces[3]).toEqual({
      interface: 'eth0',
      rxBytes: 895761139,
      rxPackets: 46157,
      rxErrors: 0,
      txBytes: 3835485,
      txPackets: 37718,
      txErrors: 0,
    });
  });

  it('should read a line with no space after the colon and take errors from their own columns', () => {
    const [eth] = parseNetDev(`${HEADER}  eth1:1000 10 3 9 9 9 9 9 2000 20 4 9 9 9 9 9\n`);
    expect(eth).toEqual({
      interface: 'eth1',
      rxBytes: 1000,
      rxPackets: 10,
      rxErrors: 3,
      txBytes: 2000,
      txPackets: 20,
      txErrors: 4,
    });
  });
});

describe('NetworkProbe', () => {
  let host: TempHost;

  beforeEach(() => {
    host = new TempHost();
  });

  afterEach(() => {
    host.dispose();
  });

  it('should report six counters per interface of the real fixture', async () => {
    const snap = await new NetworkProbe(makeContext(fixturePaths('linux-vm'))).collect(signal());
    expect(snap.status).toBe('ok');
    const points = byKey(snap.points);
    expect(points.size).toBe(24);
    expect(points.get('network_bytes_recv{interface=eth0}')).toBe(895761139);
    expect(points.get('network_packets_recv{interface=eth0}')).toBe(46157);
    expect(points.get('network_errors_in{interface=eth0}')).toBe(0);
    expect(points.get('network_bytes_sent{interface=eth0}')).toBe(3835485);
    expect(points.get('network_packets_sent{interface=eth0}')).toBe(37718);
    expect(points.get('network_errors_out{interface=eth0}')).toBe(0);
    expect(points.get('network_bytes_sent{interface=lo}')).toBe(3193);
    expect(points.get('network_packets_recv{interface=ifb1}')).toBe(0);
  });

  it('should skip the interfaces the option excludes', async () => {
    const probe = new NetworkProbe(makeContext(fixturePaths('linux-vm')), {
      excludeInterfaces: /^(lo|ifb\d+)$/,
    });
    const snap = await probe.collect(signal());
    expect(new Set(snap.points.map((p) => p.labels.interface))).toEqual(new Set(['eth0']));
    expect(snap.points).toHaveLength(6);
  });

  it('should keep totals rising when an interface disappears and comes back', async () => {
    host.write('proc/net/dev', fixture('linux-vm', 'proc/net/dev'));
    const probe = new NetworkProbe(makeContext(host.paths));
    await probe.collect(signal());

    host.write('proc/net/dev', HEADER + line('lo', [3193, 29, 0], [3193, 29, 0]));
    const gone = byKey((await probe.collect(signal())).points);
    expect(gone.has('network_bytes_recv{interface=eth0}')).toBe(false);
    expect(gone.get('network_bytes_recv{interface=lo}')).toBe(3193);

    host.write(
      'proc/net/dev',
      HEADER + line('lo', [3193, 29, 0], [3193, 29, 0]) + line('eth0', [1000, 10, 1], [2000, 20, 2]),
    );
    const back = byKey((await probe.collect(signal())).points);
    expect(back.get('network_bytes_recv{interface=eth0}')).toBe(895762139); // 895761139 + 1000
    expect(back.get('network_packets_recv{interface=eth0}')).toBe(46167); // 46157 + 10
    expect(back.get('network_errors_in{interface=eth0}')).toBe(1);
    expect(back.get('network_bytes_sent{interface=eth0}')).toBe(3837485); // 3835485 + 2000
    expect(back.get('network_packets_sent{interface=eth0}')).toBe(37738); // 37718 + 20
    expect(back.get('network_errors_out{interface=eth0}')).toBe(2);
    expect(probe.counterResets).toBe(0);
  });

  it('should continue across a 32-bit wrap and count it as a reset', async () => {
    host.write('proc/net/dev', HEADER + line('eth0', [4294967000, 5, 0], [7, 1, 0]));
    const probe = new NetworkProbe(makeContext(host.paths));
    await probe.collect(signal());
    host.write('proc/net/dev', HEADER + line('eth0', [704, 6, 0], [7, 1, 0]));
    const after = byKey((await probe.collect(signal())).points);
    // 4294967000 + (704 + 2^32 − 4294967000) = 2^32 + 704
    expect(after.get('network_bytes_recv{interface=eth0}')).toBe(4294968000);
    expect(after.get('network_packets_recv{interface=eth0}')).toBe(6);
    expect(probe.counterResets).toBe(1);
  });

  it('should be unavailable without /proc/net/dev and log that once', async () => {
    const ctx = makeContext(host.paths);
    const probe = new NetworkProbe(ctx);
    for (let i = 0; i < 3; i++) expect((await probe.collect(signal())).status).toBe('unavailable');
    expect(ctx.logger.find('debug', 'unavailable')).toHaveLength(1);
  });
});
