// The ehash (src/stack/flow-table.ts): open addressing with backward-shift deletion, checked
// against a Map under a long random mix of operations on few addresses and ports (long probe
// runs, deletions inside them, wrap-around at the table's end, growth from a tiny table).

import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../src/stack/flow-table.js';

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
}

describe('FlowTable', () => {
  it('agrees with a Map over 200 000 random set/delete/get, addresses and ports above 2^31 / 2^15 included', () => {
    const table = new FlowTable(0x1234, 4);
    const reference = new Map<string, number>();
    const next = lcg(11);
    for (let step = 0; step < 200_000; step++) {
      const r = next();
      // 0xc0a80000 is negative as an int32, port 40000 sets the top bit of the packed ports.
      const address = (r & 1 ? 0xc0a80000 + ((r >>> 1) & 0x1f) : 0x0a000000 + ((r >>> 1) & 0x1f)) >>> 0;
      const peerPort = (r >>> 8) & 1 ? 40000 + ((r >>> 9) % 5) : 1000 + ((r >>> 9) % 5);
      const localPort = (r >>> 12) & 1 ? 80 : 443;
      const key = `${address}:${peerPort}:${localPort}`;
      const op = (r >>> 20) % 3;
      if (op === 0) {
        table.set(address, peerPort, localPort, step);
        reference.set(key, step);
      } else if (op === 1) {
        expect(table.delete(address, peerPort, localPort)).toBe(reference.delete(key));
      }
      expect(table.get(address, peerPort, localPort)).toBe(reference.get(key) ?? -1);
      expect(table.size).toBe(reference.size);
    }
  });

  it('keeps 100 000 flows of one peer findable through growth, then empties', () => {
    const table = new FlowTable(99);
    for (let i = 0; i < 100_000; i++) table.set(0x0a010203, i & 0xffff, 80 + (i >>> 16), i << 2);
    expect(table.size).toBe(100_000);
    for (let i = 0; i < 100_000; i += 997) expect(table.get(0x0a010203, i & 0xffff, 80 + (i >>> 16))).toBe(i << 2);
    for (let i = 0; i < 100_000; i++) expect(table.delete(0x0a010203, i & 0xffff, 80 + (i >>> 16))).toBe(true);
    expect(table.size).toBe(0);
    expect(table.get(0x0a010203, 5, 80)).toBe(-1);
  });
});
