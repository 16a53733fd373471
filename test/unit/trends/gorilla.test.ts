import { describe, expect, it } from 'vitest';
import { ChunkEncoder, decodeChunk } from '../../../src/trends/gorilla.js';

function roundTrip(ts: number[], vs: number[]): { t: number[]; v: number[]; bytes: number } {
  const e = new ChunkEncoder();
  ts.forEach((t, i) => e.append(t, vs[i]!));
  const t: number[] = [];
  const v: number[] = [];
  decodeChunk(e.bytes(), e.count, t, v);
  return { t, v, bytes: e.byteLength };
}

describe('ChunkEncoder', () => {
  it('should round-trip special values, jitter and gaps bit-exactly', () => {
    const special = [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      1e-300,
      -1e300,
      0.1 + 0.2,
    ];
    const ts: number[] = [];
    const vs: number[] = [];
    let t = 1_764_000_000_000;
    const steps = [10_000, 10_003, 9_990, 10_000, 3_600_000, 1, 10_000, 2_500, 100_000_000, 10_000];
    for (let i = 0; i < 300; i++) {
      t += steps[i % steps.length]!;
      ts.push(t);
      vs.push(i % 3 === 0 ? special[i % special.length]! : Math.sin(i) * 1e3 + i);
    }
    const out = roundTrip(ts, vs);
    expect(out.t).toEqual(ts);
    out.v.forEach((x, i) => expect(Object.is(x, vs[i])).toBe(true));
  });

  it('should spend about a bit per sample on a constant series at a steady interval', () => {
    const ts = Array.from({ length: 120 }, (_, i) => 1_764_000_000_000 + i * 15_000);
    const out = roundTrip(
      ts,
      ts.map(() => 42),
    );
    expect(out.v.every((x) => x === 42)).toBe(true);
    // header 16 bytes + first delta 4 bytes + 2 bits per later sample
    expect(out.bytes).toBeLessThanOrEqual(16 + 4 + Math.ceil((119 * 2) / 8));
  });

  it('should decode an empty chunk to nothing', () => {
    const t: number[] = [];
    expect(decodeChunk(new Uint8Array(0), 0, t, [])).toBe(0);
    expect(t).toEqual([]);
  });
});
