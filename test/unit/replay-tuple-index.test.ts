// The replay's index of live connections (src/replay/tuple-index.ts): open addressing with
// backward-shift deletion, checked against a Map under a long random mix of operations on
// few addresses and ports (many collisions, long probe runs, deletions inside them).

import { describe, expect, it } from 'vitest';
import { TupleIndex } from '../../src/replay/tuple-index.js';

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
}

describe('TupleIndex', () => {
  it('agrees with a Map over 100 000 random set/delete/get on 600 4-tuples, addresses above 2^31 included', () => {
    const index = new TupleIndex<number>(600);
    const reference = new Map<string, number>();
    const next = lcg(7);
    for (let step = 0; step < 100_000; step++) {
      const r = next();
      // 0xc0a80000 (192.168.x.x) is negative as an int32: both halves of the address space.
      const address = (r & 1 ? 0xc0a80000 + ((r >>> 1) & 0xf) : 0x0a000000 + ((r >>> 1) & 0xf)) >>> 0;
      const port = (r >>> 8) % 37;
      const key = `${address}:${port}`;
      const op = (r >>> 20) % 3;
      if (op === 0) {
        index.set(address, port, step);
        reference.set(key, step);
      } else if (op === 1) {
        index.delete(address, port);
        reference.delete(key);
      }
      expect(index.get(address, port)).toBe(reference.get(key));
      expect(index.size).toBe(reference.size);
    }
    expect([...index.values()].sort((a, b) => a - b)).toEqual([...reference.values()].sort((a, b) => a - b));
  });

  it('refuses to fill past half its capacity rather than loop', () => {
    const index = new TupleIndex<number>(8); // capacity 16
    for (let port = 0; port < 8; port++) index.set(1, port, port);
    expect(() => index.set(1, 8, 8)).toThrow(/full/);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.get(1, 0)).toBeUndefined();
  });
});
